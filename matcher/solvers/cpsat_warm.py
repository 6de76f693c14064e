"""Warm starts for ``cpsat``'s level 1: quick allocations, and small CP-SAT neighbourhoods.

Stage 1 starts from the best of the greedy, deferred-acceptance and flow-repaired allocations
(:func:`warm_start`, which also gives the flow relaxation's bounds), first improved by a
large-neighbourhood step (:func:`place_more`: students at workstations no unplaced student
can use stay placed, the rest is solved). A re-solve starts from the earlier placements that
still fit (:func:`keeping`), improved by two small restricted solves that keep them
(:func:`keep_first`). The exact paths that hand every level to HiGHS (the rules', the rank
forms') start from :func:`quick_start`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ortools.sat.python import cp_model

from ..encoding import Encoded
from . import clock
from .base import Choice, SolverConfig
from .cpsat_model import CpAggregated
from .cpsat_run import Stop, new_solver, run_search, value
from .da import deferred_acceptance
from .flow import FlowRelaxation, flow_allocation
from .greedy import serial_dictatorship
from .moves import place_unplaced
from .packing import Loads, fill_greedily, place_locks
from .rules import enforce

QUICK_SECONDS_PER_STUDENT = 40e-6
"""Deterministic cost model (:mod:`matcher.solvers.clock`): the greedy and deferred-acceptance
allocations together, per student."""


def keeping(enc: Encoded, keep: dict[int, Choice]) -> dict[int, Choice] | None:
    """Re-solve warm start: earlier placements that still fit, the rest filled greedily."""
    loads = Loads(enc)
    locked, _proven = place_locks(loads)
    if locked is None:
        return None
    chosen = dict(locked)
    for i in sorted(keep):
        if loads.fits(i, keep[i]):
            loads.take(i, keep[i])
            chosen[i] = keep[i]
    fill_greedily(loads, chosen, sorted(range(enc.n_students),
                                        key=lambda i: enc.priority_position[i]))
    return chosen


def place_more(mdl: CpAggregated, warm: dict[int, Choice], config: SolverConfig,
               deadline: float, stop: Stop, stats: dict[str, Any]) -> dict[int, Choice]:
    """Large-neighbourhood step for stage 1: try to place the students the warm start left out.

    Students placed at workstations none of the unplaced students can use stay placed where
    they are (their starts, mentors and supervisors stay free); the rest of the model is free.
    This small model is solved first; its allocation (never worse) warm-starts the full model.
    """
    enc, agg = mdl.enc, mdl.agg
    unplaced = [i for i in agg.placed_cols if i not in warm]
    if not unplaced or len(warm) == 0:
        return warm
    t0 = clock.now()
    hot = {w for i in unplaced for w, _k in enc.options(i)}
    restricted = mdl.model.clone()
    for i, (w, _m, _s, _k) in warm.items():
        if w in hot:
            continue
        j = agg.y.get((i, w), agg.ovf.get(i))
        if j is not None:
            restricted.add(restricted.get_bool_var_from_proto_index(mdl.var(j).index) == 1)
    mdl.hint(restricted, warm)
    restricted.maximize(mdl.placed)
    solver = new_solver(config, max(0.01, deadline - clock.now()))
    status = run_search(solver, restricted, stop, "stage 1: placing the unplaced", t0)
    stats["place_more_seconds"] = round(clock.now() - t0, 3)
    stats["place_more_free_stations"] = len(hot)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and value(solver, mdl.placed) > len(warm):
        return mdl.allocation(solver)
    return warm


def keep_first(mdl: CpAggregated, start: dict[int, Choice], config: SolverConfig,
               deadline: float, stop: Stop, stats: dict[str, Any]) -> dict[int, Choice] | None:
    """Re-solve: place the most with every earlier placement that still fits kept as is.

    A small model (only the students not kept are free), so CP-SAT solves it quickly; its
    allocation warm-starts the full model, which may still move kept students if that places
    more. ``start`` is :func:`keeping`'s allocation.
    """
    t0 = clock.now()
    enc, agg = mdl.enc, mdl.agg
    best: dict[int, Choice] | None = None
    current = start
    # Round 1 frees only the students not kept; round 2 also those at the workstations the
    # still unplaced students could use (a neighbourhood around where room is needed).
    for round_no in (1, 2):
        unplaced = [i for i in agg.placed_cols if i not in current]
        hot = {w for i in unplaced for w, _k in enc.options(i)} if round_no == 2 else set()
        if round_no == 2 and not unplaced:
            break
        restricted = mdl.model.clone()
        for i, j in agg.keep.items():
            if current.get(i) == agg.kept_choice[i] and current[i][0] not in hot:
                restricted.add(restricted.get_bool_var_from_proto_index(mdl.var(j).index) == 1)
        restricted.clear_hints()
        mdl.hint(restricted, current)
        restricted.maximize(mdl.placed * (len(agg.keep) + 1) + mdl.kept)
        left = deadline - clock.now()
        solver = new_solver(config, max(0.01, left / (3 - round_no)))
        status = run_search(solver, restricted, stop, f"re-solve: keep round {round_no}", t0)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        current = best = mdl.allocation(solver)
    stats["keep_first_seconds"] = round(clock.now() - t0, 3)
    return best


def warm_start(enc: Encoded, deadline: float, stats: dict[str, Any],
               keep: dict[int, Choice], kept: dict[int, Choice] | None = None
               ) -> tuple[dict[int, Choice] | None, FlowRelaxation]:
    """The best of quick allocations (greedy, deferred acceptance, flow-repaired, and for a
    re-solve the earlier placements kept), and the flow relaxation.

    Best means most placed, then (re-solve) most kept, then least rank cost. None when none
    honours every lock (then CP-SAT decides whether the locks conflict).
    """
    greedy, failed_locks = serial_dictatorship(enc)
    proposals = deferred_acceptance(enc).chosen
    clock.charge(QUICK_SECONDS_PER_STUDENT * enc.n_students)
    relax, repaired, _ = flow_allocation(enc, deadline)
    stats["greedy_placed"] = len(greedy) if not failed_locks else None
    stats["da_placed"] = None if proposals is None else len(proposals)
    stats["flow_placed"] = None if repaired.chosen is None else len(repaired.chosen)
    candidates = ([] if failed_locks else [greedy]) + (
        [] if repaired.chosen is None else [repaired.chosen]) + (
        [] if proposals is None else [proposals])
    if kept is not None:
        candidates.append(kept)
    if not candidates:
        return None, relax

    def key(ch: dict[int, Choice]) -> tuple[int, int, int]:
        n_kept = sum(1 for i, c in ch.items() if keep.get(i) == c)
        return len(ch), n_kept, -enc.rank_cost(ch)

    return max(candidates, key=key), relax


def quick_start(enc: Encoded, time_limit_s: float, stats: dict[str, Any], *,
                     quick_share: float, moves_share: float,
                     stop: Callable[[], bool] | None = None
                     ) -> tuple[dict[int, Choice] | None, FlowRelaxation, int]:
    """The best quick allocation (:func:`warm_start`, given ``quick_share`` of the time limit
    for the flow repair), with augmenting moves (``moves_share`` of it) while it places fewer
    than the flow relaxation allows, then the groups and minimum intakes kept
    (:func:`~matcher.solvers.rules.enforce`, which the moves do not see; ``stop`` ends it
    early, the rules still held). Returns it (None when none honours the locks), the flow
    relaxation and the most that can be placed (``min(placeable, the flow's maximum)``)."""
    warm, relax = warm_start(enc, clock.now() + quick_share * time_limit_s, stats, {})
    most = min(enc.n_placeable, relax.placed_ub)
    if warm is not None:
        if len(warm) < most:
            warm = place_unplaced(enc, warm, clock.now() + moves_share * time_limit_s)
        warm = enforce(enc, warm, stop)
    return warm, relax, most
