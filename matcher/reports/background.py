"""One result-folder writer in a forked child process, while the others run in this one.

At 100,000 students ``results.xlsx`` and ``report.html`` (which runs the independent checker)
take a few seconds each; on two cores they take the time of the longer one when
``results.xlsx`` is written in a child process forked from this one (the result and the problem
are already in memory: nothing is copied or pickled). :class:`Background` gives the two
writers of :func:`matcher.write_result`'s chain: ``start`` forks the child (where forking is
safe and useful, see :func:`can_fork`; elsewhere it writes right away) and ``wait`` joins it
before the manifest hashes the files. A child that fails is not trusted: ``wait`` runs the
writer again here, so that its error is raised where the caller sees it. :meth:`stop` ends a
child still running (the folder is being abandoned).

The child runs only the writer and leaves with :func:`os._exit`, touching nothing else of the
parent (no flushing of streams another thread may have held at the fork).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from ..formats.resultdir import ResultWriter
from ..model import Problem, Result
from ..solvers.children import die_with_parent

__all__ = ["Background", "can_fork"]


def can_fork() -> bool:
    """Whether a writer may run in a forked child: Linux (fork is safe there with the
    libraries matcher uses), more than one CPU (else nothing is gained), and no other Python
    thread running in this process (a progress display, the web worker's event threads): a
    lock one of them holds at the fork would stay held in the child forever, and the parent
    would wait for it forever."""
    return (sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1
            and threading.active_count() == 1)


def _child(writer: ResultWriter, result: Result, problem: Problem | None, folder: Path) -> None:
    # the parent's handlers (a signal while writing lets the folder finish) are not the
    # child's: stop() ends it with SIGTERM, and it must end then; and it dies with the parent
    for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, signal.SIG_DFL)
    die_with_parent()
    try:
        writer(result, problem, folder)
    except BaseException:  # the parent writes it again and raises the error there
        os._exit(1)
    os._exit(0)


class Background:
    """Run ``writer`` in a forked child between :meth:`start` and :meth:`wait`.

    Parameters
    ----------
    writer
        The writer (``writer(result, problem, folder)``).
    enabled
        Fork at all (default: :func:`can_fork`); else :meth:`start` writes right away.
    """

    def __init__(self, writer: ResultWriter, enabled: bool | None = None):
        self.writer = writer
        self.enabled = can_fork() if enabled is None else enabled
        self.process: Any = None

    def start(self, result: Result, problem: Problem | None, folder: Path) -> None:
        """A writer of the chain: fork the child that writes (or write now)."""
        if not self.enabled:
            self.writer(result, problem, folder)
            return
        context = multiprocessing.get_context("fork")
        self.process = context.Process(target=_child, args=(self.writer, result, problem,
                                                            folder), daemon=True)
        self.process.start()

    def wait(self, result: Result, problem: Problem | None, folder: Path) -> None:
        """A writer of the chain: wait for the child; if it failed, write here (and raise)."""
        process, self.process = self.process, None
        if process is None:
            return
        process.join()
        if process.exitcode != 0:
            self.writer(result, problem, folder)

    def stop(self) -> None:
        """End a child that is still running (after an error elsewhere in the chain)."""
        process, self.process = self.process, None
        if process is not None and process.is_alive():
            process.terminate()
            process.join()
