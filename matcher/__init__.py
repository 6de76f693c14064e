"""matcher: place professional master's students at enterprise postgraduate workstations.

Each student gets one workstation, an enterprise mentor and a campus supervisor, for a
contiguous block of terms, keeping every capacity, discipline and partnership rule, with as
many placed as possible and, among those, the best preference ranks (proven optimal by CP-SAT).

This module is the public API; the layers behind it are described in docs/architecture.md.

>>> import matcher
>>> problem = matcher.load_scenario("scenarios/tiny")          # doctest: +SKIP
>>> result = matcher.solve(problem, time_limit_s=10, seed=0)    # doctest: +SKIP
>>> matcher.check(problem, result).ok                           # doctest: +SKIP
True
"""

from .check import CheckReport, check
from .formats.resultdir import read_result
from .formats.scenario import Validation, load_scenario, validate_scenario
from .model import (
    CarriedColumn,
    Lock,
    Mentor,
    ObjectiveSettings,
    Pair,
    Placement,
    Policy,
    Problem,
    ProblemError,
    ProblemIssue,
    Ranking,
    Result,
    ScenarioError,
    SolverSettings,
    Status,
    Student,
    Supervisor,
    TermCapacity,
    University,
    Workstation,
)
from .planning.explain import explain
from .reports.folder import write_result
from .solvers import solve

__all__ = ["CarriedColumn", "CheckReport", "Lock", "Mentor", "ObjectiveSettings", "Pair",
           "Placement", "Policy", "Problem", "ProblemError", "ProblemIssue", "Ranking", "Result",
           "ScenarioError", "SolverSettings", "Status", "Student", "Supervisor", "TermCapacity",
           "University", "Validation", "Workstation", "check", "explain", "load_scenario",
           "read_result", "solve", "validate_scenario", "write_result"]
__version__ = "0.1.0"
