"""The model layer: the problem, the result and what can be wrong with them; no I/O, no solvers.

* :mod:`~matcher.model.entities`: the entities (one per table row) and the settings;
* :mod:`~matcher.model.problem`: :class:`Problem`, the cross-table rules;
* :mod:`~matcher.model.result`: :class:`Result`, :class:`Status`, :class:`Placement`;
* :mod:`~matcher.model.errors`: :class:`ProblemIssue`, :class:`ProblemError`,
  :class:`ScenarioError`;
* :mod:`~matcher.model.capacity`: capacity transforms (places already used, subtracted).
"""

from .entities import (
    CarriedColumn,
    GroupMember,
    Lock,
    Mentor,
    ObjectiveSettings,
    Pair,
    Policy,
    Ranking,
    SolverSettings,
    Student,
    Supervisor,
    TermCapacity,
    University,
    Veto,
    Workstation,
)
from .errors import ProblemError, ProblemIssue, ScenarioError
from .problem import Problem
from .quotas import Quota
from .result import Placement, Result, Status

__all__ = ["CarriedColumn", "GroupMember", "Lock", "Mentor", "ObjectiveSettings", "Pair",
           "Placement", "Policy", "Problem", "ProblemError", "ProblemIssue", "Quota", "Ranking",
           "Result", "ScenarioError", "SolverSettings", "Status", "Student", "Supervisor",
           "TermCapacity", "University", "Veto", "Workstation"]
