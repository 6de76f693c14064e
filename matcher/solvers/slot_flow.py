"""The slot model's LP relaxation as a min-cost flow in term-places: a bound, prices, a guide.

The network (:class:`SlotFlow`, :func:`flow_prices`) gives, without any LP solver, a rank-cost
bound, each column's reduced cost (which columns the helper's LP starts from) and a point the
rounding can start from; on a safe inner model it gives a quick complete allocation at province
scale (:func:`matcher.solvers.slot_rounding.quick_allocation`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..encoding import Encoded
from . import clock
from .slots import CLASS, LISTED, OFF, PAIR, FloatArray, IntArray, SlotModel, common_window

NETWORK_SECONDS_PER_ARC = 3e-6
"""Deterministic cost model (:mod:`matcher.solvers.clock`): building the network, per arc
(``benchmarks/calibrate.py``, 2026-12-07, CPU at load 4-12: tier M 7.0e-6, tier XL 4.9e-6;
8e-6 before, then 6e-6). Halved since with the other rates of the province path: see
:data:`matcher.solvers.highs.common.SETUP_SECONDS_PER_ENTRY`."""
FLOW_SECONDS_PER_ARC = 6e-6
"""Deterministic cost model: OR-Tools' min-cost flow on it, per arc (``benchmarks/calibrate.py``,
2026-12-07, CPU: tier M, 249,000 arcs, 9.8e-6 for the weighted flow and 5.7e-6 for the maximum
flow; tier XL, 1.25 million arcs, 14.6e-6 and 10.2e-6, at load 12; 1.2e-5 then), halved
since (quiet machine: see :data:`NETWORK_SECONDS_PER_ARC`)."""


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
    value: float = 0.0
    weight: int = 0
    max_placed: float = 0.0

    def placed_ub(self) -> int:
        """Proven: no allocation places more students (the maximum flow, rounded down)."""
        return math.floor(self.max_placed + 1e-6)

    def rank_lb_at(self, placed: int) -> int:
        """Proven: no allocation placing ``placed`` students has a lower rank cost. Every such
        allocation is a point of the relaxation, so its ``rank - weight * placed`` is at least
        the flow's optimum ``value`` (exact where ``placed`` is the flow's own count)."""
        return max(0, math.ceil(self.value + self.weight * placed - 1e-6))


def blocks_fit(caps: list[int], n: int) -> int:
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
                         n * blocks_fit(enc.ws_cap[w][lo:hi + 1], n), 0)
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
        clock.charge(NETWORK_SECONDS_PER_ARC * len(self.tail))

    def _flow(self, cost: IntArray, what: str) -> Any:
        """The network with these arc costs, every unit sent from source to sink, solved
        (OR-Tools' min-cost flow; its work charged to the clock)."""
        from ortools.graph.python import min_cost_flow

        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(self.tail, self.head, self.cap, cost)
        supply = np.zeros(self.n_nodes, dtype=np.int64)
        supply[0], supply[1] = self.total_units, -self.total_units
        flow.set_nodes_supplies(np.arange(self.n_nodes), supply)
        if flow.solve() != flow.OPTIMAL:
            raise RuntimeError(f"the slot model's {what} was not solved")
        clock.charge(FLOW_SECONDS_PER_ARC * len(self.tail))
        return flow

    def solve(self, extra: FloatArray | None = None) -> tuple[float, FloatArray, IntArray]:
        """Min-cost flow with ``extra`` cost per student on each model column.

        Returns the weighted objective (rank cost + extra - weight * placed, per student), the
        model column values of the flow, and the arc flows.
        """
        cost = self.base.copy()
        if extra is not None:
            on = self.col_arc >= 0
            add = np.rint(self.SCALE * extra[on]).astype(np.int64) * self.unit[on]
            cost[self.col_arc[on]] += add
        flow = self._flow(cost, "flow relaxation")
        f = np.asarray(flow.flows(np.arange(len(self.tail))), dtype=np.int64)
        x = np.zeros(self.model.n_cols)
        on = self.col_arc >= 0
        x[on] = f[self.col_arc[on]] / (self.model.col_block[on] * self.model.col_weight[on])
        return float(flow.optimal_cost()) / (self.SCALE * self.lcm), x, f

    def max_placed(self) -> float:
        """The most students the relaxation places (fractional: a two-term student may send
        one unit only): a maximum flow in which each unit of a student of ``n`` terms counts
        ``1 / n``, solved as a min-cost flow. Its floor bounds the students any allocation
        places (the network is a relaxation of every rule but supervisors, which
        :func:`matcher.solvers.slots.applies` has ruled out as binding)."""
        cost = np.zeros(len(self.tail), dtype=np.int64)
        placed = (self.model.col_kind == LISTED) | (self.model.col_kind == OFF)
        on = (self.col_arc >= 0) & placed
        cost[self.col_arc[on]] = -self.unit[on]
        flow = self._flow(cost, "maximum flow")
        return -float(flow.optimal_cost()) / self.lcm

    FINE = 16
    """:meth:`count_bound` prices a placed student in steps of ``1 / (FINE * SCALE)`` rank."""

    def _priced(self, step: int) -> tuple[int, int]:
        """Min-cost flow with a reward of ``step / (FINE * SCALE)`` per placed student (rank
        costs as they are): ``(R, q)``, the flow's rank cost in units of ``FINE * SCALE *
        lcm`` and its placed count in units of ``lcm`` (both exact integers)."""
        model = self.model
        on = self.col_arc >= 0
        placed = ((model.col_kind == LISTED) | (model.col_kind == OFF))[on]
        arc, unit = self.col_arc[on], self.unit[on]
        rank = np.zeros(len(self.tail), dtype=np.int64)
        rank[arc] = self.FINE * self.SCALE * unit * model.col_cost[on]
        cost = rank.copy()
        cost[arc[placed]] -= step * unit[placed]
        flow = self._flow(cost, "flow relaxation")
        f = np.asarray(flow.flows(np.arange(len(self.tail))), dtype=np.int64)
        return int((rank * f).sum()), int((f[arc[placed]] * unit[placed]).sum())

    def count_bound(self, placed: int, rounds: int = 8, *, until: float | None = None,
                    top: tuple[float, float] | None = None) -> int:
        """Proven: no allocation placing at least ``placed`` students has a lower rank cost.

        For every reward ``λ >= 0`` per placed student, each such allocation (a point of the
        relaxation) has ``rank >= min over the relaxation of (rank - λ placed) + λ placed``;
        the best ``λ`` gives the relaxation's optimum *at that count* (Lagrangian duality for
        one constraint), which :meth:`solve`'s single reward (``weight``, exact only at the
        flow's own count) gives only at the largest count. ``λ`` is found by Newton's method
        on the concave, piecewise linear dual, from ``λ = 0`` (the empty flow: costs are never
        negative) and ``λ = weight`` (``top``: that flow's rank cost and placed count, known
        from :func:`flow_prices`, else solved here): the two flows whose counts lie on either
        side of ``placed`` give the next ``λ`` where their lines meet. It ends at the dual's
        top, after ``rounds`` flows, or once :func:`clock.now` passes ``until`` (after the
        first flow). Every ``λ`` tried gives a valid bound; the best is returned, rounded up
        (rank costs are whole).
        """
        denom = self.FINE * self.SCALE * self.lcm
        target = self.lcm * placed

        def bound(step: int, got: tuple[int, int]) -> int:
            # R - step q + step target, over denom, rounded up (exact integers)
            return -((-(got[0] + step * (target - got[1]))) // denom)

        lo_step, hi_step = 0, self.FINE * self.SCALE * self.weight
        lo = (0, 0)  # λ = 0: placing nobody costs nothing, and nothing costs less
        best = 0
        if target <= 0:
            return best
        hi = ((round(top[0] * denom), round(top[1] * self.lcm)) if top is not None
              else self._priced(hi_step))
        best = max(best, bound(hi_step, hi))
        for k in range(rounds):
            if hi[1] <= target:
                break  # (λ = weight already places no more than asked: optimal)
            if k and until is not None and clock.now() >= until:
                break
            # where the lines R_lo + λ (t - q_lo) and R_hi + λ (t - q_hi) meet
            step = (hi[0] - lo[0]) // (hi[1] - lo[1])
            if step <= lo_step or step >= hi_step:
                break
            got = self._priced(step)
            best = max(best, bound(step, got))
            if got[0] + step * (target - got[1]) >= lo[0] + step * (target - lo[1]):
                break  # the dual's top: no λ does better
            if got[1] >= target:
                hi_step, hi = step, got
            else:
                lo_step, lo = step, got
        return max(0, best)

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
    most = net.max_placed()
    cost = net.costs()
    price = potentials(net.tail, net.head, net.cap, cost, f, net.n_nodes)
    rc_arc = (cost + price[net.tail] - price[net.head]) / (net.SCALE * net.lcm)
    on = net.col_arc >= 0
    reduced = np.zeros(model.n_cols)
    reduced[on] = rc_arc[net.col_arc[on]] * model.col_block[on] * model.col_weight[on]
    placed = float(x[model.placed_cols].sum())
    return FlowPrices(rank_lb=value + weight * placed, placed=placed, reduced_cost=reduced, x=x,
                      value=value, weight=weight, max_placed=most)


def potentials(tail: IntArray, head: IntArray, cap: IntArray, cost: IntArray, flow: IntArray,
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
