r"""``cpsat --stable``: the best allocation with no blocking pair, proven level by level.

Among the allocations that keep every hard rule *and* leave no blocking pair (justified envy),
find the best by the default lexicographic objective (placed, then rank cost, then pair
weight). A blocking pair is exactly what :func:`matcher.check.blocking_pairs` counts.

Notation: students ``i, j``, workstations ``w``, terms ``t``, starts ``k``; ``n_i`` the
student's block length, ``cov(k) = {k, ..., k + n_i - 1}``; ``cap[w,t]`` the workstation's
capacity in term ``t``; ``L_i = (w_1, w_2, ...)`` the student's list, ``r_i(w)`` the place of
``w`` on it.

The workstations' order
    ``w`` ranks ``j`` *at or above* ``i`` (``j ⪯_w i``) when ``tier_w(j) <= tier_w(i)``, with
    ``tier_w(i) = (0, rank)`` for a student ranked in ``rankings.csv`` and ``(1, position of
    i in the priority order)`` otherwise (higher ``priority`` first, then ``student_id``). Two
    students with the same explicit rank are each at or above the other: neither can take the
    other's place, as in the checker.

Blocking pair (the checker's definition)
    ``(i, w)`` blocks when ``w`` is on ``L_i`` above the student's placement (or the student
    is unplaced or placed off its list), the student fits ``w`` (discipline, partnership; mentor
    and supervisor limits are not considered) and for some start ``k`` inside the student's
    window with ``w`` open in every term of ``cov(k)``, every such term has a free place at
    ``w`` or a holder that ``w`` ranks below ``i``. Since a workstation never holds more than
    its capacity, a term does *not* let ``i`` in exactly when
    ``#{j != i at w in t : j ⪯_w i} >= cap[w,t]``.

Variables
    ``x[i,w,k]``  bool, one per allowed option of the student (:meth:`Encoded.options`: listed,
                  off-list unless ``preferences_only``, locks applied). Off-list students are
                  individual too, because they hold places in the workstations' order.
    ``up[i,r]``   bool: student ``i`` is placed at one of its first ``r`` choices,
                  ``up[i,r] = up[i,r-1] + sum_k x[i,w_r,k]``.
    ``P[w,t,c]``  int: how many of the first ``c`` possible holders of ``(w, t)``, in ``w``'s
                  order, hold it: a prefix sum ``P[w,t,c] = P[w,t,c'] + sum occ[j,w,t]`` over
                  the holders between the previous cut ``c'`` and ``c``, with
                  ``occ[j,w,t] = sum_{k : t in cov(k)} x[j,w,k]``. Cuts are made only where
                  some student asks.
    ``full[i,w,t]`` bool: ``w`` is full in ``t`` with students it ranks at or above ``i``:
                  ``full[i,w,t] => P[w,t,c(i)] >= cap[w,t]``, ``c(i)`` the number of possible
                  holders ``j`` with ``j ⪯_w i``.

No blocking pair
    For every student ``i``, every ``w`` on ``L_i`` that ``i`` fits, every start ``k`` of the
    window with ``w`` open throughout ``cov(k)``::

        up[i, r_i(w)]  OR  OR_{t in cov(k)} full[i,w,t]

    ``P`` may count ``i`` itself, but only when ``i`` is at ``w``, and then ``up`` already
    holds; so the clause is exact. A ``full`` that cannot hold (fewer possible holders at or
    above ``i``, ``i`` aside, than places) is left out. Size: one indicator per ``(i, w, t)``
    and one prefix variable per cut, linear in the lists.

The rest of the model
    Placements are grouped by ``a = (w, d, n, k, k + n - 1, mlock)`` (a start group of
    :mod:`matcher.solvers.aggregate` narrowed to one start), so the workstation capacity, the
    mentor pools and limits, the supervisor groups and limits, the locks and the rewarded pair
    counts are the aggregated model's families (:mod:`matcher.solvers.aggregate`,
    :mod:`matcher.solvers.cpsat_model`), reused as they are (stability ignores
    mentors and supervisors, so counting them is exact); :func:`matcher.solvers.aggregate.assign`
    turns the counts back into concrete mentor and supervisor ids.

Levels
    1. maximise placed; 2. with placed fixed, minimise the rank cost; 3. with both fixed,
    maximise the pair weight (when the scenario rewards pairs). Each stage is warm-started
    with the previous one's solution; stage 1 with the deferred-acceptance allocation. When
    that allocation has a blocking pair (some clause fails), no stable allocation is known yet:
    stage 1 first searches for any (or a proof that none exists) with all the time left, then
    maximises with half of what is left, like every later stage. Bounds also take the flow
    relaxation's (every stable allocation is an allocation). Status: OPTIMAL when levels 1
    and 2 are proven (level 3: ``stats["pair_weight_proven"]``); FEASIBLE when a stage stopped
    at its time limit; INFEASIBLE when no allocation without a blocking pair exists (the
    message says whether locks are to blame); UNKNOWN when nothing was found in time.

Size
    Per-student starts make this model much larger than cpsat's (on the 2,000-student demo
    about 313,000 variables against 27,000): small and medium scenarios are proven, but at the
    demo's size CP-SAT's presolve alone takes most of a minute on two cores.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from ..encoding import PAIR_SCALE, Encoded, encode
from ..model import Problem
from ..model.result import Result, Status
from . import clock
from .aggregate import (
    GroupKey,
    PairKey,
    PoolKey,
    StartKey,
    add_mentor_limits,
    add_pair_counts,
    add_supervisor_limits,
    add_workstation_limits,
    assign,
    fixed_key,
    group_of,
    span_of,
)
from .base import Choice, SolverConfig, build_result, lock_rows
from .cpsat_model import (
    NAME,
    CpAggregated,
    add_at_most_one_per_student,
    add_locks,
    build_model,
    conflicting_locks,
    linear_sum,
)
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
from .linear import value as terms_value

Tier = tuple[int, int]
"""How a workstation ranks a student; lower is better, equal explicit ranks tie."""

STABLE_NOTE = "stable: no student and workstation prefer each other (no blocking pair)"


@dataclass
class StableModel(CpAggregated):
    """The aggregated model's families on per-student starts, plus the stability data.

    ``x[i,w,k]`` are columns of the neutral model (``agg``); the stability data (``up``,
    ``prefix``, ``full``) are CP-SAT variables.
    """

    x: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (i, w, k) -> column
    up: dict[tuple[int, int], Any] = field(default_factory=dict)  # (i, r)
    holders: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # (w, t) -> j
    prefix: dict[tuple[int, int, int], Any] = field(default_factory=dict)  # (w, t, c)
    full: dict[tuple[int, int, int], tuple[Any, int]] = field(default_factory=dict)
    clauses: list[tuple[int, int, tuple[tuple[int, int, int], ...]]] = field(
        default_factory=list)  # (i, r, full keys)


# ---- the workstations' order ----------------------------------------------------------------
def tiers(enc: Encoded) -> list[dict[int, Tier]]:
    """``tiers(enc)[w][i]``: how ``w`` ranks ``i`` (``rankings.csv``, else priority order).

    Equal explicit ranks give equal tiers: the checker lets neither displace the other.
    """
    own: dict[tuple[int, int], int] = {}
    wix = {w: k for k, w in enumerate(enc.workstation_ids)}
    iix = {s: k for k, s in enumerate(enc.student_ids)}
    for rk in enc.problem.rankings:
        own[wix[rk.workstation_id], iix[rk.student_id]] = rk.rank
    pos = enc.priority_position
    return [{i: (0, own[w, i]) if (w, i) in own else (1, pos[i])
             for i in range(enc.n_students)} for w in range(len(enc.workstation_ids))]


def fits(enc: Encoded, i: int, w: int) -> bool:
    """Whether student ``i`` fits ``w`` for a blocking pair: discipline and partnership only."""
    partners = enc.ws_partners[w]
    return enc.st_disc[i] in enc.ws_disc[w] and (partners is None or enc.st_univ[i] in partners)


# ---- model building: one function per constraint family ------------------------------------
def _start_key(enc: Encoded, i: int, w: int, k: int) -> StartKey:
    """Student ``i``'s start group at ``(w, k)``: cpsat's key narrowed to that one start."""
    return fixed_key(enc, i, w, k, span_of(enc, i)[2])


def _add_start_columns(mdl: StableModel) -> None:
    """One 0/1 column ``x[i,w,k]`` per allowed (workstation, start) of each student; grouped
    for the counts (each start group has one start: ``z[a,k]`` is its members' sum)."""
    enc, agg = mdl.enc, mdl.agg
    members: dict[StartKey, list[tuple[int, GroupKey]]] = defaultdict(list)
    for i in range(enc.n_students):
        for w, k in enc.options(i):
            j = agg.lp.var(1, ("x", i, w, k), boolean=True)
            mdl.x[i, w, k] = j
            agg.placed_cols.setdefault(i, []).append(j)
            members[_start_key(enc, i, w, k)].append((j, group_of(enc, i)))
    agg.members = dict(sorted(members.items()))
    for a, items in agg.members.items():
        agg.z[a, a[3]] = [(j, 1) for j, _ in items]


def _add_rank_prefixes(mdl: StableModel) -> None:
    """``up[i,r]``: student ``i`` is at one of its first ``r`` choices (a running sum)."""
    enc, cp = mdl.enc, mdl.model
    at: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for (i, w, _k), j in mdl.x.items():
        at[i, w].append(mdl.var(j))
    for i in range(enc.n_students):
        prev: Any = None
        for r, w in enumerate(enc.st_prefs[i], start=1):
            here = at.get((i, w), [])
            if here:
                cur = cp.new_bool_var(f"up_{i}_{r}")
                cp.add(cur == linear_sum(([prev] if prev is not None else []) + here))
                prev = cur
            if prev is not None:
                mdl.up[i, r] = prev


def _possible_holders(mdl: StableModel, tier: list[dict[int, Tier]]) -> None:
    """Who may hold a place at ``(w, t)``, in ``w``'s order (ties by index)."""
    enc = mdl.enc
    holders: dict[tuple[int, int], set[int]] = defaultdict(set)
    for i, w, k in mdl.x:
        for t in enc.covers(k, enc.st_block[i]):
            holders[w, t].add(i)
    for (w, t), js in sorted(holders.items()):
        mdl.holders[w, t] = sorted(js, key=lambda j: (tier[w][j], j))


def _occupancy(mdl: StableModel, j: int, w: int, t: int) -> list[Any]:
    """The starts of ``j`` at ``w`` that cover ``t`` (at most one is chosen)."""
    n = mdl.enc.st_block[j]
    return [mdl.var(mdl.x[j, w, k]) for k in range(t - n + 1, t + 1) if (j, w, k) in mdl.x]


def _add_full_indicators(mdl: StableModel, tier: list[dict[int, Tier]]
                         ) -> dict[tuple[int, int, int], int]:
    """``full[i,w,t] => P[w,t,c(i)] >= cap[w,t]``, with the prefix sums ``P`` it needs.

    Returns the cut ``c(i)`` of each ``(i, w, t)`` asked about (also those left out because
    they cannot hold).
    """
    enc, cp = mdl.enc, mdl.model
    asked: dict[tuple[int, int, int], int] = {}
    cuts: dict[tuple[int, int], set[int]] = defaultdict(set)
    keys = {wt: [tier[wt[0]][j] for j in order] for wt, order in mdl.holders.items()}
    members = {wt: set(order) for wt, order in mdl.holders.items()}
    for i in range(enc.n_students):
        n, first, last = enc.st_block[i], enc.st_first[i], enc.st_last[i]
        for w in enc.st_prefs[i]:
            if not fits(enc, i, w):
                continue
            for k in enc.starts(w, n, first, last):
                for t in enc.covers(k, n):
                    if (i, w, t) in asked:
                        continue
                    # c(i): possible holders w ranks at or above i (i itself among them).
                    c = bisect_right(keys.get((w, t), []), tier[w][i])
                    asked[i, w, t] = c
                    if c - (i in members.get((w, t), ())) >= enc.ws_cap[w][t]:
                        cuts[w, t].add(c)
    # Prefix sums along w's order, only at the cuts asked for.
    for (w, t), cs in sorted(cuts.items()):
        order, prev_c, prev = mdl.holders[w, t], 0, None
        for c in sorted(cs):
            step = [v for j in order[prev_c:c] for v in _occupancy(mdl, j, w, t)]
            var = cp.new_int_var(0, min(c, enc.ws_cap[w][t]), f"P_{w}_{t}_{c}")
            cp.add(var == linear_sum(([prev] if prev is not None else []) + step))
            mdl.prefix[w, t, c] = var
            prev_c, prev = c, var
    for (i, w, t), c in sorted(asked.items()):
        if c - (i in members.get((w, t), ())) >= enc.ws_cap[w][t]:
            lit = cp.new_bool_var(f"full_{i}_{w}_{t}")
            cp.add(mdl.prefix[w, t, c] >= enc.ws_cap[w][t]).only_enforce_if(lit)
            mdl.full[i, w, t] = (lit, c)
    return asked


def _add_no_blocking_pairs(mdl: StableModel) -> None:
    """For each listed, fitting ``w`` and open block: ``i`` at ``w`` or better, or a full term."""
    enc, cp = mdl.enc, mdl.model
    seen: set[tuple[int, int, tuple[tuple[int, int, int], ...]]] = set()
    for i in range(enc.n_students):
        n, first, last = enc.st_block[i], enc.st_first[i], enc.st_last[i]
        for r, w in enumerate(enc.st_prefs[i], start=1):
            if not fits(enc, i, w):
                continue
            for k in enc.starts(w, n, first, last):
                keys = tuple((i, w, t) for t in enc.covers(k, n) if (i, w, t) in mdl.full)
                clause = (i, r, keys)
                if clause in seen:
                    continue
                seen.add(clause)
                mdl.clauses.append(clause)
                lits = [mdl.full[key][0] for key in keys]
                if (i, r) in mdl.up:
                    lits.append(mdl.up[i, r])
                cp.add_bool_or(lits)  # empty: no stable allocation exists


def _add_objectives(mdl: StableModel) -> None:
    """Level 1: students placed. Level 2: rank cost (rank r on the list, else K + 1)."""
    enc, agg = mdl.enc, mdl.agg
    agg.placed = [(j, 1) for j in mdl.x.values()]
    agg.rank_cost = [(j, enc.cost(i, w)) for (i, w, _k), j in sorted(mdl.x.items())]
    mdl.make_objectives()


def build_stable_model(enc: Encoded) -> StableModel:
    """The full model (without objective): every hard rule and no blocking pair."""
    mdl = StableModel(enc)
    agg = mdl.agg
    tier = tiers(enc)
    _add_start_columns(mdl)
    add_at_most_one_per_student(mdl)
    add_workstation_limits(agg)
    add_mentor_limits(agg)
    add_supervisor_limits(agg)
    add_locks(mdl)
    add_pair_counts(agg)
    _add_objectives(mdl)
    _add_rank_prefixes(mdl)
    _possible_holders(mdl, tier)
    _add_full_indicators(mdl, tier)
    _add_no_blocking_pairs(mdl)
    return mdl


# ---- from the model back to students, and from an allocation to a hint ---------------------
def _allocation(mdl: StableModel, solver: cp_model.CpSolver) -> dict[int, Choice]:
    """One ``(w, mentor, supervisor, start)`` per placed student from the solution."""
    enc, agg = mdl.enc, mdl.agg
    x = mdl.solution(solver)
    station = {i: w for (i, w, _k), j in mdl.x.items() if x[j] > 0.5}
    start = {i: k for (i, _w, k), j in mdl.x.items() if x[j] > 0.5}
    pair_counts: list[tuple[PairKey, int]] = [(key, round(x[j])) for key, j in agg.r.items()]
    return assign(enc, station,
                  lambda i: (_start_key(enc, i, station[i], start[i]), group_of(enc, i)),
                  pair_counts,
                  {key: terms_value(x, t) for key, t in agg.z.items()},
                  {key: terms_value(x, t) for key, t in agg.g.items()},
                  {key: terms_value(x, t) for key, t in agg.h.items()})


def hint_allocation(mdl: StableModel, chosen: dict[int, Choice]) -> int:
    """Hint the model with a complete allocation; returns how many clauses it violates.

    Zero violated clauses means the allocation has no blocking pair (the clauses are exact).
    """
    enc, cp, agg = mdl.enc, mdl.model, mdl.agg
    values: dict[int, int] = {}
    at = {i: (w, k) for i, (w, _m, _s, k) in chosen.items()}
    for (i, w, k), j in mdl.x.items():
        values[mdl.var(j).index] = int(at.get(i) == (w, k))
    for (i, r), v in mdl.up.items():
        values[v.index] = int(i in at and enc.rank_of[i].get(at[i][0], r + 1) <= r)
    running: dict[tuple[int, int], list[int]] = {}  # (w, t) -> holders so far, along w's order
    for (w, t), order in mdl.holders.items():
        counts = running[w, t] = [0]
        for j in order:
            held = j in at and at[j][0] == w and t in enc.covers(at[j][1], enc.st_block[j])
            counts.append(counts[-1] + held)
    prefix_value: dict[tuple[int, int, int], int] = {}
    for (w, t, c), v in mdl.prefix.items():
        prefix_value[w, t, c] = values[v.index] = running[w, t][c]
    full_value: dict[tuple[int, int, int], int] = {}
    for (i, w, t), (lit, c) in mdl.full.items():
        full_value[i, w, t] = int(prefix_value[w, t, c] >= enc.ws_cap[w][t])
        values[lit.index] = full_value[i, w, t]
    violated = sum(1 for i, r, keys in mdl.clauses
                   if not values.get(mdl.up[i, r].index if (i, r) in mdl.up else -1, 0)
                   and not any(full_value[key] for key in keys))
    # The aggregated counts: mentors per pool, supervisors per group (only real split vars).
    pool_count: dict[tuple[PoolKey, int], int] = defaultdict(int)
    group_count: dict[tuple[GroupKey, int], int] = defaultdict(int)
    for i, (w, m, s, k) in chosen.items():
        a = _start_key(enc, i, w, k)
        if a[5] < 0:
            pool_count[(w, a[1], k, a[2]), m] += 1
        group_count[group_of(enc, i), s] += 1
    for (pool, m), j in agg.g_col.items():
        values[mdl.var(j).index] = pool_count.get((pool, m), 0)
    for (grp, s), j in agg.h_col.items():
        values[mdl.var(j).index] = group_count.get((grp, s), 0)
    for j in agg.r.values():
        values[mdl.var(j).index] = 0
    for lit in mdl.lock_lits.values():
        values[lit.index] = 1
    cp.clear_hints()
    for idx, val in sorted(values.items()):
        cp.add_hint(cp.get_int_var_from_proto_index(idx), val)
    return violated


# ---- solving ----------------------------------------------------------------------------------
def unsupported_rules(problem: Problem) -> list[str]:
    """The rules of issue 28 in ``problem`` that this model does not state (its blocking pairs
    are defined by list position, one contiguous block and no coupling between students)."""
    p = problem
    out = []
    if any(s.preference_ranks for s in p.students):
        out.append("tied choices")
    if p.vetoes:
        out.append("vetoes")
    if p.groups:
        out.append("groups")
    if any(w.min_intake > 1 for w in p.workstations):
        out.append("minimum intakes")
    if p.policy.max_segments > 1 or any((s.max_segments or 1) > 1 for s in p.students):
        out.append("split practice")
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
        stopped at its time limit (the bounds say what is proven); INFEASIBLE when no
        allocation keeping every rule is free of blocking pairs (the message says whether locks
        are to blame); UNKNOWN when nothing was found in time. Stats hold
        ``blocking_pair_constraints``.

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
                   "student and a workstation that prefer each other (a blocking pair; mentor "
                   "and supervisor limits do not excuse one, so a workstation with room whose "
                   "mentors are full still blocks); solve without --stable for the best "
                   "allocation, and see matcher check --stability")
    stats["conflicting_locks"] = [enc.student_ids[i] for i in culprits]
    return build_result(enc, NAME, Status.INFEASIBLE, {}, config, clock.now() - t0,
                        stats=stats, message=msg)


def _solve(problem: Problem, config: SolverConfig, stop: Stop) -> Result:
    t0 = clock.now()
    deadline = t0 + config.time_limit_s
    enc = encode(problem)
    mdl = build_stable_model(enc)
    cp = mdl.model
    stats: dict[str, Any] = {
        "stable": True, "variables": len(cp.proto.variables),
        "constraints": len(cp.proto.constraints),
        "blocking_pair_constraints": len(mdl.clauses),
        "full_indicators": len(mdl.full), "prefix_sums": len(mdl.prefix),
        "build_seconds": round(clock.now() - t0, 3)}

    # Bounds of every allocation hold for the stable ones; deferred acceptance as the hint.
    relax = relaxation(enc)
    quick_ub = min(len(mdl.agg.placed_cols), relax.placed_ub)
    da = deferred_acceptance(enc).chosen
    warm: dict[int, Choice] | None = None
    if da is not None:
        violated = hint_allocation(mdl, da)
        stats["da_placed"], stats["da_violated_clauses"] = len(da), violated
        warm = da if violated == 0 else None

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
                                    "search got going: this is deferred acceptance's allocation")
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

    chosen = _allocation(mdl, best) if best is not None else dict(warm or {})
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
