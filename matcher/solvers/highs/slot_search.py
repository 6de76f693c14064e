"""The slot model's HiGHS helper: LP bounds with cuts, then exact searches around the LP.

Runs in the HiGHS helper process (:func:`main`, started through
:mod:`matcher.solvers.highs_runner` by :mod:`matcher.solvers.slot_solve`), never next to
OR-Tools. The job (``WORKDIR/job.json`` and ``WORKDIR/model.npz``, the arrays of a
:class:`~matcher.solvers.slots.SlotModel` and the columns the LP starts from) is solved in
phases; after each the helper
replaces ``WORKDIR/state.json`` (bounds, phase, times) and, for every better allocation,
``WORKDIR/best.npz`` (the column values), so that whatever is there when the parent stops it is
the best known:

1. *placed bound*: the LP maximum of the students placed, rounded down (``placed_ub``);
2. *rank bound*: with that many placed, the LP minimum of the rank cost, raised by rounds of
   parity cuts and {0, 1/2}-cuts (:mod:`matcher.solvers.highs.cuts`) while they
   raise it; its ceiling is ``rank_lb``;
3. *fix and solve*: students the LP places integrally stay where it places them, the others
   (and, before a proof or if that finds nothing, everyone at a workstation one of them
   touches) are solved exactly by HiGHS's branch and cut on what is left;
4. *proof*: a model small enough is then solved whole (cuts included, the best allocation as
   start) until the deadline, which proves the optimum; otherwise neighbourhoods of the best
   allocation (the students at a few workstations, chosen by the seed) are re-solved exactly
   until the deadline.

If no allocation placing ``placed_ub`` is found, the placed count is maximised exactly first.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .common import (
    CLASS,
    CLOCK,
    EPS,
    FULL_MODEL_COLUMNS,
    LISTED,
    MENTOR,
    MIP_START_SECONDS_PER_ENTRY,
    SPLIT,
    FloatArray,
    has_solution,
    refuse_ortools,
    time_left,
)
from .cuts import hall_cut_rows, parity_cuts, zero_half_cuts
from .slot_lp import Master, SlotProblem, State, indicator, solve_lp, values

CUT_ROUNDS = 30
"""Most rounds of parity cuts (they stop earlier once a round raises the bound by < 0.01)."""
NEIGHBOURHOOD_STATIONS = 12
"""Workstations a neighbourhood search starts with (it grows while searches find nothing
quickly, up to ``NEIGHBOURHOOD_GROWTH`` times this, and shrinks when they run long)."""
NEIGHBOURHOOD_GROWTH = 8
"""At tier L the neighbourhoods of 50-90 workstations still solve in about a second and find
what those of 48 (the cap at 4) no longer do."""
NEIGHBOURHOOD_SECONDS = 4.0
"""Most time one neighbourhood search may take."""
NEIGHBOURHOOD_SECONDS_PER_COLUMN = 2e-7
"""Deterministic cost model: choosing a neighbourhood and freeing it (passes over every
column), per model column."""
FIX_PER_LP = 7.5
"""Fix and solve around the LP point takes about 6 times as long per column it frees as the
LP took per model column (tier XL: LP 44 s over 1.06 million columns; fix and solve 7-29 s over
40,000-117,000 freed, 17 s over 58,000 with the other core busy); this is that with a quarter
more. Cut rounds keep this much time for fix and solve around the point so far: at XL with
seed 1 (rounds of 20-35 s) a round once ran into fix and solve's time, which then did not
finish, and the result was the search's from the quick allocation, 1.8% above the bound."""
CUT_SECONDS_PER_ENTRY = 3e-7
"""Deterministic cost model: finding a round of cuts, per entry of the rows combined (tier M:
0.4-1.0 s a round)."""
PLACED_MARGIN = 0.05
"""Added to the interior point's placed maximum before rounding it down (see
:func:`placed_lp_bound`)."""
CUT_STALLS = 4
"""Cut rounds stop after this many in a row raise the LP by less than 0.01 (tier M: rounds
of {0, 1/2}-cuts sometimes stall once and then raise it again)."""


def main(work: Path, role: str = "both") -> None:
    """Helper-process entry: the phases of the module docstring.

    ``role`` ``"both"`` runs them in turn. Province-scale models get two helpers at once:
    ``"bound"`` (phases 1-3, fix and solve taking most of the time left, then phase 4) and
    ``"search"`` (phase 4 from the quick allocation the parent writes to ``start.npz``, meanwhile
    and to fall back on).
    """
    refuse_ortools()
    job = json.loads((work / "job.json").read_text(encoding="utf-8"))
    data = np.load(work / "model.npz")
    deadline = CLOCK.start(job)
    state = State(work, CLOCK.now(), "state.json" if role != "search" else "search.json")
    pb = SlotProblem(data)
    if job.get("enforce_all"):
        pb.enforced[:] = True
    if role == "search":
        search = Search(pb, job, state, deadline, work)
        search.wait_for_start(most=math.inf if CLOCK.deterministic else deadline - time.time())
        search.neighbourhoods([])
    else:
        x = bounds(work, job, data, pb, state, deadline)
        if x is None:
            return  # its phase says why ("infeasible" or "failed")
        search = Search(pb, job, state, deadline, work)
        if role == "both":
            search.around_lp(x)
            search.proof_or_neighbourhoods(x)
        else:
            # Province scale: the LP point with cuts, solved around, is the allocation (tier
            # XL: 0.04-0.05% above the bound; the neighbourhoods from the quick allocation
            # alone reach about 2%).
            search.around_lp(x, share=0.9)  # (HiGHS may overrun its limit a little)
            search.neighbourhoods([x])
    state.note(phase="done")


def bounds(work: Path, job: dict[str, Any], data: Any, pb: SlotProblem, state: State,
           deadline: float) -> FloatArray | None:
    """Phases 1-2: the placed and rank bounds by LP with cuts; the LP point, or None when
    there is none."""
    import highspy

    started_lp = CLOCK.now()
    ones = np.ones(len(pb.placed_cols))
    # A weight per placed student larger than any rank gets both levels from one solve
    # (placing is settled first, and simplex is much faster so than on the degenerate count
    # alone); when its count falls short of what every student with an option would make, the
    # count's own LP decides.
    weight = float(job["placed_weight"])
    is_placed = indicator(pb.n_cols, pb.placed_cols)
    active = np.ones(pb.n_cols, dtype=bool)
    if "active" in data.files:
        active = data["active"]
    lp = Master(pb, job, active, pb.cost - weight * is_placed)
    if not lp.solve(deadline):
        if lp.h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
            state.note(phase="infeasible", error="the locks cannot all be honoured")
        else:
            state.note(phase="failed", error="the LP relaxation was not solved in time")
        return None
    x = lp.x()
    placed_lp = float(x[pb.placed_cols].sum())
    # Every allocation placing P has rank cost >= this + weight * P (it is a point of the LP):
    # a bound for any count, kept whatever happens next.
    weighted = lp.value()
    state.note(weighted_lp=weighted, rank_by="lp")
    flow_ub = job.get("placed_flow_ub")
    placeable = int(job["placeable"])
    fixed = True  # whether the LP can place placed_ub (then the rank LP fixes that count)
    if placed_lp > placeable * (1 - EPS) - EPS:  # (the LP places everyone)
        placed_ub, placed_by = placeable, "students_with_options"
    elif flow_ub is not None and placed_lp > int(flow_ub) - 1e-6:
        # The weighted LP places as many as the flow relaxation's maximum allows (the flow is
        # a relaxation of this LP): that maximum is the LP's, no count LP needed.
        placed_ub, placed_by = int(flow_ub), "max_flow"
    else:
        got = placed_lp_bound(pb, job, is_placed, deadline)
        if got is not None:
            placed_ub, placed_by = got, "lp"
        else:  # not solved in time: the parent's maximum flow stands (never no bound)
            placed_ub = int(flow_ub) if flow_ub is not None else placeable
            placed_by, fixed = "max_flow" if flow_ub is not None else "students_with_options", False
            state.event("the placed LP was not solved in time; the flow's bound stands")
    state.note(phase="placed bound", placed_ub=placed_ub, placed_by=placed_by,
               rank_lb=math.ceil(weighted + weight * placed_ub - EPS),
               columns=int(lp.active.sum()))
    # Exactly placed_ub placed: with the weighted objective kept, the rank cost is the LP value
    # plus weight * placed_ub, and the basis stays optimal when the weighted LP placed as many.
    offset = weight * placed_ub
    if fixed:
        lp.add_rows([(pb.placed_cols, ones, float(placed_ub), float(placed_ub))])
        if not lp.solve(deadline):
            state.event("the rank LP was not solved in time; the weighted LP's bound stands")
            return x
    lp_value = lp.value() + offset
    state.note(phase="rank bound", lp_rank=lp_value, rank_lb=math.ceil(lp_value - EPS),
               columns=int(lp.active.sum()))
    state.event(f"LP {lp_value:.3f}")
    publish(work, lp.x())  # the LP point for the search's neighbourhoods (large models)
    hall = hall_cut_rows(data)
    cut_until = CLOCK.now() + float(job["cut_share"]) * time_left(deadline)
    lp_per_column = (CLOCK.now() - started_lp) / max(1, pb.n_cols)  # (the machine's pace)
    n_cuts = stalls = 0
    x = lp.x()
    took = 0.0
    for _round in range(CUT_ROUNDS):
        # After the first, a round must leave fix and solve around the point so far its time
        # (if the round's LP is cut short, that point is the one solved around; the LP point
        # without cuts is no choice to keep: fix and solve around it is the slowest and worst).
        until = cut_until if _round == 0 else min(
            cut_until, deadline - FIX_PER_LP * lp_per_column * int(_fixing(pb, x).sum()))
        if CLOCK.deterministic:
            # A deterministic MIP that cannot pay its start-up does not start at all (tier
            # XL: the cut rounds left 14 s, fix and solve's sub-model needed more, and the
            # bound helper found no allocation): keep that, with a margin, for fix and solve.
            until = min(until, deadline - 1.5 * _start_charge(pb, _fixing(pb, x)) / 0.9)
        if CLOCK.now() + took >= until:
            break  # (a round may take as long as the longest before it)
        started = CLOCK.now()
        cuts = [(idx, np.ones(len(idx)), -math.inf, rhs) for idx, rhs in parity_cuts(x, hall)]
        rows = pb.cut_rows()
        cuts += [(idx, val, -math.inf, rhs)
                 for idx, val, rhs in zero_half_cuts(x, pb.ub, *rows)]
        CLOCK.charge(CUT_SECONDS_PER_ENTRY * len(rows[0][1]))
        if not cuts:
            break
        lp.add_rows(cuts)
        n_cuts += len(cuts)
        if not lp.solve(until):
            break
        before, lp_value = lp_value, lp.value() + offset
        x = lp.x()
        took = max(took, CLOCK.now() - started)  # (rounds vary: XL 10-35 s)
        state.note(lp_rank=lp_value, rank_lb=math.ceil(lp_value - EPS), cuts=n_cuts,
                   rank_by="lp_with_cuts" if lp_value > before + EPS or state.info.get(
                       "rank_by") == "lp_with_cuts" else state.info.get("rank_by"))
        stalls = stalls + 1 if lp_value - before < 0.01 else 0
        if stalls >= CUT_STALLS:
            break
    state.event(f"LP {lp_value:.3f} after {n_cuts} cuts")
    publish(work, x)
    return x


def placed_lp_bound(pb: SlotProblem, job: dict[str, Any], is_placed: FloatArray,
                    deadline: float) -> int | None:
    """The LP maximum of the students placed, rounded down; None when it is not solved by
    ``deadline``.

    By the interior point method without crossover (the issue's province: IPX solved this LP
    of 567,000 columns in 82 s, then crossover ran out of time and the bound was lost). Its
    objective is optimal to HiGHS's tolerances (1e-7 relative), so the count is rounded down
    only after adding :data:`PLACED_MARGIN`: a bound a hair above the true maximum stays
    valid, one below would not.
    """
    hp, _ = pb.highs(job)
    hp.setOptionValue("solver", "ipm")
    hp.setOptionValue("run_crossover", "off")
    hp.changeColsCost(pb.n_cols, np.arange(pb.n_cols, dtype=np.int32), -is_placed)
    if not solve_lp(hp, deadline):
        return None
    return math.floor(-hp.getInfo().objective_function_value + PLACED_MARGIN)


def publish(work: Path, x: FloatArray) -> None:
    """Write the LP point to ``lp.npz`` (atomically) for the parent and the search helper."""
    tmp = work / "lp.tmp.npz"
    np.savez(tmp, x=x)
    os.replace(tmp, work / "lp.npz")


class Search:
    """Phases 3-4: exact searches (HiGHS branch and cut) on parts of the model.

    The objective is the weighted one (rank cost minus a weight per placed student), so no
    placed bound is needed; allocations are compared by placed, then rank cost.
    """

    def __init__(self, pb: SlotProblem, job: dict[str, Any], state: State,
                 deadline: float, work: Path) -> None:
        self.pb, self.job, self.state, self.deadline = pb, job, state, deadline
        self.work = work
        self.best: FloatArray | None = None
        # workstation -> its columns' values when its students last fitted their mentors
        self.fits: dict[int, bytes] = {}
        self.cost = pb.cost - float(job["placed_weight"]) * indicator(pb.n_cols,
                                                                       pb.placed_cols)

    def offer(self, x_new: FloatArray, how: str, depth: int = 0) -> None:
        """Keep ``x_new`` if it is better than the best, once its students have mentors.

        Where mentors take different disciplines and the counts per mentor are not enforced
        yet, each workstation whose students changed is checked (a small exact solve); one
        that fails has them enforced from then on, and its neighbourhood is solved again with
        them (the result offered in turn)."""
        pb = self.pb
        x_new = np.round(x_new)
        CLOCK.charge(NEIGHBOURHOOD_SECONDS_PER_COLUMN * (pb.n_cols + len(pb.row_col)))
        if not pb.feasible(x_new):
            self.state.event(f"{how}: rounding broke a row; dropped")
            return
        if self.best is not None and (pb.placed(x_new), -pb.rank(x_new)) <= (
                pb.placed(self.best), -pb.rank(self.best)):
            return
        failed = self._mentor_misfits(x_new)
        if failed.any():
            self.pb.enforced |= failed
            self.state.info["enforced"] = int(self.pb.enforced.sum())
            if depth < 3:
                ball = failed.copy()
                for w in np.flatnonzero(failed).tolist():
                    ball |= _ball(_wants(pb, x_new), w, 6, pb.n_ws)
                self.sub_mip(_around(pb, [x_new], ball), x_new,
                             min(NEIGHBOURHOOD_SECONDS, 0.5 * time_left(self.deadline)),
                             f"{how}, with mentors' counts", depth=depth + 1)
            return
        self.best = x_new
        self.state.best(x_new, pb.placed(x_new), pb.rank(x_new))
        self.state.event(f"{how}: placed {pb.placed(x_new)}, rank {pb.rank(x_new)}")

    def _mentor_misfits(self, x: FloatArray) -> npt.NDArray[np.bool_]:
        """Workstations (not enforced) whose students in ``x`` changed since the best and
        cannot be shared out among their mentors (each checked by a small exact solve, unless
        the same students there passed before)."""
        import highspy

        pb = self.pb
        people = (pb.kind != MENTOR) & (pb.kind != SPLIT) & (pb.ws >= 0)
        changed = np.zeros(pb.n_ws, dtype=bool)
        differ = people & ((x != self.best) if self.best is not None else (x > 0.5))
        changed[pb.ws[differ]] = True
        todo = np.flatnonzero(changed & pb.mixed & ~pb.enforced)
        failed = np.zeros(pb.n_ws, dtype=bool)
        for w in todo.tolist():
            seen = x[pb.people_cols(w)].tobytes()
            if self.fits.get(w) == seen:
                continue
            if pb.shares_out(w, x):  # (most do; the exact solve is for the rest)
                self.fits[w] = seen
                continue
            pb.enforced[w] = True
            try:
                h, _ = pb.highs(self.job, pb.mentor_cols(w), x, integer=True)
            finally:
                pb.enforced[w] = False
            CLOCK.run(h, 1.0, mip=True)
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kInfeasible:
                failed[w] = True
            elif status == highspy.HighsModelStatus.kOptimal:
                self.fits[w] = seen
        return failed

    def sub_mip(self, free: npt.NDArray[np.bool_], start: FloatArray, limit: float,
                how: str, depth: int = 0) -> None:
        """Solve the model with the columns outside ``free`` fixed at ``start``."""
        import highspy

        if limit <= 0.05:
            return
        pb = self.pb
        CLOCK.charge(NEIGHBOURHOOD_SECONDS_PER_COLUMN * pb.n_cols)
        fixed = np.round(start)
        hm, sub = pb.highs(self.job, np.flatnonzero(free), fixed, integer=True,
                           cost=self.cost)
        if len(sub) == 0:  # an integral LP point (with cuts): nothing to solve (HiGHS would
            self.offer(fixed, how, depth)  # call the empty model solved without a solution)
            return
        if self.best is not None:
            sol = highspy.HighsSolution()
            sol.col_value = self.best[sub].tolist()
            hm.setSolution(sol)
        if CLOCK.run(hm, limit, mip=True) and has_solution(hm):
            self.offer(values(hm, sub, pb.n_cols, fixed), how, depth)

    def around(self, x: FloatArray, what: str, share: float = 0.5) -> None:
        """Fix and solve: students ``x`` places integrally stay; the others are solved (in at
        most ``share`` of the time left)."""
        self.state.note(phase=f"fix and solve ({what})")
        self.sub_mip(_fixing(self.pb, x), x, share * time_left(self.deadline),
                     f"fix and solve ({what})")

    def around_lp(self, x: FloatArray, share: float = 0.5) -> None:
        """Fix and solve around the LP point, then once more with everyone at a workstation
        a fractional student touches freed too: when the first found nothing, or before a
        proof (the demo: its start 4,847 instead of 4,850, proven 0.5 s sooner). Not before
        neighbourhoods: at tier L it took 20 s and found nothing better, while neighbourhoods
        (some where the LP point and the allocation differ) gain in that time. The first
        takes at most ``share`` of the time left; the second at most 0.4 (or ``share`` when
        the first found nothing)."""
        self.around(x, "LP", share)
        if self.best is not None and self.pb.n_cols > FULL_MODEL_COLUMNS:
            return
        frac = np.abs(x - np.round(x)) > EPS
        refs = [x] if self.best is None else [x, self.best]
        self.sub_mip(_around(self.pb, refs, _touched_stations(self.pb, frac)),
                     x if self.best is None else self.best,
                     (share if self.best is None else 0.4) * time_left(self.deadline),
                     "fix and solve (LP, +1)")

    def take_start(self) -> bool:
        """The parent's newest allocation, if it wrote one since the last look (start and
        mentor counts, which it leaves at 0, are solved here with everything else fixed)."""
        path = self.work / "start.npz"
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return False
        if stamp == getattr(self, "_start_stamp", None):
            return False
        self._start_stamp = stamp
        with np.load(path) as got:
            x = np.asarray(got["x"])
            what = str(got["what"]) if "what" in got.files else "the parent's allocation"
        free = (self.pb.kind == SPLIT) | (self.pb.kind == MENTOR)
        if free.any():
            self.sub_mip(free, x, 0.2 * time_left(self.deadline), what)
        else:
            self.offer(x, what)
        return True

    def wait_for_start(self, most: float = 60.0) -> None:
        """Wait (up to ``most`` seconds, and in a deterministic job until it comes: the parent
        always writes one) for an allocation from the parent."""
        until = math.inf if CLOCK.deterministic else min(time.time() + most,
                                                         self.deadline - 1.0)
        while time.time() < until and not self.take_start():
            time.sleep(0.1)

    def proof_or_neighbourhoods(self, x: FloatArray) -> None:
        """Phase 4: the whole model when small (a proof), else neighbourhoods."""
        import highspy

        pb, state = self.pb, self.state
        if pb.n_cols > FULL_MODEL_COLUMNS or time_left(self.deadline) <= 0.05:
            self.neighbourhoods([x])
            return
        state.note(phase="proof")
        hm, every = pb.highs(self.job, integer=True, cost=self.cost)
        if state.info["placed_ub"] is not None:
            ones = np.ones(len(pb.placed_cols))
            hm.addRow(float(state.info["placed_ub"]), float(state.info["placed_ub"]),
                      len(pb.placed_cols), pb.placed_cols.astype(np.int32), ones)
        if self.best is not None:
            sol = highspy.HighsSolution()
            sol.col_value = self.best.tolist()
            hm.setSolution(sol)
        weight, placed_ub = float(self.job["placed_weight"]), state.info["placed_ub"]

        def raise_bound(out: Any) -> None:
            # (at each of the MIP's checks: a helper stopped in its root's cut rounds, where
            # HiGHS does not look at its time limit, keeps the bound reached so far)
            bound = float(out.mip_dual_bound)
            if placed_ub is None or not math.isfinite(bound):
                return
            lb = math.ceil(bound + weight * placed_ub - EPS)
            if lb > (state.info["rank_lb"] or -math.inf):
                state.note(rank_lb=lb, rank_by="branch_and_cut")

        if not CLOCK.run(hm, time_left(self.deadline), mip=True, on_check=raise_bound):
            # (a deterministic job with too little work left for the whole model's start)
            self.neighbourhoods([x])
            return
        if has_solution(hm):
            self.offer(values(hm, every, pb.n_cols, None), "branch and cut")
        bound = hm.getInfo().mip_dual_bound
        if math.isfinite(bound) and state.info["placed_ub"] is not None:
            lb = math.ceil(bound + float(self.job["placed_weight"]) * state.info["placed_ub"]
                           - EPS)
            if lb > (state.info["rank_lb"] or -math.inf):
                state.note(rank_lb=lb, rank_by="branch_and_cut")

    def neighbourhoods(self, refs: list[FloatArray], until: float | None = None) -> None:
        """Re-solve neighbourhoods of the best allocation until ``until`` (or the deadline)."""
        if self.best is None:
            return
        pb, state = self.pb, self.state
        end = self.deadline if until is None else min(until, self.deadline)
        state.note(phase="neighbourhoods")
        rng = np.random.default_rng(int(self.job["seed"]) + int(state.info.get("tried", 0)))
        size = int(state.info.get("size", NEIGHBOURHOOD_STATIONS))
        while end - CLOCK.now() > 0.5 and not state.info["proven"]:
            # (a deterministic job takes the parent's allocation only before it starts, and
            # the LP point only as given: when either comes depends on the machine's pace)
            if not CLOCK.deterministic:
                self.take_start()
            if not refs and not CLOCK.deterministic and (self.work / "lp.npz").is_file():
                with np.load(self.work / "lp.npz") as got:
                    refs = [np.asarray(got["x"])]  # the LP point: its students are free too
            wants = _wants(pb, self.best)
            differ = _differ(pb, self.best, refs[0]) if refs and state.info.get(
                "tried", 0) % 2 == 0 else {}
            seed_ws = _pick_seed(differ or wants, rng)
            if seed_ws < 0:
                break
            # Where the LP differs, grow along the students the LP splits or moves (an island
            # of the LP point, as fix and solve would take it); else along wanted moves.
            ball = _ball(_links(pb, self.best, refs[0]) if differ else wants, seed_ws, size,
                         pb.n_ws)
            before = pb.rank(self.best)
            CLOCK.charge(NEIGHBOURHOOD_SECONDS_PER_COLUMN * pb.n_cols)
            t_sub = CLOCK.now()
            self.sub_mip(_around(pb, [self.best, *refs], ball), self.best,
                         min(NEIGHBOURHOOD_SECONDS, end - CLOCK.now() - 0.3),
                         f"neighbourhood of {int(ball.sum())}")
            # Grow while they solve fast and find nothing; shrink when they run long.
            if CLOCK.now() - t_sub > 0.5 * NEIGHBOURHOOD_SECONDS:
                size = max(4, size // 2)
            elif pb.rank(self.best) == before:
                size = min(NEIGHBOURHOOD_GROWTH * NEIGHBOURHOOD_STATIONS, size + 4)
            state.info["tried"] = int(state.info.get("tried", 0)) + 1
            state.info["size"] = size
        state.note()


def _student_cols(pb: SlotProblem, students: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Columns of the given students (their ``ONE`` rows' entries)."""
    rows = np.zeros(pb.n_rows, dtype=bool)
    rows[pb.one_rows] = students
    mask = np.zeros(pb.n_cols, dtype=bool)
    mask[pb.row_col[rows[pb.row_of]]] = True
    return mask


def _around(pb: SlotProblem, refs: list[FloatArray], stations: npt.NDArray[np.bool_], *,
            only_fractional: bool = False) -> npt.NDArray[np.bool_]:
    """Columns a neighbourhood frees: every column of the students some reference places (any
    amount) at one of ``stations``, and the off-list, start and mentor counts there.

    With ``only_fractional``, only the students a reference places fractionally, and those at
    workstations where a count is fractional (their integer counts may need them moved)."""
    listed = (pb.kind == LISTED) & (pb.ws >= 0)
    counts = (pb.kind >= CLASS) & (pb.ws >= 0)
    rows = np.zeros(pb.n_rows, dtype=bool)
    for x in refs:
        on = x > EPS
        if only_fractional:
            frac = np.abs(x - np.round(x)) > EPS
            split = np.zeros(pb.n_ws, dtype=bool)
            split[pb.ws[frac & counts]] = True
            at = np.zeros(pb.n_cols, dtype=bool)
            at[listed] = split[pb.ws[listed]]
            on &= frac | at
        else:
            at = np.zeros(pb.n_cols, dtype=bool)
            at[listed] = stations[pb.ws[listed]]
            on &= at
        rows[pb.row_of[on[pb.row_col]]] = True
    free = _student_cols(pb, rows[pb.one_rows])
    free[counts] |= stations[pb.ws[counts]]
    return free


def _start_charge(pb: SlotProblem, free: npt.NDArray[np.bool_]) -> float:
    """An estimate of what a deterministic MIP over the ``free`` columns is charged to start
    (:data:`MIP_START_SECONDS_PER_ENTRY` per entry: its columns, their entries, and at most
    every row)."""
    per_column = len(pb.row_col) / max(1, pb.n_cols)
    n_free = int(free.sum())
    return MIP_START_SECONDS_PER_ENTRY * (n_free * (1.0 + per_column) + min(pb.n_rows,
                                                                           n_free))


def _fixing(pb: SlotProblem, x: FloatArray) -> npt.NDArray[np.bool_]:
    """The columns fix and solve around ``x`` frees (the rest stay as ``x`` has them)."""
    frac = np.abs(x - np.round(x)) > EPS
    return _around(pb, [x], _touched_stations(pb, frac), only_fractional=True)


def _touched_stations(pb: SlotProblem, frac: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Workstations with a fractional column."""
    mask = np.zeros(pb.n_ws, dtype=bool)
    w = pb.ws[frac]
    mask[w[w >= 0]] = True
    return mask


def _wants(pb: SlotProblem, best: FloatArray) -> dict[int, set[int]]:
    """Workstation -> workstations its students (in ``best``) rank better than their own."""
    listed = pb.listed
    on = listed[best[listed] > 0.5]
    n_s = len(pb.row_of_student)
    rank = np.full(n_s, np.inf)
    home = np.full(n_s, -1, dtype=np.int64)
    rank[pb.student[on]] = pb.cost[on]
    home[pb.student[on]] = pb.ws[on]
    who = pb.student[listed]
    better = listed[(pb.cost[listed] < rank[who]) & (home[who] >= 0)]
    pairs = np.unique(np.stack([home[pb.student[better]], pb.ws[better]], axis=1), axis=0)
    out: dict[int, set[int]] = {}
    for a_ws, b_ws in pairs.tolist():
        out.setdefault(a_ws, set()).add(b_ws)
    return out


def _differ(pb: SlotProblem, best: FloatArray, ref: FloatArray) -> dict[int, set[int]]:
    """Workstation -> the students placed there by exactly one of ``best`` and the LP point
    ``ref`` (where a neighbourhood is most likely to gain: the LP's choices differ)."""
    listed = pb.listed
    diff = listed[(best[listed] > 0.5) != (ref[listed] > 0.5)]
    out: dict[int, set[int]] = {}
    for w, i in zip(pb.ws[diff].tolist(), pb.student[diff].tolist(), strict=True):
        out.setdefault(w, set()).add(i)
    return out


def _links(pb: SlotProblem, best: FloatArray, ref: FloatArray) -> dict[int, set[int]]:
    """Workstation -> workstations sharing a student with it: placed at one in ``best`` and
    (partly) at the other in the LP point ``ref``, or split by the LP between both."""
    listed = pb.listed
    on = listed[(best[listed] > 0.5) | (ref[listed] > EPS)]
    order = np.lexsort((pb.ws[on], pb.student[on]))
    who, where = pb.student[on][order], pb.ws[on][order]
    same = who[1:] == who[:-1]
    a, b = where[:-1][same], where[1:][same]
    out: dict[int, set[int]] = {}
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if x != y:
            out.setdefault(x, set()).add(y)
            out.setdefault(y, set()).add(x)
    return out


def _pick_seed(weights: dict[int, set[int]], rng: np.random.Generator) -> int:
    """A workstation to grow a neighbourhood from, chosen at random (by the job's seed) with
    weight the size of its set (students that want to move, or that differ from the LP)."""
    if not weights:
        return -1
    keys = sorted(weights)
    weight = np.array([len(weights[k]) for k in keys], dtype=np.float64)
    return int(keys[rng.choice(len(keys), p=weight / weight.sum())])


def _ball(wants: dict[int, set[int]], seed: int, size: int, n_ws: int) -> npt.NDArray[np.bool_]:
    """Up to ``size`` workstations reached from ``seed`` along wanted moves, breadth first."""
    mask = np.zeros(n_ws, dtype=bool)
    order = [seed]
    mask[seed] = True
    k = 0
    while k < len(order) and len(order) < size:
        for w in sorted(wants.get(order[k], ())):
            if not mask[w]:
                mask[w] = True
                order.append(w)
                if len(order) >= size:
                    break
        k += 1
    return mask
