"""``cpsat`` on problems too large for its CP-SAT model: a relaxation and a guided rounding.

Above :data:`MAX_CHOICES` choice variables no CP-SAT model is built (CP-SAT would not finish
its presolve on two cores). HiGHS solves the aggregated model's LP relaxation
(:func:`matcher.solvers.relaxation.relax`) in its helper process while this one computes the
quick allocations (greedy, deferred acceptance, flow repair, augmenting moves); above
:data:`LP_GUIDE_MAX_CHOICES` the Lagrangian bound (:func:`matcher.solvers.lagrange.relax_apart`)
takes the LP's place. The relaxation gives the rank-cost bound (tier M: 74,536 against the flow
relaxation's 50,413) and the workstations for a guided rounding (exact packing per workstation,
supervisors passed on, augmenting moves); the better allocation gets the exact reassignment and
local rank moves for the rest of the time (:func:`solve_without_model`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .. import progress
from ..encoding import Encoded
from ..model.result import Result, Status
from . import clock
from .base import Choice, SolverConfig, build_result, higher
from .cpsat_model import NAME
from .cpsat_run import Stop
from .cpsat_warm import warm_start
from .flow import REASSIGN_SECONDS, FlowRelaxation, reassign, repair
from .lagrange import no_later_bound, relax_apart
from .moves import improve_rank, place_unplaced, repack_unplaced
from .packing import lock_failure
from .relaxation import relax
from .rules import enforce

MAX_CHOICES = 100_000
"""Largest number of choice variables (listed options plus off-list indicators) for which the
CP-SAT model is built (the demo has 14,706). Measured on two cores: at tier M (20,000 students,
145,594) CP-SAT did not finish presolve within a minute and its result was the warm start's, and
performance-facts puts a million booleans at 5-8 GB; larger problems get the LP relaxation
(bound and guided rounding) next to the warm start's methods (greedy, deferred acceptance, flow
repair, augmenting and local moves) instead (:func:`solve_without_model`)."""



LP_GUIDE_MAX_CHOICES = 400_000
"""Largest model (choice variables) whose LP relaxation :func:`solve_without_model` attempts.
Measured on two cores: tier L (366,708) is solved in about 46 s; tier XL (731,318) was not
solved in 300 s, and building it (about 30 s, 1.4 GB) only took time from the quick methods
(XL ran 54 s over its limit with it)."""
LP_GUIDE_SHARE = 0.7
"""Share of the time limit by which the LP relaxation of a model too large for CP-SAT must be
solved (:func:`solve_without_model`); the rest rounds it and improves the allocation. Measured
on two cores (simplex): tier M 12 s, tier L 46 s, tier XL not within 300 s."""


GUIDE_UNTIL_SHARE = 0.95
"""Share of the time limit by which the LP-guided rounding must have placed its students
(:func:`solve_without_model`). Measured at tier M (30 s): the LP is solved after 15-18 s, its
rounding then takes about 7 s (exact packing 2 s, packing again 3 s, augmenting moves 2-4 s)
and lands within 4% of the LP bound, against 19% for the quick allocations' local moves."""


GUIDE_MAX_LEFT = 0.05
"""Largest share of the placeable students the exact packing of a relaxation's workstations may
leave out for its rounding to go on (packing again, augmenting moves). Measured: the LP leaves
1.0% out at tier M, the Lagrangian guide 2.6% at tier XL; the augmenting paths, searched for
all at once, place those 2,564 in about 40 s (one at a time they took 0.15-0.2 s each)."""
REPACK_SHARE = 0.25
"""Share of the guided rounding's time that packing workstations again
(:func:`~matcher.solvers.moves.repack_unplaced`) may take before the augmenting moves: it
tries a CP-SAT packing per student and workstation (tier XL: 344 of 2,350 placed in 60 s),
while the paths place thousands in that time."""
LAGRANGE_SHARE = 0.4
"""Share of the time limit by which the Lagrangian bound of a problem too large for the LP must
be ready (:func:`solve_without_model`, :func:`matcher.solvers.lagrange.relax_apart`). It runs on the
second core while the quick allocations are made here. Measured at tier XL (180 s): bound
372,677 at 100,000 placed against the flow bound's 281,295, ready at about 76 s; its rounding,
augmenting moves and reassignment then take about 90 s (session 10 in RESULTS.md)."""
_LATER_MARGIN_S = 1.5
"""The Lagrangian helper stops raising its bound this long before the allocation is final (an
iteration takes about 0.07 s at tier XL, its guide for the result about 0.5 s; the bound then
comes through the pipe, waited for no later than the allocation's finish)."""


_FINISH_S_PER_STUDENT = 40e-6
"""Seconds per student kept back at the end for writing the result (reasons for the unplaced
included): tier XL took about 4 s after its local moves stopped."""



def solve_without_model(enc: Encoded, config: SolverConfig, t0: float, choices: int,
                   stop: Stop) -> Result:
    """Too large to build, let alone search, on this machine (see :data:`MAX_CHOICES`): a
    relaxation for the bound and a guided rounding, next to the quick methods.

    While a helper process computes the relaxation — HiGHS the aggregated model's LP
    (:func:`matcher.solvers.relaxation.relax`) up to :data:`LP_GUIDE_MAX_CHOICES`, above it the
    Lagrangian bound (:func:`matcher.solvers.lagrange.relax_apart`) — this process takes the
    best of greedy, deferred acceptance and the flow repair, with augmenting moves while fewer
    than the proven maximum are placed. The relaxation's workstations are then rounded to an
    allocation (:func:`~matcher.solvers.flow.repair` with exact packing per workstation, packing
    again, augmenting moves), and the better of the two gets the exact reassignment
    (:func:`~matcher.solvers.flow.reassign`) and local rank moves for the rest of the time.
    Bounds: the larger of the relaxation's and the flow relaxation's. OPTIMAL only when they
    are met.
    """
    deadline = t0 + config.time_limit_s
    stats: dict[str, Any] = {"choice_variables": choices, "model": "not built"}
    with_lp = choices <= LP_GUIDE_MAX_CHOICES
    progress.update(elapsed=clock.now() - t0, note=(
        "LP relaxation (HiGHS)" if with_lp else "Lagrangian bound") + " and quick allocations")
    lp_deadline = t0 + LP_GUIDE_SHARE * config.time_limit_s
    place_until = t0 + 0.85 * config.time_limit_s
    # The LP-guided rounding starts late (after the LP) but lands near the LP's rank cost, so it
    # may run almost to the end; local moves only polish whichever allocation wins.
    finish = deadline - _FINISH_S_PER_STUDENT * enc.n_students  # time kept for writing
    # ... and for the exact reassignment at the end (it gains more per second than the
    # cheap passes of the placing moves: tier M 76,221 -> 75,328 in 2.7 s).
    guide_until = min(t0 + GUIDE_UNTIL_SHARE * config.time_limit_s,
                      finish - REASSIGN_SECONDS * enc.n_students)

    def lp_bound(placed: int) -> int | None:
        """The relaxation's rank bound, where it is one: the Lagrangian prices no segment
        plan (issue 28), so with a split practice only its guide is used."""
        if enc.has_segments and not with_lp:
            return None
        return lp.rank_lb_at(placed)

    def halt() -> bool:  # the helpers and heuristics poll it: a signal ends them at once
        return stop.requested

    def quick() -> tuple[dict[int, Choice] | None, FlowRelaxation, int]:
        warm, flow_relax = warm_start(enc, t0 + 0.1 * config.time_limit_s, stats, {})
        most = min(enc.n_placeable, flow_relax.placed_ub)
        if warm is not None and len(warm) < most:
            # Augmenting moves stop when the relaxation is due (its rounding goes next).
            warm = place_unplaced(enc, warm, lp_deadline if with_lp else t0 + (
                LAGRANGE_SHARE * config.time_limit_s), stop=halt)
        return warm, flow_relax, most

    later: Callable[..., float | None] = no_later_bound
    if with_lp:
        lp, got = relax(enc, config, lp_deadline, halt, quick)
    else:
        # The helper goes on raising the bound on the second core while this one rounds.
        lp, got, later = relax_apart(enc, t0 + LAGRANGE_SHARE * config.time_limit_s,
                                     halt, quick,
                                     bound_until=finish - _LATER_MARGIN_S)
        stats["relaxation"] = "Lagrangian"
    try:
        assert got is not None
        warm, flow_relax, most = got
        if warm is None:
            later(wait=False)
            return build_result(enc, NAME, Status.UNKNOWN, {}, config, clock.now() - t0,
                                stats=stats, message=lock_failure(enc, NAME, False))
        stats.update(lp_seconds=lp.seconds, lp_rank_bound=None if lp.value is None else (
            lp.rank_lb_at(round(lp.placed))), lp_placed=round(lp.placed, 3))
        if lp.message:
            stats["lp_note"] = lp.message
        best = warm
        if lp.value is not None and not stop.requested:
            guided = repair(enc, lp.station, {}, exact=True).chosen
            if guided is not None and most - len(guided) > GUIDE_MAX_LEFT * most:
                # Too many left out to place again in the time left (see GUIDE_MAX_LEFT).
                stats["guided_left_out"] = most - len(guided)
                guided = None
            # Cheap first (a workstation packed again, supervisors passed on), then the moves.
            if guided is not None and len(guided) < most:
                now = clock.now()
                guided = repack_unplaced(enc, guided,
                                         now + REPACK_SHARE * max(0.0, guide_until - now),
                                         hint=warm, stop=halt)
            if guided is not None and len(guided) < most:
                guided = place_unplaced(enc, guided, guide_until, stop=halt)
            if guided is not None:
                stats["lp_guided_placed"] = len(guided)
                stats["lp_guided_rank_cost"] = enc.rank_cost(guided)
                if (len(guided), -enc.rank_cost(guided)) > (len(warm), -enc.rank_cost(warm)):
                    best = guided
        stats["allocation"] = ("lp-guided" if with_lp else "lagrangian-guided") if (
            best is not warm) else "quick"
        if len(best) < most and not stop.requested:
            # Whichever won, augmenting moves go on (the quick ones stopped when the relaxation
            # was due, the guided ones at their own deadline).
            best = place_unplaced(enc, best, min(finish, max(
                place_until, clock.now() + 0.05 * config.time_limit_s)), stop=halt)
        # The bound before the local moves (they keep the placed count): at tier XL the flow
        # bound's min-cost flow takes seconds, which must come out of the time limit.
        placed = len(best)
        rank_lb = higher(flow_relax.rank_lb_at(placed), lp_bound(placed))
        if not stop.requested:
            best = reassign(enc, best, finish, stop=halt)
        if not stop.requested:
            best = improve_rank(enc, best, finish, stop=halt)
    except BaseException:  # the helper must not outlive a failure here (nor wait for it)
        later(wait=False)
        raise
    final = later(wait=not stop.requested, wait_until=finish)
    if final is not None and lp.value is not None and final > lp.value:
        lp = replace(lp, value=final)
        rank_lb = higher(rank_lb, lp_bound(placed))
        stats["lagrangian_final_bound"] = lp_bound(placed)
    if enc.has_rules:  # groups and minimum intakes, which the moves above do not see
        best = enforce(enc, best, halt)  # (on a signal: only taken out, so that both rules hold)
        if len(best) != placed:
            placed = len(best)
            rank_lb = higher(flow_relax.rank_lb_at(placed), lp_bound(placed))
    rank = enc.rank_cost(best)
    proven = placed >= most and rank_lb is not None and rank <= rank_lb
    flow_lb = flow_relax.rank_lb_at(placed)
    stats["bounds"] = {"placed": "max_flow" if flow_relax.placed_ub < enc.n_placeable
                       else "students_with_options",
                       "rank_cost": "flow_relaxation" if rank_lb is None or flow_lb >= rank_lb
                       else "lp" if with_lp else "lagrangian"}
    if stop.requested:
        proven = False
    kind = "LP relaxation" if with_lp else "Lagrangian"
    how = (f"{kind} bound and {kind}-guided rounding" if lp.value is not None else
           f"flow relaxation bound (no {kind}: {lp.message})")
    note = (f"stopped by {stop.signal_name}: the best allocation found so far; "
            if stop.requested else "") + (
        f"model too large for CP-SAT here ({choices:,} choice variables, limit {MAX_CHOICES:,}): "
        f"quick allocations with augmenting and local moves, {how}")
    progress.update(elapsed=clock.now() - t0, best=rank, bound=rank_lb,
                    gap=None if rank_lb is None else (rank - rank_lb) / max(1, rank))
    return build_result(enc, NAME, Status.OPTIMAL if proven else Status.FEASIBLE, best, config,
                        clock.now() - t0, placed_upper_bound=most,
                        rank_cost_lower_bound=rank_lb, stats=stats, message=note)

