"""The slot model's HiGHS side: LP bounds with parity cuts, and exact searches around the LP.

Runs as a helper process (``python slots_highs.py WORKDIR``) started by
:mod:`matcher.solvers.slots`: highspy cannot share a process with OR-Tools (see
:mod:`matcher.solvers.milp`), so this file imports only numpy, highspy and the standard
library, and never the matcher package (which would also double the start-up time).

The job (``WORKDIR/job.json`` and ``WORKDIR/model.npz``, the arrays of a
:class:`~matcher.solvers.slots.SlotModel`) is solved in phases; after each the helper
replaces ``WORKDIR/state.json`` (bounds, phase, times) and, for every better allocation,
``WORKDIR/best.npz`` (the column values), so that whatever is there when the parent stops it is
the best known:

1. *placed bound*: the LP maximum of the students placed, rounded down (``placed_ub``);
2. *rank bound*: with that many placed, the LP minimum of the rank cost, raised by rounds of
   parity cuts (:func:`parity_cuts`) and {0, 1/2}-cuts (:func:`zero_half_cuts`) while they
   raise it; its ceiling is ``rank_lb``;
3. *fix and solve*: students the LP places integrally stay where it places them, the others
   (and, before a proof or if that finds nothing, everyone at a workstation one of them
   touches) are solved exactly by HiGHS's branch and cut on what is left;
4. *proof*: a model small enough is then solved whole (cuts included, the best allocation as
   start) until the deadline, which proves the optimum; otherwise neighbourhoods of the best
   allocation (the students at a few workstations, chosen by the seed) are re-solved exactly
   until the deadline.

If no allocation placing ``placed_ub`` is found, the placed count is maximised exactly first.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Mirrors matcher.solvers.slots (this file must not import the package).
LISTED, OFF, CLASS, SPLIT, PAIR, MENTOR = 0, 1, 2, 3, 4, 5
ONE, LINK, HALL, TYPE, TERM, LAZY = 0, 1, 2, 3, 4, 5

EPS = 1e-6
CUT_ROUNDS = 30
"""Most rounds of parity cuts (they stop earlier once a round raises the bound by < 0.01)."""
FULL_MIP_COLUMNS = 60_000
"""Models with at most this many columns are solved whole after fix-and-solve (the proof)."""
NEIGHBOURHOOD_STATIONS = 12
"""Workstations a neighbourhood search starts with (it grows while searches find nothing
quickly, up to ``NEIGHBOURHOOD_GROWTH`` times this, and shrinks when they run long)."""
NEIGHBOURHOOD_GROWTH = 8
"""At tier L the neighbourhoods of 50-90 workstations still solve in about a second and find
what those of 48 (the cap at 4) no longer do."""
COLD_SHARE = 0.1
COLD_COLUMNS = 5_000
"""The LP is solved afresh when more than this share of its columns, and more than this
many, join at once (small LPs keep their basis: no fresh solve to pay for, and no risk of
going round between vertices)."""
NEIGHBOURHOOD_SECONDS = 4.0
"""Most time one neighbourhood search may take."""
ZERO_HALF_CUTS = 2_000
"""Most {0, 1/2}-cuts added in one round (the most violated)."""
ZERO_HALF_ENTRIES = 5_000
"""Rows with more entries (the placed count) are left out of {0, 1/2}-cuts: a cut through
one would be as dense."""
FIX_PER_LP = 7.5
"""Fix and solve around the LP point takes about 6 times as long per column it frees as the
LP took per model column (tier XL: LP 44 s over 1.06 million columns; fix and solve 7-29 s over
40,000-117,000 freed, 17 s over 58,000 with the other core busy); this is that with a quarter
more. Cut rounds keep this much time for fix and solve around the point so far: at XL with
seed 1 (rounds of 20-35 s) a round once ran into fix and solve's time, which then did not
finish, and the result was the search's from the quick allocation, 1.8% above the bound."""
CUT_STALLS = 4
"""Cut rounds stop after this many in a row raise the LP by less than 0.01 (tier M: rounds
of {0, 1/2}-cuts sometimes stall once and then raise it again)."""


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
    ent = _ranges(start[chosen], start[chosen + 1])
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


class _State:
    """What the parent reads: ``state.json`` (replaced atomically) and ``best.npz``."""

    def __init__(self, work: Path, started: float, name: str = "state.json") -> None:
        self.work = work
        self.started = started
        self.name = name
        self.info: dict[str, Any] = {"phase": "start", "placed_ub": None, "rank_lb": None,
                                     "lp_rank": None, "cuts": 0, "best_rank": None,
                                     "best_placed": None, "proven": False, "events": [],
                                     "proven_after": None}

    def note(self, **kw: Any) -> None:
        self.info.update(kw)
        self.info["seconds"] = round(time.time() - self.started, 3)
        info = self.info
        if (info.get("proven_after") is None and info["best_rank"] is not None
                and info["rank_lb"] is not None and info["best_placed"] == info["placed_ub"]
                and info["best_rank"] <= info["rank_lb"]):
            info["proven_after"] = info["seconds"]
            info["proven"] = True
        tmp = self.work / f"{self.name}.tmp"
        tmp.write_text(json.dumps(self.info), encoding="utf-8")
        os.replace(tmp, self.work / self.name)

    def event(self, text: str) -> None:
        self.info["events"].append(f"{time.time() - self.started:.2f}s {text}")
        self.note()

    def best(self, x: FloatArray, placed: int, rank: int) -> None:
        stem = "best" if self.name == "state.json" else "best_search"
        tmp = self.work / f"{stem}.tmp.npz"
        np.savez(tmp, x=x)
        os.replace(tmp, self.work / f"{stem}.npz")
        self.note(best_rank=rank, best_placed=placed)


class _Problem:
    """The model in arrays, with the helpers every phase needs."""

    def __init__(self, data: Any) -> None:
        self.kind = data["col_kind"]
        self.block = data["col_block"]
        self.cost = data["col_cost"].astype(np.float64)
        self.ub = data["col_ub"].astype(np.float64)
        self.ws = data["col_ws"]
        self.student = data["col_student"]
        self.klass = data["col_class"]
        self.row_kind = data["row_kind"]
        self.row_lo, self.row_hi = data["row_lo"], data["row_hi"]
        self.row_start, self.row_col = data["row_start"], data["row_col"]
        self.row_val = data["row_val"]
        self.n_cols, self.n_rows = len(self.cost), len(self.row_lo)
        self.placed_cols = np.flatnonzero(self.kind <= OFF)
        self.row_of = np.repeat(np.arange(self.n_rows), np.diff(self.row_start))
        # by column (CSC): the rows each column is in
        order = np.argsort(self.row_col, kind="stable")
        self.csc_rows = self.row_of[order]
        self.csc_start = np.concatenate([[0], np.cumsum(np.bincount(self.row_col,
                                                                    minlength=self.n_cols))])
        self.one_rows = np.flatnonzero(self.row_kind == ONE)
        self.listed = np.flatnonzero(self.kind == LISTED)
        self.n_ws = max(int(self.ws.max(initial=-1)) + 1, len(data["slot_exact"]))
        self.slot_exact = np.zeros(self.n_ws, dtype=bool)
        self.slot_exact[:len(data["slot_exact"])] = data["slot_exact"]
        # Counts per mentor (MENTOR columns, LAZY rows): out of the LP; in the searches only at
        # the workstations in ``enforced`` (all of them in models small enough to prove).
        self.lazy_ws = np.full(self.n_rows, -1, dtype=np.int64)
        mentor_cols = self.kind == MENTOR
        at = mentor_cols[self.row_col] & (self.row_kind[self.row_of] == LAZY)
        self.lazy_ws[self.row_of[at]] = self.ws[self.row_col[at]]
        self.lp_rows = np.flatnonzero(self.lazy_ws < 0)
        self.mixed = np.zeros(self.n_ws, dtype=bool)
        self.mixed[self.ws[mentor_cols]] = True
        self.enforced = np.zeros(self.n_ws, dtype=bool)
        # by workstation: its columns (counts per mentor first), for the per-workstation checks
        self.ws_cols = np.lexsort((~mentor_cols, self.ws))
        self.ws_start = np.searchsorted(self.ws[self.ws_cols], np.arange(self.n_ws + 1))
        self.ws_mentors = self.ws_start[:-1] + np.bincount(self.ws[mentor_cols],
                                                           minlength=self.n_ws)
        # student -> position of its ONE row in one_rows (-1: none)
        self.row_of_student = np.full(int(self.student.max(initial=-1)) + 1, -1, dtype=np.int64)
        first = self.row_col[self.row_start[self.one_rows]]
        self.row_of_student[self.student[first]] = np.arange(len(self.one_rows))
        # extra rows (placed count, cuts): (columns, values, lo, hi)
        self.extra: list[tuple[IntArray, FloatArray, float, float]] = []
        self._extra_index: tuple[int, IntArray, IntArray] = (0, np.zeros(0, np.int64),
                                                             np.zeros(0, np.int64))

    def mentor_cols(self, w: int) -> IntArray:
        """The counts per mentor of workstation ``w``."""
        return self.ws_cols[self.ws_start[w]:self.ws_mentors[w]]

    def people_cols(self, w: int) -> IntArray:
        """Every other column of workstation ``w`` (students, classes, starts)."""
        return self.ws_cols[self.ws_mentors[w]:self.ws_start[w + 1]]

    def shares_out(self, w: int, x: FloatArray) -> bool:
        """Whether a greedy sharing-out of ``x``'s students at ``w`` among its mentors keeps
        every mentor's limit (True proves they fit; False proves nothing).

        Two-term types first, each type's students one by one to the mentor with the most
        room left, the types with fewest mentors first: a mentor's term-places (``T k_m``) are
        even, so two-term students keep them even and every odd place left is a one-term
        student's.
        """
        types: dict[int, list[tuple[int, float]]] = {}  # link row -> (mentor row, block)
        for j in self.mentor_cols(w).tolist():
            rows = self.csc_rows[self.csc_start[j]:self.csc_start[j + 1]]
            links = [int(r) for r in rows.tolist() if self.row_lo[r] == self.row_hi[r]]
            caps = [int(r) for r in rows.tolist() if self.row_lo[r] != self.row_hi[r]]
            if len(links) != 1 or len(caps) != 1:
                return False
            types.setdefault(links[0], []).append((caps[0], float(self.block[j])))
        room: dict[int, float] = {}
        order = []
        for link, options in types.items():
            lo, hi = self.row_start[link], self.row_start[link + 1]
            on = self.kind[self.row_col[lo:hi]] != MENTOR
            need = round(float(self.row_val[lo:hi][on] @ x[self.row_col[lo:hi][on]]))
            order.append((-options[0][1], len(options), link, need))
            for r, _n in options:
                room[r] = float(self.row_hi[r])
        for _neg_n, _k, link, need in sorted(order):
            for _ in range(need):
                r, n = max(types[link], key=lambda o: (room[o[0]], -o[0]))
                if room[r] < n:
                    return False
                room[r] -= n
        return True

    def cut_rows(self) -> tuple[tuple[IntArray, IntArray, FloatArray], FloatArray, FloatArray]:
        """The LP's rows (the model's but the counts per mentor, then the extra rows) as
        ``((row_start, row_col, row_val), lo, hi)``, less those over ``ZERO_HALF_ENTRIES``
        entries: what :func:`zero_half_cuts` combines."""
        model = self.lp_rows[np.diff(self.row_start)[self.lp_rows] <= ZERO_HALF_ENTRIES]
        extra = [e for e in self.extra if len(e[0]) <= ZERO_HALF_ENTRIES]
        ent = _ranges(self.row_start[model], self.row_start[model + 1])
        lengths = np.concatenate([np.diff(self.row_start)[model], [len(e[0]) for e in extra]])
        start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        col = np.concatenate([self.row_col[ent], *[e[0] for e in extra]]).astype(np.int64)
        val = np.concatenate([self.row_val[ent], *[e[1] for e in extra]])
        lo = np.concatenate([self.row_lo[model], [e[2] for e in extra]])
        hi = np.concatenate([self.row_hi[model], [e[3] for e in extra]])
        return (start, col, val), lo, hi

    def extra_touching(self, free: npt.NDArray[np.bool_]) -> IntArray:
        """The extra rows with an entry in a column of ``free``."""
        n, cols, owner = self._extra_index
        if n != len(self.extra):  # rows were added since: index them again
            cols = np.concatenate([e[0] for e in self.extra]) if self.extra else cols[:0]
            owner = np.repeat(np.arange(len(self.extra)), [len(e[0]) for e in self.extra])
            self._extra_index = (len(self.extra), cols, owner)
        return np.unique(owner[free[cols]])

    def rows_of_cols(self, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Rows with an entry in a column of ``mask``."""
        hit = np.zeros(self.n_rows, dtype=bool)
        hit[self.row_of[mask[self.row_col]]] = True
        return hit

    def rank(self, x: FloatArray) -> int:
        return round(float(self.cost @ x))

    def placed(self, x: FloatArray) -> int:
        return round(float(x[self.placed_cols].sum()))

    def feasible(self, x: FloatArray, tol: float = 1e-6) -> bool:
        """Whether ``x`` keeps every row (the counts per mentor where enforced)."""
        if (x < -tol).any() or (x > self.ub + tol).any():
            return False
        act = np.bincount(self.row_of, weights=self.row_val * x[self.row_col],
                          minlength=self.n_rows)
        bad = (act < self.row_lo - tol) | (act > self.row_hi + tol)
        bad &= (self.lazy_ws < 0) | self.enforced[np.maximum(self.lazy_ws, 0)]
        if bad.any():
            return False
        return all(lo - tol <= float(val @ x[idx]) <= hi + tol
                   for idx, val, lo, hi in self.extra)

    def highs(self, job: dict[str, Any], cols: IntArray | None = None,
              fixed: FloatArray | None = None, integer: bool = False, all_rows: bool = False,
              cost: FloatArray | None = None) -> tuple[Any, IntArray]:
        """A HiGHS model of the columns ``cols`` (default all), the others fixed at ``fixed``.

        Rows without a free column are left out (the fixed values keep them) unless
        ``all_rows``; the others get their bounds shifted by the fixed columns' contribution.
        Returns the model and the model column of each of its columns.
        """
        import highspy

        if cols is not None and not all_rows:
            # the counts per mentor of enforced workstations are always solved for
            extra_free = [self.mentor_cols(w) for w in np.flatnonzero(self.enforced).tolist()]
            cols = np.union1d(cols, np.concatenate([cols[:0], *extra_free]))
        h = highspy.Highs()
        for name, value in (("output_flag", bool(job.get("log"))),
                            ("log_to_console", bool(job.get("log"))),
                            ("random_seed", int(job["seed"]) % 2147483647),
                            ("threads", int(job["threads"])), ("mip_rel_gap", 0.0),
                            ("mip_abs_gap", 0.999)):
            h.setOptionValue(name, value)
        inf = highspy.kHighsInf
        free = np.ones(self.n_cols, dtype=bool) if cols is None else np.zeros(self.n_cols, bool)
        if cols is not None:
            free[cols] = True
        index = np.full(self.n_cols, -1, dtype=np.int64)
        keep = np.flatnonzero(free)
        index[keep] = np.arange(len(keep))
        h.addVars(len(keep), np.zeros(len(keep)), self.ub[keep])
        h.changeColsCost(len(keep), np.arange(len(keep), dtype=np.int32),
                         (self.cost if cost is None else cost)[keep])
        if integer and len(keep):
            h.changeColsIntegrality(len(keep), np.arange(len(keep), dtype=np.int32),
                                    np.full(len(keep), highspy.HighsVarType.kInteger))
        base = np.zeros(self.n_cols) if fixed is None else np.where(free, 0.0, fixed)
        if all_rows or cols is None:
            # (the LP master: every row but the counts per mentor, which it never has)
            r_idx = self.lp_rows if all_rows else np.flatnonzero(self.rows_of_cols(free))
        else:  # only the rows of the free columns (a small neighbourhood: no full pass)
            r_idx = np.unique(self.csc_rows[_ranges(self.csc_start[keep],
                                                    self.csc_start[keep + 1])])
        ent = _ranges(self.row_start[r_idx], self.row_start[r_idx + 1])
        row_pos = np.repeat(np.arange(len(r_idx)), np.diff(self.row_start)[r_idx])
        shift = np.bincount(row_pos, weights=self.row_val[ent] * base[self.row_col[ent]],
                            minlength=len(r_idx))
        on = free[self.row_col[ent]]
        ent, row_pos = ent[on], row_pos[on]
        counts = np.bincount(row_pos, minlength=len(r_idx))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
        lo = np.where(np.isinf(self.row_lo[r_idx]), -inf, self.row_lo[r_idx] - shift)
        hi = np.where(np.isinf(self.row_hi[r_idx]), inf, self.row_hi[r_idx] - shift)
        # Counts per mentor not enforced: the row is kept free (the LP master has none at all).
        lazy = self.lazy_ws[r_idx]
        off = (lazy >= 0) & ~self.enforced[np.maximum(lazy, 0)]
        lo, hi = np.where(off, -inf, lo), np.where(off, inf, hi)
        if len(r_idx):
            h.addRows(len(r_idx), lo, hi, len(ent), starts,
                      index[self.row_col[ent]].astype(np.int32), self.row_val[ent])
        for k in range(len(self.extra)) if all_rows else self.extra_touching(free).tolist():
            idx, val, elo, ehi = self.extra[k]
            on = free[idx]
            s = float(val[~on] @ base[idx[~on]])
            h.addRow(-inf if math.isinf(elo) else elo - s, inf if math.isinf(ehi) else ehi - s,
                     int(on.sum()), index[idx[on]].astype(np.int32), val[on])
        return h, keep


class _Master:
    """The LP relaxation over an active set of columns, grown by pricing (column generation).

    Starts from the columns the parent found cheap at its flow prices (``job["active"]``).
    After each solve, every inactive column is priced with the row duals; those with a
    negative reduced cost join and the LP is solved again, until none is left: the value is
    then the LP's over all columns. Rows (the model's and the extra ones: the placed count, the
    cuts) always span every column.
    """

    def __init__(self, pb: _Problem, job: dict[str, Any], active: npt.NDArray[np.bool_],
                 cost: FloatArray) -> None:
        import highspy

        self.pb, self.cost = pb, cost
        self.active = active.copy()
        self.h, keep = pb.highs(job, np.flatnonzero(active), all_rows=True)
        self.h.setOptionValue("solver", "simplex")
        self.order = list(keep)  # HiGHS column -> model column
        self.h.changeColsCost(len(keep), np.arange(len(keep), dtype=np.int32), cost[keep])
        self.inf = highspy.kHighsInf
        self.priced = 0

    def add_rows(self, rows: list[tuple[IntArray, FloatArray, float, float]]) -> None:
        """Rows ``(columns, values, lo, hi)`` over model columns (inactive ones are kept for
        when they join), added at once (tier XL: 2,400 cuts one by one took 10-40 s)."""
        pos = self._positions()
        starts, index, value, lows, highs = [], [], [], [], []
        n = 0
        for idx, val, lo, hi in rows:
            self.pb.extra.append((idx, val, lo, hi))
            on = pos[idx] >= 0
            starts.append(n)
            index.append(pos[idx[on]])
            value.append(val[on])
            n += int(on.sum())
            lows.append(-self.inf if math.isinf(lo) else lo)
            highs.append(self.inf if math.isinf(hi) else hi)
        if rows:
            self.h.addRows(len(rows), np.array(lows), np.array(highs), n,
                           np.array(starts, dtype=np.int32),
                           np.concatenate(index).astype(np.int32), np.concatenate(value))

    def _positions(self) -> IntArray:
        pos = np.full(self.pb.n_cols, -1, dtype=np.int64)
        pos[np.asarray(self.order, dtype=np.int64)] = np.arange(len(self.order))
        return pos

    def reduced_costs(self) -> FloatArray:
        """Reduced costs of every column at the current row duals."""
        pb = self.pb
        y = np.asarray(self.h.getSolution().row_dual, dtype=np.float64)
        n_lp = len(pb.lp_rows)
        base = np.zeros(pb.n_rows)
        base[pb.lp_rows] = y[:n_lp]
        rc = self.cost - np.bincount(pb.row_col, weights=pb.row_val * base[pb.row_of],
                                     minlength=pb.n_cols)
        for k, (idx, val, _lo, _hi) in enumerate(pb.extra):
            if y[n_lp + k] != 0.0:
                np.subtract.at(rc, idx, y[n_lp + k] * val)
        return rc

    def solve(self, deadline: float) -> bool:
        """Solve, pricing in columns until none has a negative reduced cost.

        After a few columns join, the basis is still primal feasible, so primal simplex goes
        on from it; after many (``COLD_SHARE``, ``COLD_COLUMNS``), a fresh solve with
        presolve and dual simplex is faster (tier XL's first pricing adds 70,000 to 244,000:
        28 s against 48 s by primal simplex, 100 s by dual simplex from the old basis)."""
        strategy = 1  # dual simplex: rows were added (cuts) or nothing was solved yet
        while True:
            self.h.setOptionValue("simplex_strategy", strategy)
            if not _solve_lp(self.h, deadline):
                self.h.setOptionValue("simplex_strategy", 1)
                return False
            join = self.entering(self.reduced_costs())
            if len(join) == 0:
                self.h.setOptionValue("simplex_strategy", 1)
                return True
            cold = len(join) > max(COLD_COLUMNS, COLD_SHARE * len(self.order))
            self._add_columns(join)
            if cold:
                self.h.clearSolver()
            strategy = 1 if cold else 4

    def entering(self, rc: FloatArray, per_student: int = 1, per_class: int = 10) -> IntArray:
        """Inactive columns with a negative reduced cost that join the LP: each student's
        cheapest (partial pricing: most would otherwise join only to stay at zero), and the
        cheapest few off-list counts of each class."""
        pb = self.pb
        cand = np.flatnonzero(~self.active & (rc < -1e-7))
        if len(cand) == 0:
            return cand
        owner = np.where(pb.student[cand] >= 0, pb.student[cand], -1 - pb.klass[cand])
        order = np.lexsort((cand, rc[cand], owner))
        cand, owner = cand[order], owner[order]
        first = np.ones(len(cand), dtype=bool)
        first[1:] = owner[1:] != owner[:-1]
        rank = np.arange(len(cand)) - np.maximum.accumulate(np.where(first, np.arange(len(cand)),
                                                                     0))
        limit = np.where(owner >= 0, per_student, per_class)
        return np.sort(cand[rank < limit])

    def _add_columns(self, cols: IntArray) -> None:
        pb = self.pb
        self.active[cols] = True
        base = len(self.order)
        self.order.extend(cols.tolist())
        pos = self._positions()
        # Entries of the new columns, column by column (CSC), in model rows then extra rows.
        new = np.zeros(pb.n_cols, dtype=bool)
        new[cols] = True
        ent = new[pb.row_col]
        c_of = pb.row_col[ent]
        r_of = pb.row_of[ent]
        v_of = pb.row_val[ent]
        extra_c, extra_r, extra_v = [c_of], [r_of], [v_of]
        for k, (idx, val, _lo, _hi) in enumerate(pb.extra):
            on = new[idx]
            if on.any():
                extra_c.append(idx[on])
                extra_r.append(np.full(int(on.sum()), pb.n_rows + k))
                extra_v.append(val[on])
        c_all = np.concatenate(extra_c)
        r_all = np.concatenate(extra_r)
        v_all = np.concatenate(extra_v)
        order = np.lexsort((r_all, pos[c_all]))
        c_all, r_all, v_all = c_all[order], r_all[order], v_all[order]
        # model rows -> the master's rows (it has no counts per mentor); extra rows follow
        where = np.full(pb.n_rows + len(pb.extra), -1, dtype=np.int64)
        where[pb.lp_rows] = np.arange(len(pb.lp_rows))
        where[pb.n_rows:] = len(pb.lp_rows) + np.arange(len(pb.extra))
        r_all = where[r_all]
        keep = r_all >= 0
        c_all, r_all, v_all = c_all[keep], r_all[keep], v_all[keep]
        counts = np.bincount(pos[c_all] - base, minlength=len(cols))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
        self.h.addCols(len(cols), self.cost[cols], np.zeros(len(cols)), pb.ub[cols],
                       len(r_all), starts, r_all.astype(np.int32), v_all)
        self.priced += len(cols)

    def x(self) -> FloatArray:
        """The LP point over every column (inactive ones at 0)."""
        out = np.zeros(self.pb.n_cols)
        out[np.asarray(self.order, dtype=np.int64)] = np.asarray(
            self.h.getSolution().col_value, dtype=np.float64)
        return out

    def value(self) -> float:
        return float(self.h.getInfo().objective_function_value)


def _values(h: Any, keep: IntArray, n_cols: int, fixed: FloatArray | None) -> FloatArray:
    """The full column vector of a solved (sub)model of the columns ``keep``."""
    x = np.zeros(n_cols) if fixed is None else fixed.copy()
    x[keep] = np.asarray(h.getSolution().col_value, dtype=np.float64)
    return x


def _ranges(starts: IntArray, ends: IntArray) -> IntArray:
    """The concatenation of ``range(starts[k], ends[k])`` over ``k``, vectorised."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return (np.arange(total) + offsets).astype(np.int64)


def _indicator(n: int, cols: IntArray) -> FloatArray:
    out = np.zeros(n)
    out[cols] = 1.0
    return out


def _limit(h: Any, seconds: float) -> None:
    """Let the next ``run`` of ``h`` take ``seconds`` more (HiGHS's clock adds up runs)."""
    h.setOptionValue("time_limit", h.getRunTime() + max(0.01, seconds))


def _solve_lp(h: Any, deadline: float) -> bool:
    """Solve an LP within the deadline; whether it is optimal."""
    import highspy

    _limit(h, _time_left(deadline))
    h.run()
    return bool(h.getModelStatus() == highspy.HighsModelStatus.kOptimal)


def _has_solution(h: Any) -> bool:
    return bool(h.getInfo().primal_solution_status == 2)


def _time_left(deadline: float) -> float:
    return deadline - time.time()


def run(work: Path, role: str = "both") -> None:
    """Helper-process entry: the phases of the module docstring.

    ``role`` ``"both"`` runs them in turn. Province-scale models get two helpers at once:
    ``"bound"`` (phases 1-3, fix and solve taking most of the time left, then phase 4) and
    ``"search"`` (phase 4 from the quick allocation the parent writes to ``start.npz``, meanwhile
    and to fall back on).
    """
    if any(m == "ortools" or m.startswith("ortools.") for m in sys.modules):
        raise RuntimeError("OR-Tools is loaded in the HiGHS helper process; highspy would crash")
    job = json.loads((work / "job.json").read_text(encoding="utf-8"))
    data = np.load(work / "model.npz")
    deadline = float(job["deadline"])
    state = _State(work, time.time(), "state.json" if role != "search" else "search.json")
    pb = _Problem(data)
    if job.get("enforce_all"):
        pb.enforced[:] = True
    if role == "search":
        search = _Search(pb, job, state, deadline, work)
        search.wait_for_start(most=deadline - time.time())
        search.neighbourhoods([])
    else:
        x = _bound(work, job, data, pb, state, deadline)
        if x is None:
            return  # its phase says why ("infeasible" or "failed")
        search = _Search(pb, job, state, deadline, work)
        if role == "both":
            search.around_lp(x)
            search.proof_or_neighbourhoods(x)
        else:
            # Province scale: the LP point with cuts, solved around, is the allocation (tier
            # XL: 0.04-0.05% above the bound; the neighbourhoods from the quick allocation
            # alone reach about 2%).
            search.around_lp(x, share=0.9)  # (HiGHS may overrun its limit a little)
            search.neighbourhoods([x])
    state.note(phase="done")


def _bound(work: Path, job: dict[str, Any], data: Any, pb: _Problem, state: _State,
           deadline: float) -> FloatArray | None:
    """Phases 1-2: the placed and rank bounds by LP with cuts; the LP point, or None when
    there is none."""
    import highspy

    started_lp = time.time()
    ones = np.ones(len(pb.placed_cols))
    # A weight per placed student larger than any rank gets both levels from one solve
    # (placing is settled first, and simplex is much faster so than on the degenerate count
    # alone); when its count falls short of what every student with an option would make, the
    # count's own LP decides.
    weight = float(job["placed_weight"])
    is_placed = _indicator(pb.n_cols, pb.placed_cols)
    active = np.ones(pb.n_cols, dtype=bool)
    if (work / "active.npy").is_file():
        active = np.load(work / "active.npy")
    lp = _Master(pb, job, active, pb.cost - weight * is_placed)
    if not lp.solve(deadline):
        if lp.h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
            state.note(phase="infeasible", error="the locks cannot all be honoured")
        else:
            state.note(phase="failed", error="the LP relaxation was not solved in time")
        return None
    x = lp.x()
    placed_lp = float(x[pb.placed_cols].sum())
    if placed_lp > int(job["placeable"]) * (1 - EPS) - EPS:  # (the LP places everyone)
        placed_ub = int(job["placeable"])
    else:
        hp, _ = pb.highs(job)
        hp.setOptionValue("solver", "ipm")
        hp.changeColsCost(pb.n_cols, np.arange(pb.n_cols, dtype=np.int32), -is_placed)
        if not _solve_lp(hp, deadline):
            state.note(phase="failed", error="the placed LP was not solved in time")
            return None
        placed_ub = math.floor(-hp.getInfo().objective_function_value + EPS)
    state.note(phase="placed bound", placed_ub=placed_ub, columns=int(lp.active.sum()))
    # Exactly placed_ub placed: with the weighted objective kept, the rank cost is the LP value
    # plus weight * placed_ub, and the basis stays optimal when the weighted LP placed as many.
    lp.add_rows([(pb.placed_cols, ones, float(placed_ub), float(placed_ub))])
    offset = weight * placed_ub
    if not lp.solve(deadline):
        state.note(phase="failed", error="the rank LP was not solved in time")
        return None
    lp_value = lp.value() + offset
    state.note(phase="rank bound", lp_rank=lp_value, rank_lb=math.ceil(lp_value - EPS),
               columns=int(lp.active.sum()))
    state.event(f"LP {lp_value:.3f}")
    _publish(work, lp.x())  # the LP point for the search's neighbourhoods (large models)
    hall = hall_cut_rows(data)
    cut_until = time.time() + float(job["cut_share"]) * _time_left(deadline)
    lp_per_column = (time.time() - started_lp) / max(1, pb.n_cols)  # (the machine's pace)
    n_cuts = stalls = 0
    x = lp.x()
    took = 0.0
    for _round in range(CUT_ROUNDS):
        # After the first, a round must leave fix and solve around the point so far its time
        # (if the round's LP is cut short, that point is the one solved around; the LP point
        # without cuts is no choice to keep: fix and solve around it is the slowest and worst).
        until = cut_until if _round == 0 else min(
            cut_until, deadline - FIX_PER_LP * lp_per_column * int(_fixing(pb, x).sum()))
        if time.time() + took >= until:
            break  # (a round may take as long as the longest before it)
        started = time.time()
        cuts = [(idx, np.ones(len(idx)), -math.inf, rhs) for idx, rhs in parity_cuts(x, hall)]
        cuts += [(idx, val, -math.inf, rhs)
                 for idx, val, rhs in zero_half_cuts(x, pb.ub, *pb.cut_rows())]
        if not cuts:
            break
        lp.add_rows(cuts)
        n_cuts += len(cuts)
        if not lp.solve(until):
            break
        before, lp_value = lp_value, lp.value() + offset
        x = lp.x()
        took = max(took, time.time() - started)  # (rounds vary: XL 10-35 s)
        state.note(lp_rank=lp_value, rank_lb=math.ceil(lp_value - EPS), cuts=n_cuts)
        stalls = stalls + 1 if lp_value - before < 0.01 else 0
        if stalls >= CUT_STALLS:
            break
    state.event(f"LP {lp_value:.3f} after {n_cuts} cuts")
    _publish(work, x)
    return x


def _publish(work: Path, x: FloatArray) -> None:
    """Write the LP point to ``lp.npz`` (atomically) for the parent and the search helper."""
    tmp = work / "lp.tmp.npz"
    np.savez(tmp, x=x)
    os.replace(tmp, work / "lp.npz")


class _Search:
    """Phases 3-4: exact searches (HiGHS branch and cut) on parts of the model.

    The objective is the weighted one (rank cost minus a weight per placed student), so no
    placed bound is needed; allocations are compared by placed, then rank cost.
    """

    def __init__(self, pb: _Problem, job: dict[str, Any], state: _State,
                 deadline: float, work: Path) -> None:
        self.pb, self.job, self.state, self.deadline = pb, job, state, deadline
        self.work = work
        self.best: FloatArray | None = None
        # workstation -> its columns' values when its students last fitted their mentors
        self.fits: dict[int, bytes] = {}
        self.cost = pb.cost - float(job["placed_weight"]) * _indicator(pb.n_cols,
                                                                       pb.placed_cols)

    def offer(self, x_new: FloatArray, how: str, depth: int = 0) -> None:
        """Keep ``x_new`` if it is better than the best, once its students have mentors.

        Where mentors take different disciplines and the counts per mentor are not enforced
        yet, each workstation whose students changed is checked (a small exact solve); one
        that fails has them enforced from then on, and its neighbourhood is solved again with
        them (the result offered in turn)."""
        pb = self.pb
        x_new = np.round(x_new)
        if not pb.feasible(x_new):
            self.state.event(f"{how}: rounding broke a row; dropped")
            return
        if self.best is not None and (pb.placed(x_new), -pb.rank(x_new)) <= (
                pb.placed(self.best), -pb.rank(self.best)):
            return
        failed = self._mentor_misfits(x_new)
        if failed.any():
            self.pb.enforced |= failed
            self.state.info["enforced"] = int(self.pb.enforced.sum())
            if depth < 3:
                ball = failed.copy()
                for w in np.flatnonzero(failed).tolist():
                    ball |= _ball(_wants(pb, x_new), w, 6, pb.n_ws)
                self.sub_mip(_around(pb, [x_new], ball), x_new,
                             min(NEIGHBOURHOOD_SECONDS, 0.5 * _time_left(self.deadline)),
                             f"{how}, with mentors' counts", depth=depth + 1)
            return
        self.best = x_new
        self.state.best(x_new, pb.placed(x_new), pb.rank(x_new))
        self.state.event(f"{how}: placed {pb.placed(x_new)}, rank {pb.rank(x_new)}")

    def _mentor_misfits(self, x: FloatArray) -> npt.NDArray[np.bool_]:
        """Workstations (not enforced) whose students in ``x`` changed since the best and
        cannot be shared out among their mentors (each checked by a small exact solve, unless
        the same students there passed before)."""
        import highspy

        pb = self.pb
        people = (pb.kind != MENTOR) & (pb.kind != SPLIT) & (pb.ws >= 0)
        changed = np.zeros(pb.n_ws, dtype=bool)
        differ = people & ((x != self.best) if self.best is not None else (x > 0.5))
        changed[pb.ws[differ]] = True
        todo = np.flatnonzero(changed & pb.mixed & ~pb.enforced)
        failed = np.zeros(pb.n_ws, dtype=bool)
        for w in todo.tolist():
            seen = x[pb.people_cols(w)].tobytes()
            if self.fits.get(w) == seen:
                continue
            if pb.shares_out(w, x):  # (most do; the exact solve is for the rest)
                self.fits[w] = seen
                continue
            pb.enforced[w] = True
            try:
                h, _ = pb.highs(self.job, pb.mentor_cols(w), x, integer=True)
            finally:
                pb.enforced[w] = False
            h.setOptionValue("time_limit", 1.0)
            h.run()
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kInfeasible:
                failed[w] = True
            elif status == highspy.HighsModelStatus.kOptimal:
                self.fits[w] = seen
        return failed

    def sub_mip(self, free: npt.NDArray[np.bool_], start: FloatArray, limit: float,
                how: str, depth: int = 0) -> None:
        """Solve the model with the columns outside ``free`` fixed at ``start``."""
        import highspy

        if limit <= 0.05:
            return
        pb = self.pb
        fixed = np.round(start)
        hm, sub = pb.highs(self.job, np.flatnonzero(free), fixed, integer=True,
                           cost=self.cost)
        if len(sub) == 0:  # an integral LP point (with cuts): nothing to solve (HiGHS would
            self.offer(fixed, how, depth)  # call the empty model solved without a solution)
            return
        hm.setOptionValue("time_limit", limit)
        if self.best is not None:
            sol = highspy.HighsSolution()
            sol.col_value = self.best[sub].tolist()
            hm.setSolution(sol)
        hm.run()
        if _has_solution(hm):
            self.offer(_values(hm, sub, pb.n_cols, fixed), how, depth)

    def around(self, x: FloatArray, what: str, share: float = 0.5) -> None:
        """Fix and solve: students ``x`` places integrally stay; the others are solved (in at
        most ``share`` of the time left)."""
        self.state.note(phase=f"fix and solve ({what})")
        self.sub_mip(_fixing(self.pb, x), x, share * _time_left(self.deadline),
                     f"fix and solve ({what})")

    def around_lp(self, x: FloatArray, share: float = 0.5) -> None:
        """Fix and solve around the LP point, then once more with everyone at a workstation
        a fractional student touches freed too: when the first found nothing, or before a
        proof (the demo: its start 4,847 instead of 4,850, proven 0.5 s sooner). Not before
        neighbourhoods: at tier L it took 20 s and found nothing better, while neighbourhoods
        (some where the LP point and the allocation differ) gain in that time. The first
        takes at most ``share`` of the time left; the second at most 0.4 (or ``share`` when
        the first found nothing)."""
        self.around(x, "LP", share)
        if self.best is not None and self.pb.n_cols > FULL_MIP_COLUMNS:
            return
        frac = np.abs(x - np.round(x)) > EPS
        refs = [x] if self.best is None else [x, self.best]
        self.sub_mip(_around(self.pb, refs, _touched_stations(self.pb, frac)),
                     x if self.best is None else self.best,
                     (share if self.best is None else 0.4) * _time_left(self.deadline),
                     "fix and solve (LP, +1)")

    def take_start(self) -> bool:
        """The parent's newest allocation, if it wrote one since the last look (start and
        mentor counts, which it leaves at 0, are solved here with everything else fixed)."""
        path = self.work / "start.npz"
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return False
        if stamp == getattr(self, "_start_stamp", None):
            return False
        self._start_stamp = stamp
        with np.load(path) as got:
            x = np.asarray(got["x"])
            what = str(got["what"]) if "what" in got.files else "the parent's allocation"
        free = (self.pb.kind == SPLIT) | (self.pb.kind == MENTOR)
        if free.any():
            self.sub_mip(free, x, 0.2 * _time_left(self.deadline), what)
        else:
            self.offer(x, what)
        return True

    def wait_for_start(self, most: float = 60.0) -> None:
        """Wait (up to ``most`` seconds) for an allocation from the parent."""
        until = min(time.time() + most, self.deadline - 1.0)
        while time.time() < until and not self.take_start():
            time.sleep(0.1)

    def proof_or_neighbourhoods(self, x: FloatArray) -> None:
        """Phase 4: the whole model when small (a proof), else neighbourhoods."""
        import highspy

        pb, state = self.pb, self.state
        if pb.n_cols > FULL_MIP_COLUMNS or _time_left(self.deadline) <= 0.05:
            self.neighbourhoods([x])
            return
        state.note(phase="proof")
        hm, every = pb.highs(self.job, integer=True, cost=self.cost)
        if state.info["placed_ub"] is not None:
            ones = np.ones(len(pb.placed_cols))
            hm.addRow(float(state.info["placed_ub"]), float(state.info["placed_ub"]),
                      len(pb.placed_cols), pb.placed_cols.astype(np.int32), ones)
        hm.setOptionValue("time_limit", max(0.01, _time_left(self.deadline)))
        if self.best is not None:
            sol = highspy.HighsSolution()
            sol.col_value = self.best.tolist()
            hm.setSolution(sol)
        hm.run()
        if _has_solution(hm):
            self.offer(_values(hm, every, pb.n_cols, None), "branch and cut")
        bound = hm.getInfo().mip_dual_bound
        if math.isfinite(bound) and state.info["placed_ub"] is not None:
            lb = math.ceil(bound + float(self.job["placed_weight"]) * state.info["placed_ub"]
                           - EPS)
            if lb > (state.info["rank_lb"] or -math.inf):
                state.note(rank_lb=lb)

    def neighbourhoods(self, refs: list[FloatArray], until: float | None = None) -> None:
        """Re-solve neighbourhoods of the best allocation until ``until`` (or the deadline)."""
        if self.best is None:
            return
        pb, state = self.pb, self.state
        end = self.deadline if until is None else min(until, self.deadline)
        state.note(phase="neighbourhoods")
        rng = np.random.default_rng(int(self.job["seed"]) + int(state.info.get("tried", 0)))
        size = int(state.info.get("size", NEIGHBOURHOOD_STATIONS))
        while end - time.time() > 0.5 and not state.info["proven"]:
            self.take_start()
            if not refs and (self.work / "lp.npz").is_file():
                with np.load(self.work / "lp.npz") as got:
                    refs = [np.asarray(got["x"])]  # the LP point: its students are free too
            wants = _wants(pb, self.best)
            differ = _differ(pb, self.best, refs[0]) if refs and state.info.get(
                "tried", 0) % 2 == 0 else {}
            seed_ws = _pick_seed(differ or wants, rng)
            if seed_ws < 0:
                break
            # Where the LP differs, grow along the students the LP splits or moves (an island
            # of the LP point, as fix and solve would take it); else along wanted moves.
            ball = _ball(_links(pb, self.best, refs[0]) if differ else wants, seed_ws, size,
                         pb.n_ws)
            before = pb.rank(self.best)
            t_sub = time.time()
            self.sub_mip(_around(pb, [self.best, *refs], ball), self.best,
                         min(NEIGHBOURHOOD_SECONDS, end - time.time() - 0.3),
                         f"neighbourhood of {int(ball.sum())}")
            # Grow while they solve fast and find nothing; shrink when they run long.
            if time.time() - t_sub > 0.5 * NEIGHBOURHOOD_SECONDS:
                size = max(4, size // 2)
            elif pb.rank(self.best) == before:
                size = min(NEIGHBOURHOOD_GROWTH * NEIGHBOURHOOD_STATIONS, size + 4)
            state.info["tried"] = int(state.info.get("tried", 0)) + 1
            state.info["size"] = size
        state.note()


def _student_cols(pb: _Problem, students: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Columns of the given students (their ``ONE`` rows' entries)."""
    rows = np.zeros(pb.n_rows, dtype=bool)
    rows[pb.one_rows] = students
    mask = np.zeros(pb.n_cols, dtype=bool)
    mask[pb.row_col[rows[pb.row_of]]] = True
    return mask


def _around(pb: _Problem, refs: list[FloatArray], stations: npt.NDArray[np.bool_], *,
            only_fractional: bool = False) -> npt.NDArray[np.bool_]:
    """Columns a neighbourhood frees: every column of the students some reference places (any
    amount) at one of ``stations``, and the off-list, start and mentor counts there.

    With ``only_fractional``, only the students a reference places fractionally, and those at
    workstations where a count is fractional (their integer counts may need them moved)."""
    listed = (pb.kind == LISTED) & (pb.ws >= 0)
    counts = (pb.kind >= CLASS) & (pb.ws >= 0)
    rows = np.zeros(pb.n_rows, dtype=bool)
    for x in refs:
        on = x > EPS
        if only_fractional:
            frac = np.abs(x - np.round(x)) > EPS
            split = np.zeros(pb.n_ws, dtype=bool)
            split[pb.ws[frac & counts]] = True
            at = np.zeros(pb.n_cols, dtype=bool)
            at[listed] = split[pb.ws[listed]]
            on &= frac | at
        else:
            at = np.zeros(pb.n_cols, dtype=bool)
            at[listed] = stations[pb.ws[listed]]
            on &= at
        rows[pb.row_of[on[pb.row_col]]] = True
    free = _student_cols(pb, rows[pb.one_rows])
    free[counts] |= stations[pb.ws[counts]]
    return free


def _fixing(pb: _Problem, x: FloatArray) -> npt.NDArray[np.bool_]:
    """The columns fix and solve around ``x`` frees (the rest stay as ``x`` has them)."""
    frac = np.abs(x - np.round(x)) > EPS
    return _around(pb, [x], _touched_stations(pb, frac), only_fractional=True)


def _touched_stations(pb: _Problem, frac: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Workstations with a fractional column."""
    mask = np.zeros(pb.n_ws, dtype=bool)
    w = pb.ws[frac]
    mask[w[w >= 0]] = True
    return mask


def _wants(pb: _Problem, best: FloatArray) -> dict[int, set[int]]:
    """Workstation -> workstations its students (in ``best``) rank better than their own."""
    listed = pb.listed
    on = listed[best[listed] > 0.5]
    n_s = len(pb.row_of_student)
    rank = np.full(n_s, np.inf)
    home = np.full(n_s, -1, dtype=np.int64)
    rank[pb.student[on]] = pb.cost[on]
    home[pb.student[on]] = pb.ws[on]
    who = pb.student[listed]
    better = listed[(pb.cost[listed] < rank[who]) & (home[who] >= 0)]
    pairs = np.unique(np.stack([home[pb.student[better]], pb.ws[better]], axis=1), axis=0)
    out: dict[int, set[int]] = {}
    for a_ws, b_ws in pairs.tolist():
        out.setdefault(a_ws, set()).add(b_ws)
    return out


def _differ(pb: _Problem, best: FloatArray, ref: FloatArray) -> dict[int, set[int]]:
    """Workstation -> the students placed there by exactly one of ``best`` and the LP point
    ``ref`` (where a neighbourhood is most likely to gain: the LP's choices differ)."""
    listed = pb.listed
    diff = listed[(best[listed] > 0.5) != (ref[listed] > 0.5)]
    out: dict[int, set[int]] = {}
    for w, i in zip(pb.ws[diff].tolist(), pb.student[diff].tolist(), strict=True):
        out.setdefault(w, set()).add(i)
    return out


def _links(pb: _Problem, best: FloatArray, ref: FloatArray) -> dict[int, set[int]]:
    """Workstation -> workstations sharing a student with it: placed at one in ``best`` and
    (partly) at the other in the LP point ``ref``, or split by the LP between both."""
    listed = pb.listed
    on = listed[(best[listed] > 0.5) | (ref[listed] > EPS)]
    order = np.lexsort((pb.ws[on], pb.student[on]))
    who, where = pb.student[on][order], pb.ws[on][order]
    same = who[1:] == who[:-1]
    a, b = where[:-1][same], where[1:][same]
    out: dict[int, set[int]] = {}
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if x != y:
            out.setdefault(x, set()).add(y)
            out.setdefault(y, set()).add(x)
    return out


def _pick_seed(weights: dict[int, set[int]], rng: np.random.Generator) -> int:
    """A workstation to grow a neighbourhood from, chosen at random (by the job's seed) with
    weight the size of its set (students that want to move, or that differ from the LP)."""
    if not weights:
        return -1
    keys = sorted(weights)
    weight = np.array([len(weights[k]) for k in keys], dtype=np.float64)
    return int(keys[rng.choice(len(keys), p=weight / weight.sum())])


def _ball(wants: dict[int, set[int]], seed: int, size: int, n_ws: int) -> npt.NDArray[np.bool_]:
    """Up to ``size`` workstations reached from ``seed`` along wanted moves, breadth first."""
    mask = np.zeros(n_ws, dtype=bool)
    order = [seed]
    mask[seed] = True
    k = 0
    while k < len(order) and len(order) < size:
        for w in sorted(wants.get(order[k], ())):
            if not mask[w]:
                mask[w] = True
                order.append(w)
                if len(order) >= size:
                    break
        k += 1
    return mask


if __name__ == "__main__":
    run(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "both")
