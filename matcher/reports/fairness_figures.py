"""The fairness figures of a result, as ``report.html`` and ``results.xlsx`` show them (issue 29
item 6): blocking pairs, the rank distribution by university and by discipline, and the group
quotas' shares against their targets.

:func:`figures` computes them once per result (the independent checker gives the blocking pairs,
by the default definition of :mod:`matcher.fairness`, and the quota shares), and keeps the last
one: ``write_result`` primes it before ``results.xlsx`` is written in a forked child, so the two
writers share one computation. Above :data:`BLOCKING_MAX_STUDENTS` students the blocking pairs
are not counted (a note says so and how to count them): the full count at province scale takes
minutes (benchmarks/RESULTS.md). :func:`quota_rows` and :func:`blocking_rows` give the rows of
the two tables in words of the chosen language (``quotas.po``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from ..check import CheckReport, QuotaShare, check
from ..fairness import FEASIBLE
from ..messages import LIST_SEPARATOR, Lang, label
from ..model import Problem, Quota, Result

BLOCKING_MAX_STUDENTS = 20_000
"""Largest cohort whose blocking pairs the report counts (a 20,000-student cohort in seconds;
a province of 100,000 in minutes, which would double the time to write a result)."""

TOP_RANKS = 3
"""Ranks shown one by one in the distributions; later ones share a column (``4+``)."""

OUTCOMES = (*range(1, TOP_RANKS + 1), TOP_RANKS + 1, "off", "none")
"""The columns of a rank distribution: choices 1..3, 4 and later, off the list, unassigned."""


@dataclass(frozen=True)
class RankRow:
    """The rank distribution of one group of students (a university or a discipline).

    Attributes
    ----------
    name
        The university id or discipline code.
    label
        The university's name (empty for a discipline or an unnamed university).
    students
        Students of the group.
    counts
        Students per outcome, in the order of :data:`OUTCOMES`.
    """

    name: str
    label: str
    students: int
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Fairness:
    """Every fairness figure of one result.

    Attributes
    ----------
    checked
        The checker's report (its findings, and the blocking pairs when counted).
    blocking
        ``(student, workstation)`` blocking pairs by the default definition; None when not
        counted (more than :data:`BLOCKING_MAX_STUDENTS` students).
    students
        Students in the scenario.
    by_university, by_discipline
        Rank distributions.
    quotas
        Each quota of ``quotas.csv`` measured (empty without quotas).
    """

    checked: CheckReport
    blocking: list[tuple[str, str]] | None
    students: int
    by_university: list[RankRow]
    by_discipline: list[RankRow]
    quotas: list[QuotaShare]


_LAST: list[tuple[Problem, Result, Fairness]] = []


def figures(problem: Problem, result: Result) -> Fairness:
    """The fairness figures of ``result`` (the last one computed is kept and reused)."""
    for p, r, found in _LAST:
        if p is problem and r is result:
            return found
    count = len(problem.students) <= BLOCKING_MAX_STUDENTS
    # One pass of the checker: the pairs are counted with the findings and dropped when the
    # result does not belong to this scenario (then there are no pairs to speak of).
    checked = check(problem, result, stability=FEASIBLE if count else False)
    if checked.unfit():
        count = False
    found = Fairness(checked, checked.blocking_pairs if count else None, len(problem.students),
                     _distribution(problem, result, "university_id"),
                     _distribution(problem, result, "discipline"), checked.quotas)
    _LAST[:] = [(problem, result, found)]
    return found


def _distribution(problem: Problem, result: Result, key: str) -> list[RankRow]:
    """Students of each group by outcome (:data:`OUTCOMES`)."""
    rank = {p.student_id: p.preference_rank for p in result.placements}
    counts: dict[str, Counter[int | str]] = defaultdict(Counter)
    for s in problem.students:
        group = getattr(s, key)
        if s.student_id not in rank:
            counts[group]["none"] += 1
        elif rank[s.student_id] is None:
            counts[group]["off"] += 1
        else:
            counts[group][min(rank[s.student_id] or 0, TOP_RANKS + 1)] += 1
    names = {u.university_id: u.name or "" for u in problem.universities}
    return [RankRow(g, names.get(g, "") if key == "university_id" else "",
                    sum(counts[g].values()), tuple(counts[g][o] for o in OUTCOMES))
            for g in sorted(counts)]


def outcome_labels(lang: Lang) -> list[str]:
    """The headers of :data:`OUTCOMES` in ``lang``."""
    out = [label("quotas.col.choice", lang, rank=k) for k in range(1, TOP_RANKS + 1)]
    out.append(label("quotas.col.choice_later", lang, rank=TOP_RANKS + 1))
    return [*out, label("quotas.col.off_list", lang), label("quotas.col.unassigned", lang)]


def blocking_rows(problem: Problem, result: Result, pairs: list[tuple[str, str]], lang: Lang
                  ) -> list[tuple[str, str, str, int | None, str, int | None]]:
    """One row per blocking pair, in the order of ``pairs``: ``(student, university, its
    placement (a workstation, or "unassigned" in words), the rank of that placement, the
    workstation it envies, that workstation's rank on its list)``."""
    where = {p.student_id: p for p in result.placements}
    students = {s.student_id: s for s in problem.students}
    out = []
    for sid, wid in pairs:
        st = students[sid]
        held = where.get(sid)
        placement = (held.workstation_id if held is not None
                     else label("quotas.col.unassigned", lang))
        out.append((sid, st.university_id, placement,
                    held.preference_rank if held is not None else None, wid,
                    st.ranks.get(wid)))
    return out


def quota_target(q: QuotaShare | Quota, lang: Lang) -> str:
    """A quota's bounds in words (``at least 30%; at most 2 students``), of a measured quota
    or of a row of ``quotas.csv``."""
    parts = []
    if q.min_share is not None:
        parts.append(label("quotas.target.min_share", lang, share=f"{q.min_share:.4g}"
                           if q.min_share * 100 % 1 else f"{q.min_share:.0%}"))
    if q.max_share is not None:
        parts.append(label("quotas.target.max_share", lang, share=f"{q.max_share:.4g}"
                           if q.max_share * 100 % 1 else f"{q.max_share:.0%}"))
    if q.min_count is not None:
        parts.append(label("quotas.target.min_count", lang, count=q.min_count))
    if q.max_count is not None:
        parts.append(label("quotas.target.max_count", lang, count=q.max_count))
    return LIST_SEPARATOR[lang].join(parts)


def quota_rows(qs: list[QuotaShare], lang: Lang
               ) -> list[tuple[int, str, str, str, str, int, int, float | None, str]]:
    """One row per quota: ``(row, where, group, hard or soft, target, count, total, share,
    met or short by)`` in words of ``lang``."""
    out = []
    for q in qs:
        where = q.workstation_id or label("quotas.everywhere", lang)
        group = label(f"quotas.selector.{q.selector}", lang, value=q.value)
        kind = label("quotas.kind.hard" if q.hard else "quotas.kind.soft", lang)
        met = (label("quotas.met", lang) if q.ok
               else label("quotas.short", lang, short=f"{q.shortfall:.4g}"))
        out.append((q.row, where, group, kind, quota_target(q, lang), q.count, q.total, q.share,
                    met))
    return out
