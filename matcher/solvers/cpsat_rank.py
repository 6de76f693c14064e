"""``cpsat`` when level 2 is the rank profile or the worst rank (``objective.rank``, issue 29).

The slot model and the flow-exact path state level 2 as a rank *sum* (their LP is a min-cost
flow with the ranks as costs), so for ``profile`` and ``minimax`` ``cpsat`` does not take them
(``stats.engine_why`` says so) and solves the aggregated model level by level instead, with
level 2 as the sub-levels of :mod:`matcher.solvers.rank_levels`:

* small problems (under :data:`matcher.solvers.cpsat.SLOT_MIN_CHOICES` choices), re-solves
  and models too large for HiGHS: CP-SAT in process, each level fixed at what it reached
  before the next (:func:`solve_by_cp_sat`);
* models HiGHS can prove (up to :data:`LP_MAX_CHOICES` choices): HiGHS's branch and cut on
  every level (:func:`matcher.solvers.milp.solve_encoded`), from the best quick allocation;
* above :data:`matcher.solvers.cpsat_province.MAX_CHOICES` choices no model of the form is
  built: ``cpsat`` solves as for the rank sum (the slot model: the most placed, proven) and
  :func:`ranked_by_sum` reports level 2 in the chosen form, not proven, with the flow
  relaxation's bound (``stats.rank_objective``), status FEASIBLE (for the profile, where the
  slot model applies, tightened by its LP: :func:`matcher.solvers.rank_slots.with_slot_bound`).

``minimax`` from 500 choice columns and the profile where the slot model applies are solved
elsewhere: :mod:`matcher.solvers.rank_threshold`, :mod:`matcher.solvers.rank_slots`.

Status OPTIMAL means level 1 and every sub-level of level 2 are proven. The rank sum's lower
bound (``rank_cost_lower_bound``) is left out: the sum is not what level 2 minimises here (for
``minimax`` it is minimised only among allocations with the best worst rank).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from ortools.graph.python import max_flow
from ortools.sat.python import cp_model

from .. import progress
from ..encoding import PAIR_SCALE, Encoded
from ..model.result import Result, Status
from . import clock, rank_levels
from . import cpsat_province as province
from .aggregate import choice_count, columns_of
from .base import Choice, SolverConfig, build_result
from .cpsat_model import NAME, CpAggregated, build_model
from .cpsat_run import Stop, hint_from_solver, new_solver, run_search, wall
from .cpsat_warm import quick_start
from .flow import SINK, SOURCE, FlowRelaxation, relaxation
from .linear import Terms
from .milp import solve_encoded

LP_MAX_CHOICES = 100_000
"""Largest problem (choice columns) whose every level goes to HiGHS (as in ``cpsat``'s
``LP_MAX_VARIABLES``: larger aggregated models gave HiGHS neither an allocation nor a bound in
two minutes)."""
FLOW_SECONDS_PER_ARC = 0.2e-6
"""Deterministic cost model (:mod:`matcher.solvers.clock`) of one maximum flow, per arc."""
CP_SAT_MAX_CHOICES = 500
"""Smaller problems stay with CP-SAT in process (a HiGHS helper takes about a second to start)."""


def solve_ranked(enc: Encoded, config: SolverConfig, t0: float, stop: Stop,
                 previous: dict[int, Choice], start: dict[int, Choice] | None = None) -> Result:
    """Levels 1, 2 (in the scenario's form), segments and pair weight of ``enc`` (see the module
    docstring for which engine takes which size); ``start``: an allocation to start from when it
    is better than the quick ones (e.g. the rank sum's optimum)."""
    kind = rank_levels.form(enc)
    choices = choice_count(enc)
    stats: dict[str, Any] = {"engine_why": f"slot model not used: objective.rank is {kind} "
                                           "(the slot model and the flow minimise a rank sum)"}
    progress.update(elapsed=clock.now() - t0, note="quick allocations")
    warm, relax, quick_ub = quick_start(enc, config.time_limit_s, stats, quick_share=0.05,
                                        moves_share=0.1, stop=lambda: stop.requested)
    if start and rank_levels.better(enc, start, warm):
        warm = start
        stats["start"] = "the rank sum's allocation"
    if CP_SAT_MAX_CHOICES <= choices <= LP_MAX_CHOICES and not previous:
        stats["engine"] = "aggregated model (HiGHS, every level)"
        # When the quick allocation places the proven maximum, level 1 is fixed, not solved
        # (tier S: HiGHS took 9-13 s of a minute to prove it again).
        fixed = len(warm) if warm is not None and len(warm) >= quick_ub else None
        return _tightened(enc, relax, solve_encoded(
            enc, config, t0, start=warm, name=NAME, stop=lambda: stop.requested, stats=stats,
            placed=fixed))
    stats["engine"] = "aggregated model (CP-SAT, level by level)"
    return _tightened(enc, relax, solve_by_cp_sat(enc, config, t0, stop, previous, warm,
                                                  quick_ub, stats))


def ranked_by_sum(enc: Encoded, result: Result) -> Result:
    """A result of the rank sum's engines reported for level 2 in the scenario's form: not
    proven (OPTIMAL becomes FEASIBLE; the rank sum's bound is dropped), with the flow
    relaxation's bound of the form (:func:`relaxed_bounds`)."""
    kind = rank_levels.form(enc)
    if result.status not in (Status.OPTIMAL, Status.FEASIBLE) or not result.placements:
        return result
    ranks = [p.preference_rank if p.preference_rank is not None else enc.max_list + 1
             for p in result.placements]
    found = relaxed_bounds(enc, relaxation(enc), result.placed)
    stats = {**result.stats, "rank_objective": rank_levels.block_of(
        kind, enc.max_list, ranks, proven=False, first_choices_ub=found.get("first_choices_ub"),
        worst_rank_lb=found.get("worst_rank_lb")),
        "engine_why": f"objective.rank is {kind}, but above {province.MAX_CHOICES} choices no "
                      "model of it is built: the rank sum's engines gave this allocation"}
    return replace(result, status=Status.FEASIBLE, rank_cost_lower_bound=None, stats=stats,
                   message=f"objective.rank {kind}: at this size the allocation minimises the "
                           "rank sum after the most placed; level 2 is reported in its form, "
                           "not proven")


def _tightened(enc: Encoded, relax: FlowRelaxation, result: Result) -> Result:
    """``result`` with level 2's bound the better of the engine's and the flow relaxation's
    (:func:`relaxed_bounds`) when level 2 is not proven."""
    block = result.stats.get("rank_objective")
    if not isinstance(block, dict) or block.get("proven") or not result.placements:
        return result
    found = relaxed_bounds(enc, relax, result.placed)
    first_ub, worst_lb = block.get("first_choices_upper_bound"), block.get(
        "worst_rank_lower_bound")
    if "first_choices_ub" in found:
        first_ub = min(found["first_choices_ub"], first_ub if first_ub is not None else
                       found["first_choices_ub"])
    if "worst_rank_lb" in found:
        worst_lb = max(found["worst_rank_lb"], worst_lb or 0)
    ranks = [p.preference_rank if p.preference_rank is not None else enc.max_list + 1
             for p in result.placements]
    result.stats["rank_objective"] = rank_levels.block_of(
        block["form"], enc.max_list, ranks, proven=False, first_choices_ub=first_ub,
        worst_rank_lb=worst_lb)
    return result


def relaxed_bounds(enc: Encoded, relax: FlowRelaxation, placed: int) -> dict[str, int]:
    """Level 2's bounds from the flow relaxation (:mod:`matcher.solvers.flow`), valid for every
    allocation placing ``placed``: ``first_choices_ub``, the maximum flow through first-choice
    arcs only (profile); ``worst_rank_lb``, the least ``t`` whose arcs of rank ``<= t`` let
    ``placed`` through (minimax). One maximum flow per rank tried."""
    g = relax.graph
    rank = [0] * len(g.tails)
    for arc, i, w in g.direct_arcs:
        rank[arc] = enc.cost(i, w)
    for arc, _i, _hub in g.hub_in_arcs:
        rank[arc] = enc.max_list + 1
    tails = np.asarray(g.tails, dtype=np.int32)
    heads = np.asarray(g.heads, dtype=np.int32)
    caps = np.asarray(g.capacities, dtype=np.int64)
    ranks = np.asarray(rank, dtype=np.int64)

    def through(t: int) -> int:
        flow = max_flow.SimpleMaxFlow()
        if len(tails):
            flow.add_arcs_with_capacity(tails, heads, np.where(ranks <= t, caps, 0))
        clock.charge(FLOW_SECONDS_PER_ARC * len(tails))
        if not len(tails) or flow.solve(SOURCE, SINK) != flow.OPTIMAL:
            return 0
        return int(flow.optimal_flow())

    kind = rank_levels.form(enc)
    if kind == "profile":
        return {"first_choices_ub": through(1)}
    if kind == "minimax" and placed:
        for t in range(1, enc.max_list + 2):
            if through(t) >= placed:
                return {"worst_rank_lb": t}
    return {}


def _hint(mdl: CpAggregated, chosen: dict[int, Choice], worst: Terms) -> None:
    """Hint the model with a complete allocation (its minimax columns set too)."""
    x = columns_of(mdl.agg, chosen, pairs=True)
    if worst:
        x = rank_levels.hint_worst(mdl.enc, x, worst, chosen)
    cp = mdl.model
    cp.clear_hints()
    for j, v in enumerate(x):
        cp.add_hint(mdl.var(j), v)
    for lit in mdl.lock_lits.values():
        cp.add_hint(lit, 1)


def _expr(mdl: CpAggregated, terms: Terms) -> Any:
    return cp_model.LinearExpr.weighted_sum([mdl.var(j) for j, _c in terms],
                                            [c for _j, c in terms])


def solve_by_cp_sat(enc: Encoded, config: SolverConfig, t0: float, stop: Stop,
                    previous: dict[int, Choice], warm: dict[int, Choice] | None,
                    quick_ub: int, stats: dict[str, Any]) -> Result:
    """Every level by CP-SAT on the aggregated model, each fixed before the next: placed,
    (re-solve) kept, level 2's sub-levels, extra segments, pair weight."""
    deadline = t0 + config.time_limit_s
    mdl = build_model(enc, previous)
    cp = mdl.model
    subs = rank_levels.sublevels(mdl.agg)
    worst = subs[0] if rank_levels.form(enc) == "minimax" else []
    stats.update(variables=len(cp.proto.variables), constraints=len(cp.proto.constraints))
    if warm is not None:
        _hint(mdl, warm, worst)
    steps: list[tuple[str, str, Any]] = [("max", "placed", mdl.placed)]
    if mdl.agg.keep:
        steps.append(("max", "kept", mdl.kept))
    steps += [("min", f"level 2.{n}", _expr(mdl, sub)) for n, sub in enumerate(subs, start=1)]
    n_main = len(steps)
    if not isinstance(mdl.extra_segments, int):
        steps.append(("min", "extra segments", mdl.extra_segments))
    if not isinstance(mdl.pair_weight, int):
        steps.append(("max", "pair weight", mdl.pair_weight))
    best: dict[int, Choice] | None = None
    proven, placed_ub, first_lb = True, quick_ub, None
    for n, (sense, name, expr) in enumerate(steps):
        left = deadline - clock.now()
        if stop.requested or left <= 0.01:
            proven = proven and n >= n_main
            break
        (cp.maximize if sense == "max" else cp.minimize)(expr)
        solver = new_solver(config, left * (1.0 if n == len(steps) - 1 else 0.5))
        st = run_search(solver, cp, stop, name, t0)
        stats[f"{name.replace(' ', '_')}_seconds"] = wall(solver)
        if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            proven = proven and n >= n_main
            if n == 0 and st == cp_model.INFEASIBLE:
                return build_result(enc, NAME, Status.INFEASIBLE, {}, config, clock.now() - t0,
                                    stats=stats, message="the locks cannot all be honoured; "
                                    "solve with objective.rank sum to name them")
            break
        got = int(solver.value(expr))
        done = st == cp_model.OPTIMAL
        bound = solver.best_objective_bound
        if n == 0:
            placed_ub = min(quick_ub, math.floor(bound + 1e-6))
            done = done or got >= placed_ub
        elif n == n_main - len(subs):
            first_lb = math.ceil(bound - 1e-6)
        if name == "pair weight":
            stats["pair_weight_upper_bound"] = bound / PAIR_SCALE
            stats["pair_weight_proven"] = done
        elif name == "extra segments":
            stats["extra_segments_proven"] = done
        elif name == "kept":  # (a re-solve: as cpsat's sum path reports it)
            stats["kept"] = got
            proven = proven and done
        elif n < n_main:
            proven = proven and done
        best = mdl.allocation(solver)
        hint_from_solver(cp, solver)
        cp.add(expr == got if done else (expr >= got if sense == "max" else expr <= got))
    if best is None or (warm is not None and rank_levels.better(enc, warm, best)):
        best, proven = warm, False
    chosen = dict(best or {})
    stats["rank_objective"] = rank_levels.block(
        enc, chosen, proven=proven, **rank_levels.first_bounds(enc, len(chosen), first_lb))
    if stop.requested:
        proven, msg = False, f"stopped by {stop.signal_name}: the best allocation found so far"
    elif not proven:
        msg = "time limit reached before levels 1 and 2 were proven optimal"
    else:
        msg = "" if stats.get("pair_weight_proven", True) else (
            "levels 1 and 2 proven optimal; the pair weight (level 3) is not proven")
    status = Status.OPTIMAL if proven and chosen is not None else Status.FEASIBLE
    if best is None:
        status, msg = Status.UNKNOWN, "no allocation found within the time limit"
    return build_result(enc, NAME, status, chosen, config, clock.now() - t0,
                        placed_upper_bound=placed_ub, stats=stats, message=msg)
