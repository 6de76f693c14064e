"""Tests of what-if variants (:mod:`matcher.planning.variant`, ``matcher variant``).

Each change of the variant schema is applied to ``scenarios/tiny`` (or a copy) and its effect is
checked row by row; the written folder must load with :func:`matcher.load_scenario`; errors in a
variant file are one line naming the file and the key, exit code 2, nothing written.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from matcher import ScenarioError, load_scenario
from matcher.cli import cli
from matcher.formats.scenario import write_scenario
from matcher.model import Problem
from matcher.model.capacity import built_in_code
from matcher.planning.variant import (
    VariantSpec,
    apply_variant,
    build_variant,
    draw_students,
    new_ids,
    read_variant,
    scale_largest_remainder,
    write_variant,
)

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
DEMO = ROOT / "scenarios" / "heilongjiang-demo"


def _run(*args: str | Path) -> Result:
    """Invoke the CLI in-process; stdout and stderr kept apart."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def _same(a: Problem, b: Problem) -> bool:
    """Equal as problems, ignoring where they were read from."""
    skip = set(built_in_code()) | {"name"}
    return a.model_dump(exclude=skip) == b.model_dump(exclude=skip)


def _variant(folder: Path, text: str, name: str = "v.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _errors(path: Path, base: Path | None = None) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        build_variant(path, base)
    return info.value.messages


# ---- writing scenarios ---------------------------------------------------------------------
@pytest.mark.parametrize("scenario", [TINY, DEMO], ids=["tiny", "demo"])
def test_write_scenario_round_trip(scenario: Path, tmp_path: Path) -> None:
    """A problem written by write_scenario loads back as the same problem (every table)."""
    p = load_scenario(scenario)
    write_scenario(p, tmp_path / "copy")
    assert _same(load_scenario(tmp_path / "copy"), p)


# ---- the rounding rule --------------------------------------------------------------------------
def test_largest_remainder_by_hand() -> None:
    """1.5 x (1, 3, 1): exact 1.5, 4.5, 1.5 (total 7.5 -> 8); floors 1, 4, 1; ties by id."""
    assert scale_largest_remainder([("W1", 1), ("W2", 3), ("W3", 1)], 1.5) == {
        "W1": 2, "W2": 5, "W3": 1}
    assert scale_largest_remainder([("a", 7), ("b", 0)], 0.9) == {"a": 6, "b": 0}  # 6.3 -> 6
    assert scale_largest_remainder([("a", 5)], 0.9) == {"a": 5}  # 4.5 rounds half up
    assert scale_largest_remainder([("a", 1), ("b", 1)], 0) == {"a": 0, "b": 0}


def test_largest_remainder_keeps_the_total() -> None:
    """For random capacities and factors the total is the exact total rounded half up, and no
    capacity moves more than one place from its exact value."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        caps = [(f"W{k}", int(c)) for k, c in enumerate(rng.integers(0, 13, size=20))]
        factor = float(np.round(rng.uniform(0, 3), 2))
        out = scale_largest_remainder(caps, factor)
        f = Fraction(repr(factor))
        exact = sum(c * f for _, c in caps)
        assert sum(out.values()) == int(exact + Fraction(1, 2))
        for i, c in caps:
            assert abs(out[i] - c * f) < 1
            assert c != 0 or out[i] == 0


# ---- ids and draws ------------------------------------------------------------------------------
def test_new_ids_continue_the_numbering() -> None:
    """New ids continue the most common pattern after the highest number and skip taken ones."""
    assert new_ids({"S00001", "S02000"}, 2, ["S00001", "S02000"]) == ["S02001", "S02002"]
    assert new_ids({"S1", "S2", "S4"}, 2, ["S1", "S2"]) == ["S5", "S6"]
    assert new_ids({"alice"}, 1, ["alice"]) == ["NEW-00001"]
    assert new_ids(set(), 1, ["S1"], prefix="C2-") == ["C2-S1"]


def test_draw_students_copies_base_students() -> None:
    """Drawn students are copies of base students with new ids and no given supervisor."""
    p = load_scenario(TINY)
    drawn = draw_students(p.students, 20, np.random.default_rng(3), taken=set())
    base = {s.student_id: s for s in p.students}
    assert len({s.student_id for s in drawn}) == 20 and not {s.student_id for s in drawn} & set(
        base)
    for s in drawn:
        assert s.supervisor_id is None
        twins = [b for b in base.values() if b.model_copy(update={
            "student_id": s.student_id, "supervisor_id": None}) == s]
        assert twins, s


# ---- every change on tiny -----------------------------------------------------------------------
def test_every_change_applied(tmp_path: Path) -> None:
    """remove, scale, add (inline and CSV), close, policy and intake each do exactly this."""
    (tmp_path / "ws.csv").write_text(
        "workstation_id,disciplines,capacity,partner_universities,city\n"
        "W5,0856,2,,Harbin\n", encoding="utf-8")
    path = _variant(tmp_path, f"""
base: {TINY}
name: tiny-what-if
seed: 4
remove_workstations: [W1]
scale_capacity:
  - {{factor: 2, city: Harbin}}
add_workstations:
  - {{workstation_id: W4, disciplines: "0854;0856", capacity: 3, city: Daqing}}
add_mentors:
  - {{mentor_id: W4-A, workstation_id: W4, disciplines: ["0856"], capacity: 2}}
close:
  - {{workstation_id: W3, terms: [2027-spring]}}
policy: {{practice_months: 6, preferences_only: true}}
intake_pct: 50
""")
    v = build_variant(path)
    p = v.problem
    base = load_scenario(TINY)
    assert p.name == "tiny-what-if"
    ws = {w.workstation_id: w for w in p.workstations}
    assert list(ws) == ["W2", "W3", "W4"]  # W1 removed, W4 added; the CSV is not used here
    assert ws["W2"].capacity == 6 and ws["W3"].capacity == 1  # W2 is in Harbin, W3 in Daqing
    assert [(tc.workstation_id, tc.term, tc.capacity) for tc in p.term_capacities] == [
        ("W2", "2027-spring", 4), ("W3", "2027-spring", 0)]
    mentors = {m.mentor_id: m.capacity for m in p.mentors}
    assert mentors == {"W2-M1": 4, "W2-M2": 2, "W3-M1": 1, "W4-A": 2}  # W1-M1 gone
    assert p.policy.practice_months == 6 and p.policy.preferences_only
    assert p.policy.experienced_practice_months == base.policy.experienced_practice_months
    assert len(p.students) == 9
    new = p.students[6:]
    assert [s.student_id for s in new] == ["S7", "S8", "S9"]
    assert all(s.supervisor_id is None for s in new)
    assert all("W1" not in s.preferences for s in p.students)
    assert p.students[1].preferences == ()  # S2 listed only W1
    assert not p.pairs or all(pr.mentor_id in mentors for pr in p.pairs)
    again = build_variant(path)
    assert again.problem == p  # seeded: the same file gives the same scenario
    assert len(v.changes) == 7 and any("intake +50%" in c for c in v.changes)


def test_added_workstation_gets_a_default_mentor(tmp_path: Path) -> None:
    """A workstation added from a CSV without a mentor gets <id>-M1 covering all of it."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ws.csv").write_text(
        "workstation_id,disciplines,capacity,partner_universities\nW7,0855;0856,4,HEU\n",
        encoding="utf-8")
    v = build_variant(_variant(tmp_path, f"base: {TINY}\nadd_workstations: data/ws.csv\n"))
    m = [m for m in v.problem.mentors if m.workstation_id == "W7"]
    assert [(x.mentor_id, x.disciplines, x.capacity) for x in m] == [
        ("W7-M1", ("0855", "0856"), 4)]
    assert v.notes and "W7-M1" in v.notes[0]


def test_shrinking_keeps_locked_students(tmp_path: Path) -> None:
    """intake_pct < 0 removes that share of unlocked students, never a locked one."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "locks.csv").write_text("student_id,workstation_id\nS6,W3\n", encoding="utf-8")
    (folder / "students.csv").write_text(
        (folder / "students.csv").read_text(encoding="utf-8").replace(
            "S6,HEU,0856,0,W3", "S6,HEU,0855,0,W3"), encoding="utf-8")
    for seed in range(5):
        v = apply_variant(load_scenario(folder), VariantSpec(intake_pct=-50, seed=seed))
        ids = [s.student_id for s in v.problem.students]
        assert len(ids) == 3 and "S6" in ids


def test_cli_writes_a_loadable_scenario(tmp_path: Path) -> None:
    """matcher variant BASE FILE --out DIR writes a folder that loads and solves; BASE on the
    command line replaces the file's base; the changes are printed."""
    path = _variant(tmp_path, "base: does-not-matter\nscale_capacity: 2\n")
    out = tmp_path / "out"
    r = _run("variant", TINY, path, "--out", out)
    assert r.exit_code == 0, r.output
    assert "scaled capacity x2" in r.stdout
    p = load_scenario(out)
    assert [w.capacity for w in p.workstations] == [2, 6, 2]
    assert (out / "scenario.yaml").read_text(encoding="utf-8").startswith("# Variant")
    solved = _run("solve", out, "--solver", "greedy", "--out", tmp_path / "res")
    assert solved.exit_code == 0, solved.output
    again = _run("variant", TINY, path, "--out", out)
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_demo_variant_writes_full_scenario(tmp_path: Path) -> None:
    """On the demo: 20 more places in Daqing, 12-month practice for all, +15 % intake."""
    path = _variant(tmp_path, f"""
base: {DEMO}
scale_capacity: [{{factor: 1.2, city: Daqing}}]
policy: {{experienced_practice_months: 12}}
intake_pct: 15
""")
    v = build_variant(path)
    write_variant(v, tmp_path / "out")
    p = load_scenario(tmp_path / "out")
    base = load_scenario(DEMO)
    daqing = [w for w in base.workstations if w.city == "Daqing"]
    total = sum(w.capacity for w in daqing)
    assert sum(w.capacity for w in p.workstations if w.city == "Daqing") == round(total * 1.2)
    assert len(p.students) == 2300
    assert p.policy.experienced_practice_months == 12


# ---- occupancy carried along --------------------------------------------------------------------
def test_occupancy_is_carried_and_checked(tmp_path: Path) -> None:
    """The base's occupancy.csv goes to the variant (rows at removed workstations dropped) and
    must still fit the changed capacities."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "occupancy.csv").write_text(
        "workstation_id,term,used\nW1,2026-autumn,1\nW2,2026-autumn,2\n", encoding="utf-8")
    v = build_variant(_variant(tmp_path, "remove_workstations: [W1]\n"), folder)
    assert [(o.workstation_id, o.used) for o in v.occupancy] == [("W2", 2)]
    write_variant(v, tmp_path / "out")
    assert (tmp_path / "out" / "occupancy.csv").is_file()
    reduced = load_scenario(tmp_path / "out")
    assert ("W2", "2026-autumn", 1) in [(t.workstation_id, t.term, t.capacity)
                                        for t in reduced.term_capacities]
    # 0.3 x (1, 3, 1): exact 0.3, 0.9, 0.3 (total 1.5 -> 2) -> W1 1, W2 1, W3 0
    lines = _errors(_variant(tmp_path, "scale_capacity: 0.3\n", "cut.yaml"), folder)
    assert lines == [f"occupancy.csv row 2, used: {tmp_path / 'cut.yaml'}, scale_capacity: "
                     "after the changes: 'W2' holds 1 place(s) in 2026-autumn but 2 are used "
                     "(rows add up); lower the places used or raise the capacity in "
                     "workstations.csv or workstation_terms.csv"]


def test_occupancy_sheet_of_a_workbook_base(tmp_path: Path) -> None:
    """A workbook base's occupancy sheet is carried like occupancy.csv."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "occupancy.csv").write_text("workstation_id,term,used\nW2,2026-autumn,2\n",
                                          encoding="utf-8")
    book = tmp_path / "book" / "tiny.xlsx"
    book.parent.mkdir()
    subprocess.run([sys.executable, str(ROOT / "scenarios" / "make_xlsx.py"), str(folder),
                    str(book)], check=True, capture_output=True, timeout=120)
    v = build_variant(_variant(tmp_path, "scale_capacity: 2\n"), book)
    assert [(o.workstation_id, o.term, o.used) for o in v.occupancy] == [
        ("W2", "2026-autumn", 2)]


# ---- errors -------------------------------------------------------------------------------------
def test_errors_name_file_and_key(tmp_path: Path) -> None:
    """Every shape error is one line: the file, the key, what to do."""
    path = _variant(tmp_path, f"""
base: {TINY}
colour: red
scale_capacity: [{{factor: -1}}, {{factor: 1, town: X}}]
policy: {{practice_months: 6, bogus: 1}}
intake_pct: -100
close: [{{workstation_id: W1}}]
""")
    src = str(path)
    assert _errors(path) == [
        f"{src}, colour: unknown key; use one of base, name, description, seed, "
        "remove_workstations, scale_capacity, add_workstations, add_mentors, close, policy, "
        "intake_pct, remove_students, add_students, mentor_leave",
        f"{src}, scale_capacity[0].factor: give a factor from 0 to 1000, e.g. 0.9 or 1.2",
        f"{src}, scale_capacity[1].town: unknown key; use factor or min_intake and at most "
        "discipline, city, university",
        f"{src}, close[0].terms: give the list of terms to close it in, e.g. [2027-autumn]",
        f"{src}, policy.bogus: unknown setting; use one of practice_months, "
        "experienced_practice_months, experienced_years, window, preferences_only, max_segments, "
        "min_segment_months",
        f"{src}, intake_pct: give a percentage above -100 and at most 1000, e.g. 15 or -10",
    ]


def test_errors_against_the_base(tmp_path: Path) -> None:
    """Ids, cities and terms are checked against the base, each naming its key."""
    path = _variant(tmp_path, f"""
base: {TINY}
remove_workstations: [W9]
scale_capacity: [{{factor: 1.2, city: Dqing}}]
add_workstations: [{{workstation_id: W2, disciplines: "0854", capacity: 1}}]
close: [{{workstation_id: W3, terms: [2031-spring]}}]
policy: {{practice_months: 0}}
""")
    src = str(path)
    assert _errors(path) == [
        f"{src}, remove_workstations[0]: unknown workstation 'W9' (not in the scenario's "
        "workstations.csv); check the id",
        f"{src}, scale_capacity[0]: no workstation matches city Dqing; use a city of "
        "workstations.csv (Daqing, Harbin)",
        f"{src}, add_workstations[0]: workstation 'W2' is already in the scenario; give a new "
        "id, or remove the old one first",
        f"{src}, close[0].terms: unknown term '2031-spring'; use terms of the base scenario: "
        "2025-autumn, 2026-spring, 2026-autumn, 2027-spring",
        f"{src}, policy.practice_months: is too small; give a value >= 1",
    ]


def test_policy_that_breaks_a_rule(tmp_path: Path) -> None:
    """A policy no student's window can hold is reported with the variant's key and the rule."""
    lines = _errors(_variant(tmp_path, f"base: {TINY}\npolicy: {{practice_months: 36}}\n"))
    assert lines[0] == (  # location first, then what made the change (as .structured)
        f"students.csv row 1, required_months: {tmp_path / 'v.yaml'}, policy: the changed "
        "scenario breaks a rule: window 2026-autumn..2027-spring has 2 term(s) but the student "
        "needs 6 (36 months); widen the window or lower required_months")


def test_csv_must_stay_in_the_variant_folder(tmp_path: Path) -> None:
    """A CSV path (or a link) leading out of the variant file's folder is refused."""
    (tmp_path / "outside.csv").write_text("workstation_id,disciplines,capacity,"
                                          "partner_universities\nW9,0854,1,\n", encoding="utf-8")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "link.csv").symlink_to(tmp_path / "outside.csv")
    for ref in ("../outside.csv", "link.csv", str(tmp_path / "outside.csv")):
        path = _variant(sub, f"base: {TINY}\nadd_workstations: {ref}\n")
        assert _errors(path) == [
            f"{path}, add_workstations: '{ref}' is outside the variant file's folder; put the "
            "CSV next to the variant file (or in a folder below it) and give its relative path"]


def test_bad_csv_rows_are_located(tmp_path: Path) -> None:
    """A bad cell in an added CSV names the variant file, the key, the CSV, row and column."""
    (tmp_path / "ws.csv").write_text("workstation_id,disciplines,capacity,partner_universities\n"
                                     "W7,0854,-2,\n", encoding="utf-8")
    path = _variant(tmp_path, f"base: {TINY}\nadd_workstations: ws.csv\n")
    assert _errors(path) == [f"{path}, add_workstations: ws.csv row 1, capacity: '-2' is too "
                             "small; give a value >= 0"]


def test_cli_bad_variant_exits_2_writes_nothing(tmp_path: Path) -> None:
    """A broken variant file: exit 2, one 'error:' line per problem, no folder."""
    path = _variant(tmp_path, "scale_capacity: many\n")
    out = tmp_path / "out"
    r = _run("variant", TINY, path, "--out", out)
    assert r.exit_code == 2
    assert r.stderr == (f"error: {path}, scale_capacity: give a factor from 0 to 1000, e.g. 0.9 "
                        "or 1.2\n")
    assert not out.exists()
    fine = _variant(tmp_path, "scale_capacity: 2\n", "fine.yaml")
    missing = _run("variant", fine, "--out", out)  # no BASE, and the file names none
    assert missing.exit_code == 2 and missing.stderr == (
        f"error: {fine}, base: missing; name the base scenario folder (relative to this file) "
        "or give BASE on the command line\n")
    base_bad = _run("variant", tmp_path / "nope", fine, "--out", out)
    assert base_bad.exit_code == 2 and base_bad.stderr.startswith(
        f"error: {tmp_path / 'nope'}: base scenario {tmp_path / 'nope'}: ")  # location first
    assert not out.exists()


def test_read_variant_defaults(tmp_path: Path) -> None:
    """An empty variant file is valid: its name is the file's, nothing changes."""
    spec = read_variant(_variant(tmp_path, "", "same.yaml"))
    assert spec.name == "same" and spec.base is None
    v = apply_variant(load_scenario(TINY), spec)
    assert _same(v.problem, load_scenario(TINY)) and v.changes == ()
