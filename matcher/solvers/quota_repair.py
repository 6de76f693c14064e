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

:func:`repair` does better where it can: while a hard quota is broken, it makes the one move
that mends it (lowers the quotas' total breach) placing the most students, then costing the
least rank: an unplaced student who evens the shares placed there (alone, or in the place of a
student who leaves), a student moved there from another workstation, a student moved to
another workstation of their list (another student there moving on to make room, if need be),
two students of a group and of the rest exchanging workstations; taking a student out only
when nothing else mends it. From the optimum without quotas, the few moves keep nearly all of
it (the demo with 300 quotas: benchmarks/RESULTS.md).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator

from ..encoding import Encoded, QuotaIx
from .base import Choice
from .packing import Loads, fit
from .rules import enforce

REPAIR_WORK = 2_000_000
"""Placement tries :func:`repair` may spend in all (its deterministic budget)."""
MEND_CHOICES = 12
"""Moves losing no student that :func:`repair` compares before it makes the best of them (more
compare longer for little: the demo with 300 quotas, 1,987 placed either way)."""


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


def breach(q: QuotaIx, group: int, total: int, scale: int = 1) -> int:
    """How far ``group`` members among ``total`` counted students are from quota ``q``'s
    bounds, in students times ``scale`` (0 when it holds; exact when ``scale`` is a multiple of
    the shares' denominators)."""
    out = 0
    if q.min_count is not None and group < q.min_count:
        out += (q.min_count - group) * scale
    if q.max_count is not None and group > q.max_count:
        out += (group - q.max_count) * scale
    if q.min_share is not None:
        num, den = q.min_share.numerator, q.min_share.denominator
        out += max(0, num * total - den * group) * (scale // den)
    if q.max_share is not None:
        num, den = q.max_share.numerator, q.max_share.denominator
        out += max(0, den * group - num * total) * (scale // den)
    return out


Step = tuple[int, Choice | None, Choice | None]
"""One student's part of a move: ``(student, choice before or None, choice after or None)``."""


class _Repair:
    """An allocation with its room booked and the hard quotas' tallies, and its moves."""

    def __init__(self, enc: Encoded, chosen: dict[int, Choice], work: int):
        self.enc = enc
        self.out = dict(chosen)
        self.loads = Loads(enc)
        self.work = work
        self.at: dict[int, set[int]] = defaultdict(set)
        for i, c in self.out.items():
            self.loads.take(i, c)
            self.at[c[0]].add(i)
        self.hard = [n for n, q in enumerate(enc.quotas) if q.hard]
        self.by_w: dict[int, list[int]] = defaultdict(list)
        self.every = [n for n in self.hard if enc.quotas[n].w < 0]
        for n in self.hard:
            if enc.quotas[n].w >= 0:
                self.by_w[enc.quotas[n].w].append(n)
        self.group = [0] * len(enc.quotas)
        self.total = [0] * len(enc.quotas)
        self.scale = 1  # breaches in students times this: integers
        for n in self.hard:
            for share in (enc.quotas[n].min_share, enc.quotas[n].max_share):
                if share is not None:
                    self.scale = math.lcm(self.scale, share.denominator)
        for i, c in self.out.items():
            self._count(i, c[0], 1)
        self.listing: dict[int, list[int]] = defaultdict(list)  # workstation -> who lists it
        for i, prefs in enumerate(enc.st_prefs):
            for w in prefs:
                self.listing[w].append(i)
        self.unplaced = [i for i in sorted(set(range(enc.n_students)) - set(self.out),
                                           key=enc.priority_position.__getitem__)
                         if self.movable(i) and self.loads.starts_by_station(i)]

    def movable(self, i: int) -> bool:
        return self.enc.st_lock[i] is None and self.enc.st_group[i] < 0

    def quotas_at(self, w: int) -> list[int]:
        return self.by_w.get(w, []) + self.every

    def _count(self, i: int, w: int, sign: int) -> None:
        u, d = self.enc.st_univ[i], self.enc.st_disc[i]
        for n in self.quotas_at(w):
            self.total[n] += sign
            self.group[n] += sign * self.enc.quotas[n].matches(u, d)

    def broken(self) -> int | None:
        return next((n for n in self.hard
                     if not self.enc.quotas[n].holds(self.group[n], self.total[n])), None)

    def change(self, steps: list[Step]) -> int:
        """The change of the hard quotas' total breach that ``steps`` would make."""
        enc = self.enc
        delta: dict[int, list[int]] = {}
        for i, before, after in steps:
            u, d = enc.st_univ[i], enc.st_disc[i]
            for c, sign in ((before, -1), (after, 1)):
                if c is None:
                    continue
                for n in self.quotas_at(c[0]):
                    g_t = delta.setdefault(n, [0, 0])
                    g_t[0] += sign * enc.quotas[n].matches(u, d)
                    g_t[1] += sign
        sc = self.scale
        return sum(breach(enc.quotas[n], self.group[n] + g, self.total[n] + t, sc)
                   - breach(enc.quotas[n], self.group[n], self.total[n], sc)
                   for n, (g, t) in delta.items())

    def apply(self, steps: list[Step]) -> None:
        for i, before, after in steps:
            if before is not None:
                self.loads.give_back(i, before)
                self.at[before[0]].discard(i)
                self._count(i, before[0], -1)
                del self.out[i]
            if after is not None:
                self.loads.take(i, after)
                self.at[after[0]].add(i)
                self._count(i, after[0], 1)
                self.out[i] = after

    def place(self, i: int, w: int, s: int) -> Choice | None:
        """A choice for ``i`` at ``w`` with supervisor ``s`` where the room is now, or None."""
        starts = self.loads.starts_by_station(i).get(w)
        self.work -= 1
        if not starts or self.loads.s_left[s] <= 0:
            return None
        got = fit(self.loads, i, w, starts, s)
        return None if got is None else (w, got[1], s, got[0])

    def trial(self, undo: list[Step], then: list[tuple[int, int, int]]) -> list[Step] | None:
        """``undo`` (students leaving), then ``then`` (student, workstation, supervisor) placed
        one by one where the room then is: the whole move, or None if one does not fit or it
        would not lower the hard quotas' breach (asked first: it needs the workstations only)."""
        ghost: dict[int, list[Choice | None]] = {i: [b, None] for i, b, _ in undo}
        for i, w, _s in then:
            ghost.setdefault(i, [None, None])[1] = (w, -1, -1, -1)
        if self.change([(i, b, a) for i, (b, a) in ghost.items()]) >= 0:
            return None
        for i, before, _ in undo:
            assert before is not None
            self.loads.give_back(i, before)
        steps = list(undo)
        placed: list[tuple[int, Choice]] = []
        for i, w, s in then:
            c = self.place(i, w, s) if s >= 0 else None
            if c is None:
                steps = []
                break
            self.loads.take(i, c)
            placed.append((i, c))
        for i, c in placed:
            self.loads.give_back(i, c)
        for i, before, _ in undo:
            assert before is not None
            self.loads.take(i, before)
        if not steps and undo:
            return None
        moved = {i: c for i, c in placed}
        if len(moved) != len(then):
            return None
        merged: dict[int, list[Choice | None]] = {i: [b, None] for i, b, _ in undo}
        for i, c in moved.items():
            merged.setdefault(i, [None, None])[1] = c
        return [(i, b, a) for i, (b, a) in merged.items()]

    def moves(self, n: int) -> Iterator[list[Step]]:
        """Moves that may mend quota ``n``: see the module docstring."""
        enc, q = self.enc, self.enc.quotas[n]
        over = ((q.max_count is not None and self.group[n] > q.max_count)
                or (q.max_share is not None and self.group[n] > q.max_share * self.total[n]))
        where = [q.w] if q.w >= 0 else sorted(self.at)
        # the students whose leaving mends it: members when over a maximum, else the others
        leaving = [i for w in where for i in sorted(self.at[w]) if self.movable(i)
                   and q.matches(enc.st_univ[i], enc.st_disc[i]) == over]
        # the students whose coming mends it: the others when over, else members
        coming = [j for j in self.unplaced if j not in self.out
                  and q.matches(enc.st_univ[j], enc.st_disc[j]) != over]
        for w in where:
            for j in coming:  # an unplaced student placed there
                if self.work <= 0:
                    return
                got = self.trial([], [(j, w, self.loads.supervisor(j))])
                if got:
                    yield got
        for w in where:  # a student placed elsewhere who lists it moves there
            for j in self.listing[w]:
                c = self.out.get(j)
                if (c is None or c[0] == w or not self.movable(j) or self.work <= 0
                        or q.matches(enc.st_univ[j], enc.st_disc[j]) == over):
                    continue
                got = self.trial([(j, c, None)], [(j, w, c[2])])
                if got:
                    yield got
        for i in leaving:
            before = self.out[i]
            for j in coming:  # an unplaced student in the place of one who leaves
                if self.work <= 0:
                    return
                if before[0] in self.loads.starts_by_station(j):
                    got = self.trial([(i, before, None)], [(j, before[0], self.loads.supervisor(
                        j, enc.st_sup[j] if enc.st_sup[j] >= 0 else before[2]))])
                    if got:
                        yield got
            starts = self.loads.starts_by_station(i)
            for w2 in enc.st_prefs[i]:  # moved to another of its list, or exchanged
                if w2 == before[0] or w2 not in starts or self.work <= 0:
                    continue
                # (room at w2 does not depend on i leaving its own workstation)
                if fit(self.loads, i, w2, starts[w2], before[2]) is not None:
                    got = self.trial([(i, before, None)], [(i, w2, before[2])])
                    if got:
                        yield got
                    continue
                for j in sorted(self.at[w2]):
                    if not self.movable(j) or self.work <= 0:
                        continue
                    other = self.out[j]
                    j_starts = self.loads.starts_by_station(j)
                    if (q.matches(enc.st_univ[j], enc.st_disc[j]) != over
                            and before[0] in j_starts):  # exchanged
                        got = self.trial([(i, before, None), (j, other, None)],
                                         [(i, w2, before[2]), (j, before[0], other[2])])
                        if got:
                            yield got
                    for w3 in enc.st_prefs[j]:  # or a chain: j moves on to make room for i
                        if (w3 in (w2, before[0]) or w3 not in j_starts or self.work <= 0
                                or fit(self.loads, j, w3, j_starts[w3], other[2]) is None):
                            continue
                        got = self.trial([(i, before, None), (j, other, None)],
                                         [(j, w3, other[2]), (i, w2, before[2])])
                        if got:
                            yield got
            yield [(i, before, None)]  # taken out: the last resort

    def mend(self, n: int) -> bool:
        """Make the best move that lowers the hard quotas' total breach (False: none)."""
        enc = self.enc
        best: tuple[tuple[int, int, int], list[Step]] | None = None
        found = 0
        for steps in self.moves(n):
            if self.change(steps) >= 0:
                continue
            placed = sum((a is not None) - (b is not None) for _, b, a in steps)
            cost = sum((0 if a is None else enc.cost(i, a[0]))
                       - (0 if b is None else enc.cost(i, b[0])) for i, b, a in steps)
            key = (-placed, cost, len(steps))
            if best is None or key < best[0]:
                best = (key, steps)
            found += placed >= 0
            if found >= MEND_CHOICES:  # enough moves losing no student: take the best of them
                break
        if best is None:
            return False
        self.apply(best[1])
        self.unplaced += [i for i, b, a in best[1] if a is None]
        return True


def repair(enc: Encoded, chosen: dict[int, Choice] | None, work: int = REPAIR_WORK
           ) -> dict[int, Choice] | None:
    """``chosen`` mended to keep every hard quota by the moves of the module docstring, then
    :func:`fill`; None when it cannot be done (then :func:`hold_quotas`'s answer)."""
    if chosen is None or enc.quotas_hold(chosen):
        return chosen
    rep = _Repair(enc, chosen, work)
    for _ in range(4 * len(chosen) + 4 * len(enc.quotas)):
        n = rep.broken()
        if n is None or rep.work <= 0 or not rep.mend(n):
            break
    out = rep.out
    if enc.has_rules:
        out = enforce(enc, out)
    if not enc.quotas_hold(out):
        return hold_quotas(enc, out)
    return fill(enc, out)
