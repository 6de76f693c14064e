"""Signals while an output is written: it is finished first, or, on a second signal, abandoned.

Inside :func:`finish_first` (the few seconds :func:`matcher.formats.resultdir.atomic_folder`
spends filling and renaming a folder) a first SIGINT, SIGTERM or SIGHUP is held back: the
output is completed, and then :class:`Interrupted` is raised with ``completed`` set, so the
caller knows the folder is whole and can say so. A second signal abandons the write at once
(:class:`Interrupted` with ``completed`` None; the caller removes its temporary folder), so a
user who insists is never kept waiting. Signal handlers can only be set in the main thread; in
any other thread (a web server's) the block runs unguarded.

:func:`raise_on_signals` turns SIGTERM and SIGHUP into :class:`Interrupted` for a whole command
(the ``matcher`` entry point), so that every ``finally`` runs: claims are released, helper
processes stopped, temporary folders removed.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["SIGNALS", "Interrupted", "finish_first", "raise_on_signals", "signal_name"]

SIGNALS: tuple[int, ...] = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM",
                                                                    "SIGHUP")
                                 if hasattr(signal, name))
"""The signals that ask a command to stop (SIGHUP: its terminal was closed)."""


def signal_name(signum: int) -> str:
    """``SIGINT`` for 2, and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Interrupted(KeyboardInterrupt):
    """A signal asked the command to stop (a :class:`KeyboardInterrupt`, whatever the signal).

    Attributes
    ----------
    signum
        The signal.
    completed
        The output that was finished before stopping, or None when nothing was written.
    """

    def __init__(self, signum: int, completed: Path | None = None):
        self.signum = signum
        self.completed = completed
        super().__init__(signum, completed)

    @property
    def name(self) -> str:
        """The signal's name (``SIGTERM``)."""
        return signal_name(self.signum)

    @property
    def exit_code(self) -> int:
        """128 + the signal number, the shell's convention."""
        return 128 + self.signum


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


_depth = [0]  # nested writes (a rolling report's cohort folders): the outermost one holds


@contextlib.contextmanager
def finish_first(target: Path) -> Iterator[None]:
    """Hold a first stop signal back until the block ends; a second one interrupts it.

    Inside another such block (a folder written inside a folder being written) it does
    nothing: the outermost block holds the signal.

    Raises
    ------
    Interrupted
        After the block completed, when a signal arrived during it (``completed`` is
        ``target``); at once, when a second signal arrives (``completed`` None).
    """
    if not _main_thread() or _depth[0]:
        yield
        return
    got: list[int] = []

    def held(signum: int, _frame: FrameType | None) -> None:
        got.append(signum)
        if len(got) > 1:
            raise Interrupted(signum)

    previous: dict[int, Any] = {}
    _depth[0] += 1
    try:
        for sig in SIGNALS:
            previous[sig] = signal.signal(sig, held)
        yield
    finally:
        _depth[0] -= 1
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if got:
        raise Interrupted(got[0], completed=target)


def raise_on_signals() -> None:
    """Make SIGTERM and SIGHUP raise :class:`Interrupted` (SIGINT already raises
    :class:`KeyboardInterrupt`); call once, from the main thread of a command."""
    if not _main_thread():
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signum)

    for sig in SIGNALS:
        if sig != signal.SIGINT:
            signal.signal(sig, stop)
