"""The one way matcher runs HiGHS: a job handed to a fresh helper process, watched to its end.

Why a helper process: HiGHS's own Python API, ``highspy``, gives what a time-limited exact
solve needs (the incumbent of a search cut short, ``mip_dual_bound``, options such as the
seed), but it cannot share a process with OR-Tools: their HiGHS symbols clash and the process
crashes. The library, the CLI and the tests may well have loaded OR-Tools already, so every
HiGHS solve runs in a fresh process that imports only numpy, highspy and the helper programs
in :mod:`matcher.solvers.highs` (never the rest of matcher, which would also double the
helper's start-up time, and that dominates small solves).

The job is a folder: ``model.npz`` (the arrays), ``job.json`` (the settings, with the deadline
as a wall-clock time) and, from the helper, whatever its program writes as it goes (each level
as soon as it is known, so a helper cut short still leaves what it had). :func:`run_helper`
starts one process per role, polls ``stop`` and ``tick`` while they run, kills them at the
deadline plus a grace (never leaving one running, also when this process is interrupted) and
hands the folder to ``collect`` before it is deleted. The helpers die with this process and
their folder goes with them even when it is killed outright (:mod:`matcher.solvers.children`).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from . import clock
from .children import POPEN_OPTIONS, guard

_T = TypeVar("_T")

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
"""The ``matcher`` package folder (the helper imports ``matcher.solvers.highs`` from it)."""

_BOOTSTRAP = """\
import sys, types
from pathlib import Path
# matcher.solvers.highs without matcher's own __init__ files (pandas, pydantic, OR-Tools):
# the parent packages are bare module objects that only say where their files are.
for _name, _path in (("matcher", {root!r}), ("matcher.solvers", {solvers!r})):
    _module = types.ModuleType(_name)
    _module.__path__ = [_path]
    sys.modules[_name] = _module
"""


def child_program(body: str) -> str:
    """A ``python -P -c`` program that can import :mod:`matcher.solvers.highs` (and nothing
    else of matcher) and then runs ``body``."""
    return _BOOTSTRAP.format(root=str(PACKAGE_ROOT),
                             solvers=str(PACKAGE_ROOT / "solvers")) + body


@dataclass
class HelperRun(Generic[_T]):
    """How a helper run ended.

    Attributes
    ----------
    collected
        What ``collect`` read from the job folder.
    error
        Why the helper ended badly ("" when it did not): stopped on request, overran its time,
        or failed (with the last line it wrote to stderr).
    stopped
        ``stop`` asked for the end.
    """

    collected: _T
    error: str
    stopped: bool


def run_helper(entry: str, arrays: dict[str, Any], job: dict[str, Any], *, deadline: float,
               grace: float, log: bool, collect: Callable[[Path], _T],
               roles: tuple[str, ...] = ("",), stop: Callable[[], bool] | None = None,
               tick: Callable[[Path], None] | None = None) -> HelperRun[_T]:
    """Run ``matcher.solvers.highs.<entry>.main(work, role)`` in one fresh process per role.

    Parameters
    ----------
    entry
        The helper program's module in :mod:`matcher.solvers.highs` (``levels``,
        ``slot_search``).
    arrays
        Saved as ``model.npz``.
    job
        Saved as ``job.json``, with ``deadline`` (wall clock) added.
    deadline
        :func:`matcher.solvers.clock.now` value by which the helper must be done; it is killed
        ``grace`` seconds after. In a deterministic solve the helper gets the time until then
        as its work budget (``job["work"]``), is waited for however long it takes (up to
        :data:`matcher.solvers.clock.SAFETY_FACTOR` times the budget), and the work it did
        moves this solve's clock on.
    log
        The helper's stdout goes to stderr (else nowhere).
    collect
        Reads the job folder once the helpers have ended (or were killed).
    roles
        One process each, told its role; stderr goes to ``stderr_<role>.txt`` (``stderr.txt``
        for the role "").
    stop
        Polled about every 0.05 s; true ends the helpers at once.
    tick
        Called with the job folder about every 0.05 s while the helpers run.
    """
    exact = clock.deterministic()
    launched = clock.now()
    budget = max(0.0, deadline - launched)
    with tempfile.TemporaryDirectory(prefix=f"matcher-{entry}-") as tmp, \
            guard(Path(tmp)) as watcher:
        work = Path(tmp)
        np.savez(work / "model.npz", **arrays)
        (work / "job.json").write_text(json.dumps(
            {**job, "deadline": time.time() + budget,
             **({"deterministic": True, "work": budget} if exact else {})}),
            encoding="utf-8")
        program = child_program(f"from matcher.solvers.highs.{entry} import main\n"
                                "main(Path(sys.argv[1]), sys.argv[2])\n" + _WORK_DONE)
        procs: list[subprocess.Popen[bytes]] = []
        errs: list[Any] = []
        error, stopped = "", False
        try:
            for role in roles:
                errs.append(open(_stderr(work, role), "wb"))  # noqa: SIM115
                procs.append(subprocess.Popen(
                    [sys.executable, "-P", "-c", program, str(work), role], stderr=errs[-1],
                    stdout=2 if log else subprocess.DEVNULL, **POPEN_OPTIONS))
                watcher.watch(procs[-1].pid)
            kill_at = time.perf_counter() + (
                clock.SAFETY_FACTOR * budget + 60.0 if exact else budget + grace)
            while any(p.poll() is None for p in procs):
                if tick is not None:
                    tick(work)
                if stop is not None and stop():
                    error, stopped = "the HiGHS helper process was stopped on request", True
                    break
                if time.perf_counter() > kill_at:
                    error = ("the HiGHS helper process overran its time limit and was stopped"
                             if not exact else "the HiGHS helper process overran its work "
                             "budget's safety limit of wall time and was stopped (this run is "
                             "not reproducible)")
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    procs[-1].wait(timeout=0.05)
        finally:  # an exception here (a signal's, say) must not leave HiGHS running
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            for err in errs:
                err.close()
        if exact:
            clock.advance_to(launched + max((_work_done(work, role) for role in roles),
                                            default=0.0))
        if error:
            error += _last_line(work, roles[-1])
        for role, proc in zip(roles, procs, strict=True):
            if not error and proc.returncode != 0:
                who = f"the HiGHS helper process ({role})" if len(roles) > 1 else (
                    "the HiGHS helper process")
                error = f"{who} failed (exit {proc.returncode})" + _last_line(work, role)
        return HelperRun(collect(work), error, stopped)


_WORK_DONE = """\
from matcher.solvers.highs.common import CLOCK
(Path(sys.argv[1]) / f"work_{sys.argv[2]}.txt").write_text(repr(CLOCK.work))
"""
"""The end of every helper program: the work its clock counted (deterministic jobs)."""


def _work_done(work: Path, role: str) -> float:
    """The work a helper counted (``work_<role>.txt``), 0 when it did not say."""
    try:
        return float((work / f"work_{role}.txt").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0.0


def _stderr(work: Path, role: str) -> Path:
    """Where a helper's stderr goes: ``stderr.txt``, or ``stderr_<role>.txt``."""
    return work / (f"stderr_{role}.txt" if role else "stderr.txt")


def _last_line(work: Path, role: str) -> str:
    """``": <the last line the helper wrote to stderr>"``, or "" when it wrote nothing."""
    tail = _stderr(work, role).read_text(encoding="utf-8", errors="replace").strip()
    return f": {tail.splitlines()[-1]}" if tail else ""
