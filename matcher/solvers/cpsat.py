"""The exact solver: the allocation proven level by level, choosing the engine for each level.

Levels (lexicographic): 1. maximise placed; 2. with placed fixed, minimise rank cost; 3. with
both fixed, maximise the pair weight. Each stage is warm-started with the previous solution.
Status OPTIMAL means levels 1 and 2 are proven (the result's contract); whether level 3 is
proven is in the stats (``pair_weight_proven``, ``pair_weight_upper_bound``).

Engines
    Where it applies, levels 1-2 go to the slot model (:mod:`matcher.solvers.slot_solve`: a
    compact exact MILP whose LP is a min-cost flow, solved by HiGHS with parity cuts, fix and
    solve and neighbourhood searches), and level 3 to HiGHS's branch and cut on the aggregated
    model (:func:`matcher.solvers.milp.refine_levels`) where that fits (:func:`_by_slots`,
    :data:`USE_SLOT_MODEL`). Otherwise (re-solves, locks naming a mentor or a start,
    supervisor limits that may bind) the aggregated model (:mod:`matcher.solvers.aggregate`)
    is built for CP-SAT (:mod:`matcher.solvers.cpsat_model`): level 1 is CP-SAT's (skipped when
    the warm start already places the proven maximum); levels 2 and 3 go first to HiGHS's
    branch and cut on the same model when it has between :data:`LP_MIN_VARIABLES` and
    :data:`LP_MAX_VARIABLES` variables: the LP relaxation is nearly tight here (demo: 4,820
    against the optimum 4,844) and HiGHS's cuts close the rest, while on two cores CP-SAT's
    search hardly moves from a hint and its bound closes slowly. CP-SAT then searches from the
    best allocation known for whatever is not yet proven, and the bounds combine. Above
    :data:`matcher.solvers.cpsat_province.MAX_CHOICES` no model is built at all
    (:mod:`matcher.solvers.cpsat_province`). Option ``stable``: :mod:`matcher.solvers.stable`.

Warm start and bounds: stage 1 starts from the best quick allocation, improved by a CP-SAT
neighbourhood (:mod:`matcher.solvers.cpsat_warm`). On two cores CP-SAT's own bounds are weak
on large models, so the reported bounds also take the flow relaxation's (``placed_upper_bound``:
the fewest of CP-SAT's bound, the number of students with any allowed option and the maximum
flow; ``rank_cost_lower_bound``: the larger of CP-SAT's and the flow's).

Re-solve (option ``previous``, see :mod:`matcher.resolve`): a ``keep[i]`` option fixes student
``i``'s earlier placement exactly (its start group has the earlier block and mentor, its
supervisor group the earlier supervisor). A level "keep the most" comes between levels 1 and 2;
stage 1 maximises ``placed * (K + 1) + kept`` (K keepable students), which is exactly
lexicographic, after two small restricted solves that keep every earlier placement that still
fits (:func:`matcher.solvers.cpsat_warm.keep_first`).

Interruption: SIGINT or SIGTERM stops the running search (:class:`~matcher.solvers.cpsat_run.Stop`);
the best allocation found so far is returned with status FEASIBLE, so ``matcher solve`` still
writes a complete result. A time limit that ends stage 1 before CP-SAT reports anything returns
the warm start.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from ortools.sat.python import cp_model

from .. import progress
from ..encoding import PAIR_SCALE, Encoded, encode
from ..model import Problem
from ..model.result import Result, Status
from . import clock, cpsat_rank, exact_flow, rank_levels, rules_slots, slots
from . import cpsat_province as province
from .aggregate import choice_count
from .base import Choice, SolverConfig, build_result, higher, lock_rows
from .cpsat_model import NAME, CpAggregated, build_model, conflicting_locks
from .cpsat_rank import ranked_by_sum, relaxed_bounds, solve_ranked
from .cpsat_run import (
    Stop,
    hint_from_solver,
    new_solver,
    run_search,
    stop_on_signals,
    value,
    wall,
)
from .cpsat_warm import keep_first, keeping, place_more, quick_start, warm_start
from .flow import relaxation
from .milp import Refined, refine_levels, solve_encoded
from .milp_model import ASSIST_GRACE_S, ceil_bound, run_levels
from .milp_model import build_model as milp_build_model  # (cpsat_model's build_model too)
from .moves import place_unplaced
from .quota_repair import hold_quotas, repair
from .rank_slots import solve_profile, with_slot_bound
from .rank_threshold import solve_minimax
from .relaxation import Relaxation
from .rules import enforce
from .stable import solve_stable

USE_SLOT_MODEL = True
"""Solve levels 1-2 by the slot model where it applies (:mod:`matcher.solvers.slot_solve`); the
CP-SAT model then serves level 3, re-solves, stable allocations and the problems the slot model
does not cover. Tests of that path switch this off."""

LP_SHARE = 0.95
"""Share of the time left after level 1 that HiGHS's branch and cut may use (levels 2-3).
CP-SAT after HiGHS rarely improves on this model, so HiGHS gets nearly all of it: on the demo
the pair weight reached 106 (optimum 108) with 0.95, against 23 with 0.75 (same minute)."""
LP_MIN_VARIABLES = 500
"""Smaller models stay with CP-SAT alone: it proves them in milliseconds, less than a HiGHS
helper process takes to start. (At 800-1,600 variables HiGHS already wins: generated
120-200-student cohorts, levels 2-3 in 0.3-0.6 s against 6-30 s for CP-SAT alone.)"""
LP_MAX_VARIABLES = 100_000
"""Largest model (CP-SAT variables) given to HiGHS at level 2. Measured on two cores: the demo
(27,000) is proven in about 20 s; tier M (20,000 students, ~10x larger) gave HiGHS neither an
allocation nor a bound in 120 s, so larger models leave level 2 to the warm start and CP-SAT."""


MODEL_SECONDS_PER_VARIABLE = 50e-6
"""Deterministic cost model (:mod:`matcher.solvers.clock`): building the aggregated CP-SAT
model, per variable (the demo's 27,000 in about a second)."""


SLOT_MIN_CHOICES = LP_MIN_VARIABLES
"""Problems with fewer choice columns than this skip the slot model: CP-SAT proves them in
process in milliseconds, while the slot model's HiGHS helper process takes about a second of
CPU to start (more on a loaded machine), so a trivial problem could lose its proof to the
helper's start-up under a short time limit. Tests of the slot path set this to 0."""


SUM_START_SHARE = 0.25
"""Share of the time limit a profile or minimax scenario first gives the rank sum's engines, for
a first incumbent (:func:`_solve`)."""
THRESHOLD_MIN_CHOICES = cpsat_rank.CP_SAT_MAX_CHOICES
"""From this many choice columns ``objective.rank: minimax`` goes to the threshold search on the
worst rank (:mod:`matcher.solvers.rank_threshold`); smaller problems stay with CP-SAT level by
level, in process (:func:`matcher.solvers.cpsat_rank.solve_by_cp_sat`)."""
QUOTA_FREE_SHARE = 0.3
"""Share of the time limit a scenario with group quotas first gives the optimum without them
(:func:`_with_quotas`: a start and bounds; the demo's levels 1-2 are proven in 5-13 s)."""
QUOTA_BOUND_SHARE = 0.15
"""Share of the time limit kept, after HiGHS's levels, for the LP bound on the rank cost that
counts the quotas (:func:`_quota_rank_bound`)."""
PROFILE_BOUND_SHARE = 0.15
"""Above :data:`RANKED_MAX_CHOICES`, the share of the time limit kept from the rank sum's engines
for the profile's first-choice bound by the slot model's LP
(:func:`matcher.solvers.rank_slots.first_choices_bound`: about 37 s of CPU at tier XL)."""
RANKED_MAX_CHOICES = province.MAX_CHOICES
"""Above this many choice columns ``objective.rank`` profile or minimax is not modelled: the
allocation comes from the rank sum's engines (:func:`matcher.solvers.cpsat_rank.ranked_by_sum`)."""


def _too_small_for_slots(enc: Encoded) -> str:
    """Why the slot model is not used for a small problem (empty when it is large enough)."""
    if choice_count(enc, enough=SLOT_MIN_CHOICES) < SLOT_MIN_CHOICES:
        return f"small problem (under {SLOT_MIN_CHOICES} choices): CP-SAT in process"
    return ""


def _lp_fits(mdl: CpAggregated) -> bool:
    """Whether level 2 goes to HiGHS first (see :data:`LP_MAX_VARIABLES`)."""
    size = len(mdl.model.proto.variables)
    return not mdl.agg.keep and LP_MIN_VARIABLES <= size <= LP_MAX_VARIABLES


def _refine_by_lp(enc: Encoded, placed: int, start: dict[int, Choice], config: SolverConfig,
                  deadline: float, stop: Stop, stats: dict[str, Any], t0: float) -> Refined:
    """Levels 2 and 3 by HiGHS (:func:`matcher.solvers.milp.refine_levels`) from ``start``.

    Why: the model's LP relaxation is nearly tight and HiGHS's cuts close the rest, while on
    two cores CP-SAT's search hardly moves from its hint and its bound closes slowly (measured
    in ``benchmarks/RESULTS.md``).
    """
    progress.update(elapsed=clock.now() - t0, note="stages 2-3 (HiGHS branch and cut)")
    outcome = refine_levels(enc, placed, start, config, deadline, lambda: stop.requested)
    best = None if outcome.chosen is None else enc.rank_cost(outcome.chosen)
    stats.update(lp_seconds=outcome.seconds, lp_rank_cost=best, lp_rank_bound=outcome.rank_lb,
                 lp_rank_proven=outcome.rank_proven, lp_pairs_proven=outcome.pairs_proven)
    if outcome.message:
        stats["lp_note"] = outcome.message
    if best is not None and outcome.rank_lb is not None:
        progress.update(elapsed=clock.now() - t0, best=best, bound=outcome.rank_lb,
                        gap=(best - outcome.rank_lb) / max(1, best))
    return outcome


def _by_slots(enc: Encoded, config: SolverConfig, t0: float, stop: Stop) -> Result | None:
    """Levels 1-2 by the slot model (:mod:`matcher.solvers.slots`), then level 3 by HiGHS
    (:func:`matcher.solvers.milp.refine_levels`) where the aggregated model fits."""
    deadline = t0 + config.time_limit_s
    result = exact_flow.solve_by_parts(enc, config, t0,
                                       lambda: stop.signal_name if stop.requested else "", NAME)
    if result is None:
        return None
    if (not enc.use_pairs or stop.requested or not result.placements
            or deadline - clock.now() < 0.5 or choice_count(enc, enough=province.MAX_CHOICES + 1)
            > province.MAX_CHOICES):
        if enc.use_pairs and result.placements and not stop.requested:
            # Level 3 not searched (too large for its model, or no time left): say so.
            message = result.message or ("levels 1 and 2 proven optimal; the pair weight "
                                         "(level 3) is not proven")
            return replace(result, message=message,
                           stats={**result.stats, "pair_weight_proven": False})
        return result
    current = enc.choices_from_ids({p.student_id: (p.workstation_id, p.mentor_id,
                                                   p.supervisor_id, p.start_term)
                                    for p in result.placements})
    stats = dict(result.stats)
    progress.update(elapsed=clock.now() - t0, note="stage 3 (HiGHS branch and cut)")
    outcome = refine_levels(enc, len(current), current, config, deadline,
                            lambda: stop.requested, pairs_only=True)
    stats.update(stage3_seconds=outcome.seconds, pair_weight_proven=outcome.pairs_proven)
    if outcome.pair_weight_ub is not None:
        stats["pair_weight_upper_bound"] = outcome.pair_weight_ub
    better = outcome.chosen
    if better is None or len(better) != len(current) or (
            enc.rank_cost(better) > enc.rank_cost(current)):
        return replace(result, stats=stats)
    message = result.message
    if result.status == Status.OPTIMAL and not stats.get("pair_weight_proven"):
        message = "levels 1 and 2 proven optimal; the pair weight (level 3) is not proven"
    if stop.requested:
        message = f"stopped by {stop.signal_name}: the best allocation found so far"
    status = result.status if not stop.requested else Status.FEASIBLE
    return build_result(enc, NAME, status, better, config, clock.now() - t0,
                        placed_upper_bound=result.placed_upper_bound,
                        rank_cost_lower_bound=result.rank_cost_lower_bound, stats=stats,
                        message=message)


def extra_segments(enc: Encoded, chosen: dict[int, Choice]) -> int:
    """Blocks beyond the first, summed over the placed students (issue 28's third level)."""
    return sum(enc.extra_segments(c[3]) for c in chosen.values())


def _fewest_segments(mdl: CpAggregated, current: dict[int, Choice], config: SolverConfig,
                     deadline: float, stop: Stop, stats: dict[str, Any], t0: float
                     ) -> dict[int, Choice] | None:
    """The level after the rank cost: with as many placed and no more rank cost than
    ``current``, the fewest extra segments, by CP-SAT from ``current`` (half the time left
    when pairs follow); the better allocation, or None."""
    cp = mdl.model
    cp.add(mdl.placed == len(current))
    cp.add(mdl.rank_cost <= mdl.enc.rank_cost(current))
    mdl.hint(cp, current)
    cp.minimize(mdl.extra_segments)
    share = 0.5 if mdl.enc.use_pairs else 1.0
    solver = new_solver(config, (deadline - clock.now()) * share)
    st = run_search(solver, cp, stop, "fewest extra segments", t0)
    stats["segments_seconds"] = wall(solver)
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        stats["extra_segments_proven"] = False
        return None
    stats["extra_segments_lower_bound"] = math.ceil(solver.best_objective_bound - 1e-6)
    stats["extra_segments_proven"] = st == cp_model.OPTIMAL
    found = mdl.allocation(solver)
    return found if extra_segments(mdl.enc, found) <= extra_segments(mdl.enc, current) else None


def _rules_by_highs(enc: Encoded, config: SolverConfig, t0: float, stop: Stop, why: str
                    ) -> Result:
    """Levels 1-2 (then the extra segments) by HiGHS's branch and cut on the rules' slot
    model (:mod:`matcher.solvers.rules_slots`), from the best quick allocation, for the rules
    the slot model cannot hold (issue 28: minimum intakes, groups, split practice). Why HiGHS:
    the opening columns of minimum intakes and the group columns leave CP-SAT's search from a
    hint stuck (a generated 300-student cohort: CP-SAT placed 265 in 30 s where HiGHS proved
    275), while HiGHS's LP with cuts closes them. Group quotas (issue 29: from a quick
    allocation made to keep the hard quotas, :func:`~matcher.solvers.quota_repair.hold_quotas`),
    and whatever that model finds nothing
    for (e.g. conflicting locks), go to every level on the aggregated model
    (:func:`matcher.solvers.milp.solve_encoded`). The bounds combine with the flow
    relaxation's (which drops these rules, so it stays valid)."""
    stats: dict[str, Any] = {"engine": "slot model with the rules (HiGHS)",
                             "engine_why": f"slot model not used: {why}"}
    progress.update(elapsed=clock.now() - t0, note="quick allocations")
    warm, relax, quick_ub = quick_start(enc, config.time_limit_s, stats, quick_share=0.03,
                                        moves_share=0.03, stop=lambda: stop.requested)
    if warm is not None:
        stats["warm_placed"] = len(warm)
        warm = hold_quotas(enc, warm)  # issue 29: the quick allocations do not see quotas
    got = None
    if not enc.has_quotas:
        progress.update(elapsed=clock.now() - t0, note="the rules' slot model (HiGHS)")
        got = rules_slots.solve_levels(enc, config, t0 + config.time_limit_s,
                                       lambda: stop.requested, stats, start=warm)
    chosen: dict[int, Choice] = {}
    found_ub: int | None = None
    found_lb: int | None = None
    found_msg, found_placed = "", -1
    if got is None and (enc.has_quotas or stats.get("stage1_status") == "Infeasible"
                        or clock.now() - t0 < 0.5 * config.time_limit_s):
        # Quotas, or nothing found: the locks may conflict (the aggregated model isolates
        # which), or HiGHS failed early.
        stats["engine"] = "aggregated model (HiGHS, every level)"
        progress.update(elapsed=clock.now() - t0, note="every level (HiGHS branch and cut)")
        res = solve_encoded(enc, config, t0, start=warm, name=NAME,
                            stop=lambda: stop.requested, stats=stats)
        if res.status in (Status.OPTIMAL, Status.INFEASIBLE):
            return res
        if res.placements:
            chosen = enc.choices_from_ids({p.student_id: (p.workstation_id, p.mentor_id,
                                                          p.supervisor_id, ";".join(p.terms))
                                           for p in res.placements})
        found_ub, found_lb, found_msg = (res.placed_upper_bound, res.rank_cost_lower_bound,
                                         res.message)
        found_placed = res.placed
    elif got is not None:
        chosen = got.chosen
        if got.failed:  # students left out where a group could not start with them
            chosen = enforce(enc, place_unplaced(enc, chosen, clock.now() + 0.02 * (
                config.time_limit_s)), lambda: stop.requested)
        found_ub, found_lb, found_msg = got.placed_ub, got.rank_lb, got.message
        found_placed = len(got.chosen)
        if got.proven and not stop.requested:
            stats["pair_weight_proven"] = False
            return build_result(enc, NAME, Status.OPTIMAL, chosen, config, clock.now() - t0,
                                placed_upper_bound=got.placed_ub,
                                rank_cost_lower_bound=got.rank_lb, stats=stats, message=(
                                    "levels 1 and 2 proven optimal; the pair weight (level 3)"
                                    " is not proven"))
    if warm is not None and (len(warm), -enc.rank_cost(warm)) > (
            len(chosen), -enc.rank_cost(chosen)):
        chosen = warm  # HiGHS found nothing better in the time
    placed_ub = min(quick_ub, found_ub if found_ub is not None else quick_ub)
    rank_lb: int | None = relax.rank_lb_at(len(chosen))
    if got is not None:  # (its bound holds at any number placed)
        rank_lb = higher(rank_lb, got.rank_lb_at(len(chosen)))
    elif found_placed == len(chosen):
        rank_lb = higher(rank_lb, found_lb)
    proven = (not stop.requested and len(chosen) >= placed_ub and rank_lb is not None
              and rank_lb >= enc.rank_cost(chosen))
    message = "" if proven else (f"stopped by {stop.signal_name}: the best allocation found so "
                                 "far" if stop.requested else found_msg or "time limit "
                                 "reached before levels 1 and 2 were proven optimal")
    return build_result(enc, NAME, Status.OPTIMAL if proven else Status.FEASIBLE, chosen,
                        config, clock.now() - t0, placed_upper_bound=placed_ub,
                        rank_cost_lower_bound=rank_lb, stats=stats, message=message)


def _with_quotas(problem: Problem, enc: Encoded, config: SolverConfig, t0: float, stop: Stop
                 ) -> Result:
    """Group quotas (issue 29): only the aggregated model states them (the slot model's Hall
    rows, the flows and the province path do not), so every level goes to HiGHS on it
    (:func:`matcher.solvers.milp.solve_encoded`, whose stage bounds count the quota rows). Its
    start: the optimum without the quotas (and without the pairs' level), found by the usual
    engines in :data:`QUOTA_FREE_SHARE` of the time, mended to keep the hard quotas
    (:func:`~matcher.solvers.quota_repair.repair`: moves and exchanges, students taken out
    only as a last resort). That optimum also bounds the quotas' one: never more placed, and
    with as many placed never less rank cost (the quotas only take allocations away)."""
    why = "group quotas (quotas.csv) bound shares of the placed students"
    free = problem.model_copy(update={"quotas": (), "pairs": ()})
    free_limit = QUOTA_FREE_SHARE * config.time_limit_s
    # (the LP bound with the quota rows in the HiGHS helper while the free optimum is sought)
    lp, res0 = clock.parallel(lambda: _quota_lp(enc, config, t0 + free_limit, stop),
                              lambda: _solve(free, replace(config, time_limit_s=free_limit), stop))
    if not res0.placements or stop.requested:
        return _rules_by_highs(enc, config, t0, stop, why)
    start = repair(enc, enc.choices_from_ids({p.student_id: (
        p.workstation_id, p.mentor_id, p.supervisor_id, ";".join(p.terms))
        for p in res0.placements}))
    stats: dict[str, Any] = {"engine": "aggregated model (HiGHS, every level)",
                             "engine_why": f"slot model not used: {why}",
                             "free_placed": res0.placed, "free_rank_cost": res0.rank_cost,
                             "free_status": res0.status.value,
                             "repaired_placed": None if start is None else len(start)}
    progress.update(elapsed=clock.now() - t0, note="every level (HiGHS branch and cut)")
    res = solve_encoded(enc, replace(config, time_limit_s=(1 - QUOTA_BOUND_SHARE) * (
        config.time_limit_s)), t0, start=start, name=NAME, stop=lambda: stop.requested,
        stats=stats)
    if res.status == Status.INFEASIBLE or (res.status == Status.OPTIMAL and (
            res.placed_upper_bound or 0) <= res0.placed):
        return res
    chosen = enc.choices_from_ids({p.student_id: (p.workstation_id, p.mentor_id,
                                                  p.supervisor_id, ";".join(p.terms))
                                   for p in res.placements})
    if start is not None and (len(start), -enc.rank_cost(start)) > (
            len(chosen), -enc.rank_cost(chosen)):
        chosen = start  # HiGHS found nothing better in the time
    free_ub = res0.placed_upper_bound
    placed_ub = min(x for x in (res.placed_upper_bound, free_ub, enc.n_placeable)
                    if x is not None)
    rank_lb = res.rank_cost_lower_bound if res.placed == len(chosen) else None
    if (rank_levels.form(enc) == "sum" and res0.rank_cost_lower_bound is not None
            and free_ub is not None and len(chosen) == free_ub == res0.placed):
        # (the optimum without quotas places as many: its rank bound holds at that count)
        rank_lb = higher(rank_lb, res0.rank_cost_lower_bound)
    if rank_levels.form(enc) == "sum":
        rank_lb = higher(rank_lb, lp.rank_lb_at(len(chosen)))
    if (rank_levels.form(enc) == "sum" and chosen and not stop.requested
            and (rank_lb is None or rank_lb < enc.rank_cost(chosen))):
        rank_lb = higher(rank_lb, _quota_rank_bound(enc, config, len(chosen),
                                                    t0 + config.time_limit_s, stop, stats))
    proven = (not stop.requested and len(chosen) >= placed_ub and rank_lb is not None
              and rank_lb >= enc.rank_cost(chosen))
    message = "" if proven else res.message or ("time limit reached before levels 1 and 2 "
                                                "were proven optimal")
    stats = {**stats, **res.stats}
    return build_result(enc, NAME, Status.OPTIMAL if proven else Status.FEASIBLE, chosen,
                        config, clock.now() - t0, placed_upper_bound=placed_ub,
                        rank_cost_lower_bound=rank_lb, stats=stats, message=message)


def _quota_lp(enc: Encoded, config: SolverConfig, deadline: float, stop: Stop) -> Relaxation:
    """The aggregated model's LP relaxation with the quota rows, ``min rank cost - w placed``
    with ``w = K + 2`` (a placed student always pays): every allocation keeping the hard quotas
    and placing ``P`` has rank cost at least its value plus ``w P``
    (:meth:`~matcher.solvers.relaxation.Relaxation.rank_lb_at`), close to the LP's own at
    ``P`` near the LP's placed count. ``w`` small keeps it useful a few students short of it
    (:data:`~matcher.solvers.relaxation.RELAX_WEIGHT` would not)."""
    weight = enc.max_list + 2
    mdl = milp_build_model(enc, pairs=False)
    objective = mdl.rank_cost + [(j, -float(weight * c)) for j, c in mdl.placed]
    _stages, out, errors = run_levels(mdl, config, deadline, {"mode": "relax"}, None,
                                      [("min", objective)], lambda: stop.requested,
                                      ASSIST_GRACE_S)
    if not out.get("optimal"):
        return Relaxation(None, weight, message=errors or "not solved in time")
    return Relaxation(float(out["objective"]), weight)


def _quota_rank_bound(enc: Encoded, config: SolverConfig, placed: int, deadline: float,
                      stop: Stop, stats: dict[str, Any]) -> int | None:
    """A lower bound on the rank cost of any allocation placing ``placed`` students that keeps
    the hard quotas: the aggregated model's LP relaxation (quota rows included) with at least
    that many placed, by simplex in the HiGHS helper (None when not solved by ``deadline``)."""
    t = clock.now()
    mdl = milp_build_model(enc, pairs=False)
    mdl.lp.row(mdl.placed, placed, math.inf, "placed")
    _stages, out, _errors = run_levels(mdl, config, deadline, {"mode": "relax"}, None,
                                        [("min", mdl.rank_cost)], lambda: stop.requested,
                                        ASSIST_GRACE_S)
    stats["quota_lp_seconds"] = round(clock.now() - t, 3)
    return ceil_bound(float(out["objective"])) if out.get("optimal") else None


def _raise_pairs(mdl: CpAggregated, current: dict[int, Choice], config: SolverConfig,
                 deadline: float, stop: Stop, stats: dict[str, Any], t0: float
                 ) -> dict[int, Choice] | None:
    """Level 3: with as many placed and no more rank cost than ``current``, the most pair
    weight, by CP-SAT from ``current``; the better allocation (None when none was found)."""
    if isinstance(mdl.pair_weight, int):
        return None
    cp = mdl.model
    cp.add(mdl.placed == len(current))
    mdl.hint(cp, current)
    cp.add(mdl.rank_cost <= mdl.enc.rank_cost(current))
    if not isinstance(mdl.extra_segments, int):
        cp.add(mdl.extra_segments <= extra_segments(mdl.enc, current))
    cp.maximize(mdl.pair_weight)
    solver3 = new_solver(config, deadline - clock.now())
    st3 = run_search(solver3, cp, stop, "stage 3: pair weight", t0)
    stats["stage3_seconds"] = wall(solver3)
    if st3 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        stats["pair_weight_proven"] = False
        return None
    stats["pair_weight_upper_bound"] = solver3.best_objective_bound / PAIR_SCALE
    stats["pair_weight_proven"] = st3 == cp_model.OPTIMAL
    return mdl.allocation(solver3)


def solve(problem: Problem, config: SolverConfig) -> Result:
    """Solve the allocation exactly with CP-SAT, level by level.

    Parameters
    ----------
    problem
        The validated problem.
    config
        Time limit (for all stages together), seed, workers, logging. Option ``stable``: the
        best allocation with no blocking pair instead (:mod:`matcher.solvers.stable`).

    Returns
    -------
    Result
        OPTIMAL when levels 1 and 2 are proven optimal (level 3: ``stats``); FEASIBLE when a
        stage stopped at its time limit (bounds report what is proven); INFEASIBLE when the
        locks cannot all be honoured (the message names a small conflicting set); UNKNOWN when
        nothing was found in time.
    """
    if config.options.get("stable"):
        return solve_stable(problem, config)
    with stop_on_signals() as stop:
        return _solve(problem, config, stop)


def _solve(problem: Problem, config: SolverConfig, stop: Stop) -> Result:
    t0 = clock.now()
    deadline = t0 + config.time_limit_s
    enc = encode(problem)
    # Re-solve (module resolve): earlier placements, in ids, that students may keep.
    previous = enc.choices_from_ids(config.options.get("previous", {}))
    if enc.has_quotas:
        # Issue 29: only the aggregated model states quotas (the slot model's Hall rows, the
        # flows and the province path do not), so every level goes to HiGHS on it.
        if previous:
            return build_result(enc, NAME, Status.UNKNOWN, {}, config, 0.0,
                                stats={"unsupported_rules": ["quotas"]},
                                message="a re-solve (--previous) does not hold the group quotas "
                                        "of quotas.csv yet; solve afresh, or remove quotas.csv")
        return _with_quotas(problem, enc, config, t0, stop)
    if rank_levels.form(enc) != "sum":  # issue 29: level 2 as a profile or the worst rank
        as_sum = problem.model_copy(update={"objective": problem.objective.model_copy(
            update={"rank": "sum"})})
        choices = choice_count(enc)
        if rank_levels.form(enc) == "minimax" and not previous and (
                choices >= THRESHOLD_MIN_CHOICES):
            # The least worst rank by the rank sum's engines on the lists cut at a rank: exact
            # at every size the sum is (module rank_threshold).
            return solve_minimax(problem, enc, config, t0,
                                 lambda cut, cfg: _solve(cut, cfg, stop),
                                 lambda: stop.signal_name if stop.requested else "", NAME)
        if previous or choices <= RANKED_MAX_CHOICES:
            start = None
            if not previous and choices >= cpsat_rank.CP_SAT_MAX_CHOICES:
                # The rank sum's optimum (the slot model proves it in seconds) is a far better
                # first incumbent than the quick allocations (tier S: 889 first choices from
                # the quick ones), with a share of the time.
                got = _solve(as_sum, replace(config, time_limit_s=SUM_START_SHARE * (
                    config.time_limit_s)), stop)
                start = enc.choices_from_ids({p.student_id: (
                    p.workstation_id, p.mentor_id, p.supervisor_id, ";".join(p.terms))
                    for p in got.placements}) if got.placements else None
                if (start and rank_levels.form(enc) == "profile" and USE_SLOT_MODEL
                        and got.placed == got.placed_upper_bound
                        and not _too_small_for_slots(enc) and not slots.applies(enc)):
                    # The profile one rank at a time on the slot model (module rank_slots),
                    # from the rank sum's optimum, placed fixed at its proven maximum.
                    return solve_profile(enc, config, t0, start, lambda: (
                        stop.signal_name if stop.requested else ""), NAME,
                        first_choices_ub=relaxed_bounds(enc, relaxation(enc), got.placed).get(
                            "first_choices_ub"))
            return solve_ranked(enc, config, t0, stop, previous, start)
        # At province scale no model of the form is built; the rank sum's engines (the slot
        # model) give an allocation with the most placed, reported in the form, not proven.
        if rank_levels.form(enc) == "profile" and USE_SLOT_MODEL and not slots.applies(enc):
            # ... with the first choices bounded by the slot model's LP (module rank_slots),
            # for which the sum's engines leave a share of the time.
            got = _solve(as_sum, replace(config, time_limit_s=(1 - PROFILE_BOUND_SHARE) * (
                config.time_limit_s)), stop)
            return with_slot_bound(enc, ranked_by_sum(enc, got))
        return ranked_by_sum(enc, _solve(as_sum, config, stop))
    why_not_slots = "switched off" if not USE_SLOT_MODEL else (
        "a re-solve" if previous else _too_small_for_slots(enc) or slots.applies(enc))
    if not why_not_slots:
        by_slots = _by_slots(enc, config, t0, stop)
        if by_slots is not None:
            return by_slots
        # The locks conflict: the model below isolates which.
        why_not_slots = "the locks conflict"
    choices = choice_count(enc)
    if choices > province.MAX_CHOICES and not previous:
        return province.solve_without_model(enc, config, t0, choices, stop)
    if (enc.has_rules or enc.has_segments) and not previous and choices <= LP_MAX_VARIABLES:
        return _rules_by_highs(enc, config, t0, stop, why_not_slots)
    mdl = build_model(enc, previous)
    cp = mdl.model
    clock.charge(MODEL_SECONDS_PER_VARIABLE * len(cp.proto.variables))
    stats: dict[str, Any] = {"engine": "aggregated model (CP-SAT, HiGHS)",
                             "engine_why": f"slot model not used: {why_not_slots}",
                             "variables": len(cp.proto.variables),
                             "constraints": len(cp.proto.constraints),
                             "build_seconds": round(clock.now() - t0, 3)}

    # Stage 1: maximise the number placed, warm-started with the best quick allocation.
    agg = mdl.agg
    kept_first = keeping(enc, agg.kept_choice) if agg.keep else None
    # A re-solve starts from the earlier placements: the flow allocation only needs its bounds
    # then, not its repair rounds and local moves.
    # With HiGHS taking level 2 (_lp_fits), the warm start need only place the most, quickly:
    # its rank cost hardly changes HiGHS's time (demo: the same from 5,763 and from 4,896).
    lp_fits = _lp_fits(mdl)
    flow_until = clock.now() + (0.0 if agg.keep else 0.02 if lp_fits else 0.3) * (
        config.time_limit_s)
    warm, relax = warm_start(enc, flow_until, stats, agg.kept_choice, kept_first)
    if kept_first is not None:
        warm = keep_first(mdl, kept_first, config,
                           clock.now() + 0.25 * config.time_limit_s, stop, stats) or warm
    quick_ub = min(len(agg.placed_cols), relax.placed_ub)
    if warm is not None and len(warm) < quick_ub:
        # Augmenting moves first (cheap, no search), then a CP-SAT neighbourhood step.
        warm = place_unplaced(enc, warm, clock.now() + 0.15 * config.time_limit_s)
        if enc.has_rules:  # the moves do not see groups and minimums; the hint must keep them
            warm = enforce(enc, warm)
        stats["warm_placed_after_moves"] = len(warm)
        if not agg.keep:
            warm = place_more(mdl, warm, config, t0 + 0.45 * config.time_limit_s, stop, stats)
    if warm is not None and enc.has_rules:  # (the moves above do not see groups and minimums)
        warm = enforce(enc, warm)
    if warm is not None:
        mdl.hint(mdl.model, warm)
    # Nobody without an allowed option can be placed, nor more than the flow relaxation allows
    # (quick_ub, above).
    best: cp_model.CpSolver | None = None
    if warm is not None and not agg.keep and len(warm) >= quick_ub:
        # The warm start already places the proven maximum: level 1 needs no search.
        placed, placed_ub, proven = len(warm), quick_ub, True
        stats["stage1_seconds"] = 0.0
    else:
        # A re-solve also keeps earlier placements: placed * (K + 1) + kept, K the keepable count,
        # is exactly lexicographic (kept <= K), and steers the search away from needless moves.
        weight = len(agg.keep) + 1
        cp.maximize(mdl.placed * weight + mdl.kept if agg.keep else mdl.placed)
        # Each stage may use half of what is left, so the later levels always get time too.
        solver = new_solver(config, (deadline - clock.now()) / 2)
        st1 = run_search(solver, cp, stop, "stage 1: students placed", t0)
        stats["stage1_seconds"] = wall(solver)
        if st1 == cp_model.INFEASIBLE:
            culprits = conflicting_locks(mdl, config, max(1.0, deadline - clock.now()))
            where = lock_rows(enc, culprits) if culprits else "locks.csv (not isolated in time)"
            msg = (f"the locks cannot all be honoured; conflicting locks: {where}. Remove or "
                   "change one of these locks")
            return build_result(enc, NAME, Status.INFEASIBLE, {}, config,
                                clock.now() - t0, stats=stats | {"conflicting_locks": [
                                    enc.student_ids[i] for i in culprits]}, message=msg)
        if st1 not in (cp_model.OPTIMAL, cp_model.FEASIBLE) and warm is not None:
            # Stopped (time limit or signal) before CP-SAT reported anything, not even the warm
            # start: that warm start is the best allocation known, and it keeps every rule.
            why = f"stopped by {stop.signal_name}" if stop.requested else "time limit reached"
            stats["bounds"] = {"placed": "max_flow" if relax.placed_ub < len(agg.placed_cols)
                               else "students_with_options", "rank_cost": "flow_relaxation"}
            return build_result(enc, NAME, Status.FEASIBLE, warm, config,
                                clock.now() - t0, placed_upper_bound=quick_ub,
                                rank_cost_lower_bound=relax.rank_lb_at(len(warm)), stats=stats,
                                message=f"{why} before the search got going; this is the warm "
                                        "start")
        if st1 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return build_result(enc, NAME, Status.UNKNOWN, {}, config, clock.now() - t0,
                                stats=stats, message="no allocation found within the time limit")
        placed = value(solver, mdl.placed)
        # CP-SAT's own bound may not have reached the quick one yet.
        placed_ub = min(math.floor(solver.best_objective_bound / weight + 1e-6), quick_ub)
        proven = st1 == cp_model.OPTIMAL or placed == placed_ub
        best = solver
        if warm is not None and not agg.keep and len(warm) > placed:
            # Cut short before it got back to its hint: the warm start places more.
            placed, best = len(warm), None
            proven = placed == placed_ub

    # Re-solve stage: with that many placed, keep the most earlier placements (move the fewest).
    cp.add(mdl.placed == placed)
    if agg.keep and best is not None:
        hint_from_solver(cp, best)
        cp.maximize(mdl.kept)
        solver_k = new_solver(config, (deadline - clock.now()) / 2)
        st_k = run_search(solver_k, cp, stop, "re-solve: placements kept", t0)
        stats["keep_seconds"] = wall(solver_k)
        if st_k in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = solver_k
            kept = round(solver_k.objective_value)
            stats["kept"] = kept
            stats["kept_upper_bound"] = min(len(agg.keep),
                                            math.floor(solver_k.best_objective_bound + 1e-6))
            proven = proven and st_k == cp_model.OPTIMAL
            cp.add(mdl.kept == kept)
        else:
            proven = False
            cp.add(mdl.kept == round(best.value(mdl.kept)))

    # Stages 2-3: with that many placed (and kept), minimise the rank cost, then maximise the
    # pair weight. HiGHS's branch and cut (see _refine_by_lp) goes first where the model fits;
    # CP-SAT then searches from the best allocation known for what is not yet proven.
    current = mdl.allocation(best) if best is not None else warm
    rank_lb: int | None = relax.rank_lb_at(placed)
    rank_by = "flow_relaxation"
    lp: Refined | None = None
    if (current is not None and lp_fits and len(current) == placed and not stop.requested
            and (enc.rank_cost(current) > (rank_lb or 0) or enc.use_pairs)):
        now = clock.now()
        lp = _refine_by_lp(enc, placed, current, config, now + LP_SHARE * (deadline - now), stop,
                           stats, t0)
        if lp.rank_lb is not None and lp.rank_lb > (rank_lb or 0):
            rank_lb, rank_by = lp.rank_lb, "branch_and_cut"
        if lp.chosen is not None and enc.rank_cost(lp.chosen) <= enc.rank_cost(current):
            current = lp.chosen
    if current is not None:
        mdl.hint(cp, current)
    cp.minimize(mdl.rank_cost)
    stage2_end = clock.now() + (deadline - clock.now()) * (
        0.7 if enc.use_pairs else 1.0)
    if current is not None and rank_lb is not None and rank_lb >= enc.rank_cost(current):
        stats["stage2_seconds"] = 0.0  # proven already (by HiGHS or the flow bound)
    else:
        solver2 = new_solver(config, stage2_end - clock.now())
        st2 = run_search(solver2, cp, stop, "stage 2: rank cost", t0)
        stats["stage2_seconds"] = wall(solver2)
        if st2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # For a re-solve the bound is for the placed *and kept* counts reached (the order).
            cp_lb = math.ceil(solver2.best_objective_bound - 1e-6)
            if rank_lb is None or cp_lb > rank_lb:
                rank_lb, rank_by = cp_lb, "cp_sat"
            found = mdl.allocation(solver2)
            if current is None or enc.rank_cost(found) <= enc.rank_cost(current):
                current = found
    proven = proven and current is not None and rank_lb is not None and (
        rank_lb >= enc.rank_cost(current))
    if proven and not stop.requested:
        # When levels 1 and 2 were proven (HiGHS may have gone on to level 3 in its process).
        done = lp.rank_done_at if lp is not None and lp.rank_proven else None
        stats["proven_seconds"] = round((done or clock.now()) - t0, 3)

    # Issue 28: with levels 1-2 fixed, the fewest extra segments (HiGHS did it already when its
    # allocation is the current one).
    if (not isinstance(mdl.extra_segments, int) and current is not None and not stop.requested
            and not (lp is not None and current is lp.chosen)):
        current = _fewest_segments(mdl, current, config, deadline, stop, stats, t0) or current

    # Stage 3: with both fixed, maximise the weight of rewarded supervisor-mentor pairs.
    if lp is not None and lp.pairs_proven and current is lp.chosen:
        stats["pair_weight_upper_bound"] = lp.pair_weight_ub
        stats["pair_weight_proven"] = True
    elif enc.use_pairs and current is not None and not stop.requested:
        current = _raise_pairs(mdl, current, config, deadline, stop, stats, t0) or current

    chosen = dict(current or {})
    if stop.requested:
        proven = False
        msg = f"stopped by {stop.signal_name}: the best allocation found so far"
    elif not proven:
        msg = "time limit reached before levels 1 and 2 were proven optimal"
    else:
        msg = "" if stats.get("pair_weight_proven", True) else (
            "levels 1 and 2 proven optimal; the pair weight (level 3) is not proven")
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    stats["bounds"] = {"placed": "cp_sat" if placed_ub < quick_ub else (
        "max_flow" if relax.placed_ub < len(agg.placed_cols) else "students_with_options"),
        "rank_cost": rank_by}
    return build_result(enc, NAME, status, chosen, config, clock.now() - t0,
                        placed_upper_bound=placed_ub, rank_cost_lower_bound=rank_lb,
                        stats=stats, message=msg)
