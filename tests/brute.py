"""An independent brute-force enumerator of the lexicographic optimum, written from the spec.

It shares nothing with the solvers (no :mod:`matcher.encoding`, no :mod:`matcher.solvers`): it
reads the :class:`~matcher.model.Problem` fields directly and re-derives every rule.

For each student it lists "unplaced" (unless locked) and every ``(workstation, mentor,
supervisor, terms)`` allowed by the per-student rules 1–4 and 6 (and, of issue 28: no vetoed
workstation; tied choices cost their shared rank; a split practice as any set of ``n`` window
terms in at most ``max_segments`` runs of at least ``min_segment_months``), then searches
depth-first, keeping the per-term workstation and mentor capacities and the total supervisor
capacities (rule 5), and at each complete allocation the groups (together or none) and the
minimum intakes (and the hard group quotas of issue 29); it returns the best ``(placed,
-rank_cost, -quota_shortfall, -extra_segments, pair_weight)``, the soft quotas' shortfall in
students (a level after the rank cost).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from matcher.model import Problem, Student


@dataclass(frozen=True)
class Option:
    """One way to place one student."""

    workstation: str
    mentor: str
    supervisor: str
    start: int  # first term index
    terms: tuple[int, ...]  # covered term indices
    cost: int  # rank cost
    weight: float  # pair weight (0 when the objective ignores pairs)
    extra: int = 0  # blocks beyond the first


@dataclass(frozen=True)
class Optimum:
    """The lexicographic optimum found by brute force."""

    placed: int
    rank_cost: int
    pair_weight: float
    allocation: dict[str, Option]
    extra_segments: int = 0
    quota_shortfall: float = 0.0

    @property
    def key(self) -> tuple[int, int, float, int, float]:
        return (self.placed, -self.rank_cost, -round(self.quota_shortfall, 9),
                -self.extra_segments, self.pair_weight)


def _months(p: Problem, s: Student) -> int:
    if s.required_months is not None:
        return s.required_months
    if s.work_experience_years >= p.policy.experienced_years:
        return p.policy.experienced_practice_months
    return p.policy.practice_months


def _window(p: Problem, s: Student) -> tuple[int, int]:
    terms = list(p.terms)
    lo, hi = p.policy.window if p.policy.window is not None else (terms[0], terms[-1])
    return terms.index(s.window_start or lo), terms.index(s.window_end or hi)


def station_capacity(p: Problem) -> dict[tuple[str, int], int]:
    """Capacity of every workstation in every term (term overrides applied)."""
    cap = {(w.workstation_id, k): w.capacity
           for w in p.workstations for k in range(len(p.terms))}
    for tc in p.term_capacities:
        cap[tc.workstation_id, p.terms.index(tc.term)] = tc.capacity
    return cap


def _rank(s: Student) -> dict[str, int]:
    """The student's list with ties: ``preference_ranks`` read directly."""
    ranks = s.preference_ranks or tuple(range(1, len(s.preferences) + 1))
    return dict(zip(s.preferences, ranks, strict=True))


def _runs(terms: tuple[int, ...]) -> list[list[int]]:
    out: list[list[int]] = []
    for t in terms:
        if out and out[-1][-1] == t - 1:
            out[-1].append(t)
        else:
            out.append([t])
    return out


def _covers(p: Problem, s: Student, n: int, first: int, last: int) -> list[tuple[int, ...]]:
    """Every term set the student's practice may take: one block, or (when allowed) any ``n``
    window terms in at most ``max_segments`` runs of at least the shortest block each."""
    segments = s.max_segments or p.policy.max_segments
    shortest = math.ceil((p.policy.min_segment_months or p.term_months) / p.term_months)
    out = [tuple(range(k, k + n)) for k in range(first, last - n + 2)]
    if segments > 1:
        for combo in itertools.combinations(range(first, last + 1), n):
            runs = _runs(combo)
            if 1 < len(runs) <= segments and min(len(r) for r in runs) >= shortest:
                out.append(combo)
    return out


def student_options(p: Problem, s: Student) -> list[Option]:
    """Every placement of ``s`` allowed by the rules that concern the student alone."""
    ws_cap = station_capacity(p)
    longest = max((max(_rank(x).values()) for x in p.students if x.preferences), default=0)
    vetoed = {v.workstation_id for v in p.vetoes if v.student_id == s.student_id}
    pair_w = ({(pr.supervisor_id, pr.mentor_id): pr.weight for pr in p.pairs}
              if p.objective.pair_weight else {})
    lock = next((lk for lk in p.locks if lk.student_id == s.student_id), None)
    n = math.ceil(_months(p, s) / p.term_months)
    first, last = _window(p, s)
    out: list[Option] = []
    for w in p.workstations:
        wid = w.workstation_id
        if s.discipline not in w.disciplines:
            continue
        if w.partner_universities and s.university_id not in w.partner_universities:
            continue
        if p.policy.preferences_only and wid not in s.preferences:
            continue
        if lock is not None and lock.workstation_id != wid:
            continue
        if wid in vetoed:
            continue
        cost = _rank(s).get(wid, longest + 1)
        for m in p.mentors:
            if m.workstation_id != wid or s.discipline not in m.disciplines:
                continue
            if m.capacity < 1:
                continue
            if lock is not None and lock.mentor_id is not None and lock.mentor_id != m.mentor_id:
                continue
            for sup in p.supervisors:
                if sup.university_id != s.university_id or s.discipline not in sup.disciplines:
                    continue
                if sup.capacity < 1:
                    continue
                if s.supervisor_id is not None and s.supervisor_id != sup.supervisor_id:
                    continue
                for cover in _covers(p, s, n, first, last):
                    k = cover[0]
                    if lock is not None and lock.start_term is not None and (
                            p.terms[k] != lock.start_term or len(_runs(cover)) > 1):
                        continue  # (a lock with a start term holds one block)
                    if any(ws_cap[wid, t] < 1 for t in cover):
                        continue
                    out.append(Option(wid, m.mentor_id, sup.supervisor_id, k, cover, cost,
                                      pair_w.get((sup.supervisor_id, m.mentor_id), 0.0),
                                      len(_runs(cover)) - 1))
    out.sort(key=lambda o: (o.cost, o.extra, -o.weight, o.workstation, o.mentor, o.supervisor,
                            o.terms))
    return out


@dataclass
class Search:
    """What every enumeration here starts from: students by id, their options and the limits.

    A placement ``o`` needs one unit of its supervisor and, in each of its terms, one of its
    workstation and one of its mentor (:meth:`needs`); ``load`` maps those keys to units used.
    """

    students: list[Student]
    locked: set[str]
    options: list[list[Option]]
    ws_cap: dict[tuple[str, int], int]
    m_cap: dict[str, int]
    s_cap: dict[str, int]
    groups: list[list[str]]
    minimum: dict[str, int]
    quotas: list[tuple[Any, set[str]]]  # (the Quota, ids of its group's students)

    @classmethod
    def of(cls, p: Problem) -> Search:
        students = sorted(p.students, key=lambda s: s.student_id)
        members: dict[str, list[str]] = {}
        for g in p.groups:
            members.setdefault(g.group_id, []).append(g.student_id)
        return cls(students, {lk.student_id for lk in p.locks},
                   [student_options(p, s) for s in students], station_capacity(p),
                   {m.mentor_id: m.capacity for m in p.mentors},
                   {s.supervisor_id: s.capacity for s in p.supervisors},
                   [g for g in members.values() if len(g) > 1],
                   {w.workstation_id: w.min_intake for w in p.workstations},
                   [(q, _quota_group(p, q)) for q in p.quotas])

    def shortfall(self, chosen: dict[str, Option], hard: bool) -> Fraction:
        """The hard (or soft) quotas' total shortfall in students, from the definition."""
        out = Fraction(0)
        for q, group in self.quotas:
            if q.hard != hard:
                continue
            counted = [s for s, o in chosen.items()
                       if q.workstation_id is None or o.workstation == q.workstation_id]
            n, g = len(counted), sum(1 for s in counted if s in group)
            if q.min_count is not None:
                out += max(0, q.min_count - g)
            if q.max_count is not None:
                out += max(0, g - q.max_count)
            if q.min_share is not None:
                out += max(Fraction(0), Fraction(str(q.min_share)) * n - g)
            if q.max_share is not None:
                out += max(Fraction(0), g - Fraction(str(q.max_share)) * n)
        return out

    def coupled(self, chosen: dict[str, Option]) -> bool:
        """Groups together (one workstation, one first term) or none; minimum intakes met."""
        for g in self.groups:
            got = [chosen[s] for s in g if s in chosen]
            if got and (len(got) < len(g) or len({(o.workstation, o.start) for o in got}) > 1):
                return False
        count = Counter(o.workstation for o in chosen.values())
        return (all(c >= self.minimum[w] for w, c in count.items())
                and self.shortfall(chosen, True) == 0)

    def needs(self, o: Option) -> list[tuple[tuple[Any, ...], int]]:
        """``(resource key, capacity)`` for each unit placement ``o`` uses."""
        return ([(("s", o.supervisor), self.s_cap[o.supervisor])]
                + [(("w", o.workstation, t), self.ws_cap[o.workstation, t]) for t in o.terms]
                + [(("m", o.mentor, t), self.m_cap[o.mentor]) for t in o.terms])

    def fits(self, load: dict[tuple[Any, ...], int], o: Option) -> bool:
        """Whether ``o`` still has room under ``load``."""
        return all(load.get(k, 0) < cap for k, cap in self.needs(o))

    def take(self, load: dict[tuple[Any, ...], int], o: Option, delta: int) -> None:
        """Book (``delta`` 1) or release (-1) ``o`` in ``load``."""
        for k, _cap in self.needs(o):
            load[k] = load.get(k, 0) + delta


def _quota_group(p: Problem, q: Any) -> set[str]:
    """The students a quota counts, from the format's words: the university, the discipline,
    or the city of the student's university (universities.csv)."""
    if q.selector == "university_id":
        return {s.student_id for s in p.students if s.university_id == q.value}
    if q.selector == "discipline":
        return {s.student_id for s in p.students if s.discipline == q.value}
    cities = {u.university_id for u in p.universities if u.city == q.value}
    return {s.student_id for s in p.students if s.university_id in cities}


def brute_force(p: Problem) -> Optimum | None:
    """The lexicographic optimum (max placed, min rank cost, max pair weight), or None.

    None means no allocation keeps every rule (the locks cannot all be honoured).
    """
    sr = Search.of(p)
    students, options = sr.students, sr.options
    load: dict[tuple[Any, ...], int] = {}

    # Optimistic completions from student i on: all remaining placeable students placed at
    # their cheapest option with their heaviest pair.
    count = len(students)
    rest_place = [0] * (count + 1)
    rest_cost = [0] * (count + 1)
    rest_weight = [0.0] * (count + 1)
    for i in range(count - 1, -1, -1):
        opts = options[i]
        rest_place[i] = rest_place[i + 1] + (1 if opts else 0)
        rest_cost[i] = rest_cost[i + 1] + (min(o.cost for o in opts) if opts else 0)
        rest_weight[i] = rest_weight[i + 1] + (max(o.weight for o in opts) if opts else 0.0)

    best: list[Optimum | None] = [None]
    chosen: dict[str, Option] = {}

    def dfs(i: int, placed: int, cost: int, extra: int, weight: float) -> None:
        cur = best[0]
        if cur is not None:
            bound = (placed + rest_place[i], -(cost + rest_cost[i]), 0.0, -extra,
                     weight + rest_weight[i] + 1e-9)
            if bound <= cur.key:
                return
        if i == count:
            if sr.coupled(chosen):
                found = Optimum(placed, cost, weight, dict(chosen), extra,
                                float(sr.shortfall(chosen, False)))
                if cur is None or found.key > cur.key:
                    best[0] = found
            return
        sid = students[i].student_id
        for o in options[i]:
            if sr.fits(load, o):
                sr.take(load, o, +1)
                chosen[sid] = o
                dfs(i + 1, placed + 1, cost + o.cost, extra + o.extra, weight + o.weight)
                del chosen[sid]
                sr.take(load, o, -1)
        if sid not in sr.locked:
            dfs(i + 1, placed, cost, extra, weight)

    dfs(0, 0, 0, 0, 0.0)
    return best[0]


def max_placed_then_kept(p: Problem, previous: dict[str, tuple[str, str, str, str]]
                         ) -> tuple[int, int] | None:
    """Re-solve levels 1-2 by enumeration: the most placed, then the most earlier placements
    kept exactly. ``previous`` maps a student id to ``(workstation, mentor, supervisor,
    start_term)``. None when no allocation keeps every rule."""
    sr = Search.of(p)
    load: dict[tuple[Any, ...], int] = {}
    best: list[tuple[int, int] | None] = [None]

    def kept(sid: str, o: Option) -> bool:
        return previous.get(sid) == (o.workstation, o.mentor, o.supervisor, p.terms[o.start])

    def dfs(i: int, placed: int, n_kept: int) -> None:
        if i == len(sr.students):
            if best[0] is None or (placed, n_kept) > best[0]:
                best[0] = (placed, n_kept)
            return
        sid = sr.students[i].student_id
        for o in sr.options[i]:
            if sr.fits(load, o):
                sr.take(load, o, +1)
                dfs(i + 1, placed + 1, n_kept + kept(sid, o))
                sr.take(load, o, -1)
        if sid not in sr.locked:
            dfs(i + 1, placed, n_kept)

    dfs(0, 0, 0)
    return best[0]
