"""``objective.rank: minimax`` by the rank sum's engines: a threshold search on the worst rank.

An allocation whose worst rank is at most ``t`` is an allocation of the problem *cut at rank
t* (each list cut after its rank-``t`` entries, nobody off their list: ``preferences_only``),
and the other way round. So among allocations placing ``P`` (the most placed), the least worst
rank ``t*`` is the least ``t`` whose cut problem still places ``P``; and the minimax's second
part, the least rank sum with worst rank ``t*``, is the cut problem's rank sum optimum (its
pair weight, level 3, too). Each probe is therefore the rank sum's own solve (cpsat's engines:
the exact flow, the slot model, HiGHS, all in exact integers, no weights), with its proofs:

* ``t`` is *feasible* when the cut problem's solve places ``P``;
* ``t`` is *infeasible* (for ``P``) when that solve's proven placed bound is below ``P``, or
  when the flow relaxation lets fewer than ``P`` through arcs of rank ``<= t``
  (:func:`matcher.solvers.cpsat_rank.relaxed_bounds`: a maximum flow, an upper bound on any
  allocation's placed, so also on the cut problem's).

The search starts at the flow relaxation's bound for the most that may be placed (usually the
answer: one probe, placing everyone who can be). When that probe places fewer, the whole
problem's rank sum solve gives ``P`` (and a feasible ``t``: its own worst rank), and the search
bisects between the largest ``t`` proven infeasible and the least feasible one. Status OPTIMAL
when ``P`` is proven the most placed, ``t* - 1`` proven infeasible and the cut problem's rank
sum (and so level 2) proven; otherwise FEASIBLE, with ``worst_rank_lower_bound`` the least
``t`` not proven infeasible (``stats.minimax_probes`` lists each probe).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..encoding import Encoded
from ..model import Problem
from ..model.result import Result, Status
from . import clock, rank_levels
from .base import SolverConfig, build_result
from .cpsat_rank import relaxed_bounds
from .flow import FlowRelaxation, relaxation

FIRST_SHARE = 0.6
"""Share of the time limit the first probe (at the flow relaxation's bound) may take."""
SUM_SHARE = 0.25
"""Share of the time limit for the whole problem's rank sum solve, when the first probe places
fewer than the bound (it gives the most placed and a feasible worst rank)."""

SumSolve = Callable[[Problem, SolverConfig], Result]
"""The rank sum's solve (cpsat's own path) of a problem, under a configuration."""


def cut_at(problem: Problem, t: int) -> Problem:
    """``problem`` with each list cut after its rank-``t`` entries, nobody off their list, and
    level 2 the rank sum. ``K`` stays the whole problem's (``max_rank`` is computed before the
    copy, which keeps it), so ranks and reports read the same."""
    _ = problem.max_rank
    students = []
    for s in problem.students:
        ranks = s.preference_ranks or tuple(range(1, len(s.preferences) + 1))
        keep = sum(1 for r in ranks if r <= t)  # (ranks never decrease along a list)
        students.append(s if keep == len(s.preferences) else s.model_copy(update={
            "preferences": s.preferences[:keep],
            "preference_ranks": s.preference_ranks[:keep]}))
    return problem.model_copy(update={
        "students": tuple(students),
        "policy": problem.policy.model_copy(update={"preferences_only": True}),
        "objective": problem.objective.model_copy(update={"rank": "sum"})})


def least_rank(enc: Encoded, relax: FlowRelaxation, placed: int) -> int:
    """The least worst rank the flow relaxation allows for ``placed`` students, and never below
    a locked student's rank (a lock is kept whatever the rank)."""
    locked = max((enc.cost(i, lock[0]) for i, lock in enumerate(enc.st_lock)
                  if lock is not None), default=0)
    got = relaxed_bounds(enc, relax, placed).get("worst_rank_lb", enc.max_list + 1)
    return max(1, locked, got)


def solve_minimax(problem: Problem, enc: Encoded, config: SolverConfig, t0: float,
                  solve_sum: SumSolve, halted: Callable[[], str], name: str) -> Result:
    """Levels 1-3 of ``problem`` under ``objective.rank: minimax`` by the threshold search of
    the module docstring; ``solve_sum`` is the rank sum's solve, ``halted()`` the name of a
    signal that asked to stop ("" while none did)."""
    deadline = t0 + config.time_limit_s
    top = enc.max_list + 1  # (cut at K + 1: the whole problem)
    relax = relaxation(enc)
    placed_ub = min(enc.n_placeable, relax.placed_ub)
    probes: list[dict[str, Any]] = []
    results: dict[int, Result] = {}

    def probe(t: int, share: float) -> Result:
        nonlocal placed_ub
        left = deadline - clock.now()
        cut = problem.model_copy(update={"objective": problem.objective.model_copy(
            update={"rank": "sum"})}) if t >= top else cut_at(problem, t)
        got = solve_sum(cut, replace(config, time_limit_s=max(0.5, share * left)))
        results[t] = got
        if t >= top and got.placed_upper_bound is not None:  # (the whole problem's bound)
            placed_ub = min(placed_ub, got.placed_upper_bound)
        probes.append({"worst_rank": t, "placed": got.placed,
                       "placed_upper_bound": got.placed_upper_bound,
                       "status": got.status.value})
        return got

    lower = least_rank(enc, relax, placed_ub)
    first = probe(lower, FIRST_SHARE if lower < top else 1.0)
    if first.status == Status.INFEASIBLE:  # only locks make it so: the sum's message names them
        return first
    # best: the least rank known to place the most found (with its allocation, which has the
    # least rank sum among those not worse: a rank sum optimum whose worst rank is t is also
    # the optimum among allocations of worst rank <= t).
    most, best_t = first.placed, lower
    if first.placed < placed_ub and lower < top and not halted():
        # The bound's count is not reached at its rank: the whole problem's rank sum gives the
        # most placed (proven, usually) and a worst rank that is feasible.
        whole = probe(top, SUM_SHARE / (1 - FIRST_SHARE))
        if whole.placed > most:
            most, best_t = whole.placed, _worst(whole, top)
            results[best_t] = whole
        lower = least_rank(enc, relax, most)
        if first.placed_upper_bound is not None and first.placed_upper_bound < most:
            lower = max(lower, probes[0]["worst_rank"] + 1)  # proven: that cut places fewer
        while lower < best_t and not halted() and deadline - clock.now() > 0.5:
            mid = (lower + best_t) // 2
            got = probe(mid, 0.5)
            if got.placed > most:  # (the whole problem's solve had not reached the most)
                most, lower = got.placed, least_rank(enc, relax, got.placed)
            if got.placed >= most:
                best_t = mid
            elif got.placed_upper_bound is not None and got.placed_upper_bound < most:
                lower = mid + 1
            else:
                break  # undecided in its time: the bound stays where it is
    best = results[best_t]
    chosen = enc.choices_from_ids({p.student_id: (p.workstation_id, p.mentor_id,
                                                  p.supervisor_id, ";".join(p.terms))
                                   for p in best.placements})
    worst = max(rank_levels.ranks(enc, chosen), default=0)
    if len(chosen) < most or len(chosen) < placed_ub:
        # (a bound for the count reached: fewer placed may need no worse rank; XL under load)
        lower = min(lower, least_rank(enc, relax, len(chosen)))
    lower = min(lower, worst)
    proven = (best.status == Status.OPTIMAL and len(chosen) == placed_ub and lower >= worst
              and not halted())
    stats: dict[str, Any] = {
        **best.stats, "minimax_probes": probes,
        "engine_why": "objective.rank minimax: the least worst rank by the rank sum's engines "
                      "on the lists cut at each rank tried, then the rank sum there",
        "rank_objective": rank_levels.block(enc, chosen, proven=proven,
                                            worst_rank_lb=lower if chosen else 0)}
    if best.rank_cost_lower_bound is not None:
        stats["rank_sum_lower_bound_at_worst"] = best.rank_cost_lower_bound
    if halted():
        msg = f"stopped by {halted()}: the best allocation found so far"
    elif proven:
        msg = "" if stats.get("pair_weight_proven", True) else (
            "levels 1 and 2 proven optimal; the pair weight (level 3) is not proven")
    else:
        msg = "time limit reached before levels 1 and 2 were proven optimal"
    return build_result(enc, name, Status.OPTIMAL if proven else Status.FEASIBLE, chosen,
                        config, clock.now() - t0, placed_upper_bound=placed_ub, stats=stats,
                        message=msg)


def _worst(result: Result, top: int) -> int:
    """The worst rank given in ``result`` (``top`` for an off-list placement)."""
    return max((p.preference_rank if p.preference_rank is not None else top
                for p in result.placements), default=1)


__all__ = ["cut_at", "least_rank", "solve_minimax"]
