"""The aggregated model as a CP-SAT model: the backend that ``cpsat`` and ``stable`` share.

The model itself is written once, backend-neutral, in :mod:`matcher.solvers.aggregate`; a
:class:`CpAggregated` renders each of its columns and rows into a ``CpModel`` as it is made
(its :class:`~matcher.solvers.linear.Sink`), so the CP-SAT model has them in the order it has
always had. Two families stay here, because they use what only CP-SAT has:

* *one placement per student* is an at-most-one constraint (CP-SAT's own, which it
  propagates as a clique) rather than HiGHS's linear row;
* *locks*: a locked student is placed, ``sum of i's placement columns = 1``, enforced by a
  literal ``lock[i]`` that is also an assumption, so that when the locks cannot all be
  honoured CP-SAT returns a small set of them (an UNSAT core, :func:`conflicting_locks`).

This module also maps an allocation into the model (a complete hint) and a solution back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from ..encoding import Encoded
from . import clock
from .aggregate import (
    Aggregated,
    add_choices,
    add_class_links,
    add_groups,
    add_keep_options,
    add_mentor_limits,
    add_min_intakes,
    add_objectives,
    add_pair_counts,
    add_start_split,
    add_supervisor_limits,
    add_workstation_limits,
    allocation,
    columns_of,
)
from .base import Choice, SolverConfig
from .cpsat_run import new_solver, wall
from .linear import LinearModel

NAME = "cpsat"
"""The solver name the results of the CP-SAT models carry (``cpsat``, ``cpsat --stable``)."""

Expr = Any  # an IntVar or a linear expression


def linear_sum(items: list[Any]) -> Expr:
    """The sum of CP-SAT variables or expressions (a single one is returned as it is)."""
    return cp_model.LinearExpr.sum(items)


@dataclass
class CpAggregated:
    """The aggregated model rendered into CP-SAT, with CP-SAT handles to its columns.

    ``agg`` is the neutral model; ``cp_vars[j]`` the CP-SAT variable of its column ``j``;
    ``lock_lits`` the lock literals (CP-SAT only); ``placed``, ``kept``, ``rank_cost`` and
    ``pair_weight`` the levels' expressions (``pair_weight`` is 0 without rewarded pairs).
    """

    enc: Encoded
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    agg: Aggregated = field(init=False)
    cp_vars: list[Any] = field(default_factory=list)
    lock_lits: dict[int, Any] = field(default_factory=dict)
    placed: Expr = 0
    kept: Expr = 0
    rank_cost: Expr = 0
    extra_segments: Expr = 0
    pair_weight: Expr = 0

    def __post_init__(self) -> None:
        # CP-SAT's rule for a count's bound (see matcher.solvers.aggregate)
        self.agg = Aggregated(self.enc, exact_bounds=False, sink=self)

    # ---- the sink: each neutral column and row as it is made -----------------------------
    def column(self, model: LinearModel, j: int) -> None:
        """Make CP-SAT's variable for column ``j`` (a literal when it is boolean)."""
        if model.boolean[j]:
            self.cp_vars.append(self.model.new_bool_var(model.name_of(j)))
        else:
            self.cp_vars.append(self.model.new_int_var(round(model.lb[j]), round(model.ub[j]),
                                                       model.name_of(j)))

    def row(self, model: LinearModel, r: int) -> None:
        """Add row ``r`` as a linear constraint."""
        start, end = model.row_start[r], model.row_start[r + 1]
        expr = cp_model.LinearExpr.weighted_sum(
            [self.cp_vars[j] for j in model.row_idx[start:end]], model.row_val[start:end])
        lo, hi = model.row_lo[r], model.row_hi[r]
        if lo == hi:
            self.model.add(expr == round(hi))
        elif lo == -float("inf"):
            self.model.add(expr <= round(hi))
        elif hi == float("inf"):
            self.model.add(expr >= round(lo))
        else:
            self.model.add_linear_constraint(expr, round(lo), round(hi))

    # ---- handles --------------------------------------------------------------------------
    def var(self, j: int) -> Any:
        """CP-SAT's variable of neutral column ``j``."""
        return self.cp_vars[j]

    def make_objectives(self) -> None:
        """CP-SAT's expressions of the neutral model's levels."""
        agg = self.agg
        self.placed = linear_sum([self.cp_vars[j] for j, _c in agg.placed])
        self.kept = linear_sum([self.cp_vars[j] for j, _c in agg.kept])
        self.rank_cost = cp_model.LinearExpr.weighted_sum(
            [self.cp_vars[j] for j, _c in agg.rank_cost], [c for _j, c in agg.rank_cost])
        if agg.extra_segments:
            self.extra_segments = cp_model.LinearExpr.weighted_sum(
                [self.cp_vars[j] for j, _c in agg.extra_segments],
                [c for _j, c in agg.extra_segments])
        if agg.pair_weight:
            self.pair_weight = cp_model.LinearExpr.weighted_sum(
                [self.cp_vars[j] for j, _c in agg.pair_weight], [c for _j, c in agg.pair_weight])

    # ---- an allocation in the model, and back -----------------------------------------------
    def hint(self, cp: cp_model.CpModel, chosen: dict[int, Choice]) -> None:
        """Hint ``cp`` (this model or a clone of it) with a complete allocation, every
        variable's value (rewarded pairs counted where the model can count them)."""
        x = columns_of(self.agg, chosen, pairs=True)
        values = {self.cp_vars[j].index: v for j, v in enumerate(x)}
        for lit in self.lock_lits.values():
            values[lit.index] = 1
        cp.clear_hints()
        for idx, val in sorted(values.items()):
            cp.add_hint(cp.get_int_var_from_proto_index(idx), val)

    def solution(self, solver: cp_model.CpSolver) -> list[int]:
        """The neutral columns' values in the solver's solution."""
        found = list(solver.response_proto.solution)
        return [found[v.index] for v in self.cp_vars]

    def allocation(self, solver: cp_model.CpSolver) -> dict[int, Choice]:
        """One ``(workstation, mentor, supervisor, start)`` per student from the solution."""
        return allocation(self.agg, self.solution(solver))


# ---- the families only CP-SAT has -----------------------------------------------------------
def add_at_most_one_per_student(mdl: CpAggregated) -> None:
    """Each student takes at most one option (listed, locked, off-list or kept):
    ``sum of i's placement columns <= 1``, as CP-SAT's at-most-one constraint."""
    for cols in mdl.agg.placed_cols.values():
        if len(cols) > 1:
            mdl.model.add_at_most_one([mdl.cp_vars[j] for j in cols])


def add_locks(mdl: CpAggregated) -> None:
    """A locked student is placed: ``lock[i] => sum of i's placement columns = 1``, with
    ``lock[i]`` an assumption, so that conflicting locks can be explained
    (:func:`conflicting_locks`)."""
    for i, lk in enumerate(mdl.enc.st_lock):
        if lk is None:
            continue
        lit = mdl.model.new_bool_var(f"lock_{i}")
        mdl.lock_lits[i] = lit
        placed = linear_sum([mdl.cp_vars[j] for j in mdl.agg.placed_cols.get(i, [])])
        mdl.model.add(placed == 1).only_enforce_if(lit)
        mdl.model.add_assumption(lit)


def build_model(enc: Encoded, previous: dict[int, Choice] | None = None) -> CpAggregated:
    """The full CP-SAT model (without objective) of an encoded problem.

    ``previous`` (re-solve) gives earlier placements a student may keep exactly.
    """
    mdl = CpAggregated(enc)
    agg = mdl.agg
    add_choices(agg, pairs=True)
    add_groups(agg)
    add_keep_options(agg, previous or {})
    add_min_intakes(agg)
    add_at_most_one_per_student(mdl)
    add_class_links(agg)
    add_start_split(agg)
    add_workstation_limits(agg)
    add_mentor_limits(agg)
    add_supervisor_limits(agg)
    add_locks(mdl)
    add_pair_counts(agg)
    add_objectives(agg)
    mdl.make_objectives()
    return mdl


def conflicting_locks(mdl: CpAggregated, config: SolverConfig, time_left: float) -> list[int]:
    """A small set of locks that cannot all be honoured (a deletion-filtered UNSAT core)."""
    # Cores (sufficient assumptions) are reported by a single worker.
    solver = new_solver(SolverConfig(time_limit_s=time_left, seed=config.seed, workers=1),
                        time_left)
    mdl.model.clear_objective()
    status = solver.solve(mdl.model)
    clock.charge(wall(solver))
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
        infeasible = solver.solve(mdl.model) == cp_model.INFEASIBLE
        clock.charge(wall(solver))
        if infeasible:
            needed = trial
    return needed
