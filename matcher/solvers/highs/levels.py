"""The HiGHS helper of the aggregated model (``milp``): levels, an LP relaxation, lock conflicts.

Runs in the helper process (:mod:`matcher.solvers.highs_runner`), never next to OR-Tools. The
job (``job.json``, ``model.npz``: the arrays of :func:`matcher.solvers.milp_model.helper_arrays`)
has one of three modes:

* ``levels``: the objectives in turn, each level fixed one-sidedly at what it reached before
  the next (job ``polish``: that share of the time goes first to a start for level 1,
  :mod:`matcher.solvers.highs.polish`); each level's outcome is written as soon as it is
  known (``stage<n>.json``, ``stage<n>.npy``), so a level cut short (or a killed helper)
  still leaves the previous one's;
* ``relax``: the LP relaxation of one objective by simplex (``out.json``, ``relax.npy``);
* ``conflict``: a deletion filter over the lock rows, for a set of locks that cannot all be
  honoured (``out.json``).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from . import polish
from .common import CLOCK, configure, refuse_ortools, violations

STAGE_SHARE = {1: (1.0,), 2: (0.5, 1.0), 3: (0.5, 0.7, 1.0), 4: (0.5, 0.7, 0.7, 1.0),
               5: (0.5, 0.7, 0.7, 0.7, 1.0)}  # 5: with soft quotas (issue 29)
"""Share of the time left that each level may take, by the number of levels (unless the job
gives its own ``shares``)."""


def main(work: Path, _role: str = "") -> None:
    """Helper-process entry: solve the job in ``work`` with highspy (never with OR-Tools)."""
    refuse_ortools()
    import highspy

    job = json.loads((work / "job.json").read_text(encoding="utf-8"))
    data = np.load(work / "model.npz")
    lb, ub, integer = data["lb"], data["ub"], data["integer"]
    row_lo, row_hi = data["row_lo"], data["row_hi"]
    row_start, row_idx, row_val = data["row_start"], data["row_idx"], data["row_val"]
    n_cols, n_rows = len(ub), len(row_lo)
    inf = highspy.kHighsInf

    def finite(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.where(np.isinf(v), np.sign(v) * inf, v)

    def make(extra: list[tuple[Any, Any, float, float]],
             lock_lo: npt.NDArray[np.float64] | None = None) -> Any:
        h = highspy.Highs()
        configure(h, job)
        for name, value in job.get("highs_options", {}).items():
            h.setOptionValue(name, value)
        h.addVars(n_cols, lb, ub)
        if n_cols and integer.any():
            cols = np.flatnonzero(integer).astype(np.int32)
            h.changeColsIntegrality(len(cols), cols,
                                    np.full(len(cols), highspy.HighsVarType.kInteger))
        lo = row_lo if lock_lo is None else lock_lo
        if n_rows:
            h.addRows(n_rows, finite(lo), finite(row_hi), len(row_idx),
                      row_start[:-1].astype(np.int32), row_idx, row_val)
        for idx, val, lo, hi in extra:
            if len(idx):
                h.addRow(lo, hi, len(idx), idx, val)
        return h

    mip = bool(n_cols and integer.any())

    def solve(h: Any, seconds: float, n: int, t0: float) -> tuple[str, Any, float | None]:
        keep = partial_stage(work, n, t0) if mip else None
        if not CLOCK.run(h, seconds, mip=mip, on_check=keep):
            return "not started: too little time left", None, None
        status = h.modelStatusToString(h.getModelStatus())
        info = h.getInfo()
        x = None
        if info.primal_solution_status == 2:  # a feasible solution
            x = np.round(np.asarray(h.getSolution().col_value, dtype=np.float64))
            if violations(lb, ub, row_lo, row_hi, row_start, row_idx, row_val, x, 1e-6):
                x = None  # rounding broke a row: never pass that on as a solution
        bound = info.mip_dual_bound
        return status, x, (float(bound) if math.isfinite(bound) else None)

    deadline = CLOCK.start(job)
    if job.get("mode") == "conflict":
        # Deletion filter: relax one lock at a time; keep it relaxed if the rest still conflict.
        # Invariant: the locks in ``needed`` cannot all be honoured together.
        lock_rows = [int(r) for r in job["lock_rows"]]
        needed = list(lock_rows)
        complete = True
        for n, r in enumerate(lock_rows):
            left = deadline - CLOCK.now()
            if left < 0.05:
                complete = False
                break
            lo = row_lo.copy()
            lo[[q for q in lock_rows if q not in needed or q == r]] = 0.0
            h = make([], lo)
            ran = CLOCK.run(h, left / (len(lock_rows) - n), mip=mip)
            outcome = h.getModelStatus() if ran else highspy.HighsModelStatus.kNotset
            if outcome == highspy.HighsModelStatus.kInfeasible:
                needed.remove(r)
            elif outcome != highspy.HighsModelStatus.kOptimal:
                complete = False  # undecided in its time: keep the lock (still a conflict)
        (work / "out.json").write_text(json.dumps({"needed": needed, "complete": complete}),
                                       encoding="utf-8")
        return

    if job.get("mode") == "relax":
        # The LP relaxation of one objective, by simplex (no integrality, no rounding of x).
        t0 = CLOCK.now()
        h = make([])
        if n_cols:
            h.changeColsIntegrality(n_cols, np.arange(n_cols, dtype=np.int32),
                                    np.full(n_cols, highspy.HighsVarType.kContinuous))
        h.setOptionValue("solver", "simplex")
        idx, val = data["obj0_idx"], data["obj0_val"]
        if len(idx):
            h.changeColsCost(len(idx), idx, val)
        CLOCK.run(h, deadline - CLOCK.now())
        status = h.modelStatusToString(h.getModelStatus())
        empty = h.getModelStatus() == highspy.HighsModelStatus.kModelEmpty  # nothing to choose
        optimal = empty or h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        if optimal:
            x = np.zeros(n_cols) if empty else np.asarray(h.getSolution().col_value, dtype=float)
            np.save(work / "relax.npy", x)
        (work / "out.json").write_text(json.dumps({
            "status": status, "optimal": optimal, "objective": 0.0 if empty else (
                float(h.getInfo().objective_function_value) if optimal else None),
            "seconds": round(CLOCK.now() - t0, 3)}), encoding="utf-8")
        return

    senses = job["senses"]
    shares = job.get("shares") or STAGE_SHARE[len(senses)]
    x_prev = data["hint"] if "hint" in data.files else None
    fixed: list[tuple[Any, Any, float, float]] = []
    for n, sense in enumerate(senses):
        left = deadline - CLOCK.now()
        if left < 0.05:
            break
        t0 = CLOCK.now()
        idx, val = data[f"obj{n}_idx"], data[f"obj{n}_val"]
        if n == 0 and sense == "min" and job.get("polish"):
            # (the rules' slot model: a first allocation by LP, cuts, fix and solve)
            found = polish.fix_and_solve(make, data, (idx, val), left * float(job["polish"]))
            x_prev = polish.better((idx, val), x_prev, found)
            left = deadline - CLOCK.now()
            if x_prev is not None and not violations(lb, ub, row_lo, row_hi, row_start, row_idx,
                                                     row_val, x_prev, 1e-6):
                # (kept should the branch and cut below be stopped)
                np.save(work / "stage0.npy", x_prev)
                (work / "stage0.json").write_text(json.dumps({
                    "status": "start (LP, cuts, fix and solve)", "has_solution": True,
                    "objective": float(val @ x_prev[idx]), "dual_bound": None,
                    "seconds": round(CLOCK.now() - t0, 3), "finished_at": CLOCK.now(),
                    "finished_after": round(CLOCK.now() - CLOCK.started, 3)}),
                    encoding="utf-8")
        h = make(fixed)
        if len(idx):
            h.changeColsCost(len(idx), idx, val)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if sense == "max"
                               else highspy.ObjSense.kMinimize)
        if x_prev is not None:
            sol = highspy.HighsSolution()
            sol.col_value = x_prev.tolist()
            h.setSolution(sol)
        status, x, bound = solve(h, left * shares[n], n, t0)
        objective = float(val @ x[idx]) if x is not None else None
        if x is not None:
            np.save(work / f"stage{n}.npy", x)
        (work / f"stage{n}.json").write_text(json.dumps({
            "status": status, "has_solution": x is not None, "objective": objective,
            "dual_bound": bound, "seconds": round(CLOCK.now() - t0, 3),
            "finished_at": CLOCK.now(), "finished_after": round(CLOCK.now() - CLOCK.started, 3)}),
            encoding="utf-8")
        if x is None or objective is None:
            break
        # A finished level stays at least as good as found: one-sided, so the next level's LP
        # is easier (demo, level 3 after level 2: 8-12 s against 19-22 s with an equality).
        value = round(objective)
        fixed.append((idx, val, -inf, value) if sense == "min" else (idx, val, value, inf))
        x_prev = x


PARTIAL_EVERY_S = 1.0
"""Least wall time between two writes of a level's bound while its MIP runs."""


def partial_stage(work: Path, n: int, t0: float) -> Any:
    """A MIP check's hook (:meth:`~matcher.solvers.highs.common.Clock.run`) that keeps level
    ``n``'s dual bound in ``stage<n>.json`` while its MIP runs, without a solution, as a level
    cut short reports it (at most every :data:`PARTIAL_EVERY_S`, and only when it rose).

    A helper stopped by its parent in the middle of a level (HiGHS checks its own time limit
    only between rounds of the root node, and a large root can overrun it past the parent's
    grace) so still leaves that level's bound; the level's own report replaces it when the
    MIP ends."""
    kept: dict[str, float] = {"bound": math.nan, "at": -math.inf}
    path = work / f"stage{n}.json"
    # (a start kept for this level, polish's, stays the level's solution: only its bound rises)
    start = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {
        "status": "stopped while running", "has_solution": False, "objective": None}

    def keep(out: Any) -> None:
        bound = float(out.mip_dual_bound)
        if not math.isfinite(bound) or bound == kept["bound"] or (
                not CLOCK.deterministic and time.time() - kept["at"] < PARTIAL_EVERY_S):
            return
        kept["bound"], kept["at"] = bound, time.time()
        tmp = work / f"stage{n}.tmp.json"
        tmp.write_text(json.dumps({
            **start, "dual_bound": bound, "seconds": round(CLOCK.now() - t0, 3),
            "finished_at": CLOCK.now(), "finished_after": round(CLOCK.now() - CLOCK.started, 3)}),
            encoding="utf-8")
        os.replace(tmp, path)

    return keep
