"""The web worker's solve and the allocation rule: a stable run asked on the page overrides a
scenario whose ``solver.policy`` is score first, and the manifest says so (verify re-runs it)."""

from __future__ import annotations

import io
import json
import shutil
import signal
from pathlib import Path

from matcher.web.worker import Channel, run_solve

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


def _run(tmp_path: Path, name: str, stable: bool) -> dict[str, object]:
    folder = tmp_path / name
    shutil.copytree(TINY, folder / "tiny")
    yaml = folder / "tiny" / "scenario.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(
        "solver: {time_limit_s: 10, seed: 0, workers: 1}",
        "solver: {time_limit_s: 10, seed: 0, workers: 1, policy: priority}"), encoding="utf-8")
    before = signal.getsignal(signal.SIGINT)
    try:
        code = run_solve(folder, {"scenario": "tiny", "solver": "cpsat", "stable": stable},
                         Channel(io.StringIO()))
    finally:
        signal.signal(signal.SIGINT, before)  # run_solve ignores SIGINT while writing
    assert code == 0
    manifest = json.loads((folder / "result" / "manifest.json").read_text(encoding="utf-8"))
    solver: dict[str, object] = manifest["solver"]
    return solver


def test_stable_on_the_page_overrides_a_score_first_scenario(tmp_path: Path) -> None:
    """Without 'stable' the scenario's score first runs (greedy, the rule recorded); with it
    cpsat --stable runs and the manifest records both choices, so verify re-runs it so."""
    plain = _run(tmp_path, "a", stable=False)
    assert plain["name"] == "greedy" and plain["options"] == {"policy": "priority"}
    stable = _run(tmp_path, "b", stable=True)
    assert stable["name"] == "cpsat"
    assert stable["options"] == {"stable": True, "policy": "objective"}
