"""A stable allocation in two passes when every workstation ranks by the common priority.

When no workstation ranks students itself (no ``rankings.csv``), every workstation orders
students the same way (priority, then ``student_id``; locked students above everyone), and
justified envy (:mod:`matcher.fairness`, the default definition) depends, for a student, only
on where the students *above* it are. This module builds a stable allocation from that fact,
in two passes, often better placed than score first
(:func:`matcher.solvers.greedy.serial_dictatorship`) or deferred acceptance:

1. **Listed, in priority order.** Locked students first (their places are fixed). Then each
   student, in priority order, takes a workstation of the best rank on its list that has room
   for it (a plan of its window and a mentor of its discipline with a free place in every
   term) — the rank it must have in any stable allocation, given those above it. Among the
   plans and mentors (and tied workstations) of that rank it takes the one leaving the most
   room (the largest least free count over its terms, workstation then mentor), so that those
   below find more. Its supervisor comes from a matching of the placed students to supervisors
   (augmenting paths move others between their own supervisors), so a supervisor is never
   wasted on a student who could have had another; when no matching can take the student,
   every supervisor it could have is full, and stays full: it is excused. A student with no
   listed workstation with room waits for pass 2.
2. **Off the list, last.** The waiting students (unless ``preferences_only``), in priority
   order, take an option off their lists with room (the one leaving the most room), with a
   supervisor by the same matching.

Why it is stable. A student of pass 1 is at the best rank any workstation on its list had room
for when it chose; every later holder only fills places, so a better-ranked workstation still
has no room for it among those not below it (the room it lacked was taken by students above
it). A waiting student had no listed workstation with room among those above it, and has none
later. A student left out had either that, or full supervisors (which stay full: a matching's
loads only grow). Placing the waiting students last, rather than as their turn comes as score
first does, lets every student below them choose first among the listed places, and they lose
nothing: off their lists every option costs the same.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Iterable

from ..encoding import Encoded
from .base import Choice

LOOK_AHEAD = 64
"""Pass 2 chooses the option leaving the most room among the first this many with room (a
province's students have thousands off their lists)."""
GroupKey = tuple[int, int, int]
"""A supervisor group: ``(0, supervisor, -1)`` given, ``(1, university, discipline)`` free."""


class SupervisorMatching:
    """Students matched to supervisors, one group at a time (its given supervisor, or those of
    its university and discipline), grown by augmenting paths.

    A group from which no augmenting path exists never gets one later (every supervisor it
    reaches is full, and so is everything reachable from there), so it is remembered.
    """

    def __init__(self, enc: Encoded) -> None:
        self.enc = enc
        self.left = list(enc.s_cap)
        self.sups: dict[GroupKey, list[int]] = {}
        self.held: dict[tuple[GroupKey, int], list[int]] = defaultdict(list)
        self.groups_at: dict[int, set[GroupKey]] = defaultdict(set)
        self.stuck: set[GroupKey] = set()

    def group(self, i: int) -> GroupKey:
        """The supervisor group of student ``i``."""
        s = self.enc.st_sup[i]
        return (0, s, -1) if s >= 0 else (1, self.enc.st_univ[i], self.enc.st_disc[i])

    def _supervisors(self, q: GroupKey, i: int) -> list[int]:
        got = self.sups.get(q)
        if got is None:
            got = self.sups[q] = self.enc.supervisors_for(i)
        return got

    def path(self, i: int) -> list[tuple[GroupKey, int]] | None:
        """An augmenting path for a new student ``i``: ``(group, supervisor)`` steps, the
        first the new student's, each later one moving a student of that group onto that
        supervisor from the previous step's; None when there is none."""
        q0 = self.group(i)
        if q0 in self.stuck:
            return None
        start = self._supervisors(q0, i)
        for s in start:
            if self.left[s] > 0:
                return [(q0, s)]
        back: dict[int, tuple[int, GroupKey] | None] = {s: None for s in start}
        queue = deque(start)
        seen_groups = {q0}
        while queue:
            s = queue.popleft()
            for q in sorted(self.groups_at[s]):
                if q in seen_groups or not self.held[q, s]:
                    continue
                seen_groups.add(q)
                for s2 in self.sups[q]:
                    if s2 in back:
                        continue
                    back[s2] = (s, q)
                    if self.left[s2] > 0:
                        steps = [(q, s2)]
                        cur = s
                        while (step := back[cur]) is not None:
                            prev, via = step
                            steps.append((via, cur))
                            cur = prev
                        steps.append((q0, cur))
                        return steps[::-1]
                    queue.append(s2)
        self.stuck.add(q0)
        return None

    def add(self, i: int, steps: list[tuple[GroupKey, int]]) -> None:
        """Apply an augmenting path for student ``i`` (from :meth:`path`)."""
        q0, s0 = steps[0]
        self._hold(q0, s0, i)
        prev = s0
        for q, s in steps[1:]:
            moved = self.held[q, prev].pop()
            self._hold(q, s, moved)
            prev = s
        self.left[prev] -= 1

    def _hold(self, q: GroupKey, s: int, i: int) -> None:
        self.held[q, s].append(i)
        self.groups_at[s].add(q)

    def assignment(self) -> dict[int, int]:
        """Student -> supervisor."""
        return {i: s for (_q, s), students in self.held.items() for i in students}


def serial_stable(enc: Encoded, *, off_list_last: bool = True) -> dict[int, Choice] | None:
    """The two-pass stable allocation (module docstring), or None when it does not apply:
    some workstation ranks students itself (``rankings.csv``), or the locks cannot all be
    placed this way.

    With ``off_list_last`` False a waiting student takes its option off the list at once, in
    its turn (as score first does; still stable: it envies nothing, and a holder more only
    takes room). Neither order places more on every scenario, so ``cpsat --stable`` tries both.

    Groups kept together and minimum intakes are not considered (the stable mode refuses
    them).
    """
    if enc.problem.rankings:
        return None
    n_terms = enc.n_terms
    ws_left = [list(caps) for caps in enc.ws_cap]
    m_left = [[c] * n_terms for c in enc.m_cap]
    match = SupervisorMatching(enc)
    placed: dict[int, tuple[int, int, int]] = {}

    def free(w: int, m: int, terms: Iterable[int]) -> tuple[int, int] | None:
        """(least free places at ``w``, with ``m``) over the terms; None without room."""
        a = b = 1 << 30
        for t in terms:
            x, y = ws_left[w][t], m_left[m][t]
            if x <= 0 or y <= 0:
                return None
            a, b = min(a, x), min(b, y)
        return a, b

    def take(i: int, options: Iterable[tuple[int, int, int]]) -> bool | None:
        """Place ``i`` at the option leaving the most room; None: no option has room; False:
        room, but no supervisor."""
        best: tuple[tuple[int, int], tuple[int, int, int]] | None = None
        n = enc.st_block[i]
        for w, m, k in options:
            room = free(w, m, covers(k, n))
            if room is not None and (best is None or room > best[0]):
                best = (room, (w, m, k))
        if best is None:
            return None
        steps = match.path(i)
        if steps is None:
            return False
        match.add(i, steps)
        w, m, k = best[1]
        for t in covers(k, n):
            ws_left[w][t] -= 1
            m_left[m][t] -= 1
        placed[i] = (w, m, k)
        return True

    mentors_of: dict[tuple[int, int], list[int]] = {}
    blocks: dict[tuple[int, int], tuple[int, ...]] = {}

    def covers(k: int, n: int) -> tuple[int, ...]:
        got = blocks.get((k, n))
        if got is None:
            got = blocks[k, n] = tuple(enc.covers(k, n))
        return got

    def mentors(i: int, w: int) -> list[int]:
        lock = enc.st_lock[i]
        d = enc.st_disc[i]
        ms = mentors_of.get((w, d))
        if ms is None:
            ms = mentors_of[w, d] = enc.mentors_for(w, d)
        return [m for m in ms if m == lock[1]] if lock is not None and lock[1] >= 0 else ms

    # Pass 2's search, per profile: its options in order, and how far every option before
    # has no room (room only shrinks). A waiting student's listed options had no room in its
    # turn, so skipping them keeps that true for the others of its profile.
    resume: dict[tuple[int, ...], int] = {}
    off_opts: dict[tuple[int, ...], list[tuple[int, int]]] = {}

    def off_list(i: int) -> None:
        """Place a waiting student at the first option off its list with room, if any."""
        if enc.preferences_only:
            return
        key = enc.profile(i)
        opts = off_opts.get(key)
        if opts is None:
            opts = off_opts[key] = [(w, k) for w, ks in enc.profile_starts(key).items()
                                    for k in ks]
        n, listed = enc.st_block[i], enc.rank_of[i]
        at = resume.get(key, 0)
        found: list[tuple[int, int, int]] = []
        for w, k in itertools.islice(opts, at, None):
            if w not in listed:
                terms = covers(k, n)
                found += [(w, m, k) for m in mentors(i, w) if free(w, m, terms) is not None]
            if not found:
                at += 1
            elif len(found) >= LOOK_AHEAD:
                break
        resume[key] = at
        if found:
            take(i, found)

    order = sorted(range(enc.n_students), key=lambda i: enc.priority_position[i])
    for i in order:  # locked students: their places are fixed, they are above everyone
        if enc.st_lock[i] is not None and not take(
                i, [(w, m, k) for w, k in enc.options(i) for m in mentors(i, w)]):
            return None
    waiting: list[int] = []
    for i in order:
        if enc.st_lock[i] is not None or not enc.supervisors_for(i):
            continue
        starts = enc.profile_starts(enc.profile(i))
        ranked: dict[int, list[int]] = defaultdict(list)
        for w, r in zip(enc.st_prefs[i], enc.st_ranks[i], strict=True):
            if w in starts:
                ranked[r].append(w)
        got: bool | None = None
        for r in sorted(ranked):
            got = take(i, [(w, m, k) for w in ranked[r] for k in starts[w]
                           for m in mentors(i, w)])
            if got is not None:
                break
        if got is None:
            waiting.append(i)
            if not off_list_last:
                off_list(i)
    if off_list_last:
        for i in waiting:  # pass 2: off the list, where room is left
            off_list(i)
    sup = match.assignment()
    return {i: (w, m, sup[i], k) for i, (w, m, k) in placed.items()}

