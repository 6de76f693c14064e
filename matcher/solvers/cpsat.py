"""The exact solver: a CP-SAT model of the whole allocation, proven level by level.

The model is exact but *aggregated* wherever students are interchangeable, so that it stays
small and free of symmetry (performance-facts: CP-SAT earns its keep up to a few hundred
thousand variables, and symmetric per-student copies only slow its proof down).

Notation: students ``i``, workstations ``w``, mentors ``m``, supervisors ``s``, terms ``t``,
start terms ``k``, block length ``n``; ``cov(k, n) = {k, ..., k+n-1}``.

Keys
    *start group* ``a = (w, d, n, first, last, mlock)``: students at ``w`` of discipline ``d``
    with an ``n``-term block inside ``[first, last]`` (a lock's start narrows the window to the
    block) and a locked mentor (or -1). Members of one start group are interchangeable for
    starts. *Mentor pool* ``p = (w, d, k, n)``: interchangeable for mentors. *Supervisor
    group* ``q``: ``("free", u, d)``, or ``("given", s)`` for a given supervisor.

Variables
    ``y[i,w]``      bool: student ``i`` at listed choice ``w`` (cost: its rank).
    ``ovf[i]``      bool: student ``i`` placed off its list (cost ``K+1``).
    ``o[c,w]``      int: off-list students of class ``c`` at ``w``; a class is the students
                    sharing a profile and given supervisor, so they share every off-list option.
    ``z[a,k]``      int: members of start group ``a`` starting at term ``k``.
    ``g[p,m]``      int: students of mentor pool ``p`` mentored by ``m``.
    ``h[q,s]``      int: placed students of supervisor group ``q`` supervised by ``s``.
    ``r[a,k,q,s,m]`` int: students of group ``q`` in ``(a, k)`` given the rewarded pair (s, m).

Why the aggregation is exact: each family of interchangeable students can be given starts,
mentors and supervisors one by one from any integer counts that keep the limits (see
``_disaggregate``), and every per-student allocation gives such counts. Mentor and supervisor
choices are independent but for the rewarded pairs, which are counted per ``(a, k, q)`` cell
within both the cell's and the mentor's and supervisor's counts. An off-list student sent to a
workstation that happens to be on its list is cheaper in reality than in the model, so bounds
stay valid, and at the optimum it never happens.

Levels (lexicographic): 1. maximise placed; 2. with placed fixed, minimise rank cost; 3. with
both fixed, maximise the pair weight. Each stage is warm-started with the previous solution.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from ..encoding import PAIR_SCALE, Encoded, encode
from ..model import Problem
from ..result import Result, Status
from .base import Choice, SolverConfig, build_result
from .greedy import serial_dictatorship

NAME = "cpsat"

StartKey = tuple[int, int, int, int, int, int]  # (w, d, n, first, last, mlock)
PoolKey = tuple[int, int, int, int]  # (w, d, k, n)
GroupKey = tuple[str, int, int]  # ("free", u, d) or ("given", s, -1)
Expr = Any  # an IntVar or a linear expression


def _ub(v: Any) -> int:
    """Upper bound of a model variable (the proto view does not support negative indexing)."""
    domain = v.proto.domain
    return int(domain[len(domain) - 1])


def _sum(items: list[Any]) -> Expr:
    return cp_model.LinearExpr.sum(items)


def _group(enc: Encoded, i: int) -> GroupKey:
    s = enc.st_sup[i]
    return ("given", s, -1) if s >= 0 else ("free", enc.st_univ[i], enc.st_disc[i])


def _span(enc: Encoded, i: int) -> tuple[int, int, int]:
    """(first, last, mlock): the window a student's block must lie in, and a locked mentor."""
    lock = enc.st_lock[i]
    if lock is not None and lock[2] >= 0:
        return lock[2], lock[2] + enc.st_block[i] - 1, lock[1]
    return enc.st_first[i], enc.st_last[i], -1 if lock is None else lock[1]


@dataclass
class _Model:
    """The CP-SAT model with handles to its variables."""

    enc: Encoded
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    y: dict[tuple[int, int], Any] = field(default_factory=dict)
    ovf: dict[int, Any] = field(default_factory=dict)
    classes: list[tuple[tuple[Any, ...], list[int]]] = field(default_factory=list)
    o: dict[tuple[int, int], Any] = field(default_factory=dict)  # (class index, w)
    members: dict[StartKey, list[tuple[Any, GroupKey]]] = field(default_factory=dict)
    z: dict[tuple[StartKey, int], Expr] = field(default_factory=dict)
    g: dict[tuple[PoolKey, int], Expr] = field(default_factory=dict)
    h: dict[tuple[GroupKey, int], Expr] = field(default_factory=dict)
    r: dict[tuple[StartKey, int, GroupKey, int, int], Any] = field(default_factory=dict)
    placed_lits: dict[int, list[Any]] = field(default_factory=dict)
    lock_lits: dict[int, Any] = field(default_factory=dict)
    # Indices of the z, g and h variables created (other entries are shortcut expressions).
    split_vars: dict[str, set[int]] = field(
        default_factory=lambda: {"z": set(), "g": set(), "h": set()})
    placed: Expr = 0
    rank_cost: Expr = 0
    pair_weight: Expr = 0


# ---- model building: one function per constraint family ------------------------------------
def _stations(enc: Encoded, i: int) -> list[int]:
    """Workstations student ``i`` may be placed at (some start fits), in index order."""
    return sorted({w for w, _k in enc.options(i)})


def _add_choice_variables(mdl: _Model) -> None:
    """Variables only for allowed options: listed (or locked) stations, and off-list classes."""
    enc, cp = mdl.enc, mdl.model
    class_members: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i in range(enc.n_students):
        stations = _stations(enc, i)
        locked = enc.st_lock[i] is not None
        for w in stations:
            if locked or w in enc.rank_of[i]:
                mdl.y[i, w] = cp.new_bool_var(f"y_{i}_{w}")
        if not locked and not enc.preferences_only and any(
                w not in enc.rank_of[i] for w in stations):
            class_members[(*enc.profile(i), enc.st_sup[i])].append(i)
    for c, key in enumerate(sorted(class_members)):
        members = class_members[key]
        mdl.classes.append((key, members))
        for i in members:
            mdl.ovf[i] = cp.new_bool_var(f"ovf_{i}")
        u, d, n, first, last = key[:5]
        for w in sorted({w for w, _k in enc.profile_options((u, d, n, first, last))}):
            mdl.o[c, w] = cp.new_int_var(0, len(members), f"o_{c}_{w}")
    lits: dict[int, list[Any]] = defaultdict(list)
    for (i, _w), v in mdl.y.items():
        lits[i].append(v)
    for i, v in mdl.ovf.items():
        lits[i].append(v)
    mdl.placed_lits = dict(lits)


def _add_one_placement_per_student(mdl: _Model) -> None:
    """Each student takes at most one option (listed, locked or off-list)."""
    for lits in mdl.placed_lits.values():
        if len(lits) > 1:
            mdl.model.add_at_most_one(lits)


def _add_class_links(mdl: _Model) -> None:
    """Off-list students of a class are exactly the places the class takes off-list."""
    by_class: dict[int, list[Any]] = defaultdict(list)
    for (c, _w), v in mdl.o.items():
        by_class[c].append(v)
    for c, (_key, members) in enumerate(mdl.classes):
        mdl.model.add(_sum([mdl.ovf[i] for i in members]) == _sum(by_class[c]))


def _add_start_split(mdl: _Model) -> None:
    """Each start group's members are split over the starts that fit its window."""
    enc, cp = mdl.enc, mdl.model
    members: dict[StartKey, list[tuple[Any, GroupKey]]] = defaultdict(list)
    for (i, w), v in mdl.y.items():
        first, last, mlock = _span(enc, i)
        members[w, enc.st_disc[i], enc.st_block[i], first, last, mlock].append(
            (v, _group(enc, i)))
    for (c, w), v in mdl.o.items():
        key, _ = mdl.classes[c]
        u, d, n, first, last, sup = key
        grp: GroupKey = ("given", sup, -1) if sup >= 0 else ("free", u, d)
        members[w, d, n, first, last, -1].append((v, grp))
    mdl.members = dict(sorted(members.items()))
    for a, items in mdl.members.items():
        w, _d, n, first, last, _m = a
        total = _sum([v for v, _ in items])
        starts = enc.starts(w, n, first, last)
        if len(starts) == 1:
            mdl.z[a, starts[0]] = total
            continue
        ub = sum(_ub(v) for v, _ in items)
        split = [cp.new_int_var(0, ub, f"z_{'_'.join(map(str, a))}_{k}") for k in starts]
        mdl.split_vars["z"].update(v.index for v in split)
        cp.add(_sum(split) == total)
        for k, v in zip(starts, split, strict=True):
            mdl.z[a, k] = v


def _bound(expr: Expr) -> int:
    return _ub(expr) if hasattr(expr, "proto") else 1 << 30


def _add_workstation_capacity(mdl: _Model) -> None:
    """In every term, a workstation holds at most its (term) capacity."""
    enc = mdl.enc
    load: dict[tuple[int, int], list[Expr]] = defaultdict(list)
    for (a, k), v in mdl.z.items():
        for t in enc.covers(k, a[2]):
            load[a[0], t].append(v)
    for (w, t), vs in sorted(load.items()):
        if sum(_bound(v) for v in vs) > enc.ws_cap[w][t]:
            mdl.model.add(_sum(vs) <= enc.ws_cap[w][t])


def _add_mentor_capacity(mdl: _Model) -> None:
    """Each mentor pool is split among its mentors; a mentor holds at most its capacity a term."""
    enc, cp = mdl.enc, mdl.model
    mentor_load: dict[tuple[int, int], list[Expr]] = defaultdict(list)
    pools: dict[PoolKey, list[Expr]] = defaultdict(list)
    for (a, k), v in mdl.z.items():
        w, d, n, _first, _last, mlock = a
        if mlock >= 0:
            for t in enc.covers(k, n):
                mentor_load[mlock, t].append(v)
        else:
            pools[w, d, k, n].append(v)
    for key in sorted(pools):
        w, d, k, n = key
        mentors = enc.mentors_for(w, d)
        if len(mentors) == 1:
            mdl.g[key, mentors[0]] = _sum(pools[key])
        else:
            ub = sum(_bound(v) for v in pools[key])
            split = [cp.new_int_var(0, min(ub, enc.m_cap[m]), f"g_{w}_{d}_{k}_{n}_{m}")
                     for m in mentors]
            mdl.split_vars["g"].update(v.index for v in split)
            cp.add(_sum(split) == _sum(pools[key]))
            for m, v in zip(mentors, split, strict=True):
                mdl.g[key, m] = v
        for m in mentors:
            for t in enc.covers(k, n):
                mentor_load[m, t].append(mdl.g[key, m])
    for (m, _t), vs in sorted(mentor_load.items()):
        if sum(_bound(v) for v in vs) > enc.m_cap[m]:
            cp.add(_sum(vs) <= enc.m_cap[m])


def _student_placed(mdl: _Model, i: int) -> Expr:
    return _sum(mdl.placed_lits.get(i, []))


def _add_supervisor_capacity(mdl: _Model) -> None:
    """Placed students of a group are split among its supervisors; each within capacity."""
    enc, cp = mdl.enc, mdl.model
    load: dict[int, list[tuple[Expr, int]]] = defaultdict(list)
    groups: dict[GroupKey, list[int]] = defaultdict(list)
    for i in sorted(mdl.placed_lits):
        groups[_group(enc, i)].append(i)
    for key in sorted(groups):
        members = groups[key]
        count = _sum([_student_placed(mdl, i) for i in members])
        sups = enc.supervisors_for(members[0])
        if len(sups) == 1:
            mdl.h[key, sups[0]] = count
        else:
            split = [cp.new_int_var(0, min(len(members), enc.s_cap[s]), f"h_{key[1]}_{key[2]}_{s}")
                     for s in sups]
            mdl.split_vars["h"].update(v.index for v in split)
            cp.add(_sum(split) == count)
            for s, v in zip(sups, split, strict=True):
                mdl.h[key, s] = v
        for s in sups:
            load[s].append((mdl.h[key, s], len(members)))
    for s, items in sorted(load.items()):
        if sum(n for _, n in items) > enc.s_cap[s]:
            cp.add(_sum([v for v, _ in items]) <= enc.s_cap[s])


def _add_locks(mdl: _Model) -> None:
    """A locked student is placed; the lock is an assumption so conflicts can be explained."""
    for i, lk in enumerate(mdl.enc.st_lock):
        if lk is None:
            continue
        lit = mdl.model.new_bool_var(f"lock_{i}")
        mdl.lock_lits[i] = lit
        mdl.model.add(_student_placed(mdl, i) == 1).only_enforce_if(lit)
        mdl.model.add_assumption(lit)


def _add_pair_counts(mdl: _Model) -> None:
    """Rewarded pairs per (start group, start, supervisor group), within every count they use."""
    enc, cp = mdl.enc, mdl.model
    if not enc.use_pairs:
        return
    pairs_by_mentor: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for s, m, wgt in enc.pairs:
        pairs_by_mentor[m].append((s, wgt))
    objective: list[tuple[Any, int]] = []
    per_cell: dict[tuple[StartKey, int], list[Any]] = defaultdict(list)
    per_group: dict[tuple[StartKey, GroupKey], list[Any]] = defaultdict(list)
    per_mentor: dict[tuple[PoolKey, int], list[Any]] = defaultdict(list)
    per_sup: dict[tuple[GroupKey, int], list[Any]] = defaultdict(list)
    for a, items in mdl.members.items():
        w, d, n, first, last, mlock = a
        group_size: dict[GroupKey, int] = defaultdict(int)
        for v, grp in items:
            group_size[grp] += _ub(v)
        mentors = [mlock] if mlock >= 0 else enc.mentors_for(w, d)
        for k in enc.starts(w, n, first, last):
            for grp in sorted(group_size):
                for m in mentors:
                    for s, wgt in pairs_by_mentor.get(m, []):
                        if grp[0] == "given" and grp[1] != s:
                            continue
                        if grp[0] == "free" and (enc.s_univ[s] != grp[1] or d not in
                                                 enc.s_disc[s] or enc.s_cap[s] <= 0):
                            continue
                        ub = min(group_size[grp], enc.m_cap[m], enc.s_cap[s])
                        v = cp.new_int_var(0, ub, f"r_{len(mdl.r)}")
                        mdl.r[a, k, grp, s, m] = v
                        objective.append((v, wgt))
                        per_cell[a, k].append(v)
                        per_group[a, grp].append(v)
                        if mlock < 0:
                            per_mentor[(w, d, k, n), m].append(v)
                        if grp[0] == "free":
                            per_sup[grp, s].append(v)
    for (a, k), vs in per_cell.items():
        cp.add(_sum(vs) <= mdl.z[a, k])
    for (a, grp), vs in per_group.items():
        cp.add(_sum(vs) <= _sum([v for v, g in mdl.members[a] if g == grp]))
    for (pool, m), vs in per_mentor.items():
        cp.add(_sum(vs) <= mdl.g[pool, m])
    for (grp, s), vs in per_sup.items():
        cp.add(_sum(vs) <= mdl.h[grp, s])
    if objective:
        mdl.pair_weight = cp_model.LinearExpr.weighted_sum([v for v, _ in objective],
                                                           [wgt for _, wgt in objective])


def _add_objective_expressions(mdl: _Model) -> None:
    """Level 1: students placed. Level 2: rank cost (rank r on the list, else K + 1)."""
    enc = mdl.enc
    mdl.placed = _sum([v for vs in mdl.placed_lits.values() for v in vs])
    terms = [(v, enc.cost(i, w)) for (i, w), v in mdl.y.items()]
    terms += [(v, enc.max_list + 1) for v in mdl.ovf.values()]
    mdl.rank_cost = cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])


def build_model(enc: Encoded) -> _Model:
    """Build the full CP-SAT model (without objective) for an encoded problem."""
    mdl = _Model(enc)
    _add_choice_variables(mdl)
    _add_one_placement_per_student(mdl)
    _add_class_links(mdl)
    _add_start_split(mdl)
    _add_workstation_capacity(mdl)
    _add_mentor_capacity(mdl)
    _add_supervisor_capacity(mdl)
    _add_locks(mdl)
    _add_pair_counts(mdl)
    _add_objective_expressions(mdl)
    return mdl


# ---- solving --------------------------------------------------------------------------------
def _solver(config: SolverConfig, time_left: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = max(1, config.workers)
    prm.random_seed = config.seed
    prm.max_time_in_seconds = max(0.01, time_left)
    # Deterministic multi-worker search: the same input, seed and workers give the same answer.
    prm.interleave_search = True
    prm.log_search_progress = config.log
    return solver


def _hint_from(mdl: _Model, solver: cp_model.CpSolver) -> None:
    """Warm-start the next stage with the current solution (a complete hint)."""
    cp = mdl.model
    cp.clear_hints()
    for i in range(len(cp.proto.variables)):
        v = cp.get_int_var_from_proto_index(i)
        cp.add_hint(v, solver.value(v))


def _hint_from_choices(mdl: _Model, chosen: dict[int, Choice]) -> None:
    """Warm-start stage 1 with a complete feasible allocation (e.g. the greedy one)."""
    enc, cp = mdl.enc, mdl.model
    values: dict[int, int] = {}

    def put(var: Any, value: int, family: str = "") -> None:
        # A z/g/h entry may be a shortcut expression over other variables: skip those.
        if not family or (hasattr(var, "proto") and var.index in mdl.split_vars[family]):
            values[var.index] = values.get(var.index, 0) + value

    for var in [*mdl.y.values(), *mdl.ovf.values(), *mdl.o.values(), *mdl.r.values()]:
        put(var, 0)
    for family, table in (("z", mdl.z), ("g", mdl.g), ("h", mdl.h)):
        for var in table.values():
            put(var, 0, family)
    class_of = {i: c for c, (_key, members) in enumerate(mdl.classes) for i in members}
    for i, (w, m, s, k) in chosen.items():
        first, last, mlock = _span(enc, i)
        if (i, w) in mdl.y:
            put(mdl.y[i, w], 1)
        else:
            put(mdl.ovf[i], 1)
            put(mdl.o[class_of[i], w], 1)
        put(mdl.z[(w, enc.st_disc[i], enc.st_block[i], first, last, mlock), k], 1, "z")
        if mlock < 0:
            put(mdl.g[(w, enc.st_disc[i], k, enc.st_block[i]), m], 1, "g")
        put(mdl.h[_group(enc, i), s], 1, "h")
    for lit in mdl.lock_lits.values():
        values[lit.index] = 1
    cp.clear_hints()
    for idx, val in sorted(values.items()):
        cp.add_hint(cp.get_int_var_from_proto_index(idx), val)


def _value(solver: cp_model.CpSolver, expr: Expr) -> int:
    return int(solver.value(expr))


def _disaggregate(mdl: _Model, solver: cp_model.CpSolver) -> dict[int, Choice]:
    """Turn the aggregated solution into one (w, mentor, supervisor, start) per student."""
    enc = mdl.enc
    station: dict[int, int] = {i: w for (i, w), v in mdl.y.items() if solver.boolean_value(v)}
    slots: dict[int, list[int]] = defaultdict(list)
    for (c, w), v in sorted(mdl.o.items()):
        slots[c].extend([w] * _value(solver, v))
    for c, (_key, members) in enumerate(mdl.classes):
        chosen = [i for i in members if solver.boolean_value(mdl.ovf[i])]
        for i, w in zip(chosen, slots[c], strict=True):
            station[i] = w
    # Members of each start group, by supervisor group, in index order.
    by_a: dict[StartKey, dict[GroupKey, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i in sorted(station):
        first, last, mlock = _span(enc, i)
        a = (station[i], enc.st_disc[i], enc.st_block[i], first, last, mlock)
        by_a[a][_group(enc, i)].append(i)
    start: dict[int, int] = {}
    mentor: dict[int, int] = {}
    sup: dict[int, int] = {}
    mentor_left = {key: _value(solver, v) for key, v in mdl.g.items()}
    sup_left = {key: _value(solver, v) for key, v in mdl.h.items()}
    start_left = {key: _value(solver, v) for key, v in mdl.z.items()}
    # Rewarded pairs first: they fix a student's start, mentor and supervisor together.
    for (a, k, grp, s, m), v in sorted(mdl.r.items()):
        for _ in range(_value(solver, v)):
            i = next(j for j in by_a[a][grp] if j not in start)
            start[i], mentor[i], sup[i] = k, m, s
            start_left[a, k] -= 1
            if a[5] < 0:
                mentor_left[(a[0], a[1], k, a[2]), m] -= 1
            if grp[0] == "free":
                sup_left[grp, s] -= 1
    for a in sorted(by_a):
        w, d, n, first, last, mlock = a
        starts = enc.starts(w, n, first, last)
        for grp in sorted(by_a[a]):
            for i in by_a[a][grp]:
                if i in start:
                    continue
                k = next(k for k in starts if start_left[a, k] > 0)
                start[i] = k
                start_left[a, k] -= 1
                if mlock >= 0:
                    mentor[i] = mlock
                    continue
                pool = (w, d, k, n)
                m = next(m for m in enc.mentors_for(w, d) if mentor_left[pool, m] > 0)
                mentor[i] = m
                mentor_left[pool, m] -= 1
    for i in sorted(station):
        if i in sup:
            continue
        grp = _group(enc, i)
        if grp[0] == "given":
            sup[i] = grp[1]
            continue
        s = next(s for s in enc.supervisors_for(i) if sup_left[grp, s] > 0)
        sup[i] = s
        sup_left[grp, s] -= 1
    return {i: (w, mentor[i], sup[i], start[i]) for i, w in station.items()}


def _conflicting_locks(mdl: _Model, config: SolverConfig, time_left: float) -> list[int]:
    """A small set of locks that cannot all be honoured (a deletion-filtered UNSAT core)."""
    # Cores (sufficient assumptions) are reported by a single worker.
    solver = _solver(SolverConfig(time_limit_s=time_left, seed=config.seed, workers=1), time_left)
    mdl.model.clear_objective()
    status = solver.solve(mdl.model)
    if status != cp_model.INFEASIBLE:
        return []
    lit_owner = {lit.index: i for i, lit in mdl.lock_lits.items()}
    core = sorted(lit_owner[idx] for idx in solver.sufficient_assumptions_for_infeasibility()
                  if idx in lit_owner)
    if not core or len(core) > 30:
        return core
    # Deletion filter: drop each lock in turn; keep it only if the rest become feasible.
    needed = list(core)
    for i in list(core):
        trial = [j for j in needed if j != i]
        mdl.model.clear_assumptions()
        mdl.model.add_assumptions([mdl.lock_lits[j] for j in trial])
        if solver.solve(mdl.model) == cp_model.INFEASIBLE:
            needed = trial
    return needed


def solve(problem: Problem, config: SolverConfig) -> Result:
    """Solve the allocation exactly with CP-SAT, level by level.

    Parameters
    ----------
    problem
        The validated problem.
    config
        Time limit (for all stages together), seed, workers, logging.

    Returns
    -------
    Result
        OPTIMAL when every stage is proven optimal; FEASIBLE when a stage stopped at its time
        limit (bounds report what is proven); INFEASIBLE when the locks cannot all be honoured
        (the message names a small conflicting set); UNKNOWN when nothing was found in time.
    """
    t0 = time.perf_counter()
    deadline = t0 + config.time_limit_s
    enc = encode(problem)
    mdl = build_model(enc)
    cp = mdl.model
    stats: dict[str, Any] = {"variables": len(cp.proto.variables),
                             "constraints": len(cp.proto.constraints),
                             "build_seconds": round(time.perf_counter() - t0, 3)}

    # Stage 1: maximise the number placed, warm-started with the greedy allocation.
    greedy, failed_locks = serial_dictatorship(enc)
    if not failed_locks:
        _hint_from_choices(mdl, greedy)
    stats["greedy_placed"] = len(greedy)
    cp.maximize(mdl.placed)
    # Each stage may use half of what is left, so the later levels always get time too.
    solver = _solver(config, (deadline - time.perf_counter()) / 2)
    st1 = solver.solve(cp)
    stats["stage1_seconds"] = round(solver.wall_time, 3)
    if st1 == cp_model.INFEASIBLE:
        culprits = _conflicting_locks(mdl, config, max(1.0, deadline - time.perf_counter()))
        names = ", ".join(enc.student_ids[i] for i in culprits) or "(not isolated in time)"
        msg = (f"the locks cannot all be honoured; conflicting locks (students): {names}. "
               "Remove or change one of these locks in locks.csv")
        return build_result(enc, NAME, Status.INFEASIBLE, {}, config,
                            time.perf_counter() - t0, stats=stats | {"conflicting_locks": [
                                enc.student_ids[i] for i in culprits]}, message=msg)
    if st1 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return build_result(enc, NAME, Status.UNKNOWN, {}, config, time.perf_counter() - t0,
                            stats=stats, message="no allocation found within the time limit")
    placed = round(solver.objective_value)
    # Nobody without an allowed option can be placed: a bound CP-SAT may not have reached yet.
    placed_ub = min(math.floor(solver.best_objective_bound + 1e-6), len(mdl.placed_lits))
    proven = st1 == cp_model.OPTIMAL or placed == placed_ub
    best = solver

    # Stage 2: with that many placed, minimise the rank cost.
    _hint_from(mdl, solver)
    cp.add(mdl.placed == placed)
    cp.minimize(mdl.rank_cost)
    share = 0.7 if enc.use_pairs else 1.0
    solver2 = _solver(config, (deadline - time.perf_counter()) * share)
    st2 = solver2.solve(cp)
    stats["stage2_seconds"] = round(solver2.wall_time, 3)
    rank_lb: int | None = None
    if st2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = solver2
        rank_lb = math.ceil(solver2.best_objective_bound - 1e-6)
        proven = proven and st2 == cp_model.OPTIMAL
    else:
        proven = False

    # Stage 3: with both fixed, maximise the weight of rewarded supervisor-mentor pairs.
    if enc.use_pairs and not isinstance(mdl.pair_weight, int) and best is solver2:
        rank = round(solver2.objective_value)
        _hint_from(mdl, solver2)
        cp.add(mdl.rank_cost == rank)
        cp.maximize(mdl.pair_weight)
        solver3 = _solver(config, deadline - time.perf_counter())
        st3 = solver3.solve(cp)
        stats["stage3_seconds"] = round(solver3.wall_time, 3)
        if st3 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = solver3
            stats["pair_weight_upper_bound"] = solver3.best_objective_bound / PAIR_SCALE
            proven = proven and st3 == cp_model.OPTIMAL
        else:
            proven = False

    chosen = _disaggregate(mdl, best)
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    msg = "" if proven else "time limit reached before every level was proven optimal"
    return build_result(enc, NAME, status, chosen, config, time.perf_counter() - t0,
                        placed_upper_bound=placed_ub, rank_cost_lower_bound=rank_lb,
                        stats=stats, message=msg)
