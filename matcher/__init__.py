"""matcher: place professional master's students at enterprise postgraduate workstations.

Each student gets one workstation, an enterprise mentor and a campus supervisor, for a
contiguous block of terms, keeping every capacity, discipline and partnership rule, with as
many placed as possible and, among those, the best preference ranks (proven optimal by CP-SAT).

>>> import matcher
>>> problem = matcher.load_scenario("scenarios/tiny")          # doctest: +SKIP
>>> result = matcher.solve(problem, time_limit_s=10, seed=0)    # doctest: +SKIP
>>> matcher.check(problem, result).ok                           # doctest: +SKIP
True
"""

from .api import solve
from .check import CheckReport, check
from .io import ScenarioError, load_scenario, write_result
from .model import Problem
from .model.result import Result, Status

__all__ = ["CheckReport", "Problem", "Result", "ScenarioError", "Status", "check",
           "load_scenario", "solve", "write_result"]
__version__ = "0.1.0"
