"""What the pages and the HTTP API of ``matcher ui`` do, in one place: the server's library calls.

:class:`Service` owns the data folder (:class:`~matcher.web.store.History`), the run queue
(:class:`~matcher.web.runner.Runner`) and the staged uploads. Every action calls the library
as the command line does: :func:`matcher.load_scenario` to validate, the worker for solve and
verify, :func:`matcher.read_result`, :func:`matcher.explain`,
:func:`matcher.planning.compare.compare`. Pages and API only parse and present.
"""

from __future__ import annotations

import inspect
import io
import logging
import math
import os
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .. import solvers
from ..formats.resultdir import read_result, read_unassigned
from ..formats.scenario import load_scenario
from ..messages import Lang, Location, Message, MessageError, msg
from ..model import Problem, Result, ScenarioError
from ..planning.compare import Comparison, compare, read_view
from ..planning.explain import ExplainError, Explanation, explain
from .runner import Runner
from .store import ACTIVE, RUN_ID, History, new_run_id, now_utc, read_json, write_json
from .uploads import TOKEN, Staged, clean_old, stage_upload
from .validation import Validation, summary, validate

__all__ = ["FILES", "MAX_TIME_LIMIT_S", "RunOptions", "Service", "UserError"]

log = logging.getLogger("matcher.web")

FILES: dict[str, str] = {
    "results.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "assignments.csv": "text/csv; charset=utf-8",
    "unassigned.csv": "text/csv; charset=utf-8",
    "summary.json": "application/json",
    "report.html": "text/html; charset=utf-8",
    "manifest.json": "application/json",
}
"""The files of a result folder that can be downloaded, with their media types."""

MAX_TIME_LIMIT_S = 24 * 3600.0
"""Longest time limit a run may ask for."""


class UserError(Exception):
    """A request the user can correct: carries messages (shown in the user's language).

    Attributes
    ----------
    messages
        What is wrong.
    status
        The HTTP status for the API (422: bad input, 404: unknown, 409: not now).
    """

    def __init__(self, messages: list[Message], status: int = 422):
        self.messages = messages
        self.status = status
        super().__init__("; ".join(m.code for m in messages))


@dataclass(frozen=True)
class RunOptions:
    """How to solve: a registered solver, the time limit (None: the scenario's) and seed."""

    solver: str = "cpsat"
    time_limit_s: float | None = None
    seed: int | None = None

    @classmethod
    def parse(cls, solver: str | None, time_limit_s: str | float | None,
              seed: str | int | None) -> RunOptions:
        """Options from form fields (text); UserError naming each bad field."""
        bad: list[Message] = []
        name = (solver or "").strip() or "cpsat"
        if name not in solvers.names():
            bad.append(msg("web.bad_solver", at=Location(file="solver"),
                           value=name[:50], solvers=solvers.names()))
        limit: float | None = None
        text = "" if time_limit_s is None else str(time_limit_s).strip()
        if text:
            try:
                limit = float(text)
            except ValueError:
                limit = math.nan
            if not math.isfinite(limit) or not 0 < limit <= MAX_TIME_LIMIT_S:
                bad.append(msg("web.bad_time_limit",
                               at=Location(file="time_limit_s"),
                               value=text[:50], maximum=int(MAX_TIME_LIMIT_S)))
        number: int | None = None
        text = "" if seed is None else str(seed).strip()
        if text:
            if text.isascii() and text.isdigit() and len(text) <= 9:
                number = int(text)
            else:
                bad.append(msg("web.bad_seed", at=Location(file="seed"),
                               value=text[:50]))
        if bad:
            raise UserError(bad)
        return cls(name, limit, number)


def _message_text(item: Any, lang: Lang) -> str:
    """A message stored as JSON (or a plain line) as text in ``lang``."""
    if isinstance(item, dict):
        try:
            return Message.from_dict(item).text(lang)
        except (TypeError, ValueError, KeyError):
            return str(item.get("text") or item.get("code") or item)
    return str(item)


def _text(obj: Any, lang: Lang) -> str:
    """``obj.text(lang)`` where the library's object speaks both languages, else its text."""
    method = obj.text
    try:
        takes_lang = bool(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        takes_lang = False
    return str(method(lang) if takes_lang else method())


class Service:
    """The server's state and actions.

    Parameters
    ----------
    data
        The data folder (created when missing).
    max_workers
        Runs solved at once.
    reindex
        Rebuild the history from the run folders first (also done when the database is new).
    start_runner
        Start the run queue (tests of the history alone may leave it off).
    """

    def __init__(self, data: str | os.PathLike[str], *, max_workers: int = 1,
                 reindex: bool = False, start_runner: bool = True):
        self.data = Path(data)
        self.history = History(self.data)
        self.uploads = self.data / "uploads"
        self.uploads.mkdir(exist_ok=True)
        clean_old(self.uploads)
        self.reindexed = self.history.reindex() if reindex or self.history.created else None
        self.interrupted = self.history.recover()
        self.runner = Runner(self.history, max_workers=max_workers) if start_runner else None
        self._problems: OrderedDict[str, Problem] = OrderedDict()
        self._problem_lock = threading.Lock()
        self._load_lock = threading.Semaphore(2)  # loading is CPU and memory: two at a time

    def close(self) -> None:
        """Stop the workers (their runs become ``interrupted``) and close the history."""
        if self.runner is not None:
            self.runner.shutdown()
        self.history.close()

    # ---- new runs -----------------------------------------------------------------------------
    def stage(self, name: str | None, source: BinaryIO) -> tuple[Staged, Validation]:
        """Store an upload and validate it; UserError for an upload that is no scenario."""
        try:
            staged = stage_upload(self.uploads, name, source)
        except MessageError as e:
            raise UserError(list(e.messages)) from None
        with self._load_lock:
            checked = validate(staged.scenario, staged.original_name)
        write_json(staged.folder / "staged.json", {
            "ok": checked.ok, "original_name": staged.original_name, "kind": staged.kind,
            "scenario": staged.scenario.relative_to(staged.folder).as_posix(),
            "sha256": staged.sha256, "summary": summary(checked)})
        return staged, checked

    def staged(self, token: str) -> dict[str, Any]:
        """A staged upload's record; UserError when it is gone or was not valid."""
        doc = read_json(self.uploads / token / "staged.json") if TOKEN.fullmatch(token) else None
        if doc is None or not doc.get("ok"):
            raise UserError([msg("web.upload_gone", at=Location(file="upload"))], 404)
        return doc

    def start(self, token: str, options: RunOptions, lang: Lang | None = None) -> str:
        """Turn a valid staged upload into a queued run; its id. ``lang``: the language of the
        result's files for people (None: the scenario's, as ``matcher solve`` decides)."""
        doc = self.staged(token)
        run_id = new_run_id()
        paths = self.history.paths(run_id)
        paths.folder.mkdir(parents=True)
        os.replace(self.uploads / token, paths.input)
        summary = doc.get("summary") or {}
        scenario = f"input/{doc['scenario']}"
        write_json(paths.folder / "job.json", {
            "scenario": scenario, "solver": options.solver,
            "time_limit_s": options.time_limit_s, "seed": options.seed, "lang": lang})
        self.history.save({
            "id": run_id, "created": now_utc(), "scenario_name": summary.get("name"),
            "input_name": doc.get("original_name"), "input_sha256": summary.get("input_sha256"),
            "solver": options.solver,
            "time_limit_s": options.time_limit_s or summary.get("time_limit_s"),
            "seed": options.seed, "status": "queued", "students": summary.get("students")})
        if self.runner is not None:
            self.runner.submit(run_id)
        return run_id

    # ---- one run ------------------------------------------------------------------------------
    def run(self, run_id: str) -> dict[str, Any]:
        """A run's row; UserError 404 when unknown."""
        row = self.history.get(run_id) if RUN_ID.fullmatch(run_id) else None
        if row is None:
            raise UserError([msg("web.unknown_run", at=Location(file="run"),
                                 value=run_id[:40])], 404)
        return row

    def status(self, run_id: str) -> dict[str, Any]:
        """The API's view of a run: its row, the bounds, live progress while it runs."""
        row = self.run(run_id)
        live = self.runner.progress(run_id) if self.runner is not None else None
        out = {k: row.get(k) for k in (
            "id", "status", "created", "started", "finished", "scenario_name", "input_name",
            "input_sha256", "solver", "time_limit_s", "seed", "students", "placed",
            "unassigned", "rank_cost", "placed_upper_bound", "rank_cost_lower_bound",
            "pair_weight", "wall_seconds", "message", "verify_status", "verified")}
        out["cancelled"] = bool(row.get("cancelled"))
        out["progress"] = live
        out["files"] = self.files(run_id)
        return out

    def files(self, run_id: str) -> list[str]:
        """The downloadable files a run's result folder holds."""
        result = self.history.paths(run_id).result
        return [name for name in FILES if (result / name).is_file()]

    def file(self, run_id: str, name: str) -> Path:
        """A result file's path; UserError 404 for any other name or a run without it."""
        self.run(run_id)
        if name not in FILES:
            raise UserError([msg("web.unknown_file", at=Location(file=name[:80]),
                                 files=list(FILES))], 404)
        path = self.history.paths(run_id).result / name
        if not path.is_file():
            raise UserError([msg("web.no_result_yet", at=Location(file=name))], 409)
        return path

    def zip_bytes(self, run_id: str) -> bytes:
        """The whole result folder as a zip (its files at the top)."""
        self.run(run_id)
        result = self.history.paths(run_id).result
        if not (result / "manifest.json").is_file():
            raise UserError([msg("web.no_result_yet", at=Location(file="result"))], 409)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
            for path in sorted(result.iterdir()):
                if path.is_file() and not path.is_symlink():
                    book.write(path, path.name)
        return buffer.getvalue()

    def result(self, run_id: str) -> Result | None:
        """A finished run's result (from its folder), or None."""
        result = self.history.paths(run_id).result
        if not (result / "manifest.json").is_file():
            return None
        try:
            return read_result(result)
        except ScenarioError:
            return None

    def unassigned(self, run_id: str) -> list[tuple[str, str]]:
        """The unassigned students with their reasons."""
        result = self.history.paths(run_id).result
        try:
            return read_unassigned(result) if (result / "unassigned.csv").is_file() else []
        except ScenarioError:
            return []

    def errors(self, run_id: str) -> list[Any]:
        """The messages of a run that failed on bad input."""
        doc = read_json(self.history.paths(run_id).folder / "errors.json") or {}
        items = doc.get("messages")
        out: list[Any] = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                try:
                    out.append(Message.from_dict(item))
                    continue
                except (TypeError, ValueError, KeyError):
                    item = str(item.get("text") or item)
            out.append(str(item))
        return out

    def cancel(self, run_id: str) -> bool:
        """Stop a queued or running run; False when it is not active."""
        row = self.run(run_id)
        if row["status"] not in ACTIVE or self.runner is None:
            return False
        return self.runner.cancel(run_id)

    def delete(self, run_id: str) -> None:
        """Delete a finished run (UserError 409 while it is queued or running)."""
        row = self.run(run_id)
        if row["status"] in ACTIVE or (self.runner is not None and self.runner.busy(run_id)):
            raise UserError([msg("web.delete_active", at=Location(file="run"))], 409)
        with self._problem_lock:
            self._problems.pop(run_id, None)
        self.history.delete(run_id)

    def verify(self, run_id: str) -> None:
        """Queue a re-run of a finished run from its manifest (``matcher verify``)."""
        row = self.run(run_id)
        if self.result(run_id) is None or row["status"] in ACTIVE:
            raise UserError([msg("web.no_result_yet", at=Location(file="result"))], 409)
        if self.runner is None or self.runner.busy(run_id):
            raise UserError([msg("web.verify_busy", at=Location(file="run"))], 409)
        self.history.update(run_id, verify_status="queued")
        self.runner.submit(run_id, "verify")

    def verify_report(self, run_id: str, lang: Lang = "en") -> dict[str, Any] | None:
        """The last verify's outcome (``verify.json``), or None; its errors as text in
        ``lang``."""
        doc = read_json(self.history.paths(run_id).verify)
        if doc is not None:
            doc["errors"] = [_message_text(e, lang) for e in doc.get("errors") or []]
        return doc

    # ---- reading a scenario again -------------------------------------------------------------
    def problem(self, run_id: str) -> Problem:
        """The scenario a run solved (loaded once, a few kept in memory)."""
        with self._problem_lock:
            if run_id in self._problems:
                self._problems.move_to_end(run_id)
                return self._problems[run_id]
        job = read_json(self.history.paths(run_id).folder / "job.json") or {}
        scenario = str(job.get("scenario") or "")
        if not scenario.startswith("input/") or ".." in scenario.split("/"):
            raise UserError([msg("web.no_result_yet", at=Location(file="input"))], 409)
        with self._load_lock:
            problem = load_scenario(self.history.paths(run_id).folder / scenario)
        with self._problem_lock:
            self._problems[run_id] = problem
            while len(self._problems) > 3:
                self._problems.popitem(last=False)
        return problem

    def explain(self, run_id: str, student: str, lang: Lang) -> tuple[Explanation, str]:
        """``matcher explain`` for one student of a finished run (no verifying re-solves:
        the answer comes at once); the explanation and its text in ``lang``."""
        result = self.result(run_id)
        if result is None:
            raise UserError([msg("web.no_result_yet", at=Location(file="result"))], 409)
        student = student.strip()[:100]
        try:
            exp = explain(self.problem(run_id), result, student, verify=0, lang=lang)
        except ExplainError:
            raise UserError([msg("web.unknown_student", at=Location(file="student"),
                                 value=student)], 404) from None
        except ScenarioError as e:
            raise UserError([msg("web.scenario_unreadable", at=Location(file="input"),
                                 error=str(e)[:300])], 409) from None
        return exp, _text(exp, lang)

    def compare(self, a: str, b: str) -> Comparison:
        """``matcher compare`` of two finished runs (``a`` is the baseline)."""
        views = []
        problems: list[Problem | None] = []
        for run_id in (a, b):
            row = self.run(run_id)
            if self.result(run_id) is None:
                raise UserError([msg("web.no_result_yet", at=Location(file="result"))], 409)
            label = f"{row.get('scenario_name') or ''} {run_id}".strip()
            views.append(read_view(self.history.paths(run_id).result, label=label))
            try:
                problems.append(self.problem(run_id))
            except (ScenarioError, UserError):
                problems.append(None)
        try:
            return compare(views, problems)
        except ScenarioError as e:  # the runs are of different scenarios
            try:
                return compare(views, [None, None])
            except ScenarioError:
                raise UserError([msg("web.scenario_unreadable", at=Location(file="result"),
                                     error=str(e)[:300])], 409) from None


def iter_bytes(data: bytes, size: int = 1 << 16) -> Iterator[bytes]:
    """Chunks of a byte string, for a streamed response."""
    for k in range(0, len(data), size):
        yield data[k:k + size]
