"""The worker process of ``matcher ui``: one run's solve (or verify), as ``matcher solve`` does it.

The server starts ``python -m matcher.web.worker RUN_FOLDER JOB`` for each job (``solve`` or
``verify``) and reads its standard output: one JSON object per line, the **events**:

``{"event": "stage", "stage": "loading" | "solving" | "writing" | "verifying"}``
    a step begins;
``{"event": "progress", "elapsed": s, "best": x, "bound": y, "gap": g, "note": "..."}``
    what the solver last reported through :mod:`matcher.progress` (every half second at most);
``{"event": "done", "summary": {...}}``
    the result folder is written (``summary`` is its ``summary.json``), or the verify's
    outcome is in ``verify.json``;
``{"event": "failed", "messages": [...], "text": "..."}``
    bad input (the messages) or a crash (the text);
``{"event": "cancelled"}``
    stopped before any allocation was found.

The solve is the library's (:func:`matcher.load_scenario`, :func:`matcher.solvers.solve`,
:func:`matcher.write_result`, :func:`matcher.planning.verify.verify_result`), in this
process's main thread, so a **cancel** is what Ctrl-C is to ``matcher solve``: SIGINT, which
the exact solvers catch to return the best allocation found so far (status FEASIBLE), then
written as usual. The server sends SIGINT (POSIX) or the line ``cancel`` on standard input
(any system; the worker then raises SIGINT in itself). While the result is written, SIGINT is
ignored: a result folder is complete or absent. When standard input closes (the server is
gone), the worker ends at once, with its helper processes.

Anything a library prints to standard output goes to standard error (the run's
``worker.log``): the events have the real standard output to themselves.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

__all__ = ["main"]

_REPORT_S = 0.5


class Channel:
    """The events' stream (the real standard output, one JSON object per line)."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.lock = threading.Lock()

    def send(self, event: str, **fields: Any) -> None:
        """Write one event line (thread-safe); a closed pipe is ignored (the server is gone)."""
        line = json.dumps({"event": event, **fields}, ensure_ascii=False, default=str)
        with self.lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass


def _events_stream() -> TextIO:
    """Keep the real standard output for the events; send fd 1 to standard error."""
    events = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return events


def _kill_children() -> None:
    """End every process this worker started (HiGHS helpers, ...)."""
    try:
        import psutil

        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    except Exception:
        pass


def _watch_stdin() -> None:
    """``cancel`` on standard input raises SIGINT here; end of input (the server is gone)
    ends the worker with its children."""
    for line in sys.stdin:
        if line.strip() == "cancel":
            signal.raise_signal(signal.SIGINT)
    _kill_children()
    os._exit(3)


def _reporter(channel: Channel, stop: threading.Event) -> None:
    """Forward the innermost progress step's figures, when they change."""
    from .. import progress

    last: tuple[Any, ...] | None = None
    while not stop.wait(_REPORT_S):
        bar = progress.current()
        if bar is None:
            continue
        now = (bar.best, bar.bound, bar.gap, bar.note)
        if now != last:
            last = now
            channel.send("progress", elapsed=bar.elapsed, best=bar.best, bound=bar.bound,
                         gap=bar.gap, note=bar.note)


def _problem_messages(error: BaseException) -> list[Any]:
    """The messages of a loading error, as JSON (structured where the loader gives them)."""
    from ..messages import Message

    items = getattr(error, "messages", None) or [str(error)]
    return [m.to_dict() if isinstance(m, Message) else str(m) for m in items]


def run_solve(folder: Path, job: dict[str, Any], channel: Channel) -> int:
    """Load, solve and write one run's result folder; the exit code."""
    from ..formats.scenario import load_scenario
    from ..messages import MessageError
    from ..model import ScenarioError
    from ..progress import progress
    from ..reports.folder import write_result
    from ..solvers import get, solve

    channel.send("stage", stage="loading")
    get(job["solver"])  # import the solver now: an interrupted import is no clean stop
    try:
        problem = load_scenario(folder / job["scenario"])
    except (ScenarioError, MessageError) as e:
        channel.send("failed", messages=_problem_messages(e), text=str(e))
        return 2
    channel.send("stage", stage="solving")
    # Asking for a stable allocation on the page is the office's explicit choice of rule: it
    # overrides a scenario whose solver.policy is score first (the two cannot be combined).
    options: dict[str, Any] = {"stable": True, "policy": "objective"} if job.get("stable") else {}
    with progress(f"solving ({job['solver']})", enabled=False,
                  limit_s=job.get("time_limit_s") or problem.solver.time_limit_s):
        result = solve(problem, job["solver"], time_limit_s=job.get("time_limit_s"),
                       seed=job.get("seed"), workers=job.get("workers"), **options)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the result is complete or absent
    channel.send("stage", stage="writing")
    write_result(result, folder / "result", problem=problem, lang=job.get("lang"))
    channel.send("done", summary=result.summary())
    return 0


def run_verify(folder: Path, job: dict[str, Any], channel: Channel) -> int:
    """Re-run a run's result from its manifest (``matcher verify``); writes ``verify.json``."""
    from ..messages import MessageError
    from ..model import ScenarioError
    from ..planning.verify import main_lines, verify_result
    from ..progress import progress
    from .store import now_utc, write_json

    channel.send("stage", stage="verifying")
    try:
        with progress("verifying", enabled=False):
            report = verify_result(folder / "result", str(folder / job["scenario"]))
    except (ScenarioError, MessageError) as e:
        doc = {"ok": False, "checked": now_utc(), "lines": [], "notes": [],
               "differences": [], "errors": _problem_messages(e)}
        write_json(folder / "verify.json", doc)
        channel.send("failed", messages=doc["errors"], text=str(e))
        return 2
    rerun = report.rerun
    doc = {"ok": report.ok, "checked": now_utc(), "lines": main_lines(report),
           "notes": list(report.notes), "differences": report.differences[:1000],
           "count": len(report.differences),
           "rerun": None if rerun is None else {"status": rerun.status.value,
                                                "placed": rerun.placed,
                                                "rank_cost": rerun.rank_cost}}
    write_json(folder / "verify.json", doc)
    channel.send("done", summary=doc)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m matcher.web.worker RUN_FOLDER solve|verify``: the exit code."""
    args = sys.argv[1:] if argv is None else argv
    channel = Channel(_events_stream())
    if len(args) != 2 or args[1] not in ("solve", "verify"):
        channel.send("failed", messages=[], text="usage: worker RUN_FOLDER solve|verify")
        return 2
    folder, kind = Path(args[0]), args[1]
    threading.Thread(target=_watch_stdin, name="worker-stdin", daemon=True).start()
    stop = threading.Event()
    threading.Thread(target=_reporter, args=(channel, stop), name="worker-progress",
                     daemon=True).start()
    t0 = time.monotonic()
    try:
        job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        return (run_solve if kind == "solve" else run_verify)(folder, job, channel)
    except KeyboardInterrupt:  # cancelled before a solver could keep anything
        channel.send("cancelled", elapsed=time.monotonic() - t0)
        return 130
    except BaseException as e:
        traceback.print_exc()
        channel.send("failed", messages=[], text=f"{type(e).__name__}: {e}"[:2000])
        return 1
    finally:
        stop.set()
        _kill_children()


if __name__ == "__main__":
    sys.exit(main())
