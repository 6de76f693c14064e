"""The solver registry: the one list the CLI, the tests and the benchmarks all read.

Every solver is a module in this package exposing ``solve(problem, config) -> Result``.
An unknown name is an error, never a fallback.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from collections.abc import Callable
from typing import Any

from ..messages import Message, msg
from ..model import Problem
from ..model.entities import RANK_OBJECTIVES
from ..model.entities import rank_objective as rank_objective_name
from ..model.result import Result
from . import clock, rank_levels
from .base import SolverConfig, check_budget

_MODULES: dict[str, str] = {
    "cpsat": "matcher.solvers.cpsat",
    "greedy": "matcher.solvers.greedy",
    "da": "matcher.solvers.da",
    "flow": "matcher.solvers.flow",
    "milp": "matcher.solvers.milp",
    "plain": "matcher.solvers.plain",
}
EXACT = frozenset({"cpsat", "milp", "flow", "plain"})
"""Solvers that may report OPTIMAL."""


class UnknownSolverError(ValueError):
    """A solver name that is not in the registry.

    Parameters
    ----------
    message
        What is wrong (``solver.unknown``, ``solver.none_given``); ``str()`` is its English.

    Attributes
    ----------
    message : Message
        The same, to word in the user's language.
    """

    def __init__(self, message: Message):
        self.message = message
        super().__init__(str(message))


def names() -> list[str]:
    """Registered solver names, in registry order."""
    return list(_MODULES)


def get(name: str) -> Callable[[Problem, SolverConfig], Result]:
    """The ``solve`` function registered under ``name``.

    Raises
    ------
    UnknownSolverError
        When ``name`` is not registered.
    """
    if name not in _MODULES:
        raise UnknownSolverError(msg("solver.unknown", name=name, solvers=list(_MODULES)))
    module = importlib.import_module(_MODULES[name])
    return _clocked(module.solve)


def _clocked(solve_fn: Callable[[Problem, SolverConfig], Result]
             ) -> Callable[[Problem, SolverConfig], Result]:
    """``solve_fn`` run with its clock (:mod:`matcher.solvers.clock`): wall time, or counted
    work when ``config.deterministic``; a deterministic result records its work seconds."""

    def run(problem: Problem, config: SolverConfig) -> Result:
        t0 = time.perf_counter()
        with clock.session(config.deterministic) as watch:
            # a solver that keeps its own rule reports level 2 in the scenario's form, unproven
            result = rank_levels.honest(problem, solve_fn(problem, config))
            work = watch.elapsed()
        if not config.deterministic:
            return result
        return dataclasses.replace(result, deterministic=True, work_seconds=round(work, 3),
                                   wall_seconds=time.perf_counter() - t0)

    run.__doc__ = solve_fn.__doc__
    return run


POLICIES = ("objective", "priority")
"""The allocation rules (``solver.policy``, ``--policy``): the objective, or score first."""


def solve(problem: Problem, solver: str = "cpsat", *, time_limit_s: float | None = None,
          seed: int | None = None, workers: int | None = None, log: bool = False,
          policy: str | None = None, deterministic: bool | None = None,
          rank_objective: str | None = None, **options: Any) -> Result:
    """Allocate students with a registered solver (``matcher.solve``).

    Parameters
    ----------
    problem
        A problem from :func:`matcher.load_scenario` (or built in code).
    solver
        A registry name (see :func:`names`).
    time_limit_s, seed, workers
        Override the scenario's ``solver:`` defaults.
    log
        Print solver progress to stderr.
    policy
        The allocation rule, overriding the scenario's ``solver.policy``: ``"objective"``
        (the solver's optimum: most placed, then the best ranks) or ``"priority"`` (score
        first, 分数优先，遵循志愿: serial dictatorship by priority, whatever ``solver`` says;
        the result's solver is ``greedy`` and ``stats["policy"]`` is ``"priority"``).
    deterministic
        Count work instead of wall time (default: the scenario's ``solver.deterministic``): the
        same input, seed, workers and limit give the same result on any machine
        (:attr:`SolverConfig.deterministic`).
    rank_objective
        The form of level 2, overriding the scenario's ``objective.rank``: ``"sum"``,
        ``"profile"`` (rank-maximal) or ``"minimax"`` (the best worst rank, then the sum); also
        its Chinese names (:data:`matcher.model.entities.RANK_NAMES`). The result reports it in
        ``stats["rank_objective"]`` (unless it is the sum).
    **options
        Solver-specific options.

    Returns
    -------
    Result
        The allocation with its status, bounds and reasons.

    Raises
    ------
    UnknownSolverError
        When ``solver`` is not registered.
    ValueError
        When ``time_limit_s`` is not a finite number > 0, or ``seed`` or ``workers`` not a
        whole number (>= 0, >= 1); for an unknown policy, or score first asked together with
        ``stable``; for an unknown rank objective.
    """
    check_budget(time_limit_s, seed, workers)
    if rank_objective is not None:
        form = rank_objective_name(rank_objective)
        if form is None:
            raise ValueError(f"unknown rank objective '{rank_objective}'; choose one of: "
                             f"{', '.join(RANK_OBJECTIVES)}")
        if form != problem.objective.rank:
            problem = problem.model_copy(update={"objective": problem.objective.model_copy(
                update={"rank": form})})
    rule = problem.solver.policy if policy is None else policy
    if rule not in POLICIES:
        raise ValueError(f"unknown policy '{rule}'; choose one of: {', '.join(POLICIES)}")
    if rule == "priority":
        if options.get("stable"):
            raise ValueError("score first (policy priority) and a stable optimum (stable) are "
                             "two different rules; ask for one of them")
        solver, options = "greedy", {**options, "policy": "priority"}
    solve_fn = get(solver)
    defaults = problem.solver
    config = SolverConfig(
        time_limit_s=defaults.time_limit_s if time_limit_s is None else time_limit_s,
        seed=defaults.seed if seed is None else seed,
        workers=defaults.workers if workers is None else workers,
        log=log, options=dict(options),
        deterministic=defaults.deterministic if deterministic is None else deterministic)
    return solve_fn(problem, config)


__all__ = ["EXACT", "POLICIES", "RANK_OBJECTIVES", "SolverConfig", "UnknownSolverError", "get",
           "names", "solve"]
