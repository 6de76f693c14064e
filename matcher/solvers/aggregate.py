"""The aggregated model of the exact solvers, written once for every engine.

``cpsat`` (CP-SAT), ``stable`` (CP-SAT) and ``milp`` (HiGHS) solve the same model. It is exact
but *aggregated* wherever students are interchangeable, so that it stays small and free of
symmetry (performance-facts: CP-SAT earns its keep up to a few hundred thousand variables, and
symmetric per-student copies only slow its proof down). This module builds it as a
backend-neutral :class:`~matcher.solvers.linear.LinearModel` (one function per constraint
family below), maps an allocation into its columns (:func:`columns_of`, a warm start) and
gives the one way back from the counts to a placement per student (:func:`assign`). The
backends are :mod:`matcher.solvers.cpsat_model` and :mod:`matcher.solvers.milp_model`.

Notation: students ``i``, workstations ``w``, mentors ``m``, supervisors ``s``, terms ``t``,
start terms or segment plans ``k``, block length ``n``; ``cov(k, n)`` the terms of ``k``
(``{k, ..., k+n-1}`` for a start, the plan's terms for a segment plan, see
:mod:`matcher.encoding`); ``K`` the largest rank.

Keys
    *start group* ``a = (w, d, n, first, last, mlock, segs)``: students at ``w`` of discipline
    ``d`` with ``n`` terms inside ``[first, last]`` in at most ``segs`` blocks (a lock's start
    narrows the window to the block) and a locked mentor (or -1). Members of one start group
    are interchangeable for starts. ``segs = FIXED`` marks a group whose plan is fixed to
    ``k = first`` (a kept placement, a member of a group kept together). *Mentor pool*
    ``p = (w, d, k, n)``: interchangeable for mentors. *Supervisor group* ``q``:
    ``("free", u, d)``, or ``("given", s, -1)`` for a given supervisor.

Columns
    ``y[i,w]``       0/1: student ``i`` at listed choice ``w`` (cost: its rank).
    ``ovf[i]``       0/1: student ``i`` placed off its list (cost ``K+1``).
    ``o[c,w]``       off-list students of class ``c`` at ``w``; a class is the students
                     sharing a profile and given supervisor, so they share every off-list option.
    ``keep[i]``      0/1, re-solve only: student ``i`` keeps its earlier placement exactly.
    ``z[a,k]``       members of start group ``a`` starting at term ``k``.
    ``g[p,m]``       students of mentor pool ``p`` mentored by ``m``.
    ``h[q,s]``       placed students of supervisor group ``q`` supervised by ``s``.
    ``r[a,k,q,s,m]`` students of group ``q`` in ``(a, k)`` given the rewarded pair ``(s, m)``.
    ``x[G,w,c]``     0/1 (issue 28): the students of group ``G`` kept together, all at ``w``
                     with the plans ``c`` (one per member, one first term); members of a group
                     have no ``y``/``ovf`` columns of their own.
    ``open[w]``      0/1 (issue 28): workstation ``w`` with a minimum intake takes students.
    ``s[q,b]``       issue 29: the shortfall of bound ``b`` of soft quota ``q`` (its row's
                     units), :func:`add_quotas`.

    Where a split has a single term (one start, one mentor, one supervisor) no column is made:
    the sum itself stands for it (``z``, ``g`` and ``h`` hold expressions; ``z_col``, ``g_col``
    and ``h_col`` the columns made).

Why the aggregation is exact: each family of interchangeable students can be given starts,
mentors and supervisors one by one from any integer counts that keep the limits
(:func:`assign`), and every per-student allocation gives such counts. Mentor and supervisor
choices are independent but for the rewarded pairs, which are counted per ``(a, k, q)`` cell
within both the cell's and the mentor's and supervisor's counts. An off-list student sent to a
workstation that happens to be on its list is cheaper in reality than in the model, so bounds
stay valid, and at the optimum it never happens.

Objectives (the levels): ``placed = sum of every placement column`` (a group's ``x`` counts
its members); ``rank cost = sum rank(i, w) y[i,w] + (K+1) sum ovf[i] + sum rank(i, kept w)
keep[i] + sum_G sum_{i in G} cost(i, w) x[G,w,c]``; ``extra segments = sum (blocks(k) - 1)
z[a,k]``; ``pair weight = sum weight(s, m) r[...]``.

The rules of issue 28: a veto is no option at all (the encoding leaves it out); tied choices
cost their shared rank; a segment plan is one more ``k`` of a start group; a group kept
together is one column per common option (:func:`add_groups`); a minimum intake is
``min[w] open[w] <= load[w] <= M open[w]`` (:func:`add_min_intakes`).

Two rules for a count's upper bound (:attr:`Aggregated.exact_bounds`)
    A split column needs an upper bound, and a limit that its counts can never exceed is left
    out. HiGHS's model takes the sum of the columns' bounds and sizes a supervisor group by
    its students. CP-SAT's model, as it has always been built, knows the bound of a count that
    is a single column only (a sum of several is taken as unbounded, :data:`UNBOUNDED`) and
    sizes a supervisor group by its placement columns. Both are valid; each backend keeps its
    own so that its model stays exactly what it was (``tests/solvers/test_model_snapshot.py``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..encoding import Encoded
from .base import Choice
from .linear import LinearModel, Sink, Terms, value

StartKey = tuple[int, int, int, int, int, int, int]  # (w, d, n, first, last, mlock, segs)
PoolKey = tuple[int, int, int, int]  # (w, d, k, n)
GroupKey = tuple[str, int, int]  # ("free", u, d) or ("given", s, -1)
PairKey = tuple[StartKey, int, GroupKey, int, int]  # (a, start, group, supervisor, mentor)
LimitKey = tuple[str, int, int]  # ("w", w, t), ("m", m, t) or ("s", s, -1)

UNBOUNDED = 1 << 30
"""The bound CP-SAT's rule gives a count that is a sum of several columns (see the module
docstring)."""
OTHER = -2
"""Off-list class key for a given supervisor in no modelled rewarded pair: it does not change
which off-list places the students share."""
FIXED = -1
"""``segs`` of a start group whose plan is fixed to ``k = first`` (kept placements, groups)."""


def key_plans(enc: Encoded, a: StartKey) -> list[int]:
    """The starts and segment plans ``k`` a start group may take."""
    w, _d, n, first, last, _m, segs = a
    return [first] if segs == FIXED else enc.starts(w, n, first, last, segs)


def fixed_key(enc: Encoded, i: int, w: int, k: int, m: int) -> StartKey:
    """The start group of student ``i`` at ``w`` with its plan fixed to ``k``."""
    return (w, enc.st_disc[i], enc.st_block[i], k, k, m, FIXED)


def group_of(enc: Encoded, i: int) -> GroupKey:
    """The supervisor group of student ``i``: its given supervisor, or its university and
    discipline when the solver chooses."""
    s = enc.st_sup[i]
    return ("given", s, -1) if s >= 0 else ("free", enc.st_univ[i], enc.st_disc[i])


def span_of(enc: Encoded, i: int) -> tuple[int, int, int]:
    """``(first, last, mlock)``: where the block must lie (a locked start narrows it to the
    block) and the locked mentor (or -1)."""
    lock = enc.st_lock[i]
    if lock is not None and lock[2] >= 0:
        return lock[2], lock[2] + enc.st_block[i] - 1, lock[1]
    return enc.st_first[i], enc.st_last[i], -1 if lock is None else lock[1]


def default_key(enc: Encoded, station: Mapping[int, int], i: int) -> tuple[StartKey, GroupKey]:
    """Start group and supervisor group of student ``i`` placed at ``station[i]``."""
    return start_key(enc, i, station[i]), group_of(enc, i)


def start_key(enc: Encoded, i: int, w: int) -> StartKey:
    """The start group of student ``i`` at ``w`` (its plan free within its window)."""
    first, last, mlock = span_of(enc, i)
    lock = enc.st_lock[i]
    segs = 1 if lock is not None and lock[2] >= 0 else enc.segments_of(i)
    return (w, enc.st_disc[i], enc.st_block[i], first, last, mlock, segs)


# ---- the model ------------------------------------------------------------------------------
@dataclass
class Aggregated:
    """The aggregated model of one problem: its columns and rows, with handles by key.

    See the module docstring for the notation. ``z``, ``g`` and ``h`` hold expressions (a split
    column, or the sum standing for a single-term split); the other handles are columns.
    """

    enc: Encoded
    exact_bounds: bool
    """Which rule bounds a count (module docstring): True for HiGHS, False for CP-SAT."""
    every_limit: bool = False
    """A row for every limit, also where it cannot bind (so that each can be priced)."""
    sink: Sink | None = None
    lp: LinearModel = field(init=False)
    y: dict[tuple[int, int], int] = field(default_factory=dict)
    ovf: dict[int, int] = field(default_factory=dict)
    classes: list[tuple[tuple[int, ...], list[int]]] = field(default_factory=list)
    o: dict[tuple[int, int], int] = field(default_factory=dict)  # (class, w)
    keep: dict[int, int] = field(default_factory=dict)
    kept_choice: dict[int, Choice] = field(default_factory=dict)
    placed_cols: dict[int, list[int]] = field(default_factory=dict)
    """Student -> its placement columns (listed, off-list, kept), in the order they were made."""
    members: dict[StartKey, list[tuple[int, GroupKey]]] = field(default_factory=dict)
    z: dict[tuple[StartKey, int], Terms] = field(default_factory=dict)
    g: dict[tuple[PoolKey, int], Terms] = field(default_factory=dict)
    h: dict[tuple[GroupKey, int], Terms] = field(default_factory=dict)
    z_col: dict[tuple[StartKey, int], int] = field(default_factory=dict)
    g_col: dict[tuple[PoolKey, int], int] = field(default_factory=dict)
    h_col: dict[tuple[GroupKey, int], int] = field(default_factory=dict)
    r: dict[PairKey, int] = field(default_factory=dict)
    gx: dict[tuple[int, int, tuple[int, ...]], int] = field(default_factory=dict)
    """Group columns ``x[G,w,c]`` by ``(G, w, plans of the members)``."""
    opened: dict[int, int] = field(default_factory=dict)
    """``open[w]`` columns of the workstations with a minimum intake."""
    lock_rows: dict[int, int] = field(default_factory=dict)
    cap_rows: dict[LimitKey, int] = field(default_factory=dict)
    """The limit rows by what they limit: ``("w", w, t)``, ``("m", m, t)``, ``("s", s, -1)``."""
    placed: Terms = field(default_factory=list)
    rank_cost: Terms = field(default_factory=list)
    kept: Terms = field(default_factory=list)
    extra_segments: Terms = field(default_factory=list)
    pair_weight: Terms = field(default_factory=list)
    quota_shortfall: Terms = field(default_factory=list)
    """Issue 29: the soft quotas' total shortfall, times :attr:`quota_scale` (an integer
    objective, the level after the rank cost)."""
    quota_scale: int = 1
    """``quota_shortfall`` / this is the shortfall in students."""
    quota_slacks: list[tuple[int, Terms, float]] = field(default_factory=list)
    """``(slack column, row terms, row's lower bound)`` of each soft quota bound."""

    def __post_init__(self) -> None:
        self.lp = LinearModel(self.sink)

    def count_bound(self, counts: Sequence[Terms]) -> float:
        """An upper bound on the sum of ``counts`` (each a sum of columns), by the model's rule:
        the columns' bounds; or (CP-SAT's rule) a single column's bound, else
        :data:`UNBOUNDED`."""
        if self.exact_bounds:
            return sum(self.lp.bound(terms) for terms in counts)
        return sum(self.lp.ub[terms[0][0]] if len(terms) == 1 else UNBOUNDED
                   for terms in counts)

    def keep_key(self, i: int) -> tuple[StartKey, GroupKey]:
        """The start group and supervisor group of a kept placement (its block, mentor and
        supervisor fixed)."""
        w, m, s, k = self.kept_choice[i]
        return fixed_key(self.enc, i, w, k, m), ("given", s, -1)


def keepable(enc: Encoded, i: int, choice: Choice) -> bool:
    """Whether student ``i`` may keep ``choice`` under the (changed) problem's rules alone.

    A locked student may keep a placement its lock allows. Capacities are the model's business.
    """
    w, m, s, k = choice
    lock = enc.st_lock[i]
    return ((w, k) in enc.options(i) and m in enc.mentors_for(w, enc.st_disc[i])
            and (lock is None or lock[1] < 0 or lock[1] == m) and s in enc.supervisors_for(i))


def choice_count(enc: Encoded, enough: int | None = None) -> int:
    """The number of choice columns (``y`` and ``ovf``) :func:`add_choices` makes, counted
    without building anything (per profile); with ``enough``, counting stops once that many
    are found (a size test needs no more: a province's full count took seconds)."""
    total = 0
    for i in range(enc.n_students):
        if enough is not None and total >= enough:
            break
        if enc.st_group[i] >= 0:
            total += len({w for w, _k in enc.options(i)})
            continue
        if enc.st_lock[i] is not None:
            total += len({w for w, _k in enc.options(i)})
            continue
        if not enc.supervisors_for(i):
            continue
        stations = enc.profile_starts(enc.profile(i))  # shared per profile
        listed = sum(1 for w in enc.st_prefs[i] if w in stations)
        total += listed + (not enc.preferences_only and len(stations) > listed)
    return total


# ---- the constraint families, one function each ---------------------------------------------
def add_choices(agg: Aggregated, pairs: bool) -> None:
    """The choice columns: ``y[i,w]`` for every listed (or locked) workstation some start of
    ``i`` fits, and for students with an off-list option ``ovf[i]`` and their class's
    ``o[c,w] in [0, |c|]``.

    A given supervisor splits a class only when rewarded pairs are modelled (``pairs``) and the
    supervisor is in one: otherwise it does not change which off-list places the students share.
    """
    enc, lp = agg.enc, agg.lp
    class_members: dict[tuple[int, ...], list[int]] = defaultdict(list)
    paired = {s for s, _m, _w in enc.pairs} if pairs and enc.use_pairs else set()
    for i in range(enc.n_students):
        if enc.st_group[i] >= 0:
            continue  # placed by its group's columns (add_groups)
        stations = sorted({w for w, _k in enc.options(i)})
        locked = enc.st_lock[i] is not None
        for w in stations:
            if locked or w in enc.rank_of[i]:
                agg.y[i, w] = lp.var(1, ("y", i, w), boolean=True)
        if not locked and not enc.preferences_only and any(
                w not in enc.rank_of[i] for w in stations):
            sup = enc.st_sup[i]
            class_members[(*enc.profile(i), sup if sup < 0 or sup in paired else OTHER)].append(i)
    for c, key in enumerate(sorted(class_members)):
        members = class_members[key]
        agg.classes.append((key, members))
        for i in members:
            agg.ovf[i] = lp.var(1, ("ovf", i), boolean=True)
        u, d, n, first, last, x = key[:6]
        for w in enc.profile_starts((u, d, n, first, last, x)):
            agg.o[c, w] = lp.var(len(members), ("o", c, w))
    cols: dict[int, list[int]] = defaultdict(list)
    for (i, _w), j in agg.y.items():
        cols[i].append(j)
    for i, j in agg.ovf.items():
        cols[i].append(j)
    agg.placed_cols = dict(cols)


def add_keep_options(agg: Aggregated, previous: Mapping[int, Choice]) -> None:
    """Re-solve: ``keep[i]``, one option per student to keep its earlier placement exactly
    (where the changed problem still allows it, :func:`keepable`)."""
    for i in sorted(previous):
        if agg.enc.st_group[i] < 0 and keepable(agg.enc, i, previous[i]):
            agg.keep[i] = agg.lp.var(1, ("keep", i), boolean=True)
            agg.kept_choice[i] = previous[i]
            agg.placed_cols.setdefault(i, []).append(agg.keep[i])


def group_options(enc: Encoded, g: int) -> list[tuple[int, tuple[int, ...]]]:
    """The common options of group ``g``: ``(w, plans)`` with one plan per member (in member
    order), all at ``w`` and with one first term; ``w``, then the plans, in order."""
    members = enc.groups[g]
    per: list[dict[int, dict[int, list[int]]]] = []  # member -> w -> first term -> plans
    for i in members:
        by_w: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for w, k in enc.options(i):
            by_w[w][enc.first_term(k)].append(k)
        per.append(by_w)
    out: list[tuple[int, tuple[int, ...]]] = []
    for w in sorted(set.intersection(*(set(by_w) for by_w in per))):
        for t in sorted(set.intersection(*(set(by_w[w]) for by_w in per))):
            combos: list[tuple[int, ...]] = [()]
            for by_w in per:
                combos = [(*c, k) for c in combos for k in by_w[w][t]]
            out += [(w, c) for c in combos]
    return out


def add_groups(agg: Aggregated, whole: Container[int] = ()) -> None:
    """Students kept together: ``x[G,w,c]`` for every common option of group ``G``
    (:func:`group_options`), placing all its members at once (each member's placement
    columns are its group's; so ``sum_c x[G,w,c] <= 1`` is each member's one placement).

    At a workstation of ``whole`` the group gets one column ``x[G,w]`` (plans ``()``) whatever
    its start: the model that asks for it (:mod:`matcher.solvers.rules_slots`) chooses starts
    and plans there afterwards."""
    enc, lp = agg.enc, agg.lp
    for g, members in enumerate(enc.groups):
        if any(not enc.supervisors_for(i) for i in members):
            continue
        for w, plans in group_options(enc, g):
            if w in whole:
                if (g, w, ()) in agg.gx:
                    continue
                plans = ()
            j = lp.var(1, ("x", g, w, *plans), boolean=True)
            agg.gx[g, w, plans] = j
            for i in members:
                agg.placed_cols.setdefault(i, []).append(j)


def add_min_intakes(agg: Aggregated) -> None:
    """A workstation with a minimum intake takes none or at least that many:
    ``min[w] open[w] <= load[w] <= M open[w]``, ``load[w]`` its placement columns (a group's
    ``x`` counting its members) and ``M`` the most ``load[w]`` can be: its columns' bounds, or
    its term-places over the allocation divided by the shortest practice there, whichever is
    less. Each column is also linked on its own, ``col <= ub(col) open[w]``: the same integer
    points, but a much tighter LP (the aggregated ``M`` row alone lets the LP open a
    workstation a little for each student)."""
    enc, lp = agg.enc, agg.lp
    load: dict[int, Terms] = defaultdict(list)
    for (_i, w), j in agg.y.items():
        load[w].append((j, 1))
    for (_c, w), j in agg.o.items():
        load[w].append((j, 1))
    for i, j in agg.keep.items():
        load[agg.kept_choice[i][0]].append((j, 1))
    for (g, w, _plans), j in agg.gx.items():
        load[w].append((j, len(enc.groups[g])))
    for w in sorted(load):
        least = enc.ws_min[w]
        if least <= 1:
            continue  # (a minimum of 1 holds whenever anyone is there)
        shortest = min(enc.st_block) if enc.st_block else 1
        most = min(round(lp.bound(load[w])), sum(enc.ws_cap[w]) // max(shortest, 1))
        opened = lp.var(1, ("open", w), boolean=True)
        agg.opened[w] = opened
        lp.row(load[w] + [(opened, -most)], -math.inf, 0, "opened")
        lp.row(load[w] + [(opened, -least)], 0, math.inf, "minimum intake")
        for j, c in load[w]:
            lp.row([(j, c), (opened, -round(c * lp.ub[j]))], -math.inf, 0, "opened column")


def quota_counts(agg: Aggregated) -> list[tuple[Terms, Terms]]:
    """For each quota of ``enc.quotas``: ``(group, total)``, the placement columns counting the
    group's students and every student where the quota looks (a group's ``x`` counting its
    members; an off-list class's ``o`` counted whole, its members sharing university and
    discipline)."""
    enc = agg.enc
    placed: list[tuple[int, int, list[tuple[int, int]]]] = []  # (column, w, [(u, d)] students)
    for (i, w), j in agg.y.items():
        placed.append((j, w, [(enc.st_univ[i], enc.st_disc[i])]))
    for (c, w), j in agg.o.items():
        u, d = agg.classes[c][0][:2]
        placed.append((j, w, [(u, d)]))
    for i, j in agg.keep.items():
        placed.append((j, agg.kept_choice[i][0], [(enc.st_univ[i], enc.st_disc[i])]))
    for (g, w, _plans), j in agg.gx.items():
        placed.append((j, w, [(enc.st_univ[i], enc.st_disc[i]) for i in enc.groups[g]]))
    at: dict[int, list[tuple[int, int, list[tuple[int, int]]]]] = defaultdict(list)
    for item in placed:  # a quota of one workstation looks at its columns only
        at[item[1]].append(item)
    out: list[tuple[Terms, Terms]] = []
    for q in enc.quotas:
        group: Terms = []
        total: Terms = []
        for j, w, who in (placed if q.w < 0 else at.get(q.w, [])):
            if q.counts_at(w):
                total.append((j, len(who)))
                hits = sum(q.matches(u, d) for u, d in who)
                if hits:
                    group.append((j, hits))
        out.append((group, total))
    return out


def add_quotas(agg: Aggregated) -> None:
    """Group quotas (issue 29), ``G`` the group's count and ``N`` everyone counted there:
    ``min_count <= G <= max_count``, ``den G - num N >= 0`` for ``min_share = num/den`` and
    ``num N - den G >= 0`` for ``max_share = num/den``. A soft quota's bound gets a slack
    column ``s >= 0`` added to its row (``G + s >= min_count``, ``den G - num N + s >= 0``,
    ...), and :attr:`Aggregated.quota_shortfall` sums the slacks in students times
    :attr:`Aggregated.quota_scale` (the least common multiple of the soft shares'
    denominators), so that the level is an integer objective."""
    enc, lp = agg.enc, agg.lp
    if not enc.quotas:
        return
    counts = quota_counts(agg)
    scale = 1
    for q in enc.quotas:
        if not q.hard:
            for share in (q.min_share, q.max_share):
                if share is not None:
                    scale = math.lcm(scale, share.denominator)
    agg.quota_scale = scale
    for q, (group, total) in zip(enc.quotas, counts, strict=True):
        most = round(lp.bound(total))
        bounds: list[tuple[Terms, float, int]] = []  # (terms, low, slack's weight per unit)
        if q.min_count is not None:
            bounds.append((group, q.min_count, scale))
        if q.max_count is not None:
            bounds.append((_neg(group), -q.max_count, scale))
        if q.min_share is not None:
            num, den = q.min_share.numerator, q.min_share.denominator
            bounds.append(([(j, c * den) for j, c in group] + [(j, -c * num) for j, c in total],
                           0, scale // den))
        if q.max_share is not None:
            num, den = q.max_share.numerator, q.max_share.denominator
            bounds.append(([(j, c * num) for j, c in total] + [(j, -c * den) for j, c in group],
                           0, scale // den))
        for terms, low, weight in bounds:
            if q.hard:
                lp.row(terms, low, math.inf, "quota")
                continue
            ub = max(1, round(max(abs(low), lp.bound(_neg(terms)) + abs(low), most)))
            slack = lp.var(ub, ("quota_slack", q.row, len(agg.quota_shortfall)))
            lp.row([*terms, (slack, 1)], low, math.inf, "soft quota")
            agg.quota_shortfall.append((slack, weight))
            agg.quota_slacks.append((slack, terms, low))


def add_one_placement(agg: Aggregated, everyone: bool = False) -> None:
    """``sum of i's placement columns <= 1``, ``= 1`` for a locked student (its lock row), and
    for every student when ``everyone`` is placed (a lone column then gets lower bound 1).

    HiGHS's form of the family; CP-SAT states it as at-most-one constraints and enforces each
    lock by an assumption literal (:mod:`matcher.solvers.cpsat_model`).
    """
    for i in sorted(agg.placed_cols):
        cols = agg.placed_cols[i]
        terms = [(j, 1) for j in cols]
        if agg.enc.st_lock[i] is not None:
            agg.lock_rows[i] = agg.lp.row(terms, 1, 1, "lock")
        elif len(cols) > 1:
            agg.lp.row(terms, 1 if everyone else -math.inf, 1, "one placement")
        elif everyone:
            agg.lp.lb[cols[0]] = 1.0


def add_class_links(agg: Aggregated) -> None:
    """A class's off-list students are exactly the off-list places it takes:
    ``sum_{i in c} ovf[i] = sum_w o[c,w]``."""
    by_class: dict[int, list[int]] = defaultdict(list)
    for (c, _w), j in agg.o.items():
        by_class[c].append(j)
    for c, (_key, members) in enumerate(agg.classes):
        agg.lp.row([(agg.ovf[i], 1) for i in members] + [(j, -1) for j in by_class[c]], 0, 0,
                   "class link")


def add_start_split(agg: Aggregated, skip: Container[int] = ()) -> None:
    """Each start group's members are split over the starts that fit its window:
    ``sum_k z[a,k] = sum of the members of a`` (``z[a,k]`` in ``[0, |a|]``). Workstations in
    ``skip`` get no start groups (a model that states their limits otherwise,
    :mod:`matcher.solvers.rules_slots`)."""
    enc, lp = agg.enc, agg.lp
    members: dict[StartKey, list[tuple[int, GroupKey]]] = defaultdict(list)
    for (i, w), j in agg.y.items():
        members[start_key(enc, i, w)].append((j, group_of(enc, i)))
    for i, j in agg.keep.items():
        a, kept_group = agg.keep_key(i)
        members[a].append((j, kept_group))
    for (c, w), j in agg.o.items():
        u, d, n, first, last, x, sup = agg.classes[c][0]
        grp: GroupKey = ("free", u, d) if sup == -1 else ("given", sup, -1)
        members[w, d, n, first, last, -1, enc.restrictions[x][1]].append((j, grp))
    for (g, w, plans), j in agg.gx.items():
        if w in skip:
            continue
        for i, k in zip(enc.groups[g], plans, strict=True):
            lock = enc.st_lock[i]
            members[fixed_key(enc, i, w, k, lock[1] if lock is not None else -1)].append(
                (j, group_of(enc, i)))
    agg.members = dict(sorted((a, items) for a, items in members.items() if a[0] not in skip))
    for a, items in agg.members.items():
        total: Terms = [(j, 1) for j, _ in items]
        starts = key_plans(enc, a)
        if len(starts) == 1:
            agg.z[a, starts[0]] = total
            continue
        ub = round(sum(lp.ub[j] for j, _ in items))
        split = {k: lp.var(ub, ("z", *a[:6], k)) for k in starts}
        lp.row([(j, 1) for j in split.values()] + [(j, -1) for j, _ in total], 0, 0,
               "start split")
        for k, j in split.items():
            agg.z[a, k] = [(j, 1)]
            agg.z_col[a, k] = j


def add_workstation_limits(agg: Aggregated) -> None:
    """In every term a workstation holds at most its (term) capacity:
    ``sum_{(a,k): a.w = w, t in cov(k, n)} z[a,k] <= cap[w,t]`` (written where it can bind)."""
    enc = agg.enc
    load: dict[tuple[int, int], list[Terms]] = defaultdict(list)
    for (a, k), count in agg.z.items():
        for t in enc.covers(k, a[2]):
            load[a[0], t].append(count)
    for (w, t), counts in sorted(load.items()):
        if agg.every_limit or agg.count_bound(counts) > enc.ws_cap[w][t]:
            agg.cap_rows["w", w, t] = agg.lp.row(_concat(counts), -math.inf, enc.ws_cap[w][t],
                                                 "workstation limit")


def add_mentor_limits(agg: Aggregated) -> None:
    """Each mentor pool is split among its mentors, ``sum_m g[p,m] = sum_{a in p} z[a,k]``
    (``g[p,m]`` at most ``cap[m]``); a mentor holds at most its capacity a term,
    ``sum_{p at t} g[p,m] + sum_{a locked to m, t in cov(k, n)} z[a,k] <= cap[m]``."""
    enc, lp = agg.enc, agg.lp
    load: dict[tuple[int, int], list[Terms]] = defaultdict(list)
    pools: dict[PoolKey, list[Terms]] = defaultdict(list)
    for (a, k), count in agg.z.items():
        w, d, n, _first, _last, mlock, _segs = a
        if mlock >= 0:
            for t in enc.covers(k, n):
                load[mlock, t].append(count)
        else:
            pools[w, d, k, n].append(count)
    for key in sorted(pools):
        w, d, k, n = key
        mentors = enc.mentors_for(w, d)
        if len(mentors) == 1:
            agg.g[key, mentors[0]] = _concat(pools[key])
        else:
            most = agg.count_bound(pools[key])
            split = {m: lp.var(round(min(most, enc.m_cap[m])), ("g", w, d, k, n, m))
                     for m in mentors}
            lp.row([(j, 1) for j in split.values()] + [(j, -c) for j, c in
                                                       _concat(pools[key])], 0, 0,
                   "mentor split")
            for m, j in split.items():
                agg.g[key, m] = [(j, 1)]
                agg.g_col[key, m] = j
        for m in mentors:
            for t in enc.covers(k, n):
                load[m, t].append(agg.g[key, m])
    for (m, t), counts in sorted(load.items()):
        if agg.every_limit or agg.count_bound(counts) > enc.m_cap[m]:
            agg.cap_rows["m", m, t] = lp.row(_concat(counts), -math.inf, enc.m_cap[m],
                                             "mentor limit")


def add_supervisor_limits(agg: Aggregated) -> None:
    """The placed students of a supervisor group are split among its supervisors,
    ``sum_s h[q,s] = placed(q)`` (``h[q,s]`` at most ``cap[s]``); each supervisor within
    capacity, ``sum_q h[q,s] <= cap[s]`` (written where it can bind).

    A group's size bounds its split columns and decides which limits can bind: its students
    (HiGHS's rule) or its placement columns (CP-SAT's), see the module docstring.
    """
    enc, lp = agg.enc, agg.lp
    groups: dict[GroupKey, list[int]] = defaultdict(list)
    students: dict[GroupKey, list[int]] = defaultdict(list)
    for i in sorted(agg.placed_cols):
        kept = agg.keep.get(i)
        for j in agg.placed_cols[i]:
            key = agg.keep_key(i)[1] if j == kept else group_of(enc, i)
            groups[key].append(j)
            if not students[key] or students[key][-1] != i:
                students[key].append(i)
    load: dict[int, list[tuple[Terms, int]]] = defaultdict(list)
    for key in sorted(groups):
        count: Terms = [(j, 1) for j in groups[key]]
        size = len(students[key]) if agg.exact_bounds else len(groups[key])
        sups = [key[1]] if key[0] == "given" else enc.supervisors_for(students[key][0])
        if len(sups) == 1:
            agg.h[key, sups[0]] = count
        else:
            split = {s: lp.var(min(size, enc.s_cap[s]), ("h", key[1], key[2], s))
                     for s in sups}
            lp.row([(j, 1) for j in split.values()] + [(j, -1) for j, _ in count], 0, 0,
                   "supervisor split")
            for s, j in split.items():
                agg.h[key, s] = [(j, 1)]
                agg.h_col[key, s] = j
        for s in sups:
            load[s].append((agg.h[key, s], size))
    for s, items in sorted(load.items()):
        most = (agg.count_bound([terms for terms, _ in items]) if agg.exact_bounds
                else sum(size for _, size in items))
        if agg.every_limit or most > enc.s_cap[s]:
            agg.cap_rows["s", s, -1] = lp.row(_concat([terms for terms, _ in items]),
                                              -math.inf, enc.s_cap[s], "supervisor limit")


def add_pair_counts(agg: Aggregated) -> None:
    """Rewarded pairs ``r[a,k,q,s,m]`` per (start group, start, supervisor group), within every
    count they use: ``sum r[a,k,...] <= z[a,k]``, ``sum r[a,.,q,...] <= members of a in q``,
    ``sum r[...,m] <= g[p,m]`` (pooled mentors), ``sum r[q,s,...] <= h[q,s]`` (free groups).
    Nothing when the scenario does not reward pairs."""
    enc, lp = agg.enc, agg.lp
    if not enc.use_pairs:
        return
    by_mentor: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for s, m, wgt in enc.pairs:
        by_mentor[m].append((s, wgt))
    per_cell: dict[tuple[StartKey, int], Terms] = defaultdict(list)
    per_group: dict[tuple[StartKey, GroupKey], Terms] = defaultdict(list)
    per_mentor: dict[tuple[PoolKey, int], Terms] = defaultdict(list)
    per_sup: dict[tuple[GroupKey, int], Terms] = defaultdict(list)
    for a, items in agg.members.items():
        w, d, n, _first, _last, mlock, _segs = a
        size: dict[GroupKey, int] = defaultdict(int)
        for j, grp in items:
            size[grp] += round(lp.ub[j])
        mentors = [mlock] if mlock >= 0 else enc.mentors_for(w, d)
        for k in key_plans(enc, a):
            for grp in sorted(size):
                for m in mentors:
                    for s, wgt in by_mentor.get(m, []):
                        if grp[0] == "given" and grp[1] != s:
                            continue
                        if grp[0] == "free" and (enc.s_univ[s] != grp[1] or d not in
                                                 enc.s_disc[s] or enc.s_cap[s] <= 0):
                            continue
                        j = lp.var(min(size[grp], enc.m_cap[m], enc.s_cap[s]), ("r", len(agg.r)))
                        agg.r[a, k, grp, s, m] = j
                        agg.pair_weight.append((j, wgt))
                        per_cell[a, k].append((j, 1))
                        per_group[a, grp].append((j, 1))
                        if mlock < 0:
                            per_mentor[(w, d, k, n), m].append((j, 1))
                        if grp[0] == "free":
                            per_sup[grp, s].append((j, 1))
    for (a, k), terms in per_cell.items():
        lp.row(terms + _neg(agg.z[a, k]), -math.inf, 0, "pairs in a cell")
    for (a, grp), terms in per_group.items():
        lp.row(terms + [(j, -1) for j, g in agg.members[a] if g == grp], -math.inf, 0,
               "pairs in a group")
    for (pool, m), terms in per_mentor.items():
        lp.row(terms + _neg(agg.g[pool, m]), -math.inf, 0, "pairs of a mentor")
    for (grp, s), terms in per_sup.items():
        lp.row(terms + _neg(agg.h[grp, s]), -math.inf, 0, "pairs of a supervisor")


def add_objectives(agg: Aggregated) -> None:
    """The levels' expressions: ``placed`` (every placement column), ``rank cost`` (``y`` at
    its rank, ``ovf`` at ``K + 1``, ``keep`` at the kept workstation's rank) and ``kept``."""
    enc = agg.enc
    agg.placed = [(j, 1) for i in sorted(agg.placed_cols) for j in agg.placed_cols[i]]
    agg.rank_cost = [(j, enc.cost(i, w)) for (i, w), j in agg.y.items()]
    agg.rank_cost += [(j, enc.max_list + 1) for j in agg.ovf.values()]
    agg.rank_cost += [(j, enc.cost(i, agg.kept_choice[i][0])) for i, j in agg.keep.items()]
    agg.rank_cost += [(j, sum(enc.cost(i, w) for i in enc.groups[g]))
                      for (g, w, _plans), j in agg.gx.items()]
    agg.kept = [(j, 1) for j in agg.keep.values()]
    agg.extra_segments = [(j, c * enc.extra_segments(k)) for (_a, k), terms in agg.z.items()
                          if enc.extra_segments(k) for j, c in terms]


def _concat(counts: Iterable[Terms]) -> Terms:
    return [term for terms in counts for term in terms]


def _neg(terms: Terms) -> Terms:
    return [(j, -c) for j, c in terms]


# ---- an allocation in the model, and back ---------------------------------------------------
def columns_of(agg: Aggregated, chosen: Mapping[int, Choice], *, pairs: bool) -> list[int]:
    """Every column's value for a per-student allocation (e.g. a warm start).

    ``pairs``: a rewarded pair is counted where the model can count it (``r``); otherwise the
    ``r`` columns stay 0.
    """
    enc = agg.enc
    x = [0] * agg.lp.n_cols
    class_of = {i: c for c, (_key, members) in enumerate(agg.classes) for i in members}
    rewarded = {(s, m) for s, m, _w in enc.pairs} if pairs and agg.r else set()
    for g, members in enumerate(enc.groups):
        if all(i in chosen for i in members):
            key = (g, chosen[members[0]][0], tuple(chosen[i][3] for i in members))
            if key in agg.gx:
                x[agg.gx[key]] = 1
    opened = {w for w, _m, _s, _k in chosen.values()}
    for w, j in agg.opened.items():
        x[j] = int(w in opened)
    for i, (w, m, s, k) in chosen.items():
        if i in agg.keep and chosen[i] == agg.kept_choice[i]:
            a, grp = agg.keep_key(i)
            x[agg.keep[i]] += 1
        elif enc.st_group[i] >= 0:
            lock = enc.st_lock[i]
            a, grp = fixed_key(enc, i, w, k, lock[1] if lock is not None else -1), group_of(enc, i)
            pool = (w, enc.st_disc[i], k, enc.st_block[i])
            if a[5] < 0 and (pool, m) in agg.g_col:
                x[agg.g_col[pool, m]] += 1
        else:
            a, grp = start_key(enc, i, w), group_of(enc, i)
            mlock = a[5]
            if (i, w) in agg.y:
                x[agg.y[i, w]] += 1
            else:
                x[agg.ovf[i]] += 1
                x[agg.o[class_of[i], w]] += 1
            pool = (w, enc.st_disc[i], k, enc.st_block[i])
            if mlock < 0 and (pool, m) in agg.g_col:
                x[agg.g_col[pool, m]] += 1
        if (a, k) in agg.z_col:
            x[agg.z_col[a, k]] += 1
        if (grp, s) in agg.h_col:
            x[agg.h_col[grp, s]] += 1
        if (s, m) in rewarded and (a, k, grp, s, m) in agg.r:
            x[agg.r[a, k, grp, s, m]] += 1
    for slack, terms, low in agg.quota_slacks:  # a soft quota's shortfall at this allocation
        x[slack] = max(0, math.ceil(low - sum(c * x[j] for j, c in terms)))
    return x


def seated(agg: Aggregated, x: Sequence[float] | npt.NDArray[np.float64]) -> dict[int, int]:
    """Student -> workstation for the students the column values ``x`` place one by one
    (their own columns) or as seats of their class (interchangeable students, in id order)."""
    station = {i: w for (i, w), j in agg.y.items() if x[j] > 0.5}
    seats: dict[int, list[int]] = defaultdict(list)
    for (c, w), j in sorted(agg.o.items()):
        seats[c].extend([w] * round(x[j]))
    for c, (_key, members) in enumerate(agg.classes):
        off = [i for i in members if x[agg.ovf[i]] > 0.5]
        for i, w in zip(off, seats[c], strict=True):
            station[i] = w
    return station


def grouped(agg: Aggregated, x: Sequence[float] | npt.NDArray[np.float64],
            station: dict[int, int]) -> dict[int, StartKey]:
    """Seat in ``station`` every member of a group ``x`` places; returns the start group of
    each member whose plan the group's column fixes (not those of a whole-group column, whose
    start the packing chooses)."""
    enc = agg.enc
    fixed: dict[int, StartKey] = {}
    for (g, w, plans), j in agg.gx.items():
        if x[j] > 0.5:
            for n, i in enumerate(enc.groups[g]):
                station[i] = w
                if plans:
                    lock = enc.st_lock[i]
                    fixed[i] = fixed_key(enc, i, w, plans[n], lock[1] if lock is not None else -1)
    return fixed


def allocation(agg: Aggregated, x: Sequence[float] | npt.NDArray[np.float64]
               ) -> dict[int, Choice]:
    """One ``(workstation, mentor, supervisor, start)`` per placed student from the model's
    (integer) column values ``x``."""
    enc = agg.enc
    station = seated(agg, x)
    kept = {i for i, j in agg.keep.items() if x[j] > 0.5}
    for i in kept:
        station[i] = agg.kept_choice[i][0]
    fixed = grouped(agg, x, station)

    def key_of(i: int) -> tuple[StartKey, GroupKey]:
        if i in fixed:
            return fixed[i], group_of(enc, i)
        return agg.keep_key(i) if i in kept else default_key(enc, station, i)

    return assign(enc, station, key_of, [(key, round(x[j])) for key, j in agg.r.items()],
                  {key: value(x, t) for key, t in agg.z.items()},
                  {key: value(x, t) for key, t in agg.g.items()},
                  {key: value(x, t) for key, t in agg.h.items()})


def assign(enc: Encoded, station: Mapping[int, int],
           key_of: Callable[[int], tuple[StartKey, GroupKey]],
           pair_counts: Iterable[tuple[PairKey, int]],
           start_left: dict[tuple[StartKey, int], int],
           mentor_left: dict[tuple[PoolKey, int], int],
           sup_left: dict[tuple[GroupKey, int], int]) -> dict[int, Choice]:
    """Give each placed student a start, mentor and supervisor from the aggregated counts.

    Parameters
    ----------
    enc
        The encoded problem.
    station
        Student -> workstation, for every placed student.
    key_of
        Student -> (start group, supervisor group).
    pair_counts
        Rewarded-pair cells and how many students they hold; these fix a start, mentor and
        supervisor together, so they are served first.
    start_left, mentor_left, sup_left
        The counts ``z[a, k]``, ``g[pool, m]`` and ``h[group, s]``; used up here.

    Returns
    -------
    dict
        Student -> ``(workstation, mentor, supervisor, start)``. Any counts that keep the limits
        give a valid allocation this way (members of a family are interchangeable).
    """
    keys = {i: key_of(i) for i in sorted(station)}
    by_a: dict[StartKey, dict[GroupKey, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, (a, grp) in keys.items():
        by_a[a][grp].append(i)
    start: dict[int, int] = {}
    mentor: dict[int, int] = {}
    sup: dict[int, int] = {}
    for (a, k, grp, s, m), count in sorted(pair_counts):
        for _ in range(count):
            i = next(j for j in by_a[a][grp] if j not in start)
            start[i], mentor[i], sup[i] = k, m, s
            start_left[a, k] -= 1
            if a[5] < 0:
                mentor_left[(a[0], a[1], k, a[2]), m] -= 1  # (w, d, k, n)
            if grp[0] == "free":
                sup_left[grp, s] -= 1
    for a in sorted(by_a):
        w, d, n, _first, _last, mlock, _segs = a
        starts = key_plans(enc, a)
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
    for i, (_a, grp) in keys.items():
        if i in sup:
            continue
        if grp[0] == "given":
            sup[i] = grp[1]
            continue
        s = next(s for s in enc.supervisors_for(i) if sup_left[grp, s] > 0)
        sup[i] = s
        sup_left[grp, s] -= 1
    return {i: (w, mentor[i], sup[i], start[i]) for i, w in station.items()}
