"""Tests of comparing allocations (:mod:`matcher.planning.compare`, ``matcher compare``).

A result of ``scenarios/tiny`` is copied and changed by hand (planted differences); the
comparison must find exactly those students with exactly those kinds of change, and KPIs that
can be recomputed by hand.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from matcher import ScenarioError, load_scenario, solve, write_result
from matcher.cli import cli
from matcher.planning.compare import (
    ResultView,
    compare,
    kpis,
    moves,
    view_of,
    write_comparison,
)
from matcher.planning.compare import read_view as read_result
from matcher.planning.variant import VariantSpec, apply_variant

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
COLUMNS = ["student_id", "workstation_id", "mentor_id", "supervisor_id", "start_term",
           "end_term", "preference_rank"]


def _run(*args: str | Path) -> Result:
    """Invoke the CLI in-process; stdout and stderr kept apart."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def _write(folder: Path, rows: list[dict[str, str]], unassigned: list[str]) -> Path:
    folder.mkdir(parents=True)
    with (folder / "assignments.csv").open("w", encoding="utf-8", newline="") as f:
        # (without the terms column: start_term..end_term then say where a row is, as in a
        # folder from before it; the planted retiming edits only those)
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    (folder / "unassigned.csv").write_text(
        "student_id,reason\n" + "".join(f"{s},planted\n" for s in unassigned), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Tiny solved (A, the optimum) and a copy with three planted changes (B).

    A: S1 W2 (A+B), S2 W1 (A+B), S3 W2 (A), S4 W3 (A+B), S5 W2 (A+B); S6 unplaced.
    B: S4 unplaced; S5 moved W2 -> W3 (off its list); S3 retimed from 2026-autumn to
    2027-spring (W2 holds 2 then, and S5 left it). B keeps every rule.
    """
    root = tmp_path_factory.mktemp("compare")
    p = load_scenario(TINY)
    a = write_result(solve(p, "cpsat", seed=0, workers=1), root / "A")
    with (a / "assignments.csv").open(encoding="utf-8", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert [(r["workstation_id"], r["start_term"]) for r in rows.values()] == [
        ("W2", "2026-autumn"), ("W1", "2026-autumn"), ("W2", "2026-autumn"),
        ("W3", "2026-autumn"), ("W2", "2026-autumn")]
    b = {k: dict(v) for k, v in rows.items()}
    del b["S4"]
    b["S5"].update(workstation_id="W3", mentor_id="W3-M1", preference_rank="")
    b["S3"].update(start_term="2027-spring", end_term="2027-spring")
    return a, _write(root / "B", list(b.values()), ["S4", "S6"])


def test_finds_exactly_the_planted_moves(pair: tuple[Path, Path]) -> None:
    """The moves table lists S3 retimed, S4 unplaced, S5 moved, and nobody else."""
    a, b = pair
    p = load_scenario(TINY)
    c = compare([read_result(a), read_result(b)], [p, p])
    got = [(r.student_id, r.change) for r in c.moves.itertuples()]
    assert got == [("S3", "retimed"), ("S4", "unplaced"), ("S5", "moved")]
    s5 = c.moves[c.moves["student_id"] == "S5"].iloc[0]
    assert (s5["workstation_id_a"], s5["workstation_id_b"]) == ("W2", "W3")
    assert (s5["preference_rank_a"], s5["preference_rank_b"]) == ("1", "")
    counts = dict(zip(c.changes["change"], c.changes["students"], strict=True))
    assert counts == {"new": 0, "gone": 0, "placed": 0, "unplaced": 1, "moved": 1,
                      "retimed": 1, "mentor": 0, "supervisor": 0}


def test_kpis_by_hand(pair: tuple[Path, Path]) -> None:
    """KPIs recomputed from the rows: placed 5 -> 4, first choice 3/5 -> 2/4, top 3 5/5 -> 3/4,
    the rank distribution (first 3 -> 2, second 2 -> 1, S5 off its list), rank cost 7 -> 7 (S5
    off its list costs K+1 = 3), places used per term, no violations."""
    a, b = pair
    p = load_scenario(TINY)
    c = compare([read_result(a), read_result(b)], [p, p])
    k = c.kpis.set_index("kpi")
    assert list(k.columns) == ["A", "B", "delta:B"]
    expect = {
        "students": (6, 6, 0), "placed": (5, 4, -1), "unassigned": (1, 2, 1),
        "first_choice_share": (0.6, 0.5, -0.1), "top3_share": (1.0, 0.75, -0.25),
        "rank[1]": (3, 2, -1), "rank[2]": (2, 1, -1), "rank[3]": (0, 0, 0),
        "rank[4+]": (0, 0, 0), "rank[off_list]": (0, 1, 1),
        "rank_cost": (7, 7, 0), "violations": (0, 0, 0),
        # window 2026-autumn + 2027-spring: capacity 5 + 4; A uses 5 + 4, B 3 + 4
        "capacity_places": (9, 9, 0), "used_places": (9, 7, -2), "unused_places": (0, 2, 2),
        "used[2026-autumn]": (5, 3, -2), "used[2027-spring]": (4, 4, 0),
        "placed_share[university=HEU]": (0.75, 0.5, -0.25),
        "placed_share[university=HIT]": (1.0, 1.0, 0),
        "placed_share[discipline=0855]": (1.0, 0.5, -0.5),
        "placed_share[city=Harbin]": (5 / 6, 4 / 6, -1 / 6),
    }
    for kpi, values in expect.items():
        assert tuple(k.loc[kpi]) == pytest.approx(values, abs=1e-6), kpi


def test_mentor_and_supervisor_changes_without_scenario() -> None:
    """Same workstation and terms: a new mentor is 'mentor', only a new supervisor is
    'supervisor'; students only in one cohort are 'new' or 'gone'."""
    row = {"student_id": "S1", "workstation_id": "W", "mentor_id": "M1", "supervisor_id": "P1",
           "start_term": "t1", "end_term": "t2", "preference_rank": "1"}
    a = ResultView("a", "-", (row, {**row, "student_id": "S2"}, {**row, "student_id": "S3"}),
                   ("S4",))
    b = ResultView("b", "-", (
        {**row, "mentor_id": "M2"}, {**row, "student_id": "S2", "supervisor_id": "P2"},
        {**row, "student_id": "S3"}, {**row, "student_id": "S5"}), ())
    got = [(r["student_id"], r["change"]) for r in moves(a, b)]
    assert got == [("S1", "mentor"), ("S2", "supervisor"), ("S4", "gone"), ("S5", "new")]
    assert kpis(a, None) == {"students": 4, "placed": 3, "placed_share": 0.75, "unassigned": 1,
                             "first_choice_share": 1.0, "top3_share": 1.0, "rank_cost": None,
                             "pair_weight": None}


def test_variant_results_new_students() -> None:
    """A +50 % intake variant: exactly the three new students appear as 'new'."""
    p = load_scenario(TINY)
    v = apply_variant(p, VariantSpec(intake_pct=50, seed=1)).problem
    a, b = view_of(solve(p, "greedy"), "base"), view_of(solve(v, "greedy"), "more")
    c = compare([a, b], [p, v])
    new = c.moves[c.moves["change"] == "new"]["student_id"].tolist()
    assert new == ["S7", "S8", "S9"]
    assert c.kpis.set_index("kpi").loc["students"].tolist() == [6, 9, 3]


def test_wrong_scenario_is_refused(pair: tuple[Path, Path], tmp_path: Path) -> None:
    """A result compared with a scenario that lacks its students is an input error."""
    a, b = pair
    p = load_scenario(TINY)
    other = apply_variant(p, VariantSpec(intake_pct=-50, seed=0)).problem
    missing = sorted({s.student_id for s in p.students} - {s.student_id for s in
                                                            other.students})
    rows = {r["student_id"]: n for n, r in enumerate(read_result(a).rows, start=1)}
    first = min(missing, key=lambda s: rows.get(s, 99))
    with pytest.raises(ScenarioError) as info:
        compare([read_result(a), read_result(b)], [other, p])
    assert info.value.messages == [
        f"{a}/assignments.csv row {rows[first]}, student_id: '{first}' is not in the scenario "
        "given for A (tiny-variant); give the scenario it was solved from with --scenario (once "
        "per result, in order)"]


def test_written_report(pair: tuple[Path, Path], tmp_path: Path) -> None:
    """The folder holds the CSVs and a markdown and an HTML page that need nothing else."""
    a, b = pair
    p = load_scenario(TINY)
    out = write_comparison(compare([read_result(a), read_result(b)], [p, p]), tmp_path / "c")
    assert sorted(x.name for x in out.iterdir()) == [
        ".matcher-output.json", "changes.csv", "kpis.csv", "moves.csv", "report.html",
        "report.md"]
    kp = pd.read_csv(out / "kpis.csv")
    assert kp.columns.tolist() == ["kpi", "A", "B", "delta:B"]
    assert (out / "kpis.csv").read_text(encoding="utf-8").splitlines()[2] == "placed,5,4,-1"
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| placed | 5 | 4 | -1 |" in md and "| S5 | moved | W2 | W3 |" in md
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "S5" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page


def test_cli_compare(pair: tuple[Path, Path], tmp_path: Path) -> None:
    """matcher compare A B --scenario S --out DIR prints the KPIs and the move counts."""
    a, b = pair
    out = tmp_path / "cmp"
    r = _run("compare", a, b, "--scenario", TINY, "--out", out)
    assert r.exit_code == 0, r.output
    assert "| placed | 5 | 4 | -1 |" in r.stdout
    assert "B: 1 student(s) moved" in r.stdout
    assert (out / "report.html").is_file()
    no_scenario = _run("compare", a, b, "--out", tmp_path / "plain")
    assert no_scenario.exit_code == 0, no_scenario.output
    assert "blocking_pairs" not in no_scenario.stdout


def test_cli_compare_errors(pair: tuple[Path, Path], tmp_path: Path) -> None:
    """One result, a --scenario count that fits neither rule, a missing folder: exit 2, no
    output folder."""
    a, b = pair
    out = tmp_path / "cmp"
    one = _run("compare", a, "--out", out)
    assert one.exit_code == 2 and one.stderr == (
        "error: give at least two result folders to compare\n")
    count = _run("compare", a, b, a, "--scenario", TINY, "--scenario", TINY, "--out", out)
    assert count.exit_code == 2 and count.stderr == (
        "error: --scenario: given 2 times for 3 results; give it once (for all) or once per "
        "result, in the same order\n")
    gone = _run("compare", a, tmp_path / "nope", "--out", out)
    assert gone.exit_code == 2 and gone.stderr == (
        f"error: {tmp_path / 'nope'}: not a result folder; give a folder written by matcher "
        "solve\n")
    assert not out.exists()


def test_summary_hash_mismatch_is_noted(pair: tuple[Path, Path], tmp_path: Path) -> None:
    """A result whose summary.json names other input files is compared, with a note in either
    language (``plan.compare.other_input``)."""
    a, b = pair
    copy = tmp_path / "A2"
    shutil.copytree(a, copy)
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    summary["input_sha256"] = "0" * 64
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    p = load_scenario(TINY)
    c = compare([read_result(copy), read_result(b)], [p, p])
    assert [n.code for n in c.notes] == ["plan.compare.other_input"]
    assert c.notes[0].text("en") == ("A2: summary.json says it was solved from other input files "
                                     "than the scenario given (input_sha256 differs)")
    assert c.notes[0].text("zh") == ("A2：summary.json 显示该结果是用另一套输入文件求解的，"
                                     "与所给方案不一致（input_sha256 不同）")


def test_escaped_ids_read_back_as_written(tmp_path: Path) -> None:
    """Ids that the formula escape writes with a leading ' (placed or unassigned) are read back
    as they were: a folder compares equal to the result it was written from."""
    result = solve(load_scenario(TINY), "greedy")
    placed = result.placements[0]
    renamed = dataclasses.replace(
        result,
        placements=(dataclasses.replace(placed, student_id="=" + placed.student_id),
                    *result.placements[1:]),
        unassigned=tuple(("-" + sid, reason) for sid, reason in result.unassigned))
    assert renamed.unassigned
    folder = write_result(renamed, tmp_path / "r")
    text = (folder / "unassigned.csv").read_text(encoding="utf-8")
    assert "\n'-" in text  # escaped on disk
    view = read_result(folder)
    assert view.unassigned == tuple(sid for sid, _ in renamed.unassigned)
    assert moves(view, view_of(renamed, "memory")) == []
    assert kpis(view, None) == kpis(view_of(renamed, "memory"), None)
