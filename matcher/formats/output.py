"""Where a command may write: never over its inputs, ``force`` only over matcher's own folders,
and only where the write can succeed, all checked before any work is done.

:func:`check_output` is THE check every command that writes calls (the CLI only calls it, the
library's writers call it again under their claim): the output path must not be, hold or lie
inside any input (compared by device and inode, so symbolic links, bind mounts and a
case-insensitive disk cannot hide an input), must not be the current, root or home folder or a
mount point, and can be written (every missing parent can be made, a probe folder can be
created, every name fits the file system with the temporary names matcher adds, the disk has
room for the estimated size). An existing non-empty folder is replaced only with ``force``, and
only when matcher wrote it: it holds the ``manifest.json`` of a result folder or, for every
other folder matcher writes (scenarios, comparisons, sweeps, rolling reports, benchmarks),
matcher's marker :data:`MARKER` (:func:`write_marker`), and nothing else than what matcher
wrote there.

Every refusal is an :class:`OutputError` with catalogue messages (``out.*`` in ``safety.po``).
The words for the options (``--out``/``--force`` on the command line, ``out_dir``/``force=True``
in the library) are a :class:`Words`.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ..messages import Message, msg
from ..model import Problem, ScenarioError

__all__ = ["CLI_WORDS", "LIBRARY_WORDS", "MARKER", "TEMP_NAME_EXTRA", "Input", "OutputError",
           "ResultExistsError", "Words", "check_output", "check_space", "current_words",
           "foreign_entries", "input_role", "is_matcher_folder", "problem_inputs", "read_marker",
           "recheck_output", "target_path", "using_words", "write_marker"]

MARKER = ".matcher-output.json"
"""The file that marks a folder as written by matcher (``kind``, version, time, entries)."""

TEMP_NAME_EXTRA = 24
"""Bytes matcher adds to an output's name for its temporary sibling and lock
(``.<name>.xxxxxxxx.tmp``, ``.<name>.matcher-lock``)."""

MANIFEST = "manifest.json"  # a result folder's audit record (matcher.reports.manifest)


@dataclass(frozen=True)
class Words:
    """How the caller names the output and the force option in messages."""

    option: str = "out_dir"
    force: str = "force=True"


LIBRARY_WORDS = Words()
"""The library's words: ``out_dir``, ``force=True``."""
CLI_WORDS = Words("--out", "--force")
"""The command line's words: ``--out``, ``--force``."""

_WORDS: ContextVar[Words] = ContextVar("matcher_output_words", default=LIBRARY_WORDS)


def current_words() -> Words:
    """The words messages use now (the library's unless :func:`using_words` says otherwise)."""
    return _WORDS.get()


@contextmanager
def using_words(words: Words) -> Iterator[None]:
    """Name the options with ``words`` in the messages of the block (the CLI: ``--out``)."""
    token = _WORDS.set(words)
    try:
        yield
    finally:
        _WORDS.reset(token)


_ROLES: dict[str, Message] = {
    "scenario": msg("out.role.scenario"), "previous": msg("out.role.previous"),
    "variant": msg("out.role.variant"), "base": msg("out.role.base"),
    "changes": msg("out.role.changes"),
    "result": msg("out.role.result"), "tiers": msg("out.role.tiers"),
}


def input_role(role: str) -> Message:
    """The label of an input's role (``scenario``, ``previous``, ``variant``, ``base``,
    ``changes``, ``result``, ``tiers``)."""
    return _ROLES[role]


Input = tuple["str | os.PathLike[str] | None", str]
"""An input of a command: its path (None: not given) and its role (see :func:`input_role`)."""

PREVIOUS_PREFIX = "previous:"  # Problem.input_files key of an earlier cohort's assignments.csv


def problem_inputs(problem: Problem | None) -> list[Input]:
    """The inputs a problem was read from: its scenario and any ``--previous`` result."""
    if problem is None:
        return []
    found: list[Input] = [(problem.source or None, "scenario")]
    for name in problem.input_files:
        if str(name).startswith(PREVIOUS_PREFIX):
            found.append((str(Path(str(name)[len(PREVIOUS_PREFIX):]).parent), "previous"))
    return found


class OutputError(ScenarioError):
    """An output path that may not or cannot be written; nothing was written.

    Attributes
    ----------
    path
        The output path.
    """

    def __init__(self, path: Path, messages: Sequence[str | Message]):
        self.path = path
        super().__init__(messages)


class ResultExistsError(OutputError):
    """The output folder exists and is not empty, and replacing it was not asked for."""


def _show(path: Path | str) -> str:
    return str(path)


def target_path(out: str | os.PathLike[str]) -> Path:
    """The absolute output path with the symbolic links of its existing part resolved."""
    return Path(os.path.realpath(os.path.abspath(os.fspath(out))))


def _ident(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _existing_chain(path: Path) -> list[Path]:
    """``path`` and its ancestors that exist, nearest first."""
    return [p for p in (path, *path.parents) if os.path.lexists(p)]


def _nearest_existing(path: Path) -> Path:
    for p in (path, *path.parents):
        if os.path.lexists(p):
            return p
    return Path(path.anchor or "/")


def _inputs_problem(target: Path, inputs: Iterable[Input], words: Words) -> list[Message]:
    """Messages for every input the target is, holds or lies inside."""
    out_ids = {i for i in (_ident(p) for p in _existing_chain(target)) if i is not None}
    target_id = _ident(target)
    found: list[Message] = []
    for raw, role in inputs:
        if raw is None:
            continue
        given = Path(os.path.abspath(os.fspath(raw)))
        real = target_path(given)
        inp_id = _ident(real)
        label = input_role(role)
        same = real == target or (inp_id is not None and inp_id == target_id)
        if same:
            found.append(msg("out.is_input", path=_show(target), role=label,
                             option=words.option))
            continue
        chain = {i for i in (_ident(p) for p in _existing_chain(real.parent)) if i is not None}
        holds = (target_id is not None and target_id in chain) or real.is_relative_to(target)
        if holds:
            found.append(msg("out.contains_input", path=_show(target), input=_show(given),
                             role=label, option=words.option))
            continue
        inside = real.is_dir() and (real in target.parents
                                    or (inp_id is not None and inp_id in out_ids))
        if inside:
            found.append(msg("out.inside_input", path=_show(target), input=_show(given),
                             role=label, option=words.option))
    return found


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of a folder matcher wrote, or None (absent, unreadable, not matcher's)."""
    path = folder / MARKER
    try:
        if not path.is_file() or path.stat().st_size > 1 << 20:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("written_by") != "matcher":
        return None
    entries = doc.get("entries")
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        return None
    return doc


def _manifest_entries(folder: Path) -> set[str] | None:
    """What a result folder holds by its manifest (what matcher wrote there), or None."""
    path = folder / MANIFEST
    try:
        if not path.is_file() or path.stat().st_size > 16 << 20:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("manifest_version"), int) \
            or not isinstance(doc.get("outputs"), dict) or not isinstance(doc.get("solver"),
                                                                          dict):
        return None
    names = {str(k) for k in doc["outputs"]} | {MANIFEST}
    if "moves.csv" in names:  # matcher resolve writes the changed scenario beside it
        names.add("scenario")
    return names


def is_matcher_folder(folder: Path, legacy: Callable[[Path], bool] | None = None) -> bool:
    """Whether matcher wrote ``folder``: its marker, a result folder's manifest, or ``legacy``
    (the caller's test for its own folders of older versions)."""
    return (read_marker(folder) is not None or _manifest_entries(folder) is not None
            or (legacy is not None and legacy(folder)))


def foreign_entries(folder: Path, legacy: Callable[[Path], bool] | None = None) -> list[str]:
    """Names in ``folder`` that matcher did not write there (by its marker or manifest)."""
    doc = read_marker(folder)
    if doc is not None:
        known = set(doc["entries"]) | {MARKER}
    else:
        listed = _manifest_entries(folder)
        if listed is None:
            return []  # a legacy folder of the caller's: its own test vouched for it
        known = listed
    return sorted(p.name for p in folder.iterdir() if p.name not in known)


def write_marker(folder: Path, kind: str, entries: Iterable[str] | None = None) -> None:
    """Mark ``folder`` (complete, not yet renamed into place) as written by matcher.

    Parameters
    ----------
    folder
        The folder; its entries at this moment are what matcher wrote.
    kind
        What it is: ``result``, ``scenario``, ``comparison``, ``sweep``, ``rolling``,
        ``bench``, ``tier``.
    entries
        The names matcher writes there, when the folder is filled after the marker (a
        benchmark's); default: the folder's entries now.
    """
    try:
        version = metadata.version("workstation-matcher")
    except metadata.PackageNotFoundError:
        version = None
    doc = {"written_by": "matcher", "kind": kind, "matcher": version,
           "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "entries": sorted(set(entries) if entries is not None else
                             (p.name for p in folder.iterdir() if p.name != MARKER))}
    (folder / MARKER).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _non_empty(path: Path) -> bool:
    try:
        return any(path.iterdir())
    except OSError:
        return True


def _replace_problem(target: Path, force: bool, words: Words,
                     legacy: Callable[[Path], bool] | None) -> list[Message]:
    """Why an existing non-empty folder may not be replaced (empty when it may)."""
    if not target.is_dir() or not _non_empty(target):
        return []
    if not force:
        return [msg("out.exists", path=_show(target), option=words.option,
                    force=words.force)]
    if not is_matcher_folder(target, legacy):
        return [msg("out.not_matcher", path=_show(target), marker=MARKER, force=words.force,
                    option=words.option)]
    extra = foreign_entries(target, legacy)
    if extra:
        shown = extra[:5] + ([f"... (+{len(extra) - 5})"] if len(extra) > 5 else [])
        return [msg("out.foreign_entries", path=_show(target), names=shown, force=words.force,
                    option=words.option)]
    return []


def _name_max(folder: Path) -> tuple[int, int]:
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    try:
        path_max = os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        path_max = 4096
    return name_max or 255, path_max or 4096


def _place_problem(target: Path, words: Words, *, file: bool) -> list[Message]:
    """Why the target cannot be written where it is (before anything is written)."""
    option = words.option
    cwd = target_path(Path.cwd())
    if target == cwd and not file:
        return [msg("out.current_folder", path=_show(target), option=option)]
    if cwd.is_relative_to(target):
        return [msg("out.holds_current", path=_show(target), option=option)]
    home = target_path(Path.home())
    if target.parent == target or target == home:
        return [msg("out.system_folder", path=_show(target), option=option)]
    if os.path.lexists(target):
        if file and target.is_dir():
            return [msg("out.is_folder", path=_show(target), option=option)]
        if not file and not target.is_dir():
            return [msg("out.is_file", path=_show(target), option=option)]
        if not file and os.path.ismount(target):
            return [msg("out.mount_point", path=_show(target), option=option)]
    parent = _nearest_existing(target.parent)
    if not parent.is_dir():
        return [msg("out.under_file", path=_show(target), file=_show(parent), option=option)]
    name_max, path_max = _name_max(parent)
    made = [target, *target.parents]
    for part in made[:made.index(parent)] if parent in made else [target]:
        length = len(os.fsencode(part.name))
        if length + TEMP_NAME_EXTRA > name_max:
            return [msg("out.name_too_long", path=_show(target), name=part.name, length=length,
                        limit=name_max, option=option)]
    length = len(os.fsencode(str(target)))
    if length + TEMP_NAME_EXTRA > path_max:
        return [msg("out.path_too_long", path=_show(target), length=length, limit=path_max,
                    option=option)]
    return _probe(target, parent, words)


def _probe(target: Path, parent: Path, words: Words) -> list[Message]:
    """Create and remove a folder where the output's parent is (or will be made)."""
    probe = parent / f".matcher-probe-{os.getpid()}-{id(target):x}"
    try:
        os.mkdir(probe)
    except FileExistsError:
        return []
    except OSError as e:
        return [msg("out.not_writable", path=_show(target), folder=_show(parent),
                    reason=e.strerror or errno.errorcode.get(e.errno or 0, "error"),
                    option=words.option)]
    with suppress(OSError):
        os.rmdir(probe)
    return []


def check_space(target: str | os.PathLike[str], needed_bytes: int, *,
                words: Words | None = None) -> None:
    """Refuse when the disk the output goes to has less than ``needed_bytes`` free.

    Raises
    ------
    OutputError
        ``out.no_space``.
    """
    words = words or current_words()
    path = target_path(target)
    try:
        free = shutil.disk_usage(_nearest_existing(path.parent)).free
    except OSError:
        return  # nothing to measure (the other checks said what is wrong with the place)
    if free < needed_bytes:
        raise OutputError(path, [msg("out.no_space", path=_show(path),
                                     free=f"{free / 2**20:.1f}",
                                     needed=f"{needed_bytes / 2**20:.1f}",
                                     option=words.option)])


def check_output(out: str | os.PathLike[str], inputs: Iterable[Input] = (), *,
                 force: bool = False, file: bool = False, words: Words | None = None,
                 legacy: Callable[[Path], bool] | None = None, needed_bytes: int = 0) -> Path:
    """THE check of an output path, before any work: every command that writes calls it.

    Parameters
    ----------
    out
        The output folder (or file, with ``file``).
    inputs
        The command's inputs: ``(path, role)`` pairs (see :func:`input_role`); None paths
        are skipped. The output may not be one of them, hold one, or lie inside one.
    force
        Replace an existing non-empty folder, if matcher wrote it and nothing else is in it.
    file
        The output is one file (``matcher report --out``), not a folder. An existing file is
        replaced only with ``force``, and only when ``legacy`` says it is of the kind the
        command writes (an HTML report).
    words
        How the messages name the options (default: :func:`current_words`).
    legacy
        The caller's test for a folder of its own written by an older matcher (no marker).
    needed_bytes
        The estimated size; refused when the disk has less free.

    Returns
    -------
    Path
        The output path, absolute, symbolic links resolved: write there.

    Raises
    ------
    OutputError
        Why it may not or cannot be written (``ResultExistsError`` for an existing folder
        without ``force``). Nothing is written either way.
    """
    words = words or current_words()
    target = target_path(out)
    found = _inputs_problem(target, inputs, words)
    if not found:
        found = _place_problem(target, words, file=file)
    if not found and not file:
        found = _replace_problem(target, force, words, legacy)
    if not found and file and target.is_file():
        if not force:
            found = [msg("out.file_exists", path=_show(target), option=words.option,
                         force=words.force)]
        elif legacy is not None and not legacy(target):
            found = [msg("out.not_report", path=_show(target), force=words.force,
                         option=words.option)]
    if found:
        kind = ResultExistsError if found[0].code in ("out.exists", "out.file_exists") \
            else OutputError
        raise kind(target, found)
    if needed_bytes:
        check_space(target, needed_bytes, words=words)
    return target


def recheck_output(target: Path, force: bool, legacy: Callable[[Path], bool] | None = None
                   ) -> None:
    """At the rename: the folder is still absent, empty, or (with ``force``) matcher's.

    Raises
    ------
    OutputError
        ``out.appeared`` when another program put something there meanwhile.
    """
    words = current_words()
    if not os.path.lexists(target):
        return
    if stat.S_ISDIR(os.lstat(target).st_mode) and not _replace_problem(target, force, words,
                                                                        legacy):
        return
    raise OutputError(target, [msg("out.appeared", path=_show(target), option=words.option)])
