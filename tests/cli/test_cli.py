"""Tests of the ``matcher`` command line: exit codes, messages, the result folder contract.

Most tests drive the click group in-process with :class:`click.testing.CliRunner`; one runs the
real command in a subprocess, as a user would.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from matcher.cli import cli

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
SUMMARY_KEYS = {"status", "placed", "unassigned", "rank_cost", "placed_upper_bound",
                "rank_cost_lower_bound", "wall_seconds", "seed", "input_sha256"}
RESULT_FILES = ["assignments.csv", "manifest.json", "report.html", "results.xlsx",
                "summary.json", "unassigned.csv"]
ASSIGNMENT_COLUMNS = ["student_id", "workstation_id", "mentor_id", "supervisor_id", "start_term",
                      "end_term", "preference_rank", "terms"]


def _run(*args: str | Path) -> Result:
    """Invoke the CLI in-process; stdout and stderr kept apart."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    """A copy of tiny with two input errors in two files."""
    folder = tmp_path / "bad"
    shutil.copytree(TINY, folder)
    for name, old, new in (("students.csv", "W2;W3", "W2;W9"),
                           ("mentors.csv", "W3-M1,W3", "W3-M1,W7")):
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return folder


BAD_LINES = {
    "error: students.csv row 4, preferences: unknown workstation 'W9' (not in workstations.csv)",
    "error: mentors.csv row 4, workstation_id: unknown workstation 'W7' (not in "
    "workstations.csv)",
}


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny solved once into a result folder (seed 0, one worker)."""
    out = tmp_path_factory.mktemp("solved") / "out"
    r = _run("solve", TINY, "--out", out, "--seed", "0", "--workers", "1")
    assert r.exit_code == 0, r.output
    return out


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


# ---- validate -------------------------------------------------------------------------------
def test_validate_ok() -> None:
    """validate on tiny exits 0 and says what it read; tiny's suspicious data (a discipline
    no workstation takes, fewer supervisor places than students at HEU: why S6 stays
    unassigned) are warnings on stderr, which do not change the exit code."""
    r = _run("validate", TINY)
    assert r.exit_code == 0, r.output
    assert "tiny: valid" in r.stdout and "6 students" in r.stdout
    assert all(line.startswith("warning: ") for line in r.stderr.splitlines())
    assert "no workstation takes discipline '0856'" in r.stderr


def test_validate_bad(bad: Path) -> None:
    """validate on a broken scenario exits 2 with one 'error: ' line per problem on stderr."""
    r = _run("validate", bad)
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines)
    assert set(lines) == BAD_LINES
    assert r.stdout == ""


def test_validate_missing_folder(tmp_path: Path) -> None:
    """validate on a folder that does not exist exits 2 with an error line."""
    r = _run("validate", tmp_path / "nope")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: ") and "not a scenario folder" in r.stderr


def test_subprocess_validate(bad: Path, tmp_path: Path) -> None:
    """The real command: validate exits 0 on tiny and 2 on a broken copy, never a traceback."""
    ok = subprocess.run([sys.executable, "-m", "matcher.cli", "validate", str(TINY)],
                        capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "tiny: valid" in ok.stdout
    ko = subprocess.run([sys.executable, "-m", "matcher.cli", "validate", str(bad)],
                        capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert ko.returncode == 2
    assert "Traceback" not in ko.stdout + ko.stderr
    assert set(ko.stderr.splitlines()) == BAD_LINES


def test_subprocess_solve_bad_writes_nothing(bad: Path, tmp_path: Path) -> None:
    """The real command: solve on a broken scenario exits 2 and creates no folder."""
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "matcher.cli", "solve", str(bad), "--out",
                        str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert p.returncode == 2
    assert "Traceback" not in p.stdout + p.stderr
    assert set(p.stderr.splitlines()) == BAD_LINES
    assert not out.exists()


# ---- solve ----------------------------------------------------------------------------------
def test_solve_bad_creates_no_folder(bad: Path, tmp_path: Path) -> None:
    """solve on a broken scenario exits 2, prints the errors and writes nothing."""
    out = tmp_path / "nested" / "out"
    r = _run("solve", bad, "--out", out)
    assert r.exit_code == 2
    assert set(r.stderr.splitlines()) == BAD_LINES
    assert not out.exists() and not out.parent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad"]


def test_solve_prints_when_the_optimum_was_proven(tmp_path: Path) -> None:
    """solve's status line says when levels 1-2 were proven, as summary.json's stats record."""
    r = _run("solve", TINY, "--out", tmp_path / "out", "--workers", "1")
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    proven = summary["stats"]["proven_seconds"]
    assert 0 < proven <= summary["wall_seconds"]
    assert f"levels 1-2 proven at {proven:.2f} s" in r.stdout.splitlines()[0]


def test_solve_writes_contract(solved: Path) -> None:
    """solve on tiny writes the contract's files, the CSVs with their columns and keys."""
    assert sorted(p.name for p in solved.iterdir()) == RESULT_FILES
    header, rows = _csv(solved / "assignments.csv")
    assert header == ASSIGNMENT_COLUMNS
    assert [r["student_id"] for r in rows] == ["S1", "S2", "S3", "S4", "S5"]
    header, unassigned = _csv(solved / "unassigned.csv")
    assert header == ["student_id", "reason"]
    assert [r["student_id"] for r in unassigned] == ["S6"]
    assert "0856" in unassigned[0]["reason"]
    summary = json.loads((solved / "summary.json").read_text(encoding="utf-8"))
    assert summary.keys() >= SUMMARY_KEYS
    assert summary["status"] == "OPTIMAL"
    assert (summary["placed"], summary["unassigned"], summary["rank_cost"]) == (5, 1, 7)
    assert (summary["placed_upper_bound"], summary["rank_cost_lower_bound"]) == (5, 7)
    assert summary["seed"] == 0
    assert len(summary["input_sha256"]) == 64


def test_solve_prints_summary(tmp_path: Path) -> None:
    """solve exits 0 and prints status, placed, first-choice share and rank cost."""
    r = _run("solve", TINY, "--out", tmp_path / "out", "--workers", "1")
    assert r.exit_code == 0, r.output
    for word in ("OPTIMAL", "placed", "5 of 6", "first choice", "rank cost", "7"):
        assert word in r.stdout


def test_solve_existing_folder_untouched(tmp_path: Path) -> None:
    """solve into a non-empty folder without --force exits 2 and changes nothing."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    r = _run("solve", TINY, "--out", out)
    assert r.exit_code == 2
    assert r.stderr.startswith("error: ") and "--force" in r.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_solve_force_replaces(tmp_path: Path) -> None:
    """With --force a result folder matcher wrote is replaced by the new result; a folder
    matcher did not write is refused (exit 2) and left as it was."""
    out = tmp_path / "out"
    assert _run("solve", TINY, "--out", out, "--solver", "greedy").exit_code == 0
    (out / "summary.json").write_text("{}", encoding="utf-8")
    r = _run("solve", TINY, "--out", out, "--force", "--workers", "1")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == RESULT_FILES
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["solver"] == "cpsat"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("old", encoding="utf-8")
    r = _run("solve", TINY, "--out", other, "--force", "--solver", "greedy")
    assert r.exit_code == 2 and "not written by matcher" in r.stderr
    assert [p.name for p in other.iterdir()] == ["keep.txt"]


def test_solve_into_empty_folder(tmp_path: Path) -> None:
    """An existing but empty folder is fine without --force."""
    out = tmp_path / "out"
    out.mkdir()
    assert _run("solve", TINY, "--out", out, "--workers", "1").exit_code == 0
    assert (out / "summary.json").is_file()


def test_unknown_solver(tmp_path: Path) -> None:
    """--solver nope exits 2 with a message naming the valid solvers, writing nothing."""
    r = _run("solve", TINY, "--out", tmp_path / "out", "--solver", "nope")
    assert r.exit_code == 2
    assert "nope" in r.stderr and "cpsat" in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("which", ["tiny", "generated"])
def test_same_seed_identical_files(tmp_path: Path, which: str) -> None:
    """Two solves with the same seed give byte-identical CSVs and the same summary."""
    scenario = TINY
    if which == "generated":
        scenario = tmp_path / "gen"
        r = _run("generate", "--students", "15", "--workstations", "5", "--universities", "2",
                 "--seed", "2", "--out", scenario)
        assert r.exit_code == 0, r.output
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        r = _run("solve", scenario, "--out", out, "--seed", "3", "--workers", "2",
                 "--time-limit", "30")
        assert r.exit_code == 0, r.output
    for name in ("assignments.csv", "unassigned.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name

    def stable(out: Path) -> dict[str, object]:
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        s.pop("wall_seconds")
        s["stats"] = {k: v for k, v in s.get("stats", {}).items()
                      if not k.endswith("_seconds")}
        return s

    assert stable(outs[0]) == stable(outs[1])
    assert stable(outs[0])["seed"] == 3


# ---- check ----------------------------------------------------------------------------------
def test_check_good(solved: Path) -> None:
    """check on the solver's own result exits 0."""
    r = _run("check", TINY, solved)
    assert r.exit_code == 0, r.output
    assert "placed 5, rank cost 7" in r.stdout
    assert "ok" in r.stdout


def test_check_tampered(solved: Path, tmp_path: Path) -> None:
    """check exits 1 and names the overload when S3 is moved into W2's reduced term."""
    tampered = tmp_path / "tampered"
    shutil.copytree(solved, tampered)
    path = tampered / "assignments.csv"
    text = path.read_text(encoding="utf-8")
    old = "S3,W2,W2-M1,HEU-S1,2026-autumn,2026-autumn,1,2026-autumn"
    assert old in text
    path.write_text(text.replace(old, "S3,W2,W2-M1,HEU-S1,2027-spring,2027-spring,1,2027-spring"),
                    encoding="utf-8")
    r = _run("check", TINY, tampered)
    assert r.exit_code == 1
    assert ("violation: rule 5: workstation W2 holds 3 students in 2027-spring, capacity 2"
            in r.stdout.splitlines())


def test_check_not_a_result(tmp_path: Path) -> None:
    """check on a folder without assignments.csv exits 2 with an error line."""
    (tmp_path / "empty").mkdir()
    r = _run("check", TINY, tmp_path / "empty")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: ") and "assignments.csv" in r.stderr


# ---- generate -------------------------------------------------------------------------------
def test_generate_then_validate(tmp_path: Path) -> None:
    """generate writes a folder that validate accepts."""
    out = tmp_path / "gen"
    r = _run("generate", "--students", "40", "--workstations", "6", "--universities", "3",
             "--seed", "5", "--out", out)
    assert r.exit_code == 0, r.output
    assert (out / "scenario.yaml").is_file() and (out / "students.csv").is_file()
    v = _run("validate", out)
    assert v.exit_code == 0, v.output
    assert "40 students, 6 workstations" in v.stdout


def test_generate_refuses_non_empty(tmp_path: Path) -> None:
    """generate into a non-empty folder without --force exits 2 and leaves it alone."""
    out = tmp_path / "gen"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    r = _run("generate", "--students", "5", "--workstations", "2", "--out", out)
    assert r.exit_code == 2
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
