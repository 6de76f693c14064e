"""The rules of issue 28 as data checks: minimum intakes, split practice, groups, vetoes.

:func:`rule_issues` is the part of :func:`matcher.model.problem.cross_check` for these rules
(every issue names its table, row and column, worded in the message catalogue's ``rules.po``);
:func:`segment_plans` is the one definition of the term sets a split practice may take, which
the encoding turns into options (:mod:`matcher.encoding`).

A *segment plan* of ``n`` terms inside the window ``[first, last]`` is 2 to ``max_segments``
blocks of consecutive terms, each at least ``min_len`` terms long, separated by at least one
term, ``n`` terms in all. (One block is the ordinary contiguous practice.)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ..messages import Message, msg
from .errors import TABLE_FILES, ProblemIssue

Similar = Callable[[str, str], "str | None"]
"""``similar(table, id)``: the id of ``table`` that ``id`` looks like, or None."""

Plan = tuple[int, ...]
"""The terms (indices, ascending) a practice occupies."""

MAX_PLANS = 2000
"""Most segment plans enumerated for one block length and window: far above any real calendar
(8 terms, 12 months in 6-month blocks give a handful); a guard against absurd inputs."""


@lru_cache(maxsize=4096)
def segment_plans(n: int, first: int, last: int, max_segments: int, min_len: int
                  ) -> tuple[Plan, ...]:
    """Every split plan (2 or more blocks) of ``n`` terms inside ``[first, last]``.

    Parameters
    ----------
    n
        Terms of practice in all.
    first, last
        The window (term indices, inclusive).
    max_segments
        Most blocks (1: no split plan).
    min_len
        Shortest block, in terms.

    Returns
    -------
    tuple of Plan
        In lexicographic order of their terms; empty when no split fits.
    """
    out: list[Plan] = []

    def extend(prefix: list[int], start: int, left: int, blocks: int) -> None:
        if len(out) >= MAX_PLANS:
            return
        if left == 0:
            if blocks >= 2:
                out.append(tuple(prefix))
            return
        if blocks >= max_segments:
            return
        for k in range(start, last + 1):
            for size in range(max(min_len, 1), left + 1):
                if k + size - 1 > last:
                    break
                rest = left - size
                if rest and rest < min_len:
                    continue
                block = list(range(k, k + size))
                extend(prefix + block, k + size + 1, rest, blocks + 1)

    if max_segments >= 2 and n >= 2 * max(min_len, 1):
        extend([], first, n, 0)
    return tuple(sorted(set(out)))


def blocks_of(terms: Plan) -> list[tuple[int, int]]:
    """The blocks ``(first, last)`` of consecutive terms in a sorted term set."""
    out: list[tuple[int, int]] = []
    for t in terms:
        if out and out[-1][1] == t - 1:
            out[-1] = (out[-1][0], t)
        else:
            out.append((t, t))
    return out


def rule_issues(p: Any, similar: Similar | None = None) -> list[ProblemIssue]:
    """Issues of the rules of issue 28 in a problem ``p`` (a :class:`~matcher.model.Problem`
    whose own tables passed the other checks of ``cross_check``).

    Rows in the issues are 0-based indices into the problem's tuples. ``similar(table, id)``
    names the id of ``table`` an unknown id looks like (the loader's look-alike ids: width,
    case, Cyrillic letters), so that an unknown student or workstation of ``vetoes.csv`` or
    ``groups.csv`` gets the loader's "did you mean" (``load.unknown_id_similar``).
    """
    out: list[ProblemIssue] = []

    def bad(table: str, row: int | None, column: str | None, message: Any) -> None:
        out.append(ProblemIssue.of(table, row, column, message))

    terms = list(p.terms)
    tix = {t: k for k, t in enumerate(terms)}
    # (read by the vetoes' and groups' checks only: most scenarios have neither)
    students = {s.student_id: s for s in reversed(p.students)} if p.vetoes or p.groups else {}
    stations = {w.workstation_id: w for w in reversed(p.workstations)}
    cap = {(w.workstation_id, t): w.capacity for w in p.workstations for t in terms}
    for tc in p.term_capacities:
        if tc.term in tix:
            cap[tc.workstation_id, tc.term] = tc.capacity

    def window_ok(st: Any) -> bool:
        default = p.policy.window or (terms[0], terms[-1])
        a, b = st.window_start or default[0], st.window_end or default[1]
        return a in tix and b in tix and tix[a] <= tix[b]

    _min_intakes(p, terms, cap, bad)
    _segments(p, window_ok, bad)
    def unknown(table: str, value: str) -> Message:
        near = similar(table, value) if similar is not None else None
        if near is not None and near != value:
            return msg("load.unknown_id_similar", value=value, similar=near,
                       kind=msg("entity.student" if table == "students" else
                                "entity.workstation"), where=TABLE_FILES[table])
        return msg("rules.unknown_student" if table == "students" else
                   "rules.unknown_workstation", value=value)

    vetoed = _vetoes(p, students, stations, bad, unknown)
    _groups(p, students, stations, cap, vetoed, window_ok, bad, unknown)
    return out


def _min_intakes(p: Any, terms: list[str], cap: dict[tuple[str, str], int],
                 bad: Callable[..., None]) -> None:
    """A minimum intake no allocation could reach: above what the workstation can ever hold."""
    shortest = 0  # (computed for the first minimum: most scenarios have none)
    for r, w in enumerate(p.workstations):
        if w.min_intake <= 0:
            continue
        if not shortest:
            shortest = min((p.block_terms(s) for s in p.students), default=1)
        places = sum(cap[w.workstation_id, t] for t in terms)
        most = places // max(shortest, 1)
        if w.min_intake > most:
            bad("workstations", r, "min_intake", msg(
                "rules.min_intake_above_capacity", workstation=w.workstation_id,
                min_intake=w.min_intake, most=most, places=places, shortest=shortest))


def _segments(p: Any, window_ok: Callable[[Any], bool], bad: Callable[..., None]) -> None:
    """A student's own ``max_segments`` above 1 that no split of its practice can use."""
    for r, st in enumerate(p.students):
        if st.max_segments is None or st.max_segments < 2 or not window_ok(st):
            continue
        first, last = p.window(st)
        n = p.block_terms(st)
        if not segment_plans(n, first, last, st.max_segments, p.min_segment_terms):
            bad("students", r, "max_segments", msg(
                "rules.segments_impossible", value=st.max_segments, n=n,
                window=f"{p.terms[first]}..{p.terms[last]}",
                shortest=p.min_segment_terms))


def _vetoes(p: Any, students: dict[str, Any], stations: dict[str, Any],
            bad: Callable[..., None], unknown: Callable[[str, str], Message]
            ) -> set[tuple[str, str]]:
    """Vetoes of unknown students or workstations, repeated vetoes, and locks they forbid."""
    seen: dict[tuple[str, str], int] = {}
    for r, v in enumerate(p.vetoes):
        if v.student_id not in students:
            bad("vetoes", r, "student_id", unknown("students", v.student_id))
        if v.workstation_id not in stations:
            bad("vetoes", r, "workstation_id", unknown("workstations", v.workstation_id))
        key = (v.student_id, v.workstation_id)
        if key in seen:
            bad("vetoes", r, "workstation_id", msg("rules.veto_repeated", other_row=seen[key] + 1))
        seen.setdefault(key, r)
    for r, lk in enumerate(p.locks):
        if (lk.student_id, lk.workstation_id) in seen:
            bad("locks", r, "workstation_id", msg(
                "rules.lock_vetoed", student=lk.student_id, workstation=lk.workstation_id,
                veto_row=seen[lk.student_id, lk.workstation_id] + 1))
    return set(seen)


def _groups(p: Any, students: dict[str, Any], stations: dict[str, Any],
            cap: dict[tuple[str, str], int], vetoed: set[tuple[str, str]],
            window_ok: Callable[[Any], bool], bad: Callable[..., None],
            unknown: Callable[[str, str], Message]) -> None:
    """Unknown members, a student in two groups, disagreeing locks, and a group whose members
    can never share a workstation and a start term."""
    rows: dict[str, list[int]] = defaultdict(list)
    group_of: dict[str, tuple[str, int]] = {}
    for r, g in enumerate(p.groups):
        if g.student_id not in students:
            bad("groups", r, "student_id", unknown("students", g.student_id))
            continue
        if g.student_id in group_of:
            other, other_row = group_of[g.student_id]
            bad("groups", r, "student_id", msg(
                "rules.group_twice", student=g.student_id, group=other, other_row=other_row + 1))
            continue
        group_of[g.student_id] = (g.group_id, r)
        rows[g.group_id].append(r)
    locks = {lk.student_id: lk for lk in p.locks}
    terms = list(p.terms)
    for gid, rs in rows.items():
        members = [students[p.groups[r].student_id] for r in rs]
        if len(members) < 2 or not all(window_ok(s) for s in members):
            continue
        held = {(locks[s.student_id].workstation_id, locks[s.student_id].start_term)
                for s in members if s.student_id in locks}
        if len({w for w, _k in held}) > 1 or len({k for _w, k in held if k}) > 1:
            bad("groups", rs[-1], "group_id", msg("rules.group_locks_disagree", group=gid))
            continue
        why = _no_common_place(p, members, stations, cap, vetoed, terms)
        if why:
            bad("groups", rs[-1], "group_id", msg(why, group=gid, size=len(members)))


def _no_common_place(p: Any, members: list[Any], stations: dict[str, Any],
                     cap: dict[tuple[str, str], int], vetoed: set[tuple[str, str]],
                     terms: list[str]) -> str:
    """Why the members can share no workstation and start term (a catalogue code), or ""."""
    mentors: dict[str, list[Any]] = defaultdict(list)
    for m in p.mentors:
        if m.capacity > 0:
            mentors[m.workstation_id].append(m)
    common = [w for w in stations.values() if all(
        s.discipline in w.disciplines and any(s.discipline in m.disciplines
                                              for m in mentors[w.workstation_id])
        for s in members)]
    if not common:
        return "rules.group_no_discipline"
    common = [w for w in common if all(
        not w.partner_universities or s.university_id in w.partner_universities
        for s in members)]
    if not common:
        return "rules.group_no_partner"
    common = [w for w in common if all((s.student_id, w.workstation_id) not in vetoed
                                       for s in members)]
    if p.policy.preferences_only:
        common = [w for w in common if all(w.workstation_id in s.preferences for s in members)]
    if not common:
        return "rules.group_no_workstation"

    def starts(s: Any, wid: str) -> set[int]:
        first, last = p.window(s)
        n = p.block_terms(s)
        plans: list[tuple[int, ...]] = [tuple(range(k, k + n)) for k in range(first, last - n + 2)]
        plans += segment_plans(n, first, last, p.max_segments(s), p.min_segment_terms)
        return {plan[0] for plan in plans if all(cap[wid, terms[t]] > 0 for t in plan)}

    for w in common:
        shared = set.intersection(*(starts(s, w.workstation_id) for s in members))
        if shared:
            return ""
    return "rules.group_no_start"


def min_segment_terms(months: int | None, term_months: int) -> int:
    """Shortest block in terms for ``min_segment_months`` (default: one term)."""
    return math.ceil((months or term_months) / term_months)
