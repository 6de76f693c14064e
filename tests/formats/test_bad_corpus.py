"""The bad-input corpus (``tests/data/bad/``) and the loader's decisions on untrusted files.

Every case folder is ``scenarios/tiny`` with one small change (``tests/data/bad/make_cases.py``
writes them) and an ``expected.txt``: ``#`` lines say what is broken, every other line must
appear in the error output. For each case ``matcher validate`` and ``matcher solve`` must exit 2
with one ``error:`` line per problem, every expected line among them in the same run, no
traceback, and nothing written. Cases that cannot live in git (a link out of the folder, a file
over the size limit) are built in temporary folders. The second half pins down what the loader
accepts on purpose (stray whitespace, unknown extra files and columns) and what ``matcher
solve`` prints about students at default verbosity.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from matcher import ScenarioError, load_scenario
from matcher.cli import cli
from matcher.formats import cells as mio

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
CASES = sorted(p for p in BAD.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
ENTITIES = ("students", "workstations", "mentors", "supervisors", "universities",
            "term_capacities", "pairs", "locks", "rankings", "terms", "term_months", "policy",
            "solver", "objective", "name")


def _expected(case: Path) -> list[str]:
    lines = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its hash: shows that nothing was written there."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(*args: str | Path) -> Result:
    """The CLI in-process; an exception other than the exit itself propagates (and fails)."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _assert_clean_failure(r: Result, expected: list[str]) -> list[str]:
    """Exit 2, only ``error:`` lines on stderr, nothing on stdout, every expected line there."""
    assert "Traceback" not in r.output
    assert r.exit_code == 2, r.output
    lines = r.stderr.splitlines()
    assert lines, "an error exit must say why"
    assert all(line.startswith("error: ") and line[7:].strip() for line in lines), lines
    assert r.stdout == ""
    for want in expected:
        assert any(want in line for line in lines), f"missing {want!r} in {lines}"
    return lines


# ---- the corpus ------------------------------------------------------------------------------
def test_corpus_complete() -> None:
    """At least 40 cases, each with a description and at least one expected line."""
    assert len(CASES) >= 40
    for case in CASES:
        text = (case / "expected.txt").read_text(encoding="utf-8")
        assert text.startswith("# "), case.name
        assert _expected(case), case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validate_reports_expected(case: Path) -> None:
    """`matcher validate` on the case: exit 2, the expected lines at once, nothing written."""
    before = _snapshot(case)
    _assert_clean_failure(_run("validate", case), _expected(case))
    assert _snapshot(case) == before


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_solve_writes_nothing(case: Path, tmp_path: Path) -> None:
    """`matcher solve` on the case: exit 2, the same lines as validate, no result folder."""
    before = _snapshot(case)
    out = tmp_path / "results" / "run"
    lines = _assert_clean_failure(_run("solve", case, "--out", out), _expected(case))
    assert lines == _run("validate", case).stderr.splitlines()
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert _snapshot(case) == before


@pytest.mark.parametrize("name", ["binary-garbage", *[
    pytest.param(n, marks=pytest.mark.slow)
    for n in ("yaml-bomb", "formula-id", "empty-folder", "stray-quote-merges-rows")]])
def test_real_command(name: str, tmp_path: Path) -> None:
    """The installed command in a subprocess, as a user runs it: exit 2, the lines, no output
    (one case by default, every case also runs in process above; all five with --thorough)."""
    case = BAD / name
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "matcher.cli", "solve", str(case), "--out",
                        str(out)], capture_output=True, text=True, encoding="utf-8",
                       cwd=tmp_path, timeout=120)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    for want in _expected(case):
        assert any(want in line for line in lines), (want, lines)
    assert not out.exists()


def test_cases_match_the_generator(tmp_path: Path) -> None:
    """Every folder is what make_cases.py writes (so the corpus can be regenerated safely)."""
    sys.path.insert(0, str(BAD))
    try:
        import make_cases
    finally:
        sys.path.remove(str(BAD))
    assert sorted(c.name for c in make_cases.CASES) == [c.name for c in CASES]
    for case in make_cases.CASES:
        fresh = make_cases.write_case(case, tmp_path)
        assert _snapshot(fresh) == _snapshot(BAD / case.name), case.name


# ---- cases built on the fly -------------------------------------------------------------------
@pytest.fixture
def scen(tmp_path: Path) -> Path:
    """A private copy of the tiny scenario."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


def test_link_outside_folder(scen: Path, tmp_path: Path) -> None:
    """A table that is a symbolic link to a file outside the scenario folder is refused."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.move(scen / "students.csv", outside / "students.csv")
    (scen / "students.csv").symlink_to(outside / "students.csv")
    out = tmp_path / "out"
    _assert_clean_failure(_run("solve", scen, "--out", out), [
        "students.csv: links to a file outside the scenario folder; copy the file into the "
        "folder instead of linking to it"])
    assert not out.exists()


def test_link_inside_folder_is_fine(scen: Path) -> None:
    """A link to a file inside the scenario folder is read like the file itself."""
    (scen / "data").mkdir()
    shutil.move(scen / "students.csv", scen / "data" / "students.csv")
    (scen / "students.csv").symlink_to(Path("data") / "students.csv")
    assert len(load_scenario(scen).students) == 6


def test_file_over_size_limit(scen: Path, tmp_path: Path) -> None:
    """A table over MAX_FILE_BYTES is refused before it is read (a sparse file: no disk used)."""
    with (scen / "pairs.csv").open("r+b") as f:
        f.truncate(mio.MAX_FILE_BYTES + 1)
    out = tmp_path / "out"
    _assert_clean_failure(_run("solve", scen, "--out", out), [
        "pairs.csv: 64.0 MiB, over the 64 MiB limit for one input file"])
    assert not out.exists()


def test_yaml_over_size_limit(scen: Path) -> None:
    """A scenario.yaml over 1 MiB (it holds settings, never data) is refused."""
    with (scen / "scenario.yaml").open("a", encoding="utf-8") as f:
        f.write("# padding\n" * (mio.MAX_YAML_BYTES // 10 + 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(scen)
    assert info.value.messages == [
        "scenario.yaml: 1.0 MiB, over the 1 MiB limit for one input file; check that it is the "
        "right file, or split the scenario"]


def test_yaml_read_with_safe_loader(scen: Path, tmp_path: Path) -> None:
    """A python tag never runs: the would-be side effect (a file) does not appear."""
    marker = tmp_path / "pwned"
    text = (scen / "scenario.yaml").read_text(encoding="utf-8")
    (scen / "scenario.yaml").write_text(text.replace(
        "name: tiny", f"name: !!python/object/apply:pathlib.Path.touch [!!python/object/apply:"
        f"pathlib.Path ['{marker}']]"), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(scen)
    assert "is not allowed" in info.value.messages[0]
    assert not marker.exists()


# ---- what the loader accepts on purpose -------------------------------------------------------
def _same_problem(a: Path, b: Path) -> None:
    pa, pb = load_scenario(a), load_scenario(b)
    for field in ENTITIES:
        assert getattr(pa, field) == getattr(pb, field), field


def test_stray_whitespace_trimmed(scen: Path) -> None:
    """Spaces, tabs and no-break spaces around cells and header names are trimmed and accepted."""
    for path in scen.glob("*.csv"):
        lines = path.read_text(encoding="utf-8").splitlines()
        padded = [",".join(f" \t{c}\u00a0 " for c in line.split(",")) + "  " for line in lines]
        path.write_text("\n".join(padded) + "\n", encoding="utf-8")
    _same_problem(scen, TINY)


def test_crlf_blank_lines_and_empty_rows_accepted(scen: Path) -> None:
    """Windows line ends, blank lines and rows of empty cells (Excel's leftovers) are no rows."""
    path = scen / "students.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_bytes(("\r\n".join([*lines[:3], "", *lines[3:], ",,,,,,", " , ,"]) + "\r\n")
                     .encode("utf-8"))
    _same_problem(scen, TINY)


def test_unknown_files_and_columns_ignored(scen: Path) -> None:
    """Notes, READMEs, unrelated CSVs and extra columns are ignored (a near-miss name is not)."""
    (scen / "notes.txt").write_text("call the enterprise on Monday\n", encoding="utf-8")
    (scen / "contacts.csv").write_text("who,phone\nLi,123\n", encoding="utf-8")
    shutil.copy(scen / "students.csv", scen / "students (copy).csv")
    path = scen / "students.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",name,notes"]
                              + [line + f",Student {k},\"multi word, note\""
                                 for k, line in enumerate(lines[1:])]) + "\n",
                    encoding="utf-8")
    _same_problem(scen, TINY)


def test_line_break_in_unknown_column_refused(scen: Path) -> None:
    """A line break even in an ignored column is refused: it may hide rows merged by a quote."""
    path = scen / "students.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",notes", lines[1] + ',"two\nlines"', *lines[2:]])
                    + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(scen)
    assert info.value.messages == [
        "students.csv row 1, notes: holds a line break; remove it (a stray quote \" may have "
        "merged rows into this cell)"]


def test_gb18030_file_still_loads(scen: Path) -> None:
    """A file wholly in GB18030 (Chinese Excel) is not mistaken for mixed encodings."""
    path = scen / "workstations.csv"
    text = path.read_text(encoding="utf-8").replace("Harbin", "哈尔滨").replace("Daqing", "大庆")
    path.write_bytes(text.encode("gb18030"))
    assert [w.city for w in load_scenario(scen).workstations] == ["哈尔滨", "哈尔滨", "大庆"]


# ---- what matcher solve prints about students -------------------------------------------------
STUDENT_IDS = re.compile(r"\bS[1-6]\b")


def _with_names(scen: Path) -> list[str]:
    """Add a name column to students.csv (the loader ignores it); return the names."""
    path = scen / "students.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    names = [f"Zhang Wei{k}" for k in range(1, len(lines))]
    path.write_text("\n".join([lines[0] + ",name"] + [f"{line},{n}" for line, n in
                                                       zip(lines[1:], names, strict=True)])
                    + "\n", encoding="utf-8")
    return names


def test_solve_prints_no_student_names_or_ids(scen: Path, tmp_path: Path) -> None:
    """At default verbosity validate and solve print counts, never a student's name or id."""
    names = _with_names(scen)
    outputs = [_run("validate", scen), _run("solve", scen, "--out", tmp_path / "out",
                                            "--workers", "1")]
    for r in outputs:
        assert r.exit_code == 0, r.output
        assert not STUDENT_IDS.search(r.output), r.output
        assert not any(n in r.output for n in names)


def test_errors_never_echo_names(scen: Path, tmp_path: Path) -> None:
    """An error in a student's row names the file, row and column, never the name cell."""
    names = _with_names(scen)
    path = scen / "students.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("S3,HEU,0854,3,",
                                                             "S3,HEU,0854,x,"),
                    encoding="utf-8")
    r = _run("solve", scen, "--out", tmp_path / "out")
    _assert_clean_failure(r, ["students.csv row 3, work_experience_years: 'x' is not a number"])
    assert not any(n in r.output for n in names)


def test_infeasible_note_names_no_students(scen: Path, tmp_path: Path) -> None:
    """When the locks conflict, solve says which locks.csv rows, not which students: two locks
    on W1's one place (the loader: both students' windows leave them both terms), and two
    whose conflict only the solver finds (S5, made a one-term student, may take either term
    of W3's one place, but S4 holds both)."""
    (scen / "locks.csv").write_text("student_id,workstation_id\nS1,W1\nS2,W1\n",
                                    encoding="utf-8")
    r = _run("solve", scen, "--out", tmp_path / "out", "--workers", "1")
    assert r.exit_code == 2 and "locks.csv" in r.output and "1, 2" in r.output, r.output
    assert not STUDENT_IDS.search(r.output), r.output
    path = scen / "students.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("S5,HEU,0855,0,", "S5,HEU,0855,3,"),
                    encoding="utf-8")
    (scen / "locks.csv").write_text("student_id,workstation_id\nS4,W3\nS5,W3\n",
                                    encoding="utf-8")
    r = _run("solve", scen, "--out", tmp_path / "out2", "--workers", "1")
    assert r.exit_code == 1 and "INFEASIBLE" in r.stdout, r.output
    assert not STUDENT_IDS.search(r.output), r.output
