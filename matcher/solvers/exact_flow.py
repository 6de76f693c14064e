"""Exact where a flow suffices: the parts of a problem that are capacitated assignments.

A problem falls apart into *components*: students and workstations linked by eligibility (a
student is linked to every workstation it may go to, listed or, unless ``preferences_only``,
off its list; mentors belong to their workstation; supervisors never bind here, see below).
Components share nothing, so the optimum of the whole is the optimum of each. A component is
*flow-exact* when, besides the slot model's own conditions for the whole problem
(:func:`matcher.solvers.slots.applies`: no lock names a mentor or a start term, supervisor
limits provably never bind), it meets these (:func:`why_not_exact` says which one fails):

1. **The same terms for everyone**: every student of the component needs a block of the same
   length ``n`` in the same window ``[first, last]``. Then students differ only in where they
   may go and at what rank cost: workstation ``w`` has ``seats(w)`` places, the most ``n``-term
   blocks that fit under its capacities in that window (earliest start first, which is optimal
   for blocks of one length), and any ``seats(w)`` of them fit there together.
2. **Mentors cannot bind**: at each of its workstations, every mentor with room takes every
   discipline the component's students may bring there, and together they hold at least the
   workstation's largest capacity in a window term. Then any students fitting the workstation
   can be given mentors (each holds one mentor for its whole block: blocks are intervals of
   terms, and intervals whose load never exceeds ``sum k_m`` can be shared out among mentors
   of ``k_m`` places each, as an interval graph is coloured with as many colours as its
   largest clique).

Such a component is a **capacitated assignment** (a transportation problem in places), which a
min-cost flow solves exactly (:func:`solve_flow`): source -> student (1) -> listed workstation
(cost: rank), or -> a hub per profile (university, discipline, block, window; cost ``K + 1``)
-> any workstation of its options off the list; workstation -> sink (``seats(w)``). The
maximum flow of least cost is the lexicographic optimum of levels 1-2 (most placed, then least
rank cost); OR-Tools proves it (``OPTIMAL``), so the result is ``OPTIMAL`` with
``stats.bounds`` ``{"placed": "max_flow", "rank_cost": "min_cost_flow"}``. Locked students
(a workstation only) take their place before the flow. Mentors and starts are then packed per
workstation and supervisors chosen by a flow
(:func:`matcher.solvers.slot_rounding.mentors_and_starts`, ``supervisors``); the result claims
OPTIMAL only when that allocation places as many at as low a cost as the flow.

:func:`solve_by_parts` solves the flow-exact components so, and the rest (if any) together by
the slot model (:func:`matcher.solvers.slot_solve.solve_slots`, on the problem restricted to
those students), with the time left. Level 3 (pair weight) is left to the caller as before.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from ..encoding import Encoded, Profile, encode
from ..model.result import Result, Status
from . import clock
from .base import Choice, SolverConfig, build_result
from .slot_flow import blocks_fit
from .slot_rounding import hand_out_seats, mentors_and_starts, supervisors
from .slot_solve import solve_slots

IntArray = npt.NDArray[np.int64]

SECONDS_PER_ARC = 6e-6
"""Deterministic cost model (:mod:`matcher.solvers.clock`): building and solving the flow, per
arc (the issue's province, 672,000 arcs: about 4 s with the Python loops)."""
FINISH_SECONDS_PER_STUDENT = 20e-6
"""Deterministic cost model: components, mentors, starts and supervisors, per student."""


@dataclass(frozen=True)
class Component:
    """Students and workstations linked by eligibility (see the module docstring)."""

    students: tuple[int, ...]
    stations: tuple[int, ...]


_Links = tuple[list[list[int]], dict[Profile, list[int]]]
_LINKS: weakref.WeakKeyDictionary[Encoded, _Links] = weakref.WeakKeyDictionary()


def _links(enc: Encoded) -> _Links:
    """Per student its listed options' workstations (or its lock's); per profile with
    off-list options, the workstations of its options (one hub shared by its members).
    Computed once per encoded problem."""
    got = _LINKS.get(enc)
    if got is None:
        got = _LINKS[enc] = _compute_links(enc)
    return got


def _compute_links(enc: Encoded) -> _Links:
    listed: list[list[int]] = []
    hubs: dict[Profile, list[int]] = {}
    for i in range(enc.n_students):
        starts = enc.profile_starts(enc.profile(i)) if enc.supervisors_for(i) else {}
        lock = enc.st_lock[i]
        if lock is not None:
            listed.append([lock[0]] if lock[0] in starts else [])
            continue
        mine = [w for w in enc.st_prefs[i] if w in starts]
        listed.append(mine)
        if not enc.preferences_only and len(starts) > len(mine):
            key = enc.profile(i)
            if key not in hubs:
                hubs[key] = list(starts)
    return listed, hubs


def components(enc: Encoded) -> list[Component]:
    """The problem's components: students (with an allowed option) and workstations linked by
    eligibility, in order of their first student."""
    listed, hubs = _links(enc)
    n_s, n_w = enc.n_students, len(enc.workstation_ids)
    hub_ix = {key: n_s + n_w + k for k, key in enumerate(hubs)}
    ends: list[int] = []  # the links, as pairs of nodes one after the other
    for key, stations in hubs.items():
        for w in stations:
            ends += (hub_ix[key], n_s + w)
    has_option = [False] * n_s
    for i in range(n_s):
        for w in listed[i]:
            ends += (i, n_s + w)
            has_option[i] = True
        if enc.st_lock[i] is None and not enc.preferences_only:
            key = enc.profile(i)
            if key in hub_ix:
                ends += (i, hub_ix[key])
                has_option[i] = True
    root = _roots(np.asarray(ends, dtype=np.int64).reshape(-1, 2),
                  n_s + n_w + len(hubs)).tolist()
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n_s):
        if has_option[i]:
            members[root[i]].append(i)
    at: dict[int, list[int]] = defaultdict(list)
    for w in range(n_w):
        if root[n_s + w] in members:
            at[root[n_s + w]].append(w)
    clock.charge(FINISH_SECONDS_PER_STUDENT * n_s)
    return [Component(tuple(members[r]), tuple(at[r]))
            for r in sorted(members, key=lambda r: members[r][0])]


def _roots(links: IntArray, n: int) -> IntArray:
    """Each node's component, named by its least node, for ``links`` (pairs of nodes).

    Union-find in whole arrays (a province has a million links: one by one in Python took
    seconds): every link hooks the larger of its two roots under the smaller, then every node
    is pointed straight at its root; repeated until no link joins two roots. Roots only ever
    get smaller, so it ends, and in few rounds.
    """
    parent = np.arange(n, dtype=np.int64)
    a, b = links[:, 0], links[:, 1]
    while True:
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            return parent
        np.minimum.at(parent, np.maximum(ra, rb)[apart], np.minimum(ra, rb)[apart])
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up


def seats(enc: Encoded, w: int, n: int, first: int, last: int) -> int:
    """The most ``n``-term blocks that fit at ``w`` in ``[first, last]`` (earliest start first:
    optimal for blocks of one length)."""
    return blocks_fit(list(enc.ws_cap[w][first:last + 1]), n)


def why_not_exact(enc: Encoded, comp: Component) -> str:
    """Why the component is not a capacitated assignment ("" when it is; module docstring)."""
    if enc.has_rules or enc.has_segments:  # issue 28: a flow cannot state these
        return "a minimum intake, a group or a split practice couples the students"
    if enc.has_quotas:  # issue 29: a share of the students placed is no flow capacity
        return "group quotas (quotas.csv) couple the students"
    terms = {(enc.st_block[i], enc.st_first[i], enc.st_last[i]) for i in comp.students}
    if len(terms) != 1:
        return "its students need different terms"
    (_n, first, last), = terms
    # The disciplines that can come to each workstation: listed (or locked) ones per student,
    # and off the list every workstation of the student's profile (once per profile).
    listed, hubs = _links(enc)
    brought: dict[int, set[int]] = defaultdict(set)
    profiles: set[Profile] = set()
    for i in comp.students:
        for w in listed[i]:
            brought[w].add(enc.st_disc[i])
        if enc.st_lock[i] is None:
            profiles.add(enc.profile(i))
    for key in profiles:
        for w in hubs.get(key, ()):
            brought[w].add(key[1])
    for w in comp.stations:
        mentors = [m for m in enc.ws_mentors[w] if enc.m_cap[m] > 0]
        if any(not enc.m_disc[m] >= brought[w] for m in mentors):
            return "a mentor does not take every discipline that can come"
        if sum(enc.m_cap[m] for m in mentors) < max(enc.ws_cap[w][first:last + 1]):
            return "mentor limits may bind"
    return ""


@dataclass
class FlowOutcome:
    """The exact flow's allocation of some components, before mentors and starts.

    Attributes
    ----------
    station
        Student -> workstation.
    placed, rank_cost
        The flow's optimum (levels 1-2 of these components, proven).
    arcs
        Size of the network.
    """

    station: dict[int, int]
    placed: int
    rank_cost: int
    arcs: int


def solve_flow(enc: Encoded, comps: list[Component]) -> FlowOutcome | None:
    """The exact min-cost maximum flow of flow-exact components (module docstring); None when
    their locks cannot all take their places (the caller's exact path then names them)."""
    from ortools.graph.python import min_cost_flow

    listed, hubs = _links(enc)
    off = enc.max_list + 1
    students = [i for c in comps for i in c.students]
    cap: dict[int, int] = {}
    for c in comps:
        i0 = c.students[0]
        n, first, last = enc.st_block[i0], enc.st_first[i0], enc.st_last[i0]
        for w in c.stations:
            cap[w] = seats(enc, w, n, first, last)
    station: dict[int, int] = {}
    free: list[int] = []
    for i in students:
        lock = enc.st_lock[i]
        if lock is None:
            free.append(i)
            continue
        w = lock[0]
        if not listed[i] or cap.get(w, 0) <= 0:
            return None
        cap[w] -= 1
        station[i] = w
    # Nodes: 0 source, 1 sink, students, hubs, workstations.
    profile_of = [enc.profile(i) for i in free]
    keys = sorted({key for key in profile_of if key in hubs})
    h_index = {key: k for k, key in enumerate(keys)}
    stations = sorted(cap)
    n_free, n_hub = len(free), len(keys)
    w_node = np.zeros(len(enc.workstation_ids), dtype=np.int64)
    w_node[stations] = 2 + n_free + n_hub + np.arange(len(stations))
    # Per student its listed arcs, then its hub's (if any), student after student: built in
    # whole arrays (a province's million arcs one by one took seconds).
    hub_of = np.array([h_index.get(key, -1) for key in profile_of], dtype=np.int64)
    lens = np.fromiter((len(listed[i]) for i in free), dtype=np.int64, count=n_free)
    total = int(lens.sum())
    flat_w = np.fromiter(chain.from_iterable(listed[i] for i in free), dtype=np.int64,
                         count=total)
    flat_cost = np.fromiter(chain.from_iterable(map(enc.rank_of[i].__getitem__, listed[i])
                                                for i in free), dtype=np.int64, count=total)
    per = lens + (hub_of >= 0)
    own = np.cumsum(per) - per  # each student's first arc
    n_picks = int(per.sum())
    who = np.repeat(np.arange(n_free, dtype=np.int64), per)  # index into free
    where = np.empty(n_picks, dtype=np.int64)  # w, or -1 - hub
    cost = np.empty(n_picks, dtype=np.int64)
    at_listed = np.repeat(own - (np.cumsum(lens) - lens), lens) + np.arange(total)
    where[at_listed] = flat_w
    cost[at_listed] = flat_cost
    with_hub = np.flatnonzero(hub_of >= 0)
    at_hub = own[with_hub] + lens[with_hub]
    where[at_hub] = -1 - hub_of[with_hub]
    cost[at_hub] = off
    head_pick = np.where(where >= 0, w_node[np.maximum(where, 0)], 2 + n_free - 1 - where)
    members = np.bincount(hub_of[with_hub], minlength=n_hub)
    hub_pairs = [(k, w) for k, key in enumerate(keys) for w in hubs[key]]
    hub_k = np.array([k for k, _w in hub_pairs], dtype=np.int64)
    hub_w = np.array([w for _k, w in hub_pairs], dtype=np.int64)
    station_arr = np.asarray(stations, dtype=np.int64)
    tails = np.concatenate([2 + who, 2 + n_free + hub_k, np.zeros(n_free, dtype=np.int64),
                            w_node[station_arr]])
    heads = np.concatenate([head_pick, w_node[hub_w], 2 + np.arange(n_free, dtype=np.int64),
                            np.ones(len(stations), dtype=np.int64)])
    caps = np.concatenate([np.ones(n_picks, dtype=np.int64), members[hub_k],
                           np.ones(n_free, dtype=np.int64),
                           np.maximum(0, np.array([cap[w] for w in stations], dtype=np.int64))])
    costs = np.concatenate([cost, np.zeros(len(hub_k) + n_free + len(stations),
                                           dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32),
                                                     heads.astype(np.int32), caps, costs)
    flow.set_node_supply(0, n_free)
    flow.set_node_supply(1, -n_free)
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        raise RuntimeError("the exact min-cost flow was not solved")
    clock.charge(SECONDS_PER_ARC * len(tails))
    got = np.asarray(flow.flows(arcs), dtype=np.int64)
    seats_of: dict[Profile, list[int]] = defaultdict(list)
    for k, w, f in zip(hub_k.tolist(), hub_w.tolist(),
                       got[n_picks:n_picks + len(hub_k)].tolist(), strict=True):
        seats_of[keys[k]].extend([w] * f)
    via_hub: dict[Profile, list[int]] = defaultdict(list)
    used = np.flatnonzero(got[:n_picks] > 0)
    for j, wh in zip(who[used].tolist(), where[used].tolist(), strict=True):
        i = free[j]
        if wh >= 0:
            station[i] = wh
        else:
            via_hub[keys[-1 - wh]].append(i)
    for key, them in via_hub.items():
        # Interchangeable for the flow (as many seats as students); one whose own list has
        # the seat's workstation takes it (no dearer in truth than the flow counted).
        station.update(hand_out_seats(enc, them, seats_of[key]))
    locked_cost = sum(enc.cost(i, w) for i, w in station.items() if enc.st_lock[i] is not None)
    return FlowOutcome(station, len(station), int(flow.optimal_cost()) + locked_cost,
                       len(tails))


def solve_by_parts(enc: Encoded, config: SolverConfig, t0: float, halt: Callable[[], str],
                   name: str) -> Result | None:
    """Levels 1-2 by the cheapest exact method for each component: the flow where a component
    is flow-exact, the slot model for the rest (module docstring). The caller has checked
    :func:`matcher.solvers.slots.applies`. None when locks cannot all be honoured."""
    comps = components(enc)
    reasons = [why_not_exact(enc, c) for c in comps]
    exact = [c for c, why in zip(comps, reasons, strict=True) if not why]
    if not exact:
        return solve_slots(enc, config, t0, halt, name)
    rest = [c for c, why in zip(comps, reasons, strict=True) if why]
    outcome = solve_flow(enc, exact)
    if outcome is None:
        return None
    people = mentors_and_starts(enc, outcome.station, halt)
    stats: dict[str, Any] = {
        "engine": "min-cost flow (exact)" + (" + slot model + HiGHS" if rest else ""),
        "components": len(comps), "flow_exact_components": len(exact),
        "flow_students": sum(len(c.students) for c in exact), "flow_arcs": outcome.arcs,
        "flow_placed": outcome.placed, "flow_rank_cost": outcome.rank_cost}
    if rest:
        stats["not_flow_exact"] = sorted(set(reasons) - {""})
    sub: Result | None = None
    chosen_rest: dict[int, tuple[int, int, int]] = {}
    if rest:
        sub_enc = restricted(enc, [i for c in rest for i in c.students])
        sub = solve_slots(sub_enc, config, t0, halt, name)
        if sub is None:
            return None
        ids = enc.choices_from_ids({p.student_id: (p.workstation_id, p.mentor_id,
                                                   p.supervisor_id, p.start_term)
                                    for p in sub.placements})
        chosen_rest = {i: (w, m, k) for i, (w, m, _s, k) in ids.items()}
        stats.update({f"rest_{k}": v for k, v in sub.stats.items()
                      if k in ("columns", "rows", "helper_steps", "cuts", "lp_rank")})
    people.update(chosen_rest)
    sups = supervisors(enc, people)
    clock.charge(FINISH_SECONDS_PER_STUDENT * len(people))
    chosen: dict[int, Choice] = {i: (w, m, sups[i], k) for i, (w, m, k) in people.items()
                                 if i in sups}
    flow_part = {i: c for i, c in chosen.items() if i in outcome.station}
    flow_ok = (len(flow_part) == outcome.placed
               and enc.rank_cost(flow_part) <= outcome.rank_cost)
    if not flow_ok:
        stats["flow_unpacked"] = outcome.placed - len(flow_part)
    placed_ub = outcome.placed + (0 if sub is None else sub.placed_upper_bound or 0)
    bounds = {"placed": "max_flow", "rank_cost": "min_cost_flow"}
    rank_lb: int | None = outcome.rank_cost
    if sub is not None:
        bounds = {"flow_components": "max_flow, min_cost_flow", **sub.stats.get("bounds", {})}
        if sub.placed == sub.placed_upper_bound and sub.rank_cost_lower_bound is not None:
            # Each part at its own maximum: so is every allocation placing as many, and the
            # parts' bounds add up.
            rank_lb = outcome.rank_cost + sub.rank_cost_lower_bound
        else:
            # Every allocation placing P has rank cost >= (each part's rank - W * placed,
            # least over its relaxation) + W * P; the flow part's is its own optimum.
            weight, value = sub.stats.get("weighted_bound", (0, 0.0))
            rank_lb = max(0, math.ceil(outcome.rank_cost - weight * outcome.placed + value
                                       + weight * len(chosen) - 1e-6))
    stats["bounds"] = bounds
    proven = (flow_ok and (sub is None or sub.status == Status.OPTIMAL)
              and rank_lb is not None and len(chosen) == placed_ub
              and enc.rank_cost(chosen) <= rank_lb and not halt())
    if proven:
        stats["proven_seconds"] = round(clock.now() - t0, 3)
    msg = ("" if proven else f"stopped by {halt()}: the best allocation found so far" if halt()
           else "time limit reached before levels 1 and 2 were proven optimal")
    return build_result(enc, name, Status.OPTIMAL if proven else Status.FEASIBLE, chosen,
                        config, clock.now() - t0, placed_upper_bound=placed_ub,
                        rank_cost_lower_bound=rank_lb, stats=stats, message=msg)


def restricted(enc: Encoded, students: list[int]) -> Encoded:
    """The problem with only ``students`` (their locks and rankings), every workstation, mentor
    and supervisor kept, and the full problem's ``K`` (an off-list place costs the same)."""
    keep = {enc.student_ids[i] for i in students}
    p = enc.problem
    sub = p.model_copy(update={
        "students": tuple(s for s in p.students if s.student_id in keep),
        "locks": tuple(lk for lk in p.locks if lk.student_id in keep),
        "rankings": tuple(r for r in p.rankings if r.student_id in keep)})
    return dataclasses.replace(encode(sub), max_list=enc.max_list)


__all__ = ["Component", "FlowOutcome", "components", "restricted", "seats", "solve_by_parts",
           "solve_flow", "why_not_exact"]
