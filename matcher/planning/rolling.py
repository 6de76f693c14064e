"""Rolling cohorts: N yearly intakes in sequence, each allocated the places earlier ones left.

:func:`simulate` runs the intakes (the model is described there and in docs/planning.md): every
earlier cohort's placements occupy places in the later cohorts' terms and are subtracted from
their capacities by :func:`matcher.model.capacity.apply_occupancy` (the rules are in
:mod:`matcher.model.capacity`). It reports demand against capacity per year and per term;
:func:`write_rolling` writes the tables, a page and every cohort's scenario and result.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..check import check
from ..formats.escape import escape_frame, escape_markdown
from ..formats.output import Input
from ..formats.resultdir import atomic_folder
from ..formats.scenario import write_scenario
from ..messages import Location, Message, label, msg, render
from ..model import Policy, Problem, Result, ScenarioError
from ..model.capacity import (
    Occupancy,
    apply_occupancy,
    built_in_code,
    capacity_by_term,
    policy_window,
    rebuild,
)
from ..reports.folder import output_lang, write_result
from ..reports.pages import markdown_table
from ..reports.words import status_text
from ..solvers import solve
from .variant import draw_students

__all__ = ["CohortRun", "RollingReport", "shift_term", "simulate", "write_rolling"]


# ---- N intakes in sequence --------------------------------------------------------------------
_YEAR = re.compile(r"^(\d{4})(\D.*)?$")
TERMS_AT = Location(file="scenario.yaml", field="terms")
"""Where the calendar's errors point: the terms of scenario.yaml."""


def shift_term(label: str, years: int) -> str:
    """The term label ``years`` later: ``shift_term("2026-autumn", 1) == "2027-autumn"``.

    Raises
    ------
    ValueError
        When the label does not start with a four-digit year.
    """
    m = _YEAR.match(label)
    if m is None:
        raise ValueError(label)
    return f"{int(m.group(1)) + years:04d}{m.group(2) or ''}"


def _check_calendar(base: Problem) -> int:
    """Terms per year of the base calendar; ScenarioError when it cannot be shifted by a year."""
    if 12 % base.term_months:
        raise ScenarioError([msg("plan.rolling.term_months", value=base.term_months,
                                 at=Location(file="scenario.yaml", field="term_months"))])
    per_year = 12 // base.term_months
    for k, t in enumerate(base.terms):
        if _YEAR.match(t) is None:
            raise ScenarioError([msg("plan.rolling.term_no_year", term=t, at=TERMS_AT)])
        if k + per_year < len(base.terms) and shift_term(t, 1) != base.terms[k + per_year]:
            raise ScenarioError([msg("plan.rolling.term_not_yearly", term=t,
                                     found=base.terms[k + per_year], expected=shift_term(t, 1),
                                     per_year=per_year, at=TERMS_AT)])
    return per_year


def _cohort_problem(base: Problem, cohort: int, n_students: int, seed: int) -> Problem:
    """Cohort ``cohort`` (1-based): the base shifted by ``cohort - 1`` years, full capacities."""
    years = cohort - 1
    if years == 0:
        return base
    terms = tuple(shift_term(t, years) for t in base.terms)
    window = base.policy.window
    policy = Policy(**{**base.policy.model_dump(),
                       "window": None if window is None
                       else tuple(shift_term(t, years) for t in window)})
    rng = np.random.default_rng([seed, cohort])
    drawn = draw_students(base.students, n_students, rng, taken=set(),
                          prefix=f"C{cohort}-")
    students = tuple(s.model_copy(update={
        "window_start": None if s.window_start is None else shift_term(s.window_start, years),
        "window_end": None if s.window_end is None else shift_term(s.window_end, years)})
        for s in drawn)
    return rebuild(base, msg("plan.rolling.cohort", cohort=cohort),
                   name=f"{base.name}-cohort{cohort}", terms=terms,
                   policy=policy, students=students, locks=(), rankings=(),
                   term_capacities=tuple(tc for tc in base.term_capacities if tc.term in terms),
                   **built_in_code())


@dataclass(frozen=True)
class CohortRun:
    """One simulated intake.

    Attributes
    ----------
    cohort
        1-based number; cohort 1 is the base scenario itself.
    problem
        The cohort's scenario with full capacities (its own calendar, shifted by a year per
        cohort).
    occupancy
        Places earlier cohorts (and the base's ``occupancy.csv``) use in its terms.
    reduced
        ``problem`` with ``occupancy`` subtracted: what was solved.
    result
        The allocation.
    """

    cohort: int
    problem: Problem
    occupancy: tuple[Occupancy, ...]
    reduced: Problem
    result: Result


@dataclass(frozen=True)
class RollingReport:
    """What :func:`simulate` found.

    Attributes
    ----------
    runs
        One :class:`CohortRun` per intake, in order.
    years
        One row per cohort: intake, demand (student-terms) against the places left in its
        practice window, placed share, quality figures.
    terms
        One row per calendar term of any practice window: capacity, the places each cohort
        uses, free places.
    notes
        The model's parameters in words, as messages (``page.rolling.summary``; worded in
        the page's language by :func:`write_rolling`, ``str()`` gives the English).
    summary
        The same as a catalogue message, worded in the page's language by
        :func:`write_rolling`.
    """

    runs: tuple[CohortRun, ...]
    years: pd.DataFrame
    terms: pd.DataFrame
    notes: tuple[Message, ...]
    summary: Message | None = None


def _occupancy_rows(counts: Counter[tuple[str, str | None, str]], terms: Sequence[str],
                    mentors: bool) -> tuple[Occupancy, ...]:
    """The counts in ``terms`` as occupancy rows (without mentors unless ``mentors``)."""
    tix = {t: k for k, t in enumerate(terms)}
    merged: Counter[tuple[str, str | None, str]] = Counter()
    for (w, m, t), n in counts.items():
        if t in tix and n > 0:
            merged[w, m if mentors else None, t] += n
    keys = sorted(merged, key=lambda k: (tix[k[2]], k[0], k[1] or ""))
    return tuple(Occupancy(workstation_id=w, mentor_id=m, term=t, used=merged[w, m, t])
                 for w, m, t in keys)


def simulate(base: Problem, cohorts: int, growth_pct: float = 0.0, *,
             base_occupancy: Sequence[Occupancy] = (), solver: str = "cpsat",
             time_limit_s: float | None = None, seed: int | None = None,
             workers: int | None = None, mentor_load: str = "busiest") -> RollingReport:
    """Simulate ``cohorts`` intakes in sequence, each allocated the places the others left.

    The model:

    * cohort 1 is the base scenario as it is (with its own ``occupancy.csv``, if any);
    * cohort ``y`` starts ``y - 1`` years later: every term label, the policy window and the
      students' own windows are shifted by ``y - 1`` years (``2026-autumn`` ->
      ``2027-autumn``), which needs labels that start with the year and ``term_months``
      dividing 12;
    * its intake is ``round(base students x (1 + growth_pct / 100) ** (y - 1))`` students drawn
      with replacement from the base cohort (university, discipline, work experience,
      preferences, priority, windows and required months of a random base student; no given
      supervisor, no locks, no rankings), with ids ``C<y>-...``, seeded by ``(seed, y)``;
    * workstations, mentors, supervisors and pairs are the base's; supervisors take a new
      cohort each year (their capacity is per allocation); ``workstation_terms.csv`` overrides
      stay at their calendar terms (a closure in 2027-autumn affects every cohort practising
      then);
    * every earlier cohort's placements (and the base's ``occupancy.csv`` rows) that fall in
      the cohort's terms are its ``occupancy.csv`` and are subtracted (:func:`apply_occupancy`):
      exactly per term at workstations; at mentors by their busiest term (``mentor_load
      "busiest"``, safe but it blocks an earlier cohort's mentor for the whole window, so placed
      figures are a lower bound) or not at all (``"ignore"``: only workstation places carry
      over, so mentors may hold more students at once than their capacity; an upper bound).

    Parameters
    ----------
    base
        The base scenario with full capacities (``load_scenario(path, occupancy=False)``).
    cohorts
        Number of intakes (>= 1).
    growth_pct
        Intake growth per year in percent (negative: shrink); > -100.
    base_occupancy
        The base folder's ``occupancy.csv`` rows (calendar terms).
    solver, time_limit_s, seed, workers
        As for :func:`matcher.solve`; ``seed`` also seeds the intake draws (default: the
        scenario's solver seed).
    mentor_load
        ``"busiest"`` or ``"ignore"``: how earlier cohorts' mentor load carries over (above).

    Returns
    -------
    RollingReport

    Raises
    ------
    ScenarioError
        A calendar that cannot be shifted, occupancy that does not fit, or a shrink that
        leaves a cohort without students (``plan.rolling.empty_cohort``).
    ValueError
        ``cohorts < 1`` or ``growth_pct <= -100``.
    """
    if cohorts < 1:
        raise ValueError("cohorts must be at least 1")
    if not growth_pct > -100:
        raise ValueError("growth_pct must be greater than -100")
    if mentor_load not in ("busiest", "ignore"):
        raise ValueError("mentor_load must be 'busiest' or 'ignore'")
    if cohorts > 1:
        _check_calendar(base)
    seed = base.solver.seed if seed is None else seed
    used: Counter[tuple[str, str | None, str]] = Counter()  # (workstation, mentor, term)
    for o in base_occupancy:
        used[o.workstation_id, o.mentor_id, o.term] += o.used
    runs: list[CohortRun] = []
    year_rows: list[dict[str, Any]] = []
    by_term: dict[str, dict[str, Any]] = {}
    calendar: list[str] = []
    for y in range(1, cohorts + 1):
        n = len(base.students) if y == 1 else _round_half_up(
            len(base.students) * (1 + growth_pct / 100) ** (y - 1))
        if n < 1:
            raise ScenarioError([msg("plan.rolling.empty_cohort", cohort=y,
                                     growth=f"{growth_pct:g}")])
        problem = _cohort_problem(base, y, n, seed)
        occupancy = _occupancy_rows(used, problem.terms, mentor_load == "busiest")
        reduced = apply_occupancy(problem, occupancy,
                                  source=f"cohort {y} occupancy.csv") if occupancy else problem
        result = solve(reduced, solver, time_limit_s=time_limit_s, seed=seed, workers=workers)
        violations = len(check(reduced, result).violations)
        runs.append(CohortRun(y, problem, occupancy, reduced, result))

        cap = capacity_by_term(problem)
        window = policy_window(problem)
        carried = Counter[str]()
        for o in occupancy:
            carried[o.term] += o.used
        mine = Counter[str]()
        for p in result.placements:
            for t in p.covered(problem.terms):  # a split practice holds its own terms only
                mine[t] += 1
                used[p.workstation_id, p.mentor_id, t] += 1
        places = {t: sum(cap[w.workstation_id, t] for w in problem.workstations)
                  for t in problem.terms}
        demand = sum(problem.block_terms(s) for s in problem.students)
        window_places = sum(places[t] for t in window)
        window_carried = sum(carried[t] for t in window)
        remaining = window_places - window_carried
        year_rows.append({
            "cohort": y, "first_term": problem.terms[0], "window": f"{window[0]}..{window[-1]}",
            "intake": len(problem.students),
            "demand_student_terms": demand,
            "window_places": window_places,
            "carried_places": window_carried,
            "remaining_places": remaining,
            "demand_ratio": round(demand / remaining, 4) if remaining else None,
            "placed": result.placed,
            "placed_share": round(result.placed / len(problem.students), 4),
            "unplaced": len(result.unassigned),
            "allocated_student_terms": sum(mine[t] for t in window),
            "first_choice_share": round(result.first_choice_share, 4),
            "rank_cost": result.rank_cost,
            "status": result.status.value,
            "violations": violations,
        })
        for t in window:
            if t not in calendar:
                calendar.append(t)
            row = by_term.setdefault(t, {"term": t, "capacity": places[t]})
            row[f"cohort_{y}"] = mine[t]
    base_by_term = Counter[str]()
    for o in base_occupancy:
        base_by_term[o.term] += o.used
    term_rows = []
    for t in calendar:
        row = by_term[t]
        cols = [f"cohort_{y}" for y in range(1, cohorts + 1)]
        out: dict[str, Any] = {"term": t, "capacity": row["capacity"]}
        if base_occupancy:
            out["occupancy_csv"] = base_by_term[t]
        for c in cols:
            out[c] = row.get(c, 0)
        total = sum(out[c] for c in cols) + out.get("occupancy_csv", 0)
        out["used"] = total
        out["free"] = row["capacity"] - total
        out["use_share"] = round(total / row["capacity"], 4) if row["capacity"] else None
        term_rows.append(out)
    summary = msg("page.rolling.summary", count=cohorts, base=base.name,
                  growth=f"{growth_pct:g}", solver=runs[0].result.solver,
                  limit=f"{runs[0].result.time_limit_s:g}", seed=str(seed),
                  mentor_load=msg("page.rolling.mentor_busiest" if mentor_load == "busiest"
                                  else "page.rolling.mentor_ignore"))
    return RollingReport(tuple(runs), pd.DataFrame(year_rows), pd.DataFrame(term_rows),
                         (summary,), summary)


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def write_rolling(report: RollingReport, out: str | os.PathLike[str], *,
                  force: bool = False, inputs: Iterable[Input] = (),
                  lang: str | None = None) -> Path:
    """Write ``years.csv``, ``terms.csv``, ``report.md`` and one folder per cohort, atomically.

    ``report.md`` and the cohorts' results are in ``lang`` (``"zh"`` or ``"en"``; by default
    the scenario's, see :func:`matcher.reports.folder.output_lang`); the CSVs keep English
    column names.

    ``cohort-<y>/scenario/`` is the cohort's full scenario (full capacities, with the places
    earlier cohorts use as its ``occupancy.csv``: ``matcher solve`` on it allocates what the
    simulation allocated), ``cohort-<y>/result/`` its result folder. Never written into or
    over ``inputs`` (the base scenario).
    """
    chosen = output_lang(lang, report.runs[0].problem if report.runs else None)

    def fill(tmp: Path) -> None:
        for name, frame in (("years.csv", report.years), ("terms.csv", report.terms)):
            escape_frame(frame).to_csv(tmp / name, index=False, lineterminator="\n")
        for run in report.runs:
            folder = tmp / f"cohort-{run.cohort}"
            folder.mkdir()
            write_scenario(run.problem, folder / "scenario", occupancy=run.occupancy,
                           header=[label("plan.rolling.scenario_header", chosen,
                                         cohort=run.cohort, summary=render(
                                             report.summary or report.notes[0], chosen))])
            write_result(run.result, folder / "result", problem=run.reduced, lang=chosen)
        # the page words the statuses and the cohorts' columns (the CSVs keep them as data)
        years = (report.years.assign(status=[status_text(x, chosen)
                                             for x in report.years["status"]])
                 if "status" in report.years.columns else report.years)
        terms = report.terms.rename(columns={
            c: label("page.rolling.cohort_column", chosen, cohort=str(c)[len("cohort_"):])
            for c in report.terms.columns if str(c).startswith("cohort_")})
        lines = ["# " + label("page.rolling.title", chosen), "",
                 *(escape_markdown(render(n, chosen), block=True) for n in (
                     (report.summary,) if report.summary is not None else report.notes)), "",
                 "## " + label("page.rolling.years", chosen), "",
                 label("page.rolling.years_note", chosen), "",
                 markdown_table(years, lang=chosen), "",
                 "## " + label("page.rolling.terms", chosen), "",
                 label("page.rolling.terms_note", chosen), "",
                 markdown_table(terms, lang=chosen), ""]
        (tmp / "report.md").write_text("\n".join(lines), encoding="utf-8")

    return atomic_folder(out, force, fill, kind="rolling", inputs=inputs)
