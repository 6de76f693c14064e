"""A quick allocation made to keep the hard group quotas (issue 29), for a warm start.

The quick allocations (greedy, deferred acceptance, the flow's repair and the augmenting moves)
do not see quotas. :func:`hold_quotas` makes one keep them by taking students out: while a hard
quota is broken, one student counted by it leaves — a member of the group when the group is
over its maximum (count or share), one who is not when it is under its minimum share — the one
whose placement costs most (its worst choice first), never a locked student. Taking a student
out never breaks a capacity, so the result is a valid start for the exact model (HiGHS's
branch and cut then places the rest where the quotas allow). A minimum count that is not met
cannot be mended by taking students out: then there is no start (None). :func:`fill` then
places students left out where a place, a mentor, a supervisor and every hard quota allow
(priority order, best choice first), so that the start does not lose more than it must.
"""

from __future__ import annotations

from collections import defaultdict

from ..encoding import Encoded
from .base import Choice
from .rules import enforce


def hold_quotas(enc: Encoded, chosen: dict[int, Choice] | None) -> dict[int, Choice] | None:
    """``chosen`` with students taken out until every hard quota holds (None when that cannot
    be done by taking students out; ``chosen`` itself when it keeps them already)."""
    if chosen is None or enc.quotas_hold(chosen):
        return chosen
    out = dict(chosen)
    quotas = [(n, q) for n, q in enumerate(enc.quotas) if q.hard]
    at: dict[int, set[int]] = defaultdict(set)  # workstation -> students there
    for i, c in out.items():
        at[c[0]].add(i)
    group = [0] * len(enc.quotas)
    total = [0] * len(enc.quotas)
    for n, q in quotas:
        for i in (out if q.w < 0 else at[q.w]):
            total[n] += 1
            group[n] += q.matches(enc.st_univ[i], enc.st_disc[i])
    for _ in range(len(chosen)):
        broken = next(((n, q) for n, q in quotas if not q.holds(group[n], total[n])), None)
        if broken is None:
            break
        n, q = broken
        over = ((q.max_count is not None and group[n] > q.max_count)
                or (q.max_share is not None and group[n] > q.max_share * total[n]))
        under_share = q.min_share is not None and group[n] < q.min_share * total[n]
        if not over and not under_share:
            return None  # a minimum count: taking students out cannot help
        counted = out if q.w < 0 else at[q.w]
        # over a maximum: a member leaves; under a minimum share: a non-member leaves
        pool = [i for i in counted if enc.st_lock[i] is None
                and q.matches(enc.st_univ[i], enc.st_disc[i]) == over]
        if not pool:
            return None
        worst = max(pool, key=lambda i: (enc.cost(i, out[i][0]), -i))
        w = out.pop(worst)[0]
        at[w].discard(worst)
        u, d = enc.st_univ[worst], enc.st_disc[worst]
        for k, other in quotas:
            if other.counts_at(w):
                total[k] -= 1
                group[k] -= other.matches(u, d)
    if enc.has_rules:  # a group member or a minimum intake may have been broken
        out = enforce(enc, out)
    if not enc.quotas_hold(out):
        return None
    return fill(enc, out)


def fill(enc: Encoded, chosen: dict[int, Choice], most_options: int = 2_000_000
         ) -> dict[int, Choice]:
    """``chosen`` with students left out placed where a place in every term, a mentor, a
    supervisor and every hard quota allow: in priority order, each at its cheapest such option
    (students of a group and workstations not yet opened for a minimum intake are left alone).
    Looks at ``most_options`` options in all (a province's leftovers may have millions)."""
    out = dict(chosen)
    ws_load = [[0] * enc.n_terms for _ in enc.workstation_ids]
    m_load = [[0] * enc.n_terms for _ in enc.mentor_ids]
    s_load = [0] * len(enc.supervisor_ids)
    count = [0] * len(enc.workstation_ids)
    for i, (w, m, s, k) in out.items():
        for t in enc.covers(k, enc.st_block[i]):
            ws_load[w][t] += 1
            m_load[m][t] += 1
        s_load[s] += 1
        count[w] += 1
    quotas = [(n, q) for n, q in enumerate(enc.quotas) if q.hard]
    group = [0] * len(enc.quotas)
    total = [0] * len(enc.quotas)
    for n, q in quotas:
        for i, c in out.items():
            if q.counts_at(c[0]):
                total[n] += 1
                group[n] += q.matches(enc.st_univ[i], enc.st_disc[i])
    budget = most_options
    for i in sorted(set(range(enc.n_students)) - set(out), key=enc.priority_position.__getitem__):
        if enc.st_group[i] >= 0 or enc.st_lock[i] is not None or budget <= 0:
            continue
        u, d, n_terms = enc.st_univ[i], enc.st_disc[i], enc.st_block[i]
        sups = [s for s in enc.supervisors_for(i) if s_load[s] < enc.s_cap[s]]
        options = enc.options(i) if sups else []
        budget -= len(options)
        for w, k in sorted(options, key=lambda o: (enc.cost(i, o[0]), o)):
            block = list(enc.covers(k, n_terms))
            if (any(ws_load[w][t] >= enc.ws_cap[w][t] for t in block)
                    or (count[w] == 0 and enc.ws_min[w] > 1)):
                continue
            mentor = next((m for m in enc.mentors_for(w, d)
                           if all(m_load[m][t] < enc.m_cap[m] for t in block)), None)
            if mentor is None or not all(q.holds(group[n] + q.matches(u, d), total[n] + 1)
                                         for n, q in quotas if q.counts_at(w)):
                continue
            out[i] = (w, mentor, sups[0], k)
            for t in block:
                ws_load[w][t] += 1
                m_load[mentor][t] += 1
            s_load[sups[0]] += 1
            count[w] += 1
            for n, q in quotas:
                if q.counts_at(w):
                    total[n] += 1
                    group[n] += q.matches(u, d)
            break
    return out
