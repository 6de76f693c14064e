"""The rules of issue 28 solved exactly and fast: the aggregated model with the slot lemma.

Minimum intakes, groups and split practice couple students, so the slot model
(:mod:`matcher.solvers.slots`) hands them over; the aggregated model
(:mod:`matcher.solvers.aggregate`) holds them exactly, but its starts and mentors per start
group make it large and its LP weak (tier ``S-rules``: 40,000 columns, not proven in 60 s).
This model is the aggregated one in which every workstation where the slot lemma holds (a
*slot-exact* workstation, below) has no start or mentor columns at all:

- its limits are the slot model's: the Hall rows ``sum n_i <= T min(c, cover(S))`` per set
  ``S`` of the disciplines placed there, and, where its mentors take different disciplines,
  integer counts per mentor and student type ``v[w,d,n,m]`` with ``sum_{d,n} n v <= T k_m``
  (the slot lemma of :mod:`matcher.solvers.slots`: exactly the sets of students that fit);
- a split practice needs nothing there: whatever fits with segment plans keeps the Hall rows
  and the counts per mentor (they only count term-places), so it fits in one block each by
  the lemma; such students get one block there (no extra segment);
- a group kept together is one column ``x[G,w]`` whatever its start (its members' term-places
  in the rows); whether the members can start together is checked when the workstation is
  packed (:func:`pack`): where they cannot, the workstation leaves the slot-exact set and the
  model is solved again (*lazily*: each model solved is a relaxation of the problem, so its
  bounds hold, and an allocation that packs everywhere is its optimum);
- minimum intakes (``open[w]``), vetoes (no column) and tied choices (costs) are as in the
  aggregated model.

The other workstations (a closed or overridden term, a student type with another window or a
longer block) keep the aggregated model's start and mentor counts, with segment plans and
per-plan group columns (:func:`matcher.solvers.aggregate.add_groups`). Supervisors are left
out when they provably never bind (:func:`matcher.solvers.slots.supervisors_never_bind`;
chosen afterwards by :func:`matcher.solvers.slot_rounding.supervisors`, rewarded pairs first),
else the aggregated supervisor counts are kept. Levels: placed, rank cost, then extra segments
(only at the other workstations); the pair weight is not a level of this model (its supervisor
choice favours rewarded pairs, unproven).

Slot-exact here means: the common window (:func:`matcher.solvers.slots.common_window`) has an
even number ``T`` of terms, the workstation's capacity is the same in each of them, every
student who may go there has that window and a block of one or two terms, and no lock names a
mentor or start there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from ..encoding import Encoded
from . import clock
from .aggregate import (
    Aggregated,
    GroupKey,
    StartKey,
    add_choices,
    add_class_links,
    add_groups,
    add_mentor_limits,
    add_min_intakes,
    add_objectives,
    add_start_split,
    add_supervisor_limits,
    add_workstation_limits,
    assign,
    default_key,
    fixed_key,
    group_of,
    grouped,
    seated,
)
from .base import Choice, SolverConfig
from .linear import Terms, value
from .milp_model import ASSIST_GRACE_S, Expr, Stage, ceil_bound, minimised, run_levels
from .slot_rounding import supervisors
from .slots import common_window, hall_rows, supervisors_never_bind

PACK_SECONDS = 2.0
"""Time (CP-SAT deterministic time) an exact packing of one workstation may take."""
POLISH_SHARE = 0.3
"""Share of the first level's time that may go to a start by LP, cuts, fix and solve
(:mod:`matcher.solvers.highs.polish`) before HiGHS's branch and cut."""
FINISH_SHARE = 0.05
"""Share of the time limit kept after HiGHS for the packing and the result."""
MAX_ROUNDS = 4
"""Models solved at most: the first, and again without workstations where a group could not
start together."""


@dataclass
class RulesModel:
    """The model of one problem (see the module docstring) and what its allocation needs."""

    agg: Aggregated
    exact: frozenset[int]
    """The slot-exact workstations (limits by Hall rows and counts per mentor)."""
    terms: int
    """``T``: the terms of the common window."""
    supervisors: bool
    """Whether the supervisor counts are in the model (else they never bind)."""
    unplaced: Terms = field(default_factory=list)
    """``sum u[i]``: the students left unplaced (but the locked ones, who are placed)."""
    mentor_counts: dict[tuple[int, int, int, int], int] = field(default_factory=dict)
    """``v[w,d,n,m]`` columns by ``(w, d, n, m)``."""


def slot_exact(enc: Encoded) -> tuple[set[int], int]:
    """The slot-exact workstations (module docstring) and ``T``."""
    first0, last0 = common_window(enc)
    terms = last0 - first0 + 1
    if terms % 2:
        return set(), terms
    caps = np.array(enc.ws_cap, dtype=np.int64).reshape(len(enc.workstation_ids), enc.n_terms)
    window = caps[:, first0:last0 + 1]
    exact = set(np.flatnonzero(window.min(axis=1) == window.max(axis=1)).tolist())
    for lock in enc.st_lock:
        if lock is not None and (lock[1] >= 0 or lock[2] >= 0):
            exact.discard(lock[0])
    seen: set[tuple[int, ...]] = set()
    for i in range(enc.n_students):
        key = enc.profile(i)
        if key in seen:
            continue
        seen.add(key)
        if (enc.st_first[i], enc.st_last[i]) != (first0, last0) or enc.st_block[i] not in (1, 2):
            exact.difference_update(enc.profile_starts(key))
    return exact, terms


def build(enc: Encoded, exact: set[int], terms: int, with_supervisors: bool) -> RulesModel:
    """The model, one constraint family per function (:mod:`matcher.solvers.aggregate`'s and
    :func:`add_slot_limits`)."""
    agg = Aggregated(enc, exact_bounds=True)
    add_choices(agg, pairs=False)
    add_groups(agg, whole=exact)
    add_min_intakes(agg)
    unplaced = add_unplaced(agg)
    add_class_links(agg)
    add_start_split(agg, skip=exact)
    add_workstation_limits(agg)
    add_mentor_limits(agg)
    if with_supervisors:
        add_supervisor_limits(agg)
    model = RulesModel(agg, frozenset(exact), terms, with_supervisors, unplaced)
    add_slot_limits(model)
    add_objectives(agg)
    return model


def add_unplaced(agg: Aggregated) -> Terms:
    """One placement per student with an unplaced column: ``sum of i's placement columns +
    u[i] = 1`` (``= 1`` without ``u`` for a locked student, its lock row). Returns ``sum u``.

    Why not ``<= 1`` as the aggregated model has it: levels 1-2 go to HiGHS as one objective,
    ``rank cost + W sum u`` (``W`` above any rank cost), which stays the size of a rank cost
    where ``rank cost - W placed`` would be ``W`` times the students; HiGHS's relative
    tolerance on a dual bound (and :func:`matcher.solvers.milp_model.ceil_bound`'s) then
    costs no proof (tier ``S-rules``: 44 units of rank cost lost against less than 0.01)."""
    lp = agg.lp
    out: Terms = []
    for i in sorted(agg.placed_cols):
        terms = [(j, 1) for j in agg.placed_cols[i]]
        if agg.enc.st_lock[i] is not None:
            agg.lock_rows[i] = lp.row(terms, 1, 1, "lock")
            continue
        u = lp.var(1, ("u", i), boolean=True)
        out.append((u, 1))
        lp.row([*terms, (u, 1)], 1, 1, "one placement")
    return out


def _types_at(model: RulesModel) -> dict[int, dict[tuple[int, int], Terms]]:
    """Per slot-exact workstation, the students placed there by type ``(d, n)``: their
    columns, a group's column once per member of that type."""
    agg = model.agg
    enc = agg.enc
    out: dict[int, dict[tuple[int, int], Terms]] = defaultdict(lambda: defaultdict(list))
    for (i, w), j in agg.y.items():
        if w in model.exact:
            out[w][enc.st_disc[i], enc.st_block[i]].append((j, 1))
    for (c, w), j in agg.o.items():
        if w in model.exact:
            _u, d, n = agg.classes[c][0][:3]
            out[w][d, n].append((j, 1))
    for (g, w, _plans), j in agg.gx.items():
        if w in model.exact:
            for i in enc.groups[g]:
                out[w][enc.st_disc[i], enc.st_block[i]].append((j, 1))
    return out


def add_slot_limits(model: RulesModel) -> None:
    """The limits of each slot-exact workstation: its Hall rows, and where its mentors take
    different disciplines the counts per mentor and type, ``sum_m v[w,d,n,m] = count(d, n)``
    and ``sum_{d,n} n v[w,d,n,m] <= T k_m`` (the slot lemma, module docstring)."""
    agg = model.agg
    enc, lp = agg.enc, agg.lp
    first0, _last0 = common_window(enc)
    big_t = model.terms
    for w, types in sorted(_types_at(model).items()):
        present = sorted({d for d, _n in types})
        for s, bound in hall_rows(enc, w, enc.ws_cap[w][first0], present, big_t):
            terms = [(j, n * c) for (d, n), ts in types.items() if d in s for j, c in ts]
            if lp.bound(terms) > bound:
                lp.row(terms, -np.inf, bound, "hall")
        mentors = [m for m in enc.ws_mentors[w] if enc.m_cap[m] > 0]
        if all(enc.m_disc[m].issuperset(present) for m in mentors):
            continue  # every mentor takes every discipline here: the Hall rows are exact
        per_mentor: dict[int, Terms] = defaultdict(list)
        for (d, n), ts in sorted(types.items()):
            most = round(lp.bound(ts))
            split = []
            for m in enc.mentors_for(w, d):
                j = lp.var(min(most, big_t * enc.m_cap[m] // n), ("v", w, d, n, m))
                model.mentor_counts[w, d, n, m] = j
                split.append((j, 1))
                per_mentor[m].append((j, n))
            lp.row(split + [(j, -c) for j, c in ts], 0, 0, "mentor count")
        for m, terms in sorted(per_mentor.items()):
            if lp.bound(terms) > big_t * enc.m_cap[m]:
                lp.row(terms, -np.inf, big_t * enc.m_cap[m], "mentor term-places")


# ---- packing a slot-exact workstation -------------------------------------------------------
def pack(enc: Encoded, w: int, students: list[int]) -> dict[int, tuple[int, int]] | None:
    """A start (one block) and a mentor for every one of ``students`` at ``w``, members of a
    group starting together; None when they do not all fit.

    Greedily first (groups, then two-term blocks, then the students with the fewest mentors),
    else by a small exact CP-SAT model.
    """
    got = _pack_greedily(enc, w, students)
    return got if got is not None else _pack_exactly(enc, w, students)


def _blocks(enc: Encoded, i: int, w: int) -> list[int]:
    """The one-block starts of student ``i`` at ``w``."""
    return [k for ww, k in enc.options(i) if ww == w and k < enc.n_terms]


def _mentors(enc: Encoded, i: int, w: int) -> list[int]:
    lock = enc.st_lock[i]
    return [lock[1]] if lock is not None and lock[1] >= 0 else enc.mentors_for(w, enc.st_disc[i])


def _pack_greedily(enc: Encoded, w: int, students: list[int]
                   ) -> dict[int, tuple[int, int]] | None:
    ws_left = list(enc.ws_cap[w])
    m_left = {m: [enc.m_cap[m]] * enc.n_terms for m in enc.ws_mentors[w]}
    out: dict[int, tuple[int, int]] = {}

    def put(i: int, k: int) -> bool:
        n = enc.st_block[i]
        if k not in _blocks(enc, i, w) or any(ws_left[t] <= 0 for t in range(k, k + n)):
            return False
        for m in _mentors(enc, i, w):
            if all(m_left[m][t] > 0 for t in range(k, k + n)):
                for t in range(k, k + n):
                    ws_left[t] -= 1
                    m_left[m][t] -= 1
                out[i] = (k, m)
                return True
        return False

    def take_back(i: int) -> None:
        k, m = out.pop(i)
        for t in range(k, k + enc.st_block[i]):
            ws_left[t] += 1
            m_left[m][t] += 1

    teams: dict[int, list[int]] = defaultdict(list)
    for i in students:
        if enc.st_group[i] >= 0:
            teams[enc.st_group[i]].append(i)
    for g in sorted(teams):
        members = sorted(teams[g], key=lambda i: -enc.st_block[i])
        for k in sorted(set.intersection(*(set(_blocks(enc, i, w)) for i in members))):
            done = [i for i in members if put(i, k)]
            if len(done) == len(members):
                break
            for i in done:
                take_back(i)
        else:
            return None
    rest = sorted((i for i in students if enc.st_group[i] < 0),
                  key=lambda i: (-enc.st_block[i], len(_mentors(enc, i, w)), i))
    for i in rest:
        if not any(put(i, k) for k in _blocks(enc, i, w)):
            return None
    return out


def _pack_exactly(enc: Encoded, w: int, students: list[int], most: bool = False
                  ) -> dict[int, tuple[int, int]] | None:
    """Everyone packed (None when they do not fit); ``most``: as many as fit (a group
    whole or not at all), the most term-places first."""
    cp = cp_model.CpModel()
    placed: dict[int, Any] = {}
    pick: dict[tuple[int, int, int], Any] = {}
    ws_t: dict[int, list[Any]] = defaultdict(list)
    m_t: dict[tuple[int, int], list[Any]] = defaultdict(list)
    start_of: dict[int, dict[int, Any]] = defaultdict(dict)  # group -> first term -> literal
    for i in students:
        own = []
        g = enc.st_group[i]
        for k in _blocks(enc, i, w):
            at_k = []
            for m in _mentors(enc, i, w):
                v = pick[i, k, m] = cp.new_bool_var(f"p_{i}_{k}_{m}")
                own.append(v)
                at_k.append(v)
                for t in range(k, k + enc.st_block[i]):
                    ws_t[t].append(v)
                    m_t[m, t].append(v)
            if g >= 0 and at_k:
                if k not in start_of[g]:
                    start_of[g][k] = cp.new_bool_var(f"s_{g}_{k}")
                for v in at_k:
                    cp.add_implication(v, start_of[g][k])
        if not own and not most:
            return None
        if most:
            placed[i] = cp.new_bool_var(f"in_{i}")
            cp.add(sum(own) == placed[i])
            if g >= 0:
                first = next(j for j in enc.groups[g] if j in students)
                if first != i:
                    cp.add(placed[i] == placed[first])
        else:
            cp.add_exactly_one(own)
    for starts in start_of.values():
        cp.add_at_most_one(starts.values())
    for t, vs in ws_t.items():
        cp.add(sum(vs) <= enc.ws_cap[w][t])
    for (m, _t), vs in m_t.items():
        cp.add(sum(vs) <= enc.m_cap[m])
    if most:
        cp.maximize(sum(enc.st_block[i] * v for i, v in placed.items()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = PACK_SECONDS
    solver.parameters.catch_sigint_signal = False
    status = solver.solve(cp)
    clock.charge(solver.response_proto.deterministic_time)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return {i: (k, m) for (i, k, m), v in pick.items() if solver.value(v)}


# ---- from the model's values to an allocation -----------------------------------------------
def allocation(model: RulesModel, x: npt.NDArray[np.float64] | list[float]
               ) -> tuple[dict[int, Choice], list[int]]:
    """The allocation of the column values ``x`` and the slot-exact workstations whose
    students could not all be packed (their groups cannot start together; empty when the
    allocation is the model's): there the most that fit are placed, the others not."""
    agg = model.agg
    enc = agg.enc
    station = seated(agg, x)
    fixed = grouped(agg, x, station)

    def key_of(i: int) -> tuple[StartKey, GroupKey]:
        return (fixed[i], group_of(enc, i)) if i in fixed else default_key(enc, station, i)

    sup_left: dict[tuple[GroupKey, int], int] = (
        {key: value(x, t) for key, t in agg.h.items()} if model.supervisors
        else defaultdict(lambda: 1 << 30))
    other = {i: w for i, w in station.items() if w not in model.exact}
    chosen = assign(enc, other, key_of, [], {key: value(x, t) for key, t in agg.z.items()},
                    {key: value(x, t) for key, t in agg.g.items()}, sup_left)
    by_ws: dict[int, list[int]] = defaultdict(list)
    for i, w in sorted(station.items()):
        if w in model.exact:
            by_ws[w].append(i)
    failed = []
    for w, students in sorted(by_ws.items()):
        got = pack(enc, w, students)
        if got is None:
            # (the most that fit, the others left out: a start for a repair, see solve_levels)
            failed.append(w)
            got = _pack_exactly(enc, w, students, most=True) or {}
        for i, (k, m) in got.items():
            chosen[i] = (w, m, -1, k)
    if model.supervisors:
        for i, (w, m, s, k) in sorted(chosen.items()):
            if s < 0:
                grp = group_of(enc, i)
                s = grp[1] if grp[0] == "given" else next(
                    s for s in enc.supervisors_for(i) if sup_left[grp, s] > 0)
                if grp[0] != "given":
                    sup_left[grp, s] -= 1
                chosen[i] = (w, m, s, k)
    else:
        sups = supervisors(enc, {i: (w, m, k) for i, (w, m, _s, k) in chosen.items()})
        chosen = {i: (w, m, sups[i], k) for i, (w, m, _s, k) in chosen.items() if i in sups}
    return chosen, failed


def columns_of(model: RulesModel, chosen: dict[int, Choice]) -> npt.NDArray[np.float64]:
    """Every column's value for a per-student allocation that keeps every rule (a warm
    start; where it breaks a row of the model, e.g. a split practice at a slot-exact
    workstation, HiGHS simply does not take it)."""
    agg = model.agg
    enc = agg.enc
    x = np.zeros(agg.lp.n_cols)
    class_of = {i: c for c, (_key, members) in enumerate(agg.classes) for i in members}
    for g, members in enumerate(enc.groups):
        if all(i in chosen for i in members):
            w = chosen[members[0]][0]
            plans = () if w in model.exact else tuple(chosen[i][3] for i in members)
            j = agg.gx.get((g, w, plans))
            if j is not None:
                x[j] = 1
    for w, j in agg.opened.items():
        x[j] = float(any(c[0] == w for c in chosen.values()))
    for j, _c in model.unplaced:
        x[j] = float(agg.lp.name[j][1] not in chosen)  # (u[i] is named ("u", i))
    for i, (w, m, s, k) in chosen.items():
        grp = group_of(enc, i)
        if enc.st_group[i] >= 0:
            a = fixed_key(enc, i, w, k, -1)
        else:
            a = default_key(enc, {i: w}, i)[0]
            if (i, w) in agg.y:
                x[agg.y[i, w]] += 1
            elif i in agg.ovf and (class_of[i], w) in agg.o:
                x[agg.ovf[i]] += 1
                x[agg.o[class_of[i], w]] += 1
        if w in model.exact:
            j = model.mentor_counts.get((w, enc.st_disc[i], enc.st_block[i], m))
            if j is not None:
                x[j] += 1
        else:
            if (a, k) in agg.z_col:
                x[agg.z_col[a, k]] += 1
            pool = (w, enc.st_disc[i], k, enc.st_block[i])
            if (pool, m) in agg.g_col:
                x[agg.g_col[pool, m]] += 1
        if (grp, s) in agg.h_col:
            x[agg.h_col[grp, s]] += 1
    return x


def decide(enc: Encoded) -> tuple[set[int], int, bool]:
    """What :func:`build` needs for ``enc``: the slot-exact workstations, ``T`` and whether
    supervisor counts are needed."""
    exact, terms = slot_exact(enc)
    return exact, terms, not supervisors_never_bind(enc)


# ---- solving, level by level ----------------------------------------------------------------
@dataclass
class Solved:
    """What one solve of the model gave: the allocation, its proven bounds, and whether it is
    the model's optimum (levels 1-2) with every slot-exact workstation packed."""

    chosen: dict[int, Choice]
    placed_ub: int | None
    rank_lb: int | None
    proven: bool
    failed: list[int]
    message: str
    low: int | None = None
    """The model's proven bound on ``rank cost + W unplaced`` (None when HiGHS gave none)."""
    students: int = 0
    """Students with a placement column (``unplaced`` counts from them)."""
    weight: int = 1
    """``W``."""

    def rank_lb_at(self, placed: int) -> int | None:
        """A proven lower bound on the rank cost of any allocation placing ``placed``."""
        if self.low is None:
            return None
        return max(0, self.low - self.weight * (self.students - placed))


def solve_levels(enc: Encoded, config: SolverConfig, deadline: float,
                 stop: Callable[[], bool] | None, stats: dict[str, Any],
                 start: dict[int, Choice] | None = None) -> Solved | None:
    """Solve the model by HiGHS's branch and cut (placed, rank cost, extra segments), again
    without the slot-exact workstations where a group could not start together (module
    docstring), until the allocation packs or the time is up; None when no allocation was
    found."""
    exact, terms, with_sups = decide(enc)
    stats["slot_exact_workstations"] = len(exact)
    best: Solved | None = None
    for attempt in range(1, MAX_ROUNDS + 1):
        model = build(enc, exact, terms, with_sups)
        lp = model.agg.lp
        stats.update(variables=lp.n_cols, constraints=lp.n_rows, rounds=attempt)
        weight = _weight(enc)
        levels: list[tuple[str, Expr]] = [("min", [(j, weight * c) for j, c in
                                                   model.unplaced] + model.agg.rank_cost)]
        if model.agg.extra_segments:
            levels.append(("min", model.agg.extra_segments))
        begin = best.chosen if best is not None else start
        hint = None if begin is None else columns_of(model, begin)
        # The extra segments (a second level, when any) need little time once levels 1-2 are
        # fixed: most of it goes to the first.
        # HiGHS's root cut rounds overrun its time limit by seconds on a loaded machine, and
        # a helper stopped then loses the level's bound: a tenth of the time is kept back.
        job = {"mode": "levels", "shares": [0.9] if len(levels) == 1 else [0.85, 1.0],
               "polish": POLISH_SHARE}
        # (a margin for the packing and the result after it: a helper that overruns is
        # stopped, and loses the level it was in)
        until = deadline - max(0.5, FINISH_SHARE * config.time_limit_s)
        stages, _out, err = run_levels(model.agg, config, until, job, hint, levels, stop,
                                       grace=max(ASSIST_GRACE_S, deadline - until))
        for n, st in enumerate(stages, start=1):
            stats[f"stage{n}_seconds"] = st.seconds
            stats[f"stage{n}_status"] = st.status
        got = _read(model, stages, err, stats)
        if got is None:
            return best
        if best is not None:  # (each model is a relaxation: the earlier bounds hold too)
            got.placed_ub = min(x for x in (got.placed_ub, best.placed_ub) if x is not None)
            if best.low is not None and (got.low is None or best.low > got.low):
                got.low = best.low
            got.rank_lb = got.rank_lb_at(len(got.chosen))
        best = got
        if not got.failed or clock.now() >= deadline:
            return got
        stats.setdefault("unpacked_workstations", []).extend(
            enc.workstation_ids[w] for w in got.failed)
        exact -= set(got.failed)
    return best


def _weight(enc: Encoded) -> int:
    """``W``: one more student placed outweighs any rank cost (``n (K + 1) < W``), so that
    ``min rank cost - W placed`` is levels 1 and 2 in one."""
    return enc.n_students * (enc.max_list + 1) + 1


def _read(model: RulesModel, stages: list[Stage], err: str, stats: dict[str, Any]
          ) -> Solved | None:
    """The allocation and bounds of the levels HiGHS finished."""
    agg = model.agg
    first = stages[0] if stages else None
    if first is None or first.x is None:
        return None
    weight = _weight(agg.enc)
    trivial = len(agg.placed_cols)
    placed = value(first.x, agg.placed)
    rank = value(first.x, agg.rank_cost)
    low = None if first.dual_bound is None else ceil_bound(first.dual_bound)
    # rank + W unplaced >= low for every allocation, and 0 <= rank < W.
    placed_ub = trivial if low is None else min(trivial, trivial - -(-(low - weight + 1)
                                                                    // weight))
    proven = low is not None and placed >= placed_ub and low - weight * (trivial - placed) >= rank
    best = first
    if agg.extra_segments:
        third = stages[1] if len(stages) >= 2 else None
        if third is not None and third.x is not None:
            best = third
            segs, lb3 = minimised(third)
            stats["extra_segments_lower_bound"] = lb3
            stats["extra_segments_proven"] = lb3 is not None and lb3 >= segs
        else:
            stats["extra_segments_proven"] = False
    else:
        stats["extra_segments_lower_bound"] = 0
        stats["extra_segments_proven"] = proven
    assert best.x is not None
    chosen, failed = allocation(model, best.x)
    # (the bound at the number the allocation places: fewer when a packing failed)
    rank_lb = None if low is None else max(0, min(agg.enc.rank_cost(chosen),
                                                  low - weight * (trivial - len(chosen))))
    message = "" if proven else (err or "time limit reached before levels 1 and 2 were "
                                 "proven optimal")
    return Solved(chosen, placed_ub, rank_lb, proven and not failed, failed, message, low,
                  trivial, weight)
