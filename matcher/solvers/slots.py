"""The slot model: levels 1-2 as a compact exact MILP whose LP, with its cuts, is nearly tight.

Notation: students ``i`` (block length ``n_i``, discipline ``d_i``), workstations ``w``
(capacity ``c_w,t`` per term), mentors ``m`` (capacity ``k_m`` per term, disciplines ``D_m``),
one common window of ``T`` terms.

The slot lemma
    At a workstation whose capacity is the same ``c`` in every term of a window of even length
    ``T``, students needing blocks of one or two terms inside that window can be given mentors
    and starts keeping every term's workstation and mentor limit **if and only if** they can
    be shared out among the mentors (each a mentor of its discipline) so that every mentor
    ``m`` holds at most ``T k_m`` term-places and all together at most ``T c``. Necessity:
    every term holds at most ``c`` students and each mentor at most ``k_m``. Sufficiency is
    checked exhaustively on random boundary cases against an exact schedule
    (``tests/test_slots.py``). Such a workstation is *slot-exact*: its limits become a few rows
    on the students placed there (and, where mentors take different disciplines, integer counts
    per mentor and student type), with no start variables at all; mentors and starts are
    chosen afterwards (:func:`matcher.solvers.packing.pack_station`, exact).

    Summed over disciplines this gives the *Hall rows*: for every set ``S`` of the disciplines
    placed there, ``sum over students with d_i in S of n_i <= T min(c, sum of k_m over mentors
    with D_m meeting S)``. They are what the LP sees, and alone they are exact when every mentor
    takes every discipline present; otherwise a two-term student could be split between two
    mentors' odd leftovers (tier M has such a workstation), hence the counts per mentor.

Other workstations (a term closed or overridden, a student type with another window or a
longer block, a lock naming a mentor or start) keep start and mentor counts per student type,
as in the aggregated model (:mod:`matcher.solvers.aggregate`), which is exact too.

Supervisors are left out of the model only when they provably never bind: every given
supervisor has room for all students given to them, and the remaining room can take every
other student with an allowed option at once (a maximum flow from the ``(university,
discipline)`` groups to their supervisors). Otherwise the model does not apply.

Variables (columns)
    ``x[i,w]``  binary: student ``i`` at workstation ``w`` of its list (or its locked one);
                cost: the rank (``K + 1`` off the list).
    ``v[i]``    binary: student ``i`` placed off its list; cost ``K + 1``.
    ``o[c,w]``  integer: off-list students of class ``c`` (one profile: university, discipline,
                block, window) at ``w``; for one-term students at a slot-exact workstation it
                is ``y[c,w] + 2 p[c,w]`` (``y`` binary), so that parity cuts see the odd one.
    ``z[a,m,k]`` integer, other workstations only: students of type ``a = (w, d, n, first,
                last)`` with mentor ``m`` starting in term ``k``.
    ``v[a,m]``  integer, slot-exact workstations whose mentors take different disciplines:
                students of type ``a`` with mentor ``m``.

Rows
    one placement: ``sum_w x[i,w] + v[i] <= 1`` (``= 1`` when locked);
    class links: ``sum_{i in c} v[i] = sum_w o[c,w]``;
    Hall rows of slot-exact workstations (above), with ``sum x + sum o = sum_m v[a,m]`` and
    ``sum_a n_a v[a,m] <= T k_m`` where the counts per mentor are needed;
    type links ``sum x + sum o = sum z`` and term rows of the other workstations.

Parity cuts
    A Hall row reads ``2 X2 + X1 <= B`` with ``B`` even (``X2``, ``X1``: the two- and one-term
    students it counts). For any set ``J`` of its one-term columns whose upper bounds sum to an
    odd ``U``, half the row plus half of ``x_j <= ub_j`` (``j`` in ``J``), rounded down, gives the
    Chvatal-Gomory cut ``X2 + sum_{j in J} x_j <= B/2 + (U - 1)/2``. The LP alone leaves a
    one-term place at a full workstation to half a two-term student; these cuts forbid it.

{0, 1/2}-cuts
    More generally, half the sum of any set of rows, plus half of bounds for the odd
    coefficients, rounded down, is valid; the helper finds sets the LP point violates by
    Gaussian elimination over GF(2) on the tight rows
    (:func:`matcher.solvers.highs.cuts.zero_half_cuts`). They catch what one Hall row cannot:
    e.g. at a workstation with a closed term, a mentor with one place a term whose two
    one-term students (one must come) leave no room for a two-term start, which the LP takes
    half of. Tier M: LP 74,536, with parity cuts 74,779, with both
    74,785.75 (so the bound is 74,786, the optimum itself or within 2 of it).

This module builds the model as plain arrays (:class:`SlotModel`) and says when it applies;
its LP as a min-cost flow is :mod:`matcher.solvers.slot_flow`; the LP, the cuts and the
searches run in a HiGHS helper process (:mod:`matcher.solvers.highs.slot_search`), driven by
:mod:`matcher.solvers.slot_solve`; its columns become an allocation in
:mod:`matcher.solvers.slot_rounding`.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..encoding import Encoded, Profile
from . import clock
from .highs.common import CLASS, HALL, LAZY, LINK, LISTED, MENTOR, OFF, ONE, PAIR, SPLIT, TERM, TYPE

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

__all__ = ["CLASS", "HALL", "LAZY", "LINK", "LISTED", "MENTOR", "OFF", "ONE", "PAIR", "SPLIT",
           "TERM", "TYPE", "SlotModel", "applies", "build", "common_window", "hall_rows",
           "supervisors_never_bind"]


BUILD_SECONDS_PER_COLUMN = 5e-6
"""Deterministic cost model (:mod:`matcher.solvers.clock`): building the model, per column
(1e-5 until session 19, measured at load 12: 8.9 s of CPU for XL's 1.06 million columns;
halved for a quiet machine with the other rates of the province path, see
:data:`matcher.solvers.highs.common.SETUP_SECONDS_PER_ENTRY`)."""


@dataclass(frozen=True, eq=False)
class SlotModel:
    """The slot model of one problem as plain arrays (see the module docstring).

    Columns and rows are numbered in build order; rows are stored by row (CSR).

    Attributes
    ----------
    col_kind, col_student, col_ws, col_class, col_block, col_weight
        Per column: kind (``LISTED``, ``OFF``, ``CLASS``, ``PAIR``, ``SPLIT``), student (-1 if
        none), workstation (-1 for ``OFF``), class (-1 unless ``OFF``, ``CLASS`` or ``PAIR``),
        block length, and students per unit (2 for ``PAIR``, else 1).
    col_cost, col_ub
        Rank cost and upper bound of each column (lower bounds are 0).
    row_kind, row_lo, row_hi, row_start, row_col, row_val
        Rows: kind (``ONE``, ``LINK``, ``HALL``, ``TYPE``, ``TERM``), bounds, CSR entries.
    student_row
        Row index of each student's one-placement row (-1 for a student with no option).
    class_members
        Students of each off-list class.
    slot_exact
        Per workstation: whether its limits are Hall rows.
    """

    col_kind: IntArray
    col_student: IntArray
    col_ws: IntArray
    col_class: IntArray
    col_block: IntArray
    col_weight: IntArray
    col_cost: IntArray
    col_ub: IntArray
    row_kind: IntArray
    row_lo: FloatArray
    row_hi: FloatArray
    row_start: IntArray
    row_col: IntArray
    row_val: FloatArray
    student_row: IntArray
    class_members: list[list[int]]
    slot_exact: npt.NDArray[np.bool_]

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.col_kind)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.row_kind)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The column and row arrays by field name (what the HiGHS helper reads)."""
        return {name: getattr(self, name) for name in (
            "col_kind", "col_student", "col_ws", "col_class", "col_block", "col_weight",
            "col_cost", "col_ub", "row_kind", "row_lo", "row_hi", "row_start", "row_col",
            "row_val", "slot_exact")}

    @property
    def placed_cols(self) -> IntArray:
        """Columns that place one student each (``LISTED`` and ``OFF``)."""
        return np.flatnonzero(self.col_kind <= OFF)


def supervisors_never_bind(enc: Encoded) -> bool:
    """Whether every student with an allowed option can get a supervisor, all at once.

    Given supervisors must hold all students given to them; the room they have left, and the
    other supervisors', must take every student without one, by ``(university, discipline)``
    group (a maximum flow). Then no set of placements is ever short of a supervisor, and the
    supervisor limits can be left out of levels 1-2.
    """
    from ortools.graph.python import max_flow

    left = list(enc.s_cap)
    demand: dict[tuple[int, int], int] = defaultdict(int)
    for i in range(enc.n_students):
        if not enc.options(i):
            continue
        s = enc.st_sup[i]
        if s >= 0:
            left[s] -= 1
            if left[s] < 0:
                return False
        else:
            demand[enc.st_univ[i], enc.st_disc[i]] += 1
    if not demand:
        return True
    groups = sorted(demand)
    gix = {g: k for k, g in enumerate(groups)}
    n_g = len(groups)
    source, sink = n_g + len(left), n_g + len(left) + 1
    flow = max_flow.SimpleMaxFlow()
    for g, k in gix.items():
        flow.add_arc_with_capacity(source, k, demand[g])
    for s, room in enumerate(left):
        if room <= 0:
            continue
        flow.add_arc_with_capacity(n_g + s, sink, room)
        for d in enc.s_disc[s]:
            node = gix.get((enc.s_univ[s], d))
            if node is not None:
                flow.add_arc_with_capacity(node, n_g + s, room)
    if flow.solve(source, sink) != flow.OPTIMAL:
        return False
    return int(flow.optimal_flow()) == sum(demand.values())


def applies(enc: Encoded) -> str:
    """Why the slot model cannot stand for this problem's levels 1-2 ("" when it can).

    The rules of issue 28: vetoes (fewer options, per profile) and tied choices (costs) it
    holds as they are; a split practice breaks the slot lemma (contiguous blocks of one or two
    terms), and minimum intakes and groups couple students in ways its Hall rows do not
    state, so those problems go to the aggregated model, which holds them exactly.
    """
    if enc.has_segments:
        return "a student may split the practice into segments"
    if any(enc.ws_min):
        return "a workstation has a minimum intake"
    if enc.groups:
        return "students are kept together in groups"
    if enc.has_quotas:
        return "group quotas (quotas.csv) bound shares of the placed students"
    for i, lock in enumerate(enc.st_lock):
        if lock is not None and (lock[1] >= 0 or lock[2] >= 0):
            return "a lock names a mentor or a start term"
        if lock is not None and not enc.options(i):
            return "a locked student has no allowed option"
    if not supervisors_never_bind(enc):
        return "supervisor limits may bind"
    return ""


def common_window(enc: Encoded) -> tuple[int, int]:
    """The most common student window ``(first, last)`` (ties: the earliest)."""
    count: dict[tuple[int, int], int] = defaultdict(int)
    for f, last in zip(enc.st_first, enc.st_last, strict=True):
        count[f, last] += 1
    return min(count, key=lambda key: (-count[key], key)) if count else (0, enc.n_terms - 1)


def hall_rows(enc: Encoded, w: int, c: int, disciplines: list[int], terms: int
              ) -> list[tuple[frozenset[int], int]]:
    """The Hall rows ``(S, bound)`` of a slot-exact workstation, for the disciplines present.

    ``c`` is its capacity in every term of the window. ``bound = terms * min(c, sum k_m over
    mentors with capacity meeting S)``. A row is left out when rows kept imply it: first (from
    the smallest sets up) when two disjoint kept sets' bounds add up to no more, then (from
    the largest down) when a kept larger set has no larger bound.
    """
    mentors = [m for m in enc.ws_mentors[w] if enc.m_cap[m] > 0]
    bound: dict[frozenset[int], int] = {}
    ds = sorted(disciplines)
    for r in range(1, len(ds) + 1):
        for subset in itertools.combinations(ds, r):
            s = frozenset(subset)
            cover = sum(enc.m_cap[m] for m in mentors if enc.m_disc[m] & s)
            bound[s] = terms * min(c, cover)
    by_size = sorted(bound, key=lambda s: (len(s), sorted(s)))
    kept: list[frozenset[int]] = []
    for s in by_size:
        parts = [a for a in kept if a < s]
        if not any(a.isdisjoint(b) and a | b == s and bound[a] + bound[b] <= bound[s]
                   for a in parts for b in parts):
            kept.append(s)
    final: list[frozenset[int]] = []
    for s in reversed(by_size):
        if s in kept and not any(s < big and bound[big] <= bound[s] for big in final):
            final.append(s)
    return [(s, bound[s]) for s in reversed(final)]


class _Builder:
    """Columns and rows collected as lists, then frozen into a :class:`SlotModel`."""

    def __init__(self) -> None:
        self.cols: list[tuple[int, int, int, int, int, int, int, int]] = []
        self.row_kind: list[int] = []
        self.row_lo: list[float] = []
        self.row_hi: list[float] = []
        self.row_start: list[int] = [0]
        self.row_col: list[int] = []
        self.row_val: list[float] = []

    def col(self, kind: int, student: int, w: int, cls: int, n: int, cost: int, ub: int,
            weight: int = 1) -> int:
        self.cols.append((kind, student, w, cls, n, cost, ub, weight))
        return len(self.cols) - 1

    def row(self, kind: int, lo: float, hi: float, cols: list[int], vals: list[float]) -> int:
        self.row_kind.append(kind)
        self.row_lo.append(lo)
        self.row_hi.append(hi)
        self.row_col.extend(cols)
        self.row_val.extend(vals)
        self.row_start.append(len(self.row_col))
        return len(self.row_kind) - 1


def build(enc: Encoded) -> SlotModel:
    """The slot model of ``enc`` (call :func:`applies` first: it must be "").

    The counts per mentor at slot-exact workstations (columns ``MENTOR``, rows ``LAZY``) do not
    change the LP (they only forbid splitting a two-term student between mentors), so the
    helper leaves them out of it and enforces them in its searches only where an allocation
    needs them (:mod:`matcher.solvers.highs.slot_search`).
    """
    b = _Builder()
    n_w = len(enc.workstation_ids)
    first0, last0 = common_window(enc)
    terms0 = last0 - first0 + 1
    off_cost = enc.max_list + 1
    # A workstation is slot-exact unless something below says otherwise.
    caps = np.array(enc.ws_cap, dtype=np.int64).reshape(n_w, enc.n_terms)
    window_caps = caps[:, first0:last0 + 1]
    slot_exact = (terms0 % 2 == 0) & (window_caps.min(axis=1) == window_caps.max(axis=1))
    for lock in enc.st_lock:
        if lock is not None and (lock[1] >= 0 or lock[2] >= 0):
            slot_exact[lock[0]] = False

    # (w, type) -> columns placing students of that type there; type = (d, n, first, last)
    at: dict[tuple[int, tuple[int, int, int, int]], list[int]] = defaultdict(list)
    student_row = np.full(enc.n_students, -1, dtype=np.int64)
    classes: dict[Profile, list[int]] = {}
    class_off: dict[Profile, list[int]] = defaultdict(list)
    for i in range(enc.n_students):
        starts = enc.profile_starts(enc.profile(i)) if enc.supervisors_for(i) else {}
        if not starts:
            continue
        kind = (enc.st_disc[i], enc.st_block[i], enc.st_first[i], enc.st_last[i])
        lock = enc.st_lock[i]
        ranked = enc.rank_of[i]
        cols = []
        if lock is not None:
            w = lock[0]
            if w in starts:
                j = b.col(LISTED, i, w, -1, kind[1], ranked.get(w, off_cost), 1)
                at[w, kind].append(j)
                cols.append(j)
        else:
            for w in enc.st_prefs[i]:
                if w in starts:
                    j = b.col(LISTED, i, w, -1, kind[1], ranked[w], 1)
                    at[w, kind].append(j)
                    cols.append(j)
            if not enc.preferences_only and len(starts) > len(cols):
                key = enc.profile(i)
                cls = classes.setdefault(key, [])
                j = b.col(OFF, i, -1, -1, kind[1], off_cost, 1)
                cls.append(i)
                class_off[key].append(j)
                cols.append(j)
        if cols:
            exact = 1.0 if lock is not None else -np.inf
            student_row[i] = b.row(ONE, exact, 1.0, cols, [1.0] * len(cols))
            if kind[2:] != (first0, last0) or kind[1] not in (1, 2):
                for w in starts:
                    slot_exact[w] = False
    class_keys = list(classes)
    cidx = {key: k for k, key in enumerate(class_keys)}
    col_class_fix: list[tuple[int, int]] = []  # OFF columns: their class index
    for key, js in class_off.items():
        col_class_fix.extend((j, cidx[key]) for j in js)
    for key in class_keys:
        _u, d, n, f, last, _x = key
        members = classes[key]
        cols = list(class_off[key])
        vals = [1.0] * len(cols)
        for w in enc.profile_starts(key):
            # One-term students at a slot-exact workstation: the odd one apart from the pairs,
            # so that parity cuts see it (see the module docstring).
            paired = n == 1 and slot_exact[w] and len(members) > 1
            j = b.col(CLASS, -1, w, cidx[key], n, 0, 1 if paired else len(members))
            at[w, (d, n, f, last)].append(j)
            cols.append(j)
            vals.append(-1.0)
            if paired:
                j = b.col(PAIR, -1, w, cidx[key], n, 0, len(members) // 2, weight=2)
                at[w, (d, n, f, last)].append(j)
                cols.append(j)
                vals.append(-2.0)
        b.row(LINK, 0.0, 0.0, cols, vals)

    # Workstation limits.
    by_ws: dict[int, list[tuple[tuple[int, int, int, int], list[int]]]] = defaultdict(list)
    for (w, kind), js in at.items():
        by_ws[w].append((kind, js))
    for w in sorted(by_ws):
        kinds = sorted(by_ws[w])
        if slot_exact[w]:
            _hall(b, enc, w, int(window_caps[w, 0]), kinds, terms0)
        else:
            _terms(b, enc, w, kinds)

    cols_arr = np.array(b.cols, dtype=np.int64).reshape(-1, 8)
    clock.charge(BUILD_SECONDS_PER_COLUMN * len(cols_arr))
    col_class = cols_arr[:, 3].copy()
    for j, k in col_class_fix:
        col_class[j] = k
    return SlotModel(
        col_kind=cols_arr[:, 0], col_student=cols_arr[:, 1], col_ws=cols_arr[:, 2],
        col_class=col_class, col_block=cols_arr[:, 4], col_weight=cols_arr[:, 7],
        col_cost=cols_arr[:, 5], col_ub=cols_arr[:, 6],
        row_kind=np.array(b.row_kind, dtype=np.int64), row_lo=np.array(b.row_lo),
        row_hi=np.array(b.row_hi), row_start=np.array(b.row_start, dtype=np.int64),
        row_col=np.array(b.row_col, dtype=np.int64), row_val=np.array(b.row_val),
        student_row=student_row, class_members=[classes[k] for k in class_keys],
        slot_exact=slot_exact)


def _hall(b: _Builder, enc: Encoded, w: int, c: int,
          kinds: list[tuple[tuple[int, int, int, int], list[int]]], terms: int) -> None:
    """Hall rows of a slot-exact workstation: term-places per set of disciplines."""
    present = sorted({kind[0] for kind, _ in kinds})
    for s, bound in hall_rows(enc, w, c, present, terms):
        cols: list[int] = []
        vals: list[float] = []
        most = 0
        for (d, n, _f, _l), js in kinds:
            if d in s:
                cols.extend(js)
                vals.extend(float(n * b.cols[j][7]) for j in js)
                most += n * sum(b.cols[j][6] * b.cols[j][7] for j in js)
        if most > bound:  # else the row can never bind
            b.row(HALL, -np.inf, float(bound), cols, vals)
    mentors = [m for m in enc.ws_mentors[w] if enc.m_cap[m] > 0]
    if all(enc.m_disc[m].issuperset(present) for m in mentors):
        return  # every mentor takes every discipline here: the Hall row alone is exact
    # Mentors taking different disciplines: a two-term student must not be split between
    # two of them, which the Hall rows (sums of term-places) cannot say; counts per mentor can.
    per_mentor: dict[int, tuple[list[int], list[float]]] = {m: ([], []) for m in mentors}
    for (d, n, _f, _l), js in kinds:
        most = sum(b.cols[j][6] * b.cols[j][7] for j in js)
        split = []
        for m in mentors:
            if d in enc.m_disc[m]:
                j = b.col(MENTOR, -1, w, -1, n, 0, min(most, terms * enc.m_cap[m] // n))
                split.append(j)
                per_mentor[m][0].append(j)
                per_mentor[m][1].append(float(n))
        b.row(LAZY, 0.0, 0.0, js + split,
              [float(b.cols[j][7]) for j in js] + [-1.0] * len(split))
    for m, (cols_m, vals_m) in per_mentor.items():
        if cols_m:
            b.row(LAZY, -np.inf, float(terms * enc.m_cap[m]), cols_m, vals_m)


def _terms(b: _Builder, enc: Encoded, w: int,
           kinds: list[tuple[tuple[int, int, int, int], list[int]]]) -> None:
    """Start and mentor counts per student type, with every term's limits (exact)."""
    ws_terms: dict[int, list[int]] = defaultdict(list)
    m_terms: dict[tuple[int, int], list[int]] = defaultdict(list)
    for (d, n, f, last), js in kinds:
        most = sum(b.cols[j][6] * b.cols[j][7] for j in js)
        split = []
        for m in enc.mentors_for(w, d):
            for k in enc.starts(w, n, f, last):
                j = b.col(SPLIT, -1, w, -1, n, 0, min(most, enc.m_cap[m]))
                split.append(j)
                for t in range(k, k + n):
                    ws_terms[t].append(j)
                    m_terms[m, t].append(j)
        b.row(TYPE, 0.0, 0.0, js + split,
              [float(b.cols[j][7]) for j in js] + [-1.0] * len(split))
    for t, js in sorted(ws_terms.items()):
        b.row(TERM, -np.inf, float(enc.ws_cap[w][t]), js, [1.0] * len(js))
    for (m, _t), js in sorted(m_terms.items()):
        b.row(TERM, -np.inf, float(enc.m_cap[m]), js, [1.0] * len(js))
