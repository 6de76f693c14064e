"""Group quotas (issue 29 item 5): the entity of a ``quotas.csv`` row and its cross-table checks.

A quota bounds how many of the students placed at one workstation (or placed anywhere, when the
row names none) belong to a group: the students of a university (``university_id``), of a
discipline (``discipline``) or from a city (``city``: the city of the student's university in
``universities.csv``; students and workstations carry no city of their own that says where a
student comes from). The bound is a share of those placed students (``min_share``,
``max_share``: fractions, or percentages such as ``30%``) and/or a count (``min_count``,
``max_count``). A *hard* quota (the default) is a rule every allocation keeps; a *soft* one is
an objective level after the rank cost that minimises the total shortfall.

:func:`quota_issues` is the part of :func:`matcher.model.problem.cross_check` for this table
(messages in the catalogue's ``quotas.po``); :func:`members` is the one definition of which
students a quota counts, and :func:`shortfall` the one definition of how far a count falls
outside a quota, in students (the checker re-derives both on its own).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from pydantic import Field, field_validator

from ..messages import msg
from .entities import Frozen, register_table
from .errors import TABLE_FILES, ProblemIssue

SELECTORS = ("university_id", "discipline", "city")
"""What a quota counts: the students of a university, of a discipline, or from a city."""

SELECTOR_NAMES: dict[str, str] = {
    "university_id": "university_id", "university": "university_id", "高校": "university_id",
    "学校": "university_id", "高校编号": "university_id", "培养单位": "university_id",
    "discipline": "discipline", "学科": "discipline", "专业类别": "discipline",
    "专业学位类别": "discipline", "学科代码": "discipline", "学科/专业类别": "discipline",
    "city": "city", "城市": "city", "所在城市": "city", "生源城市": "city", "地市": "city",
}
"""How a selector may be written, by the selector it names."""

HARD_WORDS: dict[str, bool] = {
    "hard": True, "硬": True, "硬性": True, "刚性": True, "必须": True, "是": True,
    "soft": False, "软": False, "软性": False, "柔性": False, "尽量": False, "否": False,
}
"""Words for the ``hard`` column besides yes/no (``是``/``否``, true/false)."""


class Quota(Frozen):
    """One group quota (a row of ``quotas.csv``).

    Attributes
    ----------
    workstation_id
        The workstation whose placed students are counted; None: every placed student.
    selector
        ``university_id``, ``discipline`` or ``city`` (also written in Chinese: ``高校``,
        ``学科``, ``城市``).
    value
        The university, discipline or city counted.
    min_share, max_share
        Bounds on the group's share of the placed students counted (0 to 1).
    min_count, max_count
        Bounds on the group's number of students there.
    hard
        True: every allocation keeps the quota. False: a level after the rank cost minimises
        the total shortfall (in students) of the soft quotas.
    """

    workstation_id: str | None = None
    selector: str = Field(min_length=1)
    value: str = Field(min_length=1)
    min_share: float | None = None
    max_share: float | None = None
    min_count: int | None = Field(default=None, ge=0, le=10_000_000)
    max_count: int | None = Field(default=None, ge=0, le=10_000_000)
    hard: bool = True

    @field_validator("selector", mode="before")
    @classmethod
    def _selector_name(cls, v: Any) -> Any:
        if isinstance(v, str):
            key = v.strip()
            return SELECTOR_NAMES.get(key.lower(), SELECTOR_NAMES.get(key, key))
        return v

    @field_validator("hard", mode="before")
    @classmethod
    def _hard_word(cls, v: Any) -> Any:
        if v is None:
            return True
        if isinstance(v, str):
            key = v.strip().lower()
            if key == "":
                return True
            return HARD_WORDS.get(key, v)
        return v

    @field_validator("min_share", "max_share", mode="before")
    @classmethod
    def _percent(cls, v: Any) -> Any:
        """``30%`` (or ``30％``) is 0.3; numbers pass as they are."""
        if isinstance(v, str) and v.strip().endswith(("%", "％")):
            try:
                return float(v.strip()[:-1]) / 100
            except ValueError:
                return v
        return v

    def share_bounds(self) -> tuple[Fraction | None, Fraction | None]:
        """``min_share`` and ``max_share`` as exact fractions (what the models multiply by)."""
        def frac(x: float | None) -> Fraction | None:
            return None if x is None else Fraction(str(x)).limit_denominator(10_000)
        return frac(self.min_share), frac(self.max_share)

    def describe(self) -> str:
        """``W1 university_id=HIT`` (or ``* discipline=0854``): the quota in a line."""
        return f"{self.workstation_id or '*'} {self.selector}={self.value}"


register_table(Quota, "quotas")


def members(p: Any, q: Quota) -> frozenset[str]:
    """The students (ids) a quota counts when they are placed where it looks.

    Parameters
    ----------
    p
        The :class:`~matcher.model.Problem`.
    q
        The quota.
    """
    if q.selector == "university_id":
        return frozenset(s.student_id for s in p.students if s.university_id == q.value)
    if q.selector == "discipline":
        return frozenset(s.student_id for s in p.students if s.discipline == q.value)
    cities = {u.university_id for u in p.universities if (u.city or "").strip() == q.value}
    return frozenset(s.student_id for s in p.students if s.university_id in cities)


def shortfall(q: Quota, count: int, total: int) -> Fraction:
    """How far ``count`` group members among ``total`` counted students fall outside the quota,
    in students: below a minimum count or share, or above a maximum (0 when it holds).

    A share's shortfall is ``min_share * total - count`` (or ``count - max_share * total``):
    the students the group lacks (or has too many) at that total.
    """
    lo_share, hi_share = q.share_bounds()
    out = Fraction(0)
    if q.min_count is not None:
        out += max(0, q.min_count - count)
    if q.max_count is not None:
        out += max(0, count - q.max_count)
    if lo_share is not None:
        out += max(Fraction(0), lo_share * total - count)
    if hi_share is not None:
        out += max(Fraction(0), count - hi_share * total)
    return out


def quota_issues(p: Any) -> list[ProblemIssue]:
    """Issues of ``quotas.csv`` in a problem ``p`` whose own tables passed the other checks.

    Unknown workstations, universities, disciplines and cities; a selector matcher does not
    know; shares outside 0..1; a minimum above its maximum; a row with no bound; and a hard
    minimum count no allocation can reach (more than the students of the group who could ever
    be placed there). Rows are 0-based indices into ``p.quotas``.
    """
    out: list[ProblemIssue] = []

    def bad(r: int, column: str, message: Any) -> None:
        out.append(ProblemIssue.of("quotas", r, column, message))

    if not p.quotas:
        return out
    stations = {w.workstation_id: w for w in p.workstations}
    unis = set(p.university_ids)
    disciplines = {s.discipline for s in p.students} | {
        d for w in p.workstations for d in w.disciplines}
    cities = {(u.city or "").strip() for u in p.universities} - {""}
    for r, q in enumerate(p.quotas):
        if q.workstation_id is not None and q.workstation_id not in stations:
            bad(r, "workstation_id", msg("load.unknown_id", kind=msg("entity.workstation"),
                                         value=q.workstation_id,
                                         where=TABLE_FILES["workstations"]))
        if q.selector not in SELECTORS:
            bad(r, "selector", msg("quotas.unknown_selector", value=q.selector))
        elif q.selector == "university_id" and q.value not in unis:
            bad(r, "value", msg("load.unknown_id", kind=msg("entity.university"), value=q.value,
                                where=TABLE_FILES["universities"] if p.universities
                                else msg("load.any_supervisor_university")))
        elif q.selector == "discipline" and q.value not in disciplines:
            bad(r, "value", msg("quotas.unknown_discipline", value=q.value))
        elif q.selector == "city" and q.value not in cities:
            bad(r, "value", msg("quotas.unknown_city", value=q.value,
                                cities=tuple(sorted(cities))) if cities
                else msg("quotas.no_cities", value=q.value))
        _bounds(q, r, bad)
    if not out:
        _unreachable(p, stations, bad)
    return out


def _bounds(q: Quota, r: int, bad: Callable[[int, str, Any], None]) -> None:
    """Shares in 0..1, minimums not above maximums, at least one bound."""
    for column, share in (("min_share", q.min_share), ("max_share", q.max_share)):
        if share is not None and not 0 <= share <= 1:
            bad(r, column, msg("quotas.share_range", value=_number(share)))
    if None not in (q.min_share, q.max_share) and q.min_share > q.max_share:  # type: ignore[operator]
        bad(r, "max_share", msg("quotas.min_above_max", low=_number(q.min_share),
                                high=_number(q.max_share)))
    if None not in (q.min_count, q.max_count) and q.min_count > q.max_count:  # type: ignore[operator]
        bad(r, "max_count", msg("quotas.min_above_max", low=str(q.min_count),
                                high=str(q.max_count)))
    if all(x is None for x in (q.min_share, q.max_share, q.min_count, q.max_count)):
        bad(r, "min_share", msg("quotas.no_bound"))


def _number(x: float | None) -> str:
    """A share as the user may have typed it: ``0.3`` (and never ``0.30000000000000004``)."""
    return f"{x:.6g}" if x is not None else ""


def _unreachable(p: Any, stations: Mapping[str, Any], bad: Callable[[int, str, Any], None]
                 ) -> None:
    """Hard minimum counts above the group's students who could ever be placed there
    (discipline taken by the workstation and one of its mentors, partnership, no veto, the
    list under ``preferences_only``), or above what the workstation can ever hold; hard maximum
    counts below the group's students locked there."""
    taken: dict[str, set[str]] = {}
    for m in p.mentors:
        if m.capacity > 0:
            taken.setdefault(m.workstation_id, set()).update(m.disciplines)
    vetoed = {(v.student_id, v.workstation_id) for v in p.vetoes}
    with_veto = {v.student_id for v in p.vetoes}
    by_id = {s.student_id: s for s in p.students}
    shortest = min((p.block_terms(s) for s in p.students), default=1)

    def could(s: Any, w: Any) -> bool:
        return (s.discipline in w.disciplines and s.discipline in taken.get(w.workstation_id, ())
                and (not w.partner_universities or s.university_id in w.partner_universities)
                and (s.student_id, w.workstation_id) not in vetoed
                and (not p.policy.preferences_only or w.workstation_id in s.preferences))

    locked = {lk.student_id: lk.workstation_id for lk in p.locks}
    anywhere: dict[tuple[str, str], bool] = {}  # (university, discipline) -> some workstation

    def could_anywhere(s: Any) -> bool:
        if p.policy.preferences_only or s.student_id in with_veto:
            return any(could(s, w) for w in stations.values())
        key = (s.university_id, s.discipline)
        if key not in anywhere:  # (students without vetoes differ only by these here)
            anywhere[key] = any(could(s, w) for w in stations.values())
        return anywhere[key]

    for r, q in enumerate(p.quotas):
        if q.hard and q.max_count is not None:
            held = sorted(sid for sid in members(p, q) if sid in locked and (
                q.workstation_id is None or locked[sid] == q.workstation_id))
            if len(held) > q.max_count:
                bad(r, "max_count", msg("quotas.locks_above_max", count=q.max_count,
                                        locked=len(held), students=tuple(held[:10]),
                                        quota=q.describe()))
        if not q.hard or not q.min_count:
            continue
        group = [by_id[i] for i in members(p, q)]
        if q.workstation_id is None:
            most = reach = sum(1 for s in group if could_anywhere(s))
        else:
            w = stations[q.workstation_id]
            reach = sum(1 for s in group if could(s, w))
            caps = {tc.term: tc.capacity for tc in p.term_capacities
                    if tc.workstation_id == w.workstation_id}
            places = sum(caps.get(t, w.capacity) for t in p.terms)
            most = min(reach, places // max(shortest, 1))
        if q.min_count > most:
            bad(r, "min_count", msg("quotas.min_count_unreachable", count=q.min_count,
                                    reach=most, quota=q.describe()))

