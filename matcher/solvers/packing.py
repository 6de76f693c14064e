"""Shared bookkeeping of the heuristic solvers: what is left, what fits, and the locks.

Used by :mod:`~matcher.solvers.da`, :mod:`~matcher.solvers.flow`, the local moves
(:mod:`~matcher.solvers.moves`) and the roundings of the exact solvers (never by the checker).
A :class:`Loads` tracks the room left at every workstation and mentor in every term and at every
supervisor; :func:`fit` picks a start and mentor for a student at a workstation given that room;
:func:`place_locks` places the locked students first, by an exhaustive search that can prove the
locks cannot all be honoured; :func:`fill_greedily` gives students still unplaced their cheapest
option that has room.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..encoding import Encoded, Profile
from . import clock
from .base import Choice, lock_rows

PACK_SECONDS = 1e-3
"""Deterministic cost model (:mod:`matcher.solvers.clock`): building and starting one exact
packing, besides CP-SAT's own deterministic time."""
PACK_EFFORT = 0.5
"""CP-SAT deterministic time one :func:`pack_station` may spend (a workstation's packing has a
few dozen students; it is solved exactly well within this)."""

LOCK_SEARCH_NODES = 200_000
"""Node budget of the lock search; beyond it the locks are neither placed nor proven infeasible."""


@dataclass
class Loads:
    """Room left: per workstation and term, per mentor and term, per supervisor."""

    enc: Encoded
    ws_left: list[list[int]] = field(init=False)
    m_left: list[list[int]] = field(init=False)
    s_left: list[int] = field(init=False)
    _mentors: dict[tuple[int, int], list[int]] = field(init=False, default_factory=dict)
    _pair_w: dict[tuple[int, int], int] = field(init=False, default_factory=dict)
    _sup_heap: dict[tuple[int, int], list[tuple[int, int, int, int]]] = field(
        init=False, default_factory=dict)
    _sup_version: list[int] = field(init=False)
    _stations: dict[Profile, list[int]] = field(
        init=False, default_factory=dict)
    _spec: list[int] = field(init=False)
    _reserved: list[int] = field(init=False)
    ws_version: list[int] = field(init=False)
    blocks: list[list[tuple[int, ...]]] = field(init=False)
    """``blocks[k][n]``: the terms of :meth:`~matcher.encoding.Encoded.covers` ``(k, n)`` as a
    tuple (looked up, not rebuilt, in the hot loops)."""
    extra: list[int] = field(init=False)
    """``extra[k]``: :meth:`~matcher.encoding.Encoded.extra_segments` of ``k``."""
    m_spec: list[int] = field(init=False)
    """How many disciplines each mentor takes (fewer first when choosing a mentor)."""
    _pairs_of: dict[int, dict[int, int]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        enc = self.enc
        self.ws_left = [list(caps) for caps in enc.ws_cap]
        self.m_left = [[c] * enc.n_terms for c in enc.m_cap]
        self.s_left = list(enc.s_cap)
        # Bumped whenever a workstation's room (or its mentors') changes: lets searches
        # remember where a student did not fit until something there changes.
        self.ws_version = [0] * len(enc.ws_cap)
        self._spec = [len(d) for d in enc.s_disc]
        self._reserved = [0] * len(enc.s_cap)
        for s in enc.st_sup:
            if s >= 0:
                self._reserved[s] += 1
        self._sup_version = [0] * len(enc.s_cap)
        for s in range(len(enc.s_cap)):
            self._push_supervisor(s)
        if enc.use_pairs:
            self._pair_w = {(s, m): wgt for s, m, wgt in enc.pairs}
            for s, m, wgt in enc.pairs:
                self._pairs_of.setdefault(s, {})[m] = wgt
        n_terms = enc.n_terms
        n_ks = n_terms + len(enc.plan_terms)
        self.blocks = [[tuple(enc.covers(k, n)) for n in range(n_terms + 1)]
                       for k in range(n_ks)]
        self.extra = [enc.extra_segments(k) for k in range(n_ks)]
        self.m_spec = [len(d) for d in enc.m_disc]

    # ---- static facts, cached ---------------------------------------------------------------
    def starts_by_station(self, i: int) -> dict[int, list[int]]:
        """Allowed starts of student ``i``, per workstation.

        The same options as :meth:`~matcher.encoding.Encoded.options` (locks and
        ``preferences_only`` applied), grouped by workstation and shared per profile, without
        scanning every workstation for each student.
        """
        enc = self.enc
        if not enc.supervisors_for(i):
            return {}
        base = enc.profile_starts(enc.profile(i))
        lock = enc.st_lock[i]
        if lock is not None:
            w0, m0, k0 = lock
            if m0 >= 0 and enc.m_cap[m0] <= 0:
                return {}
            ks = [k for k in base.get(w0, []) if k0 < 0 or k == k0]
            return {w0: ks} if ks else {}
        if enc.preferences_only:
            return {w: base[w] for w in enc.st_prefs[i] if w in base}
        return base

    def mentors(self, i: int, w: int) -> list[int]:
        """Mentors student ``i`` may get at ``w`` (a locked mentor, else every eligible one)."""
        lock = self.enc.st_lock[i]
        if lock is not None and lock[1] >= 0:
            return [lock[1]]
        key = (w, self.enc.st_disc[i])
        got = self._mentors.get(key)
        if got is None:
            got = self._mentors[key] = self.enc.mentors_for(w, key[1])
        return got

    def pair_weight(self, s: int, m: int) -> int:
        """Scaled weight of the supervisor-mentor pair (0 when not rewarded or pairs are off)."""
        return self._pair_w.get((s, m), 0) if self._pair_w else 0

    def pairs_of(self, s: int) -> dict[int, int] | None:
        """Mentor -> scaled pair weight of supervisor ``s``'s rewarded pairs (None: none)."""
        return self._pairs_of.get(s)

    def stations(self, key: Profile) -> list[int]:
        """Workstations a profile may go to (some start fits), in index order."""
        got = self._stations.get(key)
        if got is None:
            got = self._stations[key] = list(self.enc.profile_starts(key))
        return got

    # ---- room ----------------------------------------------------------------------------
    def take(self, i: int, choice: Choice) -> None:
        """Book ``choice`` for student ``i``."""
        w, m, s, k = choice
        ws, ml = self.ws_left[w], self.m_left[m]
        for t in self.enc.covers(k, self.enc.st_block[i]):
            ws[t] -= 1
            ml[t] -= 1
        self.ws_version[w] += 1
        self.use_supervisor(s)

    def give_back(self, i: int, choice: Choice) -> None:
        """Release a booking made by :meth:`take`."""
        w, m, s, k = choice
        ws, ml = self.ws_left[w], self.m_left[m]
        for t in self.enc.covers(k, self.enc.st_block[i]):
            ws[t] += 1
            ml[t] += 1
        self.ws_version[w] += 1
        self.free_supervisor(s)

    def fits(self, i: int, choice: Choice) -> bool:
        """Whether ``choice`` still has room for student ``i`` (supervisor included)."""
        w, m, s, k = choice
        return self.s_left[s] > 0 and self.has_room(i, w, m, k)

    def has_room(self, i: int, w: int, m: int, k: int) -> bool:
        """Whether workstation ``w`` and mentor ``m`` have room for ``i`` starting in ``k``."""
        ws, ml = self.ws_left[w], self.m_left[m]
        return all(ws[t] > 0 and ml[t] > 0 for t in self.enc.covers(k, self.enc.st_block[i]))

    # ---- supervisors ---------------------------------------------------------------------
    # Each (university, discipline) keeps a heap of its supervisors with room, best first; an
    # entry is current only while the supervisor's version is unchanged (every change of its
    # room pushes a fresh entry), so stale ones are dropped when they surface.
    def _push_supervisor(self, s: int) -> None:
        self._sup_version[s] += 1
        if self.s_left[s] <= 0:
            return
        enc = self.enc
        entry = (self._spec[s], self._reserved[s] - self.s_left[s], s, self._sup_version[s])
        for d in enc.s_disc[s]:
            heapq.heappush(self._sup_heap.setdefault((enc.s_univ[s], d), []), entry)

    def use_supervisor(self, s: int) -> None:
        """One more student for supervisor ``s``."""
        self.s_left[s] -= 1
        self._push_supervisor(s)

    def free_supervisor(self, s: int) -> None:
        """One student fewer for supervisor ``s``."""
        self.s_left[s] += 1
        self._push_supervisor(s)

    def supervisor(self, i: int, prefer: int = -1) -> int:
        """A supervisor with room for student ``i`` (``prefer`` if it has room), or -1.

        The given supervisor if the student has one; else, among those of the student's
        university and discipline with room: the ones taking the fewest disciplines (broader
        ones stay free for students only they can take), then the one with the most room beyond
        the students who were given it (so that free choices do not fill a supervisor others
        must have), then by index.
        """
        if prefer >= 0 and self.s_left[prefer] > 0:
            return prefer
        enc = self.enc
        given = enc.st_sup[i]
        if given >= 0:
            return given if self.s_left[given] > 0 else -1
        heap = self._sup_heap.get((enc.st_univ[i], enc.st_disc[i]))
        version = self._sup_version
        while heap:
            top = heap[0]
            if top[3] == version[top[2]]:
                return top[2]
            heapq.heappop(heap)
        return -1


def fit(loads: Loads, i: int, w: int, starts: Sequence[int], s: int, *, spread: bool = True
        ) -> tuple[int, int] | None:
    """A ``(start, mentor)`` for student ``i`` at ``w`` with room, given supervisor ``s``.

    A practice in one block comes before a split one (fewer segments is the objective's next
    level). With ``spread`` (the default), among the fitting ones: a rewarded pair with ``s`` first,
    then the start whose block leaves the workstation the most room (spreading students over
    the terms), then the mentor taking the fewest disciplines and with the most room; ties by
    start and mentor index. Without it, the earliest start comes first (for packing students
    in deadline order).
    """
    n = loads.enc.st_block[i]
    ws = loads.ws_left[w]
    mentors = loads.mentors(i, w)
    m_left = loads.m_left
    blocks = loads.blocks
    if len(starts) == 1 and len(mentors) == 1:  # nothing to choose: the common fast path
        k, m = starts[0], mentors[0]
        ml = m_left[m]
        for t in blocks[k][n]:
            if ws[t] <= 0 or ml[t] <= 0:
                return None
        return k, m
    best: tuple[int, int] | None = None
    best_key: tuple[int, ...] = ()
    pairs = loads.pairs_of(s) if s >= 0 else None
    spec, extra = loads.m_spec, loads.extra
    if spread and not (pairs and any(m in pairs for m in mentors)):
        # No rewarded pair to prefer: the start comes first by (split, -slack), so look at
        # the mentors of the best starts only, moving on while none of them has room.
        cands = []
        for k in starts:
            block = blocks[k][n]
            if len(block) == 2:
                a, b = ws[block[0]], ws[block[1]]
                slack = a if a < b else b
            elif len(block) == 1:
                slack = ws[block[0]]
            else:
                slack = min([ws[t] for t in block])
            if slack > 0:
                cands.append((extra[k], -slack, k))
        if len(cands) > 1:
            cands.sort()
        at = 0
        while at < len(cands):
            level = cands[at][:2]
            while at < len(cands) and cands[at][:2] == level:
                k = cands[at][2]
                at += 1
                block = blocks[k][n]
                for m in mentors:
                    ml = m_left[m]
                    if len(block) == 2:
                        a, b = ml[block[0]], ml[block[1]]
                        m_slack = a if a < b else b
                    elif len(block) == 1:
                        m_slack = ml[block[0]]
                    else:
                        m_slack = min([ml[t] for t in block])
                    if m_slack <= 0:
                        continue
                    mkey = (spec[m], -m_slack, k, m)
                    if best is None or mkey < best_key:
                        best, best_key = (k, m), mkey
            if best is not None:
                return best
        return None
    for k in starts:
        block = blocks[k][n]
        # the smallest room over the block's terms (most blocks have one or two terms)
        if len(block) == 2:
            a, b = ws[block[0]], ws[block[1]]
            slack = a if a < b else b
        elif len(block) == 1:
            slack = ws[block[0]]
        else:
            slack = min([ws[t] for t in block])
        if slack <= 0:
            continue
        split = extra[k]  # one block first
        for m in mentors:
            ml = m_left[m]
            if len(block) == 2:
                a, b = ml[block[0]], ml[block[1]]
                m_slack = a if a < b else b
            elif len(block) == 1:
                m_slack = ml[block[0]]
            else:
                m_slack = min([ml[t] for t in block])
            if m_slack <= 0:
                continue
            pair = -pairs.get(m, 0) if pairs else 0
            key = ((split, pair, -slack, spec[m], -m_slack, k, m) if spread
                   else (split, k, pair, spec[m], -m_slack, m, 0))
            if best is None or key < best_key:
                best, best_key = (k, m), key
    return best


def pack_station(loads: Loads, w: int, students: Sequence[int],
                 effort: float = PACK_EFFORT) -> dict[int, tuple[int, int]]:
    """The most of ``students`` that fit at workstation ``w`` together, in the room left.

    A start and a mentor each (supervisors are not decided here), from a small CP-SAT model:
    students with the same block length, starts and mentors are interchangeable, so it counts
    them per kind, start and mentor (at most the kind's size), within the workstation's and
    its mentors' room in every term. Exact unless ``effort`` (CP-SAT deterministic time, so
    the outcome depends only on the input) runs out; then the best packing found.

    Returns
    -------
    dict
        Student -> ``(start, mentor)`` for those packed.
    """
    from ortools.sat.python import cp_model  # only here: the other heuristics need no CP-SAT

    enc = loads.enc
    kinds: dict[tuple[int, tuple[int, ...], tuple[int, ...]], list[int]] = defaultdict(list)
    for i in students:
        kinds[enc.st_block[i], tuple(loads.starts_by_station(i).get(w, [])),
              tuple(loads.mentors(i, w))].append(i)
    model = cp_model.CpModel()
    count: dict[tuple[tuple[int, tuple[int, ...], tuple[int, ...]], int, int], Any] = {}
    station_t: dict[int, list[Any]] = defaultdict(list)
    mentor_t: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for kind, members in kinds.items():
        n, starts, mentors = kind
        own = []
        for k in starts:
            for m in mentors:
                v = count[kind, k, m] = model.new_int_var(0, len(members), f"c_{k}_{m}")
                own.append(v)
                for t in enc.covers(k, n):
                    station_t[t].append(v)
                    mentor_t[m, t].append(v)
        if own:
            model.add(cp_model.LinearExpr.sum(own) <= len(members))
    for t, terms in station_t.items():
        model.add(cp_model.LinearExpr.sum(terms) <= max(0, loads.ws_left[w][t]))
    for (m, t), terms in mentor_t.items():
        model.add(cp_model.LinearExpr.sum(terms) <= max(0, loads.m_left[m][t]))
    model.maximize(cp_model.LinearExpr.sum(list(count.values())))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = effort
    solver.parameters.cp_model_presolve = False  # tiny models: presolve costs more than it saves
    solver.parameters.symmetry_level = 0
    # CP-SAT's own Ctrl-C handler would end the whole process here; the caller's handles it.
    solver.parameters.catch_sigint_signal = False
    status = solver.solve(model)
    clock.charge(PACK_SECONDS + solver.response_proto.deterministic_time)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {}
    out: dict[int, tuple[int, int]] = {}
    slots: dict[tuple[int, tuple[int, ...], tuple[int, ...]], list[tuple[int, int]]] = \
        defaultdict(list)
    for (kind, k, m), v in count.items():
        slots[kind].extend([(k, m)] * solver.value(v))
    for kind, members in kinds.items():
        out.update(zip(members, slots[kind], strict=False))
    return out


def place_locks(loads: Loads, budget: int = LOCK_SEARCH_NODES
                ) -> tuple[dict[int, Choice] | None, bool]:
    """Place every locked student first, searching all their options if need be.

    Returns
    -------
    chosen
        Locked student -> choice (booked in ``loads``), or None when no placement was found.
    exhausted
        With ``chosen`` None: True when the search covered every combination, which proves that
        the locks cannot all be honoured; False when it stopped at its node budget.
    """
    enc = loads.enc
    locked = [i for i in range(enc.n_students) if enc.st_lock[i] is not None]
    if not locked:
        return {}, True
    per: dict[int, list[tuple[int, int, int]]] = {}
    for i in locked:
        starts = loads.starts_by_station(i)
        w = enc.st_lock[i][0]  # type: ignore[index]
        per[i] = [(w, m, k) for k in starts.get(w, []) for m in loads.mentors(i, w)]
    # Fewest options first: conflicts show up early and the search stays small.
    order = sorted(locked, key=lambda i: (len(per[i]) * len(enc.supervisors_for(i)), i))
    chosen: dict[int, Choice] = {}
    nodes = [0]

    def dfs(pos: int) -> bool | None:
        if pos == len(order):
            return True
        i = order[pos]
        for w, m, k in per[i]:
            for s in enc.supervisors_for(i):
                nodes[0] += 1
                if nodes[0] > budget:
                    return None
                choice = (w, m, s, k)
                if not loads.fits(i, choice):
                    continue
                loads.take(i, choice)
                chosen[i] = choice
                got = dfs(pos + 1)
                if got is None or got:
                    return got
                loads.give_back(i, choice)
                del chosen[i]
        return False

    found = dfs(0)
    if found:
        return chosen, True
    for i, choice in chosen.items():
        loads.give_back(i, choice)
    return None, found is not None


def lock_failure(enc: Encoded, solver: str, proven: bool) -> str:
    """The message of a result whose locked students could not be placed."""
    where = lock_rows(enc)
    if proven:
        return f"the locks in {where} cannot all be honoured; remove or change one of them"
    return (f"{solver} could not place the locked students ({where}) within its search budget; "
            "try the cpsat solver")


def fill_greedily(loads: Loads, chosen: dict[int, Choice], order: Iterable[int],
                  prefer_sup: dict[int, int] | None = None,
                  book: Callable[[int, Choice], None] | None = None) -> int:
    """Give each unplaced student of ``order`` its cheapest option that still has room.

    Listed workstations in list order first, then (unless ``preferences_only``) the others in
    index order; the start and mentor within a workstation by :func:`fit`. Books into
    ``loads`` and ``chosen`` (or through ``book``); returns how many it placed.

    Room only shrinks here and whether a workstation can take a student depends only on the
    student's profile (window, block, university, discipline), so a workstation that could not
    take one unlocked student of a profile is skipped for the later ones.
    """
    enc = loads.enc
    added = 0
    skip: dict[Profile, int] = {}
    # Listed workstations where a profile found no room (unlocked students: their starts and
    # mentors there depend on the profile alone); room only shrinks, so they stay full for it.
    full: dict[Profile, set[int]] = {}
    no_full: set[int] = set()
    for i in order:
        if i in chosen:
            continue
        starts = loads.starts_by_station(i)
        if not starts:
            continue
        s = loads.supervisor(i, (prefer_sup or {}).get(i, -1))
        if s < 0:
            continue
        got: tuple[int, int] | None = None
        w = -1
        unlocked = enc.st_lock[i] is None
        prof = enc.profile(i)
        known = full.setdefault(prof, set()) if unlocked else no_full
        for w in enc.st_prefs[i]:
            if w in starts and w not in known:
                got = fit(loads, i, w, starts[w], s)
                if got is not None:
                    break
                if unlocked:
                    known.add(w)
        if got is None and not enc.preferences_only and unlocked:
            stations = loads.stations(prof)
            p = skip.get(prof, 0)
            while p < len(stations):
                w = stations[p]
                if w not in enc.rank_of[i]:  # a listed one was tried above and failed
                    got = fit(loads, i, w, starts[w], s)
                    if got is not None:
                        break
                p += 1
            skip[prof] = p
        if got is None:
            continue
        choice = (w, got[1], s, got[0])
        if book is None:
            chosen[i] = choice
            loads.take(i, choice)
        else:
            book(i, choice)
        added += 1
    return added
