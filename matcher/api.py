"""The library entry points: solve a problem, check a result."""

from __future__ import annotations

from typing import Any

from . import solvers
from .model import Problem
from .model.result import Result
from .solvers.base import SolverConfig


def solve(problem: Problem, solver: str = "cpsat", *, time_limit_s: float | None = None,
          seed: int | None = None, workers: int | None = None, log: bool = False,
          **options: Any) -> Result:
    """Allocate students with a registered solver.

    Parameters
    ----------
    problem
        A problem from :func:`matcher.load_scenario` (or built in code).
    solver
        A registry name (see :func:`matcher.solvers.names`).
    time_limit_s, seed, workers
        Override the scenario's ``solver:`` defaults.
    log
        Print solver progress to stderr.
    **options
        Solver-specific options.

    Returns
    -------
    Result
        The allocation with its status, bounds and reasons.
    """
    solve_fn = solvers.get(solver)
    defaults = problem.solver
    config = SolverConfig(
        time_limit_s=defaults.time_limit_s if time_limit_s is None else time_limit_s,
        seed=defaults.seed if seed is None else seed,
        workers=defaults.workers if workers is None else workers,
        log=log, options=dict(options))
    return solve_fn(problem, config)
