"""``matcher.write_result`` (:mod:`matcher.reports.folder`): every file, manifest last; errors
that speak of the library's arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import matcher
from matcher.formats.resultdir import OutputError, ResultExistsError

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


@pytest.fixture(scope="module")
def solved() -> tuple[matcher.Problem, matcher.Result]:
    problem = matcher.load_scenario(TINY)
    return problem, matcher.solve(problem, "greedy")


def test_every_file_and_the_manifest_hashes_the_others(
        solved: tuple[matcher.Problem, matcher.Result], tmp_path: Path) -> None:
    """The folder holds the CSVs, summary, workbook, report and manifest; the manifest hashes
    every other file, extra writers' files included."""
    problem, result = solved

    def extra(_result: matcher.Result, _problem: matcher.Problem | None, folder: Path) -> None:
        (folder / "extra.txt").write_text("x", encoding="utf-8")

    out = matcher.write_result(result, tmp_path / "out", problem=problem, writers=[extra])
    names = sorted(p.name for p in out.iterdir())
    assert names == ["assignments.csv", "extra.txt", "manifest.json", "report.html",
                     "results.xlsx", "summary.json", "unassigned.csv"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["outputs"]) == [n for n in names if n != "manifest.json"]
    back = matcher.read_result(out)
    assert (back.placements, list(back.unassigned), back.status) == (
        result.placements, result.reasons("en"), result.status)


def test_existing_folder_error_speaks_of_the_argument(
        solved: tuple[matcher.Problem, matcher.Result], tmp_path: Path) -> None:
    """A library caller is told about force=True, not about the command line's --force."""
    _problem, result = solved
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ResultExistsError) as info:
        matcher.write_result(result, out)
    assert "force=True" in str(info.value) and "--" not in str(info.value)
    assert info.value.path == out
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    with pytest.raises(OutputError) as refused:  # force replaces only what matcher wrote
        matcher.write_result(result, out, force=True)
    assert "force=True" in str(refused.value) and "--" not in str(refused.value)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (out / "keep.txt").unlink()
    matcher.write_result(result, out)
    (out / "summary.json").write_text("{}", encoding="utf-8")
    matcher.write_result(result, out, force=True)
    assert matcher.read_result(out).placements == result.placements
