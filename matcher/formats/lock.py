"""Exclusive claims on an output: one writer at a time, and a dead writer's claim taken over.

:func:`claim` holds ``.<name>.matcher-lock`` beside the output for as long as a command works
towards it (from before the solve to after the rename). The file records who holds it (process
id, computer, start time, command) and is locked by the operating system (``flock`` on POSIX,
``msvcrt.locking`` on Windows), so the lock ends with its process whatever the way it ends: a
lock file left by a killed process is stale and the next writer takes it over (and says so),
while a second live writer is refused at once with who holds it (``lock.held``). The claim is
re-entrant within a thread: the command claims early, and the writer it calls claims again.

When a claim is taken, temporary siblings a killed writer left (``.<name>.*.tmp``,
``.<name>.*.old``) are removed: no live matcher writes them without holding the claim.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..messages import Message, msg
from .output import OutputError, Words, current_words

__all__ = ["LOCK_SUFFIX", "Claim", "OutputBusy", "claim", "lock_path"]

LOCK_SUFFIX = ".matcher-lock"

if sys.platform == "win32":  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


class OutputBusy(OutputError):
    """Another live matcher run holds the claim on the output."""


def lock_path(target: Path) -> Path:
    """The lock file of an output: ``.<name>.matcher-lock`` beside it."""
    return target.with_name(f".{target.name}{LOCK_SUFFIX}")


@dataclass
class Claim:
    """A claim held on an output.

    Attributes
    ----------
    target
        The output path.
    notes
        Notes for the user (a stale claim taken over).
    """

    target: Path
    notes: list[Message] = field(default_factory=list)
    fd: int = -1
    depth: int = 1
    made: list[Path] = field(default_factory=list)


_held: dict[tuple[str, int], Claim] = {}
_held_lock = threading.Lock()


def _info() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "since": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "command": " ".join(sys.argv)[:300]}


def _read(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_bytes()[:4096].decode("utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _busy(target: Path, lock: Path, words: Words) -> OutputBusy:
    info = _read(lock)
    if info and {"pid", "host", "since"} <= set(info):
        m = msg("lock.held", path=str(target), pid=str(info["pid"]), host=str(info["host"]),
                since=str(info["since"]), option=words.option)
    else:  # the holder is between taking the lock and writing who it is
        m = msg("lock.held_unknown", path=str(target), lock=str(lock), option=words.option)
    return OutputBusy(target, [m])


def _make_parents(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; the ones made, deepest first."""
    made = []
    for p in (folder, *folder.parents):
        if os.path.lexists(p):
            break
        made.append(p)
    folder.mkdir(parents=True, exist_ok=True)
    return made


def _acquire(target: Path, words: Words) -> Claim:
    lock = lock_path(target)
    made = _make_parents(target.parent)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise _busy(target, lock, words)
        try:  # the file may have been removed and made anew between our open and our lock
            same = os.path.samestat(os.stat(lock), os.fstat(fd))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    found = Claim(target, fd=fd, made=made)
    before = _read(lock)
    if before and before.get("pid") is not None and (before.get("pid"), before.get("host")) \
            != (os.getpid(), socket.gethostname()):
        found.notes.append(msg("lock.reclaimed", severity="note", path=str(target),
                               pid=str(before["pid"]), host=str(before.get("host", "?"))))
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, (json.dumps(_info()) + "\n").encode("utf-8"))
    _sweep(target)
    return found


def _sweep(target: Path) -> None:
    """Remove the temporary siblings a killed writer of ``target`` left behind."""
    prefix = f".{target.name}."
    with contextlib.suppress(OSError):
        for p in target.parent.iterdir():
            if p.name.startswith(prefix) and p.name.endswith((".tmp", ".old")):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)


def _release(c: Claim, written: bool) -> None:
    with contextlib.suppress(OSError):
        lock_path(c.target).unlink()  # while still locked: no one can take the file meanwhile
    os.close(c.fd)
    if not written:  # leave no empty parent folders of an output that was not written
        for p in c.made:
            with contextlib.suppress(OSError):
                p.rmdir()


@contextlib.contextmanager
def claim(target: Path) -> Iterator[Claim]:
    """Hold the exclusive claim on an output while the block runs.

    Parameters
    ----------
    target
        The output path (absolute, as :func:`matcher.formats.output.check_output` gives it).
        Its missing parent folders are made (and removed again if nothing was written).

    Yields
    ------
    Claim
        Its ``notes`` say when a dead writer's claim was taken over.

    Raises
    ------
    OutputBusy
        Another live matcher run holds it (``lock.held``, naming the process and computer).
    """
    key = (str(target), threading.get_ident())
    with _held_lock:
        mine = _held.get(key)
        if mine is not None:
            mine.depth += 1
    if mine is not None:
        try:
            yield mine
        finally:
            mine.depth -= 1
        return
    try:
        held = _acquire(target, current_words())
    except OSError as e:
        raise OutputError(target, [msg("out.write_failed", path=str(target),
                                       reason=e.strerror or str(e))]) from None
    with _held_lock:
        _held[key] = held
    try:
        yield held
    finally:
        with _held_lock:
            _held.pop(key, None)
        _release(held, os.path.lexists(target))
