"""Student-proposing deferred acceptance (Gale–Shapley), keeping every hard rule.

Students propose down their own lists; a workstation ranks students by ``rankings.csv``, else by
``priority`` (higher first), then ``student_id`` — the order of
:meth:`~matcher.encoding.Encoded.station_rank`, the same order the checker uses for blocking
pairs. When a scenario reduces to hospitals/residents (one term, or every student needing the
same single block; mentor and supervisor limits not binding; ``preferences_only: true``) the
result is exactly the student-optimal stable matching.

How the rules beyond hospitals/residents are kept
    *Locks* are placed first (an exhaustive search over their starts, mentors and supervisors)
    and are never displaced; when that search covers every combination without success the
    locks cannot all be honoured, and the result is INFEASIBLE.

    *Terms and mentors.* A workstation holds a proposal only if, given what it already holds,
    there is a block of terms inside the student's window, open and with room in every term,
    and a mentor of the student's discipline with room in every term of that block (a locked
    mentor or start narrows this). If there is none, the workstation lets go of its
    worst-ranked holders ranked below the proposer (only those whose blocks overlap the
    proposer's window can make room), one at a time, until the proposer fits; then it takes
    back, best first, every holder it let go — in its old block and mentor if they still have
    room, else by the same rule (letting go of holders ranked below *it*) — and rejects those
    that do not fit. If the proposer does not fit even then, it is rejected and every holder
    keeps its place. A holder is thus only ever rejected for someone the workstation ranks
    higher.

    *Supervisors* are a second side that ranks students by priority. A student takes a
    supervisor (a given one, else one of the university and discipline with room) at its
    first proposal and keeps it while it moves down its list; when all are full it may take
    the place of the lowest-priority holder below it, who then looks for another supervisor
    the same way or, finding none, leaves the market (and its workstation). A student whose
    list runs out gives its supervisor back.

    *Re-proposals.* Moving holders between blocks or losing them to the supervisor side can
    open room at a workstation that turned students down. Each student (in priority order)
    whose listed workstation above its place now has, in some block of its window, room or a
    holder ranked below it in every term, proposes there again (leaving its place if taken),
    and the rejections this causes run their course; repeated while room keeps appearing
    (at most :data:`STABILIZE_ROUNDS` rounds).

    *After the proposals*, students still unplaced (in priority order) take their cheapest
    option with room left — off their list too unless ``preferences_only`` — which adds
    placements without displacing anyone, like a residency "scramble"; it opens no room, so
    it creates no new blocking pair.

On hospitals/residents scenarios no holder is ever re-packed or supervisor-displaced, no room
appears, and the scramble can only fill free places no listed student was refused, so the
result is the textbook one. Beyond that the result keeps every rule but is neither guaranteed
stable (the checker's blocking pairs ignore mentor limits, which da respects) nor optimal: the
status is FEASIBLE (INFEASIBLE only with the lock proof above; UNKNOWN if the lock search ran
out of its budget).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from ..encoding import Encoded, encode
from ..model import Problem
from ..model.result import Result, Status
from . import clock
from .base import Choice, SolverConfig, build_result, no_cycle_collection, refuse_quotas
from .packing import Loads, fill_greedily, fit, lock_failure, place_locks
from .rules import enforce

NAME = "da"

_NEW, _ACTIVE, _OUT = 0, 1, 2
STABILIZE_ROUNDS = 10
"""Rounds of re-proposals after the main phase (each round moves students up their lists)."""


@dataclass
class DAOutcome:
    """What :func:`deferred_acceptance` found.

    Attributes
    ----------
    chosen
        Student index -> ``(workstation, mentor, supervisor, start)``; None when the locks
        could not be placed.
    locks_proven_infeasible
        With ``chosen`` None: the lock search was exhaustive (no allocation exists).
    stats
        Proposals made, re-proposals that moved a student up, students placed by the scramble,
        students who left the market for want of a supervisor.
    """

    chosen: dict[int, Choice] | None
    locks_proven_infeasible: bool = False
    stats: dict[str, Any] = field(default_factory=dict)


class _Market:
    """The state of the proposals: who holds whom, at workstations and at supervisors.

    Heaps hold ``(-key, student, ticket)``, worst-ranked on top; an entry is current only while
    the student still holds that place with that ticket (a new ticket at every booking), so
    entries left behind by moves are skipped when they surface.
    """

    def __init__(self, enc: Encoded, loads: Loads) -> None:
        n = enc.n_students
        self.enc = enc
        self.loads = loads
        self.pos = enc.priority_position
        self.blocks = loads.blocks
        # how a workstation ranks each student: without rankings.csv the same key everywhere
        # (priority, then id), computed once instead of at every proposal
        self.flat_key = ([enc.station_rank(0, i) for i in range(n)]
                         if not enc.problem.rankings and enc.workstation_ids else None)
        self.state = [_NEW] * n
        self.sup = [-1] * n
        self.at: list[tuple[int, int, int] | None] = [None] * n  # (w, mentor, start)
        self.ticket = [0] * n  # bumped at every workstation booking
        self.sticket = [0] * n  # bumped at every supervisor assignment
        self.ws_heap: list[list[tuple[int, int, int]]] = [[] for _ in enc.workstation_ids]
        self.s_heap: list[list[tuple[int, int, int]]] = [[] for _ in enc.supervisor_ids]
        self.starts: list[dict[int, list[int]]] = [{}] * n
        self.plist: list[list[int]] = [[] for _ in range(n)]
        for i in range(n):
            if enc.st_lock[i] is None:
                self.starts[i] = loads.starts_by_station(i)
                self.plist[i] = [w for w in enc.st_prefs[i] if w in self.starts[i]]
        self.nxt = [0] * n
        self.order = sorted((i for i in range(n) if enc.st_lock[i] is None),
                            key=lambda i: self.pos[i])
        self.free: list[int] = [i for i in range(n - 1, -1, -1) if self.plist[i]]  # 0 on top
        self.dirty: set[int] = set()  # workstations where room appeared since the last look
        self._snap: list[int] | None = None  # a workstation's room before a proposal changed it
        self._listing: dict[int, list[int]] | None = None  # w -> students listing it
        self.proposals = 0
        self.moves = 0
        self.dropped_for_supervisor = 0

    # ---- the workstation side ----------------------------------------------------------------
    def key(self, w: int, i: int) -> int:
        """How ``w`` ranks ``i`` (:meth:`~matcher.encoding.Encoded.station_rank`)."""
        flat = self.flat_key
        return flat[i] if flat is not None else self.enc.station_rank(w, i)

    def _book(self, i: int, w: int, m: int, k: int, key: int = -1) -> None:
        ws, ml = self.loads.ws_left[w], self.loads.m_left[m]
        for t in self.blocks[k][self.enc.st_block[i]]:
            ws[t] -= 1
            ml[t] -= 1
        self.at[i] = (w, m, k)
        self.ticket[i] += 1
        if key < 0:
            key = self.key(w, i)
        heapq.heappush(self.ws_heap[w], (-key, i, self.ticket[i]))

    def _unbook(self, i: int) -> tuple[int, int, int]:
        held = self.at[i]
        assert held is not None
        w, m, k = held
        ws, ml = self.loads.ws_left[w], self.loads.m_left[m]
        for t in self.blocks[k][self.enc.st_block[i]]:
            ws[t] += 1
            ml[t] += 1
        self.at[i] = None
        return held

    def _current(self, entry: tuple[int, int, int], w: int) -> bool:
        held = self.at[entry[1]]
        return held is not None and held[0] == w and self.ticket[entry[1]] == entry[2]

    def _room(self, i: int, w: int, m: int, k: int) -> bool:
        ws, ml = self.loads.ws_left[w], self.loads.m_left[m]
        return all(ws[t] > 0 and ml[t] > 0 for t in self.blocks[k][self.enc.st_block[i]])

    def _admit(self, x: int, w: int, prev: tuple[int, int] | None
               ) -> tuple[bool, list[tuple[int, int, int, int]]]:
        """Book ``x`` at ``w`` (in ``prev = (mentor, start)`` if that still has room), letting
        go of worse-ranked overlapping holders, worst first, only as far as needed.

        Returns whether ``x`` got in and the holders let go, as ``(key, j, mentor, start)``;
        when ``x`` does not get in, everyone keeps their place.
        """
        enc, loads = self.enc, self.loads
        if prev is not None and self._room(x, w, prev[0], prev[1]):
            self._book(x, w, prev[0], prev[1])
            return True, []
        starts = self.starts[x][w]
        got = fit(loads, x, w, starts, self.sup[x])
        heap = self.ws_heap[w]
        key = self.key(w, x)
        released: list[tuple[int, int, int, int]] = []
        aside: list[tuple[int, int, int]] = []
        lo = hi = 0
        if got is None and heap and -heap[0][0] > key:  # (the terms x may use: only then)
            spans = [self.blocks[k][enc.st_block[x]] for k in starts]
            lo, hi = min(c[0] for c in spans), max(c[-1] for c in spans)
        while got is None and heap and -heap[0][0] > key:
            entry = heapq.heappop(heap)
            if not self._current(entry, w):
                continue
            j = entry[1]
            _w, m_j, k_j = self.at[j]  # type: ignore[misc]
            held_j = self.blocks[k_j][enc.st_block[j]]
            if held_j[0] > hi or held_j[-1] < lo:
                aside.append(entry)  # shares no term with x: cannot make room
                continue
            if self._snap is None:
                self._snap = list(loads.ws_left[w])
            self._unbook(j)
            released.append((-entry[0], j, m_j, k_j))
            got = fit(loads, x, w, starts, self.sup[x])
        for entry in aside:
            heapq.heappush(heap, entry)
        if got is None:
            for key_j, j, m_j, k_j in released:
                self._book(j, w, m_j, k_j, key_j)
            return False, []
        self._book(x, w, got[1], got[0], key)
        return True, released

    def propose(self, i: int, w: int) -> list[int]:
        """Student ``i`` proposes to ``w``; returns the others ``w`` rejects, or ``[i]``.

        Holders let go for ``i`` are taken back best-ranked first, each by the same rule (it
        may let go of holders ranked below it in turn); those that cannot be are rejected.
        """
        self._snap = None
        ok, released = self._admit(i, w, None)
        if not released:
            return [] if ok else [i]
        rejected: list[int] = []
        pending = list(released)
        heapq.heapify(pending)  # best-ranked first
        while pending:
            _key, j, m_j, k_j = heapq.heappop(pending)
            ok, more = self._admit(j, w, (m_j, k_j))
            if not ok:
                rejected.append(j)
            for item in more:
                heapq.heappush(pending, item)
        before = self._snap
        if before is not None and any(
                a > b for a, b in zip(self.loads.ws_left[w], before, strict=True)):
            self.dirty.add(w)  # room appeared: students rejected here before may now fit
        return rejected

    def envies(self, i: int, w: int) -> bool:
        """Whether ``w`` has, in some block of ``i``, room or a worse holder in every term.

        Mentor limits are left to :meth:`propose`, which checks them and undoes a failure.
        """
        enc, blocks = self.enc, self.blocks
        n = enc.st_block[i]
        ws = self.loads.ws_left[w]
        heap = self.ws_heap[w]
        while heap and not self._current(heap[0], w):
            heapq.heappop(heap)
        starts = self.starts[i][w]
        for k in starts:
            if all(ws[t] > 0 for t in blocks[k][n]):
                return True  # room in a whole block: no need to count the worse holders
        key = self.key(w, i)
        if not heap or -heap[0][0] <= key:
            return False  # no room and nobody worse: the test below would fail everywhere
        worse = [0] * enc.n_terms
        at, ticket, st_block = self.at, self.ticket, enc.st_block
        for neg, j, tk in heap:
            if -neg > key:
                held = at[j]
                if held is not None and held[0] == w and ticket[j] == tk:
                    for t in blocks[held[2]][st_block[j]]:
                        worse[t] += 1
        return any(all(ws[t] > 0 or worse[t] > 0 for t in blocks[k][n]) for k in starts)

    # ---- the supervisor side -----------------------------------------------------------------
    def _give_supervisor(self, i: int, s: int) -> None:
        self.sup[i] = s
        self.state[i] = _ACTIVE
        self.sticket[i] += 1
        heapq.heappush(self.s_heap[s], (-self.pos[i], i, self.sticket[i]))

    def acquire(self, i: int, displace: bool = True) -> bool:
        """Give student ``i`` a supervisor, displacing lower-priority holders if allowed.

        A displaced holder looks for another supervisor the same way (the chain only moves to
        lower priorities, so it ends); one who finds none leaves the market and its workstation.
        """
        enc, loads, pos = self.enc, self.loads, self.pos
        cur = i
        while True:
            s = loads.supervisor(cur)
            if s >= 0:
                loads.use_supervisor(s)
                self._give_supervisor(cur, s)
                return True
            worst = -1
            if displace:
                for s2 in enc.supervisors_for(cur):
                    h = self.s_heap[s2]
                    while h and not (self.sup[h[0][1]] == s2 and self.sticket[h[0][1]] == h[0][2]
                                     and self.state[h[0][1]] == _ACTIVE):
                        heapq.heappop(h)  # stale: that student moved on or left
                    if h and (worst < 0 or pos[h[0][1]] > pos[worst]):
                        worst, s = h[0][1], s2
            if worst < 0 or pos[worst] < pos[cur]:
                if cur == i:
                    return False
                self.state[cur] = _OUT
                self.dropped_for_supervisor += 1
                if self.at[cur] is not None:
                    self.dirty.add(self._unbook(cur)[0])
                return True
            heapq.heappop(self.s_heap[s])
            self.sup[worst] = -1
            self._give_supervisor(cur, s)
            cur = worst

    def release_supervisor(self, i: int) -> None:
        """Student ``i`` leaves the market and gives its supervisor back."""
        s = self.sup[i]
        if s >= 0:
            self.loads.free_supervisor(s)
            self.sup[i] = -1
        self.state[i] = _OUT

    # ---- the phases ----------------------------------------------------------------------------
    def run(self) -> None:
        """Process proposals until nobody in the market is rejected and unheld."""
        free = self.free
        while free:
            i = free.pop()
            if self.state[i] == _OUT or self.at[i] is not None:
                continue
            if self.state[i] == _NEW and not self.acquire(i):
                self.state[i] = _OUT
                self.dropped_for_supervisor += 1
                continue
            if self.nxt[i] == len(self.plist[i]):
                self.release_supervisor(i)
                continue
            w = self.plist[i][self.nxt[i]]
            self.nxt[i] += 1
            self.proposals += 1
            free.extend(self.propose(i, w))

    def stabilize(self, only: set[int]) -> int:
        """Re-proposals to the workstations of ``only``; returns how many students moved up.

        Each student (priority order) proposes again to its best listed workstation of
        ``only``, above its place, that would now take it. A student a workstation turned down
        can only be taken by it later if room appeared there meanwhile (every rejection follows
        letting go of every worse-ranked holder that could make room), so only such
        workstations (``only``) need a look.
        """
        rank_of = self.enc.rank_of
        moved = 0
        # only students who list a workstation of ``only`` can move (in priority order, as
        # self.order): the others would pass over every entry of their lists
        if self._listing is None:
            self._listing = {}
            for i in self.order:
                for w in self.plist[i]:
                    self._listing.setdefault(w, []).append(i)
        who: set[int] = set()
        for w in only:
            who.update(self._listing.get(w, ()))
        for i in sorted(who, key=self.pos.__getitem__):
            held = self.at[i]
            ranks = rank_of[i]
            cur = ranks.get(held[0], len(ranks) + 1) if held is not None else len(ranks) + 1
            for p, w in enumerate(self.plist[i]):
                if ranks[w] >= cur:
                    break
                if w not in only or not self.envies(i, w):
                    continue
                fresh = self.sup[i] < 0
                if fresh and not self.acquire(i, displace=False):
                    break
                old = self._unbook(i) if self.at[i] is not None else None
                rejected = self.propose(i, w)
                if self.at[i] is None:  # mentors full after all: put everything back
                    if old is not None:
                        self._book(i, *old)
                    elif fresh:
                        self.release_supervisor(i)
                    continue
                moved += 1
                if old is not None:
                    self.dirty.add(old[0])
                self.nxt[i] = p + 1
                self.free.extend(rejected)
                self.run()
                break
        self.moves += moved
        return moved

    def scramble(self) -> int:
        """Unheld students (priority order) take their cheapest option with room, if any."""
        enc = self.enc

        def book(i: int, choice: Choice) -> None:
            w, m, s, k = choice
            self.loads.use_supervisor(s)
            self._give_supervisor(i, s)
            self._book(i, w, m, k)
            listed = self.plist[i]
            self.nxt[i] = listed.index(w) + 1 if w in enc.rank_of[i] else len(listed)

        held = {i: (0, 0, 0, 0) for i, at in enumerate(self.at) if at is not None}
        return fill_greedily(self.loads, held, self.order, book=book)


def deferred_acceptance(enc: Encoded) -> DAOutcome:
    """Run student-proposing deferred acceptance under every hard rule (module docstring).

    Parameters
    ----------
    enc
        The encoded problem.

    Returns
    -------
    DAOutcome
        The allocation (locks, proposals, re-proposals, scramble) and counts.
    """
    loads = Loads(enc)
    locked, exhausted = place_locks(loads)
    if locked is None:
        return DAOutcome(None, exhausted)
    mk = _Market(enc, loads)
    mk.run()
    by_proposals = sum(held is not None for held in mk.at)
    # Re-proposals where room appeared. The scramble adds no room, so it ends the process.
    rounds = 0
    while mk.dirty and rounds < STABILIZE_ROUNDS:
        only, mk.dirty = mk.dirty, set()
        mk.stabilize(only)
        rounds += 1
    scrambled = mk.scramble()
    chosen: dict[int, Choice] = dict(locked)
    for i, held in enumerate(mk.at):
        if held is not None:
            w, m, k = held
            chosen[i] = (w, m, mk.sup[i], k)
    chosen = enforce(enc, chosen)  # groups kept together, minimum intakes (issue 28)
    return DAOutcome(chosen, False, {
        "proposals": mk.proposals, "placed_by_proposals": by_proposals,
        "moved_up_by_reproposals": mk.moves, "placed_by_scramble": scrambled,
        "locked": len(locked), "left_for_want_of_supervisor": mk.dropped_for_supervisor})


def solve(problem: Problem, config: SolverConfig) -> Result:
    """Deferred acceptance (see the module docstring); never claims optimality.

    Parameters
    ----------
    problem
        The validated problem.
    config
        Only the seed and workers are recorded: the algorithm is deterministic and fast.

    Returns
    -------
    Result
        FEASIBLE; INFEASIBLE when the locks are proven to conflict; UNKNOWN when the lock
        search stopped at its budget.
    """
    with no_cycle_collection():
        return _solve(problem, config)


def _solve(problem: Problem, config: SolverConfig) -> Result:
    t0 = clock.now()
    enc = encode(problem)
    refused = refuse_quotas(enc, NAME, config)
    if refused is not None:
        return refused
    out = deferred_acceptance(enc)
    if out.chosen is None:
        status = Status.INFEASIBLE if out.locks_proven_infeasible else Status.UNKNOWN
        return build_result(enc, NAME, status, {}, config, clock.now() - t0,
                            message=lock_failure(enc, NAME, out.locks_proven_infeasible))
    return build_result(enc, NAME, Status.FEASIBLE, out.chosen, config,
                        clock.now() - t0, stats=out.stats)
