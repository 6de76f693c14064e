"""``matcher.write_result`` (:mod:`matcher.reports.folder`): every file, manifest last; errors
that speak of the library's arguments."""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from pathlib import Path

import pytest

import matcher
from matcher.formats.resultdir import OutputError, ResultExistsError
from matcher.reports import background
from matcher.reports import folder as folder_module
from matcher.reports.background import can_fork
from matcher.reports.html import write_report_into

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
    assert (out / "summary.json").is_file() and not (out / "keep.txt").exists()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_parallel_and_serial_writing_give_the_same_files(
        solved: tuple[matcher.Problem, matcher.Result], tmp_path: Path) -> None:
    """results.xlsx written in a forked child or here: every file has the same bytes (the
    workbook too: it carries no timestamp), and the manifest hashes the same outputs."""
    problem, result = solved
    a = matcher.write_result(result, tmp_path / "a", problem=problem, parallel=True)
    b = matcher.write_result(result, tmp_path / "b", problem=problem, parallel=False)
    assert _files(a) == _files(b)
    outputs = [json.loads((f / "manifest.json").read_text(encoding="utf-8"))["outputs"]
               for f in (a, b)]
    assert outputs[0] == outputs[1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_a_failing_child_raises_here_and_leaves_nothing(
        solved: tuple[matcher.Problem, matcher.Result], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """When the workbook cannot be written in the child, it is written again here and the
    error reaches the caller (as the writer's OutputError naming the cause); no folder is left
    behind."""
    problem, result = solved

    def broken(*_args: object, **_kw: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(folder_module, "RESULT_WRITERS", (broken, write_report_into))
    with pytest.raises(OutputError, match="No space left"):
        matcher.write_result(result, tmp_path / "out", problem=problem, parallel=True)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("pytest")] == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_an_error_elsewhere_ends_the_child(
        solved: tuple[matcher.Problem, matcher.Result], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer fails while the child is still writing: the child is ended, not left
    running, and nothing is written."""
    problem, result = solved

    def slow(*_args: object, **_kw: object) -> None:
        time.sleep(60)

    def failing(_result: object, _problem: object, _folder: Path) -> None:
        raise ValueError("extra writer failed")

    monkeypatch.setattr(folder_module, "RESULT_WRITERS", (slow, write_report_into))
    started = time.monotonic()
    with pytest.raises(ValueError, match="extra writer failed"):
        matcher.write_result(result, tmp_path / "out", problem=problem, writers=[failing],
                             parallel=True)
    assert time.monotonic() - started < 50  # not waited for: the child was ended
    assert multiprocessing.active_children() == []
    assert not (tmp_path / "out").exists()


def test_without_fork_the_workbook_is_written_in_process(
        solved: tuple[matcher.Problem, matcher.Result], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows or macOS (no safe fork) the default writes results.xlsx in this process: no
    child is started and the folder is complete, with the manifest hashing the workbook."""
    problem, result = solved
    monkeypatch.setattr(background.sys, "platform", "win32")
    assert not can_fork()
    started: list[object] = []
    monkeypatch.setattr(background.multiprocessing, "get_context", started.append)
    out = matcher.write_result(result, tmp_path / "out", problem=problem)
    assert started == []
    outputs = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert "results.xlsx" in json.dumps(outputs) and (out / "results.xlsx").stat().st_size


def test_no_fork_while_another_thread_runs() -> None:
    """A thread that may hold a lock at the fork (a progress display, the web worker's event
    threads) means no fork: the child could wait for that lock forever."""
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        thread.join()
