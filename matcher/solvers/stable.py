r"""``cpsat --stable``: the best allocation with no blocking pair, proven level by level.

Among the allocations that keep every hard rule *and* leave no blocking pair (justified envy,
the checker's default definition, :mod:`matcher.fairness`: mentors, supervisors, locks, ties,
vetoes and split practices respected), find the best by the default lexicographic objective
(placed, then rank cost, then pair weight). The model is :mod:`matcher.solvers.stable_model`.

Warm start
    Deferred acceptance (:mod:`matcher.solvers.da`), score first
    (:func:`matcher.solvers.greedy.serial_dictatorship`, stable whenever the workstations rank
    by priority alone) and then also the two-pass serial allocations
    (:mod:`matcher.solvers.stable_serial`): the best of those with no blocking pair
    (:func:`matcher.solvers.stable_check.blocking`) is the first incumbent.

Levels
    1. maximise placed; 2. with placed fixed, minimise the rank cost; 3. with both fixed,
    maximise the pair weight (when the scenario rewards pairs). Each stage is warm-started
    with the previous one's solution. When no warm start is stable, stage 1 first searches
    for any stable allocation (or a proof that none exists) with all the time left, then
    maximises with half of what is left, like every later stage. Bounds also take the flow
    relaxation's (every stable allocation is an allocation). Status: OPTIMAL when levels 1
    and 2 are proven (level 3: ``stats["pair_weight_proven"]``); FEASIBLE when a stage stopped
    at its time limit; INFEASIBLE when no allocation without a blocking pair exists (the
    message says whether locks are to blame); UNKNOWN when nothing was found in time.

Size
    The model has a column per student, option and mentor. Above :data:`MODEL_LIMIT` columns
    (a province) it is not built: the result is the best stable warm start,
    FEASIBLE, with the bounds of every allocation (the flow relaxation) as the gap to the best
    stable one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ortools.sat.python import cp_model

from ..encoding import PAIR_SCALE, Encoded, encode
from ..model import Problem
from ..model.result import Result, Status
from . import clock
from .base import Choice, SolverConfig, build_result, lock_rows
from .cpsat_model import NAME, build_model, conflicting_locks
from .cpsat_run import (
    Stop,
    hint_from_solver,
    new_solver,
    run_search,
    stop_on_signals,
    value,
    wall,
)
from .da import deferred_acceptance
from .flow import relaxation
from .greedy import serial_dictatorship
from .stable_check import blocking, complete
from .stable_model import StableModel, allocation_of, build_stable_model, hint_allocation
from .stable_serial import serial_stable

STABLE_NOTE = "stable: no student and workstation prefer each other (no blocking pair)"

MODEL_LIMIT = 100_000
"""The most option columns (student, option, mentor) the stable model is built for."""


def model_size(enc: Encoded, limit: int = MODEL_LIMIT) -> int:
    """How many option columns the stable model would have (counting stops past ``limit``)."""
    total = 0
    for i in range(enc.n_students):
        total += sum(len(enc.mentors_for(w, enc.st_disc[i])) for w, _k in enc.options(i))
        if total > limit:
            break
    return total


def unsupported_rules(problem: Problem) -> list[str]:
    """The rules in ``problem`` that this model does not state: those that couple students
    (groups kept together, quotas) or open a workstation (minimum intakes)."""
    p = problem
    out = []
    if p.groups:
        out.append("groups")
    if any(w.min_intake > 1 for w in p.workstations):
        out.append("minimum intakes")
    if p.quotas:
        out.append("group quotas")
    return out


def solve_stable(problem: Problem, config: SolverConfig) -> Result:
    """The best allocation with no blocking pair, exactly with CP-SAT, level by level.

    Parameters
    ----------
    problem
        The validated problem.
    config
        Time limit (for all stages together), seed, workers, logging. The same input, seed
        and workers give the same allocation (CP-SAT's deterministic interleaved search).

    Returns
    -------
    Result
        OPTIMAL when levels 1 and 2 are proven (level 3 in the stats); FEASIBLE when a stage
        stopped at its time limit, or for a province (a stable warm start with the gap to the
        bounds of every allocation); INFEASIBLE when no allocation keeping every rule is free
        of blocking pairs (the message says whether locks are to blame); UNKNOWN when nothing
        was found in time. Stats hold ``blocking_pair_constraints``.

    Raises
    ------
    ValueError
        With option ``previous`` (a re-solve keeping earlier placements is not offered here).
    """
    if config.options.get("previous"):
        raise ValueError("the stable mode does not keep earlier placements (option "
                         "'previous'); re-solve without --stable")
    rules = unsupported_rules(problem)
    if rules:
        enc = encode(problem)
        return build_result(enc, NAME, Status.UNKNOWN, {}, config, 0.0, stats={
            "engine": "stable model", "unsupported_rules": rules}, message=(
            f"the stable mode does not hold {', '.join(rules)} yet (its blocking pairs are "
            "defined without them); solve without --stable"))
    with stop_on_signals() as stop:
        return _solve(problem, config, stop)


def _infeasible(mdl: StableModel, config: SolverConfig, deadline: float, stats: dict[str, Any],
                t0: float) -> Result:
    """No stable allocation: say whether the locks alone conflict, or with stability, or
    neither (then none exists at all)."""
    enc = mdl.enc
    left = max(1.0, deadline - clock.now())
    culprits = conflicting_locks(build_model(enc), config, left) if mdl.lock_lits else []
    if culprits:
        msg = (f"the locks cannot all be honoured; conflicting locks: {lock_rows(enc, culprits)}"
               ". Remove or change one of these locks")
    else:
        culprits = conflicting_locks(mdl, config, left) if mdl.lock_lits else []
        if culprits:
            msg = (f"no allocation without a blocking pair honours the locks in "
                   f"{lock_rows(enc, culprits)}; remove or change one of them, or solve "
                   "without --stable")
        else:
            msg = ("no stable allocation exists: every allocation that keeps the rules leaves a "
                   "student and a workstation that could take it and prefer each other (a "
                   "blocking pair); solve without --stable for the best allocation, and see "
                   "matcher check --stability")
    stats["conflicting_locks"] = [enc.student_ids[i] for i in culprits]
    return build_result(enc, NAME, Status.INFEASIBLE, {}, config, clock.now() - t0,
                        stats=stats, message=msg)


def _better(enc: Encoded, a: dict[int, Choice], b: dict[int, Choice] | None) -> bool:
    """Whether allocation ``a`` is better than ``b`` by (placed, rank cost)."""
    return b is None or (len(a), -enc.rank_cost(a)) > (len(b), -enc.rank_cost(b))


def warm_starts(enc: Encoded, stats: dict[str, Any]) -> dict[int, Choice] | None:
    """The best stable one of deferred acceptance, score first and, when every workstation
    ranks by the common priority, the two-pass serial allocations
    (:func:`stable_serial.serial_stable`, off-list students last or in turn), each completed
    with the students it left out where there is room (:func:`stable_check.complete`), or
    None. ``stats["warm_start"]`` names the one taken."""
    best: dict[int, Choice] | None = None
    sd, failed = serial_dictatorship(enc)
    starts: list[tuple[str, Callable[[], dict[int, Choice] | None]]] = [
        ("da", lambda: deferred_acceptance(enc).chosen),
        ("score_first", lambda: None if failed else sd),
        ("serial", lambda: serial_stable(enc)),
        ("serial_in_turn", lambda: serial_stable(enc, off_list_last=False))]
    for name, make in starts:
        chosen = make()
        if chosen is None:
            continue
        pairs = blocking(enc, chosen, first_only=True)
        stats[f"{name}_placed"], stats[f"{name}_stable"] = len(chosen), not pairs
        if not pairs:
            chosen = complete(enc, chosen)
            stats[f"{name}_completed"] = len(chosen)
            if _better(enc, chosen, best):
                best = chosen
                stats["warm_start"] = name
    return best


def _solve(problem: Problem, config: SolverConfig, stop: Stop) -> Result:
    t0 = clock.now()
    deadline = t0 + config.time_limit_s
    enc = encode(problem)
    if model_size(enc) > MODEL_LIMIT:
        return _province(enc, config, t0)
    mdl = build_stable_model(enc)
    cp = mdl.model
    stats: dict[str, Any] = {
        "stable": True, "variables": len(cp.proto.variables),
        "constraints": len(cp.proto.constraints),
        "blocking_pair_constraints": len(mdl.clauses),
        "full_indicators": len(mdl.full_w) + len(mdl.full_m),
        "prefix_sums": len(mdl.prefix_w) + len(mdl.prefix_m),
        "build_seconds": round(clock.now() - t0, 3)}

    # Bounds of every allocation hold for the stable ones; the warm starts as the hint.
    relax = relaxation(enc)
    quick_ub = min(len(mdl.agg.placed_cols), relax.placed_ub)
    warm = warm_starts(enc, stats)
    if warm is not None:
        stats["warm_violated_clauses"] = hint_allocation(mdl, warm)  # 0: the clauses are exact

    # Stage 1: maximise the number placed.
    best: cp_model.CpSolver | None = None
    if warm is not None and len(warm) >= quick_ub:
        placed, placed_ub, proven = len(warm), quick_ub, True
        stats["stage1_seconds"] = 0.0
    else:
        cp.maximize(mdl.placed)
        st1, found = cp_model.UNKNOWN, None
        if warm is None:
            # No stable allocation known: find one (or prove there is none) with all the time
            # left, so that the time split below never cuts the search for a first one short.
            first = new_solver(config, deadline - clock.now())
            first.parameters.stop_after_first_solution = True
            st1 = run_search(first, cp, stop, "stable stage 1: a first stable allocation", t0)
            stats["first_solution_seconds"] = wall(first)
            if st1 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                found = first
                hint_from_solver(cp, first)
        if st1 == cp_model.FEASIBLE or warm is not None:
            solver = new_solver(config, (deadline - clock.now()) / 2)
            st = run_search(solver, cp, stop, "stable stage 1: students placed", t0)
            stats["stage1_seconds"] = wall(solver)
            if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                st1, found = st, solver
        if st1 == cp_model.INFEASIBLE:
            return _infeasible(mdl, config, deadline, stats, t0)
        if found is None:
            why = f"stopped by {stop.signal_name}" if stop.requested else "time limit reached"
            if warm is not None:
                return build_result(enc, NAME, Status.FEASIBLE, warm, config,
                                    clock.now() - t0, placed_upper_bound=quick_ub,
                                    rank_cost_lower_bound=relax.rank_lb_at(len(warm)),
                                    stats=stats, message=f"{STABLE_NOTE}; {why} before the "
                                    "search got going: this is the warm start's allocation")
            return build_result(enc, NAME, Status.UNKNOWN, {}, config, clock.now() - t0,
                                stats=stats, message=f"{why}: no stable allocation found, and "
                                "none proven impossible")
        placed = value(found, mdl.placed)
        placed_ub = min(math.floor(found.best_objective_bound + 1e-6), quick_ub)
        proven = st1 == cp_model.OPTIMAL or placed == placed_ub
        best = found
    cp.add(mdl.placed == placed)

    # Stage 2: with that many placed, minimise the rank cost.
    if best is not None:
        hint_from_solver(cp, best)
    cp.minimize(mdl.rank_cost)
    share = 0.7 if enc.use_pairs else 1.0
    solver2 = new_solver(config, (deadline - clock.now()) * share)
    st2 = run_search(solver2, cp, stop, "stable stage 2: rank cost", t0)
    stats["stage2_seconds"] = wall(solver2)
    rank_lb: int | None = relax.rank_lb_at(placed)
    if st2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = solver2
        rank_lb = max(math.ceil(solver2.best_objective_bound - 1e-6), relax.rank_lb_at(placed))
        proven = proven and st2 == cp_model.OPTIMAL
    else:
        proven = False

    # Stage 3: with both fixed, maximise the weight of rewarded supervisor-mentor pairs.
    if enc.use_pairs and not isinstance(mdl.pair_weight, int) and best is solver2:
        hint_from_solver(cp, solver2)
        cp.add(mdl.rank_cost == round(solver2.objective_value))
        cp.maximize(mdl.pair_weight)
        solver3 = new_solver(config, deadline - clock.now())
        st3 = run_search(solver3, cp, stop, "stable stage 3: pair weight", t0)
        stats["stage3_seconds"] = wall(solver3)
        if st3 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = solver3
            stats["pair_weight_upper_bound"] = solver3.best_objective_bound / PAIR_SCALE
            stats["pair_weight_proven"] = st3 == cp_model.OPTIMAL
        else:
            stats["pair_weight_proven"] = False

    chosen = allocation_of(mdl, best) if best is not None else dict(warm or {})
    if stop.requested:
        proven = False
        note = f"; stopped by {stop.signal_name}: the best stable allocation found so far"
    else:
        note = "; time limit reached before levels 1 and 2 were proven optimal" if not proven \
            else "" if stats.get("pair_weight_proven", True) else (
                "; levels 1 and 2 proven optimal, the pair weight (level 3) is not proven")
    return build_result(enc, NAME, Status.OPTIMAL if proven else Status.FEASIBLE, chosen,
                        config, clock.now() - t0, placed_upper_bound=placed_ub,
                        rank_cost_lower_bound=rank_lb, stats=stats, message=STABLE_NOTE + note)


def _province(enc: Encoded, config: SolverConfig, t0: float) -> Result:
    """Too large for the model: the best stable warm start,
    with the bounds of every allocation (the flow relaxation) as the gap to the best stable.

    Score first is stable whenever every workstation ranks by priority (no ``rankings.csv``):
    each student, in priority order, takes its best choice still possible, so a workstation it
    prefers could not take it then, every holder being before it (or locked), and later
    students only fill places. Deferred acceptance or the serial allocations
    (:mod:`matcher.solvers.stable_serial`) often place more.
    """
    stats: dict[str, Any] = {"stable": True, "engine": "warm starts (model too large)",
                             "model_columns_over": MODEL_LIMIT}
    chosen = warm_starts(enc, stats)
    if chosen is None:
        return build_result(enc, NAME, Status.UNKNOWN, {}, config, clock.now() - t0,
                            stats=stats, message=(
                                f"the stable model would have more than {MODEL_LIMIT:,} "
                                "columns, and none of its warm starts (deferred acceptance, "
                                "score first, the serial allocations) is stable here: solve "
                                "without --stable, or split the scenario"))
    relax = relaxation(enc)
    return build_result(enc, NAME, Status.FEASIBLE, chosen, config, clock.now() - t0,
                        placed_upper_bound=relax.placed_ub,
                        rank_cost_lower_bound=relax.rank_lb_at(len(chosen)), stats=stats,
                        message=(f"{STABLE_NOTE}; too large for the stable model: the best "
                                 "stable warm start, the bounds are those of every "
                                 "allocation"))
