"""What every solver shares: its configuration and the step from indices back to a Result."""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..encoding import PAIR_SCALE, Encoded
from ..messages import msg
from ..model.result import Placement, Reason, Result, Status
from .reasons import unassigned_reasons

Choice = tuple[int, int, int, int]
"""A student's placement in indices: ``(workstation, mentor, supervisor, start term)``."""


@dataclass(frozen=True)
class SolverConfig:
    """Parameters every solver accepts.

    Attributes
    ----------
    time_limit_s
        Wall-clock budget for the whole solve.
    seed
        Random seed; with the same input, seed and workers a solver returns the same allocation.
    workers
        Parallel search workers (CP-SAT); heuristics ignore it.
    log
        Print solver progress to stderr.
    options
        Solver-specific options (for example ``{"stable": True}``).
    deterministic
        Count work instead of wall time (:mod:`matcher.solvers.clock`): the time limit becomes
        a work budget that takes about that long on the reference machine, and the same input,
        seed, workers and limit give the same result files on any machine and under any load.
    """

    time_limit_s: float = 60.0
    seed: int = 0
    workers: int = 2
    log: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    deterministic: bool = False


def check_budget(time_limit_s: Any = None, seed: Any = None, workers: Any = None) -> None:
    """Refuse a budget a caller gave that no solve can honour (None: not given).

    A NaN or infinite time limit would run unbounded and be written as ``NaN`` into JSON.

    Raises
    ------
    ValueError
        Naming the parameter and the value.
    """
    t = time_limit_s
    if t is not None and (isinstance(t, bool) or not isinstance(t, int | float)
                          or not math.isfinite(t) or t <= 0):
        raise ValueError(f"time_limit_s must be a finite number of seconds > 0, not {t!r}")
    for name, value, low in (("seed", seed, 0), ("workers", workers, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < low):
            raise ValueError(f"{name} must be a whole number >= {low}, not {value!r}")


def lock_rows(enc: Encoded, students: list[int] | None = None) -> str:
    """``locks.csv rows 2, 5``: where the locks of ``students`` (default: all locked) are.

    Messages name lock rows rather than students, so that logs at default verbosity carry no
    personal identifiers and the clerk is pointed at the line to change.
    """
    row = {s.student_id: k for k, s in enumerate(enc.problem.locks, start=1)}
    ids = [enc.student_ids[i] for i in (students if students is not None else range(
        enc.n_students)) if enc.st_lock[i] is not None]
    rows = sorted(row[sid] for sid in ids if sid in row)
    shown = ", ".join(map(str, rows[:20])) + (f" and {len(rows) - 20} more" if len(rows) > 20
                                              else "")
    return f"locks.csv row{'s' if len(rows) != 1 else ''} {shown}" if rows else "locks.csv"


def build_result(enc: Encoded, solver: str, status: Status, chosen: dict[int, Choice],
                 config: SolverConfig, wall_seconds: float, *,
                 placed_upper_bound: int | None = None,
                 rank_cost_lower_bound: int | None = None,
                 stats: dict[str, Any] | None = None, message: str = "") -> Result:
    """Turn a solver's index-level allocation into a :class:`Result` with reasons."""
    placements = []
    rank_cost = 0
    pair_total = 0
    pair_w = {(s, m): wgt for s, m, wgt in enc.pairs} if enc.use_pairs else {}
    off_list = enc.max_list + 1  # (enc.cost of a workstation not on the list)
    rank_of, st_block = enc.rank_of, enc.st_block
    # the terms of a practice, by (start, length): a province has a handful of them
    spans: dict[tuple[int, int], tuple[str, ...]] = {}
    for i in sorted(chosen):
        w, m, s, k = chosen[i]
        terms = spans.get((k, st_block[i]))
        if terms is None:
            terms = spans[k, st_block[i]] = tuple(
                enc.terms[t] for t in enc.covers(k, st_block[i]))
        r = rank_of[i].get(w)
        rank_cost += off_list if r is None else r
        pair_total += pair_w.get((s, m), 0)
        placements.append(Placement(
            student_id=enc.student_ids[i], workstation_id=enc.workstation_ids[w],
            mentor_id=enc.mentor_ids[m], supervisor_id=enc.supervisor_ids[s],
            start_term=terms[0], end_term=terms[-1], preference_rank=r, terms=terms))
    if status == Status.INFEASIBLE:
        unassigned: list[tuple[str, Reason]] = []
    else:
        reasons = unassigned_reasons(enc, chosen)
        unassigned = [(enc.student_ids[i], reasons[i]) for i in sorted(reasons)]
    return Result(
        solver=solver, status=status, placements=tuple(placements),
        unassigned=tuple(unassigned), placed=len(placements), rank_cost=rank_cost,
        pair_weight=pair_total / PAIR_SCALE, placed_upper_bound=placed_upper_bound,
        rank_cost_lower_bound=rank_cost_lower_bound, wall_seconds=wall_seconds,
        seed=config.seed, workers=config.workers, time_limit_s=config.time_limit_s,
        input_sha256=enc.problem.input_sha256, stats=dict(stats or {}), message=message,
        quotas=quota_figures(enc, chosen))


def quota_figures(enc: Encoded, chosen: dict[int, Choice]) -> tuple[dict[str, Any], ...]:
    """Each group quota measured on an allocation (:attr:`Result.quotas`): the group's count
    and share among the students counted, and the shortfall in students."""
    out = []
    for q in enc.quotas:
        group = total = 0
        for i, c in chosen.items():
            if q.counts_at(c[0]):
                total += 1
                group += q.matches(enc.st_univ[i], enc.st_disc[i])
        short = Fraction(0)
        if q.min_count is not None:
            short += max(0, q.min_count - group)
        if q.max_count is not None:
            short += max(0, group - q.max_count)
        if q.min_share is not None:
            short += max(Fraction(0), q.min_share * total - group)
        if q.max_share is not None:
            short += max(Fraction(0), group - q.max_share * total)
        row = enc.problem.quotas[q.row]
        out.append({"row": q.row + 1, "workstation_id": row.workstation_id,
                    "selector": row.selector, "value": row.value, "hard": row.hard,
                    "count": group, "total": total,
                    "share": round(group / total, 6) if total else None,
                    "shortfall": round(float(short), 6), "met": short == 0})
    return tuple(out)


REFUSAL_WHY = {"greedy": "quotas.why.minimum", "da": "quotas.why.da",
               "flow": "quotas.why.network", "plain": "quotas.why.plain"}
"""Why each solver that cannot hold (some) group quotas refuses them (codes in quotas.po)."""


def refuse_quotas(enc: Encoded, solver: str, config: SolverConfig, what: str = "", *,
                  minimum_only: bool = False, why: str = "") -> Result | None:
    """A solver that cannot hold group quotas (issue 29) says so instead of ignoring them:
    status UNKNOWN, no allocation and a message saying why and what to use (None when there
    is nothing to refuse). The message is ``quotas.refuse`` of the catalogue, in English in
    :attr:`Result.message`, its code and values in ``stats["note"]`` for the summary in the
    user's language.

    ``what`` names the rule or solver in the message (default: the solver); ``minimum_only``:
    refuse only hard minimum quotas (score first holds the maximum ones); ``why``: the reason's
    code (default :data:`REFUSAL_WHY` of the solver).
    """
    if minimum_only:
        if not any(q.hard and (q.min_count is not None or q.min_share is not None)
                   for q in enc.quotas):
            return None
    elif not enc.has_quotas:
        return None
    values = {"solver": what or solver, "why": why or REFUSAL_WHY.get(solver, "quotas.why.plain")}
    note = msg("quotas.refuse", solver=values["solver"], why=msg(values["why"]))
    return build_result(enc, solver, Status.UNKNOWN, {}, config, 0.0,
                        stats={"unsupported_rules": ["quotas"],
                               "note": {"code": "quotas.refuse", **values}},
                        message=note.text("en"))


def higher(a: int | None, b: int | None) -> int | None:
    """The stronger of two lower bounds (either may be missing)."""
    return b if a is None else a if b is None else max(a, b)


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a baseline solves, restored after.

    A province makes millions of small objects and no reference cycle: the collector would
    walk them again and again (about a fifth of greedy's time at 100,000 students). A caller
    who paused it already keeps it paused.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
