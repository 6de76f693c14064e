"""Level 2 in the form the scenario chose (``objective.rank``): values, comparison and sub-levels.

After the most placed (level 1), level 2 is one of (issue 29 item 4), over the ranks ``r`` of
the placed students (a tied choice its shared rank, a workstation off the list ``K + 1``):

``sum``
    minimise ``sum r`` (matcher's default, the rank cost).
``profile``
    rank-maximal: the most first choices, then the most second choices, and so on; that is,
    minimise lexicographically ``(#(r > 1), #(r > 2), ..., #(r > K))`` (with the number placed
    fixed, fewer above ``j`` is more at ``j`` or better).
``minimax``
    minimise the worst rank given, ``max r``, then ``sum r``.

The exact engines solve level 2 as *sub-levels*, each a minimisation fixed (one-sidedly) at
what it reached before the next, all with small integer coefficients, so that every engine
keeps its exact arithmetic:

* ``sum``: one sub-level, the rank cost.
* ``profile``: the thresholds ``j = 1..K`` in chunks; a chunk is one sub-level
  ``sum_j B^(last - j) #(r > j)`` with ``B`` = the students + 1 (each count is below ``B``, so the
  weighted sum orders exactly as the counts do, lexicographically) and ``B^len <=``
  :data:`MAX_WEIGHT`, so that HiGHS's doubles and CP-SAT's integers hold it exactly. A tiny
  scenario is one sub-level; tier S (2,000 students) takes two thresholds a sub-level.
* ``minimax``: the worst rank, by 0/1 columns ``u[t]`` ("someone placed has a rank above
  ``t``", ``t = 1..K``) with ``sum of the placement columns of rank > t <= N u[t]``; minimise
  ``sum u[t]`` (= worst rank - 1), then the rank cost.

:func:`key` orders allocations with the same number placed by the chosen form (smaller is
better); :func:`block` is the report of ``stats["rank_objective"]`` (the checker recomputes it
on its own, :mod:`matcher.check`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..encoding import Encoded
from ..model import Problem
from ..model.result import Result, Status
from .aggregate import Aggregated
from .base import Choice
from .linear import Terms

MAX_WEIGHT = 2**31
"""Largest value a profile sub-level's weighted count may reach (exact in doubles and int64,
and small enough for HiGHS's tolerances: an objective gap below 1 stays a proof)."""


def form(enc: Encoded) -> str:
    """The form of level 2 of ``enc``'s scenario: ``sum``, ``profile`` or ``minimax``."""
    return enc.problem.objective.rank


def ranks(enc: Encoded, chosen: Mapping[int, Choice]) -> list[int]:
    """The rank of each placed student's workstation (``K + 1`` off its list)."""
    return [enc.cost(i, c[0]) for i, c in chosen.items()]


def profile(enc: Encoded, chosen: Mapping[int, Choice]) -> list[int]:
    """How many placed students got their rank ``1, ..., K``, then how many were placed off
    their list (``K + 1`` entries)."""
    count = Counter(ranks(enc, chosen))
    return [count.get(r, 0) for r in range(1, enc.max_list + 2)]


def key(enc: Encoded, chosen: Mapping[int, Choice]) -> tuple[int, ...]:
    """Level 2's value of ``chosen`` in the scenario's form, as a tuple to minimise
    (lexicographically; compare only allocations placing the same number)."""
    rs = ranks(enc, chosen)
    kind = form(enc)
    if kind == "profile":
        above, out = len(rs), []
        for n in profile(enc, chosen)[:-1]:
            above -= n
            out.append(above)  # #(rank > r) for r = 1, 2, ...
        return tuple(out)
    if kind == "minimax":
        return (max(rs, default=0), sum(rs))
    return (sum(rs),)


def better(enc: Encoded, a: Mapping[int, Choice] | None, b: Mapping[int, Choice] | None) -> bool:
    """``a`` is strictly better than ``b`` by levels 1-2 (more placed, then level 2's form)."""
    if a is None:
        return False
    if b is None:
        return True
    return (-len(a), key(enc, a)) < (-len(b), key(enc, b))


def chunks(enc: Encoded) -> list[list[int]]:
    """The profile's thresholds ``1..K`` grouped into sub-levels (see the module docstring)."""
    base = enc.n_students + 1
    out: list[list[int]] = []
    for j in range(1, enc.max_list + 1):
        if out and base ** (len(out[-1]) + 1) <= MAX_WEIGHT:
            out[-1].append(j)
        else:
            out.append([j])
    return out


def chunk_weights(enc: Encoded, chunk: Sequence[int]) -> list[int]:
    """A profile sub-level's cost of each rank ``0..K+1``: ``sum over j in chunk, j < r, of
    B^(last - j)``."""
    base = enc.n_students + 1
    last = chunk[-1]
    return [sum(base ** (last - j) for j in chunk if r > j) for r in range(enc.max_list + 2)]


def weighted(agg: Aggregated, weight: Sequence[int]) -> Terms:
    """``sum weight[rank]`` over the placed students, in the aggregated model's columns (a
    group column counts each member at its own rank)."""
    enc = agg.enc
    off = weight[enc.max_list + 1]
    terms: Terms = [(j, weight[enc.cost(i, w)]) for (i, w), j in agg.y.items()]
    terms += [(j, off) for j in agg.ovf.values()]
    terms += [(j, weight[enc.cost(i, agg.kept_choice[i][0])]) for i, j in agg.keep.items()]
    terms += [(j, sum(weight[enc.cost(i, w)] for i in enc.groups[g]))
              for (g, w, _plans), j in agg.gx.items()]
    return [(j, c) for j, c in terms if c]


def add_worst_rank(agg: Aggregated) -> Terms:
    """The minimax sub-level's columns and rows: ``u[t]`` for ``t = 1..K`` with
    ``#(rank > t) <= N u[t]`` and ``u[t] >= u[t+1]``; returns ``sum u[t]`` (the worst rank
    given, less one, when anyone is placed)."""
    enc, lp = agg.enc, agg.lp
    size = max(1, enc.n_students)
    cols: list[int] = []
    for t in range(1, enc.max_list + 1):
        above = weighted(agg, [int(r > t) for r in range(enc.max_list + 2)])
        u = lp.var(1, ("u", t), boolean=True)
        if above:
            lp.row([*above, (u, -size)], -float("inf"), 0, "worst rank")
        if cols:
            lp.row([(cols[-1], 1), (u, -1)], 0, float("inf"), "worst rank order")
        cols.append(u)
    return [(u, 1) for u in cols]


def sublevels(agg: Aggregated) -> list[Terms]:
    """Level 2's sub-levels for the aggregated model, each to minimise in turn (``minimax``
    adds its columns and rows to the model)."""
    kind = form(agg.enc)
    if kind == "profile":
        return [weighted(agg, chunk_weights(agg.enc, c)) for c in chunks(agg.enc)]
    if kind == "minimax":
        return [add_worst_rank(agg), list(agg.rank_cost)]
    return [list(agg.rank_cost)]


def block(enc: Encoded, chosen: Mapping[int, Choice], *, proven: bool,
          first_choices_ub: int | None = None, worst_rank_lb: int | None = None,
          ) -> dict[str, Any]:
    """The report of level 2 in its form (``stats["rank_objective"]``) for ``chosen``
    (:func:`block_of`)."""
    return block_of(form(enc), enc.max_list, ranks(enc, chosen), proven=proven,
                    first_choices_ub=first_choices_ub, worst_rank_lb=worst_rank_lb)


def block_of(kind: str, longest: int, rs: Sequence[int], *, proven: bool,
             first_choices_ub: int | None = None, worst_rank_lb: int | None = None,
             ) -> dict[str, Any]:
    """The report of level 2 in the form ``kind`` for placed students of ranks ``rs`` (``K``
    is ``longest``): the profile, the worst rank and the rank sum, what is proven, and a gap.

    ``first_choices_ub`` (profile) bounds the first choices of any allocation placing as many;
    ``worst_rank_lb`` (minimax) bounds their worst rank from below. The gap is the profile's
    first component's (``(ub - first) / ub``) or the worst rank's (``(worst - lb) / worst``);
    0 when proven.
    """
    count = Counter(rs)
    prof = [count.get(r, 0) for r in range(1, longest + 2)]
    worst = max(rs, default=0)
    out: dict[str, Any] = {"form": kind, "profile": prof, "worst_rank": worst,
                           "rank_sum": sum(rs), "proven": proven}
    if kind == "profile":
        ub = prof[0] if proven else first_choices_ub
        out["first_choices_upper_bound"] = ub
        out["gap"] = 0.0 if proven else (None if ub is None else round(
            max(0, ub - prof[0]) / max(1, ub), 6))
    elif kind == "minimax":
        lb = worst if proven else worst_rank_lb
        out["worst_rank_lower_bound"] = lb
        out["gap"] = 0.0 if proven else (None if lb is None else round(
            max(0, worst - lb) / max(1, worst), 6))
    return out


def honest(problem: Problem, result: Result) -> Result:
    """A result of a solver that keeps its own rule (a heuristic, ``plain``, ``--stable``)
    under a scenario whose level 2 is not the sum: its level 2 reported in the chosen form,
    not proven, and OPTIMAL (proven for the rank sum) turned into FEASIBLE with a message."""
    kind = problem.objective.rank
    if kind == "sum" or "rank_objective" in result.stats:
        return result
    longest = problem.max_rank
    rs = [p.preference_rank if p.preference_rank is not None else longest + 1
          for p in result.placements]
    stats = {**result.stats, "rank_objective": block_of(kind, longest, rs, proven=False)}
    if result.status != Status.OPTIMAL:
        return replace(result, stats=stats)
    return replace(result, status=Status.FEASIBLE, stats=stats, message=(
        f"{result.solver} minimises the rank sum at level 2, not objective.rank {kind}: "
        "level 2 is not proven in that form"))


def hint_worst(enc: Encoded, x: list[int], worst_terms: Terms,
               chosen: Mapping[int, Choice]) -> list[int]:
    """``x`` (an allocation's columns) with the minimax columns ``u[t]`` set for ``chosen``."""
    worst = max(ranks(enc, chosen), default=0)
    for t, (u, _c) in enumerate(worst_terms, start=1):
        x[u] = int(worst > t)
    return x


def first_bounds(enc: Encoded, placed: int, lower: int | None) -> dict[str, int | None]:
    """What a proven lower bound ``lower`` on the first sub-level says of level 2, among
    allocations placing ``placed``: ``first_choices_ub`` (profile: the first sub-level is
    ``B^e #(r > 1) + rest`` with ``rest < B^e``, so ``#(r > 1) >= floor(lower / B^e)``) or
    ``worst_rank_lb`` (minimax: ``1 + lower`` when anyone is placed)."""
    if lower is None:
        return {}
    if form(enc) == "profile":
        first = chunks(enc)[0] if enc.max_list else []
        scale = (enc.n_students + 1) ** (len(first) - 1)
        return {"first_choices_ub": max(0, placed - lower // scale)}
    if form(enc) == "minimax":
        return {"worst_rank_lb": 1 + lower if placed else 0}
    return {}
