"""The run history: schema migrations, rebuilding from the run folders, recovery after a
restart, deletion."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from matcher.web.store import MIGRATIONS, SCHEMA_VERSION, History, new_run_id, now_utc


def record(run_id: str, status: str = "queued", **extra: object) -> dict[str, object]:
    return {"id": run_id, "created": now_utc(), "scenario_name": "tiny", "solver": "greedy",
            "status": status, **extra}


def test_new_database_has_the_current_schema(tmp_path: Path) -> None:
    """A new data folder gets the schema of the newest migration."""
    h = History(tmp_path)
    assert h.created and h.migrated_from == 0
    version = sqlite3.connect(tmp_path / "matcher.db").execute("PRAGMA user_version")
    assert version.fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)


def test_old_schema_is_migrated_keeping_rows(tmp_path: Path) -> None:
    """A database of schema 1 (before verify was recorded) is migrated in place: its rows stay
    and gain the new columns."""
    db = sqlite3.connect(tmp_path / "matcher.db")
    db.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    run_id = new_run_id()
    db.execute("INSERT INTO runs (id, created, status) VALUES (?, ?, 'OPTIMAL')",
               (run_id, now_utc()))
    db.commit()
    db.close()
    h = History(tmp_path)
    assert h.migrated_from == 1
    row = h.get(run_id)
    assert row is not None and row["status"] == "OPTIMAL" and row["verify_status"] is None


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database written by a newer matcher is not touched."""
    db = sqlite3.connect(tmp_path / "matcher.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="newer matcher"):
        History(tmp_path)


def test_reindex_rebuilds_from_run_json_and_summary(tmp_path: Path) -> None:
    """Figures come from the result folder (summary.json, complete with its manifest), not
    from the database; a folder with a half-written result is not taken as finished."""
    h = History(tmp_path)
    done = new_run_id()[:-1] + "a"
    broken = done[:-1] + "b"
    h.save(record(done, "running"))
    result = h.paths(done).result
    result.mkdir()
    (result / "summary.json").write_text(json.dumps({
        "status": "FEASIBLE", "solver": "greedy", "placed": 4, "unassigned": 2,
        "rank_cost": 9, "wall_seconds": 0.1, "message": "", "stats": {"x": [1]}}))
    (result / "manifest.json").write_text("{}")
    h.save(record(broken, "running"))
    h.paths(broken).result.mkdir()
    (h.paths(broken).result / "summary.json").write_text('{"status": "OPTIMAL"}')
    (tmp_path / "runs" / "not-a-run").mkdir()
    h.close()
    h = History(tmp_path)
    assert h.reindex() == 2
    row = h.get(done)
    assert row is not None
    assert (row["status"], row["placed"], row["students"], row["rank_cost"]) == (
        "FEASIBLE", 4, 6, 9)
    assert h.get(broken)["status"] == "interrupted"  # type: ignore[index]


def test_recover_marks_active_runs_interrupted(tmp_path: Path) -> None:
    """After a restart, queued and running runs are interrupted (in run.json too); finished
    runs are left alone."""
    h = History(tmp_path)
    ids = [new_run_id()[:-1] + str(k) for k in range(3)]
    h.save(record(ids[0], "queued"))
    h.save(record(ids[1], "running"))
    h.save(record(ids[2], "FEASIBLE"))
    assert sorted(h.recover()) == sorted(ids[:2])
    assert [h.get(i)["status"] for i in ids] == ["interrupted", "interrupted", "FEASIBLE"]  # type: ignore[index]
    doc = json.loads(h.paths(ids[0]).record.read_text("utf-8"))
    assert doc["status"] == "interrupted"


def test_delete_removes_folder_and_row(tmp_path: Path) -> None:
    """delete() leaves no folder and no row; a bad id never reaches the filesystem."""
    h = History(tmp_path)
    run_id = new_run_id()
    h.save(record(run_id, "FEASIBLE"))
    h.delete(run_id)
    assert h.get(run_id) is None and not h.paths(run_id).folder.exists()
    with pytest.raises(KeyError):
        h.paths("../../etc")
    assert h.get("../x") is None
