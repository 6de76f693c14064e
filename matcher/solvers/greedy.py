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

from ..encoding import Encoded, encode
from ..model import Problem
from ..result import Result, Status
from .base import Choice, SolverConfig, build_result, lock_rows

NAME = "greedy"


def serial_dictatorship(enc: Encoded) -> tuple[dict[int, Choice], list[int]]:
    """Allocate greedily in priority order.

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
    for i in order:
        n, d = enc.st_block[i], enc.st_disc[i]
        sups = [s for s in enc.supervisors_for(i) if s_left[s] > 0]
        lock = enc.st_lock[i]
        options = sorted(enc.options(i), key=lambda o: (enc.cost(i, o[0]), o))
        pick: Choice | None = None
        for w, k in options if sups else ():
            block = enc.covers(k, n)
            if any(ws_left[w][t] <= 0 for t in block):
                continue
            mentors = [lock[1]] if lock is not None and lock[1] >= 0 else enc.mentors_for(w, d)
            m = next((m for m in mentors if all(m_left[m][t] > 0 for t in block)), -1)
            if m >= 0:
                pick = (w, m, sups[0], k)
                break
        if pick is None:
            if lock is not None:
                failed.append(i)
            continue
        w, m, s, k = pick
        for t in enc.covers(k, n):
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
