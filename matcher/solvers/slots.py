"""The slot model: levels 1-2 as a compact exact MILP whose LP, with parity cuts, is nearly tight.

Notation: students ``i`` (block length ``n_i``, discipline ``d_i``), workstations ``w``
(capacity ``c_w,t`` per term), mentors ``m`` (capacity ``k_m`` per term, disciplines ``D_m``),
one common window of ``T`` terms.

The slot lemma
    At a workstation whose capacity is the same ``c`` in every term of a window of even length
    ``T``, students needing blocks of one or two terms inside that window can be given mentors
    and starts keeping every term's workstation and mentor limit **if and only if**, for every
    set ``S`` of the disciplines placed there,

        sum over students with d_i in S of n_i  <=  T * min(c, sum of k_m over mentors m
                                                         with D_m meeting S)            (Hall)

    Necessity: every term holds at most ``c`` students and each mentor at most ``k_m``, and a
    student of a discipline in ``S`` takes ``n_i`` term-places of a mentor meeting ``S``.
    Sufficiency is checked exhaustively on random boundary cases against an exact schedule
    (``tests/test_slots.py``; the right-hand sides are even, so a two-term block never has to be
    split between mentors or between pairs of terms). Such a workstation is *slot-exact*: its
    limits become a handful of rows on the students placed there, with no mentor or start
    variables at all; the mentors and starts are chosen afterwards
    (:func:`matcher.solvers.packing.pack_station`, exact).

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
                block, window) at ``w``.
    ``z[a,m,k]`` integer, other workstations only: students of type ``a = (w, d, n, first,
                last)`` with mentor ``m`` starting in term ``k``.

Rows
    one placement: ``sum_w x[i,w] + v[i] <= 1`` (``= 1`` when locked);
    class links: ``sum_{i in c} v[i] = sum_w o[c,w]``;
    Hall rows of slot-exact workstations (above);
    type links ``sum x + sum o = sum z`` and term rows of the other workstations.

Parity cuts
    A Hall row reads ``2 X2 + X1 <= B`` with ``B`` even (``X2``, ``X1``: the two- and one-term
    students it counts). For any set ``J`` of its one-term columns whose upper bounds sum to an
    odd ``U``, half the row plus half of ``x_j <= ub_j`` (``j`` in ``J``), rounded down, gives the
    Chvatal-Gomory cut ``X2 + sum_{j in J} x_j <= B/2 + (U - 1)/2``. The LP alone leaves a
    one-term place at a full workstation to half a two-term student; these cuts forbid it.
    Tier M: LP 74,536, with cuts 74,779, optimum about 74,786.

This module builds the model as plain arrays (:class:`SlotModel`); the LP, the cuts and the
searches run in a HiGHS helper process (:mod:`matcher.solvers.slots_highs`).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..encoding import Encoded

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Column kinds.
LISTED, OFF, CLASS, SPLIT = 0, 1, 2, 3
# Row kinds.
ONE, LINK, HALL, TYPE, TERM = 0, 1, 2, 3, 4


@dataclass(frozen=True, eq=False)
class SlotModel:
    """The slot model of one problem as plain arrays (see the module docstring).

    Columns and rows are numbered in build order; rows are stored by row (CSR).

    Attributes
    ----------
    col_kind, col_student, col_ws, col_class, col_block
        Per column: kind (``LISTED``, ``OFF``, ``CLASS``, ``SPLIT``), student (-1 if none),
        workstation (-1 for ``OFF``), class (-1 unless ``OFF`` or ``CLASS``), block length.
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
        self.cols: list[tuple[int, int, int, int, int, int, int]] = []
        self.row_kind: list[int] = []
        self.row_lo: list[float] = []
        self.row_hi: list[float] = []
        self.row_start: list[int] = [0]
        self.row_col: list[int] = []
        self.row_val: list[float] = []

    def col(self, kind: int, student: int, w: int, cls: int, n: int, cost: int, ub: int
            ) -> int:
        self.cols.append((kind, student, w, cls, n, cost, ub))
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
    """The slot model of ``enc`` (call :func:`applies` first: it must be "")."""
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
            j = b.col(CLASS, -1, w, cidx[key], n, 0, len(members))
            at[w, (d, n, f, last)].append(j)
            cols.append(j)
            vals.append(-1.0)
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

    cols_arr = np.array(b.cols, dtype=np.int64).reshape(-1, 7)
    col_class = cols_arr[:, 3].copy()
    for j, k in col_class_fix:
        col_class[j] = k
    return SlotModel(
        col_kind=cols_arr[:, 0], col_student=cols_arr[:, 1], col_ws=cols_arr[:, 2],
        col_class=col_class, col_block=cols_arr[:, 4], col_cost=cols_arr[:, 5],
        col_ub=cols_arr[:, 6],
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
                vals.extend([float(n)] * len(js))
                most += n * sum(b.cols[j][6] for j in js)
        if most > bound:  # else the row can never bind
            b.row(HALL, -np.inf, float(bound), cols, vals)


def _terms(b: _Builder, enc: Encoded, w: int,
           kinds: list[tuple[tuple[int, int, int, int], list[int]]]) -> None:
    """Start and mentor counts per student type, with every term's limits (exact)."""
    ws_terms: dict[int, list[int]] = defaultdict(list)
    m_terms: dict[tuple[int, int], list[int]] = defaultdict(list)
    for (d, n, f, last), js in kinds:
        most = sum(b.cols[j][6] for j in js)
        split = []
        for m in enc.mentors_for(w, d):
            for k in enc.starts(w, n, f, last):
                j = b.col(SPLIT, -1, w, -1, n, 0, min(most, enc.m_cap[m]))
                split.append(j)
                for t in range(k, k + n):
                    ws_terms[t].append(j)
                    m_terms[m, t].append(j)
        b.row(TYPE, 0.0, 0.0, js + split, [1.0] * len(js) + [-1.0] * len(split))
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
    """

    rank_lb: float
    placed: float
    reduced_cost: FloatArray


def flow_prices(enc: Encoded, model: SlotModel, weight: int) -> FlowPrices:
    """Solve the slot model's LP as a min-cost flow in term-places, and price its columns.

    The network carries ``n_i`` units per student ``i``: ``source -> i -> (w, d_i) -> m -> w ->
    sink`` (or ``i -> class -> (w, d)`` off the list), mentor ``m`` holding at most ``T k_m``
    units and workstation ``w`` at most ``sum_t c_w,t`` over the window's ``T`` terms; a bypass
    ``source -> sink`` leaves units unplaced. Per unit a column costs ``L (r - weight) / n_i``
    (``L`` the least common multiple of the block lengths, so the costs are integers). At
    slot-exact workstations these limits are the Hall rows (max-flow min-cut), so the flow is
    the model's LP there; elsewhere it relaxes the term rows. Node prices are the shortest
    distances in the residual network (vectorised Bellman-Ford); they price every column.
    """
    from ortools.graph.python import min_cost_flow

    first0, last0 = common_window(enc)
    terms = last0 - first0 + 1
    lcm = int(np.lcm.reduce(np.unique(model.col_block))) if model.n_cols else 1
    n_s, n_c, n_w = enc.n_students, len(model.class_members), len(enc.workstation_ids)
    n_d, n_m = len(enc.disciplines), len(enc.mentor_ids)
    src, sink = 0, 1
    stu0 = 2
    cls0 = stu0 + n_s
    typ0 = cls0 + n_c  # (w, d) -> typ0 + w * n_d + d
    men0 = typ0 + n_w * n_d
    ws0 = men0 + n_m
    n_nodes = ws0 + n_w
    tails: list[IntArray] = []
    heads: list[IntArray] = []
    caps: list[IntArray] = []
    costs: list[IntArray] = []

    def arcs(t: Any, h: Any, cap: Any, cost: Any) -> None:
        shapes = [np.shape(a) for a in (t, h, cap, cost) if np.ndim(a)]
        size = shapes[0][0] if shapes else 1
        tails.append(np.broadcast_to(np.asarray(t, dtype=np.int64), size).copy())
        heads.append(np.broadcast_to(np.asarray(h, dtype=np.int64), size).copy())
        caps.append(np.broadcast_to(np.asarray(cap, dtype=np.int64), size).copy())
        costs.append(np.broadcast_to(np.asarray(cost, dtype=np.int64), size).copy())

    block = np.array(enc.st_block, dtype=np.int64)
    disc = np.array(enc.st_disc, dtype=np.int64)
    has = model.student_row >= 0
    arcs(src, stu0 + np.flatnonzero(has), block[has], 0)
    total_units = int(block[has].sum())
    arcs(src, sink, total_units, 0)
    kind, stud, ws, cls = model.col_kind, model.col_student, model.col_ws, model.col_class
    unit = lcm // np.maximum(model.col_block, 1)  # cost multiplier per unit
    listed = np.flatnonzero(kind == LISTED)
    arcs(stu0 + stud[listed], typ0 + ws[listed] * n_d + disc[stud[listed]],
         model.col_block[listed], unit[listed] * (model.col_cost[listed] - weight))
    off = np.flatnonzero(kind == OFF)
    arcs(stu0 + stud[off], cls0 + cls[off], model.col_block[off],
         unit[off] * (model.col_cost[off] - weight))
    klass = np.flatnonzero(kind == CLASS)
    cls_disc = np.array([enc.st_disc[m[0]] for m in model.class_members], dtype=np.int64)
    arcs(cls0 + cls[klass], typ0 + ws[klass] * n_d + cls_disc[cls[klass]],
         model.col_block[klass] * model.col_ub[klass], 0)
    big = total_units
    for m in range(n_m):
        if enc.m_cap[m] <= 0:
            continue
        w = enc.m_ws[m]
        arcs(typ0 + w * n_d + np.array(sorted(enc.m_disc[m]), dtype=np.int64), men0 + m, big, 0)
        arcs(men0 + m, ws0 + w, terms * enc.m_cap[m], 0)
    arcs(ws0 + np.arange(n_w), sink,
         np.array([sum(c[first0:last0 + 1]) for c in enc.ws_cap], dtype=np.int64), 0)
    tail, head = np.concatenate(tails), np.concatenate(heads)
    cap, cost = np.concatenate(caps), np.concatenate(costs)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tail, head, cap, cost)
    supply = np.zeros(n_nodes, dtype=np.int64)
    supply[src], supply[sink] = total_units, -total_units
    flow.set_nodes_supplies(np.arange(n_nodes), supply)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("the slot model's flow relaxation was not solved")
    f = np.asarray(flow.flows(np.arange(len(tail))), dtype=np.int64)
    price = _potentials(tail, head, cap, cost, f, n_nodes)
    # Column prices, per student: (cost + d[tail] - d[head]) / unit.
    n_listed = len(listed)
    first = 2  # the source arcs and the bypass come first
    n_first = int(has.sum()) + 1
    rc_arc = cost + price[tail] - price[head]
    reduced = np.zeros(model.n_cols)
    reduced[listed] = rc_arc[n_first:n_first + n_listed] / unit[listed]
    reduced[off] = rc_arc[n_first + n_listed:n_first + n_listed + len(off)] / unit[off]
    start = n_first + n_listed + len(off)
    reduced[klass] = rc_arc[start:start + len(klass)] / unit[klass]
    del first
    placed_units = f[:n_first - 1].sum()
    value = float(flow.optimal_cost()) / lcm
    placed = float(np.sum(f[n_first:n_first + n_listed] / model.col_block[listed])
                   + np.sum(f[n_first + n_listed:n_first + n_listed + len(off)]
                            / model.col_block[off]))
    del placed_units
    return FlowPrices(rank_lb=value + weight * placed, placed=placed, reduced_cost=reduced)


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


def run_helper(enc: Encoded, model: SlotModel, *, weight: int, deadline: float, seed: int,
               threads: int, log: bool, active: npt.NDArray[np.bool_] | None = None,
               halt: Any = None, on_state: Any = None) -> Outcome:
    """Run :mod:`matcher.solvers.slots_highs` on the model until ``deadline`` (perf_counter).

    ``halt()`` (polled) stops it early; ``on_state(state)`` sees each new ``state.json``. The
    helper is killed, never left running, when this returns or raises.
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
        np.savez(work / "model.npz", **{name: getattr(model, name) for name in (
            "col_kind", "col_student", "col_ws", "col_class", "col_block", "col_cost",
            "col_ub", "row_kind", "row_lo", "row_hi", "row_start", "row_col", "row_val")})
        if active is not None:
            np.save(work / "active.npy", active)
        (work / "job.json").write_text(json.dumps({
            "deadline": time.time() + (deadline - time.perf_counter()), "seed": seed,
            "threads": max(1, threads), "log": log, "placed_weight": weight,
            "placeable": enc.n_placeable}), encoding="utf-8")
        script = Path(__file__).with_name("slots_highs.py")
        out = Outcome()
        seen = ""
        with open(work / "stderr.txt", "wb") as err:
            # -P: the script's folder (this package) must not shadow the helper's imports.
            proc = subprocess.Popen([sys.executable, "-P", str(script), str(work)], stderr=err,
                                    stdout=2 if log else subprocess.DEVNULL)
            try:
                while proc.poll() is None:
                    if halt is not None and halt():
                        break
                    if time.perf_counter() > deadline + 0.5:
                        out.error = "the HiGHS helper overran its time limit and was stopped"
                        break
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=0.05)
                    seen = _read_state(work, out, seen, on_state)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        _read_state(work, out, seen, on_state)
        if proc.returncode not in (0, None) and not out.error and not (halt and halt()):
            tail = (work / "stderr.txt").read_text(encoding="utf-8", errors="replace").strip()
            out.error = f"the HiGHS helper failed (exit {proc.returncode})" + (
                f": {tail.splitlines()[-1]}" if tail else "")
        if (work / "best.npz").is_file():
            with np.load(work / "best.npz") as got:
                out.x = got["x"]
    return out


def _read_state(work: Any, out: Outcome, seen: str, on_state: Any) -> str:
    """Take in ``state.json`` if it changed since ``seen`` (its text)."""
    import json
    import time

    path = work / "state.json"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return seen
    if text == seen:
        return seen
    try:
        state = json.loads(text)
    except ValueError:  # replaced atomically, so this should not happen; wait for the next
        return seen
    out.state = state
    out.placed_ub = state.get("placed_ub")
    out.rank_lb = state.get("rank_lb")
    if state.get("proven_after") is not None and out.proven_at is None:
        out.proven_at = time.perf_counter() - (state["seconds"] - state["proven_after"])
    if on_state is not None:
        on_state(state)
    return text


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
        elif kind == CLASS:
            seats[int(model.col_class[j])].extend([int(model.col_ws[j])] * round(float(x[j])))
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

    Given supervisors are kept; the others are chosen by a min-cost flow from ``(university,
    discipline, mentor)`` groups to the supervisors with room, each unit of flow paying minus
    the pair weight of its supervisor and the group's mentor. Students that get none (only
    possible when supervisor limits bind, which :func:`applies` rules out) are left out.
    """
    from ortools.graph.python import min_cost_flow

    out: dict[int, int] = {}
    left = list(enc.s_cap)
    groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for i, (_w, m, _k) in sorted(placed.items()):
        s = enc.st_sup[i]
        if s >= 0:
            out[i] = s
            left[s] -= 1
        else:
            groups[enc.st_univ[i], enc.st_disc[i], m].append(i)
    if not groups:
        return out
    pair_w = {(s, m): wgt for s, m, wgt in enc.pairs} if enc.use_pairs else {}
    keys = sorted(groups)
    n_g = len(keys)
    src, sink = n_g + len(left), n_g + len(left) + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    by_ud: dict[tuple[int, int], list[int]] = defaultdict(list)
    for s in range(len(left)):
        if left[s] > 0:
            for d in enc.s_disc[s]:
                by_ud[enc.s_univ[s], d].append(s)
    arcs: list[tuple[int, int, int]] = []  # (arc, group, supervisor)
    for g, (u, d, m) in enumerate(keys):
        flow.add_arc_with_capacity_and_unit_cost(src, g, len(groups[u, d, m]), 0)
        for s in by_ud.get((u, d), []):
            arc = flow.add_arc_with_capacity_and_unit_cost(g, n_g + s, left[s],
                                                           -pair_w.get((s, m), 0))
            arcs.append((arc, g, s))
    for s in range(len(left)):
        if left[s] > 0:
            flow.add_arc_with_capacity_and_unit_cost(n_g + s, sink, left[s], 0)
    total = sum(len(members) for members in groups.values())
    flow.set_node_supply(src, total)
    flow.set_node_supply(sink, -total)
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        return out
    pool = {key: list(members) for key, members in groups.items()}
    for arc, g, s in arcs:
        members = pool[keys[g]]
        for _ in range(flow.flow(arc)):
            out[members.pop()] = s
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
    from ..result import Status
    from .base import build_result
    from .milp import relax_weight

    deadline = t0 + config.time_limit_s
    stats: dict[str, Any] = {"engine": "slot model + HiGHS"}
    model = build(enc)
    stats.update(columns=model.n_cols, rows=model.n_rows,
                 slot_exact_workstations=int(model.slot_exact.sum()),
                 build_seconds=round(time.perf_counter() - t0, 3))
    if model.n_cols == 0:  # nobody has an allowed option: the empty allocation is optimal
        return build_result(enc, name, Status.OPTIMAL, {}, config, time.perf_counter() - t0,
                            placed_upper_bound=0, rank_cost_lower_bound=0,
                            stats=stats | {"proven_seconds": round(time.perf_counter() - t0, 3)})
    weight = relax_weight(enc)
    prices = flow_prices(enc, model, weight)
    active = (prices.reduced_cost <= ACTIVE_REDUCED_COST) | (model.col_kind == SPLIT)
    stats["flow_seconds"] = round(time.perf_counter() - t0, 3)
    finish = max(0.5, HELPER_SECONDS_PER_STUDENT * enc.n_students)
    helper_deadline = max(time.perf_counter() + 0.5, deadline - finish)

    def show(state: dict[str, Any]) -> None:
        best, bound = state.get("best_rank"), state.get("rank_lb")
        gap = (best - bound) / best if best and bound is not None else None
        progress.update(elapsed=time.perf_counter() - t0, best=best, bound=bound, gap=gap,
                        note=state.get("phase"))

    out = run_helper(enc, model, weight=weight, deadline=helper_deadline, seed=config.seed,
                     threads=config.workers, log=config.log, active=active, halt=halt,
                     on_state=show)
    state = out.state or {}
    if state.get("phase") == "infeasible":
        return None  # only locks make it so: the caller's exact path names them
    # The helper's steps, without their times (a stable summary for the same seed).
    stats.update(helper_phase=state.get("phase"), lp_rank=state.get("lp_rank"),
                 parity_cuts=state.get("cuts"),
                 helper_steps=[e.split(" ", 1)[-1] for e in state.get("events", [])])
    if out.error:
        stats["helper_error"] = out.error
    station_of = allocation(enc, model, out.x) if out.x is not None else {}
    people = mentors_and_starts(enc, station_of, halt)
    sups = supervisors(enc, people)
    chosen = {i: (w, m, sups[i], k) for i, (w, m, k) in people.items() if i in sups}
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
