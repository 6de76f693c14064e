"""The slot model inside its HiGHS helper: its arrays, HiGHS models of parts of it, the LP.

:class:`SlotProblem` holds the model's arrays (``model.npz``: the arrays of a
:class:`~matcher.solvers.slots.SlotModel`) with the indexes every phase needs, and builds a
HiGHS model of any set of its columns, the others fixed; :class:`Master` is the LP relaxation
over an active set of columns, grown by pricing; :class:`State` is what the parent reads.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .common import (
    CLOCK,
    LAZY,
    LISTED,
    MENTOR,
    OFF,
    ONE,
    FloatArray,
    IntArray,
    configure,
    ranges,
    time_left,
)

COLD_SHARE = 0.1
COLD_COLUMNS = 5_000
"""The LP is solved afresh when more than this share of its columns, and more than this
many, join at once (small LPs keep their basis: no fresh solve to pay for, and no risk of
going round between vertices)."""
PRICE_SECONDS_PER_ENTRY = 2e-8
"""Deterministic cost model: pricing every column (and adding those that join), per model
entry."""
ZERO_HALF_ENTRIES = 5_000
"""Rows with more entries (the placed count) are left out of {0, 1/2}-cuts: a cut through
one would be as dense."""


class State:
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
        self.info["seconds"] = round(CLOCK.now() - self.started, 3)
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
        self.info["events"].append(f"{CLOCK.now() - self.started:.2f}s {text}")
        self.note()

    def best(self, x: FloatArray, placed: int, rank: int) -> None:
        stem = "best" if self.name == "state.json" else "best_search"
        tmp = self.work / f"{stem}.tmp.npz"
        np.savez(tmp, x=x)
        os.replace(tmp, self.work / f"{stem}.npz")
        self.note(best_rank=rank, best_placed=placed)


class SlotProblem:
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
        ent = ranges(self.row_start[model], self.row_start[model + 1])
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
        configure(h, job)
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
            r_idx = np.unique(self.csc_rows[ranges(self.csc_start[keep],
                                                    self.csc_start[keep + 1])])
        ent = ranges(self.row_start[r_idx], self.row_start[r_idx + 1])
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


class Master:
    """The LP relaxation over an active set of columns, grown by pricing (column generation).

    Starts from the columns the parent found cheap at its flow prices (``job["active"]``).
    After each solve, every inactive column is priced with the row duals; those with a
    negative reduced cost join and the LP is solved again, until none is left: the value is
    then the LP's over all columns. Rows (the model's and the extra ones: the placed count, the
    cuts) always span every column.
    """

    def __init__(self, pb: SlotProblem, job: dict[str, Any], active: npt.NDArray[np.bool_],
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
        CLOCK.charge(PRICE_SECONDS_PER_ENTRY * len(pb.row_col))
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
            if not solve_lp(self.h, deadline):
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


def values(h: Any, keep: IntArray, n_cols: int, fixed: FloatArray | None) -> FloatArray:
    """The full column vector of a solved (sub)model of the columns ``keep``."""
    x = np.zeros(n_cols) if fixed is None else fixed.copy()
    x[keep] = np.asarray(h.getSolution().col_value, dtype=np.float64)
    return x




def indicator(n: int, cols: IntArray) -> FloatArray:
    out = np.zeros(n)
    out[cols] = 1.0
    return out


def solve_lp(h: Any, deadline: float) -> bool:
    """Solve an LP within the deadline (on the helper's clock); whether it is optimal."""
    import highspy

    CLOCK.run(h, time_left(deadline))
    return bool(h.getModelStatus() == highspy.HighsModelStatus.kOptimal)


