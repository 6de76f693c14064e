"""Cutting planes for the slot model's LP, in its HiGHS helper: parity and {0, 1/2}-cuts.

A Hall row reads ``2 X2 + X1 <= B``; half of it plus half of the bounds of an odd-bounded set
of its one-term columns, rounded down, is a parity cut (:func:`parity_cuts`). More generally
half the sum of any set of rows, plus half of bounds for the odd coefficients, rounded down,
is valid; :func:`zero_half_cuts` finds sets the LP point violates by Gaussian elimination over
GF(2). (The math is in :mod:`matcher.solvers.slots`.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .common import EPS, HALL, FloatArray, IntArray, ranges

ZERO_HALF_CUTS = 2_000
"""Most {0, 1/2}-cuts added in one round (the most violated)."""


def parity_cuts(x: FloatArray, rows: list[tuple[IntArray, IntArray, IntArray, int]]
                ) -> list[tuple[IntArray, float]]:
    """Violated parity cuts of the Hall rows at the LP point ``x``.

    Each row is ``(two, one, one_ub, bound)``: its two-term columns, its one-term columns and
    their upper bounds, and its even bound ``B``. For an odd-bounded set ``J`` of one-term
    columns the cut is ``sum x[two] + sum x[J] <= B/2 + (U_J - 1)/2``; the most violated ``J``
    takes every column above half its bound, parity mended by the cheapest flip.

    Returns
    -------
    list
        ``(columns, right-hand side)`` of each violated cut (coefficients 1).
    """
    cuts = []
    for two, one, ub, bound in rows:
        if len(one) == 0:
            continue
        gain = x[one] - ub / 2.0
        take = gain > EPS
        total = int(ub[take].sum())
        if total % 2 == 0:
            odd = (ub % 2) == 1
            if not odd.any():
                continue
            # drop the weakest odd member, or add the strongest odd non-member
            loss = np.where(odd & take, gain, np.inf)
            add = np.where(odd & ~take, gain, -np.inf)
            k_drop, k_add = int(np.argmin(loss)), int(np.argmax(add))
            if -loss[k_drop] >= add[k_add]:
                take[k_drop] = False
            else:
                take[k_add] = True
            total = int(ub[take].sum())
        rhs = bound // 2 + (total - 1) // 2
        lhs = float(x[two].sum() + x[one[take]].sum())
        if lhs > rhs + 1e-4:
            cuts.append((np.concatenate([two, one[take]]).astype(np.int64), float(rhs)))
    return cuts


def hall_cut_rows(data: Any) -> list[tuple[IntArray, IntArray, IntArray, int]]:
    """The Hall rows of the model as ``(two, one, one_ub, bound)`` (see :func:`parity_cuts`)."""
    kind, start, col, hi = data["row_kind"], data["row_start"], data["row_col"], data["row_hi"]
    val, ub = data["row_val"], data["col_ub"]
    out = []
    for r in np.flatnonzero(kind == HALL).tolist():
        cols, coef = col[start[r]:start[r + 1]], val[start[r]:start[r + 1]]
        one = cols[coef == 1]
        out.append((cols[coef == 2], one, ub[one].astype(np.int64), int(hi[r])))
    return out


def zero_half_cuts(x: FloatArray, ub: FloatArray, rows: tuple[IntArray, IntArray, FloatArray],
                   lo: FloatArray, hi: FloatArray, most: int = ZERO_HALF_CUTS
                   ) -> list[tuple[IntArray, FloatArray, float]]:
    """Violated {0, 1/2}-cuts of ``lo <= A y <= hi``, ``0 <= y <= ub``, ``y`` integer, at ``x``.

    Half the sum of a set of rows (each on its side nearer ``x``), plus half of ``y_j >= 0`` or
    ``y_j <= ub_j`` for each odd coefficient, rounded down when the right-hand side is odd, is
    a Chvatal-Gomory cut; ``x`` violates it by ``(1 - w) / 2``, where ``w`` is the rows' slacks
    plus each bound's slack (``x_j`` or ``ub_j - x_j``). Columns at a bound cost nothing, so
    sets are found by Gaussian elimination over GF(2) on the *other* columns of the rows with
    slack below 1, tightest rows first as pivots (the heuristic of Koster, Zymolka and
    Kutschka, 2009); a set is a cut when none of them is left odd, or one whose bound's slack
    still leaves ``w < 1``. (:func:`parity_cuts` take one Hall row with any number of odd
    columns near their bounds.)

    Parameters
    ----------
    x, ub
        The LP point and the columns' upper bounds (integers; lower bounds are 0).
    rows
        ``(row_start, row_col, row_val)``: the rows by row (CSR), integer coefficients.
    lo, hi
        Row bounds (``-inf``/``inf`` where there is none).
    most
        At most this many cuts, the most violated.

    Returns
    -------
    list
        ``(columns, coefficients, right-hand side)`` of each cut, read ``<=``.
    """
    start, col, val = rows
    n_rows = len(lo)
    row_of = np.repeat(np.arange(n_rows), np.diff(start))
    coef = np.round(val).astype(np.int64)
    act = np.bincount(row_of, weights=val * x[col], minlength=n_rows)
    up, down = hi - act, act - lo
    side = np.where(up <= down, 1, -1)  # each row read as side * A y <= side * bound
    slack = np.maximum(np.minimum(up, down), 0.0)
    bound = np.round(np.nan_to_num(np.where(side > 0, hi, lo), posinf=0.0, neginf=0.0)
                     ).astype(np.int64) * side  # (a row with no slack below 1 is not taken)
    at_lo, at_hi = x <= EPS, x >= ub - EPS
    inner = ~(at_lo | at_hi)
    odd = (coef % 2 != 0) & inner[col]
    # the right-hand side once the columns at their upper bounds are moved to it (its parity)
    moved = np.bincount(row_of, weights=np.where(at_hi[col], coef * np.round(ub[col]), 0),
                        minlength=n_rows)
    parity = (bound - side * np.round(moved).astype(np.int64)) % 2
    n_odd = np.bincount(row_of[odd], minlength=n_rows)
    take = np.flatnonzero((slack < 1 - EPS) & ((n_odd > 0) | (parity == 1)))
    if len(take) == 0:
        return []
    # GF(2) rows as Python integers: bit q for the q-th inner column, members bit k for row k
    inner_cols = np.flatnonzero(inner)
    pos = np.full(len(x), -1, dtype=np.int64)
    pos[inner_cols] = np.arange(len(inner_cols))
    bits = [0] * len(take)
    index = np.full(n_rows, -1, dtype=np.int64)
    index[take] = np.arange(len(take))
    ent = odd & (index[row_of] >= 0)
    for k, q in zip(index[row_of[ent]].tolist(), pos[col[ent]].tolist(), strict=True):
        bits[k] ^= 1 << q
    odd_rhs = parity[take].tolist()
    weight = slack[take].tolist()
    members = [1 << k for k in range(len(take))]
    with_bit: dict[int, set[int]] = {}
    for k, b in enumerate(bits):
        for q in _bit_list(b):
            with_bit.setdefault(q, set()).add(k)
    room = np.minimum(x, ub - x)[inner_cols]  # a column's bound slack, if left odd
    found: dict[int, tuple[IntArray, FloatArray, float, float]] = {}

    def look(k: int) -> None:
        b = bits[k]
        if weight[k] >= 1 - EPS or members[k] in found:
            return
        if (b == 0 and odd_rhs[k]) or (b.bit_count() == 1
                                        and weight[k] + room[b.bit_length() - 1] < 1 - EPS):
            cut = _zero_half_cut(members[k], take, rows, side, bound, x, ub, at_hi, inner)
            if cut is not None:
                found[members[k]] = cut

    alive = set(range(len(take)))
    for k in range(len(take)):
        look(k)
    for q in sorted(with_bit, key=lambda q: len(with_bit[q])):
        holders = with_bit[q] & alive
        if not holders:
            continue
        pivot = min(holders, key=lambda k: (weight[k], bits[k].bit_count(), k))
        p_bits = _bit_list(bits[pivot])
        for k in sorted(holders - {pivot}):
            for r in p_bits:  # (k holds bit r after the sum iff it did not before)
                if (bits[k] >> r) & 1:
                    with_bit[r].discard(k)
                else:
                    with_bit.setdefault(r, set()).add(k)
            bits[k] ^= bits[pivot]
            odd_rhs[k] ^= odd_rhs[pivot]
            members[k] ^= members[pivot]
            weight[k] += weight[pivot]
            look(k)
            if bits[k] == 0 or weight[k] >= 1 - EPS:
                alive.discard(k)
        alive.discard(pivot)
    best = sorted(found.values(), key=lambda c: -c[3])[:most]
    return [(idx, coefs, rhs) for idx, coefs, rhs, _v in best]


def _bit_list(b: int) -> list[int]:
    """Positions of the set bits of ``b``."""
    out = []
    while b:
        low = b & -b
        out.append(low.bit_length() - 1)
        b ^= low
    return out


def _zero_half_cut(members: int, take: IntArray, rows: tuple[IntArray, IntArray, FloatArray],
                   side: IntArray, bound: IntArray, x: FloatArray, ub: FloatArray,
                   at_hi: npt.NDArray[np.bool_], inner: npt.NDArray[np.bool_]
                   ) -> tuple[IntArray, FloatArray, float, float] | None:
    """The cut of half the sum of the rows ``take[members]``: ``(columns, coefficients,
    right-hand side, violation at x)``, or None when it is not violated."""
    start, col, val = rows
    chosen = take[_bit_list(members)]
    ent = ranges(start[chosen], start[chosen + 1])
    sign = np.repeat(side[chosen], np.diff(start)[chosen])
    cols, inv = np.unique(col[ent], return_inverse=True)
    coef = np.bincount(inv, weights=sign * np.round(val[ent])).round().astype(np.int64)
    rhs = int(bound[chosen].sum())
    odd = coef % 2 != 0
    left = np.flatnonzero(odd & inner[cols])  # at most one may stay odd (its bound's slack)
    if len(left) > 1:
        return None
    up = odd & at_hi[cols]
    coef[up] += 1  # + (y_j <= ub_j)
    rhs += int(np.round(ub[cols[up]]).sum())
    coef[odd & ~at_hi[cols] & ~inner[cols]] -= 1  # + (-y_j <= 0)
    best = None
    # the one left: either bound (the right-hand side must come out odd)
    for step, shift in ((-1, 0), (1, round(float(ub[cols[left[0]]])))) if len(left) else ((0, 0),):
        c, r = coef.copy(), rhs + shift
        c[left] += step
        if r % 2 == 0:
            continue
        keep = c != 0
        half = (c[keep] // 2).astype(np.float64)
        violation = float(half @ x[cols[keep]]) - (r - 1) // 2
        if violation > 1e-3 and (best is None or violation > best[3]):
            best = (cols[keep].astype(np.int64), half, float((r - 1) // 2), violation)
    return best
