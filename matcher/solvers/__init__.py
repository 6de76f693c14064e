"""The solver registry: the one list the CLI, the tests and the benchmarks all read.

Every solver is a module in this package exposing ``solve(problem, config) -> Result``.
An unknown name is an error, never a fallback.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ..model import Problem
from ..model.result import Result
from .base import SolverConfig

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
    """A solver name that is not in the registry."""


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
        raise UnknownSolverError(f"unknown solver '{name}'; choose one of: {', '.join(_MODULES)}")
    module = importlib.import_module(_MODULES[name])
    solve: Callable[[Problem, SolverConfig], Result] = module.solve
    return solve


__all__ = ["EXACT", "SolverConfig", "UnknownSolverError", "get", "names"]
