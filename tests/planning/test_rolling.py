"""Tests of rolling cohorts (:mod:`matcher.planning.rolling`): ``--previous`` and ``matcher
rolling`` (``occupancy.csv`` itself: tests/model/test_capacity.py).

The simulation runs on a small generated province whose practice windows (four terms) overlap
from one year to the next, and the places all cohorts use together are checked against every
workstation's and mentor's capacity in every calendar term.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from matcher import check, load_scenario
from matcher.cli import cli
from matcher.model import Problem
from matcher.model.capacity import built_in_code, capacity_by_term
from matcher.planning.generate import generate_scenario
from matcher.planning.rolling import RollingReport, shift_term, simulate, write_rolling

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"


def _run(*args: str | Path) -> Result:
    """Invoke the CLI in-process; stdout and stderr kept apart."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated province: 40 students, 6 workstations, window of four terms."""
    return generate_scenario(tmp_path_factory.mktemp("prov") / "p", students=40,
                             workstations=6, universities=3, seed=11, name="prov")


@pytest.fixture(scope="module")
def report(province: Path) -> RollingReport:
    """Three cohorts, +20 % a year, greedy, mentors carried by their busiest term."""
    return simulate(load_scenario(province, occupancy=False), 3, 20, solver="greedy", seed=5)


# ---- the simulation -----------------------------------------------------------------------------
def _runs_by_term(report: RollingReport) -> tuple[Counter[tuple[str, str]],
                                                   Counter[tuple[str, str]]]:
    """Places held at (workstation, term) and (mentor, term) by all cohorts together."""
    ws: Counter[tuple[str, str]] = Counter()
    men: Counter[tuple[str, str]] = Counter()
    for run in report.runs:
        tix = run.problem.term_index
        for pl in run.result.placements:
            for k in range(tix[pl.start_term], tix[pl.end_term] + 1):
                ws[pl.workstation_id, run.problem.terms[k]] += 1
                men[pl.mentor_id, run.problem.terms[k]] += 1
    return ws, men


def test_cohorts_never_overfill_a_term(report: RollingReport, province: Path) -> None:
    """All cohorts together hold at most each workstation's capacity in every calendar term,
    and (busiest-term carry) at most each mentor's; every allocation passes the checker."""
    base = load_scenario(province)
    cap: dict[tuple[str, str], int] = {}
    for run in report.runs:
        cap |= capacity_by_term(run.problem)
    ws, men = _runs_by_term(report)
    assert ws and all(n <= cap[k] for k, n in ws.items())
    m_cap = {m.mentor_id: m.capacity for m in base.mentors}
    assert all(n <= m_cap[m] for (m, _), n in men.items())
    for run in report.runs:
        assert check(run.reduced, run.result).violations == []


def test_cohort_shape(report: RollingReport, province: Path) -> None:
    """Intakes 40, 48, 58 (+20 % compounded, rounded); calendars and windows shifted by a year;
    new ids C2-..., C3-... that collide with nothing; earlier cohorts carried."""
    base = load_scenario(province)
    assert [len(r.problem.students) for r in report.runs] == [40, 48, 58]
    assert report.runs[1].problem.terms == tuple(shift_term(t, 1) for t in base.terms)
    assert report.runs[2].problem.policy.window == tuple(shift_term(t, 2)
                                                         for t in base.policy.window or ())
    ids = [s.student_id for r in report.runs for s in r.problem.students]
    assert len(ids) == len(set(ids))
    assert all(s.student_id.startswith("C2-") for s in report.runs[1].problem.students)
    assert report.runs[0].occupancy == ()
    carried = sum(o.used for o in report.runs[1].occupancy)
    first = report.runs[0]
    overlap = set(report.runs[1].problem.terms)
    tix = first.problem.term_index
    expect = sum(1 for pl in first.result.placements
                 for k in range(tix[pl.start_term], tix[pl.end_term] + 1)
                 if first.problem.terms[k] in overlap)
    assert carried == expect > 0


def test_report_tables(report: RollingReport) -> None:
    """terms: used = sum of cohorts, free = capacity - used; years: remaining = window places
    - carried, demand = student-terms needed."""
    t = report.terms
    cohorts = ["cohort_1", "cohort_2", "cohort_3"]
    assert (t[cohorts].sum(axis=1) == t["used"]).all()
    assert (t["capacity"] - t["used"] == t["free"]).all()
    assert (t["free"] >= 0).all()
    y = report.years
    assert (y["window_places"] - y["carried_places"] == y["remaining_places"]).all()
    demand = [sum(r.problem.block_terms(s) for s in r.problem.students) for r in report.runs]
    assert y["demand_student_terms"].tolist() == demand
    assert y["placed"].tolist() == [r.result.placed for r in report.runs]
    assert y["violations"].tolist() == [0, 0, 0]


def _same(a: Problem, b: Problem) -> bool:
    skip = set(built_in_code()) | {"name"}
    return a.model_dump(exclude=skip) == b.model_dump(exclude=skip)


def test_written_cohorts_reproduce(report: RollingReport, tmp_path: Path) -> None:
    """Each cohort's scenario folder (occupancy.csv included) loads to the problem that was
    solved, and solving it again with --previous instead of occupancy.csv gives the same
    allocation for cohort 2; check --previous accepts it."""
    out = write_rolling(report, tmp_path / "roll")
    assert sorted(p.name for p in out.iterdir()) == [
        ".matcher-output.json", "cohort-1", "cohort-2", "cohort-3", "report.md", "terms.csv",
        "years.csv"]
    for run in report.runs:
        assert _same(load_scenario(out / f"cohort-{run.cohort}" / "scenario"), run.reduced)
    second = tmp_path / "c2"
    shutil.copytree(out / "cohort-2" / "scenario", second)
    (second / "occupancy.csv").unlink()
    r = _run("solve", second, "--solver", "greedy", "--seed", "5", "--previous",
             out / "cohort-1" / "result", "--out", tmp_path / "c2r")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "c2r" / "assignments.csv").read_text(encoding="utf-8") == (
        out / "cohort-2" / "result" / "assignments.csv").read_text(encoding="utf-8")
    ok = _run("check", second, tmp_path / "c2r", "--previous", out / "cohort-1" / "result")
    assert ok.exit_code == 0, ok.output
    years = pd.read_csv(out / "years.csv")
    assert years["cohort"].tolist() == [1, 2, 3]


def test_previous_errors(report: RollingReport, tmp_path: Path, province: Path) -> None:
    """--previous with this cohort's own result, or naming an unknown workstation: exit 2."""
    out = write_rolling(report, tmp_path / "roll")
    own = _run("solve", province, "--solver", "greedy", "--previous",
               out / "cohort-1" / "result", "--out", tmp_path / "x")
    assert own.exit_code == 2
    errors = [line for line in own.stderr.splitlines() if line.startswith("error: ")]
    assert errors[0].endswith(
        "is also a student of this scenario; --previous takes an earlier cohort's result, not "
        "this cohort's")
    assert not (tmp_path / "x").exists()
    tiny = _run("solve", TINY, "--previous", out / "cohort-1" / "result", "--out",
                tmp_path / "y")
    assert tiny.exit_code == 2
    errors = [line for line in tiny.stderr.splitlines() if line.startswith("error: ")]
    assert "workstation_id: unknown workstation" in errors[0]


def test_ignore_mentor_load(province: Path) -> None:
    """--mentor-load ignore: only workstation places carry over (rows without mentors); the
    workstations are still never overfilled."""
    rep = simulate(load_scenario(province, occupancy=False), 2, 0, solver="greedy",
                   mentor_load="ignore")
    assert rep.runs[1].occupancy and all(o.mentor_id is None for o in rep.runs[1].occupancy)
    cap: dict[tuple[str, str], int] = {}
    for run in rep.runs:
        cap |= capacity_by_term(run.problem)
    ws, _ = _runs_by_term(rep)
    assert all(n <= cap[k] for k, n in ws.items())


def test_shift_term() -> None:
    """A term label moves by whole years; labels without a leading year cannot."""
    assert shift_term("2026-autumn", 1) == "2027-autumn"
    assert shift_term("2026", 2) == "2028"
    with pytest.raises(ValueError):
        shift_term("autumn-2026", 1)


def test_cli_rolling(tmp_path: Path, province: Path) -> None:
    """matcher rolling writes the report; a calendar without years is refused with exit 2."""
    out = tmp_path / "roll"
    r = _run("rolling", province, "--cohorts", "2", "--growth", "10", "--solver", "greedy",
             "--out", out)
    assert r.exit_code == 0, r.output
    assert "| 2 |" in r.stdout and (out / "report.md").is_file()
    folder = tmp_path / "t"
    shutil.copytree(TINY, folder)
    yaml_path = folder / "scenario.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    for old, new in (("2025-autumn", "T1"), ("2026-spring", "T2"), ("2026-autumn", "T3"),
                     ("2027-spring", "T4")):
        text = text.replace(old, new)
    yaml_path.write_text(text, encoding="utf-8")
    (folder / "workstation_terms.csv").write_text(
        (folder / "workstation_terms.csv").read_text(encoding="utf-8").replace(
            "2027-spring", "T4"), encoding="utf-8")
    bad = _run("rolling", folder, "--cohorts", "2", "--out", tmp_path / "bad")
    assert bad.exit_code == 2
    assert bad.stderr == ("error: scenario.yaml, terms: 'T1' does not start with a year; "
                          "rolling cohorts shift terms by a year and need labels such as "
                          "2026-autumn\n")
    assert not (tmp_path / "bad").exists()
