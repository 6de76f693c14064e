"""Uploads: kinds told by content, zips checked before anything is unpacked, names made safe."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest
from conftest import TINY, zip_of

from matcher.messages import MessageError
from matcher.web.uploads import MAX_ZIP_ENTRIES, safe_name, stage_upload


def staged_code(tmp_path: Path, name: str, data: bytes) -> str:
    """The code of the error staging ``data`` gives; nothing is left in ``uploads``."""
    uploads = tmp_path / "uploads"
    with pytest.raises(MessageError) as caught:
        stage_upload(uploads, name, io.BytesIO(data))
    assert list(uploads.iterdir()) == []
    return caught.value.messages[0].code


def zip_with(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        for info, data in entries:
            book.writestr(info, data)
    return buffer.getvalue()


def test_zip_of_a_folder_is_unpacked_under_its_name(tmp_path: Path) -> None:
    """The folder inside the zip becomes the scenario folder (its name kept, made safe); macOS
    clutter and sub-folders are skipped."""
    data = zip_of(TINY, "二〇二六 tiny/")
    with zipfile.ZipFile(io.BytesIO(data), "a") as book:
        book.writestr("__MACOSX/._students.csv", b"junk")
        book.writestr("二〇二六 tiny/old/students.csv", b"junk")
    staged = stage_upload(tmp_path / "uploads", "C:\\Users\\clerk\\tiny.zip", io.BytesIO(data))
    assert staged.kind == "zip" and staged.original_name == "tiny.zip"
    assert staged.scenario.name == "二〇二六-tiny"
    assert (staged.scenario / "students.csv").read_bytes() == (TINY / "students.csv").read_bytes()
    assert not (staged.scenario / "old").exists()


def test_zip_of_files_at_the_top(tmp_path: Path) -> None:
    """A zip of the folder's files (no folder inside) is named after the zip."""
    staged = stage_upload(tmp_path / "uploads", "my scenario.zip", io.BytesIO(zip_of(TINY)))
    assert staged.scenario.name == "my-scenario"
    assert (staged.scenario / "scenario.yaml").is_file()


@pytest.mark.parametrize("entry", ["../evil.csv", "/etc/evil.csv", "a/../../evil.csv",
                                   "C:/evil.csv", "a\\..\\..\\evil.csv"])
def test_zip_paths_outside_are_refused(tmp_path: Path, entry: str) -> None:
    """Absolute paths and ``..`` anywhere refuse the whole zip; nothing is written."""
    data = zip_with([("scenario.yaml", b"name: x"), (entry, b"x")])
    assert staged_code(tmp_path, "x.zip", data) == "web.zip_unsafe_entry"
    assert not (tmp_path / "evil.csv").exists()


def test_zip_symlink_is_refused(tmp_path: Path) -> None:
    """A symbolic link inside the zip refuses it."""
    link = zipfile.ZipInfo("students.csv")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = zip_with([("scenario.yaml", b"name: x"), (link, b"/etc/passwd")])
    assert staged_code(tmp_path, "x.zip", data) == "web.zip_unsafe_entry"


def test_zip_with_too_many_entries(tmp_path: Path) -> None:
    """More entries than a scenario folder could need refuse the zip."""
    data = zip_with([(f"f{k}.txt", b"") for k in range(MAX_ZIP_ENTRIES + 1)])
    assert staged_code(tmp_path, "x.zip", data) == "web.zip_too_many"


def test_zip_bomb_with_lying_size_is_stopped(tmp_path: Path) -> None:
    """An entry that unpacks to more than its header says stops at the declared size."""
    body = b"0" * 5_000_000
    data = bytearray(zip_with([("scenario.yaml", b"name: x"), ("students.csv", body)]))
    # lower the declared size of students.csv in its local header and central record
    declared = (5_000_000).to_bytes(4, "little")
    small = (1000).to_bytes(4, "little")
    assert data.count(declared) == 2
    data = bytearray(bytes(data).replace(declared, small))
    code = staged_code(tmp_path, "bomb.zip", bytes(data))
    assert code in ("web.zip_file_too_large", "web.zip_unreadable")


def test_zip_without_scenario_or_with_two(tmp_path: Path) -> None:
    """A zip must hold exactly one scenario folder."""
    assert staged_code(tmp_path, "x.zip", zip_with([("a.csv", b"x")])) == "web.zip_no_scenario"
    two = zip_with([("a/scenario.yaml", b"x"), ("b/scenario.yaml", b"x")])
    assert staged_code(tmp_path, "x.zip", two) == "web.zip_several_scenarios"


def test_gbk_names_from_a_chinese_windows_zip(tmp_path: Path) -> None:
    """Entry names stored in GBK without the UTF-8 flag are read as the clerk typed them."""
    raw = "方案/scenario.yaml".encode("gbk")
    placeholder = b"X" * (len(raw) - len(b"/scenario.yaml")) + b"/scenario.yaml"
    data = zip_with([(placeholder.decode(), b"name: x")])
    assert data.count(placeholder) == 2  # local header and central directory
    buffer = io.BytesIO(data.replace(placeholder, raw))
    staged = stage_upload(tmp_path / "uploads", "x.zip", io.BytesIO(buffer.getvalue()))
    assert staged.scenario.name == "方案"


def test_workbook_is_stored_under_a_safe_name(tmp_path: Path, tiny_xlsx: Path) -> None:
    """A workbook keeps its (safe) stem as its name; the name from the request is no path."""
    staged = stage_upload(tmp_path / "uploads", "../../2026级 分配.xlsx",
                          io.BytesIO(tiny_xlsx.read_bytes()))
    assert staged.kind == "xlsx"
    assert staged.scenario.name == "2026级-分配.xlsx"
    assert staged.scenario.parent.parent == staged.folder


def test_safe_name() -> None:
    """Only letters, digits, - and _ survive; nothing at all gives the default."""
    assert safe_name("../..") == "scenario"
    assert safe_name("a/b\\c:d") == "a-b-c-d"
    assert safe_name("学生 名单") == "学生-名单"
    assert len(safe_name("x" * 500)) == 60
