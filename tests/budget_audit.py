"""An opt-in pytest plugin that records every solve a test makes against its time limit.

Why: no test may depend on how fast the machine is. A test whose solve ends at its time limit,
or uses a large share of it, passes only while the machine is fast enough (unless it asserts
only what holds whatever the budget). Run the suite with ``MATCHER_BUDGET_AUDIT=<file>`` (the
conftest loads this plugin then) and every solve through :func:`matcher.solvers.get` (the
library, the CLI in-process, the planning commands) is appended to ``<file>.<worker>.jsonl``:
the test, the solver, its time limit, the wall and CPU time it took, its status and message.
``python tests/budget_audit.py <file>`` then lists the solves that ended at their limit or used
more than a tenth of it, worst first: each must either get a budget it cannot reach (a proof
on a small problem ends long before) or assert only what holds whatever the budget.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import pytest

_current: dict[str, str] = {"test": ""}


def _target(kind: str) -> Path:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return Path(f"{_current['target']}.{kind}.{worker}.jsonl")


def _record(path: Path, row: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def install(target: str) -> None:
    """Wrap :func:`matcher.solvers.get` so that every solve it hands out is recorded."""
    from matcher import solvers

    _current["target"] = target
    out = _target("solves")
    original = solvers.get

    def get(name: str) -> Any:
        solve = original(name)

        @functools.wraps(solve)
        def recorded(problem: Any, config: Any) -> Any:
            wall0, cpu0 = time.perf_counter(), time.process_time()
            result = solve(problem, config)
            _record(out, {"test": _current["test"], "solver": name,
                          "limit": config.time_limit_s,
                          "wall": round(time.perf_counter() - wall0, 3),
                          "cpu": round(time.process_time() - cpu0, 3),
                          "students": len(problem.students), "status": result.status.value,
                          "message": result.message})
            return result

        return recorded

    solvers.get = get


def _cpu() -> float:
    """CPU seconds of this process and of the children it waited for (helper processes)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Record each test's CPU time (setup, call and teardown): unlike its wall time, hardly
    changed by the load of a shared machine."""
    _current["test"] = item.nodeid
    wall0, cpu0 = time.perf_counter(), _cpu()
    yield
    _record(_target("cpu"), {"test": item.nodeid, "cpu": round(_cpu() - cpu0, 3),
                             "wall": round(time.perf_counter() - wall0, 3)})


def report(target: str, share: float = 0.1) -> list[str]:
    """Lines naming the solves that ended at their limit or used more than ``share`` of it."""
    rows = _rows(target, "solves")
    flagged = [r for r in rows if "time limit" in r["message"] or r["wall"] > share * r["limit"]]
    flagged.sort(key=lambda r: -r["wall"] / max(r["limit"], 1e-9))
    lines = [f"{len(rows)} solves recorded; {len(flagged)} at their limit or above "
             f"{share:.0%} of it:"]
    lines += [f"{r['wall'] / max(r['limit'], 1e-9):6.0%} {r['wall']:7.2f}/{r['limit']:<6g} "
              f"{r['solver']:6} {r['status']:10} {r['test']}  {r['message'][:60]}"
              for r in flagged]
    return lines


def _rows(target: str, kind: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(Path(target).parent.glob(f"{Path(target).name}.{kind}.*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


def cpu_report(target: str, top: int = 40) -> list[str]:
    """The suite's CPU time and the ``top`` tests that take most of it."""
    rows = sorted(_rows(target, "cpu"), key=lambda r: -r["cpu"])
    total = sum(r["cpu"] for r in rows)
    return [f"{len(rows)} tests, {total:.0f} s of CPU in all; the {top} dearest:"] + [
        f"{r['cpu']:8.2f} s cpu {r['wall']:8.2f} s wall  {r['test']}" for r in rows[:top]]


if __name__ == "__main__":
    print("\n".join(cpu_report(sys.argv[1])))
    print()
    print("\n".join(report(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0.1)))
