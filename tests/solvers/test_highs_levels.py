"""The milp helper's levels (:mod:`matcher.solvers.highs.levels`): a level's bound survives a
helper stopped while the level's MIP runs (issue 27 item 3)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

from matcher.solvers.highs.levels import partial_stage


def test_a_running_level_keeps_its_bound_and_a_kept_start(tmp_path: Path) -> None:
    """Each MIP check that raises the dual bound writes it as the level's report, without a
    solution (as a level cut short reports it: the parent reads the bound, never an x); a start
    already kept for the level (polish's) stays its solution; no finite bound, no write."""
    keep = partial_stage(tmp_path, 1, 0.0)
    keep(SimpleNamespace(mip_dual_bound=-math.inf))
    assert not (tmp_path / "stage1.json").exists()
    keep(SimpleNamespace(mip_dual_bound=4790.25))
    got = json.loads((tmp_path / "stage1.json").read_text(encoding="utf-8"))
    assert (got["has_solution"], got["objective"], got["dual_bound"]) == (False, None, 4790.25)

    (tmp_path / "stage0.json").write_text(json.dumps(
        {"status": "start (LP, cuts, fix and solve)", "has_solution": True, "objective": 4801.0,
         "dual_bound": None}), encoding="utf-8")
    partial_stage(tmp_path, 0, 0.0)(SimpleNamespace(mip_dual_bound=4788.5))
    got = json.loads((tmp_path / "stage0.json").read_text(encoding="utf-8"))
    assert (got["has_solution"], got["objective"], got["dual_bound"]) == (True, 4801.0, 4788.5)
    assert not list(tmp_path.glob("*.tmp.json"))
