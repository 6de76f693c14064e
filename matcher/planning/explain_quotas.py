"""What ``explain`` says about group quotas (issue 29): that a hard quota kept a student from a
workstation that had room.

Read off the problem and the final allocation, like the rest of :mod:`matcher.planning.explain`
(no solver code): placing the student at the workstation (and taking it from its own place)
would break a hard quota that the allocation keeps. Worded by the catalogue (``quotas.po``).
"""

from __future__ import annotations

from ..messages import Lang, label
from ..model import Problem, Quota, Student
from ..model.quotas import members, shortfall
from ..reports.fairness_figures import quota_target
from .explain_rules import HeldTerms, not_opened


def quota_against(p: Problem, held: HeldTerms, st: Student, wid: str, lang: Lang = "en"
                  ) -> str | None:
    """Why a hard quota keeps ``st`` from ``wid`` though it has room (None when none does).

    Parameters
    ----------
    p
        The problem.
    held
        Student id -> (workstation id, terms), for every placed student.
    st
        The student.
    wid
        A workstation with room for the student.
    lang
        ``"zh"`` or ``"en"``.
    """
    if not p.quotas:
        return None
    before = {sid: h[0] for sid, h in held.items()}
    after = {**before, st.student_id: wid}
    for row, q in enumerate(p.quotas, start=1):
        if not q.hard:
            continue
        group = members(p, q)
        was, now = _count(q, group, before), _count(q, group, after)
        if shortfall(q, *was) == 0 and shortfall(q, *now) > 0:
            return label("quotas.explain.blocks", lang, workstation=wid, row=row,
                         where=q.workstation_id or label("quotas.everywhere", lang),
                         group=label(f"quotas.selector.{q.selector}", lang, value=q.value),
                         target=quota_target(q, lang), count=was[0], total=was[1],
                         count_after=now[0], total_after=now[1])
    return None


def _count(q: Quota, group: frozenset[str], station: dict[str, str]) -> tuple[int, int]:
    """The group's students and everyone counted where the quota looks."""
    counted = [sid for sid, w in station.items()
               if q.workstation_id is None or w == q.workstation_id]
    return sum(1 for sid in counted if sid in group), len(counted)


def closed_by_rules(p: Problem, held: HeldTerms, st: Student, wid: str, lang: Lang = "en"
                    ) -> tuple[str, str] | None:
    """``(kind, text)`` when a rule coupling students keeps ``st`` from ``wid`` although it
    has room: a minimum intake it cannot open for (``min_intake``) or a hard group quota
    (``quota``); None otherwise."""
    closed = not_opened(p, held, wid, lang)
    if closed:
        return "min_intake", closed
    quota = quota_against(p, held, st, wid, lang)
    return ("quota", quota) if quota else None
