"""Tests of the scenario loader (:func:`matcher.load_scenario`) and its error-message contract.

Every test copies ``scenarios/tiny`` into a temporary folder, breaks one thing and asserts the
exact line(s) the loader reports: the file, the data row (1-based, header excluded), the column,
the bad value and what to do.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

import matcher
from matcher import ScenarioError, load_scenario

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
ENTITY_FIELDS = ("students", "workstations", "mentors", "supervisors", "universities",
                 "term_capacities", "pairs", "locks", "rankings")
LOCK_HEADER = "student_id,workstation_id,mentor_id,start_term\n"


@pytest.fixture
def scen(tmp_path: Path) -> Path:
    """A private copy of the tiny scenario."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    """Replace the first occurrence of ``old`` (which must be there) in a file."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _add_student_columns(folder: Path, header: str, cells: dict[str, str]) -> None:
    """Append columns to students.csv; ``cells`` maps student_id -> the new cells."""
    path = folder / "students.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    blank = "," * header.count(",")
    out = [lines[0] + "," + header]
    out += [line + "," + cells.get(line.split(",")[0], blank) for line in lines[1:]]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _errors(folder: Path) -> list[str]:
    """The lines of the ScenarioError that loading ``folder`` must raise."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    messages = info.value.messages
    assert messages, "a ScenarioError must carry at least one line"
    assert str(info.value) == "\n".join(messages)
    return messages


# ---- a valid scenario -----------------------------------------------------------------------
def test_tiny_loads(scen: Path) -> None:
    """The untouched copy of tiny loads into a Problem with every table."""
    p = load_scenario(scen)
    assert isinstance(p, matcher.Problem)
    assert [s.student_id for s in p.students] == ["S1", "S2", "S3", "S4", "S5", "S6"]
    assert [w.workstation_id for w in p.workstations] == ["W1", "W2", "W3"]
    assert len(p.mentors) == 4 and len(p.supervisors) == 3 and len(p.pairs) == 1
    assert p.students[0].preferences == ("W1", "W2")
    assert p.students[1].supervisor_id is None
    assert len(p.input_sha256) == 64


# ---- missing things -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["scenario.yaml", "students.csv", "workstations.csv",
                                  "mentors.csv", "supervisors.csv"])
def test_missing_required_file(scen: Path, name: str) -> None:
    """A missing required file is named, with where it must be."""
    (scen / name).unlink()
    assert _errors(scen) == [f"{name}: missing file; every scenario needs {name} in {scen}"]


def test_missing_folder(tmp_path: Path) -> None:
    """A folder that does not exist is one clear line."""
    msgs = _errors(tmp_path / "nope")
    assert len(msgs) == 1
    assert msgs[0].startswith(f"{tmp_path / 'nope'}: not a scenario folder")


def test_missing_column(scen: Path) -> None:
    """A missing required column is named with the columns the header must have."""
    _edit(scen, "workstations.csv", "capacity,partner", "cap,partner")
    assert _errors(scen) == [
        "workstations.csv: missing column 'capacity'; the header must name workstation_id, "
        "disciplines, capacity, partner_universities"]


# ---- duplicates and unknown references ------------------------------------------------------
@pytest.mark.parametrize(("name", "old", "new", "line"), [
    ("students.csv", "S5,HEU", "S4,HEU",
     "students.csv row 5, student_id: duplicate id 'S4' (also row 4); ids must be unique"),
    ("workstations.csv", "W3,0855,1,,Daqing", "W3,0855,1,,Daqing\nW3,0855,1,,Daqing",
     "workstations.csv row 4, workstation_id: duplicate id 'W3' (also row 3); ids must be "
     "unique"),
    ("mentors.csv", "W3-M1,W3,0855,1", "W3-M1,W3,0855,1\nW2-M1,W2,0854,1",
     "mentors.csv row 5, mentor_id: duplicate id 'W2-M1' (also row 2); ids must be unique"),
    ("supervisors.csv", "HEU-S2,HEU,0855;0856,1", "HEU-S2,HEU,0855;0856,1\nHEU-S2,HEU,0855,1",
     "supervisors.csv row 4, supervisor_id: duplicate id 'HEU-S2' (also row 3); ids must be "
     "unique"),
])
def test_duplicate_ids(scen: Path, name: str, old: str, new: str, line: str) -> None:
    """A duplicate id names its row and the row it repeats."""
    _edit(scen, name, old, new)
    assert _errors(scen) == [line]


def test_duplicate_supervisor_resolves_to_first_row(scen: Path) -> None:
    """A later duplicate of a supervisor does not change what the first row's id means."""
    _edit(scen, "supervisors.csv", "HEU-S2,HEU,0855;0856,1",
          "HEU-S2,HEU,0855;0856,1\nHEU-S1,HEU,0856,1")
    assert _errors(scen) == [
        "supervisors.csv row 4, supervisor_id: duplicate id 'HEU-S1' (also row 2); ids must be "
        "unique"]


@pytest.mark.parametrize(("name", "old", "new", "line"), [
    ("students.csv", "S4,HEU", "S4,XYZ",
     "students.csv row 4, university_id: unknown university 'XYZ' (not in universities.csv)"),
    ("supervisors.csv", "HEU-S2,HEU", "HEU-S2,XYZ",
     "supervisors.csv row 3, university_id: unknown university 'XYZ' (not in "
     "universities.csv)"),
    ("students.csv", "W2;W3", "W2;W9",
     "students.csv row 4, preferences: unknown workstation 'W9' (not in workstations.csv)"),
    ("students.csv", "W2,HEU-S1", "W2,HEU-S9",
     "students.csv row 3, supervisor_id: unknown supervisor 'HEU-S9' (not in "
     "supervisors.csv)"),
    ("mentors.csv", "W3-M1,W3", "W3-M1,W7",
     "mentors.csv row 4, workstation_id: unknown workstation 'W7' (not in workstations.csv)"),
    ("workstation_terms.csv", "W2,2027-spring", "W2,2029-spring",
     "workstation_terms.csv row 1, term: unknown term '2029-spring' (not in terms: "
     "2025-autumn, 2026-spring, 2026-autumn, 2027-spring)"),
    ("pairs.csv", "HEU-S2,W2-M2", "HEU-S2,W2-M9",
     "pairs.csv row 1, mentor_id: unknown mentor 'W2-M9' (not in mentors.csv)"),
])
def test_unknown_reference(scen: Path, name: str, old: str, new: str, line: str) -> None:
    """A reference to an id that no table defines is named with the table to fix."""
    _edit(scen, name, old, new)
    assert _errors(scen) == [line]


def test_unknown_term_in_window_start(scen: Path) -> None:
    """A student's window_start that is not a scenario term is reported."""
    _add_student_columns(scen, "window_start", {"S4": "2029-autumn"})
    assert _errors(scen) == [
        "students.csv row 4, window_start: unknown term '2029-autumn' (not in terms: "
        "2025-autumn, 2026-spring, 2026-autumn, 2027-spring)"]


def test_given_supervisor_of_another_university(scen: Path) -> None:
    """A given supervisor must be of the student's own university."""
    _edit(scen, "students.csv", "W2,HEU-S1,80.0", "W2,HIT-S1,80.0")
    assert _errors(scen) == [
        "students.csv row 3, supervisor_id: supervisor 'HIT-S1' is at university 'HIT', not the "
        "student's 'HEU'; give a supervisor of the student's own university or leave it empty"]


def test_given_supervisor_without_discipline(scen: Path) -> None:
    """A given supervisor must supervise the student's discipline."""
    _edit(scen, "students.csv", "S6,HEU,0856,0,W3,,", "S6,HEU,0856,0,W3,HEU-S1,")
    assert _errors(scen) == [
        "students.csv row 6, supervisor_id: supervisor 'HEU-S1' does not supervise discipline "
        "'0856'; give another supervisor or leave it empty"]


# ---- numbers --------------------------------------------------------------------------------
def test_negative_capacity(scen: Path) -> None:
    """A negative capacity names the row, the value and the allowed range."""
    _edit(scen, "mentors.csv", "W3-M1,W3,0855,1", "W3-M1,W3,0855,-1")
    assert _errors(scen) == ["mentors.csv row 4, capacity: '-1' is too small; give a value >= 0"]


def test_non_integer_capacity(scen: Path) -> None:
    """A capacity of 2.5 is not a whole number."""
    _edit(scen, "workstations.csv", "W1,0854,1,", "W1,0854,2.5,")
    msgs = _errors(scen)
    assert len(msgs) == 1
    assert msgs[0].startswith("workstations.csv row 1, capacity: '2.5' is not a whole number; ")


def test_unreadable_number(scen: Path) -> None:
    """Text in a number column is named with its value."""
    _edit(scen, "students.csv", "S3,HEU,0854,3,", "S3,HEU,0854,abc,")
    assert _errors(scen) == [
        "students.csv row 3, work_experience_years: 'abc' is not a number; give a plain number"]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_nan_and_inf_rejected(scen: Path, value: str) -> None:
    """NaN and infinities are not accepted as numbers."""
    _edit(scen, "students.csv", "S3,HEU,0854,3,", f"S3,HEU,0854,{value},")
    assert _errors(scen) == [f"students.csv row 3, work_experience_years: '{value}' is not a "
                             "finite number; give a plain number"]


def test_nan_in_optional_float(scen: Path) -> None:
    """NaN in an optional number column (lat) is rejected too."""
    _edit(scen, "workstations.csv", "45.7500", "NaN")
    assert _errors(scen) == [
        "workstations.csv row 1, lat: 'NaN' is not a finite number; give a plain number"]


# ---- windows --------------------------------------------------------------------------------
def test_window_shorter_than_block(scen: Path) -> None:
    """A student's window with fewer terms than the required block is reported."""
    _add_student_columns(scen, "window_start,window_end", {"S1": "2027-spring,2027-spring"})
    assert _errors(scen) == [
        "students.csv row 1, window_end: window 2027-spring..2027-spring has 1 term(s) but the "
        "student needs 2 (12 months); widen the window or lower required_months"]


def test_required_months_longer_than_window(scen: Path) -> None:
    """A required_months that needs more terms than the default window has is reported."""
    _add_student_columns(scen, "required_months", {"S2": "36"})
    assert _errors(scen) == [
        "students.csv row 2, required_months: window 2026-autumn..2027-spring has 2 term(s) but "
        "the student needs 6 (36 months); widen the window or lower required_months"]


# ---- empty tables ---------------------------------------------------------------------------
def test_header_only_table(scen: Path) -> None:
    """A required table with a header but no rows is reported."""
    (scen / "mentors.csv").write_text("mentor_id,workstation_id,disciplines,capacity\n",
                                      encoding="utf-8")
    assert _errors(scen) == ["mentors.csv: no data rows; add at least one row under the header"]


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_completely_empty_file(scen: Path, content: bytes) -> None:
    """A file with nothing in it (or only blank lines / a BOM) is reported."""
    (scen / "students.csv").write_bytes(content)
    assert _errors(scen) == [
        "students.csv: the file is empty; it needs a header row and data rows"]


def test_optional_table_header_only_is_fine(scen: Path) -> None:
    """An optional table (locks.csv) with only a header means no locks."""
    (scen / "locks.csv").write_text(LOCK_HEADER, encoding="utf-8")
    assert load_scenario(scen).locks == ()


# ---- several errors at once -----------------------------------------------------------------
def test_errors_in_different_files_reported_together(scen: Path) -> None:
    """Cell errors in two files come in one raise."""
    _edit(scen, "students.csv", "S3,HEU,0854,3,", "S3,HEU,0854,abc,")
    _edit(scen, "mentors.csv", "W3-M1,W3,0855,1", "W3-M1,W3,0855,-1")
    _edit(scen, "workstations.csv", "W1,0854,1,", "W1,0854,2.5,")
    msgs = _errors(scen)
    assert len(msgs) == 3
    assert {m.split(" ")[0] for m in msgs} == {"students.csv", "mentors.csv", "workstations.csv"}


def test_reference_errors_in_different_files_reported_together(scen: Path) -> None:
    """Cross-table errors in two files come in one raise."""
    _edit(scen, "students.csv", "W2;W3", "W2;W9")
    _edit(scen, "mentors.csv", "W3-M1,W3", "W3-M1,W7")
    _edit(scen, "students.csv", "W2,HEU-S1", "W2,HEU-S9")
    msgs = _errors(scen)
    assert sorted(msgs) == sorted([
        "students.csv row 4, preferences: unknown workstation 'W9' (not in workstations.csv)",
        "students.csv row 3, supervisor_id: unknown supervisor 'HEU-S9' (not in "
        "supervisors.csv)",
        "mentors.csv row 4, workstation_id: unknown workstation 'W7' (not in workstations.csv)",
    ])


def test_cell_and_reference_errors_reported_together(scen: Path) -> None:
    """A cell error in one file does not hide a reference error in another."""
    _edit(scen, "students.csv", "S3,HEU,0854,3,", "S3,HEU,0854,abc,")
    _edit(scen, "mentors.csv", "W3-M1,W3", "W3-M1,W7")
    msgs = _errors(scen)
    assert "mentors.csv row 4, workstation_id: unknown workstation 'W7' (not in " \
        "workstations.csv)" in msgs


def test_errors_capped_at_fifty(scen: Path) -> None:
    """More than 50 errors: the first 50 lines and one '... and N more' line."""
    rows = ["student_id,university_id,discipline,work_experience_years,preferences,"
            "supervisor_id"]
    rows += [f"X{i},HIT,0854,zz,," for i in range(60)]
    (scen / "students.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    msgs = _errors(scen)
    assert len(msgs) == 51
    assert msgs[0] == ("students.csv row 1, work_experience_years: 'zz' is not a number; "
                       "give a plain number")
    assert msgs[49].startswith("students.csv row 50, ")
    assert msgs[50].startswith("... and 10 more")


def test_row_numbers_count_blank_lines(scen: Path) -> None:
    """Row numbers match the spreadsheet even after a blank line."""
    _edit(scen, "students.csv", "S2,HIT", "\nS2,HIT")
    _edit(scen, "students.csv", "S5,HEU", "S5,XYZ")
    assert _errors(scen) == [
        "students.csv row 6, university_id: unknown university 'XYZ' (not in universities.csv)"]


# ---- encodings and separators ---------------------------------------------------------------
def test_utf8_bom_loads(scen: Path) -> None:
    """Every file saved as UTF-8 with a BOM (Excel's 'CSV UTF-8') loads."""
    for path in scen.iterdir():
        if path.suffix in (".csv", ".yaml"):
            path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    p = load_scenario(scen)
    assert p.students[0].student_id == "S1"
    assert p.workstations[0].workstation_id == "W1"
    assert p.name == "tiny"


def test_gb18030_loads(scen: Path) -> None:
    """A CSV saved as GB18030 (Chinese Excel) with Chinese city names loads."""
    path = scen / "workstations.csv"
    text = path.read_text(encoding="utf-8").replace("Harbin", "哈尔滨").replace("Daqing", "大庆")
    raw = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    path.write_bytes(raw)
    p = load_scenario(scen)
    assert [w.city for w in p.workstations] == ["哈尔滨", "哈尔滨", "大庆"]


def test_fullwidth_and_enumeration_separators(scen: Path) -> None:
    """Lists may be separated by '；' and '、' as well as ';'."""
    _edit(scen, "students.csv", "W2;W3", "W2；W3")
    _edit(scen, "students.csv", "W1;W2", "W1、W2")
    _edit(scen, "supervisors.csv", "0854;0855", "0854、0855")
    _edit(scen, "workstations.csv", "0854;0855", "0854；0855")
    p = load_scenario(scen)
    assert p.students[0].preferences == ("W1", "W2")
    assert p.students[3].preferences == ("W2", "W3")
    assert p.supervisors[1].disciplines == ("0854", "0855")
    assert p.workstations[1].disciplines == ("0854", "0855")


# ---- scenario.yaml --------------------------------------------------------------------------
def test_invalid_yaml(scen: Path) -> None:
    """Broken YAML is one line naming the file and the line (and the parser's reason)."""
    _edit(scen, "scenario.yaml", "term_months: 6", "term_months: [6")
    msgs = _errors(scen)
    assert len(msgs) == 1
    assert msgs[0].startswith("scenario.yaml line ")
    assert ": not valid YAML; check indentation and colons (" in msgs[0]


def test_unknown_yaml_key(scen: Path) -> None:
    """An unknown top-level key is named with the keys allowed."""
    with (scen / "scenario.yaml").open("a", encoding="utf-8") as f:
        f.write("colour: red\n")
    assert _errors(scen) == [
        "scenario.yaml, colour: unknown key; use one of description, name, objective, policy, "
        "solver, term_months, terms"]


def test_unknown_policy_setting(scen: Path) -> None:
    """A misspelt policy setting is named."""
    _edit(scen, "scenario.yaml", "preferences_only: false", "preferences_onlyy: false")
    assert _errors(scen) == ["scenario.yaml, policy.preferences_onlyy: unknown setting"]


def test_policy_window_unknown_term(scen: Path) -> None:
    """A policy window naming a term not in terms is reported."""
    _edit(scen, "scenario.yaml", "window: [2026-autumn, 2027-spring]",
          "window: [2026-autumn, 2029-spring]")
    assert _errors(scen) == [
        "scenario.yaml, policy.window: unknown term '2029-spring' (not in terms: "
        "2025-autumn, 2026-spring, 2026-autumn, 2027-spring)"]


# ---- locks ----------------------------------------------------------------------------------
def _locks(scen: Path, *rows: str) -> None:
    (scen / "locks.csv").write_text(LOCK_HEADER + "".join(r + "\n" for r in rows),
                                    encoding="utf-8")


def test_valid_lock_loads(scen: Path) -> None:
    """A lock that keeps every rule on its own loads."""
    _locks(scen, "S3,W2,W2-M1,2026-autumn")
    (lock,) = load_scenario(scen).locks
    assert (lock.student_id, lock.workstation_id, lock.mentor_id, lock.start_term) == (
        "S3", "W2", "W2-M1", "2026-autumn")


def test_lock_discipline_mismatch(scen: Path) -> None:
    """A lock at a workstation that does not take the student's discipline."""
    _locks(scen, "S3,W3,,")
    assert _errors(scen) == [
        "locks.csv row 1, workstation_id: lock of 'S3' at 'W3': the workstation does not take "
        "discipline '0854'; lock another workstation or add the discipline"]


def test_lock_mentor_discipline_mismatch(scen: Path) -> None:
    """A lock with a mentor who does not mentor the student's discipline."""
    _locks(scen, "S3,W2,W2-M2,")
    assert _errors(scen) == [
        "locks.csv row 1, mentor_id: lock of 'S3' at 'W2': mentor 'W2-M2' does not mentor "
        "discipline '0854'; lock another mentor or leave mentor_id empty"]


def test_lock_start_outside_window(scen: Path) -> None:
    """A locked start whose block leaves the student's window."""
    _locks(scen, "S1,W1,,2027-spring")
    assert _errors(scen) == [
        "locks.csv row 1, start_term: lock of 'S1' at 'W1': a 2-term block from '2027-spring' "
        "leaves the student's window 2026-autumn..2027-spring; choose a start inside it"]


def test_lock_in_closed_term(scen: Path) -> None:
    """A locked block covering a term the workstation is closed."""
    (scen / "workstation_terms.csv").write_text(
        "workstation_id,term,capacity\nW2,2027-spring,0\n", encoding="utf-8")
    _locks(scen, "S3,W2,,2027-spring")
    assert _errors(scen) == [
        "locks.csv row 1, start_term: lock of 'S3' at 'W2': the workstation is closed in "
        "2027-spring; choose another start_term or reopen the workstation in "
        "workstation_terms.csv"]


# ---- row order does not matter --------------------------------------------------------------
def _shuffle_rows(folder: Path, seed: int) -> None:
    rng = random.Random(seed)
    for path in sorted(folder.glob("*.csv")):
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        if len(rows) < 2:
            continue
        original = list(rows)
        while rows == original:
            rng.shuffle(rows)
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def test_shuffled_rows_same_entities(scen: Path) -> None:
    """Shuffling the data rows of every CSV gives a Problem with the same sets of entities."""
    before = load_scenario(scen)
    _shuffle_rows(scen, seed=7)
    after = load_scenario(scen)
    assert [s.student_id for s in after.students] != [s.student_id for s in before.students]
    for name in ENTITY_FIELDS:
        assert set(getattr(after, name)) == set(getattr(before, name)), name
        assert len(getattr(after, name)) == len(getattr(before, name)), name
    for name in ("name", "terms", "term_months", "policy", "solver", "objective"):
        assert getattr(after, name) == getattr(before, name), name


def test_shuffled_rows_solve_alike(scen: Path) -> None:
    """Shuffling the rows does not change the allocation the solver writes."""
    before = matcher.solve(load_scenario(scen), time_limit_s=20, seed=0, workers=1)
    _shuffle_rows(scen, seed=11)
    after = matcher.solve(load_scenario(scen), time_limit_s=20, seed=0, workers=1)
    assert after.placements == before.placements
    assert after.unassigned == before.unassigned
