"""The aggregated model for HiGHS: its arrays, and running them in the HiGHS helper process.

The model is written once, backend-neutral, in :mod:`matcher.solvers.aggregate`; here it is
built with HiGHS's rule for a count's bound and HiGHS's form of *one placement per student*
(linear rows: a lock is an equality row, for the deletion filter of
:func:`matcher.solvers.milp.solve`), optionally with the number placed fixed (levels 2-3).
:func:`run_levels` hands it to :mod:`matcher.solvers.highs.levels` through the one runner
(:mod:`matcher.solvers.highs_runner`). ``milp`` (the solver), :func:`matcher.solvers.milp.
refine_levels` and :mod:`matcher.solvers.relaxation` (cpsat's engines) all start here.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..encoding import Encoded
from . import clock, highs_runner
from .aggregate import (
    Aggregated,
    add_choices,
    add_class_links,
    add_groups,
    add_mentor_limits,
    add_min_intakes,
    add_objectives,
    add_one_placement,
    add_pair_counts,
    add_quotas,
    add_start_split,
    add_supervisor_limits,
    add_workstation_limits,
    columns_of,
)
from .base import Choice, SolverConfig
from .highs.common import violations
from .linear import LinearModel, merged

Expr = Sequence[tuple[int, float]]
"""An objective: ``(column, coefficient)`` terms (a column may repeat)."""

GRACE_S = 30.0
"""How long past its deadline a HiGHS helper may run before it is killed."""
ASSIST_GRACE_S = 2.0
"""The same when HiGHS assists ``cpsat`` (the exact solver has later stages to run)."""


def build_model(enc: Encoded, *, pairs: bool = True, placed: int | None = None,
                every_limit: bool = False) -> Aggregated:
    """The full MILP (columns, rows and the three objectives) of a problem.

    ``pairs=False`` leaves out the rewarded-pair columns (level 3), for solves of levels 1-2.
    ``placed``: exactly that many placed (level 1 fixed). When that is every student with an
    option, each student's own row says so (an equality) instead of one row over all the
    placement columns: the same integer points, but the dense row slows every LP, and on the
    demo HiGHS proved level 2 in a median 8.8 s (seeds 0-6) against 13.3 s with it (seeds
    0-4), from the same start and options.
    ``every_limit``: a limit row for every limit, also where it cannot bind (so that each can
    be priced instead, :func:`matcher.solvers.relaxation.priced_lp`); ``cap_rows`` names them.
    """
    mdl = Aggregated(enc, exact_bounds=True, every_limit=every_limit)
    add_choices(mdl, pairs)
    add_groups(mdl)
    add_min_intakes(mdl)
    add_quotas(mdl)
    everyone = placed is not None and placed == len(mdl.placed_cols)
    add_one_placement(mdl, everyone)
    add_class_links(mdl)
    add_start_split(mdl)
    add_workstation_limits(mdl)
    add_mentor_limits(mdl)
    add_supervisor_limits(mdl)
    if pairs:
        add_pair_counts(mdl)
    add_objectives(mdl)
    if placed is not None and not everyone:
        mdl.lp.row(mdl.placed, placed, placed, "placed")
    return mdl


def hint_from_choices(mdl: Aggregated, chosen: dict[int, Choice]) -> npt.NDArray[np.float64]:
    """Column values of a per-student allocation (e.g. the greedy one) in this model (rewarded
    pairs left uncounted)."""
    return np.asarray(columns_of(mdl, chosen, pairs=False), dtype=np.float64)


def violated_rows(lp: LinearModel, x: npt.NDArray[np.float64], tol: float = 1e-6) -> list[int]:
    """Rows (and, as ``-1 - column``, column bounds) that ``x`` breaks; empty when feasible."""
    a = lp.arrays()
    return violations(a["lb"], a["ub"], a["row_lo"], a["row_hi"], a["row_start"], a["row_idx"],
                      a["row_val"], x, tol)


def floor_bound(v: float) -> int:
    """A dual bound rounded down (a maximisation's), forgiving HiGHS's tolerance."""
    return math.floor(v + 1e-6 * max(1.0, abs(v)))


def ceil_bound(v: float, rel: float = 1e-6) -> int:
    """A dual bound rounded up (a minimisation's), forgiving HiGHS's tolerance (``rel`` of it:
    a weighted objective worth 1e8 wants less forgiven, see :mod:`matcher.solvers.rank_slots`)."""
    return math.ceil(v - rel * max(1.0, abs(v)))



def minimised(stage: Stage) -> tuple[int, int | None]:
    """A minimised integer level's value in ``stage`` and its proven lower bound (None when
    the engine gave none; never above the value)."""
    value = round(stage.objective or 0)
    return value, None if stage.dual_bound is None else min(value, ceil_bound(stage.dual_bound))

# ---- running HiGHS in its helper process ----------------------------------------------------
def helper_arrays(mdl: Aggregated, levels: list[tuple[str, Expr]],
                  hint: npt.NDArray[np.float64] | None) -> dict[str, Any]:
    """The arrays the HiGHS helper receives: the model, one objective per level, the hint."""
    arrays: dict[str, Any] = mdl.lp.arrays()
    for n, (_sense, expr) in enumerate(levels):
        arrays[f"obj{n}_idx"], arrays[f"obj{n}_val"] = merged(expr)
    if hint is not None:
        arrays["hint"] = hint
    return arrays


@dataclass
class Stage:
    """What the helper reports for one level."""

    status: str  # HiGHS model status text
    has_solution: bool
    objective: float | None
    dual_bound: float | None
    seconds: float
    x: npt.NDArray[np.float64] | None
    done_at: float | None = None  # clock.now() value when the level finished


def run_levels(mdl: Aggregated, config: SolverConfig, deadline: float, job: dict[str, Any],
               hint: npt.NDArray[np.float64] | None, levels: list[tuple[str, Expr]],
               stop: Callable[[], bool] | None = None, grace: float = GRACE_S
               ) -> tuple[list[Stage], dict[str, Any], str]:
    """Run HiGHS on the model in its helper (:mod:`matcher.solvers.highs.levels`); returns
    the levels it finished, the job's other output and why it ended early ("" if it did not).

    ``job`` gives the mode (``levels``, ``relax``, ``conflict``) and its settings; ``stop``,
    polled while the helper runs, ends it early (e.g. on SIGINT): the levels it finished are
    still returned.
    """
    return run_arrays(helper_arrays(mdl, levels, hint), [s for s, _ in levels], config,
                      deadline, job, stop, grace)


def run_arrays(arrays: dict[str, Any], senses: list[str], config: SolverConfig, deadline: float,
               job: dict[str, Any], stop: Callable[[], bool] | None = None,
               grace: float = GRACE_S) -> tuple[list[Stage], dict[str, Any], str]:
    """:func:`run_levels` for any model in the helper's arrays (``lb``, ``ub``, ``integer``,
    the rows, ``obj<n>_idx``/``obj<n>_val`` per level, optionally ``hint``), e.g. the slot
    model's (:mod:`matcher.solvers.rank_slots`); ``senses``: each level's ``min`` or ``max``."""
    job = {**job, "senses": senses, "seed": config.seed,
           "threads": max(1, config.workers), "log": config.log}
    launched = clock.now()

    def collect(work: Path) -> tuple[list[Stage], dict[str, Any]]:
        stages: list[Stage] = []
        for n in range(len(senses)):
            meta_path = work / f"stage{n}.json"
            if not meta_path.is_file():
                break
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            x = np.load(work / f"stage{n}.npy") if meta["has_solution"] else None
            # The helper's wall clock, as this process's perf_counter (a deterministic solve:
            # its work clock, from the launch).
            done_at = (launched + float(meta["finished_after"]) if clock.deterministic()
                       else meta["finished_at"] - time.time() + clock.now())
            stages.append(Stage(meta["status"], meta["has_solution"], meta["objective"],
                                meta["dual_bound"], meta["seconds"], x, done_at))
        out_path = work / "out.json"
        out = json.loads(out_path.read_text(encoding="utf-8")) if out_path.is_file() else {}
        if (work / "relax.npy").is_file():
            out["x"] = np.load(work / "relax.npy")
        return stages, out

    run = highs_runner.run_helper("levels", arrays, job,
                                  deadline=deadline, grace=grace, log=config.log,
                                  collect=collect, stop=stop)
    stages, out = run.collected
    return stages, out, run.error
