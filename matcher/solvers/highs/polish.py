"""A start for the rules' slot model in the HiGHS helper: LP, cuts, then fix and solve.

HiGHS's branch and cut on the rules' slot model (:mod:`matcher.solvers.rules_slots`) raises its
bound to the optimum at the root node quickly (tier ``S-rules``: LP 4,762.75, 4,789.2 after its
cut rounds, optimum 4,790), but its own heuristics find a good allocation late (a minute there;
the proof then waits for it). So before the branch and cut this helper step makes one: the LP
relaxation of the level's objective, raised by a few rounds of {0, 1/2}-cuts
(:func:`matcher.solvers.highs.cuts.zero_half_cuts`: the LP point grows more integral), then
every 0/1 column the LP sets to 1 fixed at 1 and the rest solved exactly by HiGHS in a short
time (*fix and solve*). The result is only a start: the branch and cut that follows works on
the model as it is (the cuts are dense, and would slow its presolve).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from .common import CLOCK, violations
from .cuts import zero_half_cuts

FloatArray = npt.NDArray[np.float64]

CUT_ROUNDS = 8
"""Rounds of {0, 1/2}-cuts before fixing (S-rules: the LP bound stops rising after about 6)."""


def fix_and_solve(make: Callable[..., Any], data: Any, objective: tuple[Any, Any],
                  seconds: float) -> FloatArray | None:
    """An allocation of the model in ``data`` (its arrays) for the objective ``(idx, val)``
    (minimised), in at most ``seconds`` of the helper's clock: the LP with cuts, then the 0/1
    columns the LP sets to 1 fixed and the rest solved; None when none was found.

    ``make(extra)`` builds the model as HiGHS (integer columns) with extra rows.
    """
    import highspy

    ub = data["ub"]
    row_lo, row_hi = data["row_lo"], data["row_hi"]
    start, col, val = data["row_start"], data["row_idx"], data["row_val"]
    n = len(ub)
    idx, coef = objective
    if n == 0:
        return None
    stop_at = CLOCK.now() + seconds
    h = make([])
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                            np.full(n, highspy.HighsVarType.kContinuous))
    h.setOptionValue("solver", "simplex")
    h.changeColsCost(len(idx), idx, coef)
    rows = (start.astype(np.int64), col.astype(np.int64), val.astype(np.float64))
    lo, hi = row_lo.astype(np.float64), row_hi.astype(np.float64)
    x = None
    for _ in range(CUT_ROUNDS):
        # (half the time at most for the LPs: fix and solve needs the rest)
        if CLOCK.now() > stop_at - 0.5 * seconds or not CLOCK.run(h, stop_at - CLOCK.now()):
            break
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        cuts = zero_half_cuts(x, ub.astype(np.float64), rows, lo, hi)
        if not cuts:
            break
        for c_idx, c_val, rhs in cuts:
            h.addRow(-highspy.kHighsInf, rhs, len(c_idx), c_idx.astype(np.int32), c_val)
    if x is None:
        return None
    lp_ones = (x >= 1 - 1e-6) & (ub == 1)
    # Fix what the LP sets to 1 and solve the rest; then again from that allocation with
    # everything in a row that holds a fractional column set free too (whole workstations
    # where the LP is undecided: a larger neighbourhood).
    best = _solve_fixed(make, data, objective, np.flatnonzero(lp_ones).astype(np.int32), None,
                        0.4 * (stop_at - CLOCK.now()))
    if best is None:
        return None
    frac = np.abs(x - np.round(x)) > 1e-6
    row_of = np.repeat(np.arange(len(row_lo)), np.diff(start))
    touched = np.zeros(len(row_lo), dtype=bool)
    touched[row_of[frac[col]]] = True
    free = np.zeros(n, dtype=bool)
    free[col[touched[row_of]]] = True
    ones = np.flatnonzero(lp_ones & ~free & (best >= 0.5)).astype(np.int32)
    return better(objective, best, _solve_fixed(make, data, objective, ones, best,
                                                stop_at - CLOCK.now()))


def _solve_fixed(make: Callable[..., Any], data: Any, objective: tuple[Any, Any],
                 ones: npt.NDArray[np.int32], start: FloatArray | None, seconds: float
                 ) -> FloatArray | None:
    """The model with the columns ``ones`` fixed at 1, solved from ``start`` for at most
    ``seconds``; its allocation (None when none was found)."""
    import highspy

    idx, coef = objective
    g = make([])
    g.changeColsCost(len(idx), idx, coef)
    if len(ones):
        g.changeColsBounds(len(ones), ones, np.ones(len(ones)), np.ones(len(ones)))
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = start.tolist()
        g.setSolution(sol)
    if not CLOCK.run(g, seconds, mip=True) or g.getInfo().primal_solution_status != 2:
        return None
    got: FloatArray = np.round(np.asarray(g.getSolution().col_value)).astype(np.float64)
    if violations(data["lb"], data["ub"], data["row_lo"], data["row_hi"], data["row_start"],
                  data["row_idx"], data["row_val"], got, 1e-6):
        return None
    return got


def better(objective: tuple[Any, Any], a: FloatArray | None, b: FloatArray | None
           ) -> FloatArray | None:
    """The one of ``a`` and ``b`` with the lower objective (None counts as none)."""
    if a is None or b is None:
        return b if a is None else a
    idx, coef = objective
    return a if float(coef @ a[idx]) <= float(coef @ b[idx]) else b
