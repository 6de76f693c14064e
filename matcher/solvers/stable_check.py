"""The blocking pairs of an allocation, by index: how ``cpsat --stable`` tells a stable start.

The solvers' own statement of justified envy (the checker's default definition,
:mod:`matcher.fairness`, which it does not share: the tests hold both against a brute force).
``cpsat --stable`` uses it to choose between its warm starts (deferred acceptance and score
first) and, for a province too large for its model, to make sure the allocation it returns is
stable. See :mod:`matcher.solvers.stable_model` for the definition in the model's terms.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from ..encoding import Encoded
from .base import Choice

Tier = tuple[int, int]
LOCKED: Tier = (-1, 0)
"""A locked student's tier: never below anyone."""


def tier_of(enc: Encoded) -> Callable[[int, int], Tier]:
    """``tier(w, i)``: how workstation ``w`` ranks student ``i``, lower first (locked students
    first, then ``rankings.csv``, then the priority order); equal explicit ranks tie."""
    wix = {w: k for k, w in enumerate(enc.workstation_ids)}
    iix = {s: k for k, s in enumerate(enc.student_ids)}
    own = {(wix[rk.workstation_id], iix[rk.student_id]): rk.rank for rk in enc.problem.rankings}
    pos = enc.priority_position
    locked = {i for i, lk in enumerate(enc.st_lock) if lk is not None}

    def tier(w: int, i: int) -> Tier:
        if i in locked:
            return LOCKED
        rank = own.get((w, i))
        return (1, pos[i]) if rank is None else (0, rank)

    return tier


def blocking(enc: Encoded, chosen: Mapping[int, Choice], *, first_only: bool = False
             ) -> list[tuple[int, int]]:
    """Every blocking pair ``(student, workstation)`` of an allocation (or only the first).

    A student neither locked nor in a group, and a listed workstation it fits (discipline,
    partnership, not vetoed) strictly above its placement, block when for some plan of the
    student's window and some mentor of the workstation taking its discipline, every term has
    room at the workstation and with the mentor (a free place, or a holder the workstation
    ranks below the student), and the student's supervisor can take it (always when it is
    placed; else the given one, or one of its university and discipline, has room).
    """
    tier = tier_of(enc)
    # Per workstation-term and mentor-term: how many hold it and the lowest-ranked holder; a
    # student finds room there exactly when a place is free or that holder is below it.
    at_w: dict[tuple[int, int], list[Any]] = {}
    at_m: dict[tuple[int, int], list[Any]] = {}
    s_load = [0] * len(enc.supervisor_ids)
    for i, (w, m, s, k) in chosen.items():
        key = tier(w, i)
        for t in enc.covers(k, enc.st_block[i]):
            for slot in (at_w.setdefault((w, t), [0, LOCKED]),
                         at_m.setdefault((m, t), [0, LOCKED])):
                slot[0] += 1
                if key > slot[1]:
                    slot[1] = key
        s_load[s] += 1
    no = [0, LOCKED]
    opened = {w for w, _m, _s, _k in chosen.values()}

    def room(slot: list[Any], cap: int, mine: Tier) -> bool:
        return bool(slot[0] < cap or slot[1] > mine)

    out: list[tuple[int, int]] = []
    for i in range(enc.n_students):
        if enc.st_lock[i] is not None or enc.st_group[i] >= 0 or not enc.st_prefs[i]:
            continue
        here = chosen.get(i)
        now = enc.rank_of[i].get(here[0]) if here is not None else None
        if here is None and not any(s_load[s] < enc.s_cap[s] for s in _supervisors(enc, i)):
            continue
        n, d = enc.st_block[i], enc.st_disc[i]
        for w, r in zip(enc.st_prefs[i], enc.st_ranks[i], strict=True):
            if now is not None and r >= now:
                break
            partners = enc.ws_partners[w]
            if (d not in enc.ws_disc[w] or (partners is not None and enc.st_univ[i] not in partners)
                    or enc.vetoed(i, w) or (enc.ws_min[w] > 1 and w not in opened)):
                continue  # (one student cannot open a workstation with a minimum intake)
            mine = tier(w, i)
            cap = enc.ws_cap[w]
            mentors = [m for m in enc.ws_mentors[w] if d in enc.m_disc[m] and enc.m_cap[m] > 0]
            ok_w: dict[int, bool] = {}
            for k in enc.starts(w, n, enc.st_first[i], enc.st_last[i], enc.segments_of(i)):
                terms = enc.covers(k, n)
                if not all(ok_w[t] if t in ok_w else ok_w.setdefault(
                        t, room(at_w.get((w, t), no), cap[t], mine)) for t in terms):
                    continue
                if any(all(room(at_m.get((m, t), no), enc.m_cap[m], mine) for t in terms)
                       for m in mentors):
                    out.append((i, w))
                    if first_only:
                        return out
                    break
    return out


def _supervisors(enc: Encoded, i: int) -> list[int]:
    """The supervisors who could take student ``i`` (with any capacity)."""
    return enc.supervisors_for(i)


def complete(enc: Encoded, chosen: Mapping[int, Choice]) -> dict[int, Choice]:
    """A stable allocation with its unplaced students placed where there is still room, in
    priority order, each at its best option (listed first, in rank order; then off its list).

    Stable stays stable: a new holder never gives another student room it had not had (a
    term with a free place had room already, a full one cannot take the newcomer), a fuller
    supervisor only excuses more; and the newcomer, unplaced with a supervisor free, had no
    workstation above able to take it, and has none now. So this only adds placed students.
    """
    out = dict(chosen)
    ws_left = [list(caps) for caps in enc.ws_cap]
    m_left = [[c] * enc.n_terms for c in enc.m_cap]
    s_left = list(enc.s_cap)
    for i, (w, m, s, k) in out.items():
        for t in enc.covers(k, enc.st_block[i]):
            ws_left[w][t] -= 1
            m_left[m][t] -= 1
        s_left[s] -= 1
    order = sorted((i for i in range(enc.n_students) if i not in out),
                   key=lambda i: (enc.priority_position[i], i))
    # Room only shrinks: a profile that found no option with room never finds one later (its
    # students share every option unless the options are their lists alone).
    failed: set[tuple[int, ...]] = set()
    shared = not enc.preferences_only
    for i in order:
        sups = [s for s in enc.supervisors_for(i) if s_left[s] > 0]
        profile = enc.profile(i)
        if not sups or (shared and profile in failed and enc.st_lock[i] is None):
            continue
        n, d = enc.st_block[i], enc.st_disc[i]
        ranked = enc.rank_of[i]
        options = enc.options(i)
        listed = sorted((o for o in options if o[0] in ranked), key=lambda o: (ranked[o[0]], o))
        for w, k in itertools.chain(listed, (o for o in options if o[0] not in ranked)):
            terms = enc.covers(k, n)
            if any(ws_left[w][t] <= 0 for t in terms):
                continue
            mentor = next((x for x in enc.mentors_for(w, d)
                           if all(m_left[x][t] > 0 for t in terms)), None)
            if mentor is None:
                continue
            s = sups[0]
            out[i] = (w, mentor, s, k)
            for t in terms:
                ws_left[w][t] -= 1
                m_left[mentor][t] -= 1
            s_left[s] -= 1
            break
        else:
            if enc.st_lock[i] is None:
                failed.add(profile)
    return out
