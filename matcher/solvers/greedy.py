"""Serial dictatorship: students in priority order each take their best feasible option.

This is the "score first, follow the wishes" rule of the national admission system: locked
students first, then by ``priority`` (higher first, ties by ``student_id``); each takes the
cheapest option (best-ranked listed workstation, else any fitting workstation unless
``preferences_only``) that still has a place in every term of its block, a mentor with room in
every term of it and a supervisor with room. It keeps every hard rule but proves nothing, so its
status is FEASIBLE (UNKNOWN when a lock cannot be honoured). It also warm-starts ``cpsat``.
"""

from __future__ import annotations

import time
from itertools import chain

from ..encoding import Encoded, encode
from ..model import Problem
from ..model.result import Result, Status
from .base import Choice, SolverConfig, build_result, lock_rows

NAME = "greedy"


def serial_dictatorship(enc: Encoded) -> tuple[dict[int, Choice], list[int]]:
    """Allocate greedily in priority order.

    Each student tries its listed workstations in rank order, then (unless ``preferences_only``)
    the others by index, each with its starts in order: the first start with a place in every
    term of the block and a mentor with room takes it. Room only shrinks as students are
    placed, so a workstation where a profile (university, discipline, block, window) found no
    room once is never tried again for that profile: without this, the students left out of a
    full province each scanned every workstation (tier XL: 148 s, now a few).

    Returns
    -------
    chosen
        Student index -> ``(workstation, mentor, supervisor, start)``.
    failed_locks
        Locked students that could not be placed.
    """
    ws_left = [list(caps) for caps in enc.ws_cap]
    m_left = [[c] * enc.n_terms for c in enc.m_cap]
    s_left = list(enc.s_cap)
    order = sorted(range(enc.n_students),
                   key=lambda i: (enc.st_lock[i] is None, -enc.st_priority[i],
                                  enc.student_ids[i]))
    chosen: dict[int, Choice] = {}
    failed: list[int] = []
    others_of: dict[tuple[int, ...], list[int]] = {}  # workstations not yet full, by index
    full_of: dict[tuple[int, ...], set[int]] = {}
    stale: dict[tuple[int, ...], int] = {}  # full ones still in others_of

    def room(i: int, w: int, ks: list[int]) -> tuple[int, int] | None:
        """The first start at ``w`` with room in its block, and a mentor with room there."""
        n, lock = enc.st_block[i], enc.st_lock[i]
        mentors = [lock[1]] if lock is not None and lock[1] >= 0 else enc.mentors_for(
            w, enc.st_disc[i])
        for k in ks:
            block = enc.covers(k, n)
            if any(ws_left[w][t] <= 0 for t in block):
                continue
            m = next((m for m in mentors if all(m_left[m][t] > 0 for t in block)), -1)
            if m >= 0:
                return k, m
        return None

    for i in order:
        sups = [s for s in enc.supervisors_for(i) if s_left[s] > 0]
        pick: Choice | None = None
        if sups and enc.st_lock[i] is not None:  # a lock's own options, in cost order
            for w, k in sorted(enc.options(i), key=lambda o: (enc.cost(i, o[0]), o)):
                got = room(i, w, [k])
                if got is not None:
                    pick = (w, got[1], sups[0], k)
                    break
        elif sups:
            key = enc.profile(i)
            starts = enc.profile_starts(key)
            if key not in others_of:
                others_of[key], full_of[key] = list(starts), set()
            full, listed = full_of[key], enc.rank_of[i]
            tries = chain((w for w in enc.st_prefs[i] if w in starts), () if
                          enc.preferences_only else (w for w in others_of[key] if w not in listed))
            for w in tries:
                if w in full:
                    continue
                got = room(i, w, starts[w])
                if got is not None:
                    pick = (w, got[1], sups[0], got[0])
                    break
                full.add(w)
                stale[key] = stale.get(key, 0) + 1
            if stale.get(key, 0) * 2 > len(others_of[key]):  # drop the full ones now and then
                others_of[key] = [w for w in others_of[key] if w not in full]
                stale[key] = 0
        if pick is None:
            if enc.st_lock[i] is not None:
                failed.append(i)
            continue
        w, m, s, k = pick
        for t in enc.covers(k, enc.st_block[i]):
            ws_left[w][t] -= 1
            m_left[m][t] -= 1
        s_left[s] -= 1
        chosen[i] = pick
    return chosen, failed


def solve(problem: Problem, config: SolverConfig) -> Result:
    """Serial dictatorship by priority (see the module docstring); never claims optimality."""
    t0 = time.perf_counter()
    enc = encode(problem)
    chosen, failed = serial_dictatorship(enc)
    if failed:
        return build_result(enc, NAME, Status.UNKNOWN, {}, config, time.perf_counter() - t0,
                            message=f"greedy could not honour the locks in "
                                    f"{lock_rows(enc, failed)}; try the cpsat solver")
    return build_result(enc, NAME, Status.FEASIBLE, chosen, config, time.perf_counter() - t0)
