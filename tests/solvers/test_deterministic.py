"""Deterministic runs (issue 27 item 4): counted work instead of wall time, the same files.

A deterministic solve turns its time limit into a work budget (:mod:`matcher.solvers.clock`),
so that a run cut short by that budget still gives the same result files on any machine and
under any load. These tests solve generated cohorts with budgets small enough to cut the
search short, twice — once with every core kept busy by other processes — and compare bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import matcher
from matcher.check import check
from matcher.planning.generate import generate_scenario
from matcher.planning.verify import verify_result
from matcher.solvers import clock

SAME_BYTES = ("assignments.csv", "unassigned.csv", "summary.json", "report.html",
              "results.xlsx")


@contextmanager
def busy_cpus() -> Iterator[None]:
    """Every core kept busy by a spinning process while the block runs."""
    spin = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for proc in spin:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated cohort large enough that a small budget cuts the exact search short."""
    return generate_scenario(tmp_path_factory.mktemp("det") / "cohort", students=600,
                             workstations=50, universities=8, seed=3)


def _solve_and_write(scenario: Path, out: Path, solver: str, limit: float) -> matcher.Result:
    problem = matcher.load_scenario(scenario)
    result = matcher.solve(problem, solver=solver, time_limit_s=limit, deterministic=True)
    matcher.write_result(result, out, problem=problem)
    assert check(problem, result).ok
    return result


def _manifest(folder: Path) -> dict[str, object]:
    doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    doc.pop("created_utc")
    doc["run"].pop("wall_seconds")
    return doc


def test_a_deterministic_solve_cut_by_its_budget_gives_the_same_files_under_load(
        cohort: Path, tmp_path: Path) -> None:
    """cpsat with a budget too small to prove the optimum (the helper's LP with cuts, fix and
    solve, then neighbourhoods until the budget ends): the second run, with every core busy
    (so each step takes longer in wall time), writes byte-identical result files."""
    first = _solve_and_write(cohort, tmp_path / "quiet", "cpsat", 1.5)
    with busy_cpus():
        second = _solve_and_write(cohort, tmp_path / "busy", "cpsat", 1.5)
    assert first.deterministic and second.deterministic
    assert first.status == matcher.Status.FEASIBLE  # (cut short: the same on every machine)
    for name in SAME_BYTES:
        assert (tmp_path / "quiet" / name).read_bytes() == (tmp_path / "busy" / name).read_bytes(
        ), name
    assert _manifest(tmp_path / "quiet") == _manifest(tmp_path / "busy")
    summary = json.loads((tmp_path / "quiet" / "summary.json").read_text(encoding="utf-8"))
    assert summary["deterministic"] is True and "wall_seconds" not in summary
    assert summary["work_seconds"] > 0


@pytest.mark.parametrize("solver", ["milp", "flow", "da"])
def test_other_solvers_are_deterministic_too(cohort: Path, tmp_path: Path, solver: str) -> None:
    """milp (HiGHS in its helper) and flow (local moves) cut by a budget, and da, give the
    same files twice."""
    a = _solve_and_write(cohort, tmp_path / "a", solver, 4.0 if solver == "milp" else 0.5)
    b = _solve_and_write(cohort, tmp_path / "b", solver, 4.0 if solver == "milp" else 0.5)
    assert a.placements == b.placements
    for name in SAME_BYTES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_verify_reproduces_a_deterministic_run(cohort: Path, tmp_path: Path) -> None:
    """The manifest records the run as deterministic and reproducible, even though its budget
    cut it short, and ``matcher verify`` re-runs it deterministically to the same allocation."""
    result = _solve_and_write(cohort, tmp_path / "out", "cpsat", 0.5)
    doc = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert doc["solver"]["deterministic"] is True
    assert doc["run"]["reproducible"] is True and doc["run"]["work_seconds"] > 0
    report = verify_result(tmp_path / "out")
    assert report.ok, report.differences[:5]
    assert report.rerun is not None and report.rerun.placements == result.placements
    assert not any("not reproducible" in note for note in report.notes)


def test_scenario_setting_turns_it_on(tmp_path: Path) -> None:
    """``solver: {deterministic: true}`` in scenario.yaml is the default a solve takes."""
    root = Path(__file__).resolve().parents[2]
    scenario = tmp_path / "tiny"
    scenario.mkdir()
    for f in (root / "scenarios" / "tiny").iterdir():
        if f.is_file():
            (scenario / f.name).write_bytes(f.read_bytes())
    yaml = scenario / "scenario.yaml"
    text = yaml.read_text(encoding="utf-8").replace(
        "solver: {", "solver: {deterministic: true, ")
    yaml.write_text(text, encoding="utf-8")
    problem = matcher.load_scenario(scenario)
    assert problem.solver.deterministic
    result = matcher.solve(problem, solver="greedy")
    assert result.deterministic and result.work_seconds is not None
    assert not matcher.solve(problem, solver="greedy", deterministic=False).deterministic


def test_the_clock_counts_work_only_when_deterministic() -> None:
    """Outside a deterministic session the clock is the wall clock; inside, it moves only by
    the work charged, and parallel branches end at the later of the two."""
    with clock.session(False):
        clock.charge(100.0)
        assert abs(clock.now() - __import__("time").perf_counter()) < 1.0
    with clock.session(True) as watch:
        start = clock.now()
        clock.charge(2.5)
        assert clock.now() == start + 2.5
        clock.parallel(lambda: clock.charge(4.0), lambda: clock.charge(1.0))
        assert watch.elapsed() == 2.5 + 4.0
