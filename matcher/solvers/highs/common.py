"""What both sides of the HiGHS helper process agree on, and what every helper program uses.

The parent (:mod:`matcher.solvers.milp_model`, :mod:`matcher.solvers.slots`) imports these
definitions from here, so each is written once; this module, like the whole package, needs
only numpy and the standard library (highspy is imported where HiGHS is called).
"""

from __future__ import annotations

import sys
import time
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
    """The options every HiGHS model of a job gets: log, seed, threads and exact gaps."""
    for name, value in (("output_flag", bool(job.get("log"))),
                        ("log_to_console", bool(job.get("log"))),
                        ("random_seed", int(job["seed"]) % 2147483647),
                        ("threads", int(job["threads"])), ("mip_rel_gap", 0.0),
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


def time_left(deadline: float) -> float:
    """Seconds until ``deadline`` (a ``time.time()`` value: the job's clock)."""
    return deadline - time.time()


def has_solution(h: Any) -> bool:
    """Whether HiGHS holds a feasible solution."""
    return bool(h.getInfo().primal_solution_status == 2)
