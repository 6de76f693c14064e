"""The cross-check solver: the whole allocation as a MILP, solved exactly by HiGHS, level by level.

It exists to cross-check ``cpsat`` with a second, independent engine: the same problem, the same
lexicographic objective, a different solver technology (LP-based branch and cut).

Formulation
    The aggregated model (:mod:`matcher.solvers.aggregate`: the notation, one function per
    constraint family with its formula, and why the aggregation is exact), built for HiGHS
    (:mod:`matcher.solvers.milp_model`): every column an integer, one placement per student a
    linear row (``= 1`` for a locked student). Levels: 1. maximise placed; 2. fix it, minimise
    the rank cost; 3. fix both, maximise the (scaled) pair weight. Every objective has integer
    coefficients on integer columns, so HiGHS may stop at an absolute gap below 1
    (``mip_abs_gap = 0.999``) and a level counts as proven only when the rounded dual bound
    meets the objective.

Why highspy, and why in a helper process
    OR-Tools 9.15 bundles HiGHS 1.12 and reaches it through ``pywraplp`` / ``model_builder``
    (``"HIGHS"``). That wrapper is fine for proving an optimum but not for a time-limited run:
    when the time limit stops the search it returns NOT_SOLVED and drops the incumbent (measured
    here), it reports the objective value itself as the "best bound" (it never reads HiGHS's
    dual bound), and it does not accept HiGHS options such as the random seed. A cut-short run
    could then give neither its allocation nor a proven bound. HiGHS's own Python API,
    ``highspy``, gives all three, in a helper process of its own
    (:mod:`matcher.solvers.highs_runner`, :mod:`matcher.solvers.highs.levels`); the helper
    writes each level's outcome as soon as it has it, so a level cut short (or a killed helper)
    still leaves the previous level's allocation.

This module also lends HiGHS's branch and cut to ``cpsat`` after its level 1
(:func:`refine_levels`).

Status: OPTIMAL when levels 1 and 2 are proven (level 3, the pair weight, is reported in the
stats as ``pair_weight_proven`` and its bound); FEASIBLE with ``placed_upper_bound`` and
``rank_cost_lower_bound`` from the dual bounds (rounded inwards: floor for the maximisation,
ceil for the minimisation) when a time limit stopped a level; INFEASIBLE when the locks cannot
all be honoured (a deletion filter names a conflicting set); UNKNOWN when nothing was found.
The time limit covers all levels (level 1 may use half of it, level 2 most of what is left);
the seed is HiGHS's ``random_seed`` and ``workers`` its ``threads``.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..encoding import PAIR_SCALE, Encoded, encode
from ..model import Problem
from ..model.result import Result, Status
from . import clock, rank_levels
from .aggregate import Aggregated, allocation
from .base import Choice, SolverConfig, build_result, lock_rows
from .greedy import serial_dictatorship
from .milp_model import (
    ASSIST_GRACE_S,
    Expr,
    Stage,
    build_model,
    ceil_bound,
    floor_bound,
    hint_from_choices,
    minimised,
    run_levels,
)
from .quota_repair import hold_quotas

NAME = "milp"

HIGHS_OPTIONS: dict[str, Any] = {"presolve": "off",
                                 "mip_heuristic_run_root_reduced_cost": False}
"""Extra HiGHS options for :func:`refine_levels` (name -> value). Presolve off: on the demo it
proved level 2 in 19.8 s against 25.1 s with presolve (same run). The root reduced-cost
heuristic off: its sub-MIP delays the cuts and finds nothing there; on the demo, level 2 from
the same start took 9.2-21.5 s (mean 14.8) without it against 18.2-28.5 s (mean 22.1) with it,
seeds 0-4 (and 6.0-17.3 s, mean 9.7, against 11.6-35.5 s, mean 17.0, with the equality rows of
:func:`build_model`)."""
LEVEL2_SHARE = 0.8
"""Share of :func:`refine_levels`' time for level 2 when level 3 follows (level 2 decides the
status; the demo needs about 5-15 s of a minute for it)."""


@dataclass
class Refined:
    """Outcome of :func:`refine_levels`.

    Attributes
    ----------
    chosen
        HiGHS's best allocation with the given number placed (None when it found none).
    rank_lb
        Proven lower bound on the rank cost of any allocation placing that many (None when
        HiGHS gave no dual bound).
    rank_proven
        ``chosen``'s rank cost meets ``rank_lb``: level 2 is optimal.
    pair_weight_ub
        Proven upper bound on the (unscaled) pair weight at that rank cost, when level 3 ran.
    pairs_proven
        Level 3 ran and ``chosen``'s pair weight meets ``pair_weight_ub``.
    seconds
        Wall time of the helper process.
    message
        Why HiGHS stopped early, if it did.
    rank_done_at
        ``clock.now()`` value when HiGHS finished level 2 (None when it did not).
    """

    chosen: dict[int, Choice] | None
    rank_lb: int | None
    rank_proven: bool
    pair_weight_ub: float | None
    pairs_proven: bool
    seconds: float
    message: str = ""
    rank_done_at: float | None = None


def refine_levels(enc: Encoded, placed: int, start: dict[int, Choice], config: SolverConfig,
                  deadline: float, stop: Callable[[], bool] | None = None, *,
                  pairs_only: bool = False) -> Refined:
    """Levels 2 and 3 by HiGHS: with exactly ``placed`` placed, minimise the rank cost, then
    (when the scenario rewards pairs) maximise the pair weight at that rank cost.

    With ``pairs_only``, level 2 is taken as settled by ``start`` (its rank cost becomes an
    upper limit) and only level 3 is solved; ``rank_lb`` is then None.

    The exact solver (:mod:`matcher.solvers.cpsat`) uses this as its LP-based engine after
    level 1: branch and cut proves these levels where CP-SAT's own bound is slow to close.
    ``start`` (an allocation placing ``placed``) is HiGHS's first incumbent. Level 2 may use
    :data:`LEVEL2_SHARE` of the time when level 3 follows.

    Parameters
    ----------
    enc
        The encoded problem.
    placed
        The number placed, as level 1 fixed it.
    start
        A valid allocation placing ``placed`` students.
    config
        Seed and workers (HiGHS ``random_seed`` and ``threads``), logging.
    deadline
        ``clock.now()`` value by which HiGHS must stop.
    stop
        Polled while HiGHS runs; true ends it early.
    """
    t0 = clock.now()
    if importlib.util.find_spec("highspy") is None:
        return Refined(None, None, False, None, False, 0.0, "highspy is not installed")
    mdl = build_model(enc, placed=placed)
    if mdl.quota_shortfall:  # (issue 29: cpsat hands quotas to solve_encoded, never here)
        return Refined(None, None, False, None, False, 0.0, "soft quotas need solve_encoded")
    levels: list[tuple[str, Expr]] = [] if pairs_only else [("min", mdl.rank_cost)]
    if pairs_only:
        mdl.lp.row(mdl.rank_cost, -math.inf, enc.rank_cost(start), "rank cost limit")
    if mdl.extra_segments and not pairs_only:  # issue 28, between rank cost and pairs
        levels.append(("min", mdl.extra_segments))
    if mdl.pair_weight:
        levels.append(("max", mdl.pair_weight))
    if not levels:
        return Refined(None, None, False, None, False, 0.0, "no rewarded pairs to weigh")
    job = {"mode": "levels", "highs_options": HIGHS_OPTIONS,
           "shares": [LEVEL2_SHARE, 0.7, 1.0][-len(levels):] if len(levels) == 3
           else [LEVEL2_SHARE, 1.0][-len(levels):]}
    stages, _out, errors = run_levels(mdl, config, deadline, job, hint_from_choices(mdl, start),
                                       levels, stop, grace=ASSIST_GRACE_S)
    seconds = round(clock.now() - t0, 3)
    if pairs_only:
        if not stages or stages[0].x is None:
            return Refined(None, None, False, None, False, seconds, errors)
        weight = round(stages[0].objective or 0)
        bound = stages[0].dual_bound
        ub = None if bound is None else max(weight, floor_bound(bound))
        return Refined(allocation(mdl, stages[0].x), None, False,
                       None if ub is None else ub / PAIR_SCALE, ub is not None and ub <= weight,
                       seconds, errors, stages[0].done_at)
    if not stages or stages[0].x is None:
        bound = None if not stages else stages[0].dual_bound
        lb = None if bound is None else ceil_bound(bound)
        return Refined(None, lb, False, None, False, seconds, errors)
    second = stages[0]
    rank = round(second.objective or 0)
    rank_lb = None if second.dual_bound is None else min(rank, ceil_bound(second.dual_bound))
    rank_proven = rank_lb is not None and rank_lb >= rank
    best, weight_ub, pairs_proven = second, None, False
    nxt = 1
    if mdl.extra_segments:
        if len(stages) > nxt and stages[nxt].x is not None:
            best = stages[nxt]
        nxt += 1
    if mdl.pair_weight and len(stages) > nxt and stages[nxt].x is not None:
        third = stages[nxt]
        best = third
        weight = round(third.objective or 0)
        if third.dual_bound is not None:
            ub = max(weight, floor_bound(third.dual_bound))
            weight_ub, pairs_proven = ub / PAIR_SCALE, ub <= weight
    assert best.x is not None
    chosen = allocation(mdl, best.x)
    return Refined(chosen, rank_lb, rank_proven, weight_ub, pairs_proven, seconds, errors,
                   second.done_at)


def _conflicting_locks(mdl: Aggregated, config: SolverConfig, deadline: float) -> tuple[list[int],
                                                                                    bool]:
    """A set of locked students whose locks cannot all be honoured (deletion-filtered)."""
    students = sorted(mdl.lock_rows)
    _stages, out, _err = run_levels(
        mdl, config, max(deadline, clock.now() + 1.0),
        {"mode": "conflict", "lock_rows": [mdl.lock_rows[i] for i in students]}, None, [])
    if not out:
        return students, False
    row_owner = {mdl.lock_rows[i]: i for i in students}
    return sorted(row_owner[r] for r in out["needed"]), bool(out["complete"])


def solve(problem: Problem, config: SolverConfig) -> Result:
    """Solve the allocation exactly as a MILP with HiGHS, level by level.

    Parameters
    ----------
    problem
        The validated problem.
    config
        Time limit (for all levels together), seed (HiGHS ``random_seed``), workers (HiGHS
        ``threads``), logging (HiGHS's log on stderr).

    Returns
    -------
    Result
        OPTIMAL when every level is proven; FEASIBLE with the proven bounds when a time limit
        stopped a level; INFEASIBLE when the locks cannot all be honoured (the message names a
        conflicting set); UNKNOWN when no allocation was found (or HiGHS is not available).
    """
    t0 = clock.now()
    return solve_encoded(encode(problem), config, t0)


def solve_encoded(enc: Encoded, config: SolverConfig, t0: float, *,
                  start: dict[int, Choice] | None = None, name: str = NAME,
                  stop: Callable[[], bool] | None = None,
                  stats: dict[str, Any] | None = None, placed: int | None = None) -> Result:
    """Every level by HiGHS on the aggregated model (:func:`solve`), from ``start`` (default:
    the greedy allocation) as the first incumbent; the result carries ``name``. ``cpsat``
    uses this for the rules of issue 28 (:mod:`matcher.solvers.cpsat`) and for level 2 as a
    profile or the worst rank (:mod:`matcher.solvers.cpsat_rank`). ``placed``: level 1 is
    already proven at this many, which ``start`` places; it is fixed instead of solved."""
    deadline = t0 + config.time_limit_s
    stats = {} if stats is None else stats

    def done(status: Status, chosen: dict[int, Choice], msg: str = "", **kw: Any) -> Result:
        return build_result(enc, name, status, chosen, config, clock.now() - t0,
                            stats=stats, message=msg, **kw)

    unplaceable = [i for i, lk in enumerate(enc.st_lock) if lk is not None and not enc.options(i)]
    if unplaceable:
        return done(Status.INFEASIBLE, {}, f"the locks in {lock_rows(enc, unplaceable)} cannot "
                    "be honoured whatever the others get (no fitting start, mentor or "
                    "supervisor); change these locks")
    if importlib.util.find_spec("highspy") is None:
        return done(Status.UNKNOWN, {}, "the milp solver needs highspy: pip install highspy")
    if start is None or placed != len(start):
        placed = None
    mdl = build_model(enc, placed=placed)
    if mdl.lp.n_cols == 0:  # nobody has an allowed option: nothing to decide
        if rank_levels.form(enc) != "sum":  # (level 2 in its form: proven too)
            stats["rank_objective"] = rank_levels.block(enc, {}, proven=True)
        return done(Status.OPTIMAL, {}, placed_upper_bound=0, rank_cost_lower_bound=0)
    stats.update(variables=mdl.lp.n_cols, constraints=mdl.lp.n_rows,
                 build_seconds=round(clock.now() - t0, 3))
    # Level 2 in the scenario's form (issue 29): one sub-level for the rank sum, several for the
    # profile or the worst rank (rank_levels; minimax adds its columns before the hint).
    subs = rank_levels.sublevels(mdl)
    kind = rank_levels.form(enc)

    def hinted(chosen: dict[int, Choice]) -> Any:
        x = hint_from_choices(mdl, chosen)
        if kind == "minimax":
            x[:] = rank_levels.hint_worst(enc, list(x), subs[0], chosen)
        return x

    if start is None and enc.has_quotas:  # (greedy does not see quotas: keep them first)
        greedy, failed = serial_dictatorship(enc)
        start = None if failed else hold_quotas(enc, greedy)
        stats["greedy_placed"] = len(greedy)
        hint = None if start is None else hinted(start)
    elif start is None:
        greedy, failed = serial_dictatorship(enc)
        hint = None if failed else hinted(greedy)
        stats["greedy_placed"] = len(greedy)
    else:
        hint = hinted(start)
    levels: list[tuple[str, Expr]] = [] if placed is not None else [("max", mdl.placed)]
    levels += [("min", sub) for sub in subs]
    if mdl.quota_shortfall:  # issue 29: the soft quotas' least shortfall, after the rank cost
        levels.append(("min", mdl.quota_shortfall))
    if mdl.extra_segments:  # issue 28: fewest extra segments, after the rank cost
        levels.append(("min", mdl.extra_segments))
    if mdl.pair_weight:
        levels.append(("max", mdl.pair_weight))
    job: dict[str, Any] = {"mode": "levels"}
    if len(subs) != 1:  # each level half of what is left, the last all of it
        job["shares"] = [0.5] * (len(levels) - 1) + [1.0]
    stages, _out, errors = run_levels(mdl, config, deadline, job, hint, levels, stop)
    if placed is not None:  # level 1 as proven by the caller: ``start``'s columns
        stages = [Stage("Optimal", True, float(placed), float(placed), 0.0, hint,
                        clock.now()), *stages]
    for n, st in enumerate(stages, start=1):
        stats[f"stage{n}_seconds"] = st.seconds
        stats[f"stage{n}_status"] = st.status

    # Level 1: placed, and the proven maximum (never more than the students with an option).
    first = stages[0] if stages else None
    if first is not None and first.status == "Infeasible" and any(q.hard for q in enc.quotas):
        return done(Status.INFEASIBLE, {}, "the hard quotas of quotas.csv cannot all be met "
                    "together with the locks and the other rules; make a quota soft, widen its "
                    "bounds or remove a lock")
    if first is not None and first.status == "Infeasible":
        culprits, complete = _conflicting_locks(mdl, config, deadline)
        msg = (f"the locks cannot all be honoured; conflicting locks: {lock_rows(enc, culprits)}"
               + ("" if complete else " (not narrowed down within the time limit)")
               + ". Remove or change one of these locks")
        return done(Status.INFEASIBLE, {}, msg)
    trivial_ub = len(mdl.placed_cols)
    if first is None or first.x is None:
        ub = trivial_ub if first is None or first.dual_bound is None else min(
            trivial_ub, floor_bound(first.dual_bound))
        why = errors or "no allocation found within the time limit"
        return done(Status.UNKNOWN, {}, why, placed_upper_bound=ub)
    placed = round(first.objective or 0)
    placed_ub = trivial_ub if first.dual_bound is None else min(trivial_ub,
                                                                floor_bound(first.dual_bound))
    proven = placed >= placed_ub
    best = first

    # Level 2 (its sub-levels): rank cost with that many placed; its lower bound from the dual
    # bound (the rank sum's only when level 2 is the sum).
    rank_lb: int | None = None
    first_lb: int | None = None
    for n in range(1, 1 + len(subs)):
        if len(stages) <= n or stages[n].x is None:
            proven = False
            break
        best = stages[n]
        value, lb = minimised(best)
        first_lb = lb if n == 1 else first_lb
        rank_lb = lb if kind == "sum" else None
        proven = proven and lb is not None and lb >= value
    if len(stages) > 1 and stages[1].x is None and stages[1].dual_bound is not None:
        first_lb = ceil_bound(stages[1].dual_bound)

    # The soft quotas' least shortfall with both fixed (issue 29).
    nxt = 1 + len(subs)
    if mdl.quota_shortfall:
        if len(stages) > nxt and stages[nxt].x is not None:
            best = stages[nxt]
            short, lbq = minimised(best)
            stats["quota_shortfall_lower_bound"] = (None if lbq is None
                                                    else lbq / mdl.quota_scale)
            stats["quota_shortfall_proven"] = lbq is not None and lbq >= short
        else:
            stats["quota_shortfall_proven"] = False
        nxt += 1
    # Fewest extra segments with the levels above fixed (when a practice may be split).
    if mdl.extra_segments:
        if len(stages) > nxt and stages[nxt].x is not None:
            best = stages[nxt]
            segs, lb3 = minimised(best)
            stats["extra_segments_lower_bound"] = lb3
            stats["extra_segments_proven"] = lb3 is not None and lb3 >= segs
        else:
            stats["extra_segments_proven"] = False
        nxt += 1
    # Then the pair weight with the levels above fixed.
    if mdl.pair_weight:
        if len(stages) > nxt and stages[nxt].x is not None:
            third = stages[nxt]
            best = third
            weight = round(third.objective or 0)
            ub3 = None if third.dual_bound is None else max(weight, floor_bound(third.dual_bound))
            stats["pair_weight_upper_bound"] = None if ub3 is None else ub3 / PAIR_SCALE
            stats["pair_weight_proven"] = ub3 is not None and ub3 <= weight
        else:
            stats["pair_weight_proven"] = False
    assert best.x is not None
    chosen = allocation(mdl, best.x)
    if kind != "sum":
        stats["rank_objective"] = rank_levels.block(
            enc, chosen, proven=proven, **rank_levels.first_bounds(enc, len(chosen), first_lb))
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    if not proven:
        msg = errors or "time limit reached before levels 1 and 2 were proven optimal"
    else:
        msg = "" if stats.get("pair_weight_proven", True) else (
            "levels 1 and 2 proven optimal; the pair weight (level 3) is not proven")
    return done(status, chosen, msg, placed_upper_bound=placed_ub, rank_cost_lower_bound=rank_lb)
