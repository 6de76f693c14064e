"""Result folders stay byte-identical: tiny with every solver, the demo with greedy and da.

The expected files under ``tests/data/golden/`` were written before the package was split into
layers; any change to what a result folder holds must show up here as a deliberate update
(``MATCHER_REGEN_GOLDEN=1 pytest tests/test_golden.py`` rewrites them).

Timings are the one thing that differs from run to run, so the result is normalised before it
is written (``wall_seconds`` 0, solver ``stats`` empty); ``results.xlsx`` is compared by its
cells (the zip carries a timestamp) and ``manifest.json`` without the fields that describe the
machine and the moment (time, versions, platform, absolute paths).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

import matcher

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "data" / "golden"
CASES = [("tiny", s) for s in ("cpsat", "greedy", "da", "flow", "milp", "plain")] + [
    ("heilongjiang-demo", s) for s in ("greedy", "da")]
BYTES = ("assignments.csv", "unassigned.csv", "summary.json", "report.html")


def _xlsx_cells(path: Path) -> dict[str, list[list[object]]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book}


def _manifest(path: Path) -> dict[str, object]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    for key in ("created_utc", "versions", "platform"):
        doc.pop(key, None)
    doc["scenario"].pop("path", None)
    doc["scenario"].pop("path_from_result", None)
    doc["outputs"].pop("results.xlsx", None)
    return doc


def _write(scenario: str, solver: str, out: Path) -> Path:
    problem = matcher.load_scenario(ROOT / "scenarios" / scenario)
    result = matcher.solve(problem, solver=solver)
    result = dataclasses.replace(result, wall_seconds=0.0, stats={})
    return matcher.write_result(result, out, problem=problem)


@pytest.mark.parametrize(("scenario", "solver"), CASES)
def test_result_folder_is_unchanged(scenario: str, solver: str, tmp_path: Path) -> None:
    """Every file of the result folder equals the checked-in one (timings normalised)."""
    out = _write(scenario, solver, tmp_path / "out")
    expected = GOLDEN / f"{scenario}-{solver}"
    if os.environ.get("MATCHER_REGEN_GOLDEN"):
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(out, expected)
    for name in BYTES:
        assert (out / name).read_bytes() == (expected / name).read_bytes(), name
    assert _xlsx_cells(out / "results.xlsx") == _xlsx_cells(expected / "results.xlsx")
    assert _manifest(out / "manifest.json") == _manifest(expected / "manifest.json")
