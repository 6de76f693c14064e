"""``results.xlsx`` and the escaped, BOM-marked outputs of a result folder
(:mod:`matcher.reports.xlsx`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult

import matcher
from matcher import load_scenario, write_result
from matcher.check import check_result_dir
from matcher.cli import cli
from matcher.model import Problem
from matcher.reports import xlsx as excel

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
PROVENANCE = {"input_files", "input_sha256", "source"}


def _run(*args: str | Path) -> CliResult:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def _hostile(tmp_path: Path) -> Problem:
    """tiny with ids that spreadsheets would run as formulas (built in code, as a library may)."""
    text = json.dumps(load_scenario(TINY).model_dump(mode="json", exclude=PROVENANCE))
    for old, new in (('"S1"', '"=1+2"'), ('"S6"', '"@SUM(A1)"'), ('"W1-M1"', '"-M1"'),
                     ('"HIT-S1"', '"+HIT"')):
        assert old in text
        text = text.replace(old, new)
    return Problem.model_validate(json.loads(text))


def test_outputs_escape_text_not_numbers(tmp_path: Path) -> None:
    """CSV and xlsx outputs quote formula-like text; numbers stay numbers; check reads back."""
    problem = _hostile(tmp_path)
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    out = write_result(result, tmp_path / "out", problem=problem)
    text = (out / "assignments.csv").read_text(encoding="utf-8")
    assert "\n'=1+2,W2,W2-M1,'+HIT," in text and "'-M1" in text
    assert "\n'@SUM(A1)," in (out / "unassigned.csv").read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(out / "results.xlsx")
    ws = wb["assignments"]
    cells = {c.value: c for row in ws.iter_rows() for c in row}
    assert cells["'=1+2"].data_type == "s"
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@"))
                   for sheet in wb.worksheets for row in sheet.iter_rows(values_only=True)
                   for v in row)
    ranks = [row[6] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert ranks and all(isinstance(r, int) for r in ranks)
    assert check_result_dir(problem, out).violations == []


def test_negative_numbers_stay_numbers(tmp_path: Path) -> None:
    """In xlsx output -5 is a number cell, '-5' (text) is escaped text, '#N/A' stays text."""
    wb = openpyxl.Workbook(write_only=True)
    excel._add_sheet(wb, "s", ["n", "t", "f", "e", "x"], [[-5, "-2.5", "=cmd", "#N/A", -2.5]])
    wb.save(tmp_path / "x.xlsx")
    row = next(openpyxl.load_workbook(tmp_path / "x.xlsx")["s"].iter_rows(min_row=2))
    assert [(c.value, c.data_type) for c in row] == [
        (-5, "n"), ("'-2.5", "s"), ("'=cmd", "s"), ("#N/A", "s"), (-2.5, "n")]


# ---- results.xlsx ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny solved into a result folder through the CLI (seed 0, one worker)."""
    out = tmp_path_factory.mktemp("solved") / "out"
    r = _run("solve", TINY, "--out", out, "--seed", "0", "--workers", "1")
    assert r.exit_code == 0, r.output
    return out


def test_results_xlsx_sheets(solved: Path) -> None:
    """results.xlsx has the six sheets with the allocation, reasons, rosters and summary."""
    wb = openpyxl.load_workbook(solved / "results.xlsx")
    assert wb.sheetnames == ["assignments", "unassigned", "by_workstation_term", "by_mentor",
                             "by_supervisor", "summary"]

    def rows(name: str) -> list[tuple[Any, ...]]:
        return list(wb[name].iter_rows(values_only=True))

    with (solved / "assignments.csv").open(encoding="utf-8", newline="") as f:
        csv_rows = list(csv.reader(f))
    assignments = rows("assignments")
    assert [list(r[:6]) for r in assignments] == [r[:6] for r in csv_rows]
    assert assignments[1][7:] == ("HIT", "0854", "Harbin")
    unassigned = rows("unassigned")
    assert unassigned[0] == ("student_id", "university_id", "discipline", "preferences",
                             "reason")
    assert unassigned[1][:4] == ("S6", "HEU", "0856", "W3") and "0856" in unassigned[1][4]
    # S1 and S2 hold two terms each, S3 one, S4 and S5 two: 9 roster rows
    roster = rows("by_workstation_term")
    assert len(roster) == 1 + 9
    assert ("W2", "Harbin", "2027-spring", "S1", "HIT", "0854", "W2-M1", "HIT-S1") in roster
    assert [r[0] for r in rows("by_mentor")[1:]] == sorted(r[0] for r in rows("by_mentor")[1:])
    assert {r[2] for r in rows("by_supervisor")[1:]} == {"S1", "S2", "S3", "S4", "S5"}
    summary = dict(rows("summary")[1:])
    assert (summary["status"], summary["placed"], summary["rank_cost"]) == ("OPTIMAL", 5, 7)
    assert summary["scenario"] == "tiny"
    assert wb["assignments"].freeze_panes == "A2"


def test_results_xlsx_without_problem(tmp_path: Path) -> None:
    """Without the problem the rosters list blocks of terms and leave out student details."""
    problem = load_scenario(TINY)
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    out = write_result(result, tmp_path / "out")
    wb = openpyxl.load_workbook(out / "results.xlsx")
    roster = list(wb["by_workstation_term"].iter_rows(values_only=True))
    assert len(roster) == 1 + 5
    assert ("W2", None, "2026-autumn..2027-spring", "S1", None, None, "W2-M1", "HIT-S1") in roster


# ---- --excel-bom ----------------------------------------------------------------------------
def test_excel_bom(tmp_path: Path) -> None:
    """--excel-bom writes both CSVs with a BOM; check and verify still read them."""
    out = tmp_path / "out"
    assert _run("solve", TINY, "--out", out, "--workers", "1", "--excel-bom").exit_code == 0
    for name in ("assignments.csv", "unassigned.csv"):
        assert (out / name).read_bytes().startswith(b"\xef\xbb\xbfstudent_id,")
    assert _run("check", TINY, out).exit_code == 0
    r = _run("verify", out)
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["write_options"] == {"excel_bom": True, "lang": "en"}
