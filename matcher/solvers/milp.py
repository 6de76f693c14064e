"""The cross-check solver: the whole allocation as a MILP, solved exactly by HiGHS, level by level.

It exists to cross-check ``cpsat`` with a second, independent engine: the same problem, the same
lexicographic objective, a different solver technology (LP-based branch and cut).

Formulation
    The aggregated model described in the docstring of :mod:`matcher.solvers.cpsat` (start
    groups ``a = (w, d, n, first, last, mlock)``, mentor pools ``(w, d, k, n)``, supervisor groups
    ``q``; variables ``y``, ``ovf``, ``o``, ``z``, ``g``, ``h``, ``r``; why the aggregation is
    exact), written here with its own code as a mixed-integer *linear* program:

    * ``y[i,w]``, ``ovf[i]`` binary; ``o``, ``z``, ``g``, ``h``, ``r`` integer in ``[0, ub]``;
    * one placement per student: ``sum y[i,.] + ovf[i] <= 1`` (``= 1`` for a locked student);
    * class links: ``sum_{i in c} ovf[i] = sum_w o[c,w]``;
    * start split: ``sum_k z[a,k] = sum(members of a)``;
    * capacities: ``sum_{(a,k): a.w = w, t in cov(k, n)} z[a,k] <= cap[w,t]``; pool split
      ``sum_m g[p,m] = sum(z of p)``; ``sum g[.,m] + z(locked to m) <= cap[m]`` per term;
      group split ``sum_s h[q,s] = placed(q)``; ``sum_q h[q,s] <= cap[s]``;
    * rewarded pairs: ``sum r[a,k,...] <= z[a,k]``, ``sum r[a,.,q,...] <= members of a in q``,
      ``sum r[...,m] <= g[p,m]``, ``sum r[q,s,...] <= h[q,s]``.

    Where a split has a single term (one start, one mentor, one supervisor) no variable is made:
    the sum itself is used. Levels: 1. maximise placed; 2. fix it, minimise the rank cost;
    3. fix both, maximise the (scaled) pair weight. Every objective has integer coefficients on
    integer variables, so HiGHS may stop at an absolute gap below 1 (``mip_abs_gap = 0.999``) and
    a level counts as proven only when the rounded dual bound meets the objective.

Why highspy, and why in a helper process
    OR-Tools 9.15 bundles HiGHS 1.12 and reaches it through ``pywraplp`` / ``model_builder``
    (``"HIGHS"``). That wrapper is fine for proving an optimum but not for a time-limited run:
    when the time limit stops the search it returns NOT_SOLVED and drops the incumbent (measured
    here), it reports the objective value itself as the "best bound" (it never reads HiGHS's
    dual bound), and it does not accept HiGHS options such as the random seed. A cut-short run
    could then give neither its allocation nor a proven bound. HiGHS's own Python API,
    ``highspy``, gives all three (incumbent, ``mip_dual_bound``, options), but it cannot share a
    process with OR-Tools: their HiGHS symbols clash and the process crashes. The library, the
    CLI and the tests may well have loaded OR-Tools (``cpsat``) already, so every HiGHS solve
    runs in a fresh helper process (``python -c``) that imports only numpy and highspy. The model
    is built here as plain arrays and handed over in a temporary ``.npz`` file; the helper writes
    each level's outcome as soon as it has it, so a level cut short (or a killed helper) still
    leaves the previous level's allocation.

Status: OPTIMAL when levels 1 and 2 are proven (level 3, the pair weight, is reported in the
stats as ``pair_weight_proven`` and its bound); FEASIBLE with ``placed_upper_bound`` and
``rank_cost_lower_bound`` from the dual bounds (rounded inwards: floor for the maximisation,
ceil for the minimisation) when a time limit stopped a level; INFEASIBLE when the locks cannot
all be honoured (a deletion filter names a conflicting set); UNKNOWN when nothing was found.
The time limit covers all levels (level 1 may use half of it, level 2 most of what is left);
the seed is HiGHS's ``random_seed`` and ``workers`` its ``threads``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import json
import math
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ..encoding import PAIR_SCALE, Encoded, encode
from ..model import Problem
from ..model.result import Result, Status
from .aggregate import GroupKey, PoolKey, StartKey, assign, default_key, group_of, span_of
from .base import Choice, SolverConfig, build_result, lock_rows
from .greedy import serial_dictatorship

NAME = "milp"

_T = TypeVar("_T")

Expr = list[tuple[int, float]]  # a linear expression: (column, coefficient) terms

_ABS_GAP = 0.999  # integer objectives: a gap below 1 is a proof
HIGHS_OPTIONS: dict[str, Any] = {"presolve": "off",
                                 "mip_heuristic_run_root_reduced_cost": False}
"""Extra HiGHS options for :func:`refine_levels` (name -> value). Presolve off: on the demo it
proved level 2 in 19.8 s against 25.1 s with presolve (same run). The root reduced-cost
heuristic off: its sub-MIP delays the cuts and finds nothing there; on the demo, level 2 from
the same start took 9.2-21.5 s (mean 14.8) without it against 18.2-28.5 s (mean 22.1) with it,
seeds 0-4 (and 6.0-17.3 s, mean 9.7, against 11.6-35.5 s, mean 17.0, with the equality rows of
:func:`build_model`)."""
LEVEL2_SHARE = 0.8
"""Share of :func:`refine_levels`' time for level 2 when level 3 follows (level 2 decides the
status; the demo needs about 5-15 s of a minute for it)."""
RELAX_WEIGHT = 1000
"""Reward per placed student in :func:`relax`'s objective (at least ``K + 2``). Any value gives
a valid bound; a large one makes simplex settle the placements first, which is much faster
(tier M: 14 s with 1000, 29 s with 100, 45 s with 12) and the bound is the same as long as the
allocation places as many as the relaxation."""


def relax_weight(enc: Encoded) -> int:
    """The reward per placed student of the relaxations: :data:`RELAX_WEIGHT`, at least
    ``K + 2`` (so placing one more always beats any rank cost a student can add)."""
    return max(RELAX_WEIGHT, enc.max_list + 2)


_OTHER = -2  # off-list class key: a given supervisor in no modelled rewarded pair
_GRACE_S = 30.0  # how long past the deadline the helper may run before it is killed
_ASSIST_GRACE_S = 2.0  # the same for lower_rank_cost: the exact solver has later stages to run
_STAGE_SHARE = {1: (1.0,), 2: (0.5, 1.0), 3: (0.5, 0.7, 1.0)}  # share of the time left per level


# ---- a small sparse MILP builder ------------------------------------------------------------
@dataclass
class _Lp:
    """Columns and rows of a MILP, kept as plain lists (rows in compressed sparse row form)."""

    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    row_lo: list[float] = field(default_factory=list)
    row_hi: list[float] = field(default_factory=list)
    row_start: list[int] = field(default_factory=lambda: [0])
    row_idx: list[int] = field(default_factory=list)
    row_val: list[float] = field(default_factory=list)

    def var(self, ub: float, *, integer: bool = True) -> int:
        """A new column in ``[0, ub]``; returns its index."""
        self.lb.append(0.0)
        self.ub.append(float(ub))
        self.integer.append(integer)
        return len(self.ub) - 1

    def bound(self, expr: Expr) -> float:
        """The largest value ``expr`` can take within the column bounds."""
        return sum(c * (self.ub[j] if c > 0 else self.lb[j]) for j, c in expr)

    def row(self, expr: Expr, lo: float, hi: float) -> int:
        """Add ``lo <= expr <= hi`` (repeated columns merged); returns the row index."""
        merged: dict[int, float] = defaultdict(float)
        for j, c in expr:
            merged[j] += c
        for j in sorted(merged):
            if merged[j] != 0:
                self.row_idx.append(j)
                self.row_val.append(merged[j])
        self.row_lo.append(lo)
        self.row_hi.append(hi)
        self.row_start.append(len(self.row_idx))
        return len(self.row_lo) - 1

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.ub)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.row_lo)


def _neg(expr: Expr) -> Expr:
    return [(j, -c) for j, c in expr]


def _value(x: npt.NDArray[np.float64], expr: Expr) -> int:
    return round(sum(c * x[j] for j, c in expr))


# ---- the model ------------------------------------------------------------------------------
@dataclass
class _Milp:
    """The MILP with handles to its columns (see the module docstring for the notation)."""

    enc: Encoded
    lp: _Lp = field(default_factory=_Lp)
    y: dict[tuple[int, int], int] = field(default_factory=dict)
    ovf: dict[int, int] = field(default_factory=dict)
    classes: list[tuple[tuple[int, ...], list[int]]] = field(default_factory=list)
    o: dict[tuple[int, int], int] = field(default_factory=dict)  # (class, w)
    members: dict[StartKey, list[tuple[int, GroupKey]]] = field(default_factory=dict)
    z: dict[tuple[StartKey, int], Expr] = field(default_factory=dict)
    g: dict[tuple[PoolKey, int], Expr] = field(default_factory=dict)
    h: dict[tuple[GroupKey, int], Expr] = field(default_factory=dict)
    # Columns made for splits (the other z/g/h entries are sums of other columns).
    z_col: dict[tuple[StartKey, int], int] = field(default_factory=dict)
    g_col: dict[tuple[PoolKey, int], int] = field(default_factory=dict)
    h_col: dict[tuple[GroupKey, int], int] = field(default_factory=dict)
    r: dict[tuple[StartKey, int, GroupKey, int, int], int] = field(default_factory=dict)
    placed_cols: dict[int, list[int]] = field(default_factory=dict)
    lock_rows: dict[int, int] = field(default_factory=dict)
    # Capacity rows by what they limit: ("w", w, t), ("m", m, t), ("s", s, -1).
    cap_rows: dict[tuple[str, int, int], int] = field(default_factory=dict)
    every_limit: bool = False  # a row for every limit, also where it cannot bind
    placed: Expr = field(default_factory=list)
    rank_cost: Expr = field(default_factory=list)
    pair_weight: Expr = field(default_factory=list)


def _add_choices(mdl: _Milp, pairs: bool) -> None:
    """``y`` for listed (or locked) stations that fit; off-list classes ``ovf`` and ``o``.

    A given supervisor splits a class only when rewarded pairs are modelled (``pairs``) and the
    supervisor is in one: otherwise it does not change which off-list places the students share.
    """
    enc, lp = mdl.enc, mdl.lp
    class_members: dict[tuple[int, ...], list[int]] = defaultdict(list)
    paired = {s for s, _m, _w in enc.pairs} if pairs and enc.use_pairs else set()
    for i in range(enc.n_students):
        stations = sorted({w for w, _k in enc.options(i)})
        locked = enc.st_lock[i] is not None
        for w in stations:
            if locked or w in enc.rank_of[i]:
                mdl.y[i, w] = lp.var(1)
        if not locked and not enc.preferences_only and any(
                w not in enc.rank_of[i] for w in stations):
            sup = enc.st_sup[i]
            class_members[(*enc.profile(i), sup if sup < 0 or sup in paired else _OTHER)].append(i)
    for c, key in enumerate(sorted(class_members)):
        members = class_members[key]
        mdl.classes.append((key, members))
        for i in members:
            mdl.ovf[i] = lp.var(1)
        u, d, n, first, last = key[:5]
        for w in enc.profile_starts((u, d, n, first, last)):
            mdl.o[c, w] = lp.var(len(members))
    cols: dict[int, list[int]] = defaultdict(list)
    for (i, _w), j in mdl.y.items():
        cols[i].append(j)
    for i, j in mdl.ovf.items():
        cols[i].append(j)
    mdl.placed_cols = dict(sorted(cols.items()))


def _add_one_placement(mdl: _Milp, everyone: bool) -> None:
    """At most one option per student; exactly one for a locked student (a lock row), and for
    every student when ``everyone`` is placed."""
    for i, cols in mdl.placed_cols.items():
        expr = [(j, 1.0) for j in cols]
        if mdl.enc.st_lock[i] is not None:
            mdl.lock_rows[i] = mdl.lp.row(expr, 1, 1)
        elif len(cols) > 1:
            mdl.lp.row(expr, 1 if everyone else -math.inf, 1)
        elif everyone:
            mdl.lp.lb[cols[0]] = 1.0


def _add_class_links(mdl: _Milp) -> None:
    """A class's off-list students are exactly the off-list places it takes."""
    by_class: dict[int, list[int]] = defaultdict(list)
    for (c, _w), j in mdl.o.items():
        by_class[c].append(j)
    for c, (_key, members) in enumerate(mdl.classes):
        expr = [(mdl.ovf[i], 1.0) for i in members] + [(j, -1.0) for j in by_class[c]]
        mdl.lp.row(expr, 0, 0)


def _add_starts(mdl: _Milp) -> None:
    """Split each start group's members over the starts that fit its window."""
    enc, lp = mdl.enc, mdl.lp
    members: dict[StartKey, list[tuple[int, GroupKey]]] = defaultdict(list)
    for (i, w), j in mdl.y.items():
        first, last, mlock = span_of(enc, i)
        members[w, enc.st_disc[i], enc.st_block[i], first, last, mlock].append(
            (j, group_of(enc, i)))
    for (c, w), j in mdl.o.items():
        u, d, n, first, last, sup = mdl.classes[c][0]
        grp: GroupKey = ("free", u, d) if sup == -1 else ("given", sup, -1)
        members[w, d, n, first, last, -1].append((j, grp))
    mdl.members = dict(sorted(members.items()))
    for a, items in mdl.members.items():
        w, _d, n, first, last, _m = a
        total: Expr = [(j, 1.0) for j, _ in items]
        starts = enc.starts(w, n, first, last)
        if len(starts) == 1:
            mdl.z[a, starts[0]] = total
            continue
        ub = lp.bound(total)
        split = {k: lp.var(ub) for k in starts}
        lp.row([(j, 1.0) for j in split.values()] + _neg(total), 0, 0)
        for k, j in split.items():
            mdl.z[a, k] = [(j, 1.0)]
            mdl.z_col[a, k] = j


def _add_workstation_capacity(mdl: _Milp) -> None:
    """Per workstation and term, at most its capacity (rows only where they can bind)."""
    enc, lp = mdl.enc, mdl.lp
    load: dict[tuple[int, int], Expr] = defaultdict(list)
    for (a, k), expr in mdl.z.items():
        for t in enc.covers(k, a[2]):
            load[a[0], t].extend(expr)
    for (w, t), expr in sorted(load.items()):
        if mdl.every_limit or lp.bound(expr) > enc.ws_cap[w][t]:
            mdl.cap_rows["w", w, t] = lp.row(expr, -math.inf, enc.ws_cap[w][t])


def _add_mentor_capacity(mdl: _Milp) -> None:
    """Split each mentor pool among its mentors; per mentor and term, at most its capacity."""
    enc, lp = mdl.enc, mdl.lp
    load: dict[tuple[int, int], Expr] = defaultdict(list)
    pools: dict[PoolKey, Expr] = defaultdict(list)
    for (a, k), expr in mdl.z.items():
        w, d, n, _first, _last, mlock = a
        if mlock >= 0:
            for t in enc.covers(k, n):
                load[mlock, t].extend(expr)
        else:
            pools[w, d, k, n].extend(expr)
    for key in sorted(pools):
        w, d, k, n = key
        mentors = enc.mentors_for(w, d)
        if len(mentors) == 1:
            mdl.g[key, mentors[0]] = pools[key]
        else:
            ub = lp.bound(pools[key])
            split = {m: lp.var(min(ub, enc.m_cap[m])) for m in mentors}
            lp.row([(j, 1.0) for j in split.values()] + _neg(pools[key]), 0, 0)
            for m, j in split.items():
                mdl.g[key, m] = [(j, 1.0)]
                mdl.g_col[key, m] = j
        for m in mentors:
            for t in enc.covers(k, n):
                load[m, t].extend(mdl.g[key, m])
    for (m, t), expr in sorted(load.items()):
        if mdl.every_limit or lp.bound(expr) > enc.m_cap[m]:
            mdl.cap_rows["m", m, t] = lp.row(expr, -math.inf, enc.m_cap[m])


def _add_supervisor_capacity(mdl: _Milp) -> None:
    """Split each supervisor group's placed students among its supervisors, within capacity."""
    enc, lp = mdl.enc, mdl.lp
    groups: dict[GroupKey, list[int]] = defaultdict(list)
    for i in mdl.placed_cols:
        groups[group_of(enc, i)].append(i)
    load: dict[int, Expr] = defaultdict(list)
    for key in sorted(groups):
        members = groups[key]
        count: Expr = [(j, 1.0) for i in members for j in mdl.placed_cols[i]]
        sups = enc.supervisors_for(members[0])
        if len(sups) == 1:
            mdl.h[key, sups[0]] = count
        else:
            split = {s: lp.var(min(len(members), enc.s_cap[s])) for s in sups}
            lp.row([(j, 1.0) for j in split.values()] + _neg(count), 0, 0)
            for s, j in split.items():
                mdl.h[key, s] = [(j, 1.0)]
                mdl.h_col[key, s] = j
        for s in sups:
            load[s].extend(mdl.h[key, s])
    for s, expr in sorted(load.items()):
        if mdl.every_limit or lp.bound(expr) > enc.s_cap[s]:
            mdl.cap_rows["s", s, -1] = lp.row(expr, -math.inf, enc.s_cap[s])


def _add_pairs(mdl: _Milp) -> None:
    """Rewarded pairs per (start group, start, supervisor group), within every count they use."""
    enc, lp = mdl.enc, mdl.lp
    if not enc.use_pairs:
        return
    by_mentor: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for s, m, wgt in enc.pairs:
        by_mentor[m].append((s, wgt))
    per_cell: dict[tuple[StartKey, int], Expr] = defaultdict(list)
    per_group: dict[tuple[StartKey, GroupKey], Expr] = defaultdict(list)
    per_mentor: dict[tuple[PoolKey, int], Expr] = defaultdict(list)
    per_sup: dict[tuple[GroupKey, int], Expr] = defaultdict(list)
    for a, items in mdl.members.items():
        w, d, n, first, last, mlock = a
        size: dict[GroupKey, float] = defaultdict(float)
        for j, grp in items:
            size[grp] += lp.ub[j]
        mentors = [mlock] if mlock >= 0 else enc.mentors_for(w, d)
        for k in enc.starts(w, n, first, last):
            for grp in sorted(size):
                for m in mentors:
                    for s, wgt in by_mentor.get(m, []):
                        if grp[0] == "given" and grp[1] != s:
                            continue
                        if grp[0] == "free" and (enc.s_univ[s] != grp[1] or d not in
                                                 enc.s_disc[s] or enc.s_cap[s] <= 0):
                            continue
                        j = lp.var(min(size[grp], enc.m_cap[m], enc.s_cap[s]))
                        mdl.r[a, k, grp, s, m] = j
                        mdl.pair_weight.append((j, float(wgt)))
                        per_cell[a, k].append((j, 1.0))
                        per_group[a, grp].append((j, 1.0))
                        if mlock < 0:
                            per_mentor[(w, d, k, n), m].append((j, 1.0))
                        if grp[0] == "free":
                            per_sup[grp, s].append((j, 1.0))
    for (a, k), expr in per_cell.items():
        lp.row(expr + _neg(mdl.z[a, k]), -math.inf, 0)
    for (a, grp), expr in per_group.items():
        lp.row(expr + [(j, -1.0) for j, g in mdl.members[a] if g == grp], -math.inf, 0)
    for (pool, m), expr in per_mentor.items():
        lp.row(expr + _neg(mdl.g[pool, m]), -math.inf, 0)
    for (grp, s), expr in per_sup.items():
        lp.row(expr + _neg(mdl.h[grp, s]), -math.inf, 0)


def build_model(enc: Encoded, *, pairs: bool = True, placed: int | None = None,
                every_limit: bool = False) -> _Milp:
    """Build the full MILP (columns, rows and the three objective vectors) of a problem.

    ``pairs=False`` leaves out the rewarded-pair columns (level 3), for solves of levels 1-2.
    ``placed``: exactly that many placed (level 1 fixed). When that is every student with an
    option, each student's own row says so (an equality) instead of one row over all the
    placement columns: the same integer points, but the dense row slows every LP, and on the
    demo HiGHS proved level 2 in a median 8.8 s (seeds 0-6) against 13.3 s with it (seeds
    0-4), from the same start and options.
    ``every_limit``: a capacity row for every limit, also where it cannot bind (so that each
    can be priced instead, :func:`priced_lp`); ``cap_rows`` names them.
    """
    mdl = _Milp(enc, every_limit=every_limit)
    _add_choices(mdl, pairs)
    everyone = placed is not None and placed == len(mdl.placed_cols)
    _add_one_placement(mdl, everyone)
    _add_class_links(mdl)
    _add_starts(mdl)
    _add_workstation_capacity(mdl)
    _add_mentor_capacity(mdl)
    _add_supervisor_capacity(mdl)
    if pairs:
        _add_pairs(mdl)
    mdl.placed = [(j, 1.0) for cols in mdl.placed_cols.values() for j in cols]
    if placed is not None and not everyone:
        mdl.lp.row(mdl.placed, placed, placed)
    mdl.rank_cost = [(j, float(enc.cost(i, w))) for (i, w), j in mdl.y.items()]
    mdl.rank_cost += [(j, float(enc.max_list + 1)) for j in mdl.ovf.values()]
    return mdl


def hint_from_choices(mdl: _Milp, chosen: dict[int, Choice]) -> npt.NDArray[np.float64]:
    """Column values of a per-student allocation (e.g. the greedy one) in this model."""
    enc = mdl.enc
    x = np.zeros(mdl.lp.n_cols)
    class_of = {i: c for c, (_key, members) in enumerate(mdl.classes) for i in members}
    for i, (w, m, s, k) in chosen.items():
        first, last, mlock = span_of(enc, i)
        if (i, w) in mdl.y:
            x[mdl.y[i, w]] += 1
        else:
            x[mdl.ovf[i]] += 1
            x[mdl.o[class_of[i], w]] += 1
        a = (w, enc.st_disc[i], enc.st_block[i], first, last, mlock)
        if (a, k) in mdl.z_col:
            x[mdl.z_col[a, k]] += 1
        pool = (w, enc.st_disc[i], k, enc.st_block[i])
        if mlock < 0 and (pool, m) in mdl.g_col:
            x[mdl.g_col[pool, m]] += 1
        if (group_of(enc, i), s) in mdl.h_col:
            x[mdl.h_col[group_of(enc, i), s]] += 1
    return x


def violated_rows(lp: _Lp, x: npt.NDArray[np.float64], tol: float = 1e-6) -> list[int]:
    """Rows (and, as ``-1 - column``, column bounds) that ``x`` breaks; empty when feasible."""
    return _violations(np.asarray(lp.lb), np.asarray(lp.ub), np.asarray(lp.row_lo),
                       np.asarray(lp.row_hi), np.asarray(lp.row_start), np.asarray(lp.row_idx),
                       np.asarray(lp.row_val), x, tol)


def _violations(lb: Any, ub: Any, row_lo: Any, row_hi: Any, row_start: Any, row_idx: Any,
                row_val: Any, x: Any, tol: float) -> list[int]:
    n_rows = len(row_lo)
    owner = np.repeat(np.arange(n_rows), np.diff(row_start))
    act = np.bincount(owner, weights=row_val * x[row_idx], minlength=n_rows) if n_rows else (
        np.zeros(0))
    bad_rows = np.flatnonzero((act < row_lo - tol) | (act > row_hi + tol)).tolist()
    bad_cols = np.flatnonzero((x < lb - tol) | (x > ub + tol)).tolist()
    return bad_rows + [-1 - j for j in bad_cols]


def _disaggregate(mdl: _Milp, x: npt.NDArray[np.float64]) -> dict[int, Choice]:
    """One (workstation, mentor, supervisor, start) per student from the aggregated solution."""
    enc = mdl.enc
    station = {i: w for (i, w), j in mdl.y.items() if x[j] > 0.5}
    slots: dict[int, list[int]] = defaultdict(list)
    for (c, w), j in sorted(mdl.o.items()):
        slots[c].extend([w] * round(x[j]))
    for c, (_key, members) in enumerate(mdl.classes):
        off = [i for i in members if x[mdl.ovf[i]] > 0.5]
        for i, w in zip(off, slots[c], strict=True):
            station[i] = w
    return assign(enc, station, lambda i: default_key(enc, station, i),
                  [(key, round(x[j])) for key, j in mdl.r.items()],
                  {key: _value(x, e) for key, e in mdl.z.items()},
                  {key: _value(x, e) for key, e in mdl.g.items()},
                  {key: _value(x, e) for key, e in mdl.h.items()})


# ---- running HiGHS in a helper process ------------------------------------------------------
def _arrays(expr: Expr) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    merged: dict[int, float] = defaultdict(float)
    for j, c in expr:
        merged[j] += c
    keys = sorted(merged)
    return np.array(keys, dtype=np.int32), np.array([merged[j] for j in keys], dtype=np.float64)


@dataclass
class _Stage:
    """What the helper reports for one level."""

    status: str  # HiGHS model status text
    has_solution: bool
    objective: float | None
    dual_bound: float | None
    seconds: float
    x: npt.NDArray[np.float64] | None
    done_at: float | None = None  # time.perf_counter() value when the level finished


def _run_helper(mdl: _Milp, config: SolverConfig, deadline: float, job: dict[str, Any],
                hint: npt.NDArray[np.float64] | None, levels: list[tuple[str, Expr]],
                stop: Callable[[], bool] | None = None, grace: float = _GRACE_S
                ) -> tuple[list[_Stage], dict[str, Any], str]:
    """Run HiGHS on the model in a fresh process; returns the stages, the job output, errors.

    ``stop``, polled while the helper runs, ends it early (e.g. on SIGINT): the levels it
    finished are still returned.
    """
    lp = mdl.lp
    with tempfile.TemporaryDirectory(prefix="matcher-milp-") as tmp:
        work = Path(tmp)
        arrays: dict[str, Any] = {
            "lb": np.asarray(lp.lb), "ub": np.asarray(lp.ub),
            "integer": np.asarray(lp.integer, dtype=bool),
            "row_lo": np.asarray(lp.row_lo), "row_hi": np.asarray(lp.row_hi),
            "row_start": np.asarray(lp.row_start, dtype=np.int64),
            "row_idx": np.asarray(lp.row_idx, dtype=np.int32),
            "row_val": np.asarray(lp.row_val, dtype=np.float64),
        }
        for n, (_sense, expr) in enumerate(levels):
            arrays[f"obj{n}_idx"], arrays[f"obj{n}_val"] = _arrays(expr)
        if hint is not None:
            arrays["hint"] = hint
        np.savez(work / "model.npz", **arrays)
        job = {**job, "senses": [s for s, _ in levels], "deadline": time.time() + (
            deadline - time.perf_counter()), "seed": config.seed,
            "threads": max(1, config.workers), "log": config.log}
        (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
        errors = ""
        with open(work / "stderr.txt", "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-c", _child_program(), str(work)], stderr=err,
                stdout=2 if config.log else subprocess.DEVNULL)
            kill_at = deadline + grace
            try:
                while proc.poll() is None:
                    if stop is not None and stop():
                        proc.kill()
                        errors = "the HiGHS helper process was stopped on request"
                    elif time.perf_counter() > kill_at:
                        proc.kill()
                        errors = "the HiGHS helper process overran its time limit and was stopped"
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=0.05)
            finally:  # an exception here (a signal's, say) must not leave HiGHS running
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if not errors and proc.returncode != 0:
                errors = f"the HiGHS helper process failed (exit {proc.returncode})"
        if errors:
            tail = (work / "stderr.txt").read_text(encoding="utf-8", errors="replace").strip()
            if tail:
                errors += ": " + tail.splitlines()[-1]
        stages: list[_Stage] = []
        for n in range(len(levels)):
            meta_path = work / f"stage{n}.json"
            if not meta_path.is_file():
                break
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            x = np.load(work / f"stage{n}.npy") if meta["has_solution"] else None
            # The helper's wall clock, as this process's perf_counter.
            done_at = meta["finished_at"] - time.time() + time.perf_counter()
            stages.append(_Stage(meta["status"], meta["has_solution"], meta["objective"],
                                 meta["dual_bound"], meta["seconds"], x, done_at))
        out_path = work / "out.json"
        out = json.loads(out_path.read_text(encoding="utf-8")) if out_path.is_file() else {}
        if (work / "relax.npy").is_file():
            out["x"] = np.load(work / "relax.npy")
    return stages, out, errors


def _child_program() -> str:
    """The helper's program: this module's HiGHS code alone, without the matcher package.

    Importing the package (pydantic, pandas) would double the helper's start-up time, which
    dominates small solves; the two functions below need only numpy, highspy and the stdlib.
    """
    return "\n".join([
        "from __future__ import annotations", "import json, math, sys, time",
        "from pathlib import Path", "from typing import Any", "import numpy as np",
        "import numpy.typing as npt", f"_ABS_GAP = {_ABS_GAP!r}",
        f"_STAGE_SHARE = {_STAGE_SHARE!r}", inspect.getsource(_violations),
        inspect.getsource(_highs_child), "_highs_child(sys.argv[1])"])


def _highs_child(workdir: str) -> None:
    """Helper-process entry: solve the levels in ``workdir`` with highspy (never with OR-Tools)."""
    if any(m == "ortools" or m.startswith("ortools.") for m in sys.modules):
        raise RuntimeError("OR-Tools is loaded in the HiGHS helper process; highspy would crash")
    import highspy

    work = Path(workdir)
    job = json.loads((work / "job.json").read_text(encoding="utf-8"))
    data = np.load(work / "model.npz")
    lb, ub, integer = data["lb"], data["ub"], data["integer"]
    row_lo, row_hi = data["row_lo"], data["row_hi"]
    row_start, row_idx, row_val = data["row_start"], data["row_idx"], data["row_val"]
    n_cols, n_rows = len(ub), len(row_lo)
    inf = highspy.kHighsInf

    def finite(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.where(np.isinf(v), np.sign(v) * inf, v)

    def make(time_limit: float, extra: list[tuple[Any, Any, float, float]],
             lock_lo: npt.NDArray[np.float64] | None = None) -> Any:
        h = highspy.Highs()
        for name, value in (("output_flag", bool(job["log"])), ("log_to_console", bool(job["log"])),
                            ("random_seed", int(job["seed"]) % 2147483647),
                            ("threads", int(job["threads"])), ("mip_rel_gap", 0.0),
                            ("mip_abs_gap", _ABS_GAP), ("time_limit", max(0.01, time_limit)),
                            *job.get("highs_options", {}).items()):
            h.setOptionValue(name, value)
        h.addVars(n_cols, lb, ub)
        if n_cols and integer.any():
            cols = np.flatnonzero(integer).astype(np.int32)
            h.changeColsIntegrality(len(cols), cols,
                                    np.full(len(cols), highspy.HighsVarType.kInteger))
        lo = row_lo if lock_lo is None else lock_lo
        if n_rows:
            h.addRows(n_rows, finite(lo), finite(row_hi), len(row_idx),
                      row_start[:-1].astype(np.int32), row_idx, row_val)
        for idx, val, lo, hi in extra:
            if len(idx):
                h.addRow(lo, hi, len(idx), idx, val)
        return h

    def solve(h: Any) -> tuple[str, Any, float | None]:
        h.run()
        status = h.modelStatusToString(h.getModelStatus())
        info = h.getInfo()
        x = None
        if info.primal_solution_status == 2:  # a feasible solution
            x = np.round(np.asarray(h.getSolution().col_value, dtype=np.float64))
            if _violations(lb, ub, row_lo, row_hi, row_start, row_idx, row_val, x, 1e-6):
                x = None  # rounding broke a row: never pass that on as a solution
        bound = info.mip_dual_bound
        return status, x, (float(bound) if math.isfinite(bound) else None)

    deadline = float(job["deadline"])
    if job.get("mode") == "conflict":
        # Deletion filter: relax one lock at a time; keep it relaxed if the rest still conflict.
        # Invariant: the locks in ``needed`` cannot all be honoured together.
        lock_rows = [int(r) for r in job["lock_rows"]]
        needed = list(lock_rows)
        complete = True
        for n, r in enumerate(lock_rows):
            left = deadline - time.time()
            if left < 0.05:
                complete = False
                break
            lo = row_lo.copy()
            lo[[q for q in lock_rows if q not in needed or q == r]] = 0.0
            h = make(left / (len(lock_rows) - n), [], lo)
            h.run()
            outcome = h.getModelStatus()
            if outcome == highspy.HighsModelStatus.kInfeasible:
                needed.remove(r)
            elif outcome != highspy.HighsModelStatus.kOptimal:
                complete = False  # undecided in its time: keep the lock (still a conflict)
        (work / "out.json").write_text(json.dumps({"needed": needed, "complete": complete}),
                                       encoding="utf-8")
        return

    if job.get("mode") == "relax":
        # The LP relaxation of one objective, by simplex (no integrality, no rounding of x).
        t0 = time.time()
        h = make(deadline - time.time(), [])
        if n_cols:
            h.changeColsIntegrality(n_cols, np.arange(n_cols, dtype=np.int32),
                                    np.full(n_cols, highspy.HighsVarType.kContinuous))
        h.setOptionValue("solver", "simplex")
        idx, val = data["obj0_idx"], data["obj0_val"]
        if len(idx):
            h.changeColsCost(len(idx), idx, val)
        h.run()
        status = h.modelStatusToString(h.getModelStatus())
        empty = h.getModelStatus() == highspy.HighsModelStatus.kModelEmpty  # nothing to choose
        optimal = empty or h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        if optimal:
            x = np.zeros(n_cols) if empty else np.asarray(h.getSolution().col_value, dtype=float)
            np.save(work / "relax.npy", x)
        (work / "out.json").write_text(json.dumps({
            "status": status, "optimal": optimal, "objective": 0.0 if empty else (
                float(h.getInfo().objective_function_value) if optimal else None),
            "seconds": round(time.time() - t0, 3)}), encoding="utf-8")
        return

    senses = job["senses"]
    shares = job.get("shares") or _STAGE_SHARE[len(senses)]
    x_prev = data["hint"] if "hint" in data.files else None
    fixed: list[tuple[Any, Any, float, float]] = []
    for n, sense in enumerate(senses):
        left = deadline - time.time()
        if left < 0.05:
            break
        t0 = time.time()
        h = make(left * shares[n], fixed)
        idx, val = data[f"obj{n}_idx"], data[f"obj{n}_val"]
        if len(idx):
            h.changeColsCost(len(idx), idx, val)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if sense == "max"
                               else highspy.ObjSense.kMinimize)
        if x_prev is not None:
            sol = highspy.HighsSolution()
            sol.col_value = x_prev.tolist()
            h.setSolution(sol)
        status, x, bound = solve(h)
        objective = float(val @ x[idx]) if x is not None else None
        if x is not None:
            np.save(work / f"stage{n}.npy", x)
        (work / f"stage{n}.json").write_text(json.dumps({
            "status": status, "has_solution": x is not None, "objective": objective,
            "dual_bound": bound, "seconds": round(time.time() - t0, 3),
            "finished_at": time.time()}), encoding="utf-8")
        if x is None or objective is None:
            break
        # A finished level stays at least as good as found: one-sided, so the next level's LP
        # is easier (demo, level 3 after level 2: 8-12 s against 19-22 s with an equality).
        value = round(objective)
        fixed.append((idx, val, -inf, value) if sense == "min" else (idx, val, value, inf))
        x_prev = x


@dataclass
class Refined:
    """Outcome of :func:`refine_levels`.

    Attributes
    ----------
    chosen
        HiGHS's best allocation with the given number placed (None when it found none).
    rank_lb
        Proven lower bound on the rank cost of any allocation placing that many (None when
        HiGHS gave no dual bound).
    rank_proven
        ``chosen``'s rank cost meets ``rank_lb``: level 2 is optimal.
    pair_weight_ub
        Proven upper bound on the (unscaled) pair weight at that rank cost, when level 3 ran.
    pairs_proven
        Level 3 ran and ``chosen``'s pair weight meets ``pair_weight_ub``.
    seconds
        Wall time of the helper process.
    message
        Why HiGHS stopped early, if it did.
    rank_done_at
        ``time.perf_counter()`` value when HiGHS finished level 2 (None when it did not).
    """

    chosen: dict[int, Choice] | None
    rank_lb: int | None
    rank_proven: bool
    pair_weight_ub: float | None
    pairs_proven: bool
    seconds: float
    message: str = ""
    rank_done_at: float | None = None


def refine_levels(enc: Encoded, placed: int, start: dict[int, Choice], config: SolverConfig,
                  deadline: float, stop: Callable[[], bool] | None = None, *,
                  pairs_only: bool = False) -> Refined:
    """Levels 2 and 3 by HiGHS: with exactly ``placed`` placed, minimise the rank cost, then
    (when the scenario rewards pairs) maximise the pair weight at that rank cost.

    With ``pairs_only``, level 2 is taken as settled by ``start`` (its rank cost becomes an
    upper limit) and only level 3 is solved; ``rank_lb`` is then None.

    The exact solver (:mod:`matcher.solvers.cpsat`) uses this as its LP-based engine after
    level 1: branch and cut proves these levels where CP-SAT's own bound is slow to close.
    ``start`` (an allocation placing ``placed``) is HiGHS's first incumbent. Level 2 may use
    :data:`LEVEL2_SHARE` of the time when level 3 follows.

    Parameters
    ----------
    enc
        The encoded problem.
    placed
        The number placed, as level 1 fixed it.
    start
        A valid allocation placing ``placed`` students.
    config
        Seed and workers (HiGHS ``random_seed`` and ``threads``), logging.
    deadline
        ``time.perf_counter()`` value by which HiGHS must stop.
    stop
        Polled while HiGHS runs; true ends it early.
    """
    t0 = time.perf_counter()
    if importlib.util.find_spec("highspy") is None:
        return Refined(None, None, False, None, False, 0.0, "highspy is not installed")
    mdl = build_model(enc, placed=placed)
    levels: list[tuple[str, Expr]] = [] if pairs_only else [("min", mdl.rank_cost)]
    if pairs_only:
        mdl.lp.row(mdl.rank_cost, -math.inf, enc.rank_cost(start))
    if mdl.pair_weight:
        levels.append(("max", mdl.pair_weight))
    if not levels:
        return Refined(None, None, False, None, False, 0.0, "no rewarded pairs to weigh")
    job = {"mode": "levels", "highs_options": HIGHS_OPTIONS,
           "shares": [LEVEL2_SHARE, 1.0][-len(levels):]}
    stages, _out, errors = _run_helper(mdl, config, deadline, job, hint_from_choices(mdl, start),
                                       levels, stop, grace=_ASSIST_GRACE_S)
    seconds = round(time.perf_counter() - t0, 3)
    if pairs_only:
        if not stages or stages[0].x is None:
            return Refined(None, None, False, None, False, seconds, errors)
        weight = round(stages[0].objective or 0)
        ub = None if stages[0].dual_bound is None else max(weight, _floor(stages[0].dual_bound))
        return Refined(_disaggregate(mdl, stages[0].x), None, False,
                       None if ub is None else ub / PAIR_SCALE, ub is not None and ub <= weight,
                       seconds, errors, stages[0].done_at)
    if not stages or stages[0].x is None:
        lb = None if not stages or stages[0].dual_bound is None else _ceil(stages[0].dual_bound)
        return Refined(None, lb, False, None, False, seconds, errors)
    second = stages[0]
    rank = round(second.objective or 0)
    rank_lb = None if second.dual_bound is None else min(rank, _ceil(second.dual_bound))
    rank_proven = rank_lb is not None and rank_lb >= rank
    best, weight_ub, pairs_proven = second, None, False
    if len(stages) > 1 and stages[1].x is not None:
        third = stages[1]
        best = third
        weight = round(third.objective or 0)
        if third.dual_bound is not None:
            ub = max(weight, _floor(third.dual_bound))
            weight_ub, pairs_proven = ub / PAIR_SCALE, ub <= weight
    assert best.x is not None
    chosen = _disaggregate(mdl, best.x)
    return Refined(chosen, rank_lb, rank_proven, weight_ub, pairs_proven, seconds, errors,
                   second.done_at)


@dataclass
class Relaxation:
    """The LP relaxation of levels 1 and 2 as one weighted objective (:func:`relax`).

    Attributes
    ----------
    value
        ``min (rank cost - weight * placed)`` over the relaxation (None when it was not solved).
    weight
        The reward per placed student in that objective (:data:`RELAX_WEIGHT`).
    placed, rank
        Placed count and rank cost of the relaxation's optimum (fractional).
    station
        Student -> the workstation the relaxation sends it to (most of it, at least half).
    seconds
        Wall time (model building included).
    message
        Why there is no relaxation, if there is none.
    """

    value: float | None
    weight: int
    placed: float = 0.0
    rank: float = 0.0
    station: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    message: str = ""

    def rank_lb_at(self, placed: int) -> int | None:
        """Proven lower bound on the rank cost of any allocation placing exactly ``placed``.

        Every allocation placing ``P`` has ``rank - weight * P >= value`` (it is a point of
        the relaxation), so ``rank >= value + weight * P``: exact where ``P`` is the
        relaxation's own placed count (then it is the LP bound), ``weight`` less per student
        fewer (then the flow relaxation's bound is usually the stronger).
        """
        return None if self.value is None else max(0, _ceil(self.value + self.weight * placed))


def relax(enc: Encoded, config: SolverConfig, deadline: float,
          stop: Callable[[], bool] | None = None,
          meanwhile: Callable[[], _T] | None = None) -> tuple[Relaxation, _T | None]:
    """Solve the LP relaxation of the aggregated model (levels 1-2, no pairs) with HiGHS.

    One LP, ``min rank cost - RELAX_WEIGHT * placed``, by simplex in the helper process: a rank
    cost bound far stronger than the flow relaxation's (it keeps the per-term limits; tier M:
    74,536 against 50,413), and the workstation each student gets, to guide a rounding (see
    :func:`matcher.solvers.flow.repair` with ``exact``).

    Parameters
    ----------
    enc
        The encoded problem.
    config
        Seed and workers (HiGHS ``random_seed`` and ``threads``), logging.
    deadline
        ``time.perf_counter()`` value by which HiGHS must stop (no relaxation then).
    stop
        Polled while HiGHS runs; true ends it early.
    meanwhile
        Work for this process while HiGHS solves (the helper has its own process, so they run
        side by side); its return value is returned with the relaxation.

    Returns
    -------
    relaxation, meanwhile's value
    """
    t0 = time.perf_counter()
    weight = relax_weight(enc)
    if importlib.util.find_spec("highspy") is None:
        return (Relaxation(None, weight, message="highspy is not installed"),
                None if meanwhile is None else meanwhile())
    mdl = build_model(enc, pairs=False)
    objective = mdl.rank_cost + [(j, -float(weight)) for j, _c in mdl.placed]
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The thread only starts and polls the helper process: it holds the GIL for moments.
        pending = pool.submit(_run_helper, mdl, config, deadline, {"mode": "relax"}, None,
                              [("min", objective)], stop, _ASSIST_GRACE_S)
        other = None if meanwhile is None else meanwhile()
        _stages, out, errors = pending.result()
    seconds = round(time.perf_counter() - t0, 3)
    x = out.get("x")
    if not out.get("optimal") or x is None:
        why = errors or f"the LP relaxation was not solved in time ({out.get('status', '-')})"
        return Relaxation(None, weight, seconds=seconds, message=why), other
    return Relaxation(float(out["objective"]), weight, float(sum(x[j] for j, _ in mdl.placed)),
                      float(sum(c * x[j] for j, c in mdl.rank_cost)), _stations_of(mdl, x),
                      seconds), other


def priced_lp(enc: Encoded, weight: int, off_list_cost: int,
              price: Callable[[tuple[str, int, int]], float | None], deadline: float,
              stop: Callable[[], bool] | None = None, seed: int = 0) -> float | None:
    """The LP relaxation's optimum with some limits priced instead of kept (one HiGHS thread).

    ``min sum (cost - weight) x + sum over priced limits of price * load`` over the
    aggregated model's LP with every other limit kept: ``price(key)`` (``key`` as in
    ``_Milp.cap_rows``) gives a limit's price, or None to keep it as a row. A placement costs
    its rank, off the list ``off_list_cost`` (given, so that a part of a problem is costed as
    the whole is). Used by :func:`matcher.solvers.lagrange.upgrade_by_discipline`. None when
    HiGHS is missing or has not solved it by ``deadline``.
    """
    if importlib.util.find_spec("highspy") is None:
        return None
    mdl = build_model(enc, pairs=False, every_limit=True)
    lp = mdl.lp
    objective: Expr = [(j, float(enc.cost(i, w) - weight)) for (i, w), j in mdl.y.items()]
    objective += [(j, float(off_list_cost - weight)) for j in mdl.ovf.values()]
    for key, r in mdl.cap_rows.items():
        p = price(key)
        if p is None:
            continue
        lp.row_lo[r], lp.row_hi[r] = -math.inf, math.inf  # free: the price stands for it
        if p:
            start, end = lp.row_start[r], lp.row_start[r + 1]
            objective += [(j, p * v) for j, v in zip(lp.row_idx[start:end], lp.row_val[start:end],
                                                     strict=True)]
    _stages, out, _errors = _run_helper(mdl, SolverConfig(seed=seed, workers=1), deadline,
                                        {"mode": "relax"}, None, [("min", objective)], stop,
                                        _ASSIST_GRACE_S)
    return float(out["objective"]) if out.get("optimal") else None


def _stations_of(mdl: _Milp, x: npt.NDArray[np.float64]) -> dict[int, int]:
    """Student -> workstation from a fractional solution: a listed workstation the student
    holds at least half of; off-list places of a class (rounded by largest remainders) to its
    members holding the most ``ovf``."""
    station: dict[int, int] = {}
    share: dict[int, float] = {}
    for (i, w), j in mdl.y.items():
        if x[j] >= 0.5 and x[j] > share.get(i, 0.0):
            station[i], share[i] = w, x[j]
    by_class: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (c, w), j in mdl.o.items():
        if x[j] > 1e-9:
            by_class[c].append((w, float(x[j])))
    for c, (_key, members) in enumerate(mdl.classes):
        off = sorted((i for i in members if i not in station and x[mdl.ovf[i]] >= 0.5),
                     key=lambda i: (-x[mdl.ovf[i]], i))
        places = by_class.get(c, [])
        slots = [w for w, v in places for _ in range(math.floor(v + 1e-9))]
        rest = sorted(places, key=lambda p: (-(p[1] - math.floor(p[1] + 1e-9)), p[0]))
        slots += [w for w, _v in rest][:max(0, len(off) - len(slots))]
        for i, w in zip(off, slots, strict=False):
            station[i] = w
    return station


def _floor(v: float) -> int:
    return math.floor(v + 1e-6 * max(1.0, abs(v)))


def _ceil(v: float) -> int:
    return math.ceil(v - 1e-6 * max(1.0, abs(v)))


def _conflicting_locks(mdl: _Milp, config: SolverConfig, deadline: float) -> tuple[list[int],
                                                                                    bool]:
    """A set of locked students whose locks cannot all be honoured (deletion-filtered)."""
    students = sorted(mdl.lock_rows)
    _stages, out, _err = _run_helper(
        mdl, config, max(deadline, time.perf_counter() + 1.0),
        {"mode": "conflict", "lock_rows": [mdl.lock_rows[i] for i in students]}, None, [])
    if not out:
        return students, False
    row_owner = {mdl.lock_rows[i]: i for i in students}
    return sorted(row_owner[r] for r in out["needed"]), bool(out["complete"])


def solve(problem: Problem, config: SolverConfig) -> Result:
    """Solve the allocation exactly as a MILP with HiGHS, level by level.

    Parameters
    ----------
    problem
        The validated problem.
    config
        Time limit (for all levels together), seed (HiGHS ``random_seed``), workers (HiGHS
        ``threads``), logging (HiGHS's log on stderr).

    Returns
    -------
    Result
        OPTIMAL when every level is proven; FEASIBLE with the proven bounds when a time limit
        stopped a level; INFEASIBLE when the locks cannot all be honoured (the message names a
        conflicting set); UNKNOWN when no allocation was found (or HiGHS is not available).
    """
    t0 = time.perf_counter()
    deadline = t0 + config.time_limit_s
    enc = encode(problem)
    stats: dict[str, Any] = {}

    def done(status: Status, chosen: dict[int, Choice], msg: str = "", **kw: Any) -> Result:
        return build_result(enc, NAME, status, chosen, config, time.perf_counter() - t0,
                            stats=stats, message=msg, **kw)

    unplaceable = [i for i, lk in enumerate(enc.st_lock) if lk is not None and not enc.options(i)]
    if unplaceable:
        return done(Status.INFEASIBLE, {}, f"the locks in {lock_rows(enc, unplaceable)} cannot "
                    "be honoured whatever the others get (no fitting start, mentor or "
                    "supervisor); change these locks")
    if importlib.util.find_spec("highspy") is None:
        return done(Status.UNKNOWN, {}, "the milp solver needs highspy: pip install highspy")
    mdl = build_model(enc)
    if mdl.lp.n_cols == 0:  # nobody has an allowed option: nothing to decide
        return done(Status.OPTIMAL, {}, placed_upper_bound=0, rank_cost_lower_bound=0)
    stats.update(variables=mdl.lp.n_cols, constraints=mdl.lp.n_rows,
                 build_seconds=round(time.perf_counter() - t0, 3))
    greedy, failed = serial_dictatorship(enc)
    hint = None if failed else hint_from_choices(mdl, greedy)
    stats["greedy_placed"] = len(greedy)
    levels: list[tuple[str, Expr]] = [("max", mdl.placed), ("min", mdl.rank_cost)]
    if mdl.pair_weight:
        levels.append(("max", mdl.pair_weight))
    stages, _out, errors = _run_helper(mdl, config, deadline, {"mode": "levels"}, hint, levels)
    for n, st in enumerate(stages, start=1):
        stats[f"stage{n}_seconds"] = st.seconds
        stats[f"stage{n}_status"] = st.status

    # Level 1: placed, and the proven maximum (never more than the students with an option).
    first = stages[0] if stages else None
    if first is not None and first.status == "Infeasible":
        culprits, complete = _conflicting_locks(mdl, config, deadline)
        msg = (f"the locks cannot all be honoured; conflicting locks: {lock_rows(enc, culprits)}"
               + ("" if complete else " (not narrowed down within the time limit)")
               + ". Remove or change one of these locks")
        return done(Status.INFEASIBLE, {}, msg)
    trivial_ub = len(mdl.placed_cols)
    if first is None or first.x is None:
        ub = trivial_ub if first is None or first.dual_bound is None else min(
            trivial_ub, _floor(first.dual_bound))
        why = errors or "no allocation found within the time limit"
        return done(Status.UNKNOWN, {}, why, placed_upper_bound=ub)
    placed = round(first.objective or 0)
    placed_ub = trivial_ub if first.dual_bound is None else min(trivial_ub,
                                                                _floor(first.dual_bound))
    proven = placed >= placed_ub
    best = first

    # Level 2: rank cost with that many placed; its lower bound from the dual bound.
    rank_lb: int | None = None
    if len(stages) >= 2 and stages[1].x is not None:
        second = stages[1]
        best = second
        rank = round(second.objective or 0)
        rank_lb = None if second.dual_bound is None else min(rank, _ceil(second.dual_bound))
        proven = proven and rank_lb is not None and rank_lb >= rank
    else:
        proven = False

    # Level 3: pair weight with both fixed.
    if len(levels) == 3:
        if len(stages) >= 3 and stages[2].x is not None:
            third = stages[2]
            best = third
            weight = round(third.objective or 0)
            ub3 = None if third.dual_bound is None else max(weight, _floor(third.dual_bound))
            stats["pair_weight_upper_bound"] = None if ub3 is None else ub3 / PAIR_SCALE
            stats["pair_weight_proven"] = ub3 is not None and ub3 <= weight
        else:
            stats["pair_weight_proven"] = False
    assert best.x is not None
    chosen = _disaggregate(mdl, best.x)
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    if not proven:
        msg = errors or "time limit reached before levels 1 and 2 were proven optimal"
    else:
        msg = "" if stats.get("pair_weight_proven", True) else (
            "levels 1 and 2 proven optimal; the pair weight (level 3) is not proven")
    return done(status, chosen, msg, placed_upper_bound=placed_ub, rank_cost_lower_bound=rank_lb)
