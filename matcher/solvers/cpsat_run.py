"""Running CP-SAT searches: the solver's parameters, the search thread, stopping on signals.

Every CP-SAT search of ``cpsat`` and ``stable`` goes through :func:`run_search`: it runs the
search in a helper thread so that the main thread keeps running Python's signal handlers, and
a :class:`Stop` installed by :func:`stop_on_signals` ends the running search on SIGINT or
SIGTERM (later stages are then skipped, and the best allocation found so far is returned with
status FEASIBLE, so an interrupted ``matcher solve`` still writes a complete result).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ortools.sat.python import cp_model

from .. import progress
from . import clock
from .base import SolverConfig

SECONDS_PER_DTIME = 1.0
"""Reference seconds per unit of CP-SAT's deterministic time (a deterministic solve gives
CP-SAT ``max_deterministic_time`` instead of ``max_time_in_seconds`` and counts what it used;
CP-SAT's own unit is meant to be about a second)."""


class Stop:
    """Stops the running search on SIGINT/SIGTERM; later stages are then skipped.

    The best allocation found so far is still returned (status FEASIBLE, with its gap), so an
    interrupted ``matcher solve`` writes a complete result rather than nothing.
    """

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""
        self.solver: cp_model.CpSolver | None = None

    def __call__(self, signum: int, _frame: Any) -> None:
        self.requested = True
        self.signal_name = signal.Signals(signum).name
        if self.solver is not None:
            self.solver.stop_search()


@contextmanager
def stop_on_signals() -> Iterator[Stop]:
    """Install the stop handler for SIGINT and SIGTERM (main thread only), then restore."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Report(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution (elapsed, best, bound, gap) to the progress display."""

    def __init__(self, stage: str, t0: float):
        super().__init__()
        self.stage = stage
        self.t0 = t0

    def on_solution_callback(self) -> None:
        best, bound = self.objective_value, self.best_objective_bound
        gap = abs(best - bound) / max(1.0, abs(best))
        progress.update(elapsed=time.perf_counter() - self.t0, best=best, bound=bound, gap=gap,
                        note=self.stage)


def wall(solver: cp_model.CpSolver) -> float:
    """Seconds the solver ran (0 when a stop request skipped it); in a deterministic solve,
    the reference seconds of its deterministic time (the same on every machine)."""
    try:
        if clock.deterministic():
            return round(solver.response_proto.deterministic_time * SECONDS_PER_DTIME, 3)
        return round(solver.wall_time, 3)
    except RuntimeError:  # never solved
        return 0.0


def run_search(solver: cp_model.CpSolver, cp: cp_model.CpModel, stop: Stop, stage: str,
               t0: float) -> Any:
    """Solve one stage unless a stop was requested; the stop handler can reach the solver.

    ``stage`` names it on the progress display, with the time since ``t0``.
    """
    if stop.requested:
        return cp_model.UNKNOWN
    # The search runs in a helper thread so that the main thread, waiting in short joins, keeps
    # running Python signal handlers (they only ever run on the main thread).
    outcome: list[Any] = []

    def search_body() -> None:
        try:
            outcome.append(solver.solve(cp, _Report(stage, t0)))
        except BaseException as e:  # re-raised in the caller's thread below
            outcome.append(e)

    search = threading.Thread(target=search_body, name="cpsat-search", daemon=True)
    stop.solver = solver
    try:
        search.start()
        while search.is_alive():
            search.join(0.05)
    finally:
        stop.solver = None
    if outcome and isinstance(outcome[0], BaseException):
        raise outcome[0]
    if outcome:
        clock.charge(solver.response_proto.deterministic_time * SECONDS_PER_DTIME)
    return outcome[0] if outcome else cp_model.UNKNOWN


def new_solver(config: SolverConfig, time_left: float) -> cp_model.CpSolver:
    """A CP-SAT solver with the configuration's workers, seed and logging, and ``time_left``
    (seconds, or in a deterministic solve reference seconds of deterministic time)."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = max(1, config.workers)
    prm.random_seed = config.seed
    if clock.deterministic():
        prm.max_deterministic_time = max(0.01, time_left) / SECONDS_PER_DTIME
        prm.max_time_in_seconds = clock.SAFETY_FACTOR * max(0.01, time_left) + 60.0
    else:
        prm.max_time_in_seconds = max(0.01, time_left)
    # Deterministic multi-worker search: the same input, seed and workers give the same answer.
    prm.interleave_search = True
    prm.log_search_progress = config.log
    # SIGINT is ours (see Stop): the best allocation so far is returned, not lost.
    prm.catch_sigint_signal = False
    return solver


def hint_from_solver(cp: cp_model.CpModel, solver: cp_model.CpSolver) -> None:
    """Warm-start the next stage with the solver's current solution (a complete hint)."""
    cp.clear_hints()
    for i in range(len(cp.proto.variables)):
        v = cp.get_int_var_from_proto_index(i)
        cp.add_hint(v, solver.value(v))


def value(solver: cp_model.CpSolver, expr: Any) -> int:
    """The value of a variable or linear expression in the solver's solution."""
    return int(solver.value(expr))
