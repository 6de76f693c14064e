"""The exact solver: a CP-SAT model of the whole allocation, proven level by level.

Where it applies, levels 1-2 go to the slot model instead (:mod:`matcher.solvers.slots`: a
compact exact MILP whose LP is a min-cost flow, solved by HiGHS with parity cuts, fix and solve
and neighbourhood searches); this module's model then serves level 3 (by HiGHS, through
:func:`matcher.solvers.milp.refine_levels`), re-solves, stable allocations and the scenarios the
slot model does not cover (:data:`USE_SLOT_MODEL`, :func:`_by_slots`).

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
Status OPTIMAL means levels 1 and 2 are proven (the result's contract); whether level 3 is
proven is in the stats (``pair_weight_proven``, ``pair_weight_upper_bound``).

Engines per level: level 1 is CP-SAT's (skipped when the warm start already places the proven
maximum). Levels 2 and 3 go first to HiGHS's LP-based branch and cut on the same aggregated
model (:func:`matcher.solvers.milp.refine_levels`, in a helper process) when the model has
between :data:`LP_MIN_VARIABLES` and :data:`LP_MAX_VARIABLES` variables: the LP relaxation is
nearly tight here (demo: 4,820 against the optimum 4,844) and HiGHS's cuts close the rest, while
on two cores CP-SAT's search hardly moves from a hint and its bound closes slowly. CP-SAT then
searches from the best allocation known for whatever is not yet proven, and the bounds combine.

Warm start and bounds: stage 1 starts from the best of the greedy, deferred-acceptance
and flow-repaired allocations (:func:`matcher.solvers.flow.flow_allocation`), first improved by a
large-neighbourhood step (:func:`_place_more`: students at workstations no unplaced student can
use stay placed, the rest is solved). On two cores CP-SAT's own bounds are weak on large
models, so the reported bounds also take the flow relaxation's (``placed_upper_bound``: the
fewest of CP-SAT's bound, the number of students with any allowed option and the maximum flow;
``rank_cost_lower_bound``: the larger of CP-SAT's and the flow's).

Province scale: above :data:`MAX_CHOICES` choice variables no CP-SAT model is built. HiGHS
solves the aggregated model's LP relaxation (:func:`matcher.solvers.milp.relax`) in its helper
process while this one computes the quick allocations; the LP gives the rank-cost bound (tier
M: 74,536 against the flow relaxation's 50,413) and the workstations for a guided rounding
(exact packing per workstation, supervisors passed on, augmenting moves); the better
allocation gets local rank moves for the rest of the time.

Re-solve (option ``previous``, see :mod:`matcher.resolve`): a ``keep[i]`` option fixes student
``i``'s earlier placement exactly (its start group has the earlier block and mentor, its
supervisor group the earlier supervisor). A level "keep the most" comes between levels 1 and 2;
stage 1 maximises ``placed * (K + 1) + kept`` (K keepable students), which is exactly
lexicographic, after two small restricted solves that keep every earlier placement that still
fits (:func:`_keep_first`).

Interruption: SIGINT or SIGTERM stops the running search (:class:`_Stop`); the best allocation
found so far is returned with status FEASIBLE, so ``matcher solve`` still writes a complete
result. A time limit that ends stage 1 before CP-SAT reports anything returns the warm start.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from ortools.sat.python import cp_model

from .. import progress
from ..encoding import PAIR_SCALE, Encoded, encode
from ..model import Problem
from ..model.result import Result, Status
from . import slots
from .aggregate import GroupKey, PoolKey, StartKey, assign, default_key, group_of, span_of
from .base import Choice, SolverConfig, build_result, lock_rows
from .da import deferred_acceptance
from .flow import REASSIGN_SECONDS, FlowRelaxation, flow_allocation, reassign, repair
from .greedy import serial_dictatorship
from .lagrange import no_later_bound, relax_apart
from .milp import Refined, refine_levels, relax
from .packing import (
    Loads,
    fill_greedily,
    improve_rank,
    lock_failure,
    place_locks,
    place_unplaced,
    repack_unplaced,
)

NAME = "cpsat"
USE_SLOT_MODEL = True
"""Solve levels 1-2 by the slot model where it applies (:mod:`matcher.solvers.slots`); the
CP-SAT model below then serves level 3, re-solves, stable allocations and the problems the
slot model does not cover. Tests of that path switch this off."""

Expr = Any  # an IntVar or a linear expression
_OTHER = -2  # off-list class key: students whose given supervisor is in no rewarded pair


def _ub(v: Any) -> int:
    """Upper bound of a model variable (the proto view does not support negative indexing)."""
    domain = v.proto.domain
    return int(domain[len(domain) - 1])


def _sum(items: list[Any]) -> Expr:
    return cp_model.LinearExpr.sum(items)


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
    # Re-solve: keep[i] is true when student i keeps its previous placement exactly.
    keep: dict[int, Any] = field(default_factory=dict)
    kept_choice: dict[int, Choice] = field(default_factory=dict)
    # Indices of the z, g and h variables created (other entries are shortcut expressions).
    split_vars: dict[str, set[int]] = field(
        default_factory=lambda: {"z": set(), "g": set(), "h": set()})
    placed: Expr = 0
    kept: Expr = 0
    rank_cost: Expr = 0
    pair_weight: Expr = 0


# ---- model building: one function per constraint family ------------------------------------
def keepable(enc: Encoded, i: int, choice: Choice) -> bool:
    """Whether student ``i`` may keep ``choice`` under the (changed) problem's rules alone.

    A locked student may keep a placement its lock allows. Capacities are the model's business.
    """
    w, m, s, k = choice
    lock = enc.st_lock[i]
    return ((w, k) in enc.options(i) and m in enc.mentors_for(w, enc.st_disc[i])
            and (lock is None or lock[1] < 0 or lock[1] == m) and s in enc.supervisors_for(i))


def _add_keep_variables(mdl: _Model, previous: dict[int, Choice]) -> None:
    """Re-solve: one option per student to keep its previous placement exactly."""
    for i in sorted(previous):
        if keepable(mdl.enc, i, previous[i]):
            mdl.keep[i] = mdl.model.new_bool_var(f"keep_{i}")
            mdl.kept_choice[i] = previous[i]
            mdl.placed_lits.setdefault(i, []).append(mdl.keep[i])


def _keep_key(mdl: _Model, i: int) -> tuple[StartKey, GroupKey]:
    """The start group and supervisor group of a kept placement (a fixed block, mentor, sup)."""
    w, m, s, k = mdl.kept_choice[i]
    enc = mdl.enc
    return (w, enc.st_disc[i], enc.st_block[i], k, k + enc.st_block[i] - 1, m), ("given", s, -1)


def _stations(enc: Encoded, i: int) -> list[int]:
    """Workstations student ``i`` may be placed at (some start fits), in index order."""
    return sorted({w for w, _k in enc.options(i)})


def _add_choice_variables(mdl: _Model) -> None:
    """Variables only for allowed options: listed (or locked) stations, and off-list classes."""
    enc, cp = mdl.enc, mdl.model
    class_members: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    paired = {s for s, _m, _w in enc.pairs} if enc.use_pairs else set()
    for i in range(enc.n_students):
        stations = _stations(enc, i)
        locked = enc.st_lock[i] is not None
        for w in stations:
            if locked or w in enc.rank_of[i]:
                mdl.y[i, w] = cp.new_bool_var(f"y_{i}_{w}")
        if not locked and not enc.preferences_only and any(
                w not in enc.rank_of[i] for w in stations):
            # A given supervisor matters to an off-list class only through rewarded pairs.
            sup = enc.st_sup[i]
            class_members[(*enc.profile(i), sup if sup < 0 or sup in paired else _OTHER)].append(i)
    for c, key in enumerate(sorted(class_members)):
        members = class_members[key]
        mdl.classes.append((key, members))
        for i in members:
            mdl.ovf[i] = cp.new_bool_var(f"ovf_{i}")
        u, d, n, first, last = key[:5]
        for w in enc.profile_starts((u, d, n, first, last)):
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
        first, last, mlock = span_of(enc, i)
        members[w, enc.st_disc[i], enc.st_block[i], first, last, mlock].append(
            (v, group_of(enc, i)))
    for i, v in mdl.keep.items():
        a, kept_grp = _keep_key(mdl, i)
        members[a].append((v, kept_grp))
    for (c, w), v in mdl.o.items():
        key, _ = mdl.classes[c]
        u, d, n, first, last, sup = key
        grp: GroupKey = ("free", u, d) if sup == -1 else ("given", sup, -1)
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
    groups: dict[GroupKey, list[Any]] = defaultdict(list)
    first_member: dict[GroupKey, int] = {}
    for i in sorted(mdl.placed_lits):
        kept = mdl.keep.get(i)
        for lit in mdl.placed_lits[i]:
            key = _keep_key(mdl, i)[1] if lit is kept else group_of(enc, i)
            groups[key].append(lit)
            first_member.setdefault(key, i)
    for key in sorted(groups):
        members = groups[key]
        count = _sum(members)
        sups = [key[1]] if key[0] == "given" else enc.supervisors_for(first_member[key])
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
    terms += [(v, enc.cost(i, mdl.kept_choice[i][0])) for i, v in mdl.keep.items()]
    mdl.kept = _sum(list(mdl.keep.values()))
    mdl.rank_cost = cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])


def build_model(enc: Encoded, previous: dict[int, Choice] | None = None) -> _Model:
    """Build the full CP-SAT model (without objective) for an encoded problem.

    ``previous`` (re-solve) gives earlier placements a student may keep exactly.
    """
    mdl = _Model(enc)
    _add_choice_variables(mdl)
    _add_keep_variables(mdl, previous or {})
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
class _Stop:
    """Stops the running search on SIGINT/SIGTERM; later stages are then skipped.

    The best allocation found so far is still returned (status FEASIBLE, with its gap), so an
    interrupted ``matcher solve`` writes a complete result rather than nothing.
    """

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""
        self.solver: cp_model.CpSolver | None = None

    def __call__(self, signum: int, _frame: Any) -> None:
        self.requested = True
        self.signal_name = signal.Signals(signum).name
        if self.solver is not None:
            self.solver.stop_search()


@contextmanager
def _stop_on_signals() -> Iterator[_Stop]:
    """Install the stop handler for SIGINT and SIGTERM (main thread only), then restore."""
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Report(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution (elapsed, best, bound, gap) to the progress display."""

    def __init__(self, stage: str, t0: float):
        super().__init__()
        self.stage = stage
        self.t0 = t0

    def on_solution_callback(self) -> None:
        best, bound = self.objective_value, self.best_objective_bound
        gap = abs(best - bound) / max(1.0, abs(best))
        progress.update(elapsed=time.perf_counter() - self.t0, best=best, bound=bound, gap=gap,
                        note=self.stage)


def _wall(solver: cp_model.CpSolver) -> float:
    """Seconds the solver ran (0 when a stop request skipped it)."""
    try:
        return round(solver.wall_time, 3)
    except RuntimeError:  # never solved
        return 0.0


def _run(solver: cp_model.CpSolver, cp: cp_model.CpModel, stop: _Stop, stage: str,
         t0: float) -> Any:
    """Solve one stage unless a stop was requested; the stop handler can reach the solver."""
    if stop.requested:
        return cp_model.UNKNOWN
    # The search runs in a helper thread so that the main thread, waiting in short joins, keeps
    # running Python signal handlers (they only ever run on the main thread).
    outcome: list[Any] = []

    def search_body() -> None:
        try:
            outcome.append(solver.solve(cp, _Report(stage, t0)))
        except BaseException as e:  # re-raised in the caller's thread below
            outcome.append(e)

    search = threading.Thread(target=search_body, name="cpsat-search", daemon=True)
    stop.solver = solver
    try:
        search.start()
        while search.is_alive():
            search.join(0.05)
    finally:
        stop.solver = None
    if outcome and isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0] if outcome else cp_model.UNKNOWN


def _solver(config: SolverConfig, time_left: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = max(1, config.workers)
    prm.random_seed = config.seed
    prm.max_time_in_seconds = max(0.01, time_left)
    # Deterministic multi-worker search: the same input, seed and workers give the same answer.
    prm.interleave_search = True
    prm.log_search_progress = config.log
    # SIGINT is ours (see _Stop): the best allocation so far is returned, not lost.
    prm.catch_sigint_signal = False
    return solver


def _hint_from(mdl: _Model, solver: cp_model.CpSolver) -> None:
    """Warm-start the next stage with the current solution (a complete hint)."""
    cp = mdl.model
    cp.clear_hints()
    for i in range(len(cp.proto.variables)):
        v = cp.get_int_var_from_proto_index(i)
        cp.add_hint(v, solver.value(v))


def _hint_model(cp: cp_model.CpModel, mdl: _Model, chosen: dict[int, Choice]) -> None:
    """Hint ``cp`` (the model of ``mdl`` or a clone of it) with a complete allocation, e.g. the
    warm start of stage 1."""
    enc = mdl.enc
    values: dict[int, int] = {}

    def put(var: Any, value: int, family: str = "") -> None:
        # A z/g/h entry may be a shortcut expression over other variables: skip those.
        if not family or (hasattr(var, "proto") and var.index in mdl.split_vars[family]):
            values[var.index] = values.get(var.index, 0) + value

    for var in [*mdl.y.values(), *mdl.ovf.values(), *mdl.o.values(), *mdl.r.values(),
                *mdl.keep.values()]:
        put(var, 0)
    for family, table in (("z", mdl.z), ("g", mdl.g), ("h", mdl.h)):
        for var in table.values():
            put(var, 0, family)
    class_of = {i: c for c, (_key, members) in enumerate(mdl.classes) for i in members}
    rewarded = {(s, m) for s, m, _w in enc.pairs} if mdl.r else set()
    for i, (w, m, s, k) in chosen.items():
        if i in mdl.keep and chosen[i] == mdl.kept_choice[i]:
            a, grp = _keep_key(mdl, i)
            put(mdl.keep[i], 1)
            put(mdl.z[a, k], 1, "z")
            put(mdl.h[grp, s], 1, "h")
        else:
            first, last, mlock = span_of(enc, i)
            a, grp = (w, enc.st_disc[i], enc.st_block[i], first, last, mlock), group_of(enc, i)
            if (i, w) in mdl.y:
                put(mdl.y[i, w], 1)
            else:
                put(mdl.ovf[i], 1)
                put(mdl.o[class_of[i], w], 1)
            put(mdl.z[a, k], 1, "z")
            if mlock < 0:
                put(mdl.g[(w, enc.st_disc[i], k, enc.st_block[i]), m], 1, "g")
            put(mdl.h[grp, s], 1, "h")
        # A rewarded pair is counted where the model can count it (the hint's pair weight).
        if (s, m) in rewarded and (a, k, grp, s, m) in mdl.r:
            put(mdl.r[a, k, grp, s, m], 1)
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
    kept = {i for i, v in mdl.keep.items() if solver.boolean_value(v)}
    for i in kept:
        station[i] = mdl.kept_choice[i][0]
    slots: dict[int, list[int]] = defaultdict(list)
    for (c, w), v in sorted(mdl.o.items()):
        slots[c].extend([w] * _value(solver, v))
    for c, (_key, members) in enumerate(mdl.classes):
        chosen = [i for i in members if solver.boolean_value(mdl.ovf[i])]
        for i, w in zip(chosen, slots[c], strict=True):
            station[i] = w

    def key_of(i: int) -> tuple[StartKey, GroupKey]:
        return _keep_key(mdl, i) if i in kept else default_key(enc, station, i)

    return assign(enc, station, key_of,
                  [(key, _value(solver, v)) for key, v in mdl.r.items()],
                  {key: _value(solver, v) for key, v in mdl.z.items()},
                  {key: _value(solver, v) for key, v in mdl.g.items()},
                  {key: _value(solver, v) for key, v in mdl.h.items()})


def _keeping(enc: Encoded, keep: dict[int, Choice]) -> dict[int, Choice] | None:
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


def _place_more(mdl: _Model, warm: dict[int, Choice], config: SolverConfig, deadline: float,
                stop: _Stop, stats: dict[str, Any]) -> dict[int, Choice]:
    """Large-neighbourhood step for stage 1: try to place the students the warm start left out.

    Students placed at workstations none of the unplaced students can use stay placed where
    they are (their starts, mentors and supervisors stay free); the rest of the model is free.
    This small model is solved first; its allocation (never worse) warm-starts the full model.
    """
    enc = mdl.enc
    unplaced = [i for i in mdl.placed_lits if i not in warm]
    if not unplaced or len(warm) == 0:
        return warm
    t0 = time.perf_counter()
    hot = {w for i in unplaced for w, _k in enc.options(i)}
    restricted = mdl.model.clone()
    for i, (w, _m, _s, _k) in warm.items():
        if w in hot:
            continue
        lit = mdl.y.get((i, w), mdl.ovf.get(i))
        if lit is not None:
            restricted.add(restricted.get_bool_var_from_proto_index(lit.index) == 1)
    _hint_model(restricted, mdl, warm)
    restricted.maximize(mdl.placed)
    solver = _solver(config, max(0.01, deadline - time.perf_counter()))
    status = _run(solver, restricted, stop, "stage 1: placing the unplaced", t0)
    stats["place_more_seconds"] = round(time.perf_counter() - t0, 3)
    stats["place_more_free_stations"] = len(hot)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and _value(solver, mdl.placed) > len(warm):
        return _disaggregate(mdl, solver)
    return warm


def _keep_first(mdl: _Model, keeping: dict[int, Choice], config: SolverConfig,
                deadline: float, stop: _Stop, stats: dict[str, Any]) -> dict[int, Choice] | None:
    """Re-solve: place the most with every earlier placement that still fits kept as is.

    A small model (only the students not kept are free), so CP-SAT solves it quickly; its
    allocation warm-starts the full model, which may still move kept students if that places
    more.
    """
    t0 = time.perf_counter()
    enc = mdl.enc
    best: dict[int, Choice] | None = None
    current = keeping
    # Round 1 frees only the students not kept; round 2 also those at the workstations the
    # still unplaced students could use (a neighbourhood around where room is needed).
    for round_no in (1, 2):
        unplaced = [i for i in mdl.placed_lits if i not in current]
        hot = {w for i in unplaced for w, _k in enc.options(i)} if round_no == 2 else set()
        if round_no == 2 and not unplaced:
            break
        restricted = mdl.model.clone()
        for i, lit in mdl.keep.items():
            if current.get(i) == mdl.kept_choice[i] and current[i][0] not in hot:
                restricted.add(restricted.get_bool_var_from_proto_index(lit.index) == 1)
        restricted.clear_hints()
        _hint_model(restricted, mdl, current)
        restricted.maximize(mdl.placed * (len(mdl.keep) + 1) + mdl.kept)
        left = deadline - time.perf_counter()
        solver = _solver(config, max(0.01, left / (3 - round_no)))
        status = _run(solver, restricted, stop, f"re-solve: keep round {round_no}", t0)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        current = best = _disaggregate(mdl, solver)
    stats["keep_first_seconds"] = round(time.perf_counter() - t0, 3)
    return best


def _warm_start(enc: Encoded, deadline: float, stats: dict[str, Any],
                keep: dict[int, Choice], kept: dict[int, Choice] | None = None
                ) -> tuple[dict[int, Choice] | None, FlowRelaxation]:
    """The best of quick allocations (greedy, deferred acceptance, flow-repaired, and for a
    re-solve the earlier placements kept), and the flow relaxation.

    Best means most placed, then (re-solve) most kept, then least rank cost. None when none
    honours every lock (then CP-SAT decides whether the locks conflict).
    """
    greedy, failed_locks = serial_dictatorship(enc)
    proposals = deferred_acceptance(enc).chosen
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


MAX_CHOICES = 100_000
"""Largest number of choice variables (listed options plus off-list indicators) for which the
CP-SAT model is built (the demo has 14,706). Measured on two cores: at tier M (20,000 students,
145,594) CP-SAT did not finish presolve within a minute and its result was the warm start's, and
performance-facts puts a million booleans at 5-8 GB; larger problems get the LP relaxation
(bound and guided rounding) next to the warm start's methods (greedy, deferred acceptance, flow
repair, augmenting and local moves) instead (:func:`_without_model`)."""


def _choice_count(enc: Encoded) -> int:
    """Choice variables the model would have: ``y`` per listed fitting station, ``ovf`` per
    student with an off-list option (computed without building the model)."""
    total = 0
    for i in range(enc.n_students):
        if enc.st_lock[i] is not None:
            total += len({w for w, _k in enc.options(i)})
            continue
        if not enc.supervisors_for(i):
            continue
        stations = enc.profile_starts(enc.profile(i))  # shared per profile
        listed = sum(1 for w in enc.st_prefs[i] if w in stations)
        total += listed + (not enc.preferences_only and len(stations) > listed)
    return total


LP_GUIDE_MAX_CHOICES = 400_000
"""Largest model (choice variables) whose LP relaxation :func:`_without_model` attempts.
Measured on two cores: tier L (366,708) is solved in about 46 s; tier XL (731,318) was not
solved in 300 s, and building it (about 30 s, 1.4 GB) only took time from the quick methods
(XL ran 54 s over its limit with it)."""
LP_GUIDE_SHARE = 0.7
"""Share of the time limit by which the LP relaxation of a model too large for CP-SAT must be
solved (:func:`_without_model`); the rest rounds it and improves the allocation. Measured on two
cores (simplex): tier M 12 s, tier L 46 s, tier XL not within 300 s."""


GUIDE_UNTIL_SHARE = 0.95
"""Share of the time limit by which the LP-guided rounding must have placed its students
(:func:`_without_model`). Measured at tier M (30 s): the LP is solved after 15-18 s, its
rounding then takes about 7 s (exact packing 2 s, packing again 3 s, augmenting moves 2-4 s)
and lands within 4% of the LP bound, against 19% for the quick allocations' local moves."""


GUIDE_MAX_LEFT = 0.05
"""Largest share of the placeable students the exact packing of a relaxation's workstations may
leave out for its rounding to go on (packing again, augmenting moves). Measured: the LP leaves
1.0% out at tier M, the Lagrangian guide 2.6% at tier XL; the augmenting paths, searched for
all at once, place those 2,564 in about 40 s (one at a time they took 0.15-0.2 s each)."""
REPACK_SHARE = 0.25
"""Share of the guided rounding's time that packing workstations again
(:func:`~matcher.solvers.packing.repack_unplaced`) may take before the augmenting moves: it
tries a CP-SAT packing per student and workstation (tier XL: 344 of 2,350 placed in 60 s),
while the paths place thousands in that time."""
LAGRANGE_SHARE = 0.4
"""Share of the time limit by which the Lagrangian bound of a problem too large for the LP must
be ready (:func:`_without_model`, :func:`matcher.solvers.lagrange.relax_apart`). It runs on the
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


def _without_model(enc: Encoded, config: SolverConfig, t0: float, choices: int,
                   stop: _Stop) -> Result:
    """Too large to build, let alone search, on this machine (see :data:`MAX_CHOICES`): a
    relaxation for the bound and a guided rounding, next to the quick methods.

    While a helper process computes the relaxation — HiGHS the aggregated model's LP
    (:func:`matcher.solvers.milp.relax`) up to :data:`LP_GUIDE_MAX_CHOICES`, above it the
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
    progress.update(elapsed=time.perf_counter() - t0, note=(
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

    def halt() -> bool:  # the helpers and heuristics poll it: a signal ends them at once
        return stop.requested

    def quick() -> tuple[dict[int, Choice] | None, FlowRelaxation, int]:
        warm, flow_relax = _warm_start(enc, t0 + 0.1 * config.time_limit_s, stats, {})
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
            return build_result(enc, NAME, Status.UNKNOWN, {}, config, time.perf_counter() - t0,
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
                now = time.perf_counter()
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
                place_until, time.perf_counter() + 0.05 * config.time_limit_s)), stop=halt)
        # The bound before the local moves (they keep the placed count): at tier XL the flow
        # bound's min-cost flow takes seconds, which must come out of the time limit.
        placed = len(best)
        rank_lb = _higher(flow_relax.rank_lb_at(placed), lp.rank_lb_at(placed))
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
        rank_lb = _higher(rank_lb, lp.rank_lb_at(placed))
        stats["lagrangian_final_bound"] = lp.rank_lb_at(placed)
    rank = enc.rank_cost(best)
    proven = placed >= most and rank_lb is not None and rank <= rank_lb
    if stop.requested:
        proven = False
    kind = "LP relaxation" if with_lp else "Lagrangian"
    how = (f"{kind} bound and {kind}-guided rounding" if lp.value is not None else
           f"flow relaxation bound (no {kind}: {lp.message})")
    note = (f"stopped by {stop.signal_name}: the best allocation found so far; "
            if stop.requested else "") + (
        f"model too large for CP-SAT here ({choices:,} choice variables, limit {MAX_CHOICES:,}): "
        f"quick allocations with augmenting and local moves, {how}")
    progress.update(elapsed=time.perf_counter() - t0, best=rank, bound=rank_lb,
                    gap=None if rank_lb is None else (rank - rank_lb) / max(1, rank))
    return build_result(enc, NAME, Status.OPTIMAL if proven else Status.FEASIBLE, best, config,
                        time.perf_counter() - t0, placed_upper_bound=most,
                        rank_cost_lower_bound=rank_lb, stats=stats, message=note)


def _lp_fits(mdl: _Model) -> bool:
    """Whether level 2 goes to HiGHS first (see :data:`LP_MAX_VARIABLES`)."""
    return not mdl.keep and LP_MIN_VARIABLES <= len(mdl.model.proto.variables) <= LP_MAX_VARIABLES


def _higher(a: int | None, b: int | None) -> int | None:
    """The stronger of two lower bounds (either may be missing)."""
    return b if a is None else a if b is None else max(a, b)


def _refine_by_lp(enc: Encoded, placed: int, start: dict[int, Choice], config: SolverConfig,
                  deadline: float, stop: _Stop, stats: dict[str, Any], t0: float) -> Refined:
    """Levels 2 and 3 by HiGHS (:func:`matcher.solvers.milp.refine_levels`) from ``start``.

    Why: the model's LP relaxation is nearly tight and HiGHS's cuts close the rest, while on
    two cores CP-SAT's search hardly moves from its hint and its bound closes slowly (measured
    in ``benchmarks/RESULTS.md``).
    """
    progress.update(elapsed=time.perf_counter() - t0, note="stages 2-3 (HiGHS branch and cut)")
    outcome = refine_levels(enc, placed, start, config, deadline, lambda: stop.requested)
    best = None if outcome.chosen is None else enc.rank_cost(outcome.chosen)
    stats.update(lp_seconds=outcome.seconds, lp_rank_cost=best, lp_rank_bound=outcome.rank_lb,
                 lp_rank_proven=outcome.rank_proven, lp_pairs_proven=outcome.pairs_proven)
    if outcome.message:
        stats["lp_note"] = outcome.message
    if best is not None and outcome.rank_lb is not None:
        progress.update(elapsed=time.perf_counter() - t0, best=best, bound=outcome.rank_lb,
                        gap=(best - outcome.rank_lb) / max(1, best))
    return outcome


def _by_slots(enc: Encoded, config: SolverConfig, t0: float, stop: _Stop) -> Result | None:
    """Levels 1-2 by the slot model (:mod:`matcher.solvers.slots`), then level 3 by HiGHS
    (:func:`matcher.solvers.milp.refine_levels`) where the aggregated model fits."""
    deadline = t0 + config.time_limit_s
    result = slots.solve_slots(enc, config, t0,
                               lambda: stop.signal_name if stop.requested else "", NAME)
    if result is None:
        return None
    if (not enc.use_pairs or stop.requested or not result.placements
            or deadline - time.perf_counter() < 0.5 or _choice_count(enc) > MAX_CHOICES):
        return result
    current = enc.choices_from_ids({p.student_id: (p.workstation_id, p.mentor_id,
                                                   p.supervisor_id, p.start_term)
                                    for p in result.placements})
    stats = dict(result.stats)
    progress.update(elapsed=time.perf_counter() - t0, note="stage 3 (HiGHS branch and cut)")
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
    return build_result(enc, NAME, status, better, config, time.perf_counter() - t0,
                        placed_upper_bound=result.placed_upper_bound,
                        rank_cost_lower_bound=result.rank_cost_lower_bound, stats=stats,
                        message=message)


def _raise_pairs(mdl: _Model, current: dict[int, Choice], config: SolverConfig,
                 deadline: float, stop: _Stop, stats: dict[str, Any], t0: float
                 ) -> dict[int, Choice] | None:
    """Level 3: with as many placed and no more rank cost than ``current``, the most pair
    weight, by CP-SAT from ``current``; the better allocation (None when none was found)."""
    if isinstance(mdl.pair_weight, int):
        return None
    cp = mdl.model
    cp.add(mdl.placed == len(current))
    _hint_model(cp, mdl, current)
    cp.add(mdl.rank_cost <= mdl.enc.rank_cost(current))
    cp.maximize(mdl.pair_weight)
    solver3 = _solver(config, deadline - time.perf_counter())
    st3 = _run(solver3, cp, stop, "stage 3: pair weight", t0)
    stats["stage3_seconds"] = _wall(solver3)
    if st3 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        stats["pair_weight_proven"] = False
        return None
    stats["pair_weight_upper_bound"] = solver3.best_objective_bound / PAIR_SCALE
    stats["pair_weight_proven"] = st3 == cp_model.OPTIMAL
    return _disaggregate(mdl, solver3)


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
        from .stable import solve_stable  # it builds on this module's model

        return solve_stable(problem, config)
    with _stop_on_signals() as stop:
        return _solve(problem, config, stop)


def _solve(problem: Problem, config: SolverConfig, stop: _Stop) -> Result:
    t0 = time.perf_counter()
    deadline = t0 + config.time_limit_s
    enc = encode(problem)
    # Re-solve (module resolve): earlier placements, in ids, that students may keep.
    previous = enc.choices_from_ids(config.options.get("previous", {}))
    if USE_SLOT_MODEL and not previous and not slots.applies(enc):
        by_slots = _by_slots(enc, config, t0, stop)
        if by_slots is not None:
            return by_slots
        # The locks conflict: the model below isolates which.
    choices = _choice_count(enc)
    if choices > MAX_CHOICES and not previous:
        return _without_model(enc, config, t0, choices, stop)
    mdl = build_model(enc, previous)
    cp = mdl.model
    stats: dict[str, Any] = {"variables": len(cp.proto.variables),
                             "constraints": len(cp.proto.constraints),
                             "build_seconds": round(time.perf_counter() - t0, 3)}

    # Stage 1: maximise the number placed, warm-started with the best quick allocation.
    keeping = _keeping(enc, mdl.kept_choice) if mdl.keep else None
    # A re-solve starts from the earlier placements: the flow allocation only needs its bounds
    # then, not its repair rounds and local moves.
    # With HiGHS taking level 2 (_lp_fits), the warm start need only place the most, quickly:
    # its rank cost hardly changes HiGHS's time (demo: the same from 5,763 and from 4,896).
    lp_fits = _lp_fits(mdl)
    flow_until = time.perf_counter() + (0.0 if mdl.keep else 0.02 if lp_fits else 0.3) * (
        config.time_limit_s)
    warm, relax = _warm_start(enc, flow_until, stats, mdl.kept_choice, keeping)
    if keeping is not None:
        warm = _keep_first(mdl, keeping, config,
                           time.perf_counter() + 0.25 * config.time_limit_s, stop, stats) or warm
    quick_ub = min(len(mdl.placed_lits), relax.placed_ub)
    if warm is not None and len(warm) < quick_ub:
        # Augmenting moves first (cheap, no search), then a CP-SAT neighbourhood step.
        warm = place_unplaced(enc, warm, time.perf_counter() + 0.15 * config.time_limit_s)
        stats["warm_placed_after_moves"] = len(warm)
        if not mdl.keep:
            warm = _place_more(mdl, warm, config, t0 + 0.45 * config.time_limit_s, stop, stats)
    if warm is not None:
        _hint_model(mdl.model, mdl, warm)
    # Nobody without an allowed option can be placed, nor more than the flow relaxation allows
    # (quick_ub, above).
    best: cp_model.CpSolver | None = None
    if warm is not None and not mdl.keep and len(warm) >= quick_ub:
        # The warm start already places the proven maximum: level 1 needs no search.
        placed, placed_ub, proven = len(warm), quick_ub, True
        stats["stage1_seconds"] = 0.0
    else:
        # A re-solve also keeps earlier placements: placed * (K + 1) + kept, K the keepable count,
        # is exactly lexicographic (kept <= K), and steers the search away from needless moves.
        weight = len(mdl.keep) + 1
        cp.maximize(mdl.placed * weight + mdl.kept if mdl.keep else mdl.placed)
        # Each stage may use half of what is left, so the later levels always get time too.
        solver = _solver(config, (deadline - time.perf_counter()) / 2)
        st1 = _run(solver, cp, stop, "stage 1: students placed", t0)
        stats["stage1_seconds"] = _wall(solver)
        if st1 == cp_model.INFEASIBLE:
            culprits = _conflicting_locks(mdl, config, max(1.0, deadline - time.perf_counter()))
            where = lock_rows(enc, culprits) if culprits else "locks.csv (not isolated in time)"
            msg = (f"the locks cannot all be honoured; conflicting locks: {where}. Remove or "
                   "change one of these locks")
            return build_result(enc, NAME, Status.INFEASIBLE, {}, config,
                                time.perf_counter() - t0, stats=stats | {"conflicting_locks": [
                                    enc.student_ids[i] for i in culprits]}, message=msg)
        if st1 not in (cp_model.OPTIMAL, cp_model.FEASIBLE) and warm is not None:
            # Stopped (time limit or signal) before CP-SAT reported anything, not even the warm
            # start: that warm start is the best allocation known, and it keeps every rule.
            why = f"stopped by {stop.signal_name}" if stop.requested else "time limit reached"
            return build_result(enc, NAME, Status.FEASIBLE, warm, config,
                                time.perf_counter() - t0, placed_upper_bound=quick_ub,
                                rank_cost_lower_bound=relax.rank_lb_at(len(warm)), stats=stats,
                                message=f"{why} before the search got going; this is the warm "
                                        "start")
        if st1 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return build_result(enc, NAME, Status.UNKNOWN, {}, config, time.perf_counter() - t0,
                                stats=stats, message="no allocation found within the time limit")
        placed = _value(solver, mdl.placed)
        # CP-SAT's own bound may not have reached the quick one yet.
        placed_ub = min(math.floor(solver.best_objective_bound / weight + 1e-6), quick_ub)
        proven = st1 == cp_model.OPTIMAL or placed == placed_ub
        best = solver

    # Re-solve stage: with that many placed, keep the most earlier placements (move the fewest).
    cp.add(mdl.placed == placed)
    if mdl.keep and best is not None:
        _hint_from(mdl, best)
        cp.maximize(mdl.kept)
        solver_k = _solver(config, (deadline - time.perf_counter()) / 2)
        st_k = _run(solver_k, cp, stop, "re-solve: placements kept", t0)
        stats["keep_seconds"] = _wall(solver_k)
        if st_k in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = solver_k
            kept = round(solver_k.objective_value)
            stats["kept"] = kept
            stats["kept_upper_bound"] = min(len(mdl.keep),
                                            math.floor(solver_k.best_objective_bound + 1e-6))
            proven = proven and st_k == cp_model.OPTIMAL
            cp.add(mdl.kept == kept)
        else:
            proven = False
            cp.add(mdl.kept == round(best.value(mdl.kept)))

    # Stages 2-3: with that many placed (and kept), minimise the rank cost, then maximise the
    # pair weight. HiGHS's branch and cut (see _refine_by_lp) goes first where the model fits;
    # CP-SAT then searches from the best allocation known for what is not yet proven.
    current = _disaggregate(mdl, best) if best is not None else warm
    rank_lb: int | None = relax.rank_lb_at(placed)
    lp: Refined | None = None
    if (current is not None and lp_fits and len(current) == placed and not stop.requested
            and (enc.rank_cost(current) > (rank_lb or 0) or enc.use_pairs)):
        now = time.perf_counter()
        lp = _refine_by_lp(enc, placed, current, config, now + LP_SHARE * (deadline - now), stop,
                           stats, t0)
        rank_lb = _higher(rank_lb, lp.rank_lb)
        if lp.chosen is not None and enc.rank_cost(lp.chosen) <= enc.rank_cost(current):
            current = lp.chosen
    if current is not None:
        _hint_model(cp, mdl, current)
    cp.minimize(mdl.rank_cost)
    stage2_end = time.perf_counter() + (deadline - time.perf_counter()) * (
        0.7 if enc.use_pairs else 1.0)
    if current is not None and rank_lb is not None and rank_lb >= enc.rank_cost(current):
        stats["stage2_seconds"] = 0.0  # proven already (by HiGHS or the flow bound)
    else:
        solver2 = _solver(config, stage2_end - time.perf_counter())
        st2 = _run(solver2, cp, stop, "stage 2: rank cost", t0)
        stats["stage2_seconds"] = _wall(solver2)
        if st2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # For a re-solve the bound is for the placed *and kept* counts reached (the order).
            rank_lb = _higher(rank_lb, math.ceil(solver2.best_objective_bound - 1e-6))
            found = _disaggregate(mdl, solver2)
            if current is None or enc.rank_cost(found) <= enc.rank_cost(current):
                current = found
    proven = proven and current is not None and rank_lb is not None and (
        rank_lb >= enc.rank_cost(current))
    if proven and not stop.requested:
        # When levels 1 and 2 were proven (HiGHS may have gone on to level 3 in its process).
        done = lp.rank_done_at if lp is not None and lp.rank_proven else None
        stats["proven_seconds"] = round((done or time.perf_counter()) - t0, 3)

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
    return build_result(enc, NAME, status, chosen, config, time.perf_counter() - t0,
                        placed_upper_bound=placed_ub, rank_cost_lower_bound=rank_lb,
                        stats=stats, message=msg)
