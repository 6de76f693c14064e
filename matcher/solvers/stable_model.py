r"""The model of ``cpsat --stable``: every hard rule and no blocking pair, as CP-SAT constraints.

The blocking pair is the checker's (:mod:`matcher.fairness`, definition ``feasible``), stated
here as constraints of its own (the two share no code; the tests hold them against a brute
force).

Notation: students ``i, j``, workstations ``w``, mentors ``m`` (``m`` belongs to ``w(m)``),
terms ``t``, starts or segment plans ``k``; ``cov(k)`` the terms of ``k``; ``cap[w,t]``,
``cap[m]`` (a term), ``cap[s]`` (in all) the limits; ``r_i(w)`` the rank of ``w`` on ``i``'s
list (tied choices share a rank).

The workstations' order
    ``tier_w(i)``: ``(-1, 0)`` for a locked student (never below anyone), ``(0, rank)`` for a
    student ranked in ``rankings.csv``, ``(1, position in the priority order)`` otherwise.
    ``j`` is *not below* ``i`` at ``w`` when ``tier_w(j) <= tier_w(i)`` (equal explicit ranks
    tie: neither can take the other's place).

Blocking pair (``matcher.fairness``, ``feasible``)
    ``(i, w)``, ``i`` neither locked nor in a group, ``w`` on ``i``'s list strictly above its
    placement (or ``i`` unplaced or off its list), ``i`` fits ``w`` (discipline, partnership,
    not vetoed), blocks when for some plan ``k`` of ``i``'s window with ``w`` open throughout
    and some mentor ``m`` of ``w`` taking ``i``'s discipline, in every ``t`` of ``cov(k)`` the
    workstation has a free place or a holder below ``i`` and so has ``m``; and ``i``'s
    supervisor can take ``i`` (always, when ``i`` is placed: its own place is freed; else the
    given one, or one of its university and discipline, has room). Since no limit is ever
    exceeded, ``w`` has *no* room for ``i`` in ``t`` exactly when it is *full of students not
    below* ``i``: ``#{j at w in t : tier_w(j) <= tier_w(i)} >= cap[w,t]``; the same for ``m``
    with ``cap[m]``.

Variables
    ``y[i,m,k]``   bool, one per allowed option of the student (:meth:`Encoded.options`) and
                   mentor of ``w`` taking the student's discipline (the locked one if any):
                   mentors are per student here, because "``m`` full of better students"
                   depends on who ``m`` mentors.
    ``up[i,r]``    bool: ``i`` is at a listed workstation of rank ``<= r``.
    ``P[w,t,c]``   int: how many of the first ``c`` possible holders of ``(w, t)`` in ``w``'s
                   order hold it (a running sum, cut only where some student asks);
                   ``Q[m,t,c]`` the same for the students of ``m``.
    ``fw[w,t,c]``  bool: ``fw => P[w,t,c] >= cap[w,t]`` (``w`` full in ``t`` of its first
                   ``c``); ``fm[m,t,c] => Q[m,t,c] >= cap[m]``. ``c_w(i,t)`` is the number of
                   possible holders not below ``i`` (``i`` among them if it may hold).
    ``busy[q]``    bool: every supervisor of group ``q`` (the given one, or those of a
                   university and discipline) is full, ``busy => load[s] >= cap[s]``;
                   ``excused[i] => busy[q(i)]`` and ``excused[i] => i unplaced``.

No blocking pair (one clause per student, listed fitting ``w``, open plan ``k`` and mentor
``m`` of ``w`` with room for the discipline)::

    up[i, r_i(w)]  OR  excused[i]  OR  OR_{t in cov(k)} ( fw[w,t,c_w(i,t)] OR fm[m,t,c_m(i,t)] )

``P`` (``Q``) may count ``i`` itself, but only when ``i`` is at ``w``, and then ``up`` holds: the
clause is exact. An indicator that cannot hold (fewer possible holders not below ``i``, ``i``
aside, than places) is left out, and so is ``excused`` when the supervisors can never fill.
An empty clause means no stable allocation exists.

The rest of the model
    Each ``y`` is its own start group ``(w, d, n, k, k, m)`` (:func:`aggregate.fixed_key` with
    the mentor fixed), so the aggregated model's families (:mod:`matcher.solvers.aggregate`)
    state the workstation, mentor and supervisor limits, locks and rewarded pairs unchanged,
    and :func:`aggregate.assign` turns a solution into placements.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from ..encoding import Encoded
from .aggregate import (
    GroupKey,
    PairKey,
    StartKey,
    add_mentor_limits,
    add_pair_counts,
    add_supervisor_limits,
    add_workstation_limits,
    assign,
    fixed_key,
    group_of,
)
from .base import Choice
from .cpsat_model import CpAggregated, add_at_most_one_per_student, add_locks, linear_sum
from .linear import value as terms_value

Tier = tuple[int, int]
"""How a workstation ranks a student; lower is better, equal explicit ranks tie."""
Cut = tuple[int, int, int]
"""``(w or m, t, c)``: the first ``c`` possible holders of a workstation's or mentor's term."""


Option = tuple[int, int, int]
"""``(w, m, k)``: a student's workstation, mentor and plan."""


@dataclass
class Holders:
    """The possible holders of a workstation's (or a mentor's) term, in the workstation's
    order (ties by index), with their tiers and how many of their options cover the term."""

    order: list[int] = field(default_factory=list)
    keys: list[Tier] = field(default_factory=list)
    refs: dict[int, int] = field(default_factory=dict)

    def cut(self, tier: Tier, i: int, cap: int) -> int | None:
        """``c``: how many possible holders are not below a student of ``tier`` (``i``);
        None when, ``i`` aside, they cannot fill ``cap`` places."""
        c = bisect_right(self.keys, tier)
        return c if c - (i in self.refs) >= cap else None

    def drop(self, j: int, tier: Tier) -> None:
        """One option of ``j`` covering the term is gone (``j`` leaves with its last)."""
        self.refs[j] -= 1
        if self.refs[j] == 0:
            del self.refs[j]
            at = bisect_left(self.keys, tier)
            at += self.order[at:].index(j)  # (equal tiers sort by index)
            del self.keys[at], self.order[at]


NOBODY = Holders()


def holders_of(enc: Encoded, tier: list[dict[int, Tier]], options: dict[int, list[Option]]
               ) -> tuple[dict[tuple[int, int], Holders], dict[tuple[int, int], Holders]]:
    """Who may hold a place at ``(w, t)`` and with ``(m, t)``, given each student's options."""
    at_w: dict[tuple[int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    at_m: dict[tuple[int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for i, opts in options.items():
        n = enc.st_block[i]
        for w, m, k in opts:
            for t in enc.covers(k, n):
                at_w[w, t][i] += 1
                at_m[m, t][i] += 1

    def ordered(w: int, refs: dict[int, int]) -> Holders:
        order = sorted(refs, key=lambda j: (tier[w][j], j))
        return Holders(order, [tier[w][j] for j in order], dict(refs))

    return ({(w, t): ordered(w, refs) for (w, t), refs in sorted(at_w.items())},
            {(m, t): ordered(enc.m_ws[m], refs) for (m, t), refs in sorted(at_m.items())})


@dataclass
class StableModel(CpAggregated):
    """The aggregated model's families on per-student options, plus the stability data.

    ``y[i,m,k]`` are columns of the neutral model (``agg``); the stability data are CP-SAT
    variables.
    """

    y: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (i, m, k) -> column
    tier: list[dict[int, Tier]] = field(default_factory=list)
    up: dict[tuple[int, int], Any] = field(default_factory=dict)  # (i, rank)
    bound: dict[int, int] = field(default_factory=dict)
    """Student -> the worst rank it may be placed at in any stable allocation
    (:func:`reduce_options`; else it is unplaced, its supervisors full)."""
    holders_w: dict[tuple[int, int], Holders] = field(default_factory=dict)  # (w, t)
    holders_m: dict[tuple[int, int], Holders] = field(default_factory=dict)  # (m, t)
    prefix_w: dict[Cut, Any] = field(default_factory=dict)
    prefix_m: dict[Cut, Any] = field(default_factory=dict)
    full_w: dict[Cut, Any] = field(default_factory=dict)
    full_m: dict[Cut, Any] = field(default_factory=dict)
    free: set[int] = field(default_factory=set)
    """The students who may be excused for being unplaced (:func:`excusable`)."""
    occ_w: dict[tuple[int, int, int], list[Any]] = field(default_factory=dict)
    """``(j, w, t)`` -> the variables of ``j``'s options at ``w`` covering ``t``."""
    occ_m: dict[tuple[int, int, int], list[Any]] = field(default_factory=dict)
    """``(j, m, t)`` -> the variables of ``j``'s options with mentor ``m`` covering ``t``."""
    load: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # s -> terms
    busy: dict[GroupKey, Any] = field(default_factory=dict)
    busy_sups: dict[GroupKey, list[int]] = field(default_factory=dict)
    excused: dict[int, Any] = field(default_factory=dict)
    clauses: list[tuple[int, int, tuple[Cut, ...], tuple[Cut, ...]]] = field(
        default_factory=list)  # (i, rank of w, fw cuts, fm cuts)


# ---- the workstations' order --------------------------------------------------------------
def tiers(enc: Encoded) -> list[dict[int, Tier]]:
    """``tiers(enc)[w][i]``: how ``w`` ranks ``i`` (locks, ``rankings.csv``, priority)."""
    own: dict[tuple[int, int], int] = {}
    wix = {w: k for k, w in enumerate(enc.workstation_ids)}
    iix = {s: k for k, s in enumerate(enc.student_ids)}
    for rk in enc.problem.rankings:
        own[wix[rk.workstation_id], iix[rk.student_id]] = rk.rank
    pos = enc.priority_position
    locked = {i for i, lk in enumerate(enc.st_lock) if lk is not None}
    return [{i: (-1, 0) if i in locked else (0, own[w, i]) if (w, i) in own else (1, pos[i])
             for i in range(enc.n_students)} for w in range(len(enc.workstation_ids))]


def envious(enc: Encoded) -> list[int]:
    """The students who may envy: neither locked nor in a group kept together."""
    return [i for i in range(enc.n_students)
            if enc.st_lock[i] is None and enc.st_group[i] < 0]


def envied(enc: Encoded, i: int) -> list[tuple[int, int]]:
    """``(w, rank)`` of the listed workstations student ``i`` fits (discipline, partnership,
    not vetoed): the ones it may envy."""
    out = []
    for w, r in zip(enc.st_prefs[i], enc.st_ranks[i], strict=True):
        partners = enc.ws_partners[w]
        if (enc.st_disc[i] in enc.ws_disc[w] and (partners is None or enc.st_univ[i] in partners)
                and not enc.vetoed(i, w)):
            out.append((w, r))
    return out


def plans(enc: Encoded, i: int, w: int) -> list[int]:
    """The plans of ``i``'s window (its true window, locks aside) with ``w`` open throughout."""
    return enc.starts(w, enc.st_block[i], enc.st_first[i], enc.st_last[i], enc.segments_of(i))


def mentor_options(enc: Encoded, i: int, w: int) -> list[int]:
    """The mentors student ``i`` may have at ``w`` (the locked one, if any)."""
    lock = enc.st_lock[i]
    mentors = enc.mentors_for(w, enc.st_disc[i])
    if lock is not None and lock[1] >= 0:
        return [m for m in mentors if m == lock[1]]
    return mentors


# ---- presolve: options no stable allocation uses ----------------------------------------------
def excusable(enc: Encoded, options: dict[int, list[Option]]) -> set[int]:
    """The envious students whose supervisors could all be full without them (only they can
    be excused for being unplaced)."""
    reach: dict[int, int] = defaultdict(int)
    for i, opts in options.items():
        if opts:
            for s in enc.supervisors_for(i):
                reach[s] += 1
    return {i for i in envious(enc)
            if (sups := enc.supervisors_for(i))
            and all(reach[s] - bool(options.get(i)) >= enc.s_cap[s] for s in sups)}


def _forced_rank(enc: Encoded, tier: list[dict[int, Tier]], hw: dict[tuple[int, int], Holders],
                 hm: dict[tuple[int, int], Holders], i: int, bound: int | None) -> int | None:
    """The best rank ``r`` of a listed workstation that can always take student ``i`` (some
    plan and mentor where, in every term, too few possible holders are not below ``i`` to fill
    the workstation or the mentor), so that ``i`` is at rank ``r`` or better in every stable
    allocation; None when there is none better than ``bound``."""
    n = enc.st_block[i]
    for w, r in envied(enc, i):
        if bound is not None and r >= bound:
            return None
        mine = tier[w][i]
        for k in plans(enc, i, w):
            terms = enc.covers(k, n)
            if any(hw.get((w, t), NOBODY).cut(mine, i, enc.ws_cap[w][t]) is not None
                   for t in terms):
                continue
            for m in enc.mentors_for(w, enc.st_disc[i]):
                if all(hm.get((m, t), NOBODY).cut(mine, i, enc.m_cap[m]) is None
                       for t in terms):
                    return r
    return None


def reduce_options(enc: Encoded, tier: list[dict[int, Tier]]
                   ) -> tuple[dict[int, list[Option]], dict[int, int]]:
    """Every student's options ``(w, m, k)`` that some stable allocation may use, and the worst
    rank each forced student may have.

    A student whose clause for ``(w, plan, mentor)`` has no "full" literal that can ever hold
    (:class:`Holders`) is at rank ``r(w)`` or better in every stable allocation, or unplaced
    with its supervisors full: its worse and off-list options go. Fewer options
    mean fewer possible holders, so this repeats until nothing changes. The clauses stay as
    they are, so the stable allocations are exactly those of the unreduced model.
    """
    options: dict[int, list[Option]] = {}
    for i in range(enc.n_students):
        opts = [(w, m, k) for w, k in enc.options(i) for m in mentor_options(enc, i, w)]
        if opts:
            options[i] = opts
    hw, hm = holders_of(enc, tier, options)
    bound: dict[int, int] = {}
    # In priority order, so that what a student is forced to frees those after it at once.
    order = sorted((i for i in envious(enc) if enc.supervisors_for(i)),
                   key=lambda i: enc.priority_position[i])
    changed = True
    while changed:
        changed = False
        for i in order:
            r = _forced_rank(enc, tier, hw, hm, i, bound.get(i))
            if r is None:
                continue
            keep = [o for o in options.get(i, []) if enc.rank_of[i].get(o[0], r + 1) <= r]
            if not keep:
                continue  # no stable allocation at all: the model says so
            bound[i] = r
            if len(keep) < len(options[i]):
                gone = set(options[i]) - set(keep)
                options[i] = keep
                changed = True
                for w, m, k in gone:
                    for t in enc.covers(k, enc.st_block[i]):
                        hw[w, t].drop(i, tier[w][i])
                        hm[m, t].drop(i, tier[w][i])
    return options, bound


# ---- model building: one function per constraint family ---------------------------------------
def _start_key(enc: Encoded, i: int, m: int, k: int) -> StartKey:
    """Student ``i``'s start group with mentor ``m`` at ``k``: one start, mentor fixed."""
    return fixed_key(enc, i, enc.m_ws[m], k, m)


def _add_options(mdl: StableModel, options: dict[int, list[Option]]) -> None:
    """One 0/1 column ``y[i,m,k]`` per option (:func:`reduce_options`) of each student; each
    start group (``w, d, n, k, m``) counts its members."""
    enc, agg = mdl.enc, mdl.agg
    members: dict[StartKey, list[tuple[int, GroupKey]]] = defaultdict(list)
    for i in sorted(options):
        for _w, m, k in options[i]:
            j = agg.lp.var(1, ("y", i, m, k), boolean=True)
            mdl.y[i, m, k] = j
            for t in enc.covers(k, enc.st_block[i]):
                mdl.occ_w.setdefault((i, enc.m_ws[m], t), []).append(mdl.var(j))
                mdl.occ_m.setdefault((i, m, t), []).append(mdl.var(j))
            agg.placed_cols.setdefault(i, []).append(j)
            members[_start_key(enc, i, m, k)].append((j, group_of(enc, i)))
    agg.members = dict(sorted(members.items()))
    for a, items in agg.members.items():
        agg.z[a, a[3]] = [(j, 1) for j, _ in items]


def _add_objectives(mdl: StableModel) -> None:
    """Level 1: students placed. Level 2: rank cost (rank on the list, else ``K + 1``)."""
    enc, agg = mdl.enc, mdl.agg
    agg.placed = [(j, 1) for j in mdl.y.values()]
    agg.rank_cost = [(j, enc.cost(i, enc.m_ws[m])) for (i, m, _k), j in sorted(mdl.y.items())]
    mdl.make_objectives()


def _add_rank_prefixes(mdl: StableModel) -> None:
    """``up[i,r]``: student ``i`` is at a listed workstation of rank ``r`` or better."""
    enc, cp = mdl.enc, mdl.model
    at: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for (i, m, _k), j in mdl.y.items():
        r = enc.rank_of[i].get(enc.m_ws[m])
        if r is not None:
            at[i, r].append(mdl.var(j))
    for i in envious(enc):
        prev: Any = None
        for r in sorted(set(enc.st_ranks[i])):
            here = at.get((i, r), [])
            if here:
                cur = cp.new_bool_var(f"up_{i}_{r}")
                cp.add(cur == linear_sum(([prev] if prev is not None else []) + here))
                prev = cur
            if prev is not None:
                mdl.up[i, r] = prev


def _possible_holders(mdl: StableModel) -> None:
    """Who may hold a place at ``(w, t)`` and with ``(m, t)``, in ``w``'s order."""
    opts: dict[int, list[Option]] = defaultdict(list)
    for i, m, k in mdl.y:
        opts[i].append((mdl.enc.m_ws[m], m, k))
    mdl.holders_w, mdl.holders_m = holders_of(mdl.enc, mdl.tier, opts)


def _add_running_sums(mdl: StableModel, holders: list[int], cuts: set[int],
                      occupancy: dict[tuple[int, int, int], list[Any]], at: int, t: int,
                      cap: int, name: str) -> dict[int, Any]:
    """Running sums of the holders' occupancy of ``(at, t)`` (``at`` a workstation or a
    mentor, ``occupancy[j, at, t]`` the columns of ``j`` there), at the cuts."""
    cp = mdl.model
    out: dict[int, Any] = {}
    prev_c, prev = 0, None
    for c in sorted(cuts):
        step = [v for j in holders[prev_c:c] for v in occupancy.get((j, at, t), [])]
        var = cp.new_int_var(0, min(c, cap), f"{name}_{c}")
        cp.add(var == linear_sum(([prev] if prev is not None else []) + step))
        out[c] = prev = var
        prev_c = c
    return out


def _add_full_indicators(mdl: StableModel) -> None:
    """``fw[w,t,c] => P[w,t,c] >= cap[w,t]`` and ``fm[m,t,c] => Q[m,t,c] >= cap[m]``, for the
    cuts some envious student asks about; a fuller prefix implies the longer one is full too."""
    enc = mdl.enc
    cuts_w: dict[tuple[int, int], set[int]] = defaultdict(set)
    cuts_m: dict[tuple[int, int], set[int]] = defaultdict(set)
    for i in envious(enc):
        if not enc.supervisors_for(i):
            continue  # never blocks (see _add_no_blocking_pairs)
        for w, _r in envied(enc, i):
            terms = {t for k in plans(enc, i, w) for t in enc.covers(k, enc.st_block[i])}
            mine = mdl.tier[w][i]
            for t in terms:
                c = mdl.holders_w.get((w, t), NOBODY).cut(mine, i, enc.ws_cap[w][t])
                if c is not None:
                    cuts_w[w, t].add(c)
                for m in enc.mentors_for(w, enc.st_disc[i]):
                    c = mdl.holders_m.get((m, t), NOBODY).cut(mine, i, enc.m_cap[m])
                    if c is not None:
                        cuts_m[m, t].add(c)
    for (w, t), cs in sorted(cuts_w.items()):
        sums = _add_running_sums(mdl, mdl.holders_w[w, t].order, cs, mdl.occ_w, w, t,
                                 enc.ws_cap[w][t], f"P_{w}_{t}")
        _indicators(mdl, sums, (w, t), enc.ws_cap[w][t], mdl.prefix_w, mdl.full_w, "fw")
    for (m, t), cs in sorted(cuts_m.items()):
        sums = _add_running_sums(mdl, mdl.holders_m[m, t].order, cs, mdl.occ_m, m, t,
                                 enc.m_cap[m], f"Q_{m}_{t}")
        _indicators(mdl, sums, (m, t), enc.m_cap[m], mdl.prefix_m, mdl.full_m, "fm")


def _indicators(mdl: StableModel, sums: dict[int, Any], at: tuple[int, int], cap: int,
                prefix: dict[Cut, Any], full: dict[Cut, Any], name: str) -> None:
    """One "full" literal per cut, ``lit => sum >= cap``; full at ``c`` implies full at every
    later cut (the sums only grow)."""
    cp = mdl.model
    prev = None
    for c in sorted(sums):
        lit = cp.new_bool_var(f"{name}_{at[0]}_{at[1]}_{c}")
        cp.add(sums[c] >= cap).only_enforce_if(lit)
        if prev is not None:
            cp.add_implication(prev, lit)
        prefix[at[0], at[1], c] = sums[c]
        full[at[0], at[1], c] = prev = lit


def _add_supervisor_excuses(mdl: StableModel) -> None:
    """``excused[i]``: ``i`` is unplaced and every supervisor it could have is full."""
    enc, agg, cp = mdl.enc, mdl.agg, mdl.model
    for (_grp, s), terms in agg.h.items():
        mdl.load.setdefault(s, []).extend(terms)
    for i in sorted(mdl.free):
        sups = enc.supervisors_for(i)
        if not envied(enc, i):
            continue
        grp = group_of(enc, i)
        if grp not in mdl.busy:
            lit = cp.new_bool_var(f"busy_{grp[0]}_{grp[1]}_{grp[2]}")
            for s in sups:
                load = mdl.load.get(s, [])
                cp.add(cp_model.LinearExpr.weighted_sum(
                    [mdl.var(j) for j, _ in load], [c for _, c in load]) >= enc.s_cap[s]
                ).only_enforce_if(lit)
            mdl.busy[grp] = lit
            mdl.busy_sups[grp] = sups
        lit = cp.new_bool_var(f"excused_{i}")
        cp.add_implication(lit, mdl.busy[grp])
        cols = agg.placed_cols.get(i, [])
        if cols:
            cp.add(linear_sum([mdl.var(j) for j in cols]) == 0).only_enforce_if(lit)
        mdl.excused[i] = lit


def _add_no_blocking_pairs(mdl: StableModel) -> None:
    """One clause per envious student, listed fitting ``w``, open plan and mentor with room:
    placed at least as well, or excused, or some term of the plan without room."""
    enc, cp = mdl.enc, mdl.model
    seen: set[tuple[int, int, tuple[Cut, ...], tuple[Cut, ...]]] = set()
    for i in envious(enc):
        if not enc.supervisors_for(i):
            continue  # no supervisor could ever take the student: it never blocks
        n = enc.st_block[i]
        for w, r in envied(enc, i):
            if r > mdl.bound.get(i, r):
                continue  # implied by the clause at the bound (placed there or better, or excused)
            mine = mdl.tier[w][i]
            for k in plans(enc, i, w):
                fw = tuple((w, t, c) for t in enc.covers(k, n)
                           if (c := mdl.holders_w.get((w, t), NOBODY).cut(
                               mine, i, enc.ws_cap[w][t])) is not None)
                for m in enc.mentors_for(w, enc.st_disc[i]):
                    fm = tuple((m, t, c) for t in enc.covers(k, n)
                               if (c := mdl.holders_m.get((m, t), NOBODY).cut(
                                   mine, i, enc.m_cap[m])) is not None)
                    clause = (i, r, fw, fm)
                    if clause in seen:
                        continue
                    seen.add(clause)
                    mdl.clauses.append(clause)
                    lits = [mdl.full_w[cut] for cut in fw] + [mdl.full_m[cut] for cut in fm]
                    if (i, r) in mdl.up:
                        lits.append(mdl.up[i, r])
                    if i in mdl.excused:
                        lits.append(mdl.excused[i])
                    cp.add_bool_or(lits)  # empty: no stable allocation exists


def build_stable_model(enc: Encoded) -> StableModel:
    """The full model (without objective): every hard rule and no blocking pair."""
    mdl = StableModel(enc)
    agg = mdl.agg
    mdl.tier = tiers(enc)
    options, mdl.bound = reduce_options(enc, mdl.tier)
    mdl.free = excusable(enc, options)
    _add_options(mdl, options)
    add_at_most_one_per_student(mdl)
    add_workstation_limits(agg)
    add_mentor_limits(agg)
    add_supervisor_limits(agg)
    add_locks(mdl)
    add_pair_counts(agg)
    _add_objectives(mdl)
    _add_rank_prefixes(mdl)
    _possible_holders(mdl)
    _add_full_indicators(mdl)
    _add_supervisor_excuses(mdl)
    _add_no_blocking_pairs(mdl)
    return mdl


# ---- from the model back to students, and from an allocation to a hint ---------------------
def allocation_of(mdl: StableModel, solver: cp_model.CpSolver) -> dict[int, Choice]:
    """One ``(w, mentor, supervisor, start)`` per placed student from the solution."""
    enc, agg = mdl.enc, mdl.agg
    x = mdl.solution(solver)
    at = {i: (m, k) for (i, m, k), j in mdl.y.items() if x[j] > 0.5}
    station = {i: enc.m_ws[m] for i, (m, _k) in at.items()}
    pair_counts: list[tuple[PairKey, int]] = [(key, round(x[j])) for key, j in agg.r.items()]
    return assign(enc, station, lambda i: (_start_key(enc, i, *at[i]), group_of(enc, i)),
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
    for (i, m, k), j in mdl.y.items():
        got = chosen.get(i)
        values[mdl.var(j).index] = int(got is not None and (got[1], got[3]) == (m, k))
    for (i, r), v in mdl.up.items():
        values[v.index] = int(i in chosen and enc.rank_of[i].get(chosen[i][0], r + 1) <= r)

    def held(j: int, w: int, t: int, m: int | None) -> int:
        got = chosen.get(j)
        return int(got is not None and got[0] == w and (m is None or got[1] == m)
                   and t in enc.covers(got[3], enc.st_block[j]))

    truth: dict[tuple[str, Cut], int] = {}
    for kind, holders, prefix, full in (("w", mdl.holders_w, mdl.prefix_w, mdl.full_w),
                                        ("m", mdl.holders_m, mdl.prefix_m, mdl.full_m)):
        running: dict[tuple[int, int], list[int]] = {}
        for (a, t, c), var in prefix.items():
            if (a, t) not in running:
                w = a if kind == "w" else enc.m_ws[a]
                mentor: int | None = None if kind == "w" else a
                counts = running[a, t] = [0]
                for j in holders[a, t].order:
                    counts.append(counts[-1] + held(j, w, t, mentor))
            cap = enc.ws_cap[a][t] if kind == "w" else enc.m_cap[a]
            total = values[var.index] = running[a, t][c]
            truth[kind, (a, t, c)] = values[full[a, t, c].index] = int(total >= cap)
    sup_count: dict[tuple[GroupKey, int], int] = defaultdict(int)
    s_load: dict[int, int] = defaultdict(int)
    for i, (_w, _m, s, _k) in chosen.items():
        sup_count[group_of(enc, i), s] += 1
        s_load[s] += 1
    for grp, lit in mdl.busy.items():
        values[lit.index] = int(all(s_load[s] >= enc.s_cap[s] for s in mdl.busy_sups[grp]))
    for i, lit in mdl.excused.items():
        values[lit.index] = int(i not in chosen and values[mdl.busy[group_of(enc, i)].index])
    violated = sum(
        1 for i, r, fw, fm in mdl.clauses
        if not (values.get(mdl.up[i, r].index, 0) if (i, r) in mdl.up else 0)
        and not (values[mdl.excused[i].index] if i in mdl.excused else 0)
        and not any(truth["w", cut] for cut in fw) and not any(truth["m", cut] for cut in fm))
    for (grp, s), j in agg.h_col.items():
        values[mdl.var(j).index] = sup_count.get((grp, s), 0)
    for j in agg.r.values():
        values[mdl.var(j).index] = 0
    for lit in mdl.lock_lits.values():
        values[lit.index] = 1
    cp.clear_hints()
    for idx, val in sorted(values.items()):
        cp.add_hint(cp.get_int_var_from_proto_index(idx), val)
    return violated
