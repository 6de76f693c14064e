"""The HTTP API with the framework's test client: upload, poll, download, 422, cancel, history,
verify, compare, delete; the worker processes are real (``python -m matcher.web.worker``)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_XLSX, TINY, make_client, upload, wait_for
from fastapi.testclient import TestClient

from matcher import check, load_scenario, read_result


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, tiny_zip: bytes
             ) -> Iterator[tuple[TestClient, dict[str, Any], dict[str, Any]]]:
    """A server holding two finished runs of the tiny scenario: cpsat, then greedy."""
    data = tmp_path_factory.mktemp("finished") / "data"
    with make_client(data) as c:
        exact = upload(c, "tiny.zip", tiny_zip, solver="cpsat", time_limit_s="20")
        assert exact.status_code == 201, exact.text
        quick = upload(c, "tiny.zip", tiny_zip, solver="greedy")
        assert quick.status_code == 201, quick.text
        a = wait_for(c, exact.json()["id"])
        b = wait_for(c, quick.json()["id"])
        yield c, a, b


def test_upload_poll_and_download(finished: Any, tmp_path: Path) -> None:
    """A zip of the tiny folder becomes a run that ends OPTIMAL with its hand-derived figures
    (placed 5, rank cost 7); every result file downloads, and the downloaded folder checks."""
    c, run, _ = finished
    assert run["status"] == "OPTIMAL", run
    assert (run["placed"], run["unassigned"], run["rank_cost"]) == (5, 1, 7)
    assert (run["placed_upper_bound"], run["rank_cost_lower_bound"]) == (5, 7)
    assert run["scenario_name"] == "tiny" and run["input_name"] == "tiny.zip"
    assert run["solver"] == "cpsat" and run["cancelled"] is False and run["progress"] is None
    assert len(run["input_sha256"]) == 64
    out = tmp_path / "result"
    out.mkdir()
    for name in ("results.xlsx", "assignments.csv", "unassigned.csv", "summary.json",
                 "report.html", "manifest.json"):
        r = c.get(f"/api/runs/{run['id']}/files/{name}")
        assert r.status_code == 200, name
        (out / name).write_bytes(r.content)
    assert r.headers["content-type"].startswith("application/json")
    assert (out / "results.xlsx").read_bytes()[:2] == b"PK"
    assert check(load_scenario(TINY), read_result(out)).ok
    rows = list(csv.DictReader(io.StringIO((out / "assignments.csv").read_text("utf-8-sig"))))
    assert len(rows) == 5


def test_unknown_file_run_and_path(finished: Any) -> None:
    """Only the six result files can be fetched: other names, paths and run ids are 404 with
    a message, never a file of the server."""
    c, run, _ = finished
    for name in ("job.json", "..%2Frun.json", "run.json", "../../matcher.db"):
        r = c.get(f"/api/runs/{run['id']}/files/{name}")
        assert r.status_code == 404, name
        assert "json" in r.headers["content-type"]
    r = c.get("/api/runs/../../etc/passwd")
    assert r.status_code == 404
    r = c.get("/api/runs/20260101-000000-deadbeef")
    assert r.status_code == 404
    assert r.json()["messages"][0]["code"] == "web.unknown_run"


def test_history_lists_both_runs(finished: Any) -> None:
    """GET /api/runs lists every run, newest first, with solver, status and figures; the
    greedy run is FEASIBLE (a heuristic never says OPTIMAL)."""
    c, a, b = finished
    runs = c.get("/api/runs").json()["runs"]
    assert {r["id"] for r in runs} == {a["id"], b["id"]}
    by_id = {r["id"]: r for r in runs}
    assert by_id[b["id"]]["solver"] == "greedy" and by_id[b["id"]]["status"] == "FEASIBLE"
    assert by_id[a["id"]]["rank_cost"] == 7
    page = c.get("/history")
    assert page.status_code == 200
    assert a["id"] in page.text and b["id"] in page.text


def test_explain_a_student(finished: Any) -> None:
    """explain's answer for a placed student and an unknown one (404 with a message)."""
    c, run, _ = finished
    r = c.get(f"/api/runs/{run['id']}/explain", params={"student": "S1"})
    assert r.status_code == 200, r.text
    assert r.json()["student_id"] == "S1" and "S1" in r.json()["text"]
    r = c.get(f"/api/runs/{run['id']}/explain", params={"student": "NOBODY", "lang": "zh"})
    assert r.status_code == 404
    message = r.json()["messages"][0]
    assert message["code"] == "web.unknown_student" and "NOBODY" in message["text"]
    assert "学号" in message["text"]


def test_result_page_shows_search_and_unassigned(finished: Any) -> None:
    """The result page: headline, downloads, the explanation of a searched student and the
    unassigned student with the reason from unassigned.csv."""
    c, run, _ = finished
    page = c.get(f"/runs/{run['id']}", params={"student": "S1"},
                 headers={"accept-language": "en"})
    assert page.status_code == 200
    assert 'id="explanation"' in page.text and "download.zip" in page.text
    unassigned = c.get(f"/api/runs/{run['id']}/files/unassigned.csv").text
    sid = next(csv.DictReader(io.StringIO(unassigned.lstrip("\ufeff"))))["student_id"]
    assert f">{sid}</a>" in page.text
    z = c.get(f"/runs/{run['id']}/download.zip")
    assert z.status_code == 200
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(z.content)).namelist()


def test_compare_two_runs(finished: Any) -> None:
    """The compare page of the cpsat and greedy runs shows the KPIs of both."""
    c, a, b = finished
    page = c.get("/compare", params=[("run", a["id"]), ("run", b["id"])])
    assert page.status_code == 200, page.text
    assert 'id="kpis"' in page.text and "rank_cost" in page.text
    one = c.get("/compare", params=[("run", a["id"])])
    assert one.status_code == 422


def test_verify_a_run(finished: Any) -> None:
    """Verify re-runs the cpsat run from its manifest: verified; the page shows it."""
    c, run, _ = finished
    r = c.post(f"/api/runs/{run['id']}/verify")
    assert r.status_code == 202, r.text
    done = wait_for(c, run["id"], lambda x: x["verify_status"] not in (None, "queued")
                    and x["progress"] is None)
    assert done["verify_status"] == "verified", done
    page = c.get(f"/runs/{run['id']}", headers={"accept-language": "zh-CN"})
    assert "复核通过" in page.text


def test_bad_workbook_is_422_with_locations(client: TestClient, bad_xlsx: Path) -> None:
    """A workbook with an unknown university: 422 with the validation's messages pointing at
    the sheet and row, in the language asked for; nothing is queued."""
    r = upload(client, "bad.xlsx", bad_xlsx.read_bytes())
    assert r.status_code == 422, r.text
    messages = r.json()["messages"]
    assert messages and all({"code", "severity", "text", "where", "location"} <= set(m)
                            for m in messages)
    assert any("NOPE" in m["text"] and "students" in (m["where"] or m["text"])
               for m in messages), messages
    assert client.get("/api/runs").json()["runs"] == []
    page = client.post("/new", files={"scenario": ("bad.xlsx", bad_xlsx.read_bytes())})
    assert page.status_code == 200 and 'id="findings"' in page.text and "NOPE" in page.text
    assert 'id="start-form"' not in page.text


@pytest.mark.parametrize(("name", "data", "code"), [
    ("x.xlsx", b"", "web.upload_empty"),
    ("x.xlsx", b"not a workbook at all", "web.upload_not_supported"),
    ("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "web.upload_old_excel"),
    ("x.zip", b"PK\x03\x04broken", "web.zip_unreadable"),
])
def test_bad_uploads_are_422_never_500(client: TestClient, name: str, data: bytes,
                                       code: str) -> None:
    """Files that are no scenario get 422 with the code saying why, in Chinese when asked."""
    r = client.post("/api/runs?lang=zh", files={"scenario": (name, data)})
    assert r.status_code == 422, r.text
    assert r.json()["messages"][0]["code"] == code
    assert r.json()["messages"][0]["text"]


@pytest.mark.parametrize(("fields", "code"), [
    ({"solver": "nope"}, "web.bad_solver"),
    ({"time_limit_s": "nan"}, "web.bad_time_limit"),
    ({"time_limit_s": "-1"}, "web.bad_time_limit"),
    ({"time_limit_s": "inf"}, "web.bad_time_limit"),
    ({"seed": "1.5"}, "web.bad_seed"),
])
def test_bad_fields_are_422(client: TestClient, tiny_zip: bytes, fields: dict[str, str],
                            code: str) -> None:
    """Bad options are refused before anything is stored."""
    r = upload(client, "tiny.zip", tiny_zip, **fields)
    assert r.status_code == 422
    assert r.json()["messages"][0]["code"] == code


def test_missing_field_is_422(client: TestClient) -> None:
    """A request without the scenario file: 422 in the API's error form."""
    r = client.post("/api/runs", data={"solver": "cpsat"})
    assert r.status_code == 422
    assert r.json()["messages"][0]["code"] == "web.bad_field"


def test_cancel_keeps_the_best_allocation(client: TestClient) -> None:
    """Cancel while cpsat solves the demo workbook with a long limit: the run ends cancelled,
    and when an allocation was found it is written and keeps every rule (as Ctrl-C does)."""
    r = upload(client, "scenario.xlsx", DEMO_XLSX.read_bytes(), solver="cpsat",
               time_limit_s="600")
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    wait_for(client, run_id, lambda x: x["status"] != "queued" and (
        x["progress"] is None or x["progress"]["stage"] == "solving"))
    assert client.post(f"/api/runs/{run_id}/cancel").status_code == 202
    run = wait_for(client, run_id)
    assert run["cancelled"] is True
    assert run["status"] in ("FEASIBLE", "OPTIMAL", "cancelled"), run
    if run["status"] != "cancelled":
        result = client.get(f"/api/runs/{run_id}/files/summary.json").json()
        assert result["status"] == run["status"]
        assert run["wall_seconds"] < 600
    assert client.post(f"/api/runs/{run_id}/cancel").status_code == 409


def test_restart_marks_interrupted_and_keeps_finished(tmp_path: Path, tiny_zip: bytes) -> None:
    """Stop the server while a run is going: after a restart that run is interrupted, the
    finished one is still finished with its figures; --reindex rebuilds the same history."""
    data = tmp_path / "data"
    with make_client(data) as c:
        done = wait_for(c, upload(c, "tiny.zip", tiny_zip, solver="greedy").json()["id"])
        long = upload(c, "scenario.xlsx", DEMO_XLSX.read_bytes(), solver="cpsat",
                      time_limit_s="600").json()["id"]
        wait_for(c, long, lambda x: x["status"] == "running")
    with make_client(data) as c:
        assert c.get(f"/api/runs/{long}").json()["status"] == "interrupted"
        assert c.get(f"/api/runs/{done['id']}").json()["status"] == "FEASIBLE"
        before = c.get("/api/runs").json()["runs"]
    (data / "matcher.db").unlink()
    for extra in data.glob("matcher.db-*"):
        extra.unlink()
    with make_client(data) as c:  # a missing database is rebuilt from the folders
        after = c.get("/api/runs").json()["runs"]
    assert after == before


def test_delete_asks_then_removes(tmp_path: Path, tiny_zip: bytes) -> None:
    """Delete: a confirmation page first; the POST removes the folder and the row."""
    data = tmp_path / "data"
    with make_client(data) as c:
        run = wait_for(c, upload(c, "tiny.zip", tiny_zip, solver="greedy").json()["id"])
        confirm = c.get(f"/runs/{run['id']}/delete")
        assert confirm.status_code == 200 and 'id="confirm-delete"' in confirm.text
        assert (data / "runs" / run["id"]).is_dir()
        r = c.post(f"/runs/{run['id']}/delete", follow_redirects=False)
        assert r.status_code == 303
        assert not (data / "runs" / run["id"]).exists()
        assert c.get(f"/api/runs/{run['id']}").status_code == 404
        assert c.delete(f"/api/runs/{run['id']}").status_code == 404


def test_openapi_documents_the_api(client: TestClient) -> None:
    """The framework's OpenAPI lists the API's paths (and none of the pages)."""
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/runs", "/api/runs/{run_id}", "/api/runs/{run_id}/cancel",
            "/api/runs/{run_id}/files/{name}"} <= set(paths)
    assert "/new" not in paths
    assert json.dumps(paths["/api/runs"]["post"]).count("scenario") >= 1
