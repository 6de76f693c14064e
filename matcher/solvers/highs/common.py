"""What both sides of the HiGHS helper process agree on, and what every helper program uses.

The parent (:mod:`matcher.solvers.milp_model`, :mod:`matcher.solvers.slots`) imports these
definitions from here, so each is written once; this module, like the whole package, needs
only numpy and the standard library (highspy is imported where HiGHS is called).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ABS_GAP = 0.999
"""HiGHS's ``mip_abs_gap``: every objective has integer coefficients on integer columns, so a
gap below 1 is a proof."""
FULL_MODEL_COLUMNS = 60_000
"""Slot models with at most this many columns are solved whole after fix and solve (the proof),
so they also have every count per mentor enforced from the start (the helper's proof of the
whole model is then a proof); larger ones have them enforced where an allocation needs it."""
EPS = 1e-6

# The slot model's column kinds and row kinds (see matcher.solvers.slots).
LISTED, OFF, CLASS, SPLIT, PAIR, MENTOR = 0, 1, 2, 3, 4, 5
ONE, LINK, HALL, TYPE, TERM, LAZY = 0, 1, 2, 3, 4, 5


def refuse_ortools() -> None:
    """Stop a helper that finds OR-Tools loaded: highspy would crash next to it."""
    if any(m == "ortools" or m.startswith("ortools.") for m in sys.modules):
        raise RuntimeError("OR-Tools is loaded in the HiGHS helper process; highspy would crash")


def configure(h: Any, job: dict[str, Any]) -> None:
    """The options every HiGHS model of a job gets: log, seed, threads (one in a deterministic
    job: HiGHS then takes the same path whatever the machine) and exact gaps."""
    threads = 1 if job.get("deterministic") else int(job["threads"])
    for name, value in (("output_flag", bool(job.get("log"))),
                        ("log_to_console", bool(job.get("log"))),
                        ("random_seed", int(job["seed"]) % 2147483647),
                        ("threads", threads), ("mip_rel_gap", 0.0),
                        ("mip_abs_gap", ABS_GAP)):
        h.setOptionValue(name, value)


def violations(lb: Any, ub: Any, row_lo: Any, row_hi: Any, row_start: Any, row_idx: Any,
                row_val: Any, x: Any, tol: float) -> list[int]:
    """Rows (and, as ``-1 - column``, column bounds) that ``x`` breaks; empty when feasible."""
    n_rows = len(row_lo)
    owner = np.repeat(np.arange(n_rows), np.diff(row_start))
    act = np.bincount(owner, weights=row_val * x[row_idx], minlength=n_rows) if n_rows else (
        np.zeros(0))
    bad_rows = np.flatnonzero((act < row_lo - tol) | (act > row_hi + tol)).tolist()
    bad_cols = np.flatnonzero((x < lb - tol) | (x > ub + tol)).tolist()
    return bad_rows + [-1 - j for j in bad_cols]


def ranges(starts: IntArray, ends: IntArray) -> IntArray:
    """The concatenation of ``range(starts[k], ends[k])`` over ``k``, vectorised."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return (np.arange(total) + offsets).astype(np.int64)


class Clock:
    """The helper's clock: the wall clock (``time.time()``, the job's deadline is one), or in a
    deterministic job (``job["deterministic"]``) the work counted so far.

    A deterministic job gives its budget as ``job["work"]`` (reference seconds, see
    :mod:`matcher.solvers.clock`); every HiGHS run goes through :meth:`run`, which bounds it
    by iterations (LP) or nodes (MIP) instead of seconds and counts what it did, and Python
    steps count their work with :meth:`charge`. So the helper takes the same path on any
    machine; its wall time is what varies.
    """

    def __init__(self) -> None:
        self.deterministic = False
        self.started = time.time()
        self.work = 0.0
        self.deadline = math.inf

    def start(self, job: dict[str, Any]) -> float:
        """Start the job's clock; the job's deadline on it."""
        self.deterministic = bool(job.get("deterministic"))
        self.started = time.time()
        self.work = 0.0
        self.deadline = (self.started + float(job["work"]) if self.deterministic
                         else float(job["deadline"]))
        return self.deadline

    def now(self) -> float:
        """The helper's time: ``time.time()``, or its start plus the work counted."""
        return self.started + self.work if self.deterministic else time.time()

    def charge(self, seconds: float) -> None:
        """Count ``seconds`` of work (deterministic jobs only)."""
        if self.deterministic and seconds > 0:
            self.work += seconds

    def run(self, h: Any, seconds: float, mip: bool = False,
            on_check: Callable[[Any], None] | None = None) -> bool:
        """Run HiGHS model ``h`` (a MIP if ``mip``) for at most ``seconds`` more of this clock;
        whether it ran (a deterministic job does not start a MIP that cannot get past its
        presolve and first LP in that time, :data:`MIP_START_SECONDS_PER_ENTRY`: HiGHS would
        not stop before; its status and bounds then mean nothing).

        Wall clock: HiGHS's time limit (its clock adds up runs). Deterministic: an LP gets an
        iteration limit worth ``seconds`` by the cost model (:func:`lp_iteration_seconds`); a
        MIP counts its work as it goes, from what HiGHS reports at each of its checks (a round
        of the root node, or the nodes searched since the last check: :data:`ROOT_CHECK_SECONDS_
        PER_ENTRY`, :func:`mip_node_seconds`), and is interrupted there once the work reaches
        ``seconds``. Either way what it did is counted.

        ``on_check(out)``, if given, sees HiGHS's report at each of a MIP's checks (its dual
        bound so far: a helper stopped before the MIP ends keeps it, see
        :mod:`matcher.solvers.highs.levels`).
        """
        import highspy

        seconds = max(0.01, seconds)
        kind = highspy.cb.HighsCallbackType.kCallbackMipInterrupt
        if not self.deterministic:
            h.setOptionValue("time_limit", h.getRunTime() + seconds)
            if not (mip and on_check is not None):
                h.run()
                return True
            h.setCallback(lambda _k, _m, out, _i, _u: on_check(out), None)
            h.startCallback(kind)
            try:
                h.run()
            finally:
                h.stopCallback(kind)
            return True

        entries = int(h.getNumNz()) + int(h.getNumRow()) + int(h.getNumCol())
        if mip and seconds < MIP_START_SECONDS_PER_ENTRY * entries:
            return False
        per_iter = lp_iteration_seconds(entries)
        # (no wall limit but a generous safety: see matcher.solvers.clock.SAFETY_FACTOR)
        h.setOptionValue("time_limit", h.getRunTime() + 10.0 * seconds + 60.0)
        done = SETUP_SECONDS_PER_ENTRY * entries
        if mip:
            spent = {"work": done + MIP_START_SECONDS_PER_ENTRY * entries, "nodes": 0}
            root_check = ROOT_CHECK_SECONDS_PER_ENTRY * entries
            per_node = mip_node_seconds(entries)

            def check(_kind: int, _message: str, out: Any, into: Any, _user: Any) -> None:
                nodes = max(0, int(out.mip_node_count))
                spent["work"] += (root_check if nodes == 0 else
                                  per_node * (nodes - spent["nodes"]) + 0.01 * root_check)
                spent["nodes"] = nodes
                if on_check is not None:
                    on_check(out)
                if spent["work"] >= seconds:
                    into.user_interrupt = True

            h.setCallback(check, None)
            h.startCallback(kind)
            try:
                h.run()
            finally:
                h.stopCallback(kind)
            # (charged by what it did: the estimates above only decide when to stop it)
            self.charge(done + mip_seconds(entries, int(h.getInfo().simplex_iteration_count)))
            return True
        h.setOptionValue("simplex_iteration_limit", max(1, int(seconds / per_iter)))
        h.setOptionValue("ipm_iteration_limit", max(1, int(seconds / (IPM_FACTOR * per_iter))))
        h.run()
        info = h.getInfo()
        iters = max(0, int(info.simplex_iteration_count)) + IPM_FACTOR * max(
            0, int(info.ipm_iteration_count))
        self.charge(done + per_iter * iters)
        return True


SETUP_SECONDS_PER_ENTRY = 1e-7
"""Deterministic cost model: setting a model up (presolve, factorisation), per entry (model
entries plus rows plus columns).

The rates of the province path (these, ``slot_flow``'s, ``slots``', ``slot_rounding``'s,
``moves``') were measured against CPU seconds by ``benchmarks/calibrate.py``; in session 18 at
load 4-12 on the shared 2-core machine, where the same work takes about twice the CPU it takes
on a quiet one (tier XL's LP: 83-88 s of CPU at load 10-12, 42 s offline on the quiet machine
of session 14; fix and solve around the uncut LP point: 118 s against 56 s). A reference second
is a quiet machine's (``benchmarks/RESULTS.md``, "Calibrating the cost model"), so they were
halved in session 19: before, a deterministic XL run did half the work an ordinary run does in
its time limit, and fix and solve never started."""
IPM_FACTOR = 200
"""Deterministic cost model: an interior-point iteration costs this many simplex iterations."""
MIP_LP_FACTOR = 3.0
"""Deterministic cost model: a MIP's LP iterations cost this many times an LP's (separation,
propagation and heuristics around them)."""
MIP_START_SECONDS_PER_ENTRY = 1.5e-5
"""Deterministic cost model: the most a MIP's presolve and its work up to the first check (the
root LP) is expected to take, per model entry; a deterministic MIP is not started with less
(HiGHS cannot be stopped before its first check). Measured (session 19, CPU at load 5-10,
halved for a quiet machine): fix and solve around tier XL's uncut LP point, 1.45 million
entries, first check after 48.7 s; around tier M's, 248,000 entries, after 1.5 s (3e-5 before:
tier XL's fix and solve after the LP then never fitted). What a MIP is charged is what it did
(:func:`mip_seconds`)."""
ROOT_CHECK_SECONDS_PER_ENTRY = 2e-6
"""Deterministic cost model: the work between two of a MIP's checks in its root node (a round
of cuts, a heuristic), per model entry, as counted while it runs (session 19, halved for a
quiet machine: tier M 3.3e-6, tier XL 4.3e-6 of CPU at load 5-10; 1e-5 before)."""
MIP_PRESOLVE_SECONDS_PER_ENTRY = 6e-6
"""Deterministic cost model: a MIP's presolve and set-up, per model entry, charged when it ends
(session 19, HiGHS's ``presolve`` alone, CPU at load 5-10 halved: tier M 2.6e-6, tier XL
8e-6)."""
MIP_ITERATION_SECONDS_PER_ENTRY = 1.5e-9
"""Deterministic cost model: one of a MIP's simplex iterations with the work around it (cuts,
propagation, heuristics), per model entry, charged when it ends (session 19, a MIP's CPU less
its presolve over its iterations, at load 5-10 halved: tier M fix and solve 2.7e-9, 248,000
entries; tier XL 1.2e-9, 1.45 million entries)."""


def lp_iteration_seconds(entries: int) -> float:
    """Deterministic cost model: seconds of one simplex iteration on a model of ``entries``
    entries (plus rows and columns). Measured by ``benchmarks/calibrate.py`` (2026-12-07, the
    slot model's weighted LP with its pricing rounds, CPU seconds per iteration, everything
    counted, at load 4-12): tier M, 216,000 entries, 40,136 iterations in 5.1 s (0.126 ms);
    tier XL, 1.08 million entries, 185,709 iterations in 88.4 s (0.476 ms); the line through
    them, halved for a quiet machine (:data:`SETUP_SECONDS_PER_ENTRY`)."""
    return 1.25e-5 + 2.1e-10 * entries


def mip_node_seconds(entries: int) -> float:
    """Deterministic cost model: seconds of one branch-and-cut node as counted while a MIP runs
    (about 30 dual simplex iterations with their propagation; halved in session 19 with the
    other rates)."""
    return 15 * MIP_LP_FACTOR * (1.5e-5 + 1.0e-9 * entries)


def mip_seconds(entries: int, iterations: int) -> float:
    """Deterministic cost model: what a MIP that ended did (its presolve and its simplex
    iterations, :data:`MIP_PRESOLVE_SECONDS_PER_ENTRY`, :data:`MIP_ITERATION_SECONDS_PER_ENTRY`;
    HiGHS reports the iterations of its LPs, heuristics' included). A sub-MIP that presolves to
    nothing is charged its presolve only."""
    return 0.001 + entries * (MIP_PRESOLVE_SECONDS_PER_ENTRY
                              + MIP_ITERATION_SECONDS_PER_ENTRY * max(0, iterations))


CLOCK = Clock()
"""The helper process's clock (one job per process); :meth:`Clock.start` sets it up."""


def time_left(deadline: float) -> float:
    """Seconds until ``deadline`` on the helper's clock (:data:`CLOCK`)."""
    return deadline - CLOCK.now()


def has_solution(h: Any) -> bool:
    """Whether HiGHS holds a feasible solution."""
    return bool(h.getInfo().primal_solution_status == 2)
