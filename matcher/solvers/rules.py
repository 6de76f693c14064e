"""The coupling rules of issue 28 for the heuristics: groups kept together, minimum intakes.

Vetoes, tied choices and split practice need nothing here: a veto is no option, a tie is a
cost and a segment plan is one more option (:mod:`matcher.encoding`). Groups and minimum intakes
tie students or workstations together, which the heuristics' one-student-at-a-time steps do not
see, so :func:`enforce` turns any allocation that keeps the other rules into one that keeps
these too:

1. a group placed apart (or partly) is taken out, and every group not placed is placed together
   where its cheapest common option has room (:func:`place_group`), groups by their best
   member's priority;
2. a workstation below its minimum intake first takes unplaced students that fit there (cheapest
   first) and, when that does not reach the minimum, is closed: its students are taken out and
   placed again only where a workstation is already open (so that no new one falls short).

The exact solvers state both rules in their model (:mod:`matcher.solvers.aggregate`); this is
for greedy, da, flow and the quick allocations that warm-start them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..encoding import Encoded
from .base import Choice
from .packing import Loads, fit


def together(enc: Encoded, chosen: dict[int, Choice], g: int) -> bool:
    """Whether group ``g`` is placed whole at one workstation with one first term."""
    members = enc.groups[g]
    if not all(i in chosen for i in members):
        return False
    places = {(chosen[i][0], enc.first_term(chosen[i][3])) for i in members}
    return len(places) == 1


@dataclass
class Room:
    """Where groups of one kind (the same members' profiles and supervisors) may still find
    room off their lists, in one pass in which room only shrinks (:func:`place_group`)."""

    common: list[int]
    """Every workstation the kind of group may go to, by index."""
    live: list[int]
    """Of those, the ones not known full for it in one block (compacted now and then)."""
    dead: set[int] = field(default_factory=set)
    """Known full for it in one block (every option failed)."""
    hopeless: bool = False
    """No option fitted anywhere: nothing to try for this kind any more."""


Full = dict[tuple[tuple[Any, ...], ...], Room]
"""The room index of one pass of :func:`place_group`, by kind of group."""


def place_group(loads: Loads, chosen: dict[int, Choice], g: int,
                allowed: Callable[[int], bool] = lambda w: True, full: Full | None = None
                ) -> bool:
    """Place every member of group ``g`` at the cheapest common option with room (rank cost,
    then fewer segments), at a workstation ``allowed``; books into ``loads`` and ``chosen``.

    ``full`` is a room index shared by the calls of one pass in which room only shrinks (no
    booking is given back in it): where a group found no room at a workstation off its lists
    in one block, a group of the same kind (the same members' profiles and the supervisors they
    get) finds none there either, and is not tried there (whether an option fits depends on
    the workstation's and its mentors' room, the members' profiles and, through the mentors
    :func:`~matcher.solvers.packing.fit` prefers, their supervisors); where one found no room
    anywhere, the next is not tried at all. Groups off their lists at a province's size each
    tried thousands of full workstations.
    """
    enc = loads.enc
    members = enc.groups[g]
    if any(i in chosen for i in members):
        return False
    for w, plans in _options_in_order(loads, g, allowed, full):
        booked: list[tuple[int, Choice]] = []
        for i, k in zip(members, plans, strict=True):
            s = loads.supervisor(i)
            if s < 0:
                # (no supervisor has room for i after the members before: the same at every
                # workstation, so no option of the group can fit now)
                for j, choice in booked:
                    loads.give_back(j, choice)
                return False
            got = fit(loads, i, w, [k], s)
            if got is None:
                break
            choice = (w, got[1], s, k)
            loads.take(i, choice)
            booked.append((i, choice))
        if len(booked) == len(members):
            chosen.update(booked)
            return True
        for i, choice in booked:
            loads.give_back(i, choice)
    return False


def _options_in_order(loads: Loads, g: int, allowed: Callable[[int], bool],
                      full: Full | None) -> Iterator[tuple[int, tuple[int, ...]]]:
    """Group ``g``'s common options (those of :func:`~matcher.solvers.aggregate.group_options`)
    by rank cost, then fewer segments, then ``(w, plans)``, made one rank cost at a time: a
    group that fits at its first cost never has the others built (at 100,000 students every
    group's full list, sorted, took most of a run). Only a workstation on some member's list
    costs less than every member off its list, so those come first, then the rest together.

    Options that cannot have room are never made (:func:`_seats`): every member's block covers
    the group's first term, so a first term with fewer free places at the workstation than
    members cannot take the group (a group that fits at none of its listed workstations tried
    thousands of full ones off its list), nor those at a workstation ``full`` knows has no room
    for such a group (:func:`place_group`). The options left keep their order; only those at a
    workstation ``allowed`` are made."""
    enc = loads.enc
    members = enc.groups[g]
    starts: list[dict[int, list[int]]] = []
    for i in members:
        if enc.st_lock[i] is None and not enc.preferences_only:
            starts.append(enc.profile_starts(enc.profile(i)) if enc.supervisors_for(i) else {})
        else:
            own: dict[int, list[int]] = {}
            for w, k in enc.options(i):
                own.setdefault(w, []).append(k)
            starts.append(own)
    listed = {w for i in members for w in enc.st_prefs[i]}
    by_cost: dict[int, list[int]] = {}
    for w in sorted(listed):
        if all(w in st for st in starts):
            by_cost.setdefault(sum(enc.cost(i, w) for i in members), []).append(w)
    kind = None if full is None or any(
        enc.st_lock[i] is not None for i in members) or enc.preferences_only else (
        tuple(enc.profile(i) for i in members), tuple(loads.supervisor(i) for i in members))
    room = None if kind is None else full.get(kind)  # type: ignore[union-attr]
    if room is not None and room.hopeless:
        return
    for cost in sorted(by_cost):
        yield from _level(loads, members, starts, [w for w in by_cost[cost] if allowed(w)])
    if room is None:
        common = _common(starts)
        if kind is not None:
            room = full[kind] = Room(common, list(common))  # type: ignore[index]
    else:
        common = room.common
        if 2 * len(room.dead) > len(room.live):
            room.live = [w for w in room.live if w not in room.dead]
    # Off the lists every workstation costs the same: those with every member in one block
    # (no extra segment) by workstation, made one workstation at a time; then the split plans.
    # When the consumer asks for more after a workstation's options, none of them fitted.
    for w in common if room is None else room.live:
        if w in listed or not allowed(w) or (room is not None and w in room.dead):
            continue
        yield from _level(loads, members, starts, [w], split=False)
        if room is not None:
            room.dead.add(w)
    yield from _level(loads, members, starts, [w for w in common if w not in listed and allowed(w)],
                      split=True)
    if room is not None:
        room.hopeless = True


def _common(starts: list[dict[int, list[int]]]) -> list[int]:
    """The workstations in every one of ``starts``, by index."""
    fewest = min(starts, key=lambda st: len(st))
    return [w for w in sorted(fewest) if all(w in st for st in starts)]


def _seats(loads: Loads, w: int, t: int, members: list[int]) -> bool:
    """Whether workstation ``w`` has a free place and a mentor's place for each of
    ``members`` in term ``t`` (members who may take the same mentors counted together)."""
    if loads.ws_left[w][t] < len(members):
        return False
    need: dict[tuple[int, ...], int] = {}
    for i in members:
        ms = tuple(loads.mentors(i, w))
        need[ms] = need.get(ms, 0) + 1
    m_left = loads.m_left
    return all(sum(max(0, m_left[m][t]) for m in ms) >= n for ms, n in need.items())


def _level(loads: Loads, members: list[int], starts: list[dict[int, list[int]]],
           stations: list[int], split: bool | None = None) -> list[tuple[int, tuple[int, ...]]]:
    """The common options at ``stations`` (one plan per member, one first term) that may have
    room (:func:`_seats`), by fewer segments, then ``(w, plans)``; ``split``: only those with
    (True) or without (False) an extra segment."""
    enc = loads.enc
    level: list[tuple[int, tuple[int, ...]]] = []
    n_terms = enc.n_terms
    for w in stations:
        if max(loads.ws_left[w]) < len(starts):
            continue
        if split and not any(k >= n_terms for st in starts for k in st[w]):
            continue  # (no member has a segment plan here: every option is in one block)
        per = []
        for st in starts:
            by_first: dict[int, list[int]] = {}
            for k in st[w]:
                by_first.setdefault(enc.first_term(k), []).append(k)
            per.append(by_first)
        for t in sorted(set.intersection(*(set(by_first) for by_first in per))):
            if not _seats(loads, w, t, members):
                continue
            combos: list[tuple[int, ...]] = [()]
            for by_first in per:
                combos = [(*c, k) for c in combos for k in by_first[t]]
            level += [(w, c) for c in combos]
    if split is not None:
        level = [o for o in level if any(map(enc.extra_segments, o[1])) == split]
    level.sort(key=lambda o: (sum(map(enc.extra_segments, o[1])), o))
    return level


def _place_one(loads: Loads, chosen: dict[int, Choice], i: int,
               allowed: Callable[[int], bool]) -> bool:
    """Student ``i`` (no group) at its cheapest allowed workstation with room."""
    enc = loads.enc
    starts = loads.starts_by_station(i)
    s = loads.supervisor(i)
    if s < 0:
        return False
    order = sorted(starts, key=lambda w: (enc.cost(i, w), w))
    for w in order:
        if not allowed(w):
            continue
        got = fit(loads, i, w, starts[w], s)
        if got is not None:
            chosen[i] = (w, got[1], s, got[0])
            loads.take(i, chosen[i])
            return True
    return False


def enforce(enc: Encoded, chosen: dict[int, Choice],
            stop: Callable[[], bool] | None = None) -> dict[int, Choice]:
    """An allocation that also keeps groups together and minimum intakes (module docstring).

    ``chosen`` must keep every other rule; it is not changed. Locked students are never taken
    out: a workstation holding one stays open even below its minimum (the exact solvers say
    whether the locks allow an allocation at all). ``stop`` (polled between groups and
    workstations; e.g. a signal or a deadline): when it says so, nobody more is placed — groups
    apart are taken out and workstations below their minimum closed, so the allocation
    returned still keeps both rules.
    """
    if not enc.has_rules:
        return chosen
    halted = stop or (lambda: False)
    out = dict(chosen)
    loads = Loads(enc)
    for i, c in out.items():
        loads.take(i, c)
    for g, members in enumerate(enc.groups):
        if not together(enc, out, g) and not any(enc.st_lock[i] is not None for i in members):
            for i in members:
                if i in out:
                    loads.give_back(i, out.pop(i))
    pos = enc.priority_position
    groups = sorted(range(len(enc.groups)), key=lambda g: min(pos[i] for i in enc.groups[g]))
    full: Full = {}
    for g in groups:
        if halted():
            break
        place_group(loads, out, g, full=full)
    # Students per workstation, kept up to date below (recounting 100,000 placements for each
    # workstation below its minimum took seconds at a province's size).
    count: Counter[int] = Counter(c[0] for c in out.values())

    def book(trial: dict[int, Choice]) -> None:
        out.update(trial)
        count.update(c[0] for c in trial.values())

    closed: set[int] = set()
    while True:
        low = sorted(w for w, got in count.items() if 0 < got < enc.ws_min[w] and w not in closed)
        if not low:
            return out
        w = low[0]
        if not halted():
            trial: dict[int, Choice] = {}
            _fill(loads, out, trial, w, enc.ws_min[w] - count[w])
            book(trial)
            if count[w] >= enc.ws_min[w]:
                continue
        closed.add(w)
        held = sorted(i for i, c in out.items() if c[0] == w)
        if any(enc.st_lock[i] is not None for i in held):
            continue  # a lock keeps it open
        for i in held:
            loads.give_back(i, out.pop(i))
        count[w] = 0
        if halted():
            continue

        def is_open(v: int) -> bool:
            return v not in closed and (enc.ws_min[v] <= 1 or count[v] >= enc.ws_min[v])

        trial = {}
        for g in sorted({enc.st_group[i] for i in held if enc.st_group[i] >= 0}):
            place_group(loads, trial, g, is_open)
        for i in held:
            if enc.st_group[i] < 0:
                _place_one(loads, trial, i, is_open)
        book(trial)


def _fill(loads: Loads, chosen: dict[int, Choice], booked: dict[int, Choice], w: int,
          short: int) -> None:
    """Into ``booked``: unplaced students (groups whole) that fit at ``w``, cheapest first,
    while it is ``short`` of its minimum; nothing is booked unless the minimum is reached."""
    enc = loads.enc
    candidates = sorted((enc.cost(i, w), i) for i in range(enc.n_students)
                        if i not in chosen and enc.st_lock[i] is None
                        and w in loads.starts_by_station(i))
    done: set[int] = set()
    for _cost, i in candidates:
        if short <= 0:
            break
        if i in done:
            continue
        g = enc.st_group[i]
        trial: dict[int, Choice] = {}
        if g >= 0:
            done.update(enc.groups[g])
            if place_group(loads, trial, g, lambda v: v == w):
                booked.update(trial)
                short -= len(trial)
            continue
        if _place_one(loads, trial, i, lambda v: v == w):
            booked.update(trial)
            short -= 1
    if short > 0:
        for i, c in booked.items():
            loads.give_back(i, c)
        booked.clear()
