"""Min-cost flow on a relaxation: proven bounds, and a repaired feasible allocation.

The relaxation keeps who may go where, the rank costs and the supervisors exactly, and replaces
the term-by-term workstation and mentor limits by per-workstation student counts that no
allocation can exceed. It is solved by OR-Tools ``SimpleMinCostFlow`` (maximum flow of minimum
cost), which gives

* ``placed_ub``: no allocation places more students (the relaxation admits every allocation);
* ``rank_lb``: no allocation placing ``placed_ub`` students has a lower rank cost; and, by a
  second solve with the flow value fixed, the same bound for any given number placed.

The graph (one unit of flow = one placed student)::

    source -> supervisor s            capacity: s's capacity
    s -> supervisor group q           q = the given supervisor, or (university, discipline)
    q -> student i                    capacity 1
    i -> (w, n, d)                    a listed (or locked) workstation; cost: its rank
    i -> hub c -> (w, n, d)           off-list placements (unless preferences_only), cost K+1;
                                      one hub per profile c = (u, d, n, window) shares the arcs
    (w, n, d) -> (m, n)               every mentor m of w covering discipline d
    (m, n) -> (w, n)                  capacity P(m, n): the same count for the mentor's limit
    (w, n) -> w                       capacity P(w, n), see below
    w -> sink                         capacity P(w, n_min), n_min the shortest block seen at w

Why the capacities are valid: let ``e_t`` be the workstation's capacity in term ``t``, capped by
the sum of its mentors' capacities, and counted only in terms that lie in some fully open
``n``-term block. Any ``n`` consecutive terms contain exactly one term of each residue class
modulo ``n``, so at most ``P(w, n) = min_r sum_{t = r mod n} e_t`` students with ``n``-term
blocks fit. A longer block contains an open block of the shortest length, so all students
together are at most ``P(w, n_min)``. With one term (or every student needing the whole
horizon) and mentors not binding these are exact, and the flow is the exact optimum of the
capacitated assignment.

The repair keeps the flow's workstation and supervisor for each student where it can: locked
students first (see :func:`~matcher.solvers.packing.place_locks`), then per workstation in
earliest-deadline order, each at its earliest start with a mentor of its discipline with room;
students that do not fit, and everyone the flow left out, then take their cheapest option with
room. Then, up to :data:`REPAIR_ROUNDS` times (within the time limit), where the flow sent more
students of a block length to a workstation than fitted, that length is capped there at what
fitted and the flow re-solved and repaired again (a heuristic: these capped graphs are no longer
relaxations); the best allocation is kept, students still left out are placed by augmenting
moves where possible (:func:`~matcher.solvers.moves.place_unplaced`), and its rank cost is
lowered by local moves (:func:`~matcher.solvers.moves.improve_rank`).

The result reports ``placed_ub`` and, as its rank-cost lower bound, the relaxation's least cost
of placing exactly as many students as the allocation does (valid for that count, as the
:class:`~matcher.model.result.Result` field requires). It is OPTIMAL when it meets the bounds —
``placed == placed_ub``, the rank cost equals ``rank_lb`` and, when pairs count, the pair weight
equals the sum of the largest per-student pair weights — and FEASIBLE otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

from ..encoding import PAIR_SCALE, Encoded, Profile, encode
from ..model import Problem
from ..model.result import Result, Status
from . import clock
from .base import Choice, SolverConfig, build_result, refuse_quotas
from .moves import improve_rank, place_unplaced
from .packing import Loads, fill_greedily, fit, lock_failure, pack_station, place_locks
from .rules import enforce

NAME = "flow"
SOURCE, SINK = 0, 1
REPAIR_ROUNDS = 8
"""At most this many re-solves with tightened capacities after the first repair."""
GRAPH_SECONDS_PER_ARC = 15e-6
"""Deterministic cost model (:mod:`matcher.solvers.clock`): building the relaxation's network
in Python and solving it, per arc."""
FLOW_SECONDS_PER_ARC = 5e-6
"""Deterministic cost model: solving it again with other capacities, per arc."""
REPAIR_SECONDS_PER_STUDENT = 30e-6
"""Deterministic cost model: one repair, per student."""
REASSIGN_SECONDS = 0.3e-3
"""Seconds per student :func:`reassign` expects for one block length (building the graph and
the min-cost flow, which cannot be stopped). Measured: tier XL 26.7 s for 100,000 students,
tier M 2.9 s for 20,000."""


@dataclass
class FlowGraph:
    """The relaxation's network, as arc arrays (see the module docstring).

    Attributes
    ----------
    tails, heads, capacities, costs
        One entry per arc.
    n_nodes
        Number of nodes; node 0 is the source, node 1 the sink.
    supervisor_arcs
        ``(arc, supervisor, group node)`` for the arcs out of supervisor nodes.
    group_arcs
        ``(arc, group node, student)`` for the arcs into student nodes.
    direct_arcs
        ``(arc, student, workstation)`` for listed (or locked) placements.
    hub_in_arcs, hub_out_arcs
        ``(arc, student, hub)`` and ``(arc, hub, workstation)`` for off-list placements.
    sink_arcs
        Workstation -> its arc into the sink.
    length_arcs
        ``(workstation, block length)`` -> the arc from its node to the workstation's.
    """

    tails: list[int] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    capacities: list[int] = field(default_factory=list)
    costs: list[int] = field(default_factory=list)
    n_nodes: int = 2
    supervisor_arcs: list[tuple[int, int, int]] = field(default_factory=list)
    group_arcs: list[tuple[int, int, int]] = field(default_factory=list)
    direct_arcs: list[tuple[int, int, int]] = field(default_factory=list)
    hub_in_arcs: list[tuple[int, int, int]] = field(default_factory=list)
    hub_out_arcs: list[tuple[int, int, int]] = field(default_factory=list)
    sink_arcs: dict[int, int] = field(default_factory=dict)
    length_arcs: dict[tuple[int, int], int] = field(default_factory=dict)

    def node(self) -> int:
        """A new node's index."""
        self.n_nodes += 1
        return self.n_nodes - 1

    def arc(self, tail: int, head: int, capacity: int, cost: int = 0) -> int:
        """Add an arc; returns its index."""
        self.tails.append(tail)
        self.heads.append(head)
        self.capacities.append(capacity)
        self.costs.append(cost)
        return len(self.tails) - 1

    def solver(self) -> min_cost_flow.SimpleMinCostFlow:
        """A fresh OR-Tools min-cost-flow solver holding this graph (no supplies set)."""
        smcf = min_cost_flow.SimpleMinCostFlow()
        if self.tails:
            smcf.add_arcs_with_capacity_and_unit_cost(
                np.asarray(self.tails, dtype=np.int32), np.asarray(self.heads, dtype=np.int32),
                np.asarray(self.capacities, dtype=np.int64),
                np.asarray(self.costs, dtype=np.int64))
        return smcf


def _block_capacity(eff: list[int], n: int) -> int:
    """At most this many ``n``-term blocks fit under per-term capacities ``eff`` (docstring)."""
    T = len(eff)
    usable = [False] * T
    for k in range(T - n + 1):
        if all(eff[t] > 0 for t in range(k, k + n)):
            for t in range(k, k + n):
                usable[t] = True
    return min(sum(eff[t] for t in range(r, T, n) if usable[t]) for r in range(n))


def station_capacity(enc: Encoded, w: int, n: int) -> int:
    """``P(w, n)``: at most this many ``n``-term students fit at ``w`` (module docstring)."""
    mentor_total = sum(enc.m_cap[m] for m in enc.ws_mentors[w])
    eff = [min(c, mentor_total) for c in enc.ws_cap[w]]
    # A split practice (issue 28) need not meet every residue class once, as a block does:
    # then only the term-places count.
    return sum(eff) // n if enc.has_segments else _block_capacity(eff, n)


def mentor_capacity(enc: Encoded, m: int, n: int) -> int:
    """``P(m, n)``: at most this many ``n``-term students fit with mentor ``m`` (same argument,
    with the mentor's capacity in the terms its workstation is open)."""
    eff = [min(c, enc.m_cap[m]) for c in enc.ws_cap[enc.m_ws[m]]]
    return sum(eff) // n if enc.has_segments else _block_capacity(eff, n)


def build_graph(enc: Encoded) -> FlowGraph:
    """The relaxation's network for an encoded problem (module docstring)."""
    g = FlowGraph()
    loads = Loads(enc)  # only for its cached option lists
    big = enc.n_students
    off_cost = enc.max_list + 1
    sup_node: dict[int, int] = {}
    group_node: dict[tuple[int, int, int], int] = {}
    wn_node: dict[tuple[int, int], int] = {}
    hub_node: dict[Profile, int] = {}
    hub_targets: dict[int, tuple[int, int, list[int]]] = {}
    n_min: dict[int, int] = {}

    wnd_node: dict[tuple[int, int, int], int] = {}
    mn_node: dict[tuple[int, int], int] = {}

    def wn(w: int, n: int, d: int) -> int:
        """Node of (w, n, d): its students reach (w, n) only through mentors covering d."""
        key = (w, n, d)
        if key not in wnd_node:
            wnd_node[key] = g.node()
            if (w, n) not in wn_node:
                wn_node[w, n] = g.node()
                n_min[w] = min(n_min.get(w, n), n)
            for m in enc.mentors_for(w, d):
                if (m, n) not in mn_node:
                    mn_node[m, n] = g.node()
                    g.arc(mn_node[m, n], wn_node[w, n], mentor_capacity(enc, m, n))
                g.arc(wnd_node[key], mn_node[m, n], big)
        return wnd_node[key]

    for i in range(enc.n_students):
        starts = loads.starts_by_station(i)
        if not starts:
            continue
        n = enc.st_block[i]
        given = enc.st_sup[i]
        gkey = (0, given, -1) if given >= 0 else (1, enc.st_univ[i], enc.st_disc[i])
        q = group_node.get(gkey)
        if q is None:
            q = group_node[gkey] = g.node()
            for s in enc.supervisors_for(i):
                if s not in sup_node:
                    sup_node[s] = g.node()
                    g.arc(SOURCE, sup_node[s], enc.s_cap[s])
                g.supervisor_arcs.append((g.arc(sup_node[s], q, enc.s_cap[s]), s, q))
        node = g.node()
        g.group_arcs.append((g.arc(q, node, 1), q, i))
        listed = enc.rank_of[i]
        locked = enc.st_lock[i] is not None
        for w in (starts if locked else [w for w in enc.st_prefs[i] if w in starts]):
            g.direct_arcs.append((g.arc(node, wn(w, n, enc.st_disc[i]), 1, enc.cost(i, w)),
                                  i, w))
        if locked or enc.preferences_only:
            continue
        prof = enc.profile(i)
        hub = hub_node.get(prof)
        if hub is None:
            hub = hub_node[prof] = g.node()
            hub_targets[hub] = (n, enc.st_disc[i], sorted(starts))
        if sum(w in starts for w in listed) < len(starts):  # some option is off the list
            g.hub_in_arcs.append((g.arc(node, hub, 1, off_cost), i, hub))
    for hub, (n, d, stations) in hub_targets.items():
        for w in stations:
            g.hub_out_arcs.append((g.arc(hub, wn(w, n, d), big), hub, w))
    station_node: dict[int, int] = {}
    for (w, n), node in sorted(wn_node.items()):
        if w not in station_node:
            station_node[w] = g.node()
            g.sink_arcs[w] = g.arc(station_node[w], SINK, station_capacity(enc, w, n_min[w]))
        g.length_arcs[w, n] = g.arc(node, station_node[w], station_capacity(enc, w, n))
    return g


@dataclass
class FlowRelaxation:
    """The solved relaxation: bounds, and the relaxed optimum's choices.

    Attributes
    ----------
    graph
        The network (for re-solving and cross-checks).
    station
        Student -> workstation in the relaxed optimum (placed students only).
    supervisor
        Student -> supervisor in the relaxed optimum.
    placed_ub
        Proven upper bound on the number of students any allocation places.
    rank_lb
        Proven lower bound on the rank cost of any allocation placing ``placed_ub`` students.
    """

    graph: FlowGraph
    station: dict[int, int]
    supervisor: dict[int, int]
    placed_ub: int
    rank_lb: int

    def rank_lb_at(self, placed: int) -> int:
        """Proven lower bound on the rank cost of any allocation placing exactly ``placed``.

        Raises
        ------
        ValueError
            When ``placed`` exceeds :attr:`placed_ub` (no such allocation exists).
        """
        if placed > self.placed_ub or placed < 0:
            raise ValueError(f"cannot place {placed} students: the bound is {self.placed_ub}")
        if placed == self.placed_ub:
            return self.rank_lb
        if placed == 0:
            return 0
        smcf = self.graph.solver()
        smcf.set_node_supply(SOURCE, placed)
        smcf.set_node_supply(SINK, -placed)
        status = smcf.solve()
        if status != smcf.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        return int(smcf.optimal_cost())


def _max_flow_min_cost(g: FlowGraph, supply: int, capacities: list[int] | None = None
                       ) -> tuple[list[int], int, int]:
    """Flows per arc, flow value and cost of a maximum flow of minimum cost."""
    if not g.tails:
        return [], 0, 0
    smcf = g.solver()
    if capacities is not None:
        smcf.set_arc_capacities(np.arange(len(g.tails), dtype=np.int32),
                                np.asarray(capacities, dtype=np.int64))
    smcf.set_node_supply(SOURCE, supply)
    smcf.set_node_supply(SINK, -supply)
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flows = smcf.flows(np.arange(len(g.tails), dtype=np.int32)).tolist()
    return flows, int(smcf.maximum_flow()), int(smcf.optimal_cost())


def _choices(g: FlowGraph, flows: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Workstation and supervisor per placed student, read off the arc flows."""
    station: dict[int, int] = {}
    for arc, i, w in g.direct_arcs:
        if flows[arc]:
            station[i] = w
    # Off-list students of a hub share its outgoing flow, in index order.
    slots: dict[int, list[int]] = defaultdict(list)
    for arc, hub, w in g.hub_out_arcs:
        slots[hub].extend([w] * flows[arc])
    for arc, i, hub in g.hub_in_arcs:
        if flows[arc]:
            station[i] = slots[hub].pop()
    supervisor: dict[int, int] = {}
    sup_slots: dict[int, list[int]] = defaultdict(list)
    for arc, s, q in g.supervisor_arcs:
        sup_slots[q].extend([s] * flows[arc])
    for arc, q, i in g.group_arcs:
        if flows[arc]:
            supervisor[i] = sup_slots[q].pop()
    return station, supervisor


def relaxation(enc: Encoded) -> FlowRelaxation:
    """Solve the relaxation of :func:`build_graph`: maximum flow of minimum cost.

    Parameters
    ----------
    enc
        The encoded problem.

    Returns
    -------
    FlowRelaxation
        ``placed_ub``, ``rank_lb`` and the relaxed optimum's workstation and supervisor per
        placed student.
    """
    g = build_graph(enc)
    flows, placed_ub, cost = _max_flow_min_cost(g, enc.n_students)
    station, supervisor = _choices(g, flows)
    clock.charge(GRAPH_SECONDS_PER_ARC * len(g.tails))
    return FlowRelaxation(g, station, supervisor, placed_ub, cost)


@dataclass
class Repaired:
    """A repaired allocation and how well the flow's choices fitted.

    Attributes
    ----------
    chosen
        Student index -> choice, or None when the locked students could not be placed.
    locks_proven_infeasible
        With ``chosen`` None: the lock search was exhaustive (no allocation exists).
    kept, missed
        Per ``(workstation, block length)``: students of the flow's choice placed there, and
        those that did not fit.
    """

    chosen: dict[int, Choice] | None
    locks_proven_infeasible: bool = False
    kept: dict[tuple[int, int], int] = field(default_factory=dict)
    missed: dict[tuple[int, int], int] = field(default_factory=dict)

    def key(self, enc: Encoded) -> tuple[int, int]:
        """``(placed, -rank cost)``: larger is better."""
        if self.chosen is None:
            return (-1, 0)
        return (len(self.chosen), -enc.rank_cost(self.chosen))


def repair(enc: Encoded, station: dict[int, int], supervisor: dict[int, int], *,
           exact: bool = False) -> Repaired:
    """A feasible allocation close to a flow's choices (module docstring).

    Parameters
    ----------
    enc
        The encoded problem.
    station, supervisor
        Workstation and supervisor per student, as read off a flow (or an LP relaxation).
    exact
        Where the quick packing leaves students of a workstation out, pack that workstation
        again exactly (:func:`~matcher.solvers.packing.pack_station`). Worth it when the
        choices already respect the per-term limits, as an LP relaxation's do.
    """
    loads = Loads(enc)
    clock.charge(REPAIR_SECONDS_PER_STUDENT * enc.n_students)
    locked, exhausted = place_locks(loads)
    if locked is None:
        return Repaired(None, exhausted)
    chosen: dict[int, Choice] = dict(locked)
    at: dict[int, list[int]] = defaultdict(list)
    for i, w in station.items():
        if i not in chosen:
            at[w].append(i)
    out = Repaired(chosen)
    missed: list[int] = []
    for w in sorted(at):
        # Earliest deadline first, shorter blocks first: the classic count-maximising order.
        order = sorted(at[w], key=lambda i: (enc.st_last[i], enc.st_block[i], enc.cost(i, w), i))
        left = _book(loads, chosen, w, order, supervisor)
        if left and exact:
            for i in order:
                if i in chosen:
                    loads.give_back(i, chosen.pop(i))
            left = _book(loads, chosen, w, order, supervisor, pack_station(loads, w, order))
        missed.extend(left)
        gone = set(left)
        for i in order:
            tally = out.missed if i in gone else out.kept
            tally[w, enc.st_block[i]] = tally.get((w, enc.st_block[i]), 0) + 1
    rest = sorted((i for i in range(enc.n_students) if i not in chosen and i not in station),
                  key=lambda i: enc.priority_position[i])
    fill_greedily(loads, chosen, missed + rest, supervisor)
    return out


def _book(loads: Loads, chosen: dict[int, Choice], w: int, order: list[int],
          supervisor: dict[int, int], packed: dict[int, tuple[int, int]] | None = None
          ) -> list[int]:
    """Book ``order`` at ``w`` one by one, each with a supervisor with room and a start and
    mentor: from ``packed`` when given, else the first that fits. Returns those left out."""
    left = []
    for i in order:
        s = loads.supervisor(i, supervisor.get(i, -1))
        if s < 0:
            got = None
        elif packed is None:
            got = fit(loads, i, w, loads.starts_by_station(i)[w], s, spread=False)
        else:
            got = packed.get(i)
        if got is None:
            left.append(i)
            continue
        chosen[i] = (w, got[1], s, got[0])
        loads.take(i, chosen[i])
    return left


def _pair_weight_bound(enc: Encoded, placed: int) -> int:
    """Scaled pair weight no allocation placing ``placed`` students can exceed: the sum of the
    ``placed`` largest per-student maxima over the pairs each student could get at all."""
    by_sup: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for s, m, wgt in enc.pairs:
        by_sup[s].append((wgt, m))
    for pairs in by_sup.values():
        pairs.sort(reverse=True)
    loads = Loads(enc)
    best: list[int] = []
    for i in range(enc.n_students):
        starts = loads.starts_by_station(i)
        lock = enc.st_lock[i]
        top = 0
        for s in enc.supervisors_for(i) if starts else ():
            for wgt, m in by_sup.get(s, ()):
                if wgt <= top:
                    break
                if (enc.m_ws[m] in starts and enc.st_disc[i] in enc.m_disc[m]
                        and enc.m_cap[m] > 0 and (lock is None or lock[1] in (-1, m))):
                    top = wgt
                    break
        best.append(top)
    return sum(sorted(best, reverse=True)[:placed])


def reassign(enc: Encoded, chosen: dict[int, Choice], deadline: float,
             stop: Callable[[], bool] | None = None) -> dict[int, Choice]:
    """Lower an allocation's rank cost by an exact reassignment, block length by block length.

    For the students of one block length ``n`` (locked ones stay), a min-cost flow picks anew
    who takes which ``(workstation, mentor, start)``: the slots these students hold now, and
    the room left over, counted only for starts whose blocks never overlap (``k`` aligned to
    the last term modulo ``n``), so no term is counted twice; each student may take a listed
    workstation with an allowed start and an eligible mentor, or keep its own slot. Everyone
    stays placed with the same supervisor, so every rule still holds, and the rank cost is
    the least over these choices (so never higher); among equally ranked choices a student
    keeps its place (so its mentor, and a rewarded pair, are not given up for nothing). Pair
    weights are not looked at otherwise: rank cost comes first, and small costs keep the flow
    fast.

    Why: the augmenting paths and local moves leave students in each other's better places;
    at tier XL this takes the allocation from 432,148 to 423,334 in about 27 s (two block
    lengths), where the local moves gain about 1,000 in a minute.

    Returns
    -------
    dict
        A new allocation with the same students placed, rank cost never higher. A block
        length whose flow would likely end after ``deadline`` (see :data:`REASSIGN_SECONDS`),
        or not begun when ``stop()`` is true, is left as it was.
    """
    out = dict(chosen)
    for n in sorted({enc.st_block[i] for i in out}, reverse=True):
        if stop is not None and stop():
            break
        size = sum(1 for i in out if enc.st_block[i] == n)
        if clock.now() + REASSIGN_SECONDS * size < deadline:
            out = _reassign_block(enc, out, n)
    return out


def _reassign_block(enc: Encoded, chosen: dict[int, Choice], n: int) -> dict[int, Choice]:
    """One block length of :func:`reassign`."""
    loads = Loads(enc)
    for i, c in chosen.items():
        loads.take(i, c)
    students = [i for i in sorted(chosen) if enc.st_lock[i] is None and enc.st_block[i] == n
                and enc.st_group[i] < 0]  # (a group moves whole or not at all)
    held: dict[tuple[int, int, int], int] = defaultdict(int)
    for i in students:
        w, m, _s, k = chosen[i]
        held[w, m, k] += 1
    # Nodes: source, sink, one per student, then one per slot (w, m, k) and room node.
    node: dict[tuple[int, int, int], int] = {}
    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    picks: list[tuple[int, tuple[int, int, int]]] = []  # per student arc: (student, slot)
    first = 2
    scale = len(students) + 1
    for a, i in enumerate(students):
        w0, m0, _s, k0 = chosen[i]
        own = (w0, m0, k0)
        starts = loads.starts_by_station(i)
        keys = {(w, m, k) for w in enc.st_prefs[i] for k in starts.get(w, ())
                for m in loads.mentors(i, w)}
        keys.add(own)
        for key in sorted(keys):
            head = node.get(key)
            if head is None:
                head = node[key] = first + len(students) + len(node)
            tails.append(first + a)
            heads.append(head)
            # Rank first, then one for a move (all moves together weigh less than one rank):
            # among equal ranks a student stays put, keeping its mentor and so its pair.
            costs.append(scale * enc.cost(i, key[0]) + (key != own))
            picks.append((i, key))
    n_picks = len(picks)
    caps.extend([1] * n_picks)
    n_nodes = first + len(students) + len(node)

    def arc(tail: int, head: int, cap: int) -> None:
        tails.append(tail)
        heads.append(head)
        caps.append(cap)
        costs.append(0)

    for a in range(len(students)):
        arc(SOURCE, first + a, 1)
    # Room left over, for starts whose n-term blocks never overlap: through the mentor's room
    # and then the workstation's (a mentor belongs to one workstation).
    room_node: dict[tuple[str, int, int], int] = {}
    for key, head in node.items():
        w, m, k = key
        if held.get(key):
            arc(head, SINK, held[key])
        if k >= enc.n_terms or (k - (enc.n_terms - n)) % n:
            continue  # (room for a segment plan is left out: the flow stays valid)
        span = range(k, k + n)
        room_m = min(loads.m_left[m][t] for t in span)
        room_w = min(loads.ws_left[w][t] for t in span)
        if room_m <= 0 or room_w <= 0:
            continue
        if ("m", m, k) not in room_node:
            room_node["m", m, k] = n_nodes
            n_nodes += 1
            if ("w", w, k) not in room_node:
                room_node["w", w, k] = n_nodes
                n_nodes += 1
                arc(room_node["w", w, k], SINK, room_w)
            arc(room_node["m", m, k], room_node["w", w, k], room_m)
        arc(head, room_node["m", m, k], len(students))
    clock.charge(GRAPH_SECONDS_PER_ARC * len(tails))
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tails, dtype=np.int32), np.asarray(heads, dtype=np.int32),
        np.asarray(caps, dtype=np.int64), np.asarray(costs, dtype=np.int64))
    smcf.set_nodes_supplies(np.asarray([SOURCE, SINK], dtype=np.int32),
                            np.asarray([len(students), -len(students)], dtype=np.int64))
    if smcf.solve() != smcf.OPTIMAL:  # cannot happen: the allocation itself is such a flow
        return chosen
    out = dict(chosen)
    for (i, (w, m, k)), f in zip(picks, smcf.flows(arcs[:n_picks]).tolist(), strict=True):
        if f:
            out[i] = (w, m, chosen[i][2], k)
    return out


def flow_allocation(enc: Encoded, deadline: float
                    ) -> tuple[FlowRelaxation, Repaired, dict[str, Any]]:
    """The relaxation, and the best repaired allocation of a few capped re-solves.

    Also the warm start of ``cpsat``. The first solve and repair always run in full; further
    rounds only while ``clock.now()`` is before ``deadline``.

    Returns
    -------
    relaxation, best, stats
        The relaxation (bounds), the best repaired allocation, and figures for the Result.
    """
    t0 = clock.now()
    relax = relaxation(enc)
    stats: dict[str, Any] = {"nodes": relax.graph.n_nodes, "arcs": len(relax.graph.tails),
                             "relaxation_seconds": round(clock.now() - t0, 3),
                             "relaxation_placed": relax.placed_ub,
                             "relaxation_rank_cost": relax.rank_lb}
    best = repair(enc, relax.station, relax.supervisor)
    # Heuristic rounds (no longer a relaxation): where the flow sent more students of a block
    # length to a workstation than fitted, cap that length there at what fitted and re-solve,
    # so the rest go where there is room. Keep the best allocation seen.
    capacities = list(relax.graph.capacities)
    current, rounds = best, 0
    while (current.chosen is not None and current.missed and rounds < REPAIR_ROUNDS
           and clock.now() < deadline):
        rounds += 1
        for w, n in current.missed:
            arc = relax.graph.length_arcs[w, n]
            capacities[arc] = min(capacities[arc], current.kept.get((w, n), 0))
        flows, _placed, _cost = _max_flow_min_cost(relax.graph, enc.n_students, capacities)
        clock.charge(FLOW_SECONDS_PER_ARC * len(relax.graph.tails))
        current = repair(enc, *_choices(relax.graph, flows))
        if current.key(enc) > best.key(enc):
            best = current
    stats["repair_rounds"] = rounds
    if best.chosen is not None and len(best.chosen) < relax.placed_ub:
        # Augmenting moves for whoever the repair left out (placing more comes first).
        best = replace(best, chosen=place_unplaced(enc, best.chosen, deadline))
    if best.chosen is not None:
        # Exact reassignment, then local moves (shifts, ejection chains) lowering the rank
        # cost, same students placed.
        improved = improve_rank(enc, reassign(enc, best.chosen, deadline), deadline)
        stats["improved_rank_cost_by"] = enc.rank_cost(best.chosen) - enc.rank_cost(improved)
        best = replace(best, chosen=improved)
    return relax, best, stats


def solve(problem: Problem, config: SolverConfig) -> Result:
    """Min-cost flow relaxation, bounds and repair (see the module docstring).

    Parameters
    ----------
    problem
        The validated problem.
    config
        Only recorded: the method is deterministic and runs to the end.

    Returns
    -------
    Result
        OPTIMAL when the repaired allocation meets the proven bounds, else FEASIBLE (with the
        bounds); INFEASIBLE when the locks are proven to conflict; UNKNOWN when the lock search
        stopped at its budget.
    """
    t0 = clock.now()
    enc = encode(problem)
    refused = refuse_quotas(enc, NAME, config)
    if refused is not None:
        return refused
    relax, best, stats = flow_allocation(enc, t0 + config.time_limit_s)
    chosen = None if best.chosen is None else enforce(enc, best.chosen)
    if chosen is None:
        status = Status.INFEASIBLE if best.locks_proven_infeasible else Status.UNKNOWN
        return build_result(enc, NAME, status, {}, config, clock.now() - t0,
                            stats=stats,
                            message=lock_failure(enc, NAME, best.locks_proven_infeasible))
    placed = len(chosen)
    rank = enc.rank_cost(chosen)
    rank_lb = relax.rank_lb_at(placed)
    optimal = placed == relax.placed_ub and rank == rank_lb
    if optimal and enc.use_pairs:
        weights = {(s, m): wgt for s, m, wgt in enc.pairs}
        got = sum(weights.get((c[2], c[1]), 0) for c in chosen.values())
        bound = _pair_weight_bound(enc, placed)
        stats["pair_weight_upper_bound"] = bound / PAIR_SCALE
        optimal = got == bound
    status = Status.OPTIMAL if optimal else Status.FEASIBLE
    stats["bounds"] = {"placed": "max_flow", "rank_cost": "flow_relaxation"}
    msg = "" if optimal else ("the repaired allocation does not meet the relaxation's bounds; "
                              "the cpsat solver can close the gap")
    return build_result(enc, NAME, status, chosen, config, clock.now() - t0,
                        placed_upper_bound=relax.placed_ub, rank_cost_lower_bound=rank_lb,
                        stats=stats, message=msg)
