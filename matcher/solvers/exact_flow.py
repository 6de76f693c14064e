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
    parent = list(range(n_s + n_w + len(hubs)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for key, stations in hubs.items():
        for w in stations:
            union(hub_ix[key], n_s + w)
    has_option = [False] * n_s
    for i in range(n_s):
        for w in listed[i]:
            union(i, n_s + w)
            has_option[i] = True
        if enc.st_lock[i] is None and not enc.preferences_only:
            key = enc.profile(i)
            if key in hub_ix:
                union(i, hub_ix[key])
                has_option[i] = True
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n_s):
        if has_option[i]:
            members[find(i)].append(i)
    at: dict[int, list[int]] = defaultdict(list)
    for w in range(n_w):
        root = find(n_s + w)
        if root in members:
            at[root].append(w)
    clock.charge(FINISH_SECONDS_PER_STUDENT * n_s)
    return [Component(tuple(members[r]), tuple(at[r]))
            for r in sorted(members, key=lambda r: members[r][0])]


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
    s_node = {i: 2 + k for k, i in enumerate(free)}
    keys = sorted({enc.profile(i) for i in free if enc.profile(i) in hubs})
    h_node = {key: 2 + len(free) + k for k, key in enumerate(keys)}
    stations = sorted(cap)
    w_node = {w: 2 + len(free) + len(keys) + k for k, w in enumerate(stations)}
    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    picks: list[tuple[int, int]] = []  # per student arc (in order): (student, w or -1 - hub)
    members: dict[Profile, int] = defaultdict(int)
    for i in free:
        for w in listed[i]:
            tails.append(s_node[i])
            heads.append(w_node[w])
            costs.append(enc.rank_of[i][w])
            picks.append((i, w))
        key = enc.profile(i)
        if key in h_node:
            tails.append(s_node[i])
            heads.append(h_node[key])
            costs.append(off)
            picks.append((i, -1 - h_node[key]))
            members[key] += 1
    n_picks = len(tails)
    caps.extend([1] * n_picks)
    hub_arcs: list[tuple[Profile, int]] = []
    for key in keys:
        for w in hubs[key]:
            tails.append(h_node[key])
            heads.append(w_node[w])
            caps.append(members[key])
            costs.append(0)
            hub_arcs.append((key, w))
    for i in free:
        tails.append(0)
        heads.append(s_node[i])
        caps.append(1)
        costs.append(0)
    for w in stations:
        tails.append(w_node[w])
        heads.append(1)
        caps.append(max(0, cap[w]))
        costs.append(0)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tails, dtype=np.int32), np.asarray(heads, dtype=np.int32),
        np.asarray(caps, dtype=np.int64), np.asarray(costs, dtype=np.int64))
    flow.set_node_supply(0, len(free))
    flow.set_node_supply(1, -len(free))
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        raise RuntimeError("the exact min-cost flow was not solved")
    clock.charge(SECONDS_PER_ARC * len(tails))
    got = flow.flows(arcs).tolist()
    seats_of: dict[Profile, list[int]] = defaultdict(list)
    for (key, w), f in zip(hub_arcs, got[n_picks:n_picks + len(hub_arcs)], strict=True):
        seats_of[key].extend([w] * f)
    via_hub: dict[Profile, list[int]] = defaultdict(list)
    for (i, where), f in zip(picks, got[:n_picks], strict=True):
        if not f:
            continue
        if where >= 0:
            station[i] = where
        else:
            via_hub[enc.profile(i)].append(i)
    for key, who in via_hub.items():
        # Interchangeable for the flow (as many seats as students); one whose own list has
        # the seat's workstation takes it (no dearer in truth than the flow counted).
        station.update(hand_out_seats(enc, who, seats_of[key]))
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
