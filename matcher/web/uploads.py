"""Uploaded scenarios: stored under server-made names, zips unpacked with the loader's limits.

An upload is a workbook (``.xlsx``) or a ``.zip`` of a scenario folder. What it is comes from
its content, not its name. Nothing the request names reaches the filesystem as a path: the
upload is copied (at most :data:`MAX_UPLOAD_BYTES`) into a fresh folder named by a random
token; a workbook is stored as ``<name>.xlsx`` and a zip is unpacked into ``<name>/``, where
``<name>`` is the uploaded file's stem (or the zip's one folder) reduced to letters, digits,
``-`` and ``_`` (:func:`safe_name`), so that the scenario keeps the name the clerk gave it.

A zip is checked before anything is written (:func:`check_zip`): no absolute paths, no ``..``,
no symbolic links, no encrypted entries, at most :data:`MAX_ZIP_ENTRIES` entries and
:data:`MAX_UNPACKED_BYTES` unpacked; only the scenario folder's own files are unpacked (CSV,
YAML, workbooks, text), each at most the loader's :data:`~matcher.formats.cells.MAX_FILE_BYTES`,
counted while unpacking (a zip bomb's declared sizes may lie). Every problem is a
:class:`~matcher.messages.Message` (code ``web.upload_*`` / ``web.zip_*``) raised in a
:class:`~matcher.messages.MessageError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import shutil
import stat
import time
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..formats.cells import MAX_FILE_BYTES
from ..formats.workbook import MAX_UNPACKED_BYTES, MAX_WORKBOOK_BYTES
from ..messages import Location, Message, MessageError, ValueIn, Values

__all__ = ["MAX_UPLOAD_BYTES", "MAX_ZIP_ENTRIES", "TOKEN", "Staged", "check_zip", "clean_old",
           "safe_name", "stage_upload"]

MAX_UPLOAD_BYTES = MAX_WORKBOOK_BYTES
"""Largest upload accepted (the loader's limit for a workbook)."""

MAX_ZIP_ENTRIES = 2000
"""Most entries a scenario zip may hold (a scenario folder has a dozen files)."""

UNPACKED = (".csv", ".yaml", ".yml", ".xlsx", ".md", ".txt")
"""The files of a scenario folder that are unpacked; anything else in the zip is skipped."""

TOKEN = re.compile(r"[0-9a-f]{32}")
"""The form of an upload's token."""

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Staged:
    """An upload stored and unpacked, ready to be validated.

    Attributes
    ----------
    token
        The upload's server-made id.
    folder
        Its folder (``uploads/<token>``).
    scenario
        What to give :func:`matcher.load_scenario`: the workbook, or the scenario folder.
    kind
        ``xlsx`` or ``zip``.
    original_name
        The uploaded file's name, for display only.
    size
        Bytes uploaded.
    sha256
        The upload's SHA-256.
    """

    token: str
    folder: Path
    scenario: Path
    kind: str
    original_name: str
    size: int
    sha256: str


def safe_name(text: str, default: str = "scenario") -> str:
    """A file or folder name made from user text: letters (any script), digits, ``-`` and
    ``_`` only, at most 60 characters; ``default`` when nothing is left."""
    text = unicodedata.normalize("NFC", text)
    name = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-_")[:60].strip("-_")
    return name or default


def _display_name(name: str | None) -> str:
    """The uploaded file's own name (the last part of whatever the browser sent)."""
    base = re.split(r"[\\/]", name or "")[-1].strip()
    return "".join(ch for ch in base if ch.isprintable())[:200]


def _fail(code: str, where: str, **values: ValueIn) -> MessageError:
    at = Location(file=where or "upload")
    return MessageError([Message(code, "error", at, Values(values))])


def _copy(source: BinaryIO, target: Path, where: str) -> tuple[int, str]:
    """Copy the upload into ``target`` (at most :data:`MAX_UPLOAD_BYTES`); size and hash."""
    digest = hashlib.sha256()
    size = 0
    with target.open("xb") as out:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise _fail("web.upload_too_large", where, limit=MAX_UPLOAD_BYTES >> 20)
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _entry_name(info: zipfile.ZipInfo) -> str:
    """An entry's name as its maker meant it: zips made on a Chinese Windows PC store names
    in GBK without saying so (Python reads them as cp437)."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("gbk")
    return name.replace("\\", "/")


def _ignored(parts: tuple[str, ...]) -> bool:
    """macOS and Windows clutter that a zip of a folder often holds."""
    return parts[0] == "__MACOSX" or parts[-1] in (".DS_Store", "Thumbs.db", "desktop.ini")


def check_zip(book: zipfile.ZipFile, where: str) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """Every file entry of a scenario zip with its path parts, or MessageError for an
    unsafe zip (see the module docstring); directories and clutter are left out."""
    infos = book.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _fail("web.zip_too_many", where, count=len(infos), limit=MAX_ZIP_ENTRIES)
    total = 0
    files = []
    for info in infos:
        name = _entry_name(info)
        parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
        mode = info.external_attr >> 16
        if (name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in parts
                or stat.S_ISLNK(mode) or not parts):
            raise _fail("web.zip_unsafe_entry", where, entry=name[:200])
        if info.flag_bits & 0x1:
            raise _fail("web.zip_encrypted", where)
        total += info.file_size
        if total > MAX_UNPACKED_BYTES:
            raise _fail("web.zip_too_large", where, limit=MAX_UNPACKED_BYTES >> 20)
        if info.is_dir() or _ignored(parts):
            continue
        files.append((info, parts))
    return files


def _scenario_root(files: Iterable[tuple[zipfile.ZipInfo, tuple[str, ...]]], where: str
                   ) -> tuple[str, ...]:
    """The folder of the zip that holds the scenario: the one with ``scenario.yaml``, else the
    one with a workbook."""
    yaml_dirs = {parts[:-1] for _, parts in files if parts[-1].lower() == "scenario.yaml"}
    book_dirs = {parts[:-1] for _, parts in files if parts[-1].lower().endswith(".xlsx")
                 and not parts[-1].startswith("~$")}  # ~$name.xlsx: Excel's lock file
    found = yaml_dirs or book_dirs
    if not found:
        raise _fail("web.zip_no_scenario", where)
    if len(found) > 1:
        shown = sorted("/".join(d) or "/" for d in found)[:10]
        raise _fail("web.zip_several_scenarios", where, folders=shown)
    return next(iter(found))


def _unpack(book: zipfile.ZipFile, files: list[tuple[zipfile.ZipInfo, tuple[str, ...]]],
            root: tuple[str, ...], target: Path, where: str) -> None:
    """Unpack the scenario folder's own files (not its sub-folders) into ``target``."""
    target.mkdir()
    for info, parts in files:
        if parts[:-1] != root or not parts[-1].lower().endswith(UNPACKED):
            continue
        name = parts[-1]
        if name.startswith(".") or name.startswith("~$") or not re.fullmatch(
                r"[\w\-. ()（）]{1,120}", name):
            continue  # not a name the loader reads; never a path
        if info.file_size > MAX_FILE_BYTES:
            raise _fail("web.zip_file_too_large", where, entry=name,
                        limit=MAX_FILE_BYTES >> 20)
        written = 0
        try:
            with book.open(info) as src, (target / name).open("xb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if written > min(info.file_size, MAX_FILE_BYTES):  # a lying header
                        raise _fail("web.zip_file_too_large", where, entry=name,
                                    limit=MAX_FILE_BYTES >> 20)
                    out.write(chunk)
        except FileExistsError:  # two entries differing only in case on this filesystem
            raise _fail("web.zip_unsafe_entry", where, entry=name) from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            if isinstance(e, zipfile.BadZipFile) or not isinstance(e, OSError):
                raise _fail("web.zip_unreadable", where) from None
            raise


def stage_upload(uploads: Path, original_name: str | None, source: BinaryIO) -> Staged:
    """Store an upload under ``uploads/<token>`` and unpack it.

    Parameters
    ----------
    uploads
        The data folder's ``uploads`` folder.
    original_name
        The file name the browser sent (shown to the user, used for the scenario's default
        name through :func:`safe_name`, never as a path).
    source
        The upload's bytes.

    Raises
    ------
    MessageError
        An empty, too large, unknown or unsafe upload; nothing is left behind then.
    """
    shown = _display_name(original_name)
    token = secrets.token_hex(16)
    folder = uploads / token
    folder.mkdir(parents=True)
    try:
        raw = folder / "upload.bin"
        size, digest = _copy(source, raw, shown)
        if size == 0:
            raise _fail("web.upload_empty", shown)
        with raw.open("rb") as f:
            head = f.read(8)
        stem = safe_name(re.sub(r"\.[A-Za-z]{2,4}$", "", shown))
        if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: an .xls, or a workbook with a password
            raise _fail("web.upload_old_excel", shown)
        if not head.startswith(b"PK"):
            raise _fail("web.upload_not_supported", shown)
        try:
            with zipfile.ZipFile(raw) as book:
                names = set(book.namelist())
                if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
                    kind = "xlsx"
                else:
                    kind = "zip"
                    files = check_zip(book, shown)
                    root = _scenario_root(files, shown)
                    name = safe_name(root[-1]) if root else stem
                    _unpack(book, files, root, folder / name, shown)
                    scenario = folder / name
        except zipfile.BadZipFile:
            raise _fail("web.zip_unreadable", shown) from None
        if kind == "xlsx":
            (folder / stem).mkdir()
            scenario = folder / stem / f"{stem}.xlsx"
            raw.rename(scenario)
        else:
            raw.unlink()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Staged(token, folder, scenario, kind, shown, size, digest)


def clean_old(uploads: Path, max_age_s: float = 86400.0) -> int:
    """Remove staged uploads older than ``max_age_s`` (never started); how many."""
    if not uploads.is_dir():
        return 0
    removed = 0
    cutoff = time.time() - max_age_s
    for folder in uploads.iterdir():
        if TOKEN.fullmatch(folder.name) and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed

