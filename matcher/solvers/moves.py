"""Local searches on a complete allocation: placing the unplaced, and lowering the rank cost.

:class:`Moves` keeps an allocation with its room booked (:class:`~matcher.solvers.packing.Loads`)
and the moves the searches make: :func:`place_unplaced` (budgeted ejection chains, then
augmenting paths), :func:`improve_rank` (improving moves with ejection chains),
:func:`repack_unplaced` (a workstation packed again exactly to take an unplaced student).
Used by the flow heuristic, the slot model's rounding and ``cpsat`` on problems too large for
its model.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..encoding import Encoded
from . import clock
from .base import Choice
from .packing import Loads, fit, pack_station

IMPROVE_WORK_PER_STUDENT = 1_000
"""Placement tries :func:`improve_rank` may spend per student (its deterministic limit)."""

EJECTION_DEPTH = 2
"""How many students one improving move of :func:`improve_rank` may push on, in a chain."""
PLACE_PASSES = ((2, 2), (4, 2), (6, 2), (8, 2), (16, 1))
"""``(added rank cost allowed per student, chain depth)`` of :func:`place_unplaced`'s budgeted
passes; augmenting paths at any cost place the rest. Measured at tier M, placing the 171
students the LP's rounding left out (session 8, when a last pass took the first chain found
at any cost): first chain found for all, 20,000 placed at rank cost 77,499 in 3.9 s; budgets
2-8 first, 76,689 in 6.1 s; with the pass at 16 (depth 1), 76,350 in 7.6 s. A pass at 12 with
depth 2 took 56 s there (the off-list chains fan out), at 12 with depth 1 placed 30 for 7 s.
Session 10: the passes, then the paths, 76,203 in 7.7 s; the paths alone 77,014 in 1.2 s."""
TRY_SECONDS = 15e-6
"""Deterministic cost model: one placement try (a fit check with its bookkeeping). Measured by
``benchmarks/calibrate.py`` (2026-12-07, CPU seconds per try of :func:`place_unplaced` from the
quick allocation): tier M 14e-6, tier XL 43e-6 (longer lists of starts, more off-list places);
30e-6 lay between (20e-6 before); both measured at load 4-12, so halved in session 19 for
a quiet machine, as the other rates of the province path)."""
PLACE_CHEAP_SHARE = 0.7
"""Share of :func:`place_unplaced`'s time the budgeted passes may take: the augmenting paths,
which place the most per second, always get the rest (at least :data:`PATH_SECONDS` each)."""
PATH_SECONDS = 0.02
"""Time kept for the augmenting paths of :func:`place_unplaced`, per student left to place.
Measured at tier XL, from the Lagrangian guide's rounding (2,564 left out): all placed in 39 s
by paths alone; the budgeted passes first took 45 s to place 151 of them for 1,100 less rank
cost in the end."""


class Moves:
    """A complete allocation with its room booked, and the moves of the local searches."""

    def __init__(self, enc: Encoded, chosen: dict[int, Choice], work: int,
                 stop: Callable[[], bool] | None = None):
        self.enc = enc
        self.stop = stop  # polled with the clock: true ends the search (a signal, say)
        self.loads = Loads(enc)
        self.out = dict(chosen)
        self.at: dict[int, set[int]] = defaultdict(set)
        for i, c in self.out.items():
            self.loads.take(i, c)
            self.at[c[0]].add(i)
        self.work = work
        self.tries = 0
        self._counted = 0  # tries already counted on the clock
        # (workstation, discipline, block, starts) -> the workstation's version when such a
        # student did not fit there: the same check again, with nothing changed there, is skipped
        # (the depth-2 chains repeat it for every student pushed out; tier M: most of the time).
        self._full: dict[tuple[int, int, int, int], int] = {}
        self._stations: dict[tuple[int, bool], list[int]] = {}
        self._holds: dict[int, set[int]] | None = None

    def holds(self) -> dict[int, set[int]]:
        """Supervisor -> the students of free choice (no given supervisor, no lock) it has:
        the ones :func:`_shift_supervisors` may pass on. Built once, then kept by :meth:`move`."""
        if self._holds is None:
            self._holds = defaultdict(set)
            for j, c in self.out.items():
                if self._free_choice(j):
                    self._holds[c[2]].add(j)
        return self._holds

    def _free_choice(self, j: int) -> bool:
        """Whether ``j`` chose its supervisor freely (none given, no lock): it may be passed on."""
        return self.enc.st_sup[j] < 0 and self.enc.st_lock[j] is None

    def spent(self, deadline: float) -> bool:
        """Whether the work budget or the time is used up, or a stop was asked for."""
        return self.tries >= self.work or self.now() >= deadline or self.stopped()

    def now(self) -> float:
        """The clock, once the tries since the last look are counted on it (a deterministic
        solve's time is its work: :data:`TRY_SECONDS` a try)."""
        if self.tries > self._counted:
            clock.charge(TRY_SECONDS * (self.tries - self._counted))
            self._counted = self.tries
        return clock.now()

    def stopped(self) -> bool:
        """Whether a stop was asked for."""
        return self.stop is not None and self.stop()

    def stations(self, i: int, off_list: bool) -> list[int]:
        """Where ``i`` may go, cheapest first: its listed stations, then (``off_list``) others."""
        got = self._stations.get((i, off_list))
        if got is None and self.enc.st_group[i] >= 0:
            got = self._stations[i, off_list] = []  # a group moves whole (rules.enforce)
        if got is None:
            starts = self.loads.starts_by_station(i)
            listed = [w for w in self.enc.st_prefs[i] if w in starts]
            got = self._stations[i, off_list] = listed + (
                sorted(w for w in starts if w not in self.enc.rank_of[i]) if off_list else [])
        return got

    def place(self, i: int, w: int) -> Choice | None:
        """A booking for ``i`` at ``w`` with room (not made), its supervisor kept if possible."""
        loads = self.loads
        starts = loads.starts_by_station(i).get(w)
        if not starts:
            return None
        if self._known_full(i, w, starts):
            return None  # a look-up, not a try: the work budget counts checks made
        self.tries += 1
        cur = self.out.get(i)
        s = loads.supervisor(i, prefer=cur[2] if cur is not None else -1)
        if s < 0:
            return None
        got = fit(loads, i, w, starts, s)
        if got is None:
            self._note_full(i, w, starts)
            return None
        return (w, got[1], s, got[0])

    def _full_key(self, i: int, w: int, starts: list[int]) -> tuple[int, int, int, int] | None:
        """``i``'s key in the known-full memory at ``w``; None for a locked student (starts
        lists are shared per profile and kept, except a locked student's own)."""
        enc = self.enc
        return None if enc.st_lock[i] is not None else (w, enc.st_disc[i], enc.st_block[i],
                                                        id(starts))

    def _known_full(self, i: int, w: int, starts: list[int]) -> bool:
        """Whether a student like ``i`` did not fit at ``w`` and nothing there changed since."""
        key = self._full_key(i, w, starts)
        return key is not None and self._full.get(key) == self.loads.ws_version[w]

    def _note_full(self, i: int, w: int, starts: list[int]) -> None:
        """Remember that ``i`` does not fit at ``w`` as the workstation is now."""
        key = self._full_key(i, w, starts)
        if key is not None:
            self._full[key] = self.loads.ws_version[w]

    def move(self, i: int, new: Choice) -> None:
        """Book ``new`` for ``i`` (its old booking, if any, already given back)."""
        old = self.out.get(i)
        if old is not None:
            self.at[old[0]].discard(i)
        self.loads.take(i, new)
        self.out[i] = new
        self.at[new[0]].add(i)
        if self._holds is not None and self._free_choice(i):
            if old is not None:
                self._holds[old[2]].discard(i)
            self._holds[new[2]].add(i)

    def relocate(self, j: int, budget: int, depth: int, off_list: bool) -> bool:
        """Move ``j`` (booking given back) elsewhere, losing less than ``budget`` rank; where
        nothing has room and ``depth`` allows, push one student there on in turn. On success
        ``j`` is booked at its new place; else nothing changed."""
        enc, here = self.enc, self.out[j][0]
        rank, off = enc.rank_of[j], enc.max_list + 1
        base = rank.get(here, off)
        # The inner loop of the chains: a workstation known to be full for j is passed over
        # without a call (the same check as _known_full, inlined).
        starts, full, version = self.loads.starts_by_station(j), self._full, self.loads.ws_version
        d, n, shared = enc.st_disc[j], enc.st_block[j], enc.st_lock[j] is None
        for w2 in self.stations(j, off_list):
            if w2 == here:
                continue
            loss = rank.get(w2, off) - base
            if loss >= budget:
                break
            if shared and full.get((w2, d, n, id(starts[w2]))) == version[w2]:
                new = None
            else:
                new = self.place(j, w2)
            if new is not None:
                self.move(j, new)
                return True
            if depth > 1 and self.eject_into(j, w2, budget - loss, depth - 1, off_list):
                return True
        return False

    def enter(self, i: int, stations: Iterable[int], limit: int, depth: int,
              off_list: bool) -> bool:
        """Book ``i`` (not booked) at the first of ``stations`` (cheapest first) where its rank
        there is below ``limit``: directly where there is room, else by an ejection chain (up
        to ``depth``) losing less than what is left of ``limit``. Returns whether it was."""
        for w in stations:
            allowance = limit - self.enc.cost(i, w)
            if allowance <= 0:
                break
            new = self.place(i, w)
            if new is not None:
                self.move(i, new)
                return True
            if self.eject_into(i, w, allowance, depth, off_list):
                return True
        return False

    def augment(self, roots: Sequence[int], deadline: float) -> int:
        """Place unplaced ``roots`` along augmenting paths, at any rank cost; returns how many.

        A student takes a place freed by moving ``j1`` out of its workstation, ``j1`` one freed
        by moving ``j2``, and so on, until the last takes a place with room: the moves the
        ejection chains of :meth:`enter` make, to any length. Phases repeat while one places
        someone: each is one search from all roots at once over the students pushed out,
        cheapest path first as far as a heuristic order goes (see :meth:`_augment_phase`; each
        workstation searched for students to push out once per phase, students booked alike
        there, same start, block and mentor, checked once), and a path is booked when its end
        comes first, unless a path booked before in the phase changed a workstation on it (then
        that branch is dropped: its checks are stale). No workstation appears twice on a path,
        so each move is checked against exactly the room it will have. Students keep their
        supervisors; a root gets one with room, or one freed by passing students on to other
        supervisors (:func:`_shift_supervisors`).

        Why all at once: the paths here are long (the chains failed), so one search visits
        most workstations; one search per phase places many students for that price. Tier XL,
        2,564 students left out by the Lagrangian guide's rounding: all placed in about 40 s
        (one search per student took 0.15-0.2 s each).
        """
        pending = [i for i in roots if i not in self.out]
        stuck: set[int] = set()  # no supervisor for them, even passing students on
        placed = 0
        while pending and not self.spent(deadline):
            got = self._augment_phase(pending, deadline, stuck)
            if not got:
                break
            placed += got
            pending = [i for i in pending if i not in self.out and i not in stuck]
        return placed

    def _augment_phase(self, roots: list[int], deadline: float, stuck: set[int]) -> int:
        """One phase of :meth:`augment`: the search from all ``roots``; returns how many it
        placed (roots found without a supervisor are added to ``stuck``).

        The search is cheapest first, heuristically (a path's cost: the rank its root takes plus
        the rank each mover loses, so it may be negative; ranks are the tree's first root's, and
        each student keeps the first way found to it), and a path's end is booked when it comes
        first in that order.
        Roots alike (same profile, no lock, lists not binding) can take each other's paths (the
        supervisor is chosen when a path is booked), so they share one search tree, grown from
        the first of them: each path it finds places the one of them ranking its first move
        best that gets a supervisor, and it grows on until all are placed.
        """
        enc, loads = self.enc, self.loads
        alike: dict[Any, list[int]] = {}
        for i in roots:
            alike.setdefault(self._kind(i), []).append(i)
        waiting = {group[0]: group for group in alike.values()}
        # came[k] = (the student taking k's place, that student's booking there)
        came: dict[int, tuple[int, Choice]] = {}
        root_of = {r: r for r in waiting}
        done: set[int] = set()  # trees whose roots are all placed, or without a supervisor
        dirty: set[int] = set()  # workstations changed by this phase's bookings
        changed: list[int] = []  # the same, in the order they changed
        expanded: set[int] = set()
        # Students of one kind have the same stations and fit alike, so the first of a kind to
        # be searched checks all its stations; the later ones only where bookings changed the
        # room since, and where the first did not look (its own path). Per kind: the
        # workstations with room for it, those not looked at, how much of `changed` is seen.
        kinds: dict[Any, tuple[set[int], set[int], list[int]]] = {}
        full, version = self._full, loads.ws_version
        # (path cost, order, student, the booking ending its path or None: a node to search)
        heap: list[tuple[int, int, int, Choice | None]] = [
            (0, n, r, None) for n, r in enumerate(waiting)]
        order = len(heap)

        def push(cost: int, k: int, end: Choice | None) -> None:
            nonlocal order
            heapq.heappush(heap, (cost, order, k, end))
            order += 1

        def has_room(j: int, w: int, starts: list[int]) -> bool:
            # _known_full, inlined (the inner loop of the search), then a check if unknown.
            if enc.st_lock[j] is None and full.get(
                    (w, enc.st_disc[j], enc.st_block[j], id(starts))) == version[w]:
                return False
            self.tries += 1
            if fit(loads, j, w, starts, -1) is not None:
                return True
            self._note_full(j, w, starts)
            return False

        def expand(j: int, w: int, base: int, sup: int, starts: list[int]) -> None:
            # Who at w could j push out (students booked alike free the same room)? A path on
            # through one of them costs base (j's path cost less j's rank now) + j's rank at w.
            expanded.add(w)
            freed: dict[tuple[int, int, int], tuple[int, int] | None] = {}
            for k in sorted(self.at[w]):
                held = self.out[k]
                if k in root_of or enc.st_lock[k] is not None:
                    continue  # already in a tree (a root placed here included), or locked
                sig = (held[3], enc.st_block[k], held[1])
                if sig not in freed:
                    # k's room at w handed back for the check alone (not its supervisor:
                    # fit does not look at it), then taken again.
                    self.tries += 1
                    ws, ml = loads.ws_left[w], loads.m_left[held[1]]
                    span = enc.covers(held[3], enc.st_block[k])
                    for t in span:
                        ws[t] += 1
                        ml[t] += 1
                    freed[sig] = fit(loads, j, w, starts, sup)
                    for t in span:
                        ws[t] -= 1
                        ml[t] -= 1
                got = freed[sig]
                if got is not None:
                    came[k] = (j, (w, got[1], sup, got[0]))
                    root_of[k] = root_of[j]
                    push(base + enc.cost(j, w), k, None)

        placed = 0
        while heap:
            cost, _n, j, end = heapq.heappop(heap)
            root = root_of[j]
            if root in done:
                continue
            if self.spent(deadline):
                break
            path = set()
            node = j
            while node != root:  # the workstations already on j's path (and j's own)
                path.add(self.out[node][0])
                node = came[node][0]
            if not path.isdisjoint(dirty):
                continue  # a booking changed the room a move on this path was checked against
            if end is not None:  # a path's end: book it, if it still has room
                if end[0] in dirty and not loads.has_room(j, end[0], end[1], end[3]):
                    # A booking took the room: search from j again, at j's own path cost (this
                    # entry's cost includes j's move to the end).
                    here = 0 if j == root else enc.cost(j, self.out[j][0])
                    push(cost - enc.cost(j, end[0]) + here, j, None)
                    continue
                group = waiting[root]
                first = end[0] if j == root else self._first_move(root, j, came)
                group.sort(key=lambda i: (enc.cost(i, first), i))
                while group:  # the one of them with a supervisor ranking it best takes it
                    who = group.pop(0)
                    if self._book_path(root, who, j, end, came):
                        placed += 1
                        for w in (*path, end[0]):
                            if w not in dirty:
                                dirty.add(w)
                                changed.append(w)
                        break
                    stuck.add(who)
                if not group:
                    done.add(root)
                continue
            sup = self.out[j][2] if j != root else -1  # the root's: chosen once a path is found
            base = cost - (0 if j == root else enc.cost(j, self.out[j][0]))
            starts = loads.starts_by_station(j)
            kind = self._kind(j)
            memo = kinds.get(kind)
            if memo is None:  # the first of its kind: every station
                roomy: set[int] = set()
                for w in self.stations(j, off_list=True):
                    if w in path:
                        continue
                    if has_room(j, w, starts[w]):
                        roomy.add(w)
                    elif w not in expanded:
                        expand(j, w, base, sup, starts[w])
                memo = kinds[kind] = (roomy, path & starts.keys(), [len(changed)])
            else:
                roomy, unseen, seen_upto = memo
                news = [w for w in changed[seen_upto[0]:] if w in starts]
                seen_upto[0] = len(changed)
                for w in (*news, *(unseen - path)):
                    unseen.discard(w)
                    if has_room(j, w, starts[w]):
                        roomy.add(w)
                    else:
                        roomy.discard(w)
                        if w not in expanded and w not in path:
                            expand(j, w, base, sup, starts[w])
            # The path's end for j: the workstation with room ranking best for it.
            for w in sorted((w for w in roomy if w not in path),
                            key=lambda w: (enc.cost(j, w), w)):
                got = fit(loads, j, w, starts[w], sup)
                if got is not None:
                    push(base + enc.cost(j, w), j, (w, got[1], sup, got[0]))
                    break
                roomy.discard(w)
        return placed

    def _kind(self, j: int) -> Any:
        """Students of one kind have the same options: the profile (no lock, lists not
        binding), else the student."""
        enc = self.enc
        return enc.profile(j) if enc.st_lock[j] is None and not enc.preferences_only else j

    def _first_move(self, root: int, j: int, came: dict[int, tuple[int, Choice]]) -> int:
        """The workstation the root of ``j``'s search tree takes on ``j``'s path."""
        node = j
        while came[node][0] != root:
            node = came[node][0]
        return came[node][1][0]

    def _book_path(self, root: int, who: int, last: int, end: Choice,
                   came: dict[int, tuple[int, Choice]]) -> bool:
        """Book an augmenting path found by :meth:`augment` from ``root`` (its search tree's
        root) for ``who`` (a root alike), from its end back, once ``who`` has a supervisor
        (passing students on to others if need be); else book nothing."""
        s = self.loads.supervisor(who)
        if s < 0:
            s = _shift_supervisors(self, who)
        if s < 0:
            return False
        moves = [(last, end)]
        node = last
        while node != root:
            node, booking = came[node]
            moves.append((node, booking))
        w, m, _s, k = moves[-1][1]
        moves[-1] = (who, (w, m, s, k))
        for j, (w, m, sup, k) in moves:  # each move's room is freed by the one before it
            if j in self.out:
                # Its supervisor now: passing students on (above) may have changed it.
                sup = self.out[j][2]
                self.loads.give_back(j, self.out[j])
            self.move(j, (w, m, sup, k))
        return True

    def eject_into(self, i: int, w: int, budget: int, depth: int, off_list: bool) -> bool:
        """Make room for ``i`` (not booked) at ``w`` by relocating one student there within
        ``budget``; on success ``i`` is booked at ``w``."""
        loads = self.loads
        for j in sorted(self.at[w]):
            held = self.out[j]
            loads.give_back(j, held)
            new = self.place(i, w)
            if new is not None:
                loads.take(i, new)
                if self.relocate(j, budget, depth, off_list):
                    loads.give_back(i, new)
                    self.move(i, new)
                    return True
                loads.give_back(i, new)
            loads.take(j, held)
        return False


def improve_rank(enc: Encoded, chosen: dict[int, Choice], deadline: float,
                 work: int = 0, stop: Callable[[], bool] | None = None) -> dict[int, Choice]:
    """Lower the rank cost of a complete allocation by local moves, placing the same students.

    Students are visited worst rank first (ties by index). Each tries its better-ranked
    workstations in list order: a *shift* when one has room (a start and a mentor by :func:`fit`,
    its supervisor kept when possible), else an *ejection chain*: a student ``j`` there moves to
    another listed workstation of its own (with room, or, up to :data:`EJECTION_DEPTH`, by
    pushing one student there on in turn), if the chain loses less rank than the mover gains.
    Rounds repeat until none improves, or the work budget is spent (``work`` placement tries;
    default :data:`IMPROVE_WORK_PER_STUDENT` per student), or ``clock.now()`` passes
    ``deadline``, or ``stop()`` (polled with the clock, e.g. a signal's flag) is true. Locks
    are kept (locked students only have their lock's options). The result
    depends only on the input unless the deadline cuts it short (the work budget is the
    deterministic limit).

    Returns
    -------
    dict
        A new allocation, every rule kept, rank cost never higher.
    """
    mv = Moves(enc, chosen, work or IMPROVE_WORK_PER_STUDENT * max(1, len(chosen)), stop)

    def try_better(i: int) -> bool:
        cur = mv.out[i]
        mv.loads.give_back(i, cur)
        if mv.enter(i, enc.st_prefs[i], enc.cost(i, cur[0]), EJECTION_DEPTH, off_list=False):
            return True
        mv.loads.take(i, cur)
        return False

    improved = True
    while improved and not mv.spent(deadline):
        improved = False
        for i in sorted(mv.out, key=lambda i: (-enc.cost(i, mv.out[i][0]), i)):
            if mv.spent(deadline):
                break
            improved = try_better(i) or improved
    mv.now()  # (counts the last tries)
    return mv.out


def place_unplaced(enc: Encoded, chosen: dict[int, Choice], deadline: float,
                   work: int = 0, stop: Callable[[], bool] | None = None
                   ) -> dict[int, Choice]:
    """Place more students in a complete allocation by augmenting moves.

    Each unplaced student with an allowed option (by index) takes a place with room, cheapest
    first, or else makes room by an ejection chain (up to :data:`EJECTION_DEPTH` students each
    moving to another allowed place of theirs, off-list ones included unless
    ``preferences_only``). Passes over the unplaced students allow ever more added rank cost
    (the student's own rank plus what the chain loses) with shorter chains, as
    :data:`PLACE_PASSES` says, within :data:`PLACE_CHEAP_SHARE` of the time and of the work
    budget. Then the students left get augmenting paths of any length and at any cost, all
    searched for at once, cheapest first (:meth:`Moves.augment`): placing one more student
    comes first, but the cheap ways are tried before. The work budget is as
    :func:`improve_rank`'s (``work`` placement tries), and the result depends only on the input
    unless time cuts a pass short; ``stop()``, when true, cuts it short as the deadline would.

    Returns
    -------
    dict
        A new allocation, every rule kept, with at least the students of ``chosen`` placed.
    """
    mv = Moves(enc, chosen, work or IMPROVE_WORK_PER_STUDENT * max(1, enc.n_students), stop)
    now = clock.now()
    # The budgeted passes get a share of the time and of the work; the paths the rest.
    cheap = (min(now + PLACE_CHEAP_SHARE * max(0.0, deadline - now),
                 deadline - PATH_SECONDS * (enc.n_placeable - len(mv.out))),
             PLACE_CHEAP_SHARE * mv.work)
    for budget, depth in PLACE_PASSES:
        for i in range(enc.n_students):
            if (i in mv.out or mv.tries >= cheap[1] or mv.now() >= cheap[0]
                    or mv.stopped()):
                continue
            mv.enter(i, mv.stations(i, off_list=True), budget, depth, off_list=True)
    mv.augment([i for i in range(enc.n_students) if i not in mv.out], deadline)
    mv.now()  # (counts the last tries)
    return mv.out


def repack_unplaced(enc: Encoded, chosen: dict[int, Choice], deadline: float,
                    hint: dict[int, Choice] | None = None,
                    stop: Callable[[], bool] | None = None) -> dict[int, Choice]:
    """Place more students by packing a workstation again with one student more.

    For each unplaced student (by index) with a supervisor free (passing students on to other
    supervisors if need be), its workstation in ``hint`` (another allocation) and its listed
    ones: the students there and this one are packed exactly (:func:`pack_station`,
    supervisors unchanged); if all fit, the new starts and mentors are booked. This finds room
    the one-by-one moves of :func:`place_unplaced` cannot, where the starts and mentors of
    those already there block it. Stops at ``deadline``, or when ``stop()`` is true.

    Returns
    -------
    dict
        A new allocation, every rule kept, with at least the students of ``chosen`` placed.
    """
    mv = Moves(enc, chosen, 1 << 62, stop)
    loads = mv.loads
    for i in range(enc.n_students):
        if i in mv.out or mv.spent(deadline) or not loads.starts_by_station(i):
            continue
        s = loads.supervisor(i)
        if s < 0:
            s = _shift_supervisors(mv, i)
        if s < 0:
            continue
        tries = mv.stations(i, off_list=False)
        if hint is not None and i in hint and hint[i][0] not in tries:
            tries = [hint[i][0], *tries]  # a new list: mv.stations' lists are cached
        for w in tries:
            if mv.spent(deadline):
                break
            there = sorted(mv.at[w])
            held = {j: mv.out[j] for j in there}
            if any(enc.st_lock[j] is not None for j in there):
                continue  # a locked start or mentor is not for moving
            for j, c in held.items():
                loads.give_back(j, c)
            mv.tries += len(there) + 1  # (an exact packing: as much work as a try a student)
            packed = pack_station(loads, w, [*there, i])
            if len(packed) == len(there) + 1:
                for j in there:
                    mv.move(j, (w, packed[j][1], held[j][2], packed[j][0]))
                mv.move(i, (w, packed[i][1], s, packed[i][0]))
                break
            for j, c in held.items():
                loads.take(j, c)
    return mv.out


def _shift_supervisors(mv: Moves, i: int) -> int:
    """Free a supervisor for unplaced ``i`` by passing students on to others with room.

    A breadth-first search for the shortest chain ``s0 -> s1 -> ... -> sk``: ``s0`` may take
    ``i``, each ``s(j+1)`` may take a student (of free choice, not locked) now with ``sj``, and
    ``sk`` has room. Each student of the chain moves one step on; returns ``s0`` (now with
    room), or -1 when no chain exists. (``s0`` is ``i``'s given supervisor, if it has one.)
    """
    enc, loads = mv.enc, mv.loads
    holds = mv.holds()
    start = enc.supervisors_for(i)
    came: dict[int, tuple[int, int]] = {s: (-1, -1) for s in start}  # s -> (previous s, student)
    queue = list(start)
    for s in queue:
        for j in sorted(holds.get(s, ())):
            for s2 in enc.supervisors_for(j):
                if s2 in came:
                    continue
                came[s2] = (s, j)
                if loads.s_left[s2] > 0:
                    while came[s2][0] >= 0:  # walk back, moving each student one step on
                        prev, mover = came[s2]
                        w, m, _s, k = mv.out[mover]
                        loads.give_back(mover, mv.out[mover])
                        mv.move(mover, (w, m, s2, k))
                        s2 = prev
                    return s2
                queue.append(s2)
    return -1
