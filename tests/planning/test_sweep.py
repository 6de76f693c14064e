"""Tests of parameter sweeps (:mod:`matcher.planning.sweep`, ``matcher sweep``).

The central test runs the same grid on ``scenarios/tiny`` through a local process pool and
through a real Dask ``distributed.LocalCluster`` (worker processes) and requires identical
tables. Solves are deterministic: CP-SAT with one worker and a fixed seed finishes tiny long
before its time limit, and the greedy solver has no randomness.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from matcher import ScenarioError, load_scenario
from matcher.cli import cli
from matcher.planning.sweep import HEADLINE, grid, open_executor, parse_vary, run_sweep, write_sweep

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
VARY = ["capacity_scale=0.5,1,2", "practice_months=6,12"]


def _run(*args: str | Path) -> Result:
    """Invoke the CLI in-process; stdout and stderr kept apart."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def local() -> pd.DataFrame:
    """The grid on tiny through a local process pool of two (CP-SAT, one worker, seed 0)."""
    with open_executor(None, 2) as ex:
        sweep = run_sweep(load_scenario(TINY), parse_vary(VARY), ex, solver="cpsat", seed=0,
                          workers=1)
    return sweep.table


def test_local_and_dask_cluster_give_the_same_table(local: pd.DataFrame) -> None:
    """A real distributed.LocalCluster (one worker process, two threads) gives the same KPI
    table as the local process pool, row for row."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, \
            open_executor(cluster.scheduler_address) as ex:
        dask = run_sweep(load_scenario(TINY), parse_vary(VARY), ex, solver="cpsat", seed=0,
                         workers=1).table
    pd.testing.assert_frame_equal(dask, local)


def test_grid_order_and_values(local: pd.DataFrame) -> None:
    """Six points, first parameter slowest; scaling multiplies capacity exactly on tiny (per
    term 5 and 4 places in the window); a 6-month practice places five students (S6's
    discipline is taken nowhere)."""
    assert local["point"].tolist() == [1, 2, 3, 4, 5, 6]
    assert local["capacity_scale"].tolist() == [0.5, 0.5, 1.0, 1.0, 2.0, 2.0]
    assert local["practice_months"].tolist() == [6, 12, 6, 12, 6, 12]
    assert local["capacity_places"].tolist() == [5, 5, 9, 9, 18, 18]
    assert local["placed"].tolist()[2:] == [5, 5, 5, 5]  # tiny's optimum at capacity 1.0
    assert local["violations"].tolist() == [0] * 6
    assert set(local["status"]) == {"OPTIMAL"}
    assert local.columns.tolist() == ["point", "capacity_scale", "practice_months", "status",
                                      *HEADLINE]


def test_parse_vary_errors() -> None:
    """Unknown parameters, bad values, repeats: one line each, naming the option."""
    with pytest.raises(ScenarioError) as info:
        parse_vary(["capacity=1", "practice_months=6,x", "preferences_only=maybe",
                    "capacity_scale=1,1", "intake_pct", "practice_months=12"])
    assert info.value.messages == [
        "--vary capacity=1: unknown parameter 'capacity'; use one of capacity_scale, "
        "practice_months, experienced_practice_months, experienced_years, preferences_only, "
        "intake_pct, max_segments",
        "--vary practice_months=6,x: 'x' is not a number; give comma-separated values",
        "--vary preferences_only=maybe: 'maybe' is not true or false; give comma-separated "
        "values",
        "--vary capacity_scale=1,1: a value is repeated; list each value once",
        "--vary intake_pct: give NAME=V1,V2,..., e.g. capacity_scale=0.8,1.0",
        "--vary practice_months=12: 'practice_months' is varied twice; give all its values in "
        "one --vary",
    ]
    assert grid(parse_vary(["preferences_only=true,false", "intake_pct=-50,0"])) == [
        (("preferences_only", True), ("intake_pct", -50.0)),
        (("preferences_only", True), ("intake_pct", 0.0)),
        (("preferences_only", False), ("intake_pct", -50.0)),
        (("preferences_only", False), ("intake_pct", 0.0))]


def test_invalid_point_is_reported_before_solving() -> None:
    """A point whose variant breaks a rule stops the sweep with a line naming the point."""
    with pytest.raises(ScenarioError) as info, open_executor(None, 1) as ex:
        run_sweep(load_scenario(TINY), parse_vary(["practice_months=12,36"]), ex,
                  solver="greedy")
    assert info.value.messages[0].startswith(  # location first, then the point
        "students.csv row 1, required_months: --vary practice_months=36, policy: the changed "
        "scenario breaks a rule: window")


def test_cli_sweep_writes_table_and_plots(tmp_path: Path) -> None:
    """matcher sweep writes kpis.csv/.md, the by-group table and one PNG per KPI."""
    out = tmp_path / "sweep"
    r = _run("sweep", TINY, "--vary", "capacity_scale=1,2", "--vary", "preferences_only=false,"
             "true", "--solver", "greedy", "--processes", "1", "--out", out)
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "kpis.csv")
    assert table["capacity_scale"].tolist() == [1.0, 1.0, 2.0, 2.0]
    assert table["preferences_only"].tolist() == [False, True, False, True]
    assert (out / "kpis.md").read_text(encoding="utf-8").startswith("# Sweep of tiny")
    plots = sorted(p.name for p in (out / "plots").iterdir())
    assert plots == sorted(f"{k}.png" for k in HEADLINE)
    assert all((out / "plots" / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in plots)
    groups = pd.read_csv(out / "kpis_by_group.csv")
    assert {"used[2026-autumn]", "placed_share[discipline=0854]"} <= set(groups["kpi"])
    assert "data:image/png;base64," in (out / "report.html").read_text(encoding="utf-8")


def test_cli_sweep_bad_input(tmp_path: Path) -> None:
    """A bad --vary or a taken --out: exit 2, one line, nothing written."""
    out = tmp_path / "sweep"
    r = _run("sweep", TINY, "--vary", "capacity_scale=big", "--out", out)
    assert r.exit_code == 2
    assert r.stderr == ("error: --vary capacity_scale=big: 'big' is not a number; give "
                        "comma-separated values\n")
    assert not out.exists()


def test_write_sweep_single_parameter(tmp_path: Path) -> None:
    """With one varied parameter the plots have one line and no legend; files are written.
    Any executor will do: this one runs the points in a thread of the test process."""
    with ThreadPoolExecutor(1) as ex:
        sweep = run_sweep(load_scenario(TINY), parse_vary(["intake_pct=-50,0,50"]), ex,
                          solver="greedy", seed=3)
    assert sweep.table["students"].tolist() == [3, 6, 9]
    write_sweep(sweep, tmp_path / "s")
    assert (tmp_path / "s" / "plots" / "students.png").is_file()


# ---- --scheduler is probed before Dask connects -----------------------------------------------
def _server(reply: bytes | None) -> tuple[int, Any]:
    """A local TCP server that sends ``reply`` on each connection (None: says nothing)."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            if reply is not None:
                conn.sendall(reply)
            threading.Timer(10, conn.close).start()

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1], srv


@pytest.mark.parametrize(("reply", "code"), [
    (None, "sweep.scheduler_silent"),  # a server that waits for the client, as a web server
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "sweep.scheduler_not_dask"),  # "3 EiB" to Dask
    ((2**40).to_bytes(8, "little") + b"x", "sweep.scheduler_not_dask"),  # absurd size
])
def test_scheduler_probe_refuses_what_is_not_dask(reply: bytes | None, code: str) -> None:
    """Something listening that is not a Dask scheduler is refused within the probe's time,
    never a hang or a huge allocation."""
    from matcher.planning.sweep import probe_scheduler

    port, srv = _server(reply)
    try:
        with pytest.raises(ScenarioError) as info:
            probe_scheduler(f"tcp://127.0.0.1:{port}", timeout_s=0.5)
        assert [m.code for m in info.value.items if not isinstance(m, str)] == [code]
    finally:
        srv.close()


def test_scheduler_probe_addresses() -> None:
    """Nothing listening, another scheme, and text that is no address: each its own error."""
    from matcher.planning.sweep import probe_scheduler

    for address, code in (("tcp://127.0.0.1:1", "sweep.scheduler_unreachable"),
                          ("ucx://10.0.0.1:8786", "sweep.scheduler_scheme"),
                          ("tcp://host:port", "sweep.scheduler_address")):
        with pytest.raises(ScenarioError) as info:
            probe_scheduler(address, timeout_s=0.5)
        assert [m.code for m in info.value.items if not isinstance(m, str)] == [code], address


def test_scheduler_probe_accepts_a_dask_scheduler() -> None:
    """A real Dask scheduler greets first, as the probe expects."""
    from distributed import LocalCluster

    from matcher.planning.sweep import probe_scheduler

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None,
                      protocol="tcp://") as cluster:
        probe_scheduler(cluster.scheduler_address)
