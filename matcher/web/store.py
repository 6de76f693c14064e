"""The run history of ``matcher ui``: the data folder's run folders, indexed in SQLite.

The data folder (``--data``) holds one folder per run::

    runs/<id>/run.json      the request and its lifecycle (written by the server)
    runs/<id>/input/        the uploaded workbook, or the unpacked scenario folder
    runs/<id>/result/       the result folder (``matcher.write_result``): the source of truth
    runs/<id>/verify.json   the last ``verify`` of the result, if any
    runs/<id>/worker.log    what the worker process printed
    matcher.db              the index below

The folders are the truth; ``matcher.db`` (the standard library's :mod:`sqlite3`) only indexes
them for the history page and the API, and :meth:`History.reindex` rebuilds it from them
(``matcher ui --reindex``). Its schema has a version (SQLite's ``user_version``) and
:data:`MIGRATIONS`, applied in order when an older database is opened.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..formats.resultdir import read_summary
from ..model import ScenarioError

__all__ = ["ACTIVE", "FINISHED", "MIGRATIONS", "RESULT_STATUSES", "RUN_ID", "SCHEMA_VERSION",
           "History", "new_run_id", "now_utc", "read_json", "write_json"]

RESULT_STATUSES = ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN")
"""A finished solve's status is its result's (:class:`matcher.Status`)."""

ACTIVE = ("queued", "running")
"""A run that a worker has not finished yet."""

FINISHED = (*RESULT_STATUSES, "failed", "cancelled", "interrupted")
"""Every status a run can end in: a result's, or ``failed`` (bad input, a crash),
``cancelled`` (stopped before any allocation was found) or ``interrupted`` (the server
stopped while it ran)."""

RUN_ID = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{8}")
"""The form of a run id: UTC date and time of the request, then 32 random bits."""

MIGRATIONS: tuple[str, ...] = (
    # 1: the run index
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        scenario_name TEXT,
        input_name TEXT,
        input_sha256 TEXT,
        solver TEXT,
        time_limit_s REAL,
        seed INTEGER,
        status TEXT NOT NULL,
        cancelled INTEGER NOT NULL DEFAULT 0,
        students INTEGER,
        placed INTEGER,
        unassigned INTEGER,
        rank_cost INTEGER,
        placed_upper_bound INTEGER,
        rank_cost_lower_bound INTEGER,
        pair_weight REAL,
        wall_seconds REAL,
        message TEXT,
        started TEXT,
        finished TEXT
    );
    CREATE INDEX runs_created ON runs(created);
    """,
    # 2: the outcome of the last verify (re-run from the manifest)
    """
    ALTER TABLE runs ADD COLUMN verify_status TEXT;
    ALTER TABLE runs ADD COLUMN verified TEXT;
    """,
)
"""The schema, one script per version: opening a database of version ``k`` runs scripts
``k+1..``; never edit a released script, append one."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes."""

COLUMNS = ("id", "created", "scenario_name", "input_name", "input_sha256", "solver",
           "time_limit_s", "seed", "status", "cancelled", "students", "placed", "unassigned",
           "rank_cost", "placed_upper_bound", "rank_cost_lower_bound", "pair_weight",
           "wall_seconds", "message", "started", "finished", "verify_status", "verified")
"""The columns of ``runs`` (schema :data:`SCHEMA_VERSION`), also the keys of ``run.json``."""

_FROM_SUMMARY = ("solver", "status", "placed", "rank_cost", "placed_upper_bound",
                 "rank_cost_lower_bound", "pair_weight", "wall_seconds", "message",
                 "input_sha256", "time_limit_s", "seed")


def _plain(value: Any) -> Any:
    """A value SQLite stores as it is (text, number, None); anything else (a hand-edited
    summary.json) becomes None rather than an error."""
    if value is None or isinstance(value, str | float) or (
            isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def now_utc() -> str:
    """The time now as ISO 8601 UTC, to the second (``2026-01-07T16:24:55Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id() -> str:
    """A fresh run id (see :data:`RUN_ID`): sortable by time, not guessable."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(4)


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file, or None when it is missing or not a JSON object."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def write_json(path: Path, doc: Mapping[str, Any]) -> None:
    """Write a JSON object atomically (a temporary sibling, then a rename)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(dict(doc), indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


@dataclass(frozen=True)
class Paths:
    """Where one run's files are."""

    folder: Path

    @property
    def record(self) -> Path:
        """``run.json``."""
        return self.folder / "run.json"

    @property
    def input(self) -> Path:
        """The uploaded scenario's folder."""
        return self.folder / "input"

    @property
    def result(self) -> Path:
        """The result folder."""
        return self.folder / "result"

    @property
    def verify(self) -> Path:
        """The last verify's outcome."""
        return self.folder / "verify.json"

    @property
    def log(self) -> Path:
        """The worker's output."""
        return self.folder / "worker.log"


class History:
    """The run history: run folders under ``data/runs`` and their SQLite index.

    Thread-safe: one connection, used under a lock (the server's threads and the workers'
    reader threads share it).

    Parameters
    ----------
    data
        The data folder; created when missing.
    """

    def __init__(self, data: str | os.PathLike[str]):
        self.data = Path(data)
        self.runs_dir = self.data / "runs"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.data / "matcher.db"
        self._lock = threading.RLock()
        fresh = not self.db_path.exists()
        self._db = sqlite3.connect(self.db_path, check_same_thread=False,
                                   isolation_level=None)  # autocommit; explicit transactions
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self.migrated_from = self._migrate()
        self.created = fresh

    # ---- schema -------------------------------------------------------------------------------
    def _migrate(self) -> int:
        """Bring the schema to :data:`SCHEMA_VERSION`; returns the version found."""
        with self._lock:
            found = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if found > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.db_path}: written by a newer matcher (schema {found}, this one "
                    f"knows {SCHEMA_VERSION}); upgrade matcher or use another --data folder")
            for version in range(found, SCHEMA_VERSION):
                with self._transaction():
                    for statement in MIGRATIONS[version].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {version + 1}")
            return found

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    # ---- one run ------------------------------------------------------------------------------
    def paths(self, run_id: str) -> Paths:
        """The files of a run (the id is checked: nothing else reaches the filesystem)."""
        if not RUN_ID.fullmatch(run_id):
            raise KeyError(run_id)
        return Paths(self.runs_dir / run_id)

    def get(self, run_id: str) -> dict[str, Any] | None:
        """A run's row, or None."""
        if not RUN_ID.fullmatch(run_id):
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else dict(row)

    def runs(self, limit: int = 1000) -> list[dict[str, Any]]:
        """Every run, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM runs ORDER BY created DESC, id DESC LIMIT ?",
                                    (limit,)).fetchall()
        return [dict(r) for r in rows]

    def active(self) -> list[dict[str, Any]]:
        """Runs queued or running, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM runs WHERE status IN ('queued', 'running') ORDER BY created, id"
            ).fetchall()
        return [dict(r) for r in rows]

    def save(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Write a run's ``run.json`` and its index row (insert or replace)."""
        row = {k: record.get(k) for k in COLUMNS}
        row["cancelled"] = int(bool(row["cancelled"]))
        paths = self.paths(str(row["id"]))
        paths.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            write_json(paths.record, row)
            self._upsert(row)
        return row

    def update(self, run_id: str, **fields: Any) -> dict[str, Any]:
        """Change some fields of a run (``run.json`` and the index)."""
        with self._lock:
            row = self.get(run_id)
            if row is None:
                raise KeyError(run_id)
            row.update(fields)
            return self.save(row)

    def _upsert(self, row: Mapping[str, Any]) -> None:
        names = ", ".join(COLUMNS)
        marks = ", ".join("?" for _ in COLUMNS)
        self._db.execute(f"INSERT OR REPLACE INTO runs ({names}) VALUES ({marks})",
                         [row.get(k) for k in COLUMNS])

    def delete(self, run_id: str) -> None:
        """Remove a run: its folder, then its index row."""
        paths = self.paths(run_id)
        with self._lock:
            if paths.folder.is_dir():
                # rename first: a half-deleted folder is never taken for a run by reindex
                doomed = self.runs_dir / f".deleted-{run_id}-{secrets.token_hex(4)}"
                os.replace(paths.folder, doomed)
                shutil.rmtree(doomed, ignore_errors=True)
            self._db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # ---- rebuilding from the folders -----------------------------------------------------------
    def record_from_folder(self, run_id: str) -> dict[str, Any] | None:
        """A run's row as its folder tells it: ``run.json`` for the request and lifecycle, the
        result folder's ``summary.json`` for every figure, ``verify.json`` for the last verify;
        None when the folder holds no run."""
        paths = self.paths(run_id)
        record = read_json(paths.record)
        if record is None:
            return None
        row: dict[str, Any] = {k: _plain(record.get(k)) for k in COLUMNS}
        row["id"] = run_id
        if not row.get("created"):
            return None
        summary = self.result_summary(run_id)
        if summary is not None:
            for key in (*_FROM_SUMMARY, "unassigned", "students"):
                if key in summary:
                    row[key] = _plain(summary[key])
        elif row.get("status") in RESULT_STATUSES:  # the result folder went missing
            row["status"] = "failed"
            row["message"] = "result folder missing"
        verify = read_json(paths.verify)
        if verify is not None:
            row["verify_status"] = "verified" if verify.get("ok") else "not_verified"
            row["verified"] = verify.get("checked")
        return row

    def result_summary(self, run_id: str) -> dict[str, Any] | None:
        """The result folder's ``summary.json`` with the counts, or None without a complete
        result folder (the manifest is written last: without it the folder is not one)."""
        result = self.paths(run_id).result
        if not (result / "manifest.json").is_file():
            return None
        try:
            summary = read_summary(result, required=True)
        except ScenarioError:
            return None
        out = {k: v for k, v in summary.items() if k != "stats"}
        placed, unassigned = out.get("placed"), out.get("unassigned")
        if isinstance(placed, int) and isinstance(unassigned, int):
            out["students"] = placed + unassigned
        return out

    def reindex(self) -> int:
        """Rebuild the index from the run folders; returns how many runs it holds.

        A run recorded as queued or running is marked ``interrupted`` unless its result
        folder is complete (then it is indexed as finished): no worker runs at this point.
        """
        rows = []
        for folder in sorted(self.runs_dir.iterdir()):
            if not folder.is_dir() or not RUN_ID.fullmatch(folder.name):
                continue
            row = self.record_from_folder(folder.name)
            if row is not None:
                rows.append(row)
        with self._transaction():
            self._db.execute("DELETE FROM runs")
            for row in rows:
                self._upsert(row)
        self.recover()
        return len(rows)

    def recover(self) -> list[str]:
        """After a restart: every run still queued or running is over. One whose result
        folder is complete is indexed as finished, the others are marked ``interrupted``;
        returns the ids marked interrupted."""
        marked = []
        for row in self.active():
            rebuilt = self.record_from_folder(row["id"])
            if rebuilt is not None and rebuilt.get("status") in RESULT_STATUSES:
                self.save(rebuilt)
                continue
            marked.append(row["id"])
            self.update(row["id"], status="interrupted", finished=now_utc(),
                        message="the server stopped while this run was queued or running")
        return marked
