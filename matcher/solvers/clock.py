"""The solvers' clock: wall time, or in a deterministic run the work counted so far.

Every decision a solver takes by the clock (a phase's share of the time limit, whether a loop
goes on, when a search stops) reads :func:`now` instead of ``time.perf_counter()``. In an
ordinary run it *is* ``time.perf_counter()``. In a deterministic run
(``SolverConfig.deterministic``, ``matcher solve --deterministic``, issue 27) it is the start of
the solve plus the work counted so far, in *reference seconds*: every step that costs something
says what, by :func:`charge` (a loop per student moved, a min-cost flow per arc, CP-SAT by its own
deterministic time, HiGHS by its iterations and nodes), so the same input, seed, workers and
limit take the same path on any machine and under any load. The rates are calibrated so that on
the reference machine (the 2-core machine of ``benchmarks/RESULTS.md``) a reference second
takes about a second; the wall time of a deterministic run is what varies.

The clock of the solve in progress is a context variable (:func:`session`), so concurrent
solves in one process (the web server's threads) each count their own; work done in another
thread is counted there only when the thread runs in a copy of the context
(:func:`in_context`).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")
_U = TypeVar("_U")
_V = TypeVar("_V")

SAFETY_FACTOR = 10.0
"""A deterministic run's helper processes are stopped when their wall time exceeds this many
times their work budget (plus a minute): a machine that slow, or a cost model that far off, is
reported (the run is then not reproducible), never waited for forever."""


@dataclass
class Clock:
    """One solve's clock (see the module docstring).

    Attributes
    ----------
    deterministic
        Whether :meth:`now` counts work rather than reading the wall clock.
    started
        ``time.perf_counter()`` when the solve began.
    work
        Reference seconds of work counted so far (deterministic runs).
    """

    deterministic: bool
    started: float
    work: float = 0.0

    def now(self) -> float:
        """``time.perf_counter()``, or the start plus the work counted so far."""
        return self.started + self.work if self.deterministic else time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the solve began, by this clock."""
        return self.now() - self.started


_CURRENT: contextvars.ContextVar[Clock | None] = contextvars.ContextVar("matcher_clock",
                                                                        default=None)


@contextmanager
def session(deterministic: bool) -> Iterator[Clock]:
    """The clock of one solve, current inside the ``with`` block.

    A solver called inside another's session (``cpsat`` running ``stable``, a planning tool
    solving variants one after another in one session) shares the outer clock.
    """
    outer = _CURRENT.get()
    if outer is not None and outer.deterministic == deterministic:
        yield outer
        return
    clock = Clock(deterministic, time.perf_counter())
    token = _CURRENT.set(clock)
    try:
        yield clock
    finally:
        _CURRENT.reset(token)


def current() -> Clock | None:
    """The clock of the solve in progress (None outside a session)."""
    return _CURRENT.get()


def deterministic() -> bool:
    """Whether the solve in progress counts work instead of wall time."""
    clock = _CURRENT.get()
    return clock is not None and clock.deterministic


def now() -> float:
    """The time by which solvers decide: ``time.perf_counter()``, or in a deterministic run
    the solve's start plus the reference seconds of work counted so far."""
    clock = _CURRENT.get()
    if clock is None or not clock.deterministic:
        return time.perf_counter()
    return clock.started + clock.work


def charge(seconds: float) -> None:
    """Count ``seconds`` (reference seconds) of work done (nothing in an ordinary run)."""
    clock = _CURRENT.get()
    if clock is not None and clock.deterministic and seconds > 0:
        clock.work += seconds


def advance_to(moment: float) -> None:
    """Move a deterministic clock on to ``moment`` (a :func:`now` value) if it is behind: work
    done meanwhile elsewhere (a helper process on the other core) that this solve waited for."""
    clock = _CURRENT.get()
    if clock is not None and clock.deterministic:
        clock.work = max(clock.work, moment - clock.started)


def in_context(fn: Callable[_P, _T]) -> Callable[_P, _T]:
    """``fn`` bound to a copy of the current context, to run in another thread with this
    solve's clock (a thread otherwise starts without one)."""
    ctx = contextvars.copy_context()

    def run(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        return ctx.run(fn, *args, **kwargs)

    return run


def parallel(first: Callable[[], _T], second: Callable[[], _U]) -> tuple[_T, _U]:
    """Run ``first`` in a helper thread while ``second`` runs here; both results.

    Used where one side mostly waits for a helper process (its own core) while this one
    computes. In a deterministic solve each side counts its work on a clock of its own from the
    same moment, and this solve's clock then stands at the later of the two ends: the same
    whichever side a machine finishes first.
    """
    outer = _CURRENT.get()
    if outer is None or not outer.deterministic:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(in_context(first))
            got_second = second()
            return pending.result(), got_second
    clocks = [Clock(True, outer.started, outer.work) for _ in range(2)]

    def on(k: int, fn: Callable[[], _V]) -> Callable[[], _V]:
        def run() -> _V:
            token = _CURRENT.set(clocks[k])
            try:
                return fn()
            finally:
                _CURRENT.reset(token)
        return run

    ctx = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(ctx.run, on(0, first))
        got_second = on(1, second)()
        got_first = pending.result()
    outer.work = max(clocks[0].work, clocks[1].work)
    return got_first, got_second
