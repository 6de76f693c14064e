"""Shared set-up of the web tests: scenarios as uploads, a server in-process, waiting on runs."""

from __future__ import annotations

import importlib.util
import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matcher.web.app import create_app
from matcher.web.service import Service

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
DEMO_XLSX = ROOT / "scenarios" / "heilongjiang-demo-xlsx" / "scenario.xlsx"
ACTIVE = ("queued", "running")


def _make_xlsx() -> Any:
    spec = importlib.util.spec_from_file_location("make_xlsx", ROOT / "scenarios" / "make_xlsx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zip_of(folder: Path, prefix: str = "") -> bytes:
    """A scenario folder as the bytes of a .zip (its files under ``prefix``)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                book.write(path, prefix + path.name)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def tiny_zip() -> bytes:
    """The tiny scenario (6 students) zipped inside its folder, as a clerk zips it."""
    return zip_of(TINY, "tiny/")


@pytest.fixture(scope="session")
def tiny_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny scenario as a workbook with Chinese headers (scenarios/make_xlsx.py)."""
    out = tmp_path_factory.mktemp("books") / "tiny.xlsx"
    return Path(_make_xlsx().convert(TINY, out))


@pytest.fixture(scope="session")
def bad_xlsx(tiny_xlsx: Path) -> Path:
    """The tiny workbook with an unknown university in the students sheet's row 3."""
    from openpyxl import load_workbook

    book = load_workbook(tiny_xlsx)
    sheet = book["students"]
    header = [c.value for c in sheet[1]]
    column = next(k for k, h in enumerate(header, start=1) if h and "高校" in str(h))
    sheet.cell(row=3, column=column, value="NOPE")
    out = tiny_xlsx.with_name("bad.xlsx")
    book.save(out)
    return out


def make_client(data: Path, **options: Any) -> TestClient:
    """A test client of a fresh server on ``data`` (hosts: the test client's)."""
    service = Service(data, reindex=options.pop("reindex", False))
    app = create_app(service, hosts=options.pop("hosts", ["testserver"]), **options)
    return TestClient(app)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A server with an empty data folder."""
    with make_client(tmp_path / "data") as c:
        yield c


def upload(client: TestClient, name: str, data: bytes, **fields: str) -> Any:
    """``POST /api/runs`` with a scenario file and form fields."""
    return client.post("/api/runs", files={"scenario": (name, data, "application/octet-stream")},
                       data=fields)


def wait_for(client: TestClient, run_id: str, done: Any = None, timeout: float = 240.0
             ) -> dict[str, Any]:
    """Poll ``GET /api/runs/{id}`` until ``done(run)`` (default: the run is over); generous
    timeout, no fixed sleep decides anything."""
    check = done or (lambda run: run["status"] not in ACTIVE)
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f"/api/runs/{run_id}").json()
        if check(run):
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']}: {run}"
        time.sleep(0.2)
