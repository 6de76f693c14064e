"""Interruption: SIGINT or SIGTERM during a solve leaves a complete result or nothing."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from budget import CUT_S, PROOF_S

from matcher import load_scenario, solve
from matcher.check import check, check_result_dir

DEMO = Path(__file__).resolve().parents[2] / "scenarios" / "heilongjiang-demo"
pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """The process's output lines as they come (None once it closed its output), read by a
    thread so that the test can wait for one with a timeout."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _solve_then_signal(out: Path, sig: int) -> subprocess.CompletedProcess[str]:
    """Start `matcher solve` on the demo, wait until an engine's search is running (its log's
    first line: HiGHS's of the slot model, or CP-SAT's; both start after the stop handler is
    installed), then send ``sig``. The wait is for that line, however long it takes (the
    ceiling is the per-test timeout), never a fixed pause."""
    cmd = [sys.executable, "-c", "from matcher.cli import main; main()", "solve", str(DEMO),
           "--out", str(out), "--time-limit", str(PROOF_S), "--log"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = _lines(proc)
        seen: list[str] = []
        while True:
            line = lines.get(timeout=PROOF_S)
            assert line is not None, "the solve ended before a search started:\n" + "".join(seen)
            seen.append(line)
            if line.startswith("#") or "Starting search" in line or "Running HiGHS" in line:
                break
        proc.send_signal(sig)
        proc.wait(timeout=PROOF_S)
        rest: list[str] = []
        while (line := lines.get(timeout=PROOF_S)) is not None:
            rest.append(line)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, "".join(seen + rest), "")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_search_writes_complete_feasible_result(tmp_path: Path, sig: int) -> None:
    """A signal mid-search stops it; the best allocation so far is written, FEASIBLE, and valid."""
    out = tmp_path / "out"
    run = _solve_then_signal(out, sig)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "Traceback" not in run.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "FEASIBLE"
    assert signal.Signals(sig).name in summary["message"]
    assert summary["placed"] > 0 and summary["placed_upper_bound"] >= summary["placed"]
    report = check_result_dir(load_scenario(DEMO), out)
    assert report.violations == []
    # Nothing but the result folder itself was left beside it (no temporary folders).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_time_limit_returns_best_found_with_bounds() -> None:
    """A time limit too short for the proof on the demo (1 ms, always reached before any
    search: the HiGHS helper gets its least, 0.5 s, and the demo is proven about 1.2 s into a
    solve on the developers' machine) still returns a complete, valid allocation with a valid
    placed bound, never UNKNOWN: FEASIBLE, saying the time limit stopped it (OPTIMAL only on a
    machine fast enough to prove it even so, and then with matching bounds). The rank bound,
    when the helper's LP gave one in its time, is valid too (whether it had the time depends
    on the pace of the machine, so its presence is not asserted)."""
    problem = load_scenario(DEMO)
    result = solve(problem, "cpsat", time_limit_s=CUT_S, workers=2)
    assert result.status.value in ("FEASIBLE", "OPTIMAL")
    if result.status.value == "FEASIBLE":
        assert "time limit" in result.message
    else:
        assert result.placed == result.placed_upper_bound
        assert result.rank_cost == result.rank_cost_lower_bound
    assert result.placed > 0
    assert result.placed_upper_bound is not None and result.placed_upper_bound >= result.placed
    if result.rank_cost_lower_bound is not None:
        assert result.rank_cost_lower_bound <= result.rank_cost
    assert check(problem, result).violations == []


_PACK_UNDER_SIGNALS = """
import signal, sys
from matcher import load_scenario
from matcher.encoding import encode
from matcher.solvers.packing import Loads, pack_station
seen = []
signal.signal(signal.SIGINT, lambda *_: seen.append(1))
enc = encode(load_scenario(sys.argv[1]))
loads = Loads(enc)
by_station = {}
for i in range(enc.n_students):
    for w in loads.starts_by_station(i):
        by_station.setdefault(w, []).append(i)
print("ready", flush=True)
while len(seen) < 100:  # a count of signals, whatever the pace of the machine
    for w, students in by_station.items():
        pack_station(loads, w, students)
signal.signal(signal.SIGINT, signal.SIG_IGN)  # the test goes on signalling until we exit
print("alive", len(seen), flush=True)
"""


def test_ctrl_c_during_an_exact_packing_reaches_the_callers_handler() -> None:
    """The exact per-workstation packing (a small CP-SAT solve, used by the large-problem
    rounding) leaves Ctrl-C to the caller's handler: with SIGINT sent every 20 ms while
    packings run back to back until the handler has seen 100 of them (however long that
    takes), the process lives on (CP-SAT's own handler, left on, ended the process with the
    first signal that hit a solve)."""
    proc = subprocess.Popen([sys.executable, "-c", _PACK_UNDER_SIGNALS, str(DEMO)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        while proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            time.sleep(0.02)  # the pace of the signals, not a wait for a phase
        rest = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, rest[-2000:]
    assert rest.startswith("alive") and int(rest.split()[1]) >= 100
