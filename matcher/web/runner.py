"""The run queue of ``matcher ui``: jobs wait their turn, one or two worker processes at a time.

:class:`Runner` keeps a queue of jobs (a run's ``solve``, or the ``verify`` of a finished
run) and a dispatcher thread that starts ``python -m matcher.web.worker`` for the next one
while fewer than ``max_workers`` run: a queue, not a fork bomb. A reader thread per worker
follows its events (:mod:`matcher.web.worker`), keeps the live progress in memory for the
running page and records the outcome in the history (:class:`~matcher.web.store.History`).

A worker runs in its own process group (session), so a Ctrl-C meant for the server does not
reach it; :meth:`Runner.cancel` sends it SIGINT (on Windows the line ``cancel``), which stops
the solve and keeps the best allocation found. :meth:`Runner.shutdown` ends every worker with
its helper processes; the runs they had are then ``interrupted``
(:meth:`History.recover <matcher.web.store.History.recover>` does the same after a crash).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .store import RESULT_STATUSES, History, now_utc, write_json

__all__ = ["Live", "Runner"]

log = logging.getLogger("matcher.web")

_STOP = ("__stop__", "")


@dataclass
class Live:
    """What a running job last reported (kept in memory only).

    Attributes
    ----------
    kind
        ``solve`` or ``verify``.
    stage
        ``queued``, ``loading``, ``solving``, ``writing`` or ``verifying``.
    started
        ``time.monotonic()`` when the worker started (None while queued).
    progress
        The solver's last report: ``elapsed, best, bound, gap, note``.
    placed
        Students placed by the best allocation so far, when the solver's first stage (the
        count of students placed) reported it.
    cancel_requested
        The user asked to stop it.
    """

    kind: str
    stage: str = "queued"
    started: float | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    placed: int | None = None
    cancel_requested: bool = False
    process: subprocess.Popen[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The API's ``progress`` object."""
        elapsed = None if self.started is None else round(time.monotonic() - self.started, 1)
        return {"kind": self.kind, "stage": self.stage, "elapsed_s": elapsed,
                "placed": self.placed, "cancel_requested": self.cancel_requested,
                **{k: self.progress.get(k) for k in ("best", "bound", "gap", "note")}}


class Runner:
    """The job queue and its worker processes.

    Parameters
    ----------
    history
        Where runs are recorded.
    max_workers
        Jobs run at once (1 or 2: the solvers use every core they are given).
    python
        The interpreter for the workers (default: this one).
    """

    def __init__(self, history: History, max_workers: int = 1, python: str | None = None):
        self.history = history
        self.max_workers = max(1, min(int(max_workers), 4))
        self.python = python or sys.executable
        self.live: dict[str, Live] = {}
        self._lock = threading.RLock()
        self._queue: queue.Queue[tuple[str, str]] = queue.Queue()
        self._slots = threading.Semaphore(self.max_workers)
        self._closing = False
        self._dispatcher = threading.Thread(target=self._dispatch, name="matcher-runs",
                                            daemon=True)
        self._dispatcher.start()
        self.listeners: list[Callable[[str], None]] = []
        self._followers: list[threading.Thread] = []

    # ---- submitting ---------------------------------------------------------------------------
    def submit(self, run_id: str, kind: str = "solve") -> None:
        """Queue a job for a run (its folder holds ``job.json``)."""
        with self._lock:
            self.live[run_id] = Live(kind)
        self._queue.put((run_id, kind))

    def busy(self, run_id: str) -> bool:
        """True while a job of this run is queued or running."""
        with self._lock:
            return run_id in self.live

    def progress(self, run_id: str) -> dict[str, Any] | None:
        """The live progress of a queued or running job, or None."""
        with self._lock:
            live = self.live.get(run_id)
            return None if live is None else live.to_dict()

    def cancel(self, run_id: str) -> bool:
        """Stop a run: a queued one never starts (``cancelled``); a running one gets SIGINT
        and keeps the best allocation found. False when nothing of it is queued or running."""
        with self._lock:
            live = self.live.get(run_id)
            if live is None:
                return False
            live.cancel_requested = True
            proc = live.process
            if proc is None:  # still queued: the dispatcher skips it
                if live.kind == "solve":
                    self.history.update(run_id, status="cancelled", cancelled=1,
                                        finished=now_utc())
                del self.live[run_id]
                self._notify(run_id)
                return True
        self._interrupt(proc)
        return True

    @staticmethod
    def _interrupt(proc: subprocess.Popen[str]) -> None:
        if proc.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.kill(proc.pid, signal.SIGINT)
            elif proc.stdin is not None:
                proc.stdin.write("cancel\n")
                proc.stdin.flush()
        except (OSError, ValueError):
            pass

    # ---- running ------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        while True:
            self._slots.acquire()
            run_id, kind = self._queue.get()
            if (run_id, kind) == _STOP:
                self._slots.release()
                return
            with self._lock:
                live = self.live.get(run_id)
                if live is None or live.cancel_requested or self._closing:
                    self._slots.release()
                    continue
                try:
                    self._start(run_id, kind, live)
                except Exception:  # a worker that cannot start fails its run, not the server
                    log.exception("starting the worker of run %s", run_id)
                    self._slots.release()
                    self._finish(run_id, kind, {"event": "failed", "messages": [],
                                                "text": "the worker process could not start"})

    def _start(self, run_id: str, kind: str, live: Live) -> None:
        paths = self.history.paths(run_id)
        logfile = paths.log.open("a", encoding="utf-8")
        env = dict(os.environ, PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1")
        popen_args: dict[str, Any] = {}
        if os.name == "posix":
            popen_args["start_new_session"] = True  # Ctrl-C on the server is not for it
        else:
            popen_args["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        proc = subprocess.Popen(
            [self.python, "-m", "matcher.web.worker", str(paths.folder), kind],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=logfile, text=True,
            encoding="utf-8", errors="replace", env=env, cwd=str(paths.folder), **popen_args)
        logfile.close()
        live.process = proc
        live.started = time.monotonic()
        live.stage = "starting"
        if kind == "solve":
            self.history.update(run_id, status="running", started=now_utc())
        follower = threading.Thread(target=self._follow, args=(run_id, kind, proc),
                                    name=f"matcher-run-{run_id}", daemon=True)
        self._followers.append(follower)
        follower.start()
        self._notify(run_id)

    def _follow(self, run_id: str, kind: str, proc: subprocess.Popen[str]) -> None:
        """Read a worker's events until it ends, then record the outcome."""
        last: dict[str, Any] = {}
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(event, dict):
                    continue
                self._on_event(run_id, event)
                if event.get("event") in ("done", "failed", "cancelled"):
                    last = event
            proc.wait()
        finally:
            self._slots.release()
        if not last:
            last = {"event": "interrupted" if self._closing else "failed", "messages": [],
                    "text": f"the worker process ended without a result (exit code "
                            f"{proc.returncode}); see worker.log"}
        self._finish(run_id, kind, last)

    def _on_event(self, run_id: str, event: dict[str, Any]) -> None:
        with self._lock:
            live = self.live.get(run_id)
            if live is None:
                return
            if event.get("event") == "stage":
                live.stage = str(event.get("stage"))
            elif event.get("event") == "progress":
                live.progress = {k: event.get(k) for k in ("elapsed", "best", "bound", "gap",
                                                           "note")}
                note = str(event.get("note") or "")
                best = event.get("best")
                # The exact solvers' first stage maximises the students placed: its best
                # objective is the number placed by the best allocation so far.
                if note.startswith("stage 1") and isinstance(best, int | float):
                    live.placed = int(best)
        self._notify(run_id)

    def _finish(self, run_id: str, kind: str, event: dict[str, Any]) -> None:
        with self._lock:
            live = self.live.pop(run_id, None)
        cancelled = bool(live and live.cancel_requested)
        what = event.get("event")
        if kind == "verify":
            if what != "done":
                self.history.update(run_id, verify_status="failed", verified=now_utc())
            else:
                summary = event.get("summary") or {}
                self.history.update(run_id, verified=summary.get("checked") or now_utc(),
                                    verify_status="verified" if summary.get("ok")
                                    else "not_verified")
            self._notify(run_id)
            return
        fields: dict[str, Any] = {"finished": now_utc(), "cancelled": int(cancelled)}
        if what == "done":
            rebuilt = self.history.record_from_folder(run_id)
            if rebuilt is not None and rebuilt.get("status") in RESULT_STATUSES:
                rebuilt.update(fields)
                self.history.save(rebuilt)
                self._notify(run_id)
                return
            fields.update(status="failed", message="the result folder is incomplete")
        elif what == "cancelled" or (cancelled and not event.get("messages")):
            # stopped before a solver could keep anything (a crash while it stopped included)
            fields.update(status="cancelled",
                          message="cancelled before any allocation was found")
        elif what == "interrupted":
            fields.update(status="interrupted",
                          message="the server stopped while this run was running")
        else:
            messages = event.get("messages") or []
            fields.update(status="failed", message=str(event.get("text") or "")[:4000])
            if messages:
                write_json(self.history.paths(run_id).folder / "errors.json",
                           {"messages": messages})
        self.history.update(run_id, **fields)
        self._notify(run_id)

    def _notify(self, run_id: str) -> None:
        for listener in list(self.listeners):
            try:
                listener(run_id)
            except Exception:  # a listener's bug must not stop the runs
                log.exception("run listener")

    # ---- stopping -----------------------------------------------------------------------------
    def shutdown(self, timeout_s: float = 5.0) -> None:
        """End every worker (with its helper processes); queued runs stay queued for
        :meth:`History.recover` to mark. Waits at most ``timeout_s`` per worker."""
        with self._lock:
            self._closing = True
            procs = [live.process for live in self.live.values() if live.process is not None]
        for proc in procs:
            _kill_tree(proc)
        deadline = time.monotonic() + timeout_s
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        for follower in list(self._followers):  # they record the interrupted runs
            follower.join(max(0.1, deadline + timeout_s - time.monotonic()))
        self._queue.put(_STOP)
        self._slots.release()


def _kill_tree(proc: subprocess.Popen[str]) -> None:
    """Kill a worker and every process it started."""
    if proc.poll() is not None:
        return
    try:
        import psutil

        parent = psutil.Process(proc.pid)
        for child in parent.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
        parent.kill()
    except Exception:
        with contextlib.suppress(OSError):
            proc.kill()
