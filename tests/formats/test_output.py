"""matcher.formats.output: an output never touches an input, force replaces only matcher's
folders, and a place that cannot be written is refused before any work."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from matcher.formats.output import (
    CLI_WORDS,
    MARKER,
    OutputError,
    ResultExistsError,
    check_output,
    check_space,
    foreign_entries,
    is_matcher_folder,
    using_words,
    write_marker,
)
from matcher.formats.resultdir import atomic_folder


def _codes(error: OutputError) -> list[str]:
    return [m.code for m in error.items if not isinstance(m, str)]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    folder = tmp_path / "S"
    folder.mkdir()
    (folder / "scenario.yaml").write_text("name: s\n", encoding="utf-8")
    return folder


def test_output_is_holds_or_lies_inside_an_input(scenario: Path, tmp_path: Path) -> None:
    """The output may not be the input, a folder holding it, or a folder inside it."""
    for out, code in ((scenario, "out.is_input"), (tmp_path, "out.contains_input"),
                      (scenario / "r", "out.inside_input")):
        with pytest.raises(OutputError) as info:
            check_output(out, [(scenario, "scenario")], force=True)
        assert _codes(info.value) == [code], out
    assert check_output(tmp_path / "r", [(scenario, "scenario")]) == tmp_path / "r"


def test_symbolic_links_do_not_hide_an_input(scenario: Path, tmp_path: Path) -> None:
    """A link to the scenario, or a path through a linked folder, is the scenario."""
    (tmp_path / "link").symlink_to(scenario)
    with pytest.raises(OutputError) as info:
        check_output(tmp_path / "link", [(scenario, "scenario")], force=True)
    assert _codes(info.value) == ["out.is_input"]
    with pytest.raises(OutputError) as info:
        check_output(tmp_path / "link" / "r", [(scenario, "scenario")])
    assert _codes(info.value) == ["out.inside_input"]
    with pytest.raises(OutputError) as info:  # the input given through the link
        check_output(scenario / "r", [(tmp_path / "link", "scenario")])
    assert _codes(info.value) == ["out.inside_input"]


def test_a_workbook_s_folder_may_hold_the_output(tmp_path: Path) -> None:
    """A workbook given as a file protects the file: the output may lie beside it, but not
    be it or hold it."""
    book = tmp_path / "office" / "2026.xlsx"
    book.parent.mkdir()
    book.write_bytes(b"PK")
    assert check_output(book.parent / "out", [(book, "scenario")]).name == "out"
    with pytest.raises(OutputError) as info:
        check_output(book.parent, [(book, "scenario")], force=True)
    assert _codes(info.value) == ["out.contains_input"]
    with pytest.raises(OutputError) as info:
        check_output(book, [(book, "scenario")], force=True)
    assert _codes(info.value) == ["out.is_input"]


def test_force_replaces_only_matcher_folders(tmp_path: Path) -> None:
    """An existing folder needs force; force needs matcher's marker or manifest and nothing
    matcher did not write there."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ResultExistsError):
        check_output(out)
    with pytest.raises(OutputError) as info:
        check_output(out, force=True)
    assert _codes(info.value) == ["out.not_matcher"]
    assert not is_matcher_folder(out)
    (out / "keep.txt").unlink()
    atomic_folder(out, False, lambda tmp: (tmp / "a.csv").write_text("x", encoding="utf-8"),
                  kind="comparison")
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["written_by"] == "matcher" and marker["entries"] == ["a.csv"]
    assert check_output(out, force=True) == out
    (out / "mine.docx").write_bytes(b"x")
    assert foreign_entries(out) == ["mine.docx"]
    with pytest.raises(OutputError) as info:
        check_output(out, force=True)
    assert _codes(info.value) == ["out.foreign_entries"]
    assert "mine.docx" in str(info.value)


def test_a_result_folder_is_known_by_its_manifest(tmp_path: Path) -> None:
    """A folder with a manifest of matcher's and only the files it lists is matcher's."""
    out = tmp_path / "r"
    out.mkdir()
    (out / "assignments.csv").write_text("x", encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps(
        {"manifest_version": 1, "solver": {}, "outputs": {"assignments.csv": "0"}}),
        encoding="utf-8")
    assert check_output(out, force=True) == out
    (out / "manifest.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(OutputError):
        check_output(out, force=True)


def test_places_that_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    """A file, a path under a file, the current folder, a name too long, a place where no
    folder can be made: each refused with its own message, before anything is written."""
    (tmp_path / "f").write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    cases = {tmp_path / "f": "out.is_file", tmp_path / "f" / "x": "out.under_file",
             tmp_path: "out.current_folder", Path("/"): "out.holds_current",
             tmp_path / ("n" * 250): "out.name_too_long"}
    for out, code in cases.items():
        with pytest.raises(OutputError) as info:
            check_output(out, force=True)
        assert _codes(info.value) == [code], out
    with pytest.raises(OutputError) as info:
        check_output("/proc/matcher-out")
    assert _codes(info.value) == ["out.not_writable"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_a_mount_point_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    """An existing folder that is a mount point cannot be replaced as a whole."""
    out = tmp_path / "disk"
    out.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: str(p) == str(out) or real(p))
    with pytest.raises(OutputError) as info:
        check_output(out, force=True)
    assert _codes(info.value) == ["out.mount_point"]


def test_too_little_free_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An estimate larger than the free space is refused, naming both in MB."""
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(  # type: ignore[attr-defined]
        10 << 20, 9 << 20, 1 << 20))
    with pytest.raises(OutputError) as info:
        check_space(tmp_path / "out", 5 << 20)
    assert _codes(info.value) == ["out.no_space"]
    assert "1.0 MB free" in str(info.value) and "5.0 MB needed" in str(info.value)
    check_space(tmp_path / "out", 1 << 19)


def test_messages_name_the_command_line_options(tmp_path: Path) -> None:
    """The library says out_dir and force=True; under the CLI's words, --out and --force."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "x").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError) as info:
        check_output(out)
    assert "force=True" in str(info.value) and "out_dir" in str(info.value)
    with using_words(CLI_WORDS), pytest.raises(OutputError) as info:
        check_output(out)
    assert "--force" in str(info.value) and "--out" in str(info.value)
    assert "force=True" not in str(info.value)


def test_marker_lists_given_entries(tmp_path: Path) -> None:
    """A folder filled after its marker (a benchmark's) lists what will be written."""
    write_marker(tmp_path, "bench", entries=("results.csv", "logs"))
    (tmp_path / "results.csv").write_text("x", encoding="utf-8")
    assert foreign_entries(tmp_path) == []
    (tmp_path / "other.csv").write_text("x", encoding="utf-8")
    assert foreign_entries(tmp_path) == ["other.csv"]


def test_a_read_only_folder_is_found_before_the_work(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An --out inside a folder the user may not write is refused by the probe, before any
    work, naming the folder; nothing is left there. (As root, whom the kernel lets write
    anywhere, the refusal a user would get is played by os.mkdir.)"""
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    if os.geteuid() == 0:
        real = os.mkdir

        def refuse(path: object, *args: object, **kwargs: object) -> None:
            if Path(str(path)).parent == shelf:
                raise PermissionError(13, "Permission denied", str(path))
            real(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "mkdir", refuse)
    else:
        shelf.chmod(0o555)
    try:
        with pytest.raises(OutputError) as info:
            check_output(shelf / "result")
        assert _codes(info.value) == ["out.not_writable"]
        assert "shelf" in info.value.lines("en")[0]
    finally:
        shelf.chmod(0o755)
    assert list(shelf.iterdir()) == []
