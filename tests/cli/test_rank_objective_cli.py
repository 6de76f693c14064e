"""``matcher solve --rank-objective`` (issue 29 item 4): the form is used, reported, recorded in
the manifest when it overrides the scenario, re-run by ``matcher verify``, and checked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from matcher.cli import cli

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


def test_solve_with_rank_objective_is_recorded_and_verified(tmp_path: Path) -> None:
    """tiny solved with --rank-objective minimax: the summary line names the worst rank, the
    manifest records options.rank (the scenario says sum), verify re-runs it the same way and
    check accepts the claims; without the option nothing is recorded."""
    scen = tmp_path / "scen"
    shutil.copytree(TINY, scen)
    out = tmp_path / "out"
    runner = CliRunner()
    r = runner.invoke(cli, ["solve", str(scen), "--out", str(out), "--workers", "1",
                            "--rank-objective", "minimax", "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "worst rank 2, rank sum 7" in r.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["solver"]["options"] == {"rank": "minimax"}
    assert "rank" not in manifest["settings"]["objective"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["stats"]["rank_objective"]["form"] == "minimax"
    assert summary["status"] == "OPTIMAL"
    v = runner.invoke(cli, ["verify", str(out)])
    assert v.exit_code == 0, v.output
    c = runner.invoke(cli, ["check", str(scen), str(out)])
    assert c.exit_code == 0, c.output
    plain = tmp_path / "plain"
    r = runner.invoke(cli, ["solve", str(scen), "--out", str(plain), "--workers", "1"])
    assert r.exit_code == 0, r.output
    manifest = json.loads((plain / "manifest.json").read_text(encoding="utf-8"))
    assert "options" not in manifest["solver"]


def test_check_refuses_a_false_rank_claim(tmp_path: Path) -> None:
    """An edited summary.json that claims another profile than the rows give is a violation."""
    scen = tmp_path / "scen"
    shutil.copytree(TINY, scen)
    out = tmp_path / "out"
    runner = CliRunner()
    r = runner.invoke(cli, ["solve", str(scen), "--out", str(out), "--workers", "1",
                            "--rank-objective", "profile"])
    assert r.exit_code == 0, r.output
    path = out / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    summary["stats"]["rank_objective"]["profile"] = [5, 0, 0]
    path.write_text(json.dumps(summary), encoding="utf-8")
    c = runner.invoke(cli, ["check", str(scen), str(out), "--lang", "en"])
    assert c.exit_code != 0
    assert "rank_objective says profile = [5, 0, 0], recomputed [3, 2, 0]" in c.output
