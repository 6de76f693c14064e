"""A plain CP-SAT model of the allocation: the yardstick the exact solver is measured against.

Issue 4 asks how ``cpsat`` compares with "a plain CP-SAT model of the same scenario". This is
that model, written the way one would write it first: no aggregation, no warm start, no flow
bounds, no second engine.

Variables
    ``x[i,w,k,m]`` bool: student ``i`` at workstation ``w`` from start ``k`` with mentor ``m``,
    for every allowed option (listed or, unless ``preferences_only``, off-list; a lock fixes
    what it names). ``s[i,v]`` bool: student ``i`` supervised by ``v`` (only when the student
    has more than one possible supervisor).

Constraints
    at most one option per student (exactly one when locked); one supervisor per placed
    student; per term, workstation and mentor capacities; per supervisor, capacity.

Objective
    maximise ``W * placed - rank_cost`` with ``W = N * (K + 1) + 1``, which is exactly
    lexicographic for levels 1 and 2 (a rank cost is at most ``N * (K + 1)``). Level 3 (pair
    weight) is not modelled: ``stats["pair_weight_proven"]`` is False when the scenario
    rewards pairs.

Size guard: the model is not built when its estimated memory (:data:`BYTES_PER_BOOL` per
boolean, performance-facts) exceeds :data:`MEMORY_BUDGET_BYTES`; the result is then UNKNOWN with
the estimate in its message and stats, so a benchmark row still says why.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from ortools.sat.python import cp_model

from ..encoding import Encoded, encode
from ..model import Problem
from ..model.result import Result, Status
from . import clock
from .base import Choice, SolverConfig, build_result, lock_rows, refuse_quotas
from .cpsat_run import new_solver, wall

NAME = "plain"
BYTES_PER_BOOL = 6_000
"""Memory per boolean of a CP-SAT model on two workers (performance-facts: 5-8 KB)."""
MEMORY_BUDGET_BYTES = 8 << 30
"""Largest estimated model memory that is built (the machine has 24 GiB, shared)."""


def _options(enc: Encoded, i: int) -> list[tuple[int, int, int]]:
    """``(w, k, m)`` options of student ``i``: allowed placements with a fitting mentor."""
    lock = enc.st_lock[i]
    out: list[tuple[int, int, int]] = []
    for w, k in enc.options(i):
        if lock is None and enc.preferences_only and w not in enc.rank_of[i]:
            continue
        mentors = enc.mentors_for(w, enc.st_disc[i])
        if lock is not None and lock[1] >= 0:
            mentors = [m for m in mentors if m == lock[1]]
        out.extend((w, k, m) for m in mentors)
    return out


def estimated_booleans(enc: Encoded) -> int:
    """Booleans the plain model would have (options plus supervisor choices), counted once
    per profile where the students of a profile share their options (fast at 100,000)."""
    per_profile: dict[tuple[int, ...], int] = {}
    mentors: dict[tuple[int, int], int] = {}

    def n_mentors(w: int, d: int) -> int:
        if (w, d) not in mentors:
            mentors[w, d] = len(enc.mentors_for(w, d))
        return mentors[w, d]

    total = 0
    for i in range(enc.n_students):
        total += len(enc.supervisors_for(i))
        if enc.st_lock[i] is not None or enc.preferences_only:
            total += len(_options(enc, i))
            continue
        key = enc.profile(i)
        if key not in per_profile:
            per_profile[key] = sum(n_mentors(w, enc.st_disc[i]) for w, _k in enc.options(i))
        total += per_profile[key]
    return total


def _add_rules(cp: cp_model.CpModel, enc: Encoded, x: dict[tuple[int, int, int, int], Any],
               placed: dict[int, Any]) -> None:
    """Issue 28, per student: the members of a group at one workstation from one first term
    or none (``at(i, w, t) = at(j, w, t)`` for members ``i, j``); a workstation with a minimum
    intake takes none or at least that many (``min open <= load <= M open``)."""
    at: dict[tuple[int, int, int], list[Any]] = defaultdict(list)
    where: dict[int, set[tuple[int, int]]] = defaultdict(set)
    load: dict[int, list[Any]] = defaultdict(list)
    for (i, w, k, _m), v in x.items():
        at[i, w, enc.first_term(k)].append(v)
        where[i].add((w, enc.first_term(k)))
        load[w].append(v)
    for members in enc.groups:
        keys = set().union(*(where[i] for i in members))
        for w, t in sorted(keys):
            first = cp_model.LinearExpr.sum(at.get((members[0], w, t), []))
            for i in members[1:]:
                cp.add(cp_model.LinearExpr.sum(at.get((i, w, t), [])) == first)
        for i in members:
            if i not in placed:  # a member with no option: the group cannot be placed
                for j in members:
                    if j in placed:
                        cp.add(placed[j] == 0)
    for w, vs in sorted(load.items()):
        if enc.ws_min[w] > 1:
            opened = cp.new_bool_var(f"open_{w}")
            cp.add(cp_model.LinearExpr.sum(vs) >= enc.ws_min[w] * opened)
            cp.add(cp_model.LinearExpr.sum(vs) <= len(vs) * opened)


def solve(problem: Problem, config: SolverConfig) -> Result:
    """Solve levels 1-2 with one plain CP-SAT model (see the module docstring).

    Returns
    -------
    Result
        OPTIMAL when CP-SAT proves the combined objective (levels 1 and 2); FEASIBLE with the
        bounds it implies when the time limit stops it; INFEASIBLE when the locks cannot all be
        honoured; UNKNOWN when nothing was found, or the model was too large to build.
    """
    t0 = clock.now()
    enc = encode(problem)
    refused = refuse_quotas(enc, NAME, config)
    if refused is not None:
        return refused
    n_bool = estimated_booleans(enc)
    stats: dict[str, Any] = {"booleans": n_bool,
                             "estimated_model_mib": round(n_bool * BYTES_PER_BOOL / 2**20)}
    if n_bool * BYTES_PER_BOOL > MEMORY_BUDGET_BYTES:
        return build_result(enc, NAME, Status.UNKNOWN, {}, config, clock.now() - t0,
                            stats=stats, message=(
                                f"plain model not built: {n_bool:,} booleans, about "
                                f"{stats['estimated_model_mib']:,} MiB estimated, over the "
                                f"{MEMORY_BUDGET_BYTES >> 20:,} MiB budget"))
    cp = cp_model.CpModel()
    x: dict[tuple[int, int, int, int], Any] = {}
    sup: dict[tuple[int, int], Any] = {}
    placed: dict[int, Any] = {}
    ws_load: dict[tuple[int, int], list[Any]] = defaultdict(list)
    m_load: dict[tuple[int, int], list[Any]] = defaultdict(list)
    s_load: dict[int, list[Any]] = defaultdict(list)
    big = enc.n_students * (enc.max_list + 1) + 1
    objective: list[tuple[Any, int]] = []
    for i in range(enc.n_students):
        opts = _options(enc, i)
        sups = enc.supervisors_for(i)
        if not opts or not sups:
            if enc.st_lock[i] is not None:
                cp.add_bool_or([])  # a lock that cannot be honoured: infeasible
            continue
        lits = []
        for w, k, m in opts:
            v = cp.new_bool_var(f"x_{i}_{w}_{k}_{m}")
            x[i, w, k, m] = v
            lits.append(v)
            objective.append((v, big - enc.cost(i, w)))
            for t in enc.covers(k, enc.st_block[i]):
                ws_load[w, t].append(v)
                m_load[m, t].append(v)
        placed[i] = cp_model.LinearExpr.sum(lits)
        # One option per student, exactly one when locked.
        if enc.st_lock[i] is not None:
            cp.add_exactly_one(lits)
        else:
            cp.add_at_most_one(lits)
        # One supervisor per placed student.
        if len(sups) == 1:
            s_load[sups[0]].append(placed[i])
        else:
            choice = [cp.new_bool_var(f"s_{i}_{s}") for s in sups]
            for s, v in zip(sups, choice, strict=True):
                sup[i, s] = v
                s_load[s].append(v)
            cp.add(cp_model.LinearExpr.sum(choice) == placed[i])
    _add_rules(cp, enc, x, placed)
    # Capacities per term (workstations, mentors) and in all (supervisors).
    for (w, t), vs in ws_load.items():
        cp.add(cp_model.LinearExpr.sum(vs) <= enc.ws_cap[w][t])
    for (m, _t), vs in m_load.items():
        cp.add(cp_model.LinearExpr.sum(vs) <= enc.m_cap[m])
    for s, vs in s_load.items():
        cp.add(cp_model.LinearExpr.sum(vs) <= enc.s_cap[s])
    cp.maximize(cp_model.LinearExpr.weighted_sum([v for v, _ in objective],
                                                 [c for _, c in objective]))
    stats["build_seconds"] = round(clock.now() - t0, 3)
    solver = new_solver(config, config.time_limit_s - (clock.now() - t0))
    prm = solver.parameters
    prm.catch_sigint_signal = True  # (no stage after this one: CP-SAT's own Ctrl-C handling)
    status = solver.solve(cp)
    clock.charge(wall(solver) if clock.deterministic() else 0.0)
    stats["search_seconds"] = wall(solver)
    if status == cp_model.INFEASIBLE:
        locked = [i for i, lk in enumerate(enc.st_lock) if lk is not None]
        return build_result(enc, NAME, Status.INFEASIBLE, {}, config, clock.now() - t0,
                            stats=stats, message=(
                                f"the locks cannot all be honoured; locks: {lock_rows(enc, locked)}"
                                ". Remove or change one of these locks"))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return build_result(enc, NAME, Status.UNKNOWN, {}, config, clock.now() - t0,
                            stats=stats, message="no allocation found within the time limit")
    chosen: dict[int, Choice] = {}
    for (i, w, k, m), v in x.items():
        if solver.boolean_value(v):
            sups = enc.supervisors_for(i)
            s = sups[0] if len(sups) == 1 else next(s for s in sups if solver.boolean_value(
                sup[i, s]))
            chosen[i] = (w, m, s, k)
    bound = solver.best_objective_bound
    placed_ub = math.floor((bound + big - 1) / big + 1e-9)
    rank_lb = max(0, big * len(chosen) - math.floor(bound + 1e-6))
    if enc.use_pairs:
        stats["pair_weight_proven"] = False
    optimal = status == cp_model.OPTIMAL
    return build_result(enc, NAME, Status.OPTIMAL if optimal else Status.FEASIBLE, chosen, config,
                        clock.now() - t0, placed_upper_bound=min(placed_ub, len(placed)),
                        rank_cost_lower_bound=rank_lb, stats=stats,
                        message="" if optimal else "time limit reached before levels 1 and 2 "
                        "were proven optimal")
