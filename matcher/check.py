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
9. minimum intakes: a workstation takes no student or at least its ``min_intake``.

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
from pathlib import Path
from typing import Any

from .fairness import FEASIBLE, Held, definition_of
from .fairness import blocking_pairs as envy
from .formats.resultdir import UNASSIGNED, read_assignments, read_summary, read_unassigned
from .model import Problem, Result


@dataclass
class CheckReport:
    """What the checker found.

    Attributes
    ----------
    violations
        One line per broken rule or false claim; empty when the result is valid.
    placed, rank_cost, extra_segments, pair_weight
        The objective levels recomputed from the data (``extra_segments``: blocks beyond the
        first, summed over the students).
    blocking_pairs
        ``(student_id, workstation_id)`` pairs with justified envy, when asked for.
    stability
        The definition the blocking pairs follow (:data:`matcher.fairness.DEFINITIONS`), or
        None when they were not asked for.
    """

    violations: list[str] = field(default_factory=list)
    placed: int = 0
    rank_cost: int = 0
    extra_segments: int = 0
    pair_weight: float = 0.0
    blocking_pairs: list[tuple[str, str]] | None = None
    stability: str | None = None

    @property
    def ok(self) -> bool:
        """True when no rule is broken and every claim holds."""
        return not self.violations


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


def _row_terms(row: Mapping[str, str], terms: list[str]) -> list[int] | str:
    """The term indices of a row's practice (its ``terms`` column, else start..end), or why
    they cannot be read."""
    listed = [t.strip() for t in (row.get("terms") or "").split(";") if t.strip()]
    if not listed:
        if row.get("start_term") not in terms or row.get("end_term") not in terms:
            return f"unknown term '{row.get('start_term')}'..'{row.get('end_term')}'"
        return list(range(terms.index(row["start_term"]), terms.index(row["end_term"]) + 1))
    unknown = [t for t in listed if t not in terms]
    if unknown:
        return f"unknown term '{unknown[0]}' in terms"
    got = [terms.index(t) for t in listed]
    if got != sorted(set(got)):
        return "terms are not in calendar order or repeat a term"
    if row.get("start_term") != listed[0] or row.get("end_term") != listed[-1]:
        return (f"start_term/end_term {row.get('start_term')}..{row.get('end_term')} are not "
                f"the first and last of terms {';'.join(listed)}")
    return got


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
    v = rep.violations
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
    pairs_total = 0.0
    for r, row in enumerate(rows, start=1):
        sid = row.get("student_id", "")
        where = f"assignment row {r} ({sid})"
        st = students.get(sid)
        if st is None:
            v.append(f"{where}: unknown student")
            continue
        if sid in seen:
            v.append(f"rule 1: {where}: student placed more than once")
            continue
        seen.add(sid)
        wid, mid, spid = row.get("workstation_id", ""), row.get("mentor_id", ""), row.get(
            "supervisor_id", "")
        ws, men, sup = stations.get(wid), mentors.get(mid), sups.get(spid)
        if ws is None or men is None or sup is None:
            missing = [f"{kind} '{x}'" for kind, x, obj in (("workstation", wid, ws),
                       ("mentor", mid, men), ("supervisor", spid, sup)) if obj is None]
            v.append(f"rule 1: {where}: unknown {', '.join(missing)}")
            continue
        held = _row_terms(row, terms)
        if isinstance(held, str):
            v.append(f"rule 1: {where}: {held}")
            continue
        n, first, last = _required_terms(p, st)
        span = f"{row['start_term']}..{row['end_term']}"
        if not held:  # (an end before the start)
            v.append(f"rule 1: {where}: practice {span} has 0 term(s), the student needs {n}")
            continue
        k0, k1 = held[0], held[-1]
        if len(held) != n:
            v.append(f"rule 1: {where}: practice {span} has {len(held)} term(s), the student "
                     f"needs {n}")
        if k0 < first or k1 > last:
            v.append(f"rule 1: {where}: practice {span} leaves the window "
                     f"{terms[first]}..{terms[last]}")
        blocks = [list(g) for g in _runs(held)]
        allowed = st.max_segments or p.policy.max_segments
        if len(blocks) > allowed:
            v.append(f"rule 1: {where}: practice {span} is split into {len(blocks)} blocks, "
                     f"the student may have {allowed}")
        elif len(blocks) > 1 and min(len(b) for b in blocks) < shortest_block:
            v.append(f"rule 1: {where}: practice {span} has a block of "
                     f"{min(len(b) for b in blocks)} term(s), shorter than min_segment_months "
                     f"({shortest_block} term(s))")
        extra_segments += len(blocks) - 1
        if (sid, wid) in vetoes:
            v.append(f"rule 7: {where}: placed at {wid}, which vetoes.csv forbids")
        if men.workstation_id != wid:
            v.append(f"rule 1: {where}: mentor {mid} works at {men.workstation_id}, not {wid}")
        if sup.university_id != st.university_id:
            v.append(f"rule 1: {where}: supervisor {spid} is at {sup.university_id}, the "
                     f"student at {st.university_id}")
        for kind, obj, discs in (("workstation", wid, ws.disciplines),
                                 ("mentor", mid, men.disciplines),
                                 ("supervisor", spid, sup.disciplines)):
            if st.discipline not in discs:
                v.append(f"rule 2: {where}: {kind} {obj} does not take discipline "
                         f"{st.discipline}")
        if ws.partner_universities and st.university_id not in ws.partner_universities:
            v.append(f"rule 3: {where}: {wid} takes only {', '.join(ws.partner_universities)}")
        if st.supervisor_id is not None and st.supervisor_id != spid:
            v.append(f"rule 4: {where}: given supervisor {st.supervisor_id} replaced by {spid}")
        if p.policy.preferences_only and wid not in st.preferences:
            v.append(f"rule 6: {where}: {wid} is not on the student's list (preferences_only)")
        for k in held:
            ws_load[wid, terms[k]] += 1
            m_load[mid, terms[k]] += 1
        s_load[spid] += 1
        placed_at[sid] = Held(wid, mid, spid, k0, k1, tuple(held))
        rank = _ranks(st).get(wid)
        rank_cost += rank if rank is not None else longest + 1
        claimed_rank = row.get("preference_rank", "")
        if claimed_rank not in ("", "<NA>", "nan", "None", str(rank or "")):
            v.append(f"{where}: preference_rank says {claimed_rank}, the list gives "
                     f"{rank if rank is not None else 'none'}")
        if p.objective.pair_weight:
            pairs_total += pair_weight.get((spid, mid), 0.0)

    for (wid, t), used in sorted(ws_load.items()):
        if used > ws_cap[wid, t]:
            v.append(f"rule 5: workstation {wid} holds {used} students in {t}, capacity "
                     f"{ws_cap[wid, t]}")
    for (mid, t), used in sorted(m_load.items()):
        if used > mentors[mid].capacity:
            v.append(f"rule 5: mentor {mid} holds {used} students in {t}, capacity "
                     f"{mentors[mid].capacity}")
    for spid, used in sorted(s_load.items()):
        if used > sups[spid].capacity:
            v.append(f"rule 5: supervisor {spid} holds {used} students, capacity "
                     f"{sups[spid].capacity}")
    row_of = {r.get("student_id", ""): r for r in rows}
    # An INFEASIBLE result claims that no allocation exists, so it places nobody, locks included.
    claimed_infeasible = _claims_of(result, claims).get("status") == "INFEASIBLE"
    for lk in p.locks:
        got = placed_at.get(lk.student_id)
        if got is None:
            if not claimed_infeasible:
                v.append(f"rule 6: locked student {lk.student_id} is not placed")
            continue
        row = row_of[lk.student_id]
        if got.workstation_id != lk.workstation_id:
            v.append(f"rule 6: locked student {lk.student_id} is at {got.workstation_id}, "
                     f"lock says {lk.workstation_id}")
        if lk.mentor_id is not None and row.get("mentor_id") != lk.mentor_id:
            v.append(f"rule 6: locked student {lk.student_id} has mentor "
                     f"{row.get('mentor_id')}, lock says {lk.mentor_id}")
        if lk.start_term is not None and row.get("start_term") != lk.start_term:
            v.append(f"rule 6: locked student {lk.student_id} starts {row.get('start_term')}, "
                     f"lock says {lk.start_term}")

    _check_groups_and_intakes(p, placed_at, v, claimed_infeasible)
    rep.placed, rep.rank_cost, rep.pair_weight = len(placed_at), rank_cost, pairs_total
    rep.extra_segments = extra_segments
    _check_claims(rep, _claims_of(result, claims), len(p.students))
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
                              v: list[str], claimed_infeasible: bool) -> None:
    """Rules 8 (groups kept together) and 9 (minimum intakes)."""
    members: dict[str, list[str]] = defaultdict(list)
    for g in p.groups:
        members[g.group_id].append(g.student_id)
    for gid, sids in members.items():
        where = {(placed_at[s].workstation_id, placed_at[s].start) for s in sids
                 if s in placed_at}
        placed = [s for s in sids if s in placed_at]
        if placed and len(placed) < len(sids):
            v.append(f"rule 8: group {gid}: {', '.join(placed)} placed but "
                     f"{', '.join(s for s in sids if s not in placed_at)} not; a group is "
                     "placed together or not at all")
        elif len(where) > 1:
            shown = ", ".join(f"{s} at {placed_at[s].workstation_id} from "
                              f"{p.terms[placed_at[s].start]}" for s in sids)
            v.append(f"rule 8: group {gid} is not together: {shown}")
    count = Counter(h.workstation_id for h in placed_at.values())
    for w in p.workstations:
        got = count.get(w.workstation_id, 0)
        if 0 < got < w.min_intake and not claimed_infeasible:
            v.append(f"rule 9: workstation {w.workstation_id} takes {got} student(s), below its "
                     f"minimum intake {w.min_intake}")


def _check_claims(rep: CheckReport, claims: Mapping[str, Any], n_students: int) -> None:
    """The figures a result claims must match the recomputed ones and respect its bounds."""
    v = rep.violations
    status = claims.get("status")
    if status == "INFEASIBLE" and rep.placed:
        v.append("claim: status INFEASIBLE but the result places students")
    for key, actual in (("placed", rep.placed), ("rank_cost", rep.rank_cost)):
        if key in claims and claims[key] is not None and claims[key] != actual:
            v.append(f"claim: summary says {key} = {claims[key]}, recomputed {actual}")
    if "pair_weight" in claims and claims["pair_weight"] is not None and not math.isclose(
            float(claims["pair_weight"]), rep.pair_weight, abs_tol=0.01):
        v.append(f"claim: summary says pair_weight = {claims['pair_weight']}, recomputed "
                 f"{rep.pair_weight}")
    if "unassigned" in claims and claims["unassigned"] is not None and status != "INFEASIBLE" \
            and claims["unassigned"] != n_students - rep.placed:
        v.append(f"claim: summary says {claims['unassigned']} unassigned, recomputed "
                 f"{n_students - rep.placed}")
    ub = claims.get("placed_upper_bound")
    if ub is not None and rep.placed > ub:
        v.append(f"claim: placed {rep.placed} exceeds the claimed upper bound {ub}")
    lb = claims.get("rank_cost_lower_bound")
    if lb is not None and rep.rank_cost < lb:
        v.append(f"claim: rank cost {rep.rank_cost} is below the claimed lower bound {lb}")
    if status == "OPTIMAL" and ub is not None and rep.placed != ub:
        v.append(f"claim: OPTIMAL but placed {rep.placed} differs from the proven bound {ub}")
    if status == "OPTIMAL" and lb is not None and rep.rank_cost != lb:
        v.append(f"claim: OPTIMAL but rank cost {rep.rank_cost} differs from the bound {lb}")


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
            rep.violations.append(f"student {sid} is neither placed nor listed in "
                                  "unassigned.csv")
        both = sorted(placed & listed)
        for sid in both[:20]:
            rep.violations.append(f"student {sid} is both placed and listed as unassigned")
    return rep
