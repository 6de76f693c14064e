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
as in :mod:`matcher.solvers.cpsat`'s aggregated model, which is exact too.

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
    Gaussian elimination over GF(2) on the tight rows (``slots_highs.zero_half_cuts``). They
    catch what one Hall row cannot: e.g. at a workstation with a closed term, a mentor with one
    place a term whose two one-term students (one must come) leave no room for a two-term
    start, which the LP takes half of. Tier M: LP 74,536, with parity cuts 74,779, with both
    74,785.75 (so the bound is 74,786, the optimum itself or within 2 of it).

This module builds the model as plain arrays (:class:`SlotModel`); the LP, the cuts and the
searches run in a HiGHS helper process (:mod:`matcher.solvers.slots_highs`).
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..encoding import Encoded
from .base import Choice

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Column kinds.
LISTED, OFF, CLASS, SPLIT, PAIR, MENTOR = 0, 1, 2, 3, 4, 5
# Row kinds.
ONE, LINK, HALL, TYPE, TERM, LAZY = 0, 1, 2, 3, 4, 5


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
    """Why the slot model cannot stand for this problem's levels 1-2 ("" when it can)."""
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
    needs them (:mod:`matcher.solvers.slots_highs`).
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
    classes: dict[tuple[int, int, int, int, int], list[int]] = {}
    class_off: dict[tuple[int, int, int, int, int], list[int]] = defaultdict(list)
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
        _u, d, n, f, last = key
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


@dataclass(frozen=True)
class FlowPrices:
    """The slot model's flow relaxation, solved: a rank-cost bound and column prices.

    Attributes
    ----------
    rank_lb
        No allocation placing ``placed`` students has a lower rank cost (valid only when the
        flow placed every student with an option: then ``placed`` is that count).
    placed
        Students the flow placed (units over block lengths; a student may be split).
    reduced_cost
        Per model column, its reduced cost at the flow's node prices, in rank units per
        student (0 on the flow's own columns): how much dearer than the flow's choices it is.
    x
        The flow as model column values (students split in halves where it splits them).
    """

    rank_lb: float
    placed: float
    reduced_cost: FloatArray
    x: FloatArray


def _blocks_fit(caps: list[int], n: int) -> int:
    """How many ``n``-term blocks fit under per-term capacities (earliest start first, which
    is optimal for blocks of one length)."""
    left = list(caps)
    total = 0
    for k in range(len(left) - n + 1):
        put = min(left[k:k + n])
        if put > 0:
            total += put
            for t in range(k, k + n):
                left[t] -= put
    return total


def _inner_run(caps: list[int]) -> tuple[int, int]:
    """``(T, c)``: the even number of consecutive open terms and their least capacity that
    hold the most term-places (0, 0 if no two consecutive terms are open)."""
    best = (0, 0)
    k = 0
    while k < len(caps):
        if caps[k] <= 0:
            k += 1
            continue
        end = k
        while end < len(caps) and caps[end] > 0:
            end += 1
        length = (end - k) // 2 * 2
        if length:
            # every even stretch of the run, at its own least capacity
            for a in range(k, end - 1):
                for b in range(a + 2, end + 1, 2):
                    c = min(caps[a:b])
                    if (b - a) * c > best[0] * best[1]:
                        best = (b - a, c)
        k = end
    return best


class SlotFlow:
    """The slot model's LP relaxation as a min-cost flow in term-places (see :func:`flow_prices`).

    Built once; :meth:`solve` takes extra costs per model column (the priced parity cuts of
    :func:`relax_and_cut`), so the network is solved again without being rebuilt.
    """

    SCALE = 64
    """Costs per student are kept to 1/SCALE (the flow needs integer costs)."""

    def __init__(self, enc: Encoded, model: SlotModel, weight: int, *,
                 inner: bool = False) -> None:
        self.enc, self.model, self.weight = enc, model, weight
        n_s, n_c, n_w = enc.n_students, len(model.class_members), len(enc.workstation_ids)
        n_d, n_m = len(enc.disciplines), len(enc.mentor_ids)
        blocks = sorted({int(b) for b in model.col_block} | {1})
        n_max = max(blocks)
        self.lcm = int(np.lcm.reduce(np.array(blocks)))
        first0, last0 = common_window(enc)
        terms = last0 - first0 + 1
        # Terms any student's window reaches: the other workstations' limits count these only.
        lo, hi = min(enc.st_first, default=0), max(enc.st_last, default=-1)
        src, sink = 0, 1
        stu0 = 2
        cls0 = stu0 + n_s
        typ0 = cls0 + n_c  # (w, d, n) -> typ0 + (w * n_d + d) * n_max + n - 1
        mid0 = typ0 + n_w * n_d * n_max  # (w, d): slot-exact workstations
        wn0 = mid0 + n_w * n_d  # (w, n): the others
        men0 = wn0 + n_w * n_max
        ws0 = men0 + n_m
        self.n_nodes = ws0 + n_w
        parts: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []

        def arcs(t: Any, h: Any, cap: Any, cost: Any) -> None:
            shapes = [np.shape(a) for a in (t, h, cap, cost) if np.ndim(a)]
            size = shapes[0][0] if shapes else 1
            parts.append(tuple(np.broadcast_to(np.asarray(a, dtype=np.int64), size).copy()
                               for a in (t, h, cap, cost)))  # type: ignore[arg-type]

        block = np.array(enc.st_block, dtype=np.int64)
        disc = np.array(enc.st_disc, dtype=np.int64)
        has = model.student_row >= 0
        self.total_units = int(block[has].sum())
        arcs(src, stu0 + np.flatnonzero(has), block[has], 0)
        arcs(src, sink, self.total_units, 0)
        kind, stud, ws, cls = model.col_kind, model.col_student, model.col_ws, model.col_class
        n_col = model.col_block
        cls_disc = np.array([enc.st_disc[m[0]] for m in model.class_members], dtype=np.int64)
        col_disc = np.where(stud >= 0, disc[np.maximum(stud, 0)],
                            cls_disc[np.maximum(cls, 0)] if len(cls_disc) else 0)
        self.col_arc = np.full(model.n_cols, -1, dtype=np.int64)
        start = sum(len(p[0]) for p in parts)
        for k in (LISTED, OFF, CLASS, PAIR):
            js = np.flatnonzero(kind == k)
            tails = stu0 + stud[js] if k in (LISTED, OFF) else cls0 + cls[js]
            heads = (cls0 + cls[js] if k == OFF
                     else typ0 + (ws[js] * n_d + col_disc[js]) * n_max + n_col[js] - 1)
            caps = n_col[js] * model.col_weight[js] * model.col_ub[js]
            arcs(tails, heads, caps, 0)
            self.col_arc[js] = start + np.arange(len(js))
            start += len(js)
        big = self.total_units
        for w in range(n_w):
            for d in range(n_d):
                for n in blocks:
                    node = typ0 + (w * n_d + d) * n_max + n - 1
                    if model.slot_exact[w] or inner:
                        arcs(node, mid0 + w * n_d + d, big, 0)
                    else:
                        arcs(node, wn0 + w * n_max + n - 1, big, 0)
            if not model.slot_exact[w] and not inner:
                for n in blocks:
                    arcs(wn0 + w * n_max + n - 1, ws0 + w,
                         n * _blocks_fit(enc.ws_cap[w][lo:hi + 1], n), 0)
        # inner: a workstation that is not slot-exact counts as slot-exact on its longest even
        # run of open terms, at the run's least capacity (so what fits there fits in truth).
        span = {w: (terms, enc.ws_cap[w][first0]) if model.slot_exact[w]
                else _inner_run(enc.ws_cap[w][first0:last0 + 1]) for w in range(n_w)}
        for m in range(n_m):
            w = enc.m_ws[m]
            if enc.m_cap[m] <= 0 or not (model.slot_exact[w] or inner):
                continue
            arcs(mid0 + w * n_d + np.array(sorted(enc.m_disc[m]), dtype=np.int64), men0 + m,
                 big, 0)
            arcs(men0 + m, ws0 + w, span[w][0] * enc.m_cap[m], 0)
        sums = np.array([span[w][0] * span[w][1] if model.slot_exact[w] or inner
                         else sum(c[lo:hi + 1]) for w, c in enumerate(enc.ws_cap)],
                        dtype=np.int64)
        arcs(ws0 + np.arange(n_w), sink, sums, 0)
        self.tail, self.head, self.cap, _ = (np.concatenate([p[i] for p in parts])
                                             for i in range(4))
        # Cost per unit: SCALE * lcm * (per-student cost) / n, on the column arcs only.
        self.unit = self.lcm // np.maximum(n_col, 1)
        self.base = np.zeros(len(self.tail), dtype=np.int64)
        is_placed = (kind == LISTED) | (kind == OFF)
        per_student = model.col_cost - np.where(is_placed, weight, 0)
        on = self.col_arc >= 0
        self.base[self.col_arc[on]] = self.SCALE * self.unit[on] * per_student[on]

    def solve(self, extra: FloatArray | None = None) -> tuple[float, FloatArray, IntArray]:
        """Min-cost flow with ``extra`` cost per student on each model column.

        Returns the weighted objective (rank cost + extra - weight * placed, per student), the
        model column values of the flow, and the arc flows.
        """
        from ortools.graph.python import min_cost_flow

        cost = self.base.copy()
        if extra is not None:
            on = self.col_arc >= 0
            add = np.rint(self.SCALE * extra[on]).astype(np.int64) * self.unit[on]
            cost[self.col_arc[on]] += add
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(self.tail, self.head, self.cap, cost)
        supply = np.zeros(self.n_nodes, dtype=np.int64)
        supply[0], supply[1] = self.total_units, -self.total_units
        flow.set_nodes_supplies(np.arange(self.n_nodes), supply)
        if flow.solve() != flow.OPTIMAL:
            raise RuntimeError("the slot model's flow relaxation was not solved")
        f = np.asarray(flow.flows(np.arange(len(self.tail))), dtype=np.int64)
        x = np.zeros(self.model.n_cols)
        on = self.col_arc >= 0
        x[on] = f[self.col_arc[on]] / (self.model.col_block[on] * self.model.col_weight[on])
        return float(flow.optimal_cost()) / (self.SCALE * self.lcm), x, f

    def costs(self, extra: FloatArray | None = None) -> IntArray:
        """The arc costs :meth:`solve` uses for ``extra``."""
        cost = self.base.copy()
        if extra is not None:
            on = self.col_arc >= 0
            cost[self.col_arc[on]] += np.rint(self.SCALE * extra[on]).astype(np.int64) * (
                self.unit[on])
        return cost


def flow_prices(enc: Encoded, model: SlotModel, weight: int) -> FlowPrices:
    """Solve the slot model's LP as a min-cost flow in term-places, and price its columns.

    The network carries ``n_i`` units per student ``i``: ``source -> i -> (w, d_i, n_i)`` (or
    ``i -> class -> (w, d, n)`` off the list), then at a slot-exact workstation ``-> (w, d) ->
    m -> w -> sink`` with mentor ``m`` holding at most ``T k_m`` units and ``w`` at most ``T c``
    over the window's ``T`` terms (max-flow min-cut: exactly its Hall rows), elsewhere ``-> (w,
    n) -> w -> sink`` with as many ``n``-term blocks as fit under its term capacities and all
    its term-places (a relaxation: mentors there are left out). A bypass ``source -> sink``
    leaves units unplaced. A column costs ``(r - weight) / n_i`` per unit. Node prices are the
    shortest distances in the residual network (vectorised Bellman-Ford); they price every
    column.
    """
    net = SlotFlow(enc, model, weight)
    value, x, f = net.solve()
    cost = net.costs()
    price = _potentials(net.tail, net.head, net.cap, cost, f, net.n_nodes)
    rc_arc = (cost + price[net.tail] - price[net.head]) / (net.SCALE * net.lcm)
    on = net.col_arc >= 0
    reduced = np.zeros(model.n_cols)
    reduced[on] = rc_arc[net.col_arc[on]] * model.col_block[on] * model.col_weight[on]
    placed = float(x[model.placed_cols].sum())
    return FlowPrices(rank_lb=value + weight * placed, placed=placed, reduced_cost=reduced, x=x)


def _potentials(tail: IntArray, head: IntArray, cap: IntArray, cost: IntArray, flow: IntArray,
                n_nodes: int, rounds: int = 100_000) -> FloatArray:
    """Node prices of an optimal flow: shortest distances in its residual network.

    Every node starts at distance 0 (a virtual root joined to all); Bellman-Ford rounds relax
    every residual arc at once until nothing changes. Optimality means no negative cycle.
    """
    fwd = flow < cap
    back = flow > 0
    t = np.concatenate([tail[fwd], head[back]])
    h = np.concatenate([head[fwd], tail[back]])
    c = np.concatenate([cost[fwd], -cost[back]]).astype(np.float64)
    d = np.zeros(n_nodes)
    for _ in range(rounds):
        cand = d[t] + c
        better = cand < d[h] - 1e-9
        if not better.any():
            break
        new = d.copy()
        np.minimum.at(new, h[better], cand[better])
        d = new
    return d


# ---- solving: the helper process, and the allocation back from its columns ------------------
HELPER_SECONDS_PER_STUDENT = 60e-6
"""Time kept after the helper's deadline, per student, to turn its columns into an allocation
(mentors, starts, supervisors) and a result."""
CUT_SHARE = 0.35
"""Share of the time left after the LP that rounds of cuts (parity and {0, 1/2}) may take."""
PROVINCE_CUT_SHARE = 0.75
"""The same at province scale, where fix and solve around the LP point with cuts then takes
the rest (the helper also stops the rounds while fix and solve's estimated time is left).
Each round makes that point more integral, so fix and solve both lands nearer the bound and
takes less time (tier XL, offline: a round takes 10-29 s; after 2 rounds fix and solve frees
117,000 columns, takes 29 s and lands at 411,733; after 4, 58,000, 12 s, 411,438; after 6,
40,000, 7 s, 411,368, with the bound at 411,283)."""
QUICK_SHARE = 0.4
"""The quick allocation (large models) must be done by this share of the time limit."""
ACTIVE_REDUCED_COST = 0.01
"""The helper's LP starts from the columns at most this much dearer than the flow's choices
(per student, in rank units); pricing brings in the rest it needs (tier M: 2.9 s against
5.5 s with every column)."""


@dataclass
class Outcome:
    """What the helper proved and found.

    Attributes
    ----------
    placed_ub, rank_lb
        Proven bounds (``rank_lb`` for allocations placing ``placed_ub``); None if not reached.
    x
        The best allocation's column values (None if none was found).
    proven_at
        ``time.perf_counter()`` when levels 1-2 were proven (None if they were not).
    state
        The helper's last ``state.json`` (phase, LP value, cuts, events).
    error
        Why the helper ended badly ("" if it did not).
    """

    placed_ub: int | None = None
    rank_lb: int | None = None
    x: FloatArray | None = None
    proven_at: float | None = None
    state: dict[str, Any] | None = None
    error: str = ""


PROOF_COLUMNS = 60_000
"""Models up to this many columns have every count per mentor enforced from the start (so the
helper's proof of the whole model is a proof); larger ones where an allocation needs it."""
ASSIST_COLUMNS = 600_000
"""Above this many columns (province scale) the LP takes a third of the time: the parent
makes a quick allocation meanwhile, and a second helper searches neighbourhoods from it (to
fall back on) while the first computes the bound and then solves around its LP point."""


def run_helper(enc: Encoded, model: SlotModel, *, weight: int, deadline: float, seed: int,
               threads: int, log: bool, active: npt.NDArray[np.bool_] | None = None,
               assist: Any = None, halt: Any = None, on_state: Any = None) -> Outcome:
    """Run :mod:`matcher.solvers.slots_highs` on the model until ``deadline`` (perf_counter).

    ``active`` are the columns the LP starts from. ``assist(work)``, if given, is called here
    while the helper works (on the other core): it may read the helper's LP point
    (``lp.npz``) and write allocations for it (``start.npz``, with :func:`hand_over`), and
    returns False once it has nothing more to do. ``halt()`` (polled) stops the helper early;
    ``on_state(state)`` sees each new state. The helper is killed, never left running, when
    this returns or raises. Without ``assist``, the helper also solves around its LP point
    itself (fix and solve).
    """
    import contextlib
    import json
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="matcher-slots-") as tmp:
        work = Path(tmp)
        np.savez(work / "model.npz", **model.arrays())  # type: ignore[arg-type]
        if active is not None:
            np.save(work / "active.npy", active)
        (work / "job.json").write_text(json.dumps({
            "deadline": time.time() + (deadline - time.perf_counter()), "seed": seed,
            "threads": max(1, threads), "log": log, "placed_weight": weight,
            "placeable": enc.n_placeable,
            "enforce_all": model.n_cols <= PROOF_COLUMNS,
            "cut_share": PROVINCE_CUT_SHARE if assist is not None else CUT_SHARE}),
            encoding="utf-8")
        script = Path(__file__).with_name("slots_highs.py")
        out = Outcome()
        seen: dict[str, str] = {}
        roles = ("both",) if assist is None else ("bound", "search")
        procs: list[Any] = []
        errs: list[Any] = []
        try:
            for role in roles:
                errs.append(open(work / f"stderr_{role}.txt", "wb"))  # noqa: SIM115
                # -P: the script's folder (this package) must not shadow the helper's imports.
                procs.append(subprocess.Popen([sys.executable, "-P", str(script), str(work),
                                               role], stderr=errs[-1],
                                              stdout=2 if log else subprocess.DEVNULL))
            helping = assist is not None
            while any(p.poll() is None for p in procs):
                if helping:
                    helping = bool(assist(work))
                if halt is not None and halt():
                    break
                if time.perf_counter() > deadline + 0.5:
                    out.error = "the HiGHS helper overran its time limit and was stopped"
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    procs[-1].wait(timeout=0.05)
                _read_states(work, out, seen, on_state)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            for err in errs:
                err.close()
        _read_states(work, out, seen, on_state)
        for role, proc in zip(roles, procs, strict=True):
            if proc.returncode not in (0, None) and not out.error and not (halt and halt()):
                tail = (work / f"stderr_{role}.txt").read_text(encoding="utf-8",
                                                              errors="replace").strip()
                out.error = f"the HiGHS helper ({role}) failed (exit {proc.returncode})" + (
                    f": {tail.splitlines()[-1]}" if tail else "")
        out.x = _best_file(work, out.state or {})
    return out


def _best_file(work: Any, state: dict[str, Any]) -> FloatArray | None:
    """The better of the helpers' best allocations (``best.npz``, ``best_search.npz``)."""
    best: FloatArray | None = None
    key: tuple[int, int] | None = None
    for name, part in (("best.npz", "state.json"), ("best_search.npz", "search.json")):
        info = state.get("_parts", {}).get(part, {})
        if info.get("best_rank") is None or not (work / name).is_file():
            continue
        here = (info["best_placed"], -info["best_rank"])
        if key is None or here > key:
            with np.load(work / name) as got:
                best, key = np.asarray(got["x"]), here
    return best


def hand_over(work: Any, x: FloatArray, what: str) -> None:
    """Write an allocation (model columns) for the helper's searches (``start.npz``)."""
    import os

    np.savez(work / "start.tmp.npz", x=x, what=np.array(what))
    os.replace(work / "start.tmp.npz", work / "start.npz")


def _read_states(work: Any, out: Outcome, seen: dict[str, str], on_state: Any) -> None:
    """Take in the helpers' state files that changed; ``out.state`` merges them: the bounds
    and LP of the bound helper, the better allocation of either, their steps in time order."""
    import json

    parts: dict[str, dict[str, Any]] = dict((out.state or {}).get("_parts", {}))
    changed = False
    for name in ("state.json", "search.json"):
        try:
            text = (work / name).read_text(encoding="utf-8")
        except OSError:
            continue
        if text == seen.get(name):
            continue
        try:
            parts[name] = json.loads(text)
        except ValueError:  # replaced atomically, so this should not happen; wait for the next
            continue
        seen[name] = text
        changed = True
    if not changed:
        return
    bound, search = parts.get("state.json", {}), parts.get("search.json", {})
    merged = dict(bound)
    merged["_parts"] = parts
    bests = [(p["best_placed"], p["best_rank"]) for p in (bound, search)
             if p.get("best_rank") is not None]
    if bests:
        merged["best_placed"], merged["best_rank"] = max(bests, key=lambda b: (b[0], -b[1]))
    merged["events"] = sorted(bound.get("events", []) + search.get("events", []),
                              key=lambda e: float(e.split("s ", 1)[0]))
    if search and bound.get("phase") == "done":
        merged["phase"] = search.get("phase")
    out.state = merged
    out.placed_ub, out.rank_lb = merged.get("placed_ub"), merged.get("rank_lb")
    if (out.proven_at is None and out.placed_ub is not None and out.rank_lb is not None
            and merged.get("best_placed") == out.placed_ub
            and merged.get("best_rank") is not None and merged["best_rank"] <= out.rank_lb):
        out.proven_at = time.perf_counter()
    if on_state is not None:
        on_state(merged)


def allocation(enc: Encoded, model: SlotModel, x: FloatArray) -> dict[int, int]:
    """Student -> workstation of the model's column values (off-list classes shared out)."""
    on = np.flatnonzero(np.round(x) > 0.5)
    out: dict[int, int] = {}
    off_members: dict[int, list[int]] = defaultdict(list)
    seats: dict[int, list[int]] = defaultdict(list)
    for j in on.tolist():
        kind = model.col_kind[j]
        if kind == LISTED:
            out[int(model.col_student[j])] = int(model.col_ws[j])
        elif kind == OFF:
            off_members[int(model.col_class[j])].append(int(model.col_student[j]))
        elif kind in (CLASS, PAIR):
            seats[int(model.col_class[j])].extend(
                [int(model.col_ws[j])] * (round(float(x[j])) * int(model.col_weight[j])))
    for c, members in off_members.items():
        # Interchangeable for the model; a student whose own list has the seat's workstation
        # takes it (cheaper in truth than the model counted).
        free = seats.get(c, [])
        rest = []
        for i in members:
            w = next((w for w in free if w in enc.rank_of[i]), None)
            if w is None:
                rest.append(i)
            else:
                free.remove(w)
                out[i] = w
        for i, w in zip(rest, free, strict=False):
            out[i] = w
    return out


def quick_allocation(enc: Encoded, model: SlotModel, weight: int, deadline: float,
                     halt: Any = None) -> dict[int, Choice]:
    """A complete allocation fast, from the flow on a safe inner model (province scale).

    Every workstation counts as slot-exact on its longest even run of open terms at that
    run's least capacity (:class:`SlotFlow` with ``inner``), so what the flow sends where fits
    but for students it splits (a two-term student shared between two places, or between two
    mentors); each student goes where most of it went. Mentors and starts are then packed
    exactly per workstation, and whoever does not fit, or was left out, is placed by
    augmenting moves (:func:`~matcher.solvers.packing.place_unplaced`) until ``deadline``.
    """

    net = SlotFlow(enc, model, weight, inner=True)
    _value, x, _f = net.solve()
    return repaired(enc, _rounded(enc, model, x), deadline, enc.n_placeable, halt)[0]


def repaired(enc: Encoded, station_of: dict[int, int], deadline: float, target: int,
             halt: Any = None) -> tuple[dict[int, Choice], int]:
    """A complete allocation from workstations chosen per student, and how many students did
    not fit where chosen: mentors and starts packed exactly per workstation, supervisors
    chosen, and, while fewer than ``target`` are placed, whoever does not fit (or has no
    workstation) placed by augmenting moves (:func:`~matcher.solvers.packing.place_unplaced`)
    until ``deadline``."""
    from .packing import place_unplaced

    people = mentors_and_starts(enc, station_of, halt)
    sups = supervisors(enc, people)
    chosen = {i: (w, m, sups[i], k) for i, (w, m, k) in people.items() if i in sups}
    misfits = len(station_of) - len(chosen)
    if len(chosen) < target and not (halt is not None and halt()):
        chosen = place_unplaced(enc, chosen, max(deadline, time.perf_counter() + 1.0),
                                stop=halt)
    return chosen, misfits


def _rounded(enc: Encoded, model: SlotModel, x: FloatArray) -> dict[int, int]:
    """Student -> a workstation from a fractional point: where it is whole first; a student
    split between places goes to the one with the largest share that still has term-places
    left (counted per workstation over the common window), else to its largest share (it may
    not fit there: the repair places it anew). Off-list students of a class take the class's
    seats, busiest workstations first."""
    first0, last0 = common_window(enc)
    room = np.array([sum(c[first0:last0 + 1]) for c in enc.ws_cap], dtype=np.int64)
    block = np.asarray(enc.st_block, dtype=np.int64)
    out: dict[int, int] = {}
    options: dict[int, list[tuple[float, int]]] = defaultdict(list)
    listed = np.flatnonzero((model.col_kind == LISTED) & (x > 1e-9))
    for j in listed.tolist():
        options[int(model.col_student[j])].append((float(x[j]), int(model.col_ws[j])))
    seats: dict[int, list[int]] = defaultdict(list)
    for j in np.flatnonzero(((model.col_kind == CLASS) | (model.col_kind == PAIR))
                            & (x > 1e-9)).tolist():
        units = int(np.floor(x[j] * model.col_weight[j] + 0.5))
        seats[int(model.col_class[j])].extend([int(model.col_ws[j])] * units)
    for j in np.flatnonzero((model.col_kind == OFF) & (x > 1e-9)).tolist():
        options[int(model.col_student[j])].append((float(x[j]), -1 - int(model.col_class[j])))

    def place(i: int, w: int) -> None:
        out[i] = w
        room[w] -= block[i]

    def take_seat(i: int, c: int) -> bool:
        if seats.get(c):
            place(i, seats[c].pop(0))
            return True
        return False

    # Whole students first (they are settled), then the split ones, largest share first.
    order = sorted(options, key=lambda i: (-max(o[0] for o in options[i]), i))
    split = []
    for i in order:
        share, where = max(options[i])
        if share < 1 - 1e-6:
            split.append(i)
        elif where >= 0:
            place(i, where)
        else:
            take_seat(i, -1 - where)
    for i in split:
        ranked = sorted(options[i], reverse=True)
        for _share, where in ranked:
            if where >= 0 and room[where] >= block[i]:
                place(i, where)
                break
            if where < 0 and take_seat(i, -1 - where):
                break
        else:
            where = ranked[0][1]
            if where >= 0:
                place(i, where)
    return out


def columns_of(enc: Encoded, model: SlotModel, chosen: dict[int, Choice]) -> FloatArray:
    """The model's column values of an allocation (start and mentor counts left at 0: the
    helper's searches leave them free)."""
    x = np.zeros(model.n_cols)
    col = {(int(model.col_student[j]), int(model.col_ws[j])): j
           for j in np.flatnonzero(model.col_kind == LISTED).tolist()}
    off = {int(model.col_student[j]): j for j in np.flatnonzero(model.col_kind == OFF).tolist()}
    seat: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j in np.flatnonzero((model.col_kind == CLASS) | (model.col_kind == PAIR)).tolist():
        seat[int(model.col_class[j]), int(model.col_ws[j])].append(j)
    count: dict[tuple[int, int], int] = defaultdict(int)
    for i, (w, _m, _s, _k) in chosen.items():
        listed = col.get((i, w))
        if listed is not None:
            x[listed] = 1.0
        elif i in off:
            x[off[i]] = 1.0
            count[int(model.col_class[off[i]]), w] += 1
    for key, k in count.items():
        js = seat.get(key, [])
        pair = [j for j in js if model.col_kind[j] == PAIR]
        single = [j for j in js if model.col_kind[j] == CLASS]
        if pair and single:
            x[pair[0]], x[single[0]] = k // 2, k % 2
        elif single:
            x[single[0]] = k
    return x


def mentors_and_starts(enc: Encoded, station_of: dict[int, int],
                       halt: Any = None) -> dict[int, tuple[int, int, int]]:
    """A mentor and start for every student at its workstation: student -> ``(w, m, k)``.

    Per workstation, students are first fitted one by one (two-term blocks first, then those
    with the fewest mentors); if one does not fit, the workstation is packed exactly
    (:func:`~matcher.solvers.packing.pack_station`). Within the slot model every workstation's
    students fit (the slot lemma, or the start and mentor counts), so nobody is left out unless
    the exact packing is stopped (``halt``) or the model was wrong.
    """
    from .packing import Loads, fit, pack_station

    loads = Loads(enc)
    by_ws: dict[int, list[int]] = defaultdict(list)
    for i, w in sorted(station_of.items()):
        by_ws[w].append(i)
    out: dict[int, tuple[int, int, int]] = {}
    for w in sorted(by_ws):
        students = sorted(by_ws[w], key=lambda i: (-enc.st_block[i],
                                                    len(loads.mentors(i, w)), i))
        got: dict[int, tuple[int, int]] = {}
        for i in students:
            starts = loads.starts_by_station(i).get(w, [])
            km = fit(loads, i, w, starts, enc.st_sup[i])
            if km is None:
                break
            got[i] = km
            _book(loads, i, w, km)
        if len(got) < len(students):
            for i, km in got.items():
                _book(loads, i, w, km, back=True)
            got = {} if halt is not None and halt() else pack_station(loads, w, students)
            for i, km in got.items():
                _book(loads, i, w, km)
        for i, (k, m) in got.items():
            out[i] = (w, m, k)
    return out


def _book(loads: Any, i: int, w: int, km: tuple[int, int], back: bool = False) -> None:
    """Take (or give back) the terms of a start and mentor at ``w``; supervisors apart."""
    k, m = km
    step = 1 if back else -1
    for t in range(k, k + loads.enc.st_block[i]):
        loads.ws_left[w][t] += step
        loads.m_left[m][t] += step


def supervisors(enc: Encoded, placed: dict[int, tuple[int, int, int]]) -> dict[int, int]:
    """A supervisor for every placed student, rewarded pairs with its mentor first.

    Given supervisors are kept. The others are chosen by a min-cost flow: students are
    grouped by ``(university, discipline)`` and, where their mentor is in a rewarded pair,
    by mentor too; a group sends its students to the supervisors it is paired with (paying
    minus the pair's weight) or, at no cost, to its ``(university, discipline)`` pool, which
    reaches every supervisor of that group with room. Students that get none (only possible
    when supervisor limits bind, which :func:`applies` rules out) are left out.
    """
    from ortools.graph.python import min_cost_flow

    out: dict[int, int] = {}
    left = list(enc.s_cap)
    pair_w: dict[int, dict[int, int]] = defaultdict(dict)  # mentor -> supervisor -> weight
    if enc.use_pairs:
        for s, m, wgt in enc.pairs:
            pair_w[m][s] = wgt
    groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for i, (_w, m, _k) in sorted(placed.items()):
        s = enc.st_sup[i]
        if s >= 0:
            out[i] = s
            left[s] -= 1
        else:
            groups[enc.st_univ[i], enc.st_disc[i], m if m in pair_w else -1].append(i)
    if not groups:
        return out
    keys = sorted(groups)
    pools = sorted({(u, d) for u, d, _m in keys})
    n_g, n_p, n_s = len(keys), len(pools), len(left)
    pool0, sup0 = n_g, n_g + n_p
    src, sink = sup0 + n_s, sup0 + n_s + 1
    pix = {ud: k for k, ud in enumerate(pools)}
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs: list[tuple[int, int, int]] = []  # (arc, group, supervisor) for paired arcs
    pool_arcs: list[tuple[int, int, int]] = []  # (arc, pool, supervisor)
    group_pool: list[int] = []
    for g, (u, d, m) in enumerate(keys):
        flow.add_arc_with_capacity_and_unit_cost(src, g, len(groups[u, d, m]), 0)
        group_pool.append(flow.add_arc_with_capacity_and_unit_cost(
            g, pool0 + pix[u, d], len(groups[u, d, m]), 0))
        for s, wgt in sorted(pair_w.get(m, {}).items()):
            if left[s] > 0 and enc.s_univ[s] == u and d in enc.s_disc[s]:
                arcs.append((flow.add_arc_with_capacity_and_unit_cost(g, sup0 + s, left[s],
                                                                      -wgt), g, s))
    for s in range(n_s):
        if left[s] <= 0:
            continue
        flow.add_arc_with_capacity_and_unit_cost(sup0 + s, sink, left[s], 0)
        for d in enc.s_disc[s]:
            k = pix.get((enc.s_univ[s], d))
            if k is not None:
                pool_arcs.append((flow.add_arc_with_capacity_and_unit_cost(
                    pool0 + k, sup0 + s, left[s], 0), k, s))
    total = sum(len(members) for members in groups.values())
    flow.set_node_supply(src, total)
    flow.set_node_supply(sink, -total)
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        return out
    pool = {key: list(members) for key, members in groups.items()}
    for arc, g, s in arcs:  # paired supervisors first
        members = pool[keys[g]]
        for _ in range(flow.flow(arc)):
            out[members.pop()] = s
    # What each pool received, group by group, goes to its supervisors in turn.
    waiting: dict[int, list[int]] = defaultdict(list)
    for g, arc in enumerate(group_pool):
        units = flow.flow(arc)
        members = pool[keys[g]]
        waiting[pix[keys[g][0], keys[g][1]]].extend(members.pop() for _ in range(units))
    for arc, k, s in pool_arcs:
        for _ in range(flow.flow(arc)):
            out[waiting[k].pop()] = s
    return out


def solve_slots(enc: Encoded, config: Any, t0: float, halt: Any, name: str) -> Any:
    """Levels 1-2 by the slot model (see the module docstring); a :class:`Result`, or None
    when the locks cannot all be honoured (the model is infeasible).

    Parameters
    ----------
    enc
        The encoded problem; :func:`applies` must have returned "".
    config
        The solver configuration (time limit, seed, workers, log).
    t0
        ``time.perf_counter()`` when the solve began (the time limit counts from it).
    halt
        Polled; the name of the signal that asks the search to stop ("" while none did): the
        best allocation so far is then returned as FEASIBLE.
    name
        The solver name for the result.
    """
    import time

    from .. import progress
    from ..model.result import Status
    from .base import build_result
    from .milp import relax_weight

    deadline = t0 + config.time_limit_s
    stats: dict[str, Any] = {"engine": "slot model + HiGHS"}
    model = build(enc)
    huge = model.n_cols > ASSIST_COLUMNS
    stats.update(columns=model.n_cols, rows=model.n_rows,
                 slot_exact_workstations=int(model.slot_exact.sum()),
                 build_seconds=round(time.perf_counter() - t0, 3))
    if model.n_cols == 0:  # nobody has an allowed option: the empty allocation is optimal
        return build_result(enc, name, Status.OPTIMAL, {}, config, time.perf_counter() - t0,
                            placed_upper_bound=0, rank_cost_lower_bound=0,
                            stats=stats | {"proven_seconds": round(time.perf_counter() - t0, 3)})
    weight = relax_weight(enc)
    prices = flow_prices(enc, model, weight)
    active = ((prices.reduced_cost <= ACTIVE_REDUCED_COST) | (model.col_kind == SPLIT)) & (
        model.col_kind != MENTOR)
    # The flow sends students to the other workstations beyond what fits there: they need
    # their alternatives from the start (tier XL: the LP's first round then lands within
    # 0.1% of the optimum instead of leaving 600 students out).
    beyond = (model.col_kind == LISTED) & (prices.x > 1e-9) & ~model.slot_exact[
        np.maximum(model.col_ws, 0)]
    active |= np.isin(model.col_student, model.col_student[beyond]) & (model.col_student >= 0)
    stats["flow_seconds"] = round(time.perf_counter() - t0, 3)
    finish = max(0.5, HELPER_SECONDS_PER_STUDENT * enc.n_students)
    helper_deadline = max(time.perf_counter() + 0.5, deadline - finish)

    def show(state: dict[str, Any]) -> None:
        best, bound = state.get("best_rank"), state.get("rank_lb")
        gap = (best - bound) / best if best and bound is not None else None
        progress.update(elapsed=time.perf_counter() - t0, best=best, bound=bound, gap=gap,
                        note=state.get("phase"))

    quick: dict[int, Choice] = {}

    def assist(work: Any) -> bool:
        # On the second core while the helper solves the LP: a complete allocation to start
        # the second helper's searches from (and to fall back on). Nothing more: the core is
        # the search's from then on (the LP point rounded here, 417,200 at tier XL in 50 s,
        # cost the cut rounds and fix and solve their time).
        nonlocal quick
        quick = quick_allocation(enc, model, weight, t0 + QUICK_SHARE * config.time_limit_s,
                                 halt)
        stats["quick_rank_cost"] = enc.rank_cost(quick)
        stats["quick_seconds"] = round(time.perf_counter() - t0, 3)
        hand_over(work, columns_of(enc, model, quick), "the quick allocation")
        return False

    out = run_helper(enc, model, weight=weight, deadline=helper_deadline, seed=config.seed,
                     # large: the other core makes the quick allocation here (assist)
                     threads=config.workers if not huge else 1, log=config.log, active=active,
                     assist=assist if huge else None, halt=halt, on_state=show)
    state = out.state or {}
    if state.get("phase") == "infeasible":
        return None  # only locks make it so: the caller's exact path names them
    # The helper's steps, without their times (a stable summary for the same seed).
    parts = state.get("_parts", {})
    stats["neighbourhoods"] = sum(int(p.get("tried", 0)) for p in parts.values())
    stats.update(helper_phase=state.get("phase"), lp_rank=state.get("lp_rank"),
                 cuts=state.get("cuts"), flow_rank_bound=round(prices.rank_lb, 3),
                 helper_steps=[e.split(" ", 1)[-1] for e in state.get("events", [])],
                 helper_steps_seconds=[float(e.split("s ", 1)[0]) for e in state.get("events",
                                                                                     [])])
    if out.error:
        stats["helper_error"] = out.error
    station_of = allocation(enc, model, out.x) if out.x is not None else {}
    finish_from = time.perf_counter()
    # Without the counts per mentor (large models) a workstation's students may need a
    # two-term student split between mentors: those that do not fit are placed anew.
    chosen, misfits = repaired(enc, station_of, deadline, len(station_of), halt)
    if misfits and not (halt is not None and halt()):
        stats["left_by_disaggregation"] = misfits
    def better(a: dict[int, Choice], b: dict[int, Choice]) -> bool:
        return (len(a), -enc.rank_cost(a)) > (len(b), -enc.rank_cost(b))

    if quick and better(quick, chosen):
        chosen = quick
    if not chosen and enc.n_placeable:
        # The helper found no allocation in the time (a limit of a second or two on thousands
        # of students) or failed: the flow's point rounded and repaired (a generated
        # 8,000-student cohort: all placed, 3.7% above the optimum, in 0.7 s), unless stopped
        # by a signal; the greedy allocation (0.1 s; 7,176 placed there) if that is better.
        from .greedy import serial_dictatorship

        if not (halt is not None and halt()):
            chosen = repaired(enc, _rounded(enc, model, prices.x), deadline, enc.n_placeable,
                              halt)[0]
            stats["fallback"] = "flow rounded"
        greedy = serial_dictatorship(enc)[0]
        if better(greedy, chosen):
            chosen = greedy
            stats["fallback"] = "greedy"
    stats["finish_seconds"] = round(time.perf_counter() - finish_from, 3)
    placed_ub = out.placed_ub
    rank_lb = out.rank_lb if placed_ub is not None and len(chosen) == placed_ub else None
    if placed_ub is None:
        placed_ub = enc.n_placeable
    rank = enc.rank_cost(chosen)
    proven = (len(chosen) == placed_ub and rank_lb is not None and rank <= rank_lb
              and not (halt is not None and halt()))
    if proven:
        stats["proven_seconds"] = round((out.proven_at or time.perf_counter()) - t0, 3)
    if halt is not None and halt():
        msg = f"stopped by {halt()}: the best allocation found so far"
    elif proven:
        msg = ""
    elif not chosen:
        msg = "no allocation found within the time limit" + (f" ({out.error})" if out.error
                                                            else "")
    else:
        msg = "time limit reached before levels 1 and 2 were proven optimal"
    status = (Status.OPTIMAL if proven else Status.FEASIBLE if chosen or enc.n_placeable == 0
              else Status.UNKNOWN)
    return build_result(enc, name, status, chosen, config, time.perf_counter() - t0,
                        placed_upper_bound=placed_ub, rank_cost_lower_bound=rank_lb,
                        stats=stats, message=msg)
