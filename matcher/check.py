"""The independent checker: re-derives every rule and the objective from the data.

It shares no code with the solvers (no encoding, no model, no reasons): it works on ids, straight
from the :class:`~matcher.model.Problem` and the result's rows, so that a bug in a solver's
encoding cannot hide itself. Every solver test ends by running it.

Rules checked (numbers as in the scenario format):

1. at most one placement per student; the mentor works at the workstation; the supervisor is of
   the student's university; exactly ``n`` terms inside the window, in one block of consecutive
   terms or (where the student may split its practice) in at most ``max_segments`` blocks of at
   least ``min_segment_months`` each (the ``terms`` column; without it the block
   ``start_term..end_term``);
2. the discipline is taken by the workstation, the mentor and the supervisor;
3. partnerships;
4. a given supervisor is kept;
5. workstation and mentor capacity in every term, supervisor capacity in all;
6. ``preferences_only`` and locks;
7. vetoes (``vetoes.csv``): never the vetoed workstation;
8. groups (``groups.csv``): all members at one workstation with one start term, or none placed;
9. minimum intakes: a workstation takes no student or at least its ``min_intake``;
10. group quotas (``quotas.csv``): each hard quota's share and count among the students placed
    where it looks (a soft one is measured, its shortfall reported, never a violation).

It also recomputes the objective levels, compares them with what the result claims, checks the
claimed bounds against the allocation, and (on request) lists blocking pairs by the definition
of :mod:`matcher.fairness` (``feasible``, or the old ``strict``).
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .fairness import FEASIBLE, Held, definition_of
from .fairness import blocking_pairs as envy
from .formats.resultdir import UNASSIGNED, read_assignments, read_summary, read_unassigned
from .messages import Lang, Message, msg, render
from .model import Problem, Result

UNFIT = frozenset({"check.unknown_student", "check.unknown_ids", "check.bad_terms"})
"""The codes of findings that mean the result names ids or terms the scenario lacks: the
result was most likely solved from another scenario (report.html and explain refuse it)."""


@dataclass(frozen=True)
class QuotaShare:
    """One quota of ``quotas.csv`` measured on an allocation (rule 10).

    Attributes
    ----------
    row
        The quota's data row (1-based, as in messages).
    workstation_id
        Where it counts (None: every placed student).
    selector, value
        What it counts (``university_id``, ``discipline`` or ``city``, and which).
    count, total
        The group's students and every student counted there.
    min_share, max_share, min_count, max_count
        The quota's bounds (None where not given).
    hard
        A rule (True) or soft.
    shortfall
        Students missing below a minimum or above a maximum (0 when the quota holds).
    """

    row: int
    workstation_id: str | None
    selector: str
    value: str
    count: int
    total: int
    min_share: float | None
    max_share: float | None
    min_count: int | None
    max_count: int | None
    hard: bool
    shortfall: float

    @property
    def share(self) -> float | None:
        """The group's share of the students counted (None when nobody is counted)."""
        return self.count / self.total if self.total else None

    @property
    def ok(self) -> bool:
        """Whether the quota holds."""
        return self.shortfall <= 1e-9

    def to_dict(self) -> dict[str, Any]:
        """The figures as ``summary.json`` writes them."""
        return {"row": self.row, "workstation_id": self.workstation_id,
                "selector": self.selector, "value": self.value, "hard": self.hard,
                "count": self.count, "total": self.total,
                "share": None if self.share is None else round(self.share, 6),
                "min_share": self.min_share, "max_share": self.max_share,
                "min_count": self.min_count, "max_count": self.max_count,
                "shortfall": round(self.shortfall, 6), "met": self.ok}


@dataclass
class CheckReport:
    """What the checker found.

    Attributes
    ----------
    issues
        One message per broken rule or false claim (codes ``check.*``, see ``check.po``);
        empty when the result is valid. Their values name the student, workstation, ...
    violations
        The same, one English line each (``rule 1: assignment row 3 (S3): ...``): what
        matcher has always given; :meth:`lines` words them in either language.
    placed, rank_cost, extra_segments, pair_weight
        The objective levels recomputed from the data (``extra_segments``: blocks beyond the
        first, summed over the students).
    blocking_pairs
        ``(student_id, workstation_id)`` pairs with justified envy, when asked for.
    stability
        The definition the blocking pairs follow (:data:`matcher.fairness.DEFINITIONS`), or
        None when they were not asked for.
    """

    issues: list[Message] = field(default_factory=list)
    placed: int = 0
    rank_cost: int = 0
    extra_segments: int = 0
    pair_weight: float = 0.0
    blocking_pairs: list[tuple[str, str]] | None = None
    stability: str | None = None
    quotas: list[QuotaShare] = field(default_factory=list)
    """Each quota of ``quotas.csv`` measured (rule 10), in row order."""
    rank_profile: list[int] = field(default_factory=list)
    """Placed students at rank 1, ..., K, then off their lists (``K + 1`` entries)."""
    worst_rank: int = 0
    """The worst rank given to a placed student (``K + 1`` off the list; 0 when none)."""

    @property
    def ok(self) -> bool:
        """True when no rule is broken and every claim holds."""
        return not self.issues

    @property
    def violations(self) -> list[str]:
        """Every finding as an English line (``rule 5: workstation W1 holds 3 ...``)."""
        return self.lines("en")

    def lines(self, lang: Lang) -> list[str]:
        """Every finding worded in ``lang`` (``"zh"`` or ``"en"``), one line each."""
        return [render(m, lang) for m in self.issues]

    def unfit(self) -> list[Message]:
        """The findings that mean the result does not belong to this scenario (:data:`UNFIT`)."""
        return [m for m in self.issues if m.code in UNFIT]

    def about(self, student_id: str) -> list[Message]:
        """The findings that name ``student_id`` (its row, a lock, a group, a listing)."""
        return [m for m in self.issues if _names(m, student_id)]


def _names(m: Message, student_id: str) -> bool:
    """Whether a finding or one of its parts holds ``student_id`` as a student's id."""
    for name, value in m.stored().items():
        if name in ("student", "placed", "missing") and (
                value == student_id or (isinstance(value, tuple) and student_id in value)):
            return True
        if isinstance(value, Message) and _names(value, student_id):
            return True
        if isinstance(value, tuple) and any(isinstance(x, Message) and _names(x, student_id)
                                            for x in value):
            return True
    return False


def _rows_of(result: Result | Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    if isinstance(result, Result):
        return [{k: "" if v is None else ";".join(v) if isinstance(v, tuple) else str(v)
                 for k, v in vars(p).items()} for p in result.placements]
    return [{k: "" if v is None else ";".join(v) if isinstance(v, tuple) else str(v)
             for k, v in r.items()} for r in result]


def _claims_of(result: Result | Iterable[Mapping[str, Any]],
               claims: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if isinstance(result, Result):
        return result.summary()
    return claims or {}


def _required_terms(p: Problem, st: Any) -> tuple[int, int, int]:
    """(n, first, last) for a student, from the problem's own definitions."""
    months = st.required_months
    if months is None:
        months = (p.policy.experienced_practice_months
                  if st.work_experience_years >= p.policy.experienced_years
                  else p.policy.practice_months)
    n = math.ceil(months / p.term_months)
    default = p.policy.window or (p.terms[0], p.terms[-1])
    terms = list(p.terms)
    return (n, terms.index(st.window_start or default[0]),
            terms.index(st.window_end or default[1]))


def _ranks(st: Any) -> dict[str, int]:
    """The student's list as workstation -> rank, tied choices sharing one (read here, not
    from the model's helpers)."""
    if st.preference_ranks:
        return dict(zip(st.preferences, st.preference_ranks, strict=False))
    return {w: r for r, w in enumerate(st.preferences, start=1)}


def _row_terms(row: Mapping[str, str], terms: list[str]) -> list[int] | Message:
    """The term indices of a row's practice (its ``terms`` column, else start..end), or why
    they cannot be read."""
    listed = [t.strip() for t in (row.get("terms") or "").split(";") if t.strip()]
    start, end = str(row.get("start_term")), str(row.get("end_term"))
    if not listed:
        if row.get("start_term") not in terms or row.get("end_term") not in terms:
            return msg("check.terms_unknown_span", start=start, end=end)
        return list(range(terms.index(row["start_term"]), terms.index(row["end_term"]) + 1))
    unknown = [t for t in listed if t not in terms]
    if unknown:
        return msg("check.terms_unknown", term=unknown[0])
    got = [terms.index(t) for t in listed]
    if got != sorted(set(got)):
        return msg("check.terms_order")
    if row.get("start_term") != listed[0] or row.get("end_term") != listed[-1]:
        return msg("check.terms_ends", start=start, end=end, terms=";".join(listed))
    return got


def _row(r: int, sid: str) -> Message:
    """Where a finding about an assignments row is: its number and student."""
    return msg("check.row", row=r, student=sid)


def check(problem: Problem, result: Result | Iterable[Mapping[str, Any]], *,
          claims: Mapping[str, Any] | None = None, stability: bool | str = False
          ) -> CheckReport:
    """Check an allocation against every rule and recompute its objective.

    Parameters
    ----------
    problem
        The problem the allocation is for.
    result
        A :class:`~matcher.model.Result`, or rows with the ``assignments.csv`` columns.
    claims
        With rows: the result's ``summary.json`` content, to check its claimed figures.
    stability
        Also list blocking pairs: ``True`` or ``"feasible"`` by the default definition,
        ``"strict"`` by the old one (see :mod:`matcher.fairness`).

    Returns
    -------
    CheckReport
        Violations (empty when valid), the recomputed objective, blocking pairs if asked.
    """
    p = problem
    definition = definition_of(stability)
    rows = _rows_of(result)
    rep = CheckReport()
    v = rep.issues
    students = {s.student_id: s for s in p.students}
    stations = {w.workstation_id: w for w in p.workstations}
    mentors = {m.mentor_id: m for m in p.mentors}
    sups = {s.supervisor_id: s for s in p.supervisors}
    terms = list(p.terms)
    ws_cap: dict[tuple[str, str], int] = {(w.workstation_id, t): w.capacity
                                          for w in p.workstations for t in terms}
    for tc in p.term_capacities:
        ws_cap[tc.workstation_id, tc.term] = tc.capacity
    longest = max((max(_ranks(s).values()) for s in p.students if s.preferences), default=0)
    vetoes = {(v.student_id, v.workstation_id) for v in p.vetoes}
    segment_months = p.policy.min_segment_months or p.term_months
    shortest_block = math.ceil(segment_months / p.term_months)
    extra_segments = 0
    pair_weight = {(pr.supervisor_id, pr.mentor_id): pr.weight for pr in p.pairs}

    ws_load: Counter[tuple[str, str]] = Counter()
    m_load: Counter[tuple[str, str]] = Counter()
    s_load: Counter[str] = Counter()
    seen: set[str] = set()
    placed_at: dict[str, Held] = {}
    rank_cost = 0
    given: Counter[int] = Counter()  # placed students by the rank they got (K + 1 off-list)
    pairs_total = 0.0
    entity = (msg("entity.workstation"), msg("entity.mentor"), msg("entity.supervisor"))
    for r, row in enumerate(rows, start=1):
        sid = row.get("student_id", "")
        # (the row's label is made only for a finding: a province has 100,000 clean rows)
        st = students.get(sid)
        if st is None:
            v.append(msg("check.unknown_student", where=_row(r, sid), student=sid))
            continue
        if sid in seen:
            v.append(msg("check.placed_twice", where=_row(r, sid)))
            continue
        seen.add(sid)
        wid, mid, spid = row.get("workstation_id", ""), row.get("mentor_id", ""), row.get(
            "supervisor_id", "")
        ws, men, sup = stations.get(wid), mentors.get(mid), sups.get(spid)
        if ws is None or men is None or sup is None:
            missing = [msg("check.named", kind=kind, value=x) for kind, x, obj in (
                (entity[0], wid, ws), (entity[1], mid, men), (entity[2], spid, sup)) if obj is None]
            v.append(msg("check.unknown_ids", where=_row(r, sid), items=missing))
            continue
        held = _row_terms(row, terms)
        if isinstance(held, Message):
            v.append(msg("check.bad_terms", where=_row(r, sid), reason=held))
            continue
        n, first, last = _required_terms(p, st)
        span = f"{row['start_term']}..{row['end_term']}"
        if not held:  # (an end before the start)
            v.append(msg("check.term_count", where=_row(r, sid), span=span, count=0, needed=n))
            continue
        k0, k1 = held[0], held[-1]
        if len(held) != n:
            v.append(msg("check.term_count", where=_row(r, sid), span=span, count=len(held),
                         needed=n))
        if k0 < first or k1 > last:
            v.append(msg("check.outside_window", where=_row(r, sid), span=span,
                         window=f"{terms[first]}..{terms[last]}"))
        blocks = [list(g) for g in _runs(held)]
        allowed = st.max_segments or p.policy.max_segments
        if len(blocks) > allowed:
            v.append(msg("check.too_many_blocks", where=_row(r, sid), span=span, blocks=len(blocks),
                         allowed=allowed))
        elif len(blocks) > 1 and min(len(b) for b in blocks) < shortest_block:
            v.append(msg("check.short_block", where=_row(r, sid), span=span,
                         size=min(len(b) for b in blocks), shortest=shortest_block))
        extra_segments += len(blocks) - 1
        if (sid, wid) in vetoes:
            v.append(msg("check.vetoed", where=_row(r, sid), workstation=wid))
        if men.workstation_id != wid:
            v.append(msg("check.mentor_elsewhere", where=_row(r, sid), mentor=mid,
                         home=men.workstation_id, workstation=wid))
        if sup.university_id != st.university_id:
            v.append(msg("check.supervisor_elsewhere", where=_row(r, sid), supervisor=spid,
                         home=sup.university_id, university=st.university_id))
        for kind, obj, discs in ((entity[0], wid, ws.disciplines),
                                 (entity[1], mid, men.disciplines),
                                 (entity[2], spid, sup.disciplines)):
            if st.discipline not in discs:
                v.append(msg("check.discipline", where=_row(r, sid), kind=kind, value=obj,
                             discipline=st.discipline))
        if ws.partner_universities and st.university_id not in ws.partner_universities:
            v.append(msg("check.partners", where=_row(r, sid), workstation=wid,
                         universities=list(ws.partner_universities)))
        if st.supervisor_id is not None and st.supervisor_id != spid:
            v.append(msg("check.supervisor_replaced", where=_row(r, sid), given=st.supervisor_id,
                         supervisor=spid))
        if p.policy.preferences_only and wid not in st.preferences:
            v.append(msg("check.off_list", where=_row(r, sid), workstation=wid))
        for k in held:
            ws_load[wid, terms[k]] += 1
            m_load[mid, terms[k]] += 1
        s_load[spid] += 1
        placed_at[sid] = Held(wid, mid, spid, k0, k1, tuple(held))
        rank = _ranks(st).get(wid)
        rank_cost += rank if rank is not None else longest + 1
        given[rank if rank is not None else longest + 1] += 1
        claimed_rank = row.get("preference_rank", "")
        if claimed_rank not in ("", "<NA>", "nan", "None", str(rank or "")):
            v.append(msg("check.rank_claim", where=_row(r, sid), claimed=claimed_rank,
                         rank=str(rank) if rank is not None else msg("check.no_rank")))
        if p.objective.pair_weight:
            pairs_total += pair_weight.get((spid, mid), 0.0)

    for (wid, t), used in sorted(ws_load.items()):
        if used > ws_cap[wid, t]:
            v.append(msg("check.workstation_capacity", workstation=wid, used=used, term=t,
                         capacity=ws_cap[wid, t]))
    for (mid, t), used in sorted(m_load.items()):
        if used > mentors[mid].capacity:
            v.append(msg("check.mentor_capacity", mentor=mid, used=used, term=t,
                         capacity=mentors[mid].capacity))
    for spid, used in sorted(s_load.items()):
        if used > sups[spid].capacity:
            v.append(msg("check.supervisor_capacity", supervisor=spid, used=used,
                         capacity=sups[spid].capacity))
    row_of = {r.get("student_id", ""): r for r in rows}
    # An INFEASIBLE result claims that no allocation exists, so it places nobody, locks included.
    claimed_infeasible = _claims_of(result, claims).get("status") == "INFEASIBLE"
    for lk in p.locks:
        got = placed_at.get(lk.student_id)
        if got is None:
            if not claimed_infeasible:
                v.append(msg("check.lock_unplaced", student=lk.student_id))
            continue
        row = row_of[lk.student_id]
        if got.workstation_id != lk.workstation_id:
            v.append(msg("check.lock_workstation", student=lk.student_id,
                         got=got.workstation_id, want=lk.workstation_id))
        if lk.mentor_id is not None and row.get("mentor_id") != lk.mentor_id:
            v.append(msg("check.lock_mentor", student=lk.student_id,
                         got=str(row.get("mentor_id")), want=lk.mentor_id))
        if lk.start_term is not None and row.get("start_term") != lk.start_term:
            v.append(msg("check.lock_start", student=lk.student_id,
                         got=str(row.get("start_term")), want=lk.start_term))

    _check_groups_and_intakes(p, placed_at, v, claimed_infeasible)
    rep.quotas = quota_shares(p, {sid: h.workstation_id for sid, h in placed_at.items()})
    v += [_quota_violation(q) for q in rep.quotas if q.hard and not q.ok
          and not claimed_infeasible]
    rep.placed, rep.rank_cost, rep.pair_weight = len(placed_at), rank_cost, pairs_total
    rep.extra_segments = extra_segments
    rep.rank_profile = [given.get(k, 0) for k in range(1, longest + 2)]
    rep.worst_rank = max(given, default=0)
    _check_claims(rep, _claims_of(result, claims), len(p.students))
    _check_rank_claims(rep, _claims_of(result, claims))
    if definition is not None:
        rep.blocking_pairs = envy(p, placed_at, definition)
        rep.stability = definition
    return rep


def _runs(held: list[int]) -> list[list[int]]:
    """Sorted term indices as runs of consecutive terms."""
    out: list[list[int]] = []
    for t in held:
        if out and out[-1][-1] == t - 1:
            out[-1].append(t)
        else:
            out.append([t])
    return out


def _check_groups_and_intakes(p: Problem, placed_at: dict[str, Held],
                              v: list[Message], claimed_infeasible: bool) -> None:
    """Rules 8 (groups kept together) and 9 (minimum intakes)."""
    members: dict[str, list[str]] = defaultdict(list)
    for g in p.groups:
        members[g.group_id].append(g.student_id)
    for gid, sids in members.items():
        where = {(placed_at[s].workstation_id, placed_at[s].start) for s in sids
                 if s in placed_at}
        placed = [s for s in sids if s in placed_at]
        if placed and len(placed) < len(sids):
            v.append(msg("check.group_split", group=gid, placed=placed,
                         missing=[s for s in sids if s not in placed_at]))
        elif len(where) > 1:
            shown = [msg("check.member_at", student=s, workstation=placed_at[s].workstation_id,
                         term=p.terms[placed_at[s].start]) for s in sids]
            v.append(msg("check.group_apart", group=gid, members=shown))
    count = Counter(h.workstation_id for h in placed_at.values())
    for w in p.workstations:
        got = count.get(w.workstation_id, 0)
        if 0 < got < w.min_intake and not claimed_infeasible:
            v.append(msg("check.min_intake", workstation=w.workstation_id, count=got,
                         minimum=w.min_intake))


def quota_shares(p: Problem, station: Mapping[str, str]) -> list[QuotaShare]:
    """Every quota of ``p.quotas`` measured on an allocation (student id -> workstation id),
    re-derived here from the data: who belongs to the group (the student's university, its
    discipline, or its university's city) and who is counted (placed at the quota's
    workstation, or anywhere)."""
    out: list[QuotaShare] = []
    students = {s.student_id: s for s in p.students}
    city = {u.university_id: (u.city or "").strip() for u in p.universities}
    for r, q in enumerate(p.quotas, start=1):
        counted = [students[sid] for sid, wid in station.items()
                   if q.workstation_id is None or wid == q.workstation_id]
        if q.selector == "university_id":
            count = sum(1 for s in counted if s.university_id == q.value)
        elif q.selector == "discipline":
            count = sum(1 for s in counted if s.discipline == q.value)
        else:
            count = sum(1 for s in counted if city.get(s.university_id) == q.value)
        total = len(counted)
        short = 0.0
        if q.min_count is not None:
            short += max(0, q.min_count - count)
        if q.max_count is not None:
            short += max(0, count - q.max_count)
        # shares compared exactly as fractions of the typed number (0.3 * 10 is 3, not 3.0000x)
        for bound, sign in ((q.min_share, 1), (q.max_share, -1)):
            if bound is not None:
                target = Fraction(str(bound)).limit_denominator(10_000) * total
                short += float(max(Fraction(0), sign * (target - count)))
        out.append(QuotaShare(r, q.workstation_id, q.selector, q.value, count, total,
                              q.min_share, q.max_share, q.min_count, q.max_count, q.hard,
                              short))
    return out


def _quota_violation(q: QuotaShare) -> Message:
    """Rule 10's finding for a broken hard quota: the figures and the bounds."""
    bounds = ", ".join(f"{name} {val:.4g}" if isinstance(val, float) else f"{name} {val}"
                       for name, val in (("min_share", q.min_share), ("max_share", q.max_share),
                                         ("min_count", q.min_count), ("max_count", q.max_count))
                       if val is not None)
    return msg("quotas.check_broken", row=q.row,
               where=q.workstation_id or msg("quotas.everywhere"), selector=q.selector,
               value=q.value, count=q.count, total=q.total,
               share="-" if q.share is None else f"{q.share:.1%}", bounds=bounds,
               short=f"{q.shortfall:.4g}")


def _check_claims(rep: CheckReport, claims: Mapping[str, Any], n_students: int) -> None:
    """The figures a result claims must match the recomputed ones and respect its bounds."""
    v = rep.issues
    status = claims.get("status")
    if status == "INFEASIBLE" and rep.placed:
        v.append(msg("check.claim_infeasible"))
    # Figures as text: a claim may hold any JSON value, and the English line has always shown
    # them as Python prints them (no digit grouping).
    for key, actual in (("placed", rep.placed), ("rank_cost", rep.rank_cost)):
        if key in claims and claims[key] is not None and claims[key] != actual:
            v.append(msg("check.claim_figure", key=key, claimed=str(claims[key]),
                         actual=str(actual)))
    if "pair_weight" in claims and claims["pair_weight"] is not None and not math.isclose(
            float(claims["pair_weight"]), rep.pair_weight, abs_tol=0.01):
        v.append(msg("check.claim_figure", key="pair_weight", claimed=str(claims["pair_weight"]),
                     actual=str(rep.pair_weight)))
    if "unassigned" in claims and claims["unassigned"] is not None and status != "INFEASIBLE" \
            and claims["unassigned"] != n_students - rep.placed:
        v.append(msg("check.claim_unassigned", claimed=str(claims["unassigned"]),
                     actual=str(n_students - rep.placed)))
    for got, claimed in zip(rep.quotas, claims.get("quotas") or (), strict=False):
        if isinstance(claimed, dict) and (claimed.get("count"), claimed.get("total")) != (
                got.count, got.total):
            v.append(msg("quotas.claim", row=got.row, claimed=f"{claimed.get('count')}/"
                         f"{claimed.get('total')}", actual=f"{got.count}/{got.total}"))
    ub = claims.get("placed_upper_bound")
    if ub is not None and rep.placed > ub:
        v.append(msg("check.claim_above_bound", placed=str(rep.placed), bound=str(ub)))
    lb = claims.get("rank_cost_lower_bound")
    if lb is not None and rep.rank_cost < lb:
        v.append(msg("check.claim_below_bound", cost=str(rep.rank_cost), bound=str(lb)))
    if status == "OPTIMAL" and ub is not None and rep.placed != ub:
        v.append(msg("check.claim_optimal_placed", placed=str(rep.placed), bound=str(ub)))
    if status == "OPTIMAL" and lb is not None and rep.rank_cost != lb:
        v.append(msg("check.claim_optimal_rank", cost=str(rep.rank_cost), bound=str(lb)))


def _check_rank_claims(rep: CheckReport, claims: Mapping[str, Any]) -> None:
    """Level 2 in its chosen form (``stats.rank_objective``, issue 29): the claimed profile,
    worst rank and rank sum must be the recomputed ones, within the claimed bounds, and a
    result may say OPTIMAL only when that level is proven."""
    stats = claims.get("stats")
    block = stats.get("rank_objective") if isinstance(stats, Mapping) else None
    if not isinstance(block, Mapping):
        return
    v = rep.issues
    kind = block.get("form")
    if kind not in ("profile", "minimax"):
        v.append(msg("objectives.claim_form", form=str(kind)))
        return
    for key, actual in (("profile", rep.rank_profile), ("worst_rank", rep.worst_rank),
                        ("rank_sum", rep.rank_cost)):
        if key in block and block[key] != actual:
            v.append(msg("objectives.claim_value", key=key, claimed=str(block[key]),
                         actual=str(actual)))
    first = rep.rank_profile[0] if rep.rank_profile else 0
    ub = block.get("first_choices_upper_bound")
    if kind == "profile" and isinstance(ub, int) and first > ub:
        v.append(msg("objectives.claim_first_bound", first=str(first), bound=str(ub)))
    lb = block.get("worst_rank_lower_bound")
    if kind == "minimax" and isinstance(lb, int) and rep.worst_rank < lb:
        v.append(msg("objectives.claim_worst_bound", worst=str(rep.worst_rank), bound=str(lb)))
    if kind == "profile" and isinstance(block.get("level_bounds"), list):
        _check_rank_levels(rep, block, v)
    if claims.get("status") == "OPTIMAL" and block.get("proven") is not True:
        v.append(msg("objectives.claim_optimal", form=kind))


def _check_rank_levels(rep: CheckReport, block: Mapping[str, Any], v: list[Message]) -> None:
    """The profile claimed rank by rank (``level_bounds``, ``levels_proven``): each rank's count
    of placed students above it must be the recomputed one, never below its claimed least, and
    a rank claimed proven must meet that least (as must every rank before it)."""
    above, placed = [], sum(rep.rank_profile)
    for n in rep.rank_profile[:-1]:
        placed -= n
        above.append(placed)  # #(rank > r) for r = 1, 2, ...
    upto = block.get("levels_proven")
    for entry in block["level_bounds"]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("rank"), int):
            continue
        r, least = entry["rank"], entry.get("above_at_least")
        actual = above[r - 1] if 1 <= r <= len(above) else 0
        wrong = entry.get("above") != actual or (isinstance(least, int) and actual < least) or (
            isinstance(upto, int) and r <= upto and least != actual)
        if wrong:
            v.append(msg("objectives.claim_level", rank=str(r), actual=str(actual),
                         claimed=str(entry.get("above")), least=str(least)))


def blocking_pairs(problem: Problem, result: Result | Iterable[Mapping[str, Any]],
                   definition: str = FEASIBLE) -> list[tuple[str, str]]:
    """Blocking pairs (justified envy) of an allocation.

    By default (``"feasible"``) a student and a workstation on its list above its placement
    block when the workstation could take the student: a block of terms in the student's
    window and a mentor of the discipline with, in every term, a free place or a holder
    (mentee) the workstation ranks below the student, and a supervisor for the student.
    ``"strict"`` is the old definition (workstation places only). The definition is written
    out in :mod:`matcher.fairness`.

    Returns
    -------
    list of (student_id, workstation_id)
    """
    rep = check(problem, result, stability=definition)
    return rep.blocking_pairs or []


def check_result_dir(problem: Problem, result_dir: str | os.PathLike[str], *,
                     stability: bool | str = False) -> CheckReport:
    """Check a result folder written by :func:`matcher.write_result`.

    Raises
    ------
    ScenarioError
        When the folder lacks ``assignments.csv`` or a required column, or a file cannot be
        read (:mod:`matcher.formats.resultdir`).
    """
    rows = read_assignments(result_dir)
    claims = read_summary(result_dir, required=False)
    rep = check(problem, rows, claims=claims, stability=stability)
    if (Path(result_dir) / UNASSIGNED).is_file():
        listed = {sid for sid, _reason in read_unassigned(result_dir)}
        placed = {r.get("student_id", "") for r in rows}
        missing = sorted({s.student_id for s in problem.students} - placed - listed)
        for sid in missing[:20]:
            rep.issues.append(msg("check.not_listed", student=sid))
        both = sorted(placed & listed)
        for sid in both[:20]:
            rep.issues.append(msg("check.listed_twice", student=sid))
    return rep
