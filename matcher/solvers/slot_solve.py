"""The slot model solved: levels 1-2 of ``cpsat`` by HiGHS in its helper process.

:func:`solve_slots` builds the model (:mod:`matcher.solvers.slots`), prices its columns by the
flow relaxation (:mod:`matcher.solvers.slot_flow`), runs the HiGHS helper
(:mod:`matcher.solvers.highs.slot_search`: LP bounds with cuts, fix and solve, the proof or
neighbourhood searches) through the one runner (:mod:`matcher.solvers.highs_runner`) and turns
its best columns into an allocation (:mod:`matcher.solvers.slot_rounding`). At province scale
(:data:`ASSIST_COLUMNS`) a second helper searches neighbourhoods from a quick allocation made
here meanwhile.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import progress
from ..encoding import Encoded
from ..model.result import Result, Status
from . import clock, highs_runner
from .base import Choice, SolverConfig, build_result
from .greedy import serial_dictatorship
from .highs.common import FULL_MODEL_COLUMNS
from .relaxation import relax_weight
from .slot_flow import FlowPrices, SlotFlow, flow_prices
from .slot_rounding import allocation, columns_of, quick_allocation, repaired, rounded
from .slots import LISTED, MENTOR, SPLIT, FloatArray, SlotModel, build

HELPER_SECONDS_PER_STUDENT = 60e-6
"""Time kept after the helper's deadline, per student, to turn its columns into an allocation
(mentors, starts, supervisors) and a result."""
CUT_SHARE = 0.35
"""Share of the time left after the LP that rounds of cuts (parity and {0, 1/2}) may take."""
PROVINCE_CUT_SHARE = 0.75
"""The same at province scale, where fix and solve around the LP point with cuts then takes
the rest (the helper also stops the rounds while fix and solve's estimated time is left).
Each round makes that point more integral, so fix and solve both lands nearer the bound and
takes less time (tier XL, offline: a round takes 10-29 s; after 2 rounds fix and solve frees
117,000 columns, takes 29 s and lands at 411,733; after 4, 58,000, 12 s, 411,438; after 6,
40,000, 7 s, 411,368, with the bound at 411,283)."""
HELPER_MIN_SHARE = 0.5
"""In a deterministic run the HiGHS helper gets at least this share of the work budget,
whatever the phases before it counted (an ordinary run keeps its time limit instead)."""
QUICK_SHARE = 0.4
"""The quick allocation (large models) must be done by this share of the time limit..."""
COUNT_BOUND_SHARE = 0.25
"""Where the allocation places fewer than the flow, the rank bound at its count
(:meth:`~matcher.solvers.slot_flow.SlotFlow.count_bound`) may take this share of the limit
beyond it (each step is one flow: about 15 s at tier XL)."""
QUICK_MIN_SHARE = 0.25
"""... or this share after it starts, if that is later (it runs beside the helper's LP)."""
ACTIVE_REDUCED_COST = 0.01
"""The helper's LP starts from the columns at most this much dearer than the flow's choices
(per student, in rank units); pricing brings in the rest it needs (tier M: 2.9 s against
5.5 s with every column)."""


@dataclass
class Outcome:
    """What the helper proved and found.

    Attributes
    ----------
    placed_ub, rank_lb
        Proven bounds (``rank_lb`` for allocations placing ``placed_ub``); None if not reached.
    x
        The best allocation's column values (None if none was found).
    proven_at
        ``clock.now()`` when levels 1-2 were proven (None if they were not).
    state
        The helper's last ``state.json`` (phase, LP value, cuts, events).
    error
        Why the helper ended badly ("" if it did not).
    """

    placed_ub: int | None = None
    rank_lb: int | None = None
    x: FloatArray | None = None
    proven_at: float | None = None
    state: dict[str, Any] | None = None
    error: str = ""
    launched: float = 0.0


ASSIST_COLUMNS = 600_000
"""Above this many columns (province scale) the LP takes a third of the time: the parent
makes a quick allocation meanwhile, and a second helper searches neighbourhoods from it (to
fall back on) while the first computes the bound and then solves around its LP point."""


def run_helper(enc: Encoded, model: SlotModel, *, weight: int, deadline: float, seed: int,
               threads: int, log: bool, active: npt.NDArray[np.bool_] | None = None,
               assist: Any = None, halt: Any = None, on_state: Any = None,
               placed_flow_ub: int | None = None) -> Outcome:
    """Run :mod:`matcher.solvers.highs.slot_search` on the model until ``deadline``
    (perf_counter).

    ``active`` are the columns the LP starts from. ``assist(work)``, if given, is called here
    while the helper works (on the other core): it may read the helper's LP point
    (``lp.npz``) and write allocations for it (``start.npz``, with :func:`hand_over`), and
    returns False once it has nothing more to do. ``halt()`` (polled) stops the helper early;
    ``on_state(state)`` sees each new state. The helper is killed, never left running, when
    this returns or raises. Without ``assist``, the helper also solves around its LP point
    itself (fix and solve). ``placed_flow_ub``, the flow relaxation's placed bound, spares the
    helper its own placed LP when the LP places that many anyway, and stands when that LP is
    not solved in time.
    """
    arrays: dict[str, Any] = dict(model.arrays())
    if active is not None:
        arrays["active"] = active
    job = {"seed": seed, "threads": max(1, threads), "log": log, "placed_weight": weight,
           "placeable": enc.n_placeable, "enforce_all": model.n_cols <= FULL_MODEL_COLUMNS,
           "cut_share": PROVINCE_CUT_SHARE if assist is not None else CUT_SHARE,
           **({"placed_flow_ub": placed_flow_ub} if placed_flow_ub is not None else {})}
    out = Outcome(launched=clock.now())
    seen: dict[str, str] = {}
    helping = assist is not None

    def tick(work: Path) -> None:
        nonlocal helping
        _read_states(work, out, seen, on_state)
        if helping:
            helping = bool(assist(work))

    def collect(work: Path) -> FloatArray | None:
        _read_states(work, out, seen, on_state)
        return _best_file(work, out.state or {})

    run = highs_runner.run_helper(
        "slot_search", arrays, job, deadline=deadline, grace=0.5, log=log, collect=collect,
        roles=("both",) if assist is None else ("bound", "search"), stop=halt, tick=tick)
    out.x = run.collected
    if not run.stopped:
        out.error = run.error
    return out


def _best_file(work: Any, state: dict[str, Any]) -> FloatArray | None:
    """The better of the helpers' best allocations (``best.npz``, ``best_search.npz``)."""
    best: FloatArray | None = None
    key: tuple[int, int] | None = None
    for name, part in (("best.npz", "state.json"), ("best_search.npz", "search.json")):
        info = state.get("_parts", {}).get(part, {})
        if info.get("best_rank") is None or not (work / name).is_file():
            continue
        here = (info["best_placed"], -info["best_rank"])
        if key is None or here > key:
            with np.load(work / name) as got:
                best, key = np.asarray(got["x"]), here
    return best


def hand_over(work: Any, x: FloatArray, what: str) -> None:
    """Write an allocation (model columns) for the helper's searches (``start.npz``)."""
    np.savez(work / "start.tmp.npz", x=x, what=np.array(what))
    os.replace(work / "start.tmp.npz", work / "start.npz")


def _read_states(work: Any, out: Outcome, seen: dict[str, str], on_state: Any) -> None:
    """Take in the helpers' state files that changed; ``out.state`` merges them: the bounds
    and LP of the bound helper, the better allocation of either, their steps in time order."""
    parts: dict[str, dict[str, Any]] = dict((out.state or {}).get("_parts", {}))
    changed = False
    for name in ("state.json", "search.json"):
        try:
            text = (work / name).read_text(encoding="utf-8")
        except OSError:
            continue
        if text == seen.get(name):
            continue
        try:
            parts[name] = json.loads(text)
        except ValueError:  # replaced atomically, so this should not happen; wait for the next
            continue
        seen[name] = text
        changed = True
    if not changed:
        return
    bound, search = parts.get("state.json", {}), parts.get("search.json", {})
    merged = dict(bound)
    merged["_parts"] = parts
    bests = [(p["best_placed"], p["best_rank"]) for p in (bound, search)
             if p.get("best_rank") is not None]
    if bests:
        merged["best_placed"], merged["best_rank"] = max(bests, key=lambda b: (b[0], -b[1]))
    merged["events"] = sorted(bound.get("events", []) + search.get("events", []),
                              key=lambda e: float(e.split("s ", 1)[0]))
    if search and bound.get("phase") == "done":
        merged["phase"] = search.get("phase")
    out.state = merged
    out.placed_ub, out.rank_lb = merged.get("placed_ub"), merged.get("rank_lb")
    if (out.proven_at is None and out.placed_ub is not None and out.rank_lb is not None
            and merged.get("best_placed") == out.placed_ub
            and merged.get("best_rank") is not None and merged["best_rank"] <= out.rank_lb):
        # (a deterministic solve takes the moment from the helper's own clock, or else the
        # end: when the parent sees it depends on the machine's pace)
        after = merged.get("proven_after")
        if not clock.deterministic():
            out.proven_at = clock.now()
        elif after is not None:
            out.proven_at = out.launched + float(after)
    if on_state is not None:
        on_state(merged)


def merged_bounds(enc: Encoded, prices: FlowPrices, state: dict[str, Any], placed: int,
                  count_lb: int | None = None) -> tuple[int, int | None, dict[str, str]]:
    """The best proven bounds known, and the method that gave each (``stats.bounds``).

    Placed: the fewest of the students with an allowed option, the flow relaxation's maximum
    flow (always there) and the helper's LP bound. Rank cost, for allocations placing
    ``placed``: the largest of the helper's (LP, LP with cuts, or branch and cut; valid only at
    its own placed bound), the helper's weighted LP at that count, and the flow relaxation's
    (always there: ``count_lb``, its optimum at exactly that count by
    :meth:`~matcher.solvers.slot_flow.SlotFlow.count_bound`, where the allocation places fewer
    than the flow). So a run whose LP phase does not finish still has both bounds.
    """
    placed_options = [(enc.n_placeable, "students_with_options"),
                      (prices.placed_ub(), "max_flow")]
    if state.get("placed_ub") is not None:
        placed_options.append((int(state["placed_ub"]), str(state.get("placed_by") or "lp")))
    placed_ub, placed_by = min(placed_options, key=lambda o: o[0])
    rank_options: list[tuple[int, str]] = []
    if state.get("rank_lb") is not None and state.get("placed_ub") == placed:
        rank_options.append((int(state["rank_lb"]), str(state.get("rank_by") or "lp")))
    if state.get("weighted_lp") is not None:
        rank_options.append((max(0, math.ceil(float(state["weighted_lp"]) + prices.weight
                                              * placed - 1e-6)), "lp"))
    rank_options.append((prices.rank_lb_at(placed), "flow_relaxation"))
    if count_lb is not None:
        rank_options.append((count_lb, "flow_relaxation"))
    rank_lb, rank_by = max(rank_options, key=lambda o: o[0])
    if placed == 0:
        rank_lb, rank_by = 0, "nobody_placed"
    return placed_ub, rank_lb, {"placed": placed_by, "rank_cost": rank_by}


def solve_slots(enc: Encoded, config: SolverConfig, t0: float, halt: Callable[[], str],
                name: str) -> Result | None:
    """Levels 1-2 by the slot model (see the module docstring); a :class:`Result`, or None
    when the locks cannot all be honoured (the model is infeasible).

    Parameters
    ----------
    enc
        The encoded problem; :func:`applies` must have returned "".
    config
        The solver configuration (time limit, seed, workers, log).
    t0
        ``clock.now()`` when the solve began (the time limit counts from it).
    halt
        Polled; the name of the signal that asks the search to stop ("" while none did): the
        best allocation so far is then returned as FEASIBLE.
    name
        The solver name for the result.
    """
    deadline = t0 + config.time_limit_s
    stats: dict[str, Any] = {"engine": "slot model + HiGHS"}
    model = build(enc)
    huge = model.n_cols > ASSIST_COLUMNS
    stats.update(columns=model.n_cols, rows=model.n_rows,
                 slot_exact_workstations=int(model.slot_exact.sum()),
                 build_seconds=round(clock.now() - t0, 3))
    if model.n_cols == 0:  # nobody has an allowed option: the empty allocation is optimal
        return build_result(enc, name, Status.OPTIMAL, {}, config, clock.now() - t0,
                            placed_upper_bound=0, rank_cost_lower_bound=0,
                            stats=stats | {"proven_seconds": round(clock.now() - t0, 3)})
    weight = relax_weight(enc)
    prices = flow_prices(enc, model, weight)
    active = ((prices.reduced_cost <= ACTIVE_REDUCED_COST) | (model.col_kind == SPLIT)) & (
        model.col_kind != MENTOR)
    # The flow sends students to the other workstations beyond what fits there: they need
    # their alternatives from the start (tier XL: the LP's first round then lands within
    # 0.1% of the optimum instead of leaving 600 students out).
    beyond = (model.col_kind == LISTED) & (prices.x > 1e-9) & ~model.slot_exact[
        np.maximum(model.col_ws, 0)]
    active |= np.isin(model.col_student, model.col_student[beyond]) & (model.col_student >= 0)
    stats["flow_seconds"] = round(clock.now() - t0, 3)
    finish = max(0.5, HELPER_SECONDS_PER_STUDENT * enc.n_students)
    # (at least half a second of wall time for the helper to start; a deterministic helper's
    # start costs no work)
    helper_deadline = max(clock.now() + (0.01 if clock.deterministic() else 0.5),
                          deadline - finish)
    if clock.deterministic():
        # However much the model and the flow counted, the LP gets its share (issue 27: at
        # tier XL they once left it too little to finish, and no LP bound came); the run's
        # work may then exceed its budget, as work_seconds says, the same on every machine.
        helper_deadline = max(helper_deadline,
                              clock.now() + HELPER_MIN_SHARE * config.time_limit_s)
        stats["helper_budget"] = round(helper_deadline - clock.now(), 3)

    def show(state: dict[str, Any]) -> None:
        best, bound = state.get("best_rank"), state.get("rank_lb")
        gap = (best - bound) / best if best and bound is not None else None
        progress.update(elapsed=clock.now() - t0, best=best, bound=bound, gap=gap,
                        note=state.get("phase"))

    quick: dict[int, Choice] = {}

    def assist(work: Any) -> bool:
        # On the second core while the helper solves the LP: a complete allocation to start
        # the second helper's searches from (and to fall back on). Nothing more: the core is
        # the search's from then on (the LP point rounded here, 417,200 at tier XL in 50 s,
        # cost the cut rounds and fix and solve their time).
        nonlocal quick
        # (by its share of the limit, but never less than QUICK_MIN_SHARE from its own start:
        # where the model and the flow took long, as in a deterministic XL run, it otherwise
        # had a second left to place the students its rounding left out, 2,000 there)
        quick = quick_allocation(enc, model, weight, max(
            t0 + QUICK_SHARE * config.time_limit_s,
            clock.now() + QUICK_MIN_SHARE * config.time_limit_s), halt)
        stats["quick_rank_cost"] = enc.rank_cost(quick)
        stats["quick_seconds"] = round(clock.now() - t0, 3)
        hand_over(work, columns_of(enc, model, quick), "the quick allocation")
        return False

    out = run_helper(enc, model, weight=weight, deadline=helper_deadline, seed=config.seed,
                     # large: the other core makes the quick allocation here (assist)
                     threads=config.workers if not huge else 1, log=config.log, active=active,
                     assist=assist if huge else None, halt=halt, on_state=show,
                     placed_flow_ub=prices.placed_ub())
    state = out.state or {}
    if state.get("phase") == "infeasible":
        return None  # only locks make it so: the caller's exact path names them
    # The helper's steps, without their times (a stable summary for the same seed).
    parts = state.get("_parts", {})
    stats["neighbourhoods"] = sum(int(p.get("tried", 0)) for p in parts.values())
    stats.update(helper_phase=state.get("phase"), lp_rank=state.get("lp_rank"),
                 cuts=state.get("cuts"), flow_rank_bound=round(prices.rank_lb, 3),
                 helper_steps=[e.split(" ", 1)[-1] for e in state.get("events", [])],
                 helper_steps_seconds=[float(e.split("s ", 1)[0]) for e in state.get("events",
                                                                                     [])])
    if out.error:
        stats["helper_error"] = out.error
    station_of = allocation(enc, model, out.x) if out.x is not None else {}
    finish_from = clock.now()
    # Without the counts per mentor (large models) a workstation's students may need a
    # two-term student split between mentors: those that do not fit are placed anew.
    chosen, misfits = repaired(enc, station_of, deadline, len(station_of), halt)
    if misfits and not (halt is not None and halt()):
        stats["left_by_disaggregation"] = misfits
    def better(a: dict[int, Choice], b: dict[int, Choice]) -> bool:
        return (len(a), -enc.rank_cost(a)) > (len(b), -enc.rank_cost(b))

    if quick and better(quick, chosen):
        chosen = quick
    if not chosen and enc.n_placeable:
        # The helper found no allocation in the time (a limit of a second or two on thousands
        # of students) or failed: the flow's point rounded and repaired (a generated
        # 8,000-student cohort: all placed, 3.7% above the optimum, in 0.7 s), unless stopped
        # by a signal; the greedy allocation (0.1 s; 7,176 placed there) if that is better.
        if not (halt is not None and halt()):
            chosen = repaired(enc, rounded(enc, model, prices.x), deadline, enc.n_placeable,
                              halt)[0]
            stats["fallback"] = "flow rounded"
        greedy = serial_dictatorship(enc)[0]
        if better(greedy, chosen):
            chosen = greedy
            stats["fallback"] = "greedy"
    stats["finish_seconds"] = round(clock.now() - finish_from, 3)
    count_lb = None
    if 0 < len(chosen) < prices.placed - 1e-6:
        # The flow's single reward per placed student bounds only its own count well (at
        # tier XL 2,000 students fewer made it 0): the relaxation's optimum at this count.
        # (a few flows: past the limit if need be, by at most COUNT_BOUND_SHARE of it; at
        # tier XL one step gave 241,266 and five 387,112 against the allocation's 404,176)
        count_lb = SlotFlow(enc, model, weight).count_bound(
            len(chosen), until=max(deadline, clock.now() + COUNT_BOUND_SHARE
                                   * config.time_limit_s), top=(prices.rank_lb, prices.placed))
        stats["flow_count_bound"] = count_lb
    placed_ub, rank_lb, stats["bounds"] = merged_bounds(enc, prices, state, len(chosen),
                                                        count_lb)
    # (rank - weight * placed >= this for every allocation: what a caller adding up parts needs)
    stats["weighted_bound"] = [prices.weight, max(prices.value, float(state.get(
        "weighted_lp", -math.inf)))]
    rank = enc.rank_cost(chosen)
    proven = (len(chosen) == placed_ub and rank_lb is not None and rank <= rank_lb
              and not (halt is not None and halt()))
    if proven:
        stats["proven_seconds"] = round((out.proven_at or clock.now()) - t0, 3)
    if halt is not None and halt():
        msg = f"stopped by {halt()}: the best allocation found so far"
    elif proven:
        msg = ""
    elif not chosen:
        msg = "no allocation found within the time limit" + (f" ({out.error})" if out.error
                                                            else "")
    else:
        msg = "time limit reached before levels 1 and 2 were proven optimal"
    status = (Status.OPTIMAL if proven else Status.FEASIBLE if chosen or enc.n_placeable == 0
              else Status.UNKNOWN)
    return build_result(enc, name, status, chosen, config, clock.now() - t0,
                        placed_upper_bound=placed_ub, rank_cost_lower_bound=rank_lb,
                        stats=stats, message=msg)
