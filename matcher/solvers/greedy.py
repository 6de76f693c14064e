"""Score first (分数优先，遵循志愿): serial dictatorship by priority, a named allocation rule.

The rule of the national admission system and of many graduate offices: locked students first,
then every other student in order of ``priority`` (higher first, ties by ``student_id``) takes
the best choice still possible — the best-ranked listed workstation that still has, in some
block of terms of the student's window, a place in every term and an enterprise mentor of the
discipline with room in every term, and a campus supervisor with room (the given one, else one
of the university and discipline). A student none of whose choices is still possible takes any
workstation that fits (unless ``preferences_only``), or stays unplaced.

Which place a student takes (it changes who fits after it): the earliest start with room, the
first mentor (by id) with room in every term of that block, the first supervisor (by id) with
room. It keeps every hard rule and proves nothing about the objective, so its status is
FEASIBLE (UNKNOWN when a lock cannot be honoured). When the workstations rank students by
priority (no ``rankings.csv``), it leaves no blocking pair (:mod:`matcher.fairness`): a
student kept from a better choice was kept out by students placed before it, that is, ranked
above it. It is what ``--policy priority`` (``solver: {policy: priority}``) runs, and it
warm-starts ``cpsat``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from ..encoding import Encoded, Profile, encode
from ..model import Problem
from ..model.result import Result, Status
from .base import (
    Choice,
    SolverConfig,
    build_result,
    lock_rows,
    no_cycle_collection,
    refuse_quotas,
)
from .rules import enforce

NAME = "greedy"
PRIORITY = "priority"
"""The policy name of this rule (``--policy priority``)."""


def serial_dictatorship(enc: Encoded) -> tuple[dict[int, Choice], list[int]]:
    """Allocate in priority order (see the module docstring).

    Each student tries its listed workstations in rank order, then (unless ``preferences_only``)
    the others by index. Room only shrinks as students are placed, so a workstation where a
    profile (university, discipline, block, window) found no room once is never tried again for
    that profile, and a supervisor found full is never looked at again: the students left out
    of a full province would otherwise each scan every workstation.

    Returns
    -------
    chosen
        Student index -> ``(workstation, mentor, supervisor, start)``.
    failed_locks
        Locked students that could not be placed.
    """
    n_terms = enc.n_terms
    ws_left = [list(caps) for caps in enc.ws_cap]
    m_left = [[c] * n_terms for c in enc.m_cap]
    s_left = list(enc.s_cap)
    st_lock, st_block, st_disc, st_prefs = enc.st_lock, enc.st_block, enc.st_disc, enc.st_prefs
    st_sup, st_univ = enc.st_sup, enc.st_univ
    order = sorted(range(enc.n_students),
                   key=lambda i: (st_lock[i] is None, -enc.st_priority[i], i))
    chosen: dict[int, Choice] = {}
    failed: list[int] = []
    mentors_of: dict[tuple[int, int], list[int]] = {}
    next_sup: dict[tuple[int, int], int] = {}  # (u, d) -> first of its supervisors maybe free
    others_of: dict[Profile, list[int]] = {}  # workstations not yet full, by index
    stale: dict[Profile, int] = {}  # full ones still in others_of
    first_of: dict[Profile, int] = {}  # others_of[key][:first] are all full
    # Where the search of a profile at a workstation goes on: (start index, mentor index).
    # Room only shrinks, so every (start, mentor) before it has no room for the profile any
    # more, and the first one with room is at or after it; past the end: no room at all.
    resume_of: dict[Profile, dict[int, tuple[int, int]]] = {}
    blocks: dict[tuple[int, int], tuple[int, ...]] = {}

    def mentors(w: int, d: int) -> list[int]:
        got = mentors_of.get((w, d))
        if got is None:
            got = mentors_of[w, d] = enc.mentors_for(w, d)
        return got

    def room(w: int, n: int, starts: list[int], ms: list[int], a: int = 0, b: int = 0
             ) -> tuple[int, int] | None:
        """The first (start index, mentor index) from ``(a, b)`` on with room at ``w`` in every
        term of the block, workstation and mentor; None when there is none."""
        ws = ws_left[w]
        for ki in range(a, len(starts)):
            k = starts[ki]
            block = blocks.get((k, n))
            if block is None:
                block = blocks[k, n] = tuple(enc.covers(k, n))
            first_m = b if ki == a else 0
            if len(block) == 1:  # most students need one or two terms: no generator then
                t = block[0]
                if ws[t] > 0:
                    for mi in range(first_m, len(ms)):
                        if m_left[ms[mi]][t] > 0:
                            return ki, mi
            elif len(block) == 2:
                t, u = block
                if ws[t] > 0 and ws[u] > 0:
                    for mi in range(first_m, len(ms)):
                        ml = m_left[ms[mi]]
                        if ml[t] > 0 and ml[u] > 0:
                            return ki, mi
            elif all(ws[t] > 0 for t in block):
                for mi in range(first_m, len(ms)):
                    ml = m_left[ms[mi]]
                    if all(ml[t] > 0 for t in block):
                        return ki, mi
        return None

    blocked = max_quota_counters(enc)
    st_group = enc.st_group
    # every student's profile (enc.profile(i)) at once, and each profile's starts looked up once
    profiles = list(zip(enc.st_univ, st_disc, st_block, enc.st_first, enc.st_last, enc.st_x,
                        strict=True))
    starts_of: dict[Profile, dict[int, list[int]]] = {}
    for i in order:
        if st_group[i] >= 0:
            continue  # groups are placed whole afterwards (rules.enforce), never split
        # The supervisor student i would get now: the given one, else the first with room.
        s = st_sup[i]
        if s >= 0:
            if s_left[s] <= 0:
                s = -1
        else:
            group = (st_univ[i], st_disc[i])
            sups = enc.supervisors_for(i)
            at = next_sup.get(group, 0)
            while at < len(sups) and s_left[sups[at]] <= 0:
                at += 1
            next_sup[group] = at
            s = sups[at] if at < len(sups) else -1
        if s < 0:
            if st_lock[i] is not None:
                failed.append(i)
            continue
        n, d = st_block[i], st_disc[i]
        pick: Choice | None = None
        lock = st_lock[i]
        if lock is not None:  # a lock's own options, in cost order
            ms = [lock[1]] if lock[1] >= 0 else mentors(lock[0], d)
            for w, k in sorted(enc.options(i), key=lambda o: (enc.cost(i, o[0]), o)):
                got = room(w, n, [k], ms)
                if got is not None:
                    pick = (w, ms[got[1]], s, k)
                    break
        else:
            key = profiles[i]
            starts = starts_of.get(key)
            if starts is None:
                starts = starts_of[key] = enc.profile_starts(key)
            resume = resume_of.get(key)
            if resume is None:
                resume = resume_of[key] = {}
                others_of[key], stale[key] = list(starts), 0
            for w in st_prefs[i]:
                ks = starts.get(w)
                if ks is None:
                    continue
                a, b = resume.get(w, (0, 0))
                if a >= len(ks):
                    continue  # known full for this profile
                ms = mentors(w, d)
                got = room(w, n, ks, ms, a, b)
                if got is not None:
                    resume[w] = got
                    if blocked is not None and blocked(i, w, False):
                        continue  # (a quota, not room: the workstation stays open)
                    pick = (w, ms[got[1]], s, ks[got[0]])
                    break
                resume[w] = (len(ks), 0)
                stale[key] += 1
            if pick is None and not enc.preferences_only:
                listed = enc.rank_of[i]
                others = others_of[key]
                at = first_of.get(key, 0)
                while at < len(others) and resume.get(others[at], (0, 0))[0] >= len(
                        starts[others[at]]):
                    at += 1  # the full ones in front stay full: skip them for good
                first_of[key] = at
                for w in others[at:] if at else others:
                    ks = starts[w]
                    a, b = resume.get(w, (0, 0))
                    if a >= len(ks) or w in listed:
                        continue
                    ms = mentors(w, d)
                    got = room(w, n, ks, ms, a, b)
                    if got is not None:
                        resume[w] = got
                        if blocked is not None and blocked(i, w, False):
                            continue
                        pick = (w, ms[got[1]], s, ks[got[0]])
                        break
                    resume[w] = (len(ks), 0)
                    stale[key] += 1
            if stale[key] * 2 > len(others_of[key]):  # drop the full ones now and then
                others_of[key] = [w for w in others_of[key]
                                  if resume.get(w, (0, 0))[0] < len(starts[w])]
                stale[key], first_of[key] = 0, 0
        if pick is None:
            if lock is not None:
                failed.append(i)
            continue
        w, m, s, k = pick
        ws, ml = ws_left[w], m_left[m]
        for t in enc.covers(k, n):
            ws[t] -= 1
            ml[t] -= 1
        s_left[s] -= 1
        chosen[i] = pick
        if blocked is not None:
            blocked(i, w, True)
    return enforce(enc, chosen), failed


def max_quota_counters(enc: Encoded) -> Callable[[int, int, bool], bool] | None:
    """The hard maximum quotas (issue 29) as counters for a placement in priority order (None
    without any): ``blocked(i, w, False)`` says whether student ``i`` at ``w`` would exceed one
    — a group member is let in only while the group's count, with them, stays within its
    maximum count and within its maximum share of the students placed there so far, them
    included — and ``blocked(i, w, True)`` counts ``i`` placed there. Checked after every
    placement, the share then holds at the end whoever comes later (others only lower it).
    A workstation a quota closes to a member may open again when others come, so it is never
    marked full for the profile. Minimum quotas are not counters (see :func:`solve`)."""
    quotas = [q for q in enc.quotas if q.hard and (q.max_count is not None
                                                   or q.max_share is not None)]
    if not quotas:
        return None
    at: dict[int, list[int]] = defaultdict(list)
    every = [n for n, q in enumerate(quotas) if q.w < 0]
    for n, q in enumerate(quotas):
        if q.w >= 0:
            at[q.w].append(n)
    group = [0] * len(quotas)
    total = [0] * len(quotas)
    st_univ, st_disc = enc.st_univ, enc.st_disc

    def blocked(i: int, w: int, place: bool) -> bool:
        u, d = st_univ[i], st_disc[i]
        for n in at.get(w, ()) if not every else [*at.get(w, ()), *every]:
            q = quotas[n]
            member = q.matches(u, d)
            if place:
                total[n] += 1
                group[n] += member
            elif member and ((q.max_count is not None and group[n] + 1 > q.max_count) or (
                    q.max_share is not None and group[n] + 1 > q.max_share * (total[n] + 1))):
                return True
        return False

    return blocked


def solve(problem: Problem, config: SolverConfig) -> Result:
    """Score first: serial dictatorship by priority (see the module docstring).

    Never claims optimality. ``stats["policy"]`` is ``"priority"`` when it ran as the policy
    (option ``policy``); the result then bounds the number placed by the students with any
    allowed option (no allocation places more), so the price of the rule in students left out
    can be read off it.
    """
    with no_cycle_collection():
        return _solve(problem, config)


def _solve(problem: Problem, config: SolverConfig) -> Result:
    t0 = time.perf_counter()
    enc = encode(problem)
    stats = {"policy": PRIORITY} if config.options.get("policy") == PRIORITY else {}
    # Issue 29: the hard maximum quotas are counters (max_quota_counters); a minimum could only
    # be promised by holding places back from students who come first: refused, saying so.
    what = "score first (policy priority)" if stats else ""
    refused = refuse_quotas(enc, NAME, config, what, minimum_only=True)
    if refused is not None:
        return replace(refused, stats={**refused.stats, **stats})
    chosen, failed = serial_dictatorship(enc)
    if not failed and not enc.quotas_hold(chosen):  # locks or a group broke a maximum
        refused = refuse_quotas(enc, NAME, config, what, why="quotas.why.locks")
        assert refused is not None
        return replace(refused, stats={**refused.stats, **stats})
    if failed:
        return build_result(enc, NAME, Status.UNKNOWN, {}, config, time.perf_counter() - t0,
                            stats=stats, message=f"greedy could not honour the locks in "
                                                 f"{lock_rows(enc, failed)}; try the cpsat solver")
    # No allocation places a student without an allowed option; every placed one has one.
    bound = len(chosen) + sum(1 for i in range(enc.n_students)
                              if i not in chosen and enc.options(i)) if stats else None
    return build_result(enc, NAME, Status.FEASIBLE, chosen, config, time.perf_counter() - t0,
                        placed_upper_bound=bound, stats=stats)
