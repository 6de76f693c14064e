"""From the slot model's columns back to an allocation: workstations, then mentors, starts and
supervisors.

The model decides workstations (and at other workstations start and mentor counts); here each
student gets its workstation (:func:`allocation`, or from a fractional point :func:`rounded`),
then a mentor and start packed exactly per workstation (:func:`mentors_and_starts`) and a
supervisor by a min-cost flow that serves rewarded pairs first (:func:`supervisors`); whoever
does not fit is placed by augmenting moves (:func:`repaired`). :func:`columns_of` maps an
allocation into the model (a start for the helper's searches).
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

import numpy as np

from ..encoding import Encoded
from . import clock
from .base import Choice
from .moves import place_unplaced
from .packing import Loads, fit, pack_station
from .slot_flow import SlotFlow
from .slots import CLASS, LISTED, OFF, PAIR, FloatArray, SlotModel, common_window

FINISH_SECONDS_PER_STUDENT = 40e-6
"""Deterministic cost model (:mod:`matcher.solvers.clock`): mentors, starts and supervisors
for an allocation, per student, besides what the exact packings count themselves
(``packing.PACK_SECONDS`` and CP-SAT's time). Measured by ``benchmarks/calibrate.py``
(2026-12-07, CPU seconds): tier M 2.0 s for 20,000 students, tier XL 11.7 s for 100,000, of
which the packings counted 0.4 and 1.8 s; 30e-6 before undercounted this step 2-2.4 times.
That was at load 4-12: 80e-6 then, halved in session 19 for a quiet machine (see
:data:`matcher.solvers.highs.common.SETUP_SECONDS_PER_ENTRY`)."""


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
        out.update(hand_out_seats(enc, members, seats.get(c, [])))
    return out


def hand_out_seats(enc: Encoded, students: list[int], seats: list[int]) -> dict[int, int]:
    """Student -> workstation for interchangeable ``students`` sharing ``seats`` (workstations,
    one entry per seat; consumed): a student whose own list has a seat's workstation takes it
    first, the rest take the seats left in order (as many as there are)."""
    # Each workstation's seats by position: a student takes the first seat left (in order)
    # whose workstation is on its list, found over its list, not the seats (a province's hub
    # has tens of thousands of seats: scanning them per student took seconds).
    where: dict[int, deque[int]] = defaultdict(deque)
    for k, w in enumerate(seats):
        where[w].append(k)
    taken = [False] * len(seats)
    out: dict[int, int] = {}
    rest = []
    for i in students:
        ks = [where[w][0] for w in enc.rank_of[i] if where.get(w)]
        if not ks:
            rest.append(i)
            continue
        k = min(ks)
        where[seats[k]].popleft()
        taken[k] = True
        out[i] = seats[k]
    left = [w for k, w in enumerate(seats) if not taken[k]]
    for i, w in zip(rest, left, strict=False):
        out[i] = w
    seats[:] = left[len(rest):]
    return out


def quick_allocation(enc: Encoded, model: SlotModel, weight: int, deadline: float,
                     halt: Any = None) -> dict[int, Choice]:
    """A complete allocation fast, from the flow on a safe inner model (province scale).

    Every workstation counts as slot-exact on its longest even run of open terms at that
    run's least capacity (:class:`SlotFlow` with ``inner``), so what the flow sends where fits
    but for students it splits (a two-term student shared between two places, or between two
    mentors); each student goes where most of it went. Mentors and starts are then packed
    exactly per workstation, and whoever does not fit, or was left out, is placed by
    augmenting moves (:func:`~matcher.solvers.moves.place_unplaced`) until ``deadline``.
    """

    net = SlotFlow(enc, model, weight, inner=True)
    _value, x, _f = net.solve()
    return repaired(enc, rounded(enc, model, x), deadline, enc.n_placeable, halt)[0]


def repaired(enc: Encoded, station_of: dict[int, int], deadline: float, target: int,
             halt: Any = None) -> tuple[dict[int, Choice], int]:
    """A complete allocation from workstations chosen per student, and how many students did
    not fit where chosen: mentors and starts packed exactly per workstation, supervisors
    chosen, and, while fewer than ``target`` are placed, whoever does not fit (or has no
    workstation) placed by augmenting moves (:func:`~matcher.solvers.moves.place_unplaced`)
    until ``deadline``."""
    people = mentors_and_starts(enc, station_of, halt)
    sups = supervisors(enc, people)
    clock.charge(FINISH_SECONDS_PER_STUDENT * len(station_of))
    chosen = {i: (w, m, sups[i], k) for i, (w, m, k) in people.items() if i in sups}
    misfits = len(station_of) - len(chosen)
    if len(chosen) < target and not (halt is not None and halt()):
        chosen = place_unplaced(enc, chosen, max(deadline, clock.now() + 1.0),
                                stop=halt)
    return chosen, misfits


def rounded(enc: Encoded, model: SlotModel, x: FloatArray) -> dict[int, int]:
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
