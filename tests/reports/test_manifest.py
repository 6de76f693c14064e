"""The audit manifest of a result folder (:mod:`matcher.reports.manifest`)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult

from matcher.cli import cli

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"


def _make_xlsx() -> Any:
    spec = importlib.util.spec_from_file_location("make_xlsx", ROOT / "scenarios" / "make_xlsx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE_XLSX = _make_xlsx()


def _run(*args: str | Path) -> CliResult:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """tiny as a workbook with Chinese headers, alone in a folder."""
    return MAKE_XLSX.convert(TINY, tmp_path / "tiny" / "tiny.xlsx")


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny solved into a result folder through the CLI (seed 0, one worker)."""
    out = tmp_path_factory.mktemp("solved") / "out"
    r = _run("solve", TINY, "--out", out, "--seed", "0", "--workers", "1")
    assert r.exit_code == 0, r.output
    return out


# ---- the manifest ---------------------------------------------------------------------------
def test_manifest_contents(solved: Path) -> None:
    """manifest.json records input hashes, configuration, versions, objective levels, outputs."""
    m = json.loads((solved / "manifest.json").read_text(encoding="utf-8"))
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in TINY.iterdir() if p.suffix in (".csv", ".yaml")}
    assert m["scenario"]["files"] == files
    assert m["scenario"]["path"] == str(TINY)
    assert (solved / m["scenario"]["path_from_result"]).resolve() == TINY
    summary = json.loads((solved / "summary.json").read_text(encoding="utf-8"))
    assert m["scenario"]["input_sha256"] == summary["input_sha256"]
    assert m["solver"] == {"name": "cpsat", "exact": True, "seed": 0, "workers": 1,
                           "time_limit_s": 10.0}
    assert m["settings"]["policy"]["window"] == ["2026-autumn", "2027-spring"]
    assert m["settings"]["solver_defaults"] == {"time_limit_s": 10.0, "seed": 0, "workers": 1}
    assert {k for k, v in m["versions"].items() if v} >= {"python", "ortools", "matcher",
                                                           "openpyxl"}
    assert m["run"]["status"] == "OPTIMAL" and m["run"]["reproducible"] is True
    levels = [(o["name"], o["value"], o["bound"]) for o in m["objective"]]
    assert levels[:2] == [("placed", 5, 5), ("rank_cost", 7, 7)]
    assert levels[2][:2] == ("pair_weight", 2.0)
    outputs = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
               for p in solved.iterdir() if p.name != "manifest.json"}
    assert m["outputs"] == outputs
    assert {"assignments.csv", "unassigned.csv", "summary.json", "results.xlsx"} <= set(outputs)


def test_manifest_of_workbook_scenario(book: Path, tmp_path: Path) -> None:
    """Solving a workbook records the workbook's path and hash; verify re-runs from it."""
    out = tmp_path / "out"
    r = _run("solve", book, "--out", out, "--workers", "1")
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["scenario"]["path"] == str(book)
    assert m["scenario"]["files"] == {"tiny.xlsx": hashlib.sha256(book.read_bytes()).hexdigest()}
    r = _run("verify", out)
    assert r.exit_code == 0 and "verified" in r.stdout, r.output
