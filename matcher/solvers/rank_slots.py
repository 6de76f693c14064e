"""``objective.rank: profile`` on the slot model, one rank at a time (issue 29 item 4).

The slot model (:mod:`matcher.solvers.slots`) puts each placed student's rank on one column:
``x[i,w]`` (a workstation of its list, at its rank) or ``v[i]`` (off the list, ``K + 1``). So
the profile's levels are plain counts of those columns: level ``j`` minimises ``#(r > j)``, the
placing columns of rank above ``j`` (with the number placed fixed, fewer above ``j`` is more at
``j`` or better), for ``j = 1..K``, each fixed one-sidedly (``<=`` its value) before the next.
Rank 1 is a level of its own, with 0/1 coefficients; the later ranks go in chunks weighted by
``base`` = the start's ``#(r > 1)`` + 1 (a row keeps ``#(r > 1)`` at most that, as the optimum
does, so every count stays below ``base``), never above ``2^31``: no overflow whatever the size
(the aggregated model's sub-levels, :func:`matcher.solvers.rank_levels.chunks`, must take the
number of students + 1 as their base). HiGHS's branch and cut solves them in its helper
(:mod:`matcher.solvers.highs.levels`), with the number placed fixed at the rank sum's proven
maximum. The rank sum's optimum is kept should HiGHS find nothing better, but not given to
HiGHS as its start: on tier S the first level took 3.7 s of CPU from no start (randomized
rounding after the root cuts finds the optimum, 1,147 first choices) and was not done after
16 s of CPU from that start (its sub-MIP search).

The model goes without the counts per mentor (``MENTOR`` columns, ``LAZY`` rows): a
relaxation, so its bounds hold for the problem, and its allocation, once mentors and starts are
packed (:func:`matcher.solvers.slot_rounding.repaired`), is the problem's. Level ``j`` is proven
when every level before it is and the allocation's ``#(r > j)`` meets that level's dual bound
(valid given the levels before at their optimum). ``stats.rank_objective`` says how far the
profile is proven (``levels_proven``: ranks ``1..k``) and each level's bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ..encoding import Encoded
from ..model.result import Result, Status
from . import clock, rank_levels
from .base import Choice, SolverConfig, build_result
from .linear import merged
from .milp_model import ASSIST_GRACE_S, Stage, ceil_bound, run_arrays
from .rank_levels import MAX_WEIGHT
from .relaxation import relax_weight
from .slot_flow import SlotFlow
from .slot_rounding import allocation, repaired
from .slots import LAZY, MENTOR, OFF, SlotModel, build

FINISH_SECONDS_PER_STUDENT = 100e-6
"""Time kept after HiGHS, per student, to pack mentors and starts and write the result."""
HIGHS_OPTIONS = {"presolve": "off"}
"""HiGHS options of every level. Presolve off: on tier S it took 77 of 88 s (under load) and
left the first level without a bound in its time; without it the root LP and cuts prove the
first level (853 students above rank 1, i.e. at most 1,147 first choices, reached)."""
LEVEL_SHARE = 0.5
"""Share of the time left that each level but the last may take (the first, most first
choices, is what an office reads first)."""


def arrays(model: SlotModel, placed: int, levels: list[list[tuple[int, float]]],
           hint: np.ndarray[Any, Any] | None,
           at_most: tuple[list[int], int] | None = None) -> dict[str, Any]:
    """The helper's arrays: the slot model without the counts per mentor, the number placed
    fixed at ``placed`` (and ``at_most``: those columns summing to at most that), one objective
    per level (its terms)."""
    keep = model.row_kind != LAZY
    lengths = np.diff(model.row_start)
    entries = np.repeat(keep, lengths)
    placing = np.flatnonzero(model.col_kind <= OFF)
    ub = model.col_ub.astype(np.float64)
    ub[model.col_kind == MENTOR] = 0.0  # (in no row once the LAZY rows are gone)
    out: dict[str, Any] = {
        "lb": np.zeros(model.n_cols), "ub": ub, "integer": np.ones(model.n_cols, dtype=bool),
        "row_lo": np.append(model.row_lo[keep], float(placed)),
        "row_hi": np.append(model.row_hi[keep], float(placed)),
        "row_start": np.concatenate([[0], np.cumsum(lengths[keep]),
                                     [int(lengths[keep].sum()) + len(placing)]]).astype(
                                         np.int64),
        "row_idx": np.concatenate([model.row_col[entries], placing]).astype(np.int32),
        "row_val": np.concatenate([model.row_val[entries], np.ones(len(placing))]),
    }
    if at_most is not None:
        cols, most = at_most
        out["row_lo"] = np.append(out["row_lo"], -np.inf)
        out["row_hi"] = np.append(out["row_hi"], float(most))
        out["row_start"] = np.append(out["row_start"], out["row_start"][-1] + len(cols))
        out["row_idx"] = np.concatenate([out["row_idx"], np.asarray(cols, dtype=np.int32)])
        out["row_val"] = np.concatenate([out["row_val"], np.ones(len(cols))])
    for n, terms in enumerate(levels):
        out[f"obj{n}_idx"], out[f"obj{n}_val"] = merged(terms)
    if hint is not None:
        out["hint"] = hint
    return out


def first_choices_bound(enc: Encoded, model: SlotModel, placed: int,
                        until: float | None = None) -> int:
    """Proven: no allocation placing ``placed`` has more first choices. The slot model's LP as
    a min-cost flow (:class:`matcher.solvers.slot_flow.SlotFlow`) with each placing column
    costing 1 above rank 1 and 0 at rank 1 (0/1 costs: no weights), at that count
    (:meth:`~matcher.solvers.slot_flow.SlotFlow.count_bound`, Lagrangian on the number placed;
    one flow when the LP places no more). Far tighter than the flow relaxation's maximum flow
    through first-choice arcs, which lets the others go anywhere (tier S: 1,157 against
    1,393)."""
    above = replace(model, col_cost=(model.col_cost > 1).astype(np.int64))
    net = SlotFlow(enc, above, relax_weight(enc))
    return placed - net.count_bound(placed, until=until)


def with_slot_bound(enc: Encoded, result: Result) -> Result:
    """A result reported in the profile form, not proven (e.g. the rank sum's allocation at
    province scale, :func:`matcher.solvers.cpsat_rank.ranked_by_sum`), with its first choices'
    bound tightened by :func:`first_choices_bound` (the slot model's LP at its count)."""
    block = result.stats.get("rank_objective")
    if not isinstance(block, dict) or block.get("proven") or not result.placements:
        return result
    lp_first = first_choices_bound(enc, build(enc), result.placed)
    ub = block.get("first_choices_upper_bound")
    ranks = [p.preference_rank if p.preference_rank is not None else enc.max_list + 1
             for p in result.placements]
    result.stats["rank_objective"] = rank_levels.block_of(
        "profile", enc.max_list, ranks, proven=False,
        first_choices_ub=lp_first if ub is None else min(ub, lp_first))
    result.stats["first_choices_bound"] = "slot model LP (0/1 costs above rank 1)"
    return result


def _least(stage: Stage) -> int | None:
    """A level's proven least value: HiGHS's dual bound rounded up, forgiving 1e-9 of it (an
    integral objective's bound comes rounded already; ``milp_model.minimised``'s 1e-6 would
    forgive 180 on a chunk worth 1.8e8 and lose every proof)."""
    if stage.dual_bound is None:
        return None
    bound = ceil_bound(stage.dual_bound, rel=1e-9)
    return min(round(stage.objective), bound) if stage.objective is not None else bound


def solve_profile(enc: Encoded, config: SolverConfig, t0: float, start: dict[int, Choice],
                  halt: Callable[[], str], name: str, *,
                  first_choices_ub: int | None = None) -> Result:
    """Level 2 as the profile on the slot model (module docstring), from ``start``: an
    allocation placing the proven most (the rank sum's optimum). ``first_choices_ub``: a bound
    known already (the flow relaxation's)."""
    deadline = t0 + config.time_limit_s
    model = build(enc)
    placing = model.col_kind <= OFF
    thresholds = [j for j in range(1, enc.max_list + 1)
                  if bool((placing & (model.col_cost > j)).any())]
    above = {j: np.flatnonzero(placing & (model.col_cost > j)).tolist() for j in thresholds}
    # Rank 1 alone; then the ranks in chunks, each one weighted sum_j base^(last - j) #(r > j):
    # with #(r > 1) kept at most the start's (a row: the optimum keeps it too), every count is
    # below ``base``, so a chunk orders exactly as its counts do, and base^len <= MAX_WEIGHT
    # (tier S: base 1,087, chunks of three ranks; ranks 3-5 proven in 2.3 s of CPU against
    # 9.8 s for rank 3 alone).
    start_above = rank_levels.key(enc, start)[0] if thresholds else 0
    base = start_above + 1
    chunks: list[list[int]] = [[j] for j in thresholds[:1]]
    for j in thresholds[1:]:
        if len(chunks) > 1 and base ** (len(chunks[-1]) + 1) <= MAX_WEIGHT:
            chunks[-1].append(j)
        else:
            chunks.append([j])
    levels = [[(c, float(base ** (chunk[-1] - j))) for j in chunk for c in above[j]]
              for chunk in chunks]
    stats: dict[str, Any] = {"engine": "slot model + HiGHS (profile, one rank at a time)",
                             "columns": model.n_cols, "rows": model.n_rows}
    lp_first = first_choices_bound(enc, model, len(start), until=t0 + 0.1 * config.time_limit_s)
    first_choices_ub = lp_first if first_choices_ub is None else min(first_choices_ub, lp_first)
    chosen = dict(start)
    stages: list[Stage] = []
    if levels:
        shares = [LEVEL_SHARE] * (len(levels) - 1) + [1.0]
        until = max(clock.now() + 0.5,
                    deadline - FINISH_SECONDS_PER_STUDENT * enc.n_students)
        stages, _out, err = run_arrays(
            arrays(model, len(start), levels, None, (above[1], start_above) if levels else None),
            ["min"] * len(levels), config, until, {"mode": "levels", "shares": shares,
                                                 "highs_options": HIGHS_OPTIONS},
            stop=lambda: bool(halt()), grace=ASSIST_GRACE_S)
        if err:
            stats["helper_error"] = err
        stats["level_seconds"] = [s.seconds for s in stages]
        last = next((s.x for s in reversed(stages) if s.x is not None), None)
        if last is not None:
            got, misfits = repaired(enc, allocation(enc, model, last), deadline, len(start),
                                    halt)
            if misfits:
                stats["left_by_disaggregation"] = misfits
            if rank_levels.better(enc, got, chosen) or not rank_levels.better(enc, chosen, got):
                chosen = got
    value = rank_levels.key(enc, chosen)  # #(r > j) for j = 1..K
    least: dict[int, int] = {}  # rank -> proven least #(r > rank), given the ranks before
    for chunk, stage in zip(chunks, stages, strict=False):
        lower = _least(stage)
        if lower is None:
            continue
        got = sum(base ** (chunk[-1] - j) * value[j - 1] for j in chunk)
        if got <= lower:  # the whole chunk at its bound: each of its counts is proven
            least.update({j: value[j - 1] for j in chunk})
        else:  # the first count only: the rest of the chunk is below base^(len - 1)
            least[chunk[0]] = lower // base ** (len(chunk) - 1)
    proven_to, bounds = 0, []
    for j in range(1, enc.max_list + 1):
        if j not in thresholds:  # no option above rank j: nobody is
            proven_to += proven_to == j - 1
            continue
        bounds.append({"rank": j, "above": value[j - 1], "above_at_least": least.get(j)})
        if proven_to == j - 1 and j in least and value[j - 1] <= least[j]:
            proven_to = j
    first_lb = bounds[0]["above_at_least"] if bounds and bounds[0]["rank"] == 1 else None
    if first_lb is not None:
        ub = len(chosen) - first_lb
        first_choices_ub = ub if first_choices_ub is None else min(first_choices_ub, ub)
    proven = proven_to == enc.max_list and not halt()
    block = rank_levels.block(enc, chosen, proven=proven, first_choices_ub=first_choices_ub)
    block.update(levels_proven=proven_to, level_bounds=bounds)
    stats["rank_objective"] = block
    if enc.use_pairs:
        stats["pair_weight_proven"] = False
    if halt():
        msg = f"stopped by {halt()}: the best allocation found so far"
    elif proven:
        msg = ("levels 1 and 2 proven optimal; the pair weight (level 3) is not proven"
               if enc.use_pairs else "")
    else:
        msg = "time limit reached before levels 1 and 2 were proven optimal"
    return build_result(enc, name, Status.OPTIMAL if proven else Status.FEASIBLE, chosen,
                        config, clock.now() - t0, placed_upper_bound=len(start), stats=stats,
                        message=msg)


__all__ = ["arrays", "first_choices_bound", "solve_profile", "with_slot_bound"]
