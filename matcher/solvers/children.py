"""Helper processes that die with the process that started them, and take their folder along.

A solve may run HiGHS in helper processes (:mod:`matcher.solvers.highs_runner`) and ``matcher
bench`` runs each solver in one. Their parent stops and reaps them however it ends normally
(time limit, an exception, a signal it can handle), but a parent killed outright (SIGKILL, the
out-of-memory killer, a crash) runs no code. Two things make sure nothing is left running or
lying around then:

* :data:`POPEN_OPTIONS`: each helper gets its own process group (a Ctrl-C at the terminal
  reaches the parent only, which decides) and, on Linux, the kernel's parent-death signal
  (``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through ctypes), so it dies the moment its parent does;
* :func:`guard`: a tiny watcher process per helper run, holding the reading end of a pipe
  whose writing end only the parent has. When the pipe closes without the parent's last word
  (it is gone: the kernel closed its end), the watcher kills the helpers' process groups (the
  portable half of the parent-death signal) and removes the helpers' folder; when the parent
  says ``ended`` and closes it, it just exits. (Asking whether the parent still lives would
  race with its dying: the kernel closes its files before it reparents its children.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["POPEN_OPTIONS", "Guard", "die_with_parent", "guard"]

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child between fork and exec: be killed when the parent dies (Linux; elsewhere the
    :func:`guard` does it). Never raises: a child must start even where this is unsupported."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


POPEN_OPTIONS: dict[str, Any] = (
    {"start_new_session": True, "preexec_fn": die_with_parent} if os.name == "posix" else {})
"""Keyword arguments for :class:`subprocess.Popen` of a helper: own process group, and killed
with its parent on Linux."""

_WATCHER = """\
import os, shutil, signal, sys
folder = sys.argv[1]
pids, ended = [], False
with os.fdopen(0, "rb") as pipe:
    for line in pipe:  # each helper's pid, then "ended" when the parent ends normally
        if line.strip().isdigit():
            pids.append(int(line))
        ended = line.strip() == b"ended"
if not ended:  # the pipe closed without a word: the parent is gone
    for pid in pids:
        for kill in (getattr(os, "killpg", None), os.kill):
            try:
                if kill is not None:
                    kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
                    break
            except OSError:
                pass
    shutil.rmtree(folder, ignore_errors=True)
"""


class Guard:
    """The watcher of one helper run (see :func:`guard`): tell it each helper's pid.

    Attributes
    ----------
    folder
        The helpers' folder, removed if this process dies.
    """

    def __init__(self, proc: subprocess.Popen[bytes] | None, folder: Path):
        self.proc = proc
        self.folder = folder

    def watch(self, pid: int) -> None:
        """Kill the process (group) ``pid`` too if the parent dies."""
        if self.proc is not None and self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.write(f"{pid}\n".encode())
                self.proc.stdin.flush()


@contextlib.contextmanager
def guard(folder: Path) -> Iterator[Guard]:
    """While the block runs, a watcher removes ``folder`` and kills the helpers it is told of
    (:meth:`Guard.watch`) if this process dies without cleaning up.

    The watcher costs one small process; if it cannot be started, the block runs without it
    (the parent-death signal still stops the helpers on Linux).
    """
    try:
        proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WATCHER, str(folder)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=os.name == "posix")
    except OSError:
        proc = None
    try:
        yield Guard(proc, folder)
    finally:
        if proc is not None:
            with contextlib.suppress(OSError):
                if proc.stdin is not None:  # this process lives: the watcher leaves all be
                    proc.stdin.write(b"ended\n")
                    proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
