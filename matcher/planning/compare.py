"""Compare allocations: KPIs side by side and who moves where.

:func:`compare` takes two or more results (folders written by ``matcher solve``, or
:class:`~matcher.model.Result` objects), each with the scenario it was solved from when known,
and gives

* a KPI table, one column per result (and ``delta:<label>`` columns against the first): students,
  placed and the placed share, overall and by discipline, university and the university's city;
  first-choice and top-3 shares of the placed and how many got each choice; rank cost; pair
  weight; places used and capacity per term; unused places in the practice window; blocking
  pairs; rule violations;
* the student-level differences of every later result against the first (the baseline), one
  row per student whose placement differs, with the most telling change: ``new`` (only in the
  later result's cohort), ``gone``, ``placed`` (was unplaced), ``unplaced``, ``moved`` (another
  workstation), ``retimed`` (same workstation, other terms), ``mentor``, ``supervisor``.

KPIs are recomputed from the rows and the scenario (with :func:`matcher.check.check`), not taken
from ``summary.json``; without a scenario only the figures the result folder holds are given.
:func:`write_comparison` writes the tables as CSV plus a self-contained ``report.md`` and
``report.html`` (:class:`matcher.reports.pages.Page`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..check import check
from ..formats.escape import escape_frame
from ..formats.output import Input
from ..formats.resultdir import (
    atomic_folder,
    read_assignments,
    read_summary,
    read_unassigned,
    result_folder,
)
from ..messages import Lang, Location, Message, label, msg
from ..model import Problem, Result, ScenarioError
from ..model.capacity import capacity_by_term, policy_window
from ..reports.pages import Page, column_label, is_number, word
from ..reports.words import status_text

__all__ = ["CHANGES", "Comparison", "ResultView", "compare", "kpis", "moves", "read_view",
           "view_of", "write_comparison"]

CHANGES = ("new", "gone", "placed", "unplaced", "moved", "retimed", "mentor", "supervisor")
"""Kinds of student-level change, most telling first."""

_MOVE_FIELDS = ("workstation_id", "start_term", "end_term", "mentor_id", "supervisor_id",
                "preference_rank")


# ---- results as plain rows ----------------------------------------------------------------------
@dataclass(frozen=True)
class ResultView:
    """An allocation as plain rows, from a folder or from a :class:`Result`.

    Attributes
    ----------
    label
        Column name in the tables.
    source
        The folder, or ``"(in memory)"``.
    rows
        ``assignments.csv`` rows (strings), in file order.
    unassigned
        Student ids listed in ``unassigned.csv``.
    summary
        ``summary.json`` (empty when absent).
    """

    label: str
    source: str
    rows: tuple[dict[str, str], ...]
    unassigned: tuple[str, ...]
    summary: Mapping[str, Any] = field(default_factory=dict)

    @property
    def placements(self) -> dict[str, dict[str, str]]:
        """student_id -> assignment row."""
        return {r.get("student_id", ""): r for r in self.rows}


def read_view(path: str | os.PathLike[str], label: str | None = None) -> ResultView:
    """Read a result folder written by ``matcher solve`` (through
    :mod:`matcher.formats.resultdir`; ``summary.json`` may be absent).

    Raises
    ------
    ScenarioError
        Not a folder, no ``assignments.csv``, a missing column, unreadable files.
    """
    folder = result_folder(path)
    rows = read_assignments(folder)
    unassigned = tuple(sid for sid, _reason in read_unassigned(folder))
    summary = read_summary(folder, required=False)
    return ResultView(label or folder.name, str(folder), tuple(rows), unassigned, summary)


def view_of(result: Result, label: str) -> ResultView:
    """A :class:`Result` as a :class:`ResultView`."""
    rows = tuple(p.row() for p in result.placements)
    return ResultView(label, "(in memory)", rows, tuple(s for s, _ in result.unassigned),
                      result.summary())


# ---- KPIs ---------------------------------------------------------------------------------------
def _share(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def kpis(view: ResultView, problem: Problem | None) -> dict[str, Any]:
    """The KPIs of one allocation, in display order (see the module docstring).

    Keys: ``students, placed, placed_share, unassigned, first_choice_share, top3_share``,
    the rank distribution of the placed ``rank[1], rank[2], rank[3], rank[4+],
    rank[off_list]`` (with a problem), ``rank_cost``, level 2 in its form when it is not the
    sum (``rank_objective[profile]``: the counts by rank, best first, then off-list, as
    ``3/2/0``; ``rank_objective[minimax]``: the worst rank; and ``worst_rank``), ``pair_weight,
    blocking_pairs, violations,
    capacity_places, used_places, unused_places, use_share``, then ``used[<term>]`` and
    ``capacity[<term>]`` per term, then ``placed_share[discipline=..]``, ``[university=..]``,
    ``[city=..]``. Without a problem only the first six and ``rank_cost, pair_weight`` (as far
    as the folder tells) are given.
    """
    placed_rows = view.placements
    out: dict[str, Any] = {}
    if problem is None:
        students = set(placed_rows) | set(view.unassigned)
        ranks = [r.get("preference_rank", "") for r in placed_rows.values()]
        out["students"] = len(students)
        out["placed"] = len(placed_rows)
        out["placed_share"] = _share(len(placed_rows), len(students))
        out["unassigned"] = len(students) - len(placed_rows)
        out["first_choice_share"] = _share(sum(r == "1" for r in ranks), len(ranks))
        out["top3_share"] = _share(sum(r in ("1", "2", "3") for r in ranks), len(ranks))
        out["rank_cost"] = view.summary.get("rank_cost")
        out["pair_weight"] = view.summary.get("pair_weight")
        return out
    rep = check(problem, list(view.rows), claims=view.summary, stability=True)
    by_id = {s.student_id: s for s in problem.students}
    ranks_i: list[int | None] = []
    for sid, r in placed_rows.items():
        st = by_id.get(sid)
        wid = r.get("workstation_id", "")
        ranks_i.append(st.ranks.get(wid) if st is not None else None)  # (ties share a rank)
    n = len(problem.students)
    placed = [sid for sid in placed_rows if sid in by_id]
    out["students"] = n
    out["placed"] = len(placed)
    out["placed_share"] = _share(len(placed), n)
    out["unassigned"] = n - len(placed)
    out["first_choice_share"] = _share(sum(r == 1 for r in ranks_i), len(ranks_i))
    out["top3_share"] = _share(sum(r is not None and r <= 3 for r in ranks_i), len(ranks_i))
    # The rank distribution (how many got their first, second, ... choice): what an office
    # weighs when one rule (score first) places fewer students than another (the objective).
    for which, hit in (("1", lambda r: r == 1), ("2", lambda r: r == 2), ("3", lambda r: r == 3),
                       ("4+", lambda r: r is not None and r >= 4),
                       ("off_list", lambda r: r is None)):
        out[f"rank[{which}]"] = sum(1 for r in ranks_i if hit(r))
    out["rank_cost"] = rep.rank_cost
    # Level 2 in its chosen form (issue 29), when it is not the sum: the value it optimised
    # (the profile, best first, then off-list; or the worst rank) beside the distribution.
    stats = view.summary.get("stats")
    block = stats.get("rank_objective") if isinstance(stats, Mapping) else None
    form = block.get("form") if isinstance(block, Mapping) else problem.objective.rank
    if form == "profile":
        out["rank_objective[profile]"] = "/".join(map(str, rep.rank_profile))
    elif form == "minimax":
        out["rank_objective[minimax]"] = rep.worst_rank
    if form in ("profile", "minimax"):
        out["worst_rank"] = rep.worst_rank
    out["pair_weight"] = round(rep.pair_weight, 6)
    out["blocking_pairs"] = len(rep.blocking_pairs or ())
    out["violations"] = len(rep.violations)

    cap = capacity_by_term(problem)
    used: Counter[tuple[str, str]] = Counter()
    tix = problem.term_index
    for r in placed_rows.values():
        a, b = r.get("start_term", ""), r.get("end_term", "")
        if a in tix and b in tix:
            for k in range(tix[a], tix[b] + 1):
                used[r.get("workstation_id", ""), problem.terms[k]] += 1
    window = policy_window(problem)
    shown = [t for t in problem.terms
             if t in window or any(used[w.workstation_id, t] for w in problem.workstations)]
    per_term_cap = {t: sum(cap[w.workstation_id, t] for w in problem.workstations)
                    for t in problem.terms}
    per_term_used = {t: sum(used[w.workstation_id, t] for w in problem.workstations)
                     for t in problem.terms}
    capacity = sum(per_term_cap[t] for t in window)
    used_total = sum(per_term_used[t] for t in window)
    out["capacity_places"] = capacity
    out["used_places"] = used_total
    out["unused_places"] = sum(max(cap[w.workstation_id, t] - used[w.workstation_id, t], 0)
                               for w in problem.workstations for t in window)
    out["use_share"] = _share(used_total, capacity)
    for t in shown:
        out[f"used[{t}]"] = per_term_used[t]
        out[f"capacity[{t}]"] = per_term_cap[t]

    city = {u.university_id: u.city for u in problem.universities if u.city}
    groups: dict[str, Counter[str]] = {"discipline": Counter(), "university": Counter(),
                                       "city": Counter()}
    hits: dict[str, Counter[str]] = {k: Counter() for k in groups}
    placed_set = set(placed)
    for st in problem.students:
        keys = {"discipline": st.discipline, "university": st.university_id,
                "city": city.get(st.university_id)}
        for g, key in keys.items():
            if key is None:
                continue
            groups[g][key] += 1
            hits[g][key] += st.student_id in placed_set
    for g, counts in groups.items():
        for key in sorted(counts):
            out[f"placed_share[{g}={key}]"] = _share(hits[g][key], counts[key])
    return out


# ---- student-level differences -----------------------------------------------------------------
def _student_ids(view: ResultView, problem: Problem | None) -> set[str]:
    if problem is not None:
        return {s.student_id for s in problem.students}
    return set(view.placements) | set(view.unassigned)


def moves(a: ResultView, b: ResultView, problem_a: Problem | None = None,
          problem_b: Problem | None = None) -> list[dict[str, str]]:
    """Students whose placement differs between ``a`` (the baseline) and ``b``.

    Returns
    -------
    list of dict
        One row per changed student, sorted by student id: ``result`` (b's label),
        ``student_id``, ``change`` (see :data:`CHANGES`), then ``<field>_a`` and ``<field>_b``
        for workstation, start and end term, mentor, supervisor and preference rank (empty
        when unplaced).
    """
    pa, pb = a.placements, b.placements
    in_a, in_b = _student_ids(a, problem_a), _student_ids(b, problem_b)
    out = []
    for sid in sorted(in_a | in_b):
        ra, rb = pa.get(sid), pb.get(sid)
        if sid not in in_a:
            change = "new"
        elif sid not in in_b:
            change = "gone"
        elif ra is None and rb is None:
            continue
        elif ra is None:
            change = "placed"
        elif rb is None:
            change = "unplaced"
        elif ra.get("workstation_id") != rb.get("workstation_id"):
            change = "moved"
        elif (ra.get("start_term"), ra.get("end_term")) != (rb.get("start_term"),
                                                            rb.get("end_term")):
            change = "retimed"
        elif ra.get("mentor_id") != rb.get("mentor_id"):
            change = "mentor"
        elif ra.get("supervisor_id") != rb.get("supervisor_id"):
            change = "supervisor"
        else:
            continue
        row = {"result": b.label, "student_id": sid, "change": change}
        for f in _MOVE_FIELDS:
            row[f"{f}_a"] = (ra or {}).get(f, "")
            row[f"{f}_b"] = (rb or {}).get(f, "")
        out.append(row)
    return out


# ---- the comparison -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` found.

    Attributes
    ----------
    views
        The results, baseline first.
    kpis
        One row per KPI: ``kpi``, one column per result label, ``delta:<label>`` per later
        result (numeric KPIs).
    moves
        Student-level differences against the baseline (see :func:`moves`).
    changes
        Counts: ``result, change, students``.
    notes
        Things worth reading (mismatched inputs), as messages (``plan.compare.*``): the page
        and the web page word them in their language (``note.text(lang)``).
    """

    views: tuple[ResultView, ...]
    kpis: pd.DataFrame
    moves: pd.DataFrame
    changes: pd.DataFrame
    notes: tuple[Message, ...] = ()


def _labels(views: Sequence[ResultView]) -> list[ResultView]:
    """Make labels unique: the folder name, else the path, else a numbered suffix."""
    names = [v.label for v in views]
    out = []
    for k, v in enumerate(views):
        label = v.label
        if names.count(label) > 1:
            label = v.source
        if [x.source if names.count(x.label) > 1 else x.label for x in views].count(label) > 1:
            label = f"{label}#{k + 1}"
        out.append(ResultView(label, v.source, v.rows, v.unassigned, v.summary))
    return out


def compare(views: Sequence[ResultView], problems: Sequence[Problem | None]) -> Comparison:
    """Compare allocations; the first is the baseline.

    Parameters
    ----------
    views
        Two or more results.
    problems
        The scenario of each result (None where unknown), same length as ``views``.

    Raises
    ------
    ValueError
        Fewer than two results, or ``problems`` of another length.
    ScenarioError
        A result that names students, workstations, mentors or supervisors its scenario does
        not have (the wrong scenario was given).
    """
    if len(views) < 2:
        raise ValueError("compare needs at least two results")
    if len(problems) != len(views):
        raise ValueError("give one problem (or None) per result")
    views = _labels(views)
    notes: list[Message] = []
    table: list[dict[str, Any]] = []
    for v, p in zip(views, problems, strict=True):
        if p is not None:
            _fits(v, p)
            digest = v.summary.get("input_sha256")
            if digest and p.input_sha256 and digest != p.input_sha256:
                notes.append(msg("plan.compare.other_input", severity="note", result=v.label))
        table.append(kpis(v, p))
    keys: list[str] = []
    for t in table:
        keys += [k for k in t if k not in keys]
    rows = []
    for k in keys:
        row: dict[str, Any] = {"kpi": k}
        for v, t in zip(views, table, strict=True):
            row[v.label] = t.get(k)
        for v, t in zip(views[1:], table[1:], strict=True):
            a: Any = table[0].get(k)
            b: Any = t.get(k)
            row[f"delta:{v.label}"] = round(b - a, 6) if is_number(a) and is_number(b) else None
        rows.append(row)
    kpi_frame = pd.DataFrame(rows, columns=["kpi", *(v.label for v in views),
                                            *(f"delta:{v.label}" for v in views[1:])],
                             dtype=object)  # object: whole numbers stay whole in the CSV
    move_rows: list[dict[str, str]] = []
    for v, p in zip(views[1:], problems[1:], strict=True):
        move_rows += moves(views[0], v, problems[0], p)
    columns = ["result", "student_id", "change", *(f"{f}_{s}" for f in _MOVE_FIELDS
                                                   for s in "ab")]
    move_frame = pd.DataFrame(move_rows, columns=columns)
    counts = [{"result": v.label, "change": c,
               "students": sum(1 for r in move_rows if r["result"] == v.label
                               and r["change"] == c)}
              for v in views[1:] for c in CHANGES]
    return Comparison(tuple(views), kpi_frame, move_frame, pd.DataFrame(counts), tuple(notes))


def _fits(view: ResultView, problem: Problem) -> None:
    """Refuse a result whose rows name things its scenario does not have."""
    known = {
        "student_id": {s.student_id for s in problem.students},
        "workstation_id": {w.workstation_id for w in problem.workstations},
        "mentor_id": {m.mentor_id for m in problem.mentors},
        "supervisor_id": {s.supervisor_id for s in problem.supervisors},
        "start_term": set(problem.terms), "end_term": set(problem.terms),
    }
    for r, row in enumerate(view.rows, start=1):
        for col, ids in known.items():
            if row.get(col, "") not in ids:
                raise ScenarioError([msg(
                    "plan.compare.not_in_scenario",
                    at=Location(file=f"{view.source}/assignments.csv", row=r, field=col),
                    value=str(row.get(col, "")), result=view.label, scenario=problem.name)])


MOVES_SHOWN = 200


def write_comparison(comparison: Comparison, out: str | os.PathLike[str], *,
                     force: bool = False, inputs: Iterable[Input] = (),
                     lang: Lang = "en") -> Path:
    """Write ``kpis.csv``, ``moves.csv``, ``changes.csv``, ``report.md`` and ``report.html``.

    Written atomically (a temporary folder renamed into place), never into or over one of the
    compared result folders or ``inputs`` (the scenarios given). The page is in ``lang``
    (``"zh"`` or ``"en"``); the CSVs keep English column names and values.
    """
    c = comparison

    def t(code: str, **values: Any) -> str:
        return label(code, lang, **values)

    def fill(tmp: Path) -> None:
        for name, frame in (("kpis.csv", c.kpis), ("moves.csv", c.moves),
                            ("changes.csv", c.changes)):  # ids and folder names: no formulas
            escape_frame(frame).to_csv(tmp / name, index=False, lineterminator="\n")
        page = Page(t("page.compare.title"), lang=lang)
        runs = pd.DataFrame([{"result": v.label, "folder": v.source,
                              "solver": v.summary.get("solver", ""),
                              "status": status_text(v.summary.get("status", ""), lang),
                              "time_limit_s": v.summary.get("time_limit_s")}
                             for v in c.views])
        page.table(runs)
        page.text(t("page.compare.baseline", label=c.views[0].label))
        if c.notes:
            page.bullets([n.text(lang) for n in c.notes])
        page.heading(t("page.compare.kpis"))
        page.table(c.kpis.assign(kpi=[column_label(k, lang) for k in c.kpis["kpi"]]))
        page.heading(t("page.compare.moves"))
        wide = c.changes.pivot(index="change", columns="result", values="students")
        wide = wide.reindex(list(CHANGES)).reset_index()
        page.table(wide.assign(change=[word("change", k, lang) for k in wide["change"]]))
        if len(c.moves):
            brief = c.moves[["result", "student_id", "change", "workstation_id_a",
                             "workstation_id_b", "start_term_a", "start_term_b",
                             "preference_rank_a", "preference_rank_b"]]
            brief = brief.assign(change=[word("change", k, lang) for k in brief["change"]])
            page.table(brief, MOVES_SHOWN)
        else:
            page.text(t("page.compare.no_moves"))
        page.write(tmp)

    sources = [(v.source, "result") for v in c.views if v.source != "(in memory)"]
    return atomic_folder(out, force, fill, kind="comparison", inputs=[*sources, *inputs])

