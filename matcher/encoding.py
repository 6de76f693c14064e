"""The encoding boundary: ids become indices, scores become integers.

Every solver works on an :class:`Encoded` problem, never on ids. The axis order is written down
once, here, and nowhere else:

* students ``i``: sorted by ``student_id``;
* workstations ``w``: sorted by ``workstation_id``;
* mentors ``m``: sorted by ``mentor_id``;
* supervisors ``s``: sorted by ``supervisor_id``;
* universities ``u`` and disciplines ``d``: sorted by id;
* terms ``t``: calendar order, as in ``scenario.yaml``.

Sorting by id (not by source row) makes every solver independent of the input's row order.

Scores become integers: a placement at a choice of rank ``r`` costs ``r`` (tied choices share
a rank); anywhere else costs ``K + 1`` (``K`` the largest rank in the scenario); pair weights
are scaled by :data:`PAIR_SCALE` and rounded.

The *profile* of a student is ``(u, d, n, first, last, x)``: university, discipline, block
length, window and restriction ``x`` (an index into :attr:`Encoded.restrictions`: the
workstations vetoed for the student and how many segments its practice may have; 0 = none
vetoed, one block). Students of one profile can go to exactly the same ``(workstation, start)``
options, so eligibility is computed once per profile, not once per student.

Starts and plans: an option's ``k`` is a *start* term when ``k < T`` (``T`` terms): the
contiguous block ``k .. k+n-1``; ``k >= T`` is a *segment plan* (issue 28: the practice split
into blocks), whose terms are ``plan_terms[k - T]``. :meth:`Encoded.covers` gives the terms of
either; solvers use it, never ``range(k, k + n)``. Plans sort after starts, so a student's
options stay in ``(w, start)`` order with the one-block options first.

The rules of issue 28 as indexed data: ``ws_min`` (minimum intakes), ``groups`` and
``st_group`` (students kept together), vetoes removed from every option
(:meth:`Encoded.options`, per profile), tied ranks in :attr:`Encoded.rank_of`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from operator import attrgetter

from .model import Problem
from .model.rules import blocks_of, segment_plans

PAIR_SCALE = 100
"""Pair weights are multiplied by this and rounded to integers."""

Profile = tuple[int, int, int, int, int, int]
"""``(university, discipline, block length n, first term, last term, restriction x)``."""


@dataclass(frozen=True)
class QuotaIx:
    """A group quota (:class:`matcher.model.quotas.Quota`) in indices.

    Attributes
    ----------
    row
        Its row in ``problem.quotas`` (0-based).
    w
        The workstation whose placed students it counts; -1: every placed student.
    univs, discs
        The universities (``university_id`` and ``city`` quotas) or disciplines
        (``discipline``) of the group; None: any.
    min_share, max_share
        Share bounds as exact fractions (None: none).
    min_count, max_count
        Count bounds (None: none).
    hard
        A rule (True) or the soft level's (False).
    """

    row: int
    w: int
    univs: frozenset[int] | None
    discs: frozenset[int] | None
    min_share: Fraction | None
    max_share: Fraction | None
    min_count: int | None
    max_count: int | None
    hard: bool

    def matches(self, u: int, d: int) -> bool:
        """Whether a student of university ``u`` and discipline ``d`` is of the group."""
        return ((self.univs is None or u in self.univs)
                and (self.discs is None or d in self.discs))

    def counts_at(self, w: int) -> bool:
        """Whether a student placed at ``w`` is counted."""
        return self.w < 0 or self.w == w

    def holds(self, group: int, total: int) -> bool:
        """Whether ``group`` members among ``total`` counted students keep every bound."""
        return ((self.min_count is None or group >= self.min_count)
                and (self.max_count is None or group <= self.max_count)
                and (self.min_share is None or group >= self.min_share * total)
                and (self.max_share is None or group <= self.max_share * total))


@dataclass(frozen=True, eq=False)
class Encoded:
    """Plain indexed data for solvers. Build it with :func:`encode`.

    All per-entity lists are indexed in the axis order of the module docstring.
    """

    problem: Problem
    student_ids: list[str]
    workstation_ids: list[str]
    mentor_ids: list[str]
    supervisor_ids: list[str]
    university_ids: list[str]
    disciplines: list[str]
    terms: list[str]
    # students
    st_univ: list[int]
    st_disc: list[int]
    st_block: list[int]
    st_first: list[int]
    st_last: list[int]
    st_sup: list[int]  # given supervisor, -1 when the solver chooses
    st_prefs: list[list[int]]  # ranked workstation indices
    st_ranks: list[list[int]]  # the rank of each entry of st_prefs (ties share one)
    st_priority: list[float]
    st_lock: list[tuple[int, int, int] | None]  # (w, mentor or -1, start or -1)
    # workstations
    ws_cap: list[list[int]]  # per term, overrides applied
    ws_disc: list[frozenset[int]]
    ws_partners: list[frozenset[int] | None]  # None: open to all
    ws_mentors: list[list[int]]
    # mentors and supervisors
    m_ws: list[int]
    m_disc: list[frozenset[int]]
    m_cap: list[int]
    s_univ: list[int]
    s_disc: list[frozenset[int]]
    s_cap: list[int]
    # objective data
    max_list: int  # K
    pairs: list[tuple[int, int, int]]  # (supervisor, mentor, scaled weight)
    preferences_only: bool
    use_pairs: bool
    # the rules of issue 28
    ws_min: list[int]  # minimum intake over the allocation (0: none)
    st_x: list[int]  # restriction of each student (index into restrictions)
    restrictions: list[tuple[frozenset[int], int]]  # (vetoed workstations, max segments)
    groups: list[list[int]]  # members of each group kept together (sorted)
    group_ids: list[str]  # the id of each group (groups.csv)
    st_group: list[int]  # the student's group, -1 when none
    min_seg_terms: int  # shortest block of a split practice, in terms
    plan_terms: list[tuple[int, ...]]  # segment plan k (>= n_terms) covers plan_terms[k - T]
    plan_index: dict[tuple[int, ...], int]  # a segment plan's terms -> its k

    # ---- sizes --------------------------------------------------------------------------
    @property
    def n_students(self) -> int:
        """Number of students."""
        return len(self.student_ids)

    @property
    def n_terms(self) -> int:
        """Number of terms."""
        return len(self.terms)

    # ---- costs --------------------------------------------------------------------------
    @cached_property
    def rank_of(self) -> list[dict[int, int]]:
        """``rank_of[i][w]``: the rank of ``w`` on student ``i``'s list (1 best; tied choices
        share a rank)."""
        return [dict(zip(prefs, ranks, strict=True))
                for prefs, ranks in zip(self.st_prefs, self.st_ranks, strict=True)]

    def cost(self, i: int, w: int) -> int:
        """Rank cost of placing student ``i`` at workstation ``w``."""
        return self.rank_of[i].get(w, self.max_list + 1)

    def rank_cost(self, chosen: Mapping[int, tuple[int, ...]]) -> int:
        """Rank cost of an allocation (student -> choice whose first entry is the workstation)."""
        return sum(self.cost(i, c[0]) for i, c in chosen.items())

    # ---- eligibility ----------------------------------------------------------------------
    def profile(self, i: int) -> Profile:
        """The student's profile ``(u, d, n, first, last, x)``."""
        return (self.st_univ[i], self.st_disc[i], self.st_block[i], self.st_first[i],
                self.st_last[i], self.st_x[i])

    @property
    def has_rules(self) -> bool:
        """Whether a rule couples students or workstations beyond capacities: a minimum
        intake or a group (the models that cannot hold these hand over)."""
        return any(self.ws_min) or bool(self.groups)

    @cached_property
    def quotas(self) -> list[QuotaIx]:
        """The group quotas of ``quotas.csv`` as indices (issue 29; see :class:`QuotaIx`)."""
        out = []
        uix = {u: k for k, u in enumerate(self.university_ids)}
        dix = {d: k for k, d in enumerate(self.disciplines)}
        wix = {w: k for k, w in enumerate(self.workstation_ids)}
        for row, q in enumerate(self.problem.quotas):
            univs: frozenset[int] | None = None
            discs: frozenset[int] | None = None
            if q.selector == "discipline":
                discs = frozenset({dix[q.value]} if q.value in dix else ())
            elif q.selector == "university_id":
                univs = frozenset({uix[q.value]} if q.value in uix else ())
            else:  # city: the universities in that city
                univs = frozenset(uix[u.university_id] for u in self.problem.universities
                                  if (u.city or "").strip() == q.value
                                  and u.university_id in uix)
            lo, hi = q.share_bounds()
            out.append(QuotaIx(row, -1 if q.workstation_id is None else wix[q.workstation_id],
                               univs, discs, lo, hi, q.min_count, q.max_count, q.hard))
        return out

    @property
    def has_quotas(self) -> bool:
        """Whether the scenario has group quotas (``quotas.csv``): models that cannot state
        them hand over or refuse."""
        return bool(self.problem.quotas)

    @property
    def has_segments(self) -> bool:
        """Whether some student may split its practice (segment plans exist)."""
        return bool(self.plan_terms)

    @property
    def has_vetoes(self) -> bool:
        """Whether some student has a vetoed workstation."""
        return any(vetoed for vetoed, _segs in self.restrictions)

    def segments_of(self, i: int) -> int:
        """How many blocks student ``i``'s practice may be split into."""
        return self.restrictions[self.st_x[i]][1]

    def quotas_hold(self, chosen: Mapping[int, tuple[int, ...]]) -> bool:
        """Whether an allocation (student -> ``(w, ...)``) keeps every hard quota."""
        for q in self.quotas:
            if not q.hard:
                continue
            group = total = 0
            for i, c in chosen.items():
                if q.counts_at(c[0]):
                    total += 1
                    group += q.matches(self.st_univ[i], self.st_disc[i])
            if not q.holds(group, total):
                return False
        return True

    def vetoed(self, i: int, w: int) -> bool:
        """Whether placing student ``i`` at ``w`` is vetoed."""
        return w in self.restrictions[self.st_x[i]][0]

    def mentors_for(self, w: int, d: int) -> list[int]:
        """Mentors of workstation ``w`` who take discipline ``d`` and have any capacity."""
        return [m for m in self.ws_mentors[w] if d in self.m_disc[m] and self.m_cap[m] > 0]

    def supervisors_for(self, i: int) -> list[int]:
        """Supervisors student ``i`` may get: the given one, else any fitting with capacity."""
        if self.st_sup[i] >= 0:
            s = self.st_sup[i]
            return [s] if self.s_cap[s] > 0 else []
        return self._sup_by_ud.get((self.st_univ[i], self.st_disc[i]), [])

    @cached_property
    def _sup_by_ud(self) -> dict[tuple[int, int], list[int]]:
        out: dict[tuple[int, int], list[int]] = defaultdict(list)
        for s in range(len(self.supervisor_ids)):
            if self.s_cap[s] > 0:
                for d in self.s_disc[s]:
                    out[(self.s_univ[s], d)].append(s)
        return dict(out)

    def ws_accepts(self, w: int, u: int, d: int) -> bool:
        """Discipline, partnership and an eligible mentor: may ``(u, d)`` go to ``w`` at all."""
        partners = self.ws_partners[w]
        return (d in self.ws_disc[w] and (partners is None or u in partners)
                and bool(self.mentors_for(w, d)))

    def starts(self, w: int, n: int, first: int, last: int, segments: int = 1) -> list[int]:
        """Starts of an ``n``-term block inside ``[first, last]`` with ``w`` open throughout;
        with ``segments`` above 1 then the segment plans (``k >= T``) open throughout too."""
        cap = self.ws_cap[w]
        out = [k for k in range(first, last - n + 2) if all(cap[t] > 0 for t in range(k, k + n))]
        if segments > 1:
            out += [k for k in self.plans_of(n, first, last, segments)
                    if all(cap[t] > 0 for t in self.covers(k, n))]
        return out

    def plans_of(self, n: int, first: int, last: int, segments: int) -> list[int]:
        """The segment plans (their ``k``) of ``n`` terms inside ``[first, last]``."""
        return [self.plan_index[terms] for terms in segment_plans(
            n, first, last, segments, self.min_seg_terms)]

    def extra_segments(self, k: int) -> int:
        """Blocks beyond the first of the practice from ``k`` (0 for a start)."""
        if k < len(self.terms):
            return 0
        return len(blocks_of(self.plan_terms[k - len(self.terms)])) - 1

    def first_term(self, k: int) -> int:
        """The first term of the practice from ``k`` (its start, or a plan's first term)."""
        return k if k < len(self.terms) else self.plan_terms[k - len(self.terms)][0]

    @cached_property
    def _profile_options(self) -> dict[Profile, list[tuple[int, int]]]:
        # Computed once per discipline (workstations taking it with a mentor), per university
        # (partnerships) and per pattern of open terms (starts): a province has hundreds of
        # profiles and thousands of workstations, nearly all open in every term.
        out: dict[Profile, list[tuple[int, int]]] = {}
        grouped = self._profile_starts
        by_d: dict[int, list[int]] = {}
        by_ud: dict[tuple[int, int], list[int]] = {}
        pattern = [tuple(c > 0 for c in caps) for caps in self.ws_cap]
        starts_of: dict[tuple[tuple[bool, ...], int, int, int, int], list[int]] = {}
        for i in range(self.n_students):
            key = self.profile(i)
            if key in out:
                continue
            u, d, n, first, last, x = key
            if d not in by_d:
                by_d[d] = [w for w in range(len(self.workstation_ids))
                           if d in self.ws_disc[w] and self.mentors_for(w, d)]
            if (u, d) not in by_ud:
                by_ud[u, d] = [w for w in by_d[d] if u in (self.ws_partners[w] or {u})]
            vetoed, segments = self.restrictions[x]
            opts: list[tuple[int, int]] = []
            by_w: dict[int, list[int]] = {}
            for w in by_ud[u, d]:
                if w in vetoed:
                    continue
                sk = (pattern[w], n, first, last, segments)
                ks = starts_of.get(sk)
                if ks is None:
                    ks = starts_of[sk] = self.starts(w, n, first, last, segments)
                if ks:
                    by_w[w] = ks  # shared between workstations: never modified
                    opts.extend([(w, k) for k in ks])
            out[key] = opts
            grouped[key] = by_w
        return out

    def profile_options(self, key: Profile) -> list[tuple[int, int]]:
        """All ``(workstation, start)`` options for a profile (ignoring lists and locks)."""
        return self._profile_options[key]

    @cached_property
    def _profile_starts(self) -> dict[Profile, dict[int, list[int]]]:
        return {}  # filled by _profile_options, else on demand by profile_starts

    def profile_starts(self, key: Profile) -> dict[int, list[int]]:
        """:meth:`profile_options` grouped by workstation: ``w -> starts``, workstations in
        index order. Computed once per profile and shared (callers must not modify it, nor
        its lists of starts)."""
        got = self._profile_starts.get(key)
        if got is None:
            self.profile_options(key)  # groups every profile's starts as it goes
            got = self._profile_starts[key]
        return got

    def options(self, i: int) -> list[tuple[int, int]]:
        """Allowed ``(workstation, start)`` options of student ``i``, in ``(w, start)`` order.

        Applies every rule that concerns the student alone: discipline, partnership, an
        eligible mentor, window, closed terms, ``preferences_only`` and locks; and requires at
        least one eligible supervisor.
        """
        if not self.supervisors_for(i):
            return []
        opts = self._profile_options[self.profile(i)]
        lock = self.st_lock[i]
        if lock is not None:
            w0, m0, k0 = lock
            # (a lock with a start term holds one block from it, see docs/format.md)
            opts = [(w, k) for w, k in opts if w == w0 and (k0 < 0 or k == k0)]
            if m0 >= 0 and self.m_cap[m0] <= 0:
                return []
        elif self.preferences_only:
            ranked = self.rank_of[i]
            opts = [(w, k) for w, k in opts if w in ranked]
        return opts

    @cached_property
    def n_placeable(self) -> int:
        """Students with an allowed option (:meth:`options`): no allocation places more."""
        return sum(1 for i in range(self.n_students) if self.options(i))

    def choices_from_ids(self, placements: Mapping[str, tuple[str, str, str, str]]
                         ) -> dict[int, tuple[int, int, int, int]]:
        """Placements given in ids as ``(workstation, mentor, supervisor, start)`` indices.

        ``placements`` maps a student id to ``(workstation_id, mentor_id, supervisor_id,
        start_term)``; the last may also be every term of the practice, ``;``-separated (the
        ``terms`` column: a split practice becomes its segment plan, one block its start).
        Entries naming a student, workstation, mentor, supervisor or term this problem does
        not have are left out (for a re-solve: they cannot be kept).
        """
        index = [{v: k for k, v in enumerate(ids)} for ids in (
            self.student_ids, self.workstation_ids, self.mentor_ids, self.supervisor_ids,
            self.terms)]
        out: dict[int, tuple[int, int, int, int]] = {}
        tix = index[4]
        for sid, ids in placements.items():
            held = ids[3].split(";") if ";" in ids[3] else []
            if held:  # every term: one block is its start, a split its plan (if it has one)
                got = tuple(tix.get(t, -1) for t in held)
                block = got == tuple(range(got[0], got[0] + len(got)))
                plan = got[0] if block else self.plan_index.get(got, -1)
                if plan < 0 or -1 in got:
                    continue
                ids = (*ids[:3], self.terms[got[0]])
                keys = (sid, *ids)
                if all(key in table for key, table in zip(keys, index, strict=True)):
                    i, w, m, s, _k = (table[key] for key, table in zip(keys, index,
                                                                        strict=True))
                    out[i] = (w, m, s, plan)
                continue
            keys = (sid, *ids)
            if all(key in table for key, table in zip(keys, index, strict=True)):
                i, w, m, s, k = (table[key] for key, table in zip(keys, index, strict=True))
                out[i] = (w, m, s, k)
        return out

    def covers(self, start: int, n: int) -> range | tuple[int, ...]:
        """Terms covered by an ``n``-term block from ``start``, or by segment plan ``start``
        (``start >= T``, see the module docstring)."""
        if start < len(self.terms):
            return range(start, start + n)
        return self.plan_terms[start - len(self.terms)]

    # ---- the workstations' side (stable matching) -----------------------------------------
    @cached_property
    def priority_position(self) -> list[int]:
        """``priority_position[i]``: place of student ``i`` in the global priority order.

        Higher ``priority`` first, ties by ``student_id`` (students are indexed by id).
        """
        order = sorted(range(self.n_students), key=lambda i: (-self.st_priority[i], i))
        pos = [0] * self.n_students
        for p, i in enumerate(order):
            pos[i] = p
        return pos

    @cached_property
    def _explicit_station_rank(self) -> dict[tuple[int, int], int]:
        wix = {w: k for k, w in enumerate(self.workstation_ids)}
        iix = {s: k for k, s in enumerate(self.student_ids)}
        return {(wix[rk.workstation_id], iix[rk.student_id]): rk.rank
                for rk in self.problem.rankings}

    @cached_property
    def _unranked_base(self) -> int:
        """Keys of students a workstation did not rank start here (after every explicit rank)."""
        top = max(self._explicit_station_rank.values(), default=0)
        return (top + 1) * max(self.n_students, 1)

    def station_rank(self, w: int, i: int) -> int:
        """How workstation ``w`` ranks student ``i``: an integer key, lower is better.

        Students the workstation ranked in ``rankings.csv`` come first, by that rank; then
        everyone else by priority (higher first), then ``student_id``. Equal explicit ranks are
        broken by the same priority order, so the key is strict.
        """
        pos = self.priority_position[i]
        own = self._explicit_station_rank.get((w, i))
        if own is None:
            return self._unranked_base + pos
        return own * max(self.n_students, 1) + pos


def encode(problem: Problem) -> Encoded:
    """Build the indexed form of a problem (see the module docstring for the axis order)."""
    p = problem
    students = sorted(p.students, key=attrgetter("student_id"))
    workstations = sorted(p.workstations, key=attrgetter("workstation_id"))
    mentors = sorted(p.mentors, key=attrgetter("mentor_id"))
    supervisors = sorted(p.supervisors, key=attrgetter("supervisor_id"))
    universities = sorted(set(p.university_ids) | {s.university_id for s in p.students})
    disciplines = sorted({s.discipline for s in p.students}
                         | {d for w in p.workstations for d in w.disciplines}
                         | {d for m in p.mentors for d in m.disciplines}
                         | {d for s in p.supervisors for d in s.disciplines})
    terms = list(p.terms)
    wix = {w.workstation_id: k for k, w in enumerate(workstations)}
    mix = {m.mentor_id: k for k, m in enumerate(mentors)}
    six = {s.supervisor_id: k for k, s in enumerate(supervisors)}
    uix = {u: k for k, u in enumerate(universities)}
    dix = {d: k for k, d in enumerate(disciplines)}
    tix = p.term_index
    iix = {s.student_id: k for k, s in enumerate(students)}

    ws_cap = [[w.capacity] * len(terms) for w in workstations]
    for tc in p.term_capacities:
        ws_cap[wix[tc.workstation_id]][tix[tc.term]] = tc.capacity
    ws_mentors: list[list[int]] = [[] for _ in workstations]
    for k, m in enumerate(mentors):
        ws_mentors[wix[m.workstation_id]].append(k)

    locks: list[tuple[int, int, int] | None] = [None] * len(students)
    for lk in p.locks:
        locks[iix[lk.student_id]] = (
            wix[lk.workstation_id],
            mix[lk.mentor_id] if lk.mentor_id is not None else -1,
            tix[lk.start_term] if lk.start_term is not None else -1,
        )
    # A student's window and block length depend on these fields only (see Problem.window,
    # Problem.required_months): computed once per distinct combination, a few dozen in a
    # province of 100,000 students.
    timing = list(map(attrgetter("window_start", "window_end", "required_months",
                                 "work_experience_years"), students))
    one_of = dict(zip(timing, students, strict=True))
    window_of = {key: p.window(s) for key, s in one_of.items()}
    block_of = {key: p.block_terms(s) for key, s in one_of.items()}
    windows = list(map(window_of.__getitem__, timing))
    segs = [m or p.policy.max_segments for m in map(attrgetter("max_segments"), students)]

    vetoes: dict[int, set[int]] = defaultdict(set)
    for v in p.vetoes:
        vetoes[iix[v.student_id]].add(wix[v.workstation_id])
    restrictions: dict[tuple[frozenset[int], int], int] = {(frozenset(), 1): 0}
    no_veto: frozenset[int] = frozenset()
    st_x = [restrictions.setdefault((frozenset(vetoes[i]) if i in vetoes else no_veto, g),
                                    len(restrictions)) for i, g in enumerate(segs)]
    plan_terms: list[tuple[int, ...]] = []
    plan_index: dict[tuple[int, ...], int] = {}
    for i, s in enumerate(students):
        segments = segs[i]
        if segments > 1:
            first, last = windows[i]
            for plan in segment_plans(p.block_terms(s), first, last, segments,
                                      p.min_segment_terms):
                if plan not in plan_index:
                    plan_index[plan] = len(terms) + len(plan_terms)
                    plan_terms.append(plan)
    members: dict[str, list[int]] = defaultdict(list)
    for g in p.groups:
        members[g.group_id].append(iix[g.student_id])
    kept = sorted((sorted(m), gid) for gid, m in members.items() if len(m) > 1)
    groups = [ms for ms, _gid in kept]
    st_group = [-1] * len(students)
    for gi, ms in enumerate(groups):
        for i in ms:
            st_group[i] = gi

    pair_w: dict[tuple[int, int], int] = {}
    for pr in p.pairs:
        scaled = round(pr.weight * PAIR_SCALE)
        if scaled > 0:
            pair_w[(six[pr.supervisor_id], mix[pr.mentor_id])] = scaled

    return Encoded(
        problem=p,
        student_ids=[s.student_id for s in students],
        workstation_ids=[w.workstation_id for w in workstations],
        mentor_ids=[m.mentor_id for m in mentors],
        supervisor_ids=[s.supervisor_id for s in supervisors],
        university_ids=universities,
        disciplines=disciplines,
        terms=terms,
        st_univ=[uix[s.university_id] for s in students],
        st_disc=[dix[s.discipline] for s in students],
        st_block=list(map(block_of.__getitem__, timing)),
        st_first=[w[0] for w in windows],
        st_last=[w[1] for w in windows],
        st_sup=[six[s.supervisor_id] if s.supervisor_id is not None else -1 for s in students],
        st_prefs=[list(map(wix.__getitem__, s.preferences)) for s in students],
        st_ranks=[list(s.preference_ranks) or list(range(1, len(s.preferences) + 1))
                  for s in students],
        st_priority=[s.priority for s in students],
        st_lock=locks,
        ws_cap=ws_cap,
        ws_disc=[frozenset(dix[d] for d in w.disciplines) for w in workstations],
        ws_partners=[frozenset(uix[u] for u in w.partner_universities)
                     if w.partner_universities else None for w in workstations],
        ws_mentors=ws_mentors,
        m_ws=[wix[m.workstation_id] for m in mentors],
        m_disc=[frozenset(dix[d] for d in m.disciplines) for m in mentors],
        m_cap=[m.capacity for m in mentors],
        s_univ=[uix[s.university_id] for s in supervisors],
        s_disc=[frozenset(dix[d] for d in s.disciplines) for s in supervisors],
        s_cap=[s.capacity for s in supervisors],
        max_list=p.max_rank,
        pairs=sorted((s, m, wgt) for (s, m), wgt in pair_w.items()),
        preferences_only=p.policy.preferences_only,
        use_pairs=p.objective.pair_weight and bool(pair_w),
        ws_min=[w.min_intake for w in workstations],
        st_x=st_x,
        restrictions=sorted(restrictions, key=restrictions.__getitem__),
        groups=groups,
        group_ids=[gid for _ms, gid in kept],
        st_group=st_group,
        min_seg_terms=p.min_segment_terms,
        plan_terms=plan_terms,
        plan_index=plan_index,
    )
