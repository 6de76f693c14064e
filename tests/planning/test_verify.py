"""``matcher verify``: re-running a result from its manifest (:mod:`matcher.planning.verify`)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult

import matcher
from matcher import ScenarioError, load_scenario, write_result
from matcher.cli import cli
from matcher.model import Status
from matcher.planning.verify import verify_result

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"


def _run(*args: str | Path) -> CliResult:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


# ---- verify ---------------------------------------------------------------------------------
@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of tiny and a fresh result folder solved from it."""
    scen = tmp_path / "scen"
    shutil.copytree(TINY, scen)
    out = tmp_path / "out"
    r = _run("solve", scen, "--out", out, "--workers", "1")
    assert r.exit_code == 0, r.output
    return scen, out


def test_verify_fresh_result(fresh: tuple[Path, Path]) -> None:
    """verify on a fresh result exits 0 and says verified, with no notes."""
    r = _run("verify", fresh[1])
    assert r.exit_code == 0, r.output
    assert ("verified: every file is as written and the re-run gives the same allocation "
            "(5 placed, rank cost 7)") in r.stdout
    assert "note:" not in r.stdout


def test_verify_edited_assignment(fresh: tuple[Path, Path]) -> None:
    """An edited assignment: exit 1, the student listed, the edited file named with its row."""
    path = fresh[1] / "assignments.csv"
    text = path.read_text(encoding="utf-8")
    old = "S3,W2,W2-M1,HEU-S1,2026-autumn,2026-autumn,1"
    assert old in text
    path.write_text(text.replace(old, old.replace("W2,W2-M1", "W1,W1-M1")), encoding="utf-8")
    r = _run("verify", fresh[1])
    assert r.exit_code == 1
    assert ("  S3: result folder W1 (mentor W1-M1, supervisor HEU-S1, 2026-autumn); re-run W2 "
            "(mentor W2-M1, supervisor HEU-S1, 2026-autumn)") in r.stdout.splitlines()
    assert ("not verified: 1 file(s) changed since the run, 1 student(s) placed differently"
            in r.stdout)
    assert ("  assignments.csv: changed since the run; rows that differ from the re-run: 3 (S3)"
            in r.stdout.splitlines())


def test_verify_removed_assignment(fresh: tuple[Path, Path]) -> None:
    """A placement deleted from assignments.csv is listed as unassigned in the folder."""
    path = fresh[1] / "assignments.csv"
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not
             ln.startswith("S5,")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = _run("verify", fresh[1])
    assert r.exit_code == 1
    assert any(ln.startswith("  S5: result folder unassigned; re-run W2 ")
               for ln in r.stdout.splitlines())


def test_verify_changed_input(fresh: tuple[Path, Path]) -> None:
    """A changed input file: exit 2 naming the file, nothing re-run."""
    scen, out = fresh
    with (scen / "pairs.csv").open("a", encoding="utf-8") as f:
        f.write("HIT-S1,W1-M1,1\n")
    r = _run("verify", out)
    assert r.exit_code == 2
    (line,) = r.stderr.splitlines()
    assert line.startswith(f"error: {scen}: pairs.csv: changed since the run (SHA-256 ")
    assert line.endswith("; verify needs the exact input of the run")


def test_verify_added_input(fresh: tuple[Path, Path]) -> None:
    """An input file that was not there at the run (a new locks.csv) is refused too."""
    scen, out = fresh
    (scen / "locks.csv").write_text("student_id,workstation_id\n", encoding="utf-8")
    r = _run("verify", out)
    assert r.exit_code == 2
    assert "locks.csv: not an input of the run (new since)" in r.stderr


def test_verify_moved_scenario(fresh: tuple[Path, Path], tmp_path: Path) -> None:
    """A moved scenario is an error unless --scenario names its new place."""
    scen, out = fresh
    moved = scen.rename(tmp_path / "moved")
    r = _run("verify", out)
    assert r.exit_code == 2 and "--scenario PATH" in r.stderr
    r = _run("verify", out, "--scenario", moved)
    assert r.exit_code == 0, r.output
    assert "verified" in r.stdout


def test_verify_without_manifest(tmp_path: Path) -> None:
    """A folder without manifest.json: exit 2 with one error line."""
    (tmp_path / "out").mkdir()
    r = _run("verify", tmp_path / "out")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: ") and "manifest.json: missing file" in r.stderr


def test_verify_time_limited_run_says_so(tmp_path: Path) -> None:
    """A run cut by its time limit is recorded as not reproducible and verify says so."""
    problem = load_scenario(TINY)
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    cut = dataclasses.replace(result, status=Status.FEASIBLE,
                              message="time limit reached before every level was proven optimal")
    out = write_result(cut, tmp_path / "out", problem=problem)
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["run"]["stopped_by_time_limit"] is True and m["run"]["reproducible"] is False
    report = verify_result(out)
    assert report.ok
    assert any("stopped at its time limit" in n and "not reproducible" in n
               for n in report.notes)


def test_verify_lists_at_most_fifty() -> None:
    """A long list of differing students is cut after 50 lines with a count of the rest."""
    from matcher.messages import msg
    from matcher.planning.verify import MAX_LISTED, VerifyReport, main_lines

    report = VerifyReport("x", students=[
        msg("verify.student_differs", student=f"S{i}", before=msg("verify.unassigned"),
            after=msg("verify.unassigned")) for i in range(MAX_LISTED + 7)])
    lines = main_lines(report)
    assert lines[0].startswith(f"not verified: 0 file(s) changed since the run, "
                               f"{MAX_LISTED + 7} student(s) placed differently")
    assert len(lines) == 1 + MAX_LISTED + 1 and lines[-1] == "  ... and 7 more"
    assert main_lines(report, "zh")[-1] == "  ……另有 7 项"


def test_verify_result_written_without_problem(tmp_path: Path) -> None:
    """Without a recorded scenario path verify needs --scenario, then checks input_sha256."""
    problem = load_scenario(TINY)
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    out = write_result(result, tmp_path / "out")
    with pytest.raises(ScenarioError, match="records no scenario path"):
        verify_result(out)
    assert verify_result(out, str(TINY)).ok
    other = tmp_path / "other"
    shutil.copytree(TINY, other)
    (other / "pairs.csv").write_text("supervisor_id,mentor_id,weight\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="differ from the run's"):
        verify_result(out, str(other))


def test_verify_solve_with_previous(tmp_path: Path) -> None:
    """A solve given an earlier cohort (--previous) is verified with that cohort subtracted."""
    earlier = tmp_path / "earlier"
    shutil.copytree(TINY, earlier)
    path = earlier / "students.csv"
    path.write_text("\n".join(ln if i == 0 else "T" + ln[1:] for i, ln in
                              enumerate(path.read_text(encoding="utf-8").splitlines())) + "\n",
                    encoding="utf-8")
    assert _run("solve", earlier, "--out", tmp_path / "prev", "--workers", "1").exit_code == 0
    out = tmp_path / "out"
    r = _run("solve", TINY, "--out", out, "--workers", "1", "--previous", tmp_path / "prev")
    assert r.exit_code == 0, r.output
    files = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["scenario"]["files"]
    assert any(name.startswith("previous:") for name in files)
    r = _run("verify", out)
    assert r.exit_code == 0 and "verified" in r.stdout, r.output
    (tmp_path / "prev" / "assignments.csv").write_text("student_id\n", encoding="utf-8")
    assert _run("verify", out).exit_code == 2
