"""The aggregated model's LP relaxation by HiGHS: a rank-cost bound and a guide for rounding.

``cpsat`` on problems too large for its CP-SAT model (:mod:`matcher.solvers.cpsat_province`)
solves the LP relaxation of levels 1-2 as one weighted objective (:func:`relax`) in the HiGHS
helper process while it computes quick allocations; the Lagrangian bound
(:mod:`matcher.solvers.lagrange`) prices some limits instead of keeping them
(:func:`priced_lp`). Both objectives reward a placed student with :func:`relax_weight`.
"""

from __future__ import annotations

import importlib.util
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from ..encoding import Encoded
from . import clock
from .aggregate import Aggregated
from .base import SolverConfig
from .milp_model import ASSIST_GRACE_S, build_model, ceil_bound, run_levels

_T = TypeVar("_T")

RELAX_WEIGHT = 1000
"""Reward per placed student in :func:`relax`'s objective (at least ``K + 2``). Any value gives
a valid bound; a large one makes simplex settle the placements first, which is much faster
(tier M: 14 s with 1000, 29 s with 100, 45 s with 12) and the bound is the same as long as the
allocation places as many as the relaxation."""


def relax_weight(enc: Encoded) -> int:
    """The reward per placed student of the relaxations: :data:`RELAX_WEIGHT`, at least
    ``K + 2`` (so placing one more always beats any rank cost a student can add)."""
    return max(RELAX_WEIGHT, enc.max_list + 2)


@dataclass
class Relaxation:
    """The LP relaxation of levels 1 and 2 as one weighted objective (:func:`relax`).

    Attributes
    ----------
    value
        ``min (rank cost - weight * placed)`` over the relaxation (None when it was not solved).
    weight
        The reward per placed student in that objective (:data:`RELAX_WEIGHT`).
    placed, rank
        Placed count and rank cost of the relaxation's optimum (fractional).
    station
        Student -> the workstation the relaxation sends it to (most of it, at least half).
    seconds
        Wall time (model building included).
    message
        Why there is no relaxation, if there is none.
    """

    value: float | None
    weight: int
    placed: float = 0.0
    rank: float = 0.0
    station: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    message: str = ""

    def rank_lb_at(self, placed: int) -> int | None:
        """Proven lower bound on the rank cost of any allocation placing exactly ``placed``.

        Every allocation placing ``P`` has ``rank - weight * P >= value`` (it is a point of
        the relaxation), so ``rank >= value + weight * P``: exact where ``P`` is the
        relaxation's own placed count (then it is the LP bound), ``weight`` less per student
        fewer (then the flow relaxation's bound is usually the stronger).
        """
        return None if self.value is None else max(0, ceil_bound(self.value + self.weight * placed))


def relax(enc: Encoded, config: SolverConfig, deadline: float,
          stop: Callable[[], bool] | None = None,
          meanwhile: Callable[[], _T] | None = None) -> tuple[Relaxation, _T | None]:
    """Solve the LP relaxation of the aggregated model (levels 1-2, no pairs) with HiGHS.

    One LP, ``min rank cost - RELAX_WEIGHT * placed``, by simplex in the helper process: a rank
    cost bound far stronger than the flow relaxation's (it keeps the per-term limits; tier M:
    74,536 against 50,413), and the workstation each student gets, to guide a rounding (see
    :func:`matcher.solvers.flow.repair` with ``exact``).

    Parameters
    ----------
    enc
        The encoded problem.
    config
        Seed and workers (HiGHS ``random_seed`` and ``threads``), logging.
    deadline
        ``clock.now()`` value by which HiGHS must stop (no relaxation then).
    stop
        Polled while HiGHS runs; true ends it early.
    meanwhile
        Work for this process while HiGHS solves (the helper has its own process, so they run
        side by side); its return value is returned with the relaxation.

    Returns
    -------
    relaxation, meanwhile's value
    """
    t0 = clock.now()
    weight = relax_weight(enc)
    if importlib.util.find_spec("highspy") is None:
        return (Relaxation(None, weight, message="highspy is not installed"),
                None if meanwhile is None else meanwhile())
    mdl = build_model(enc, pairs=False)
    objective = mdl.rank_cost + [(j, -float(weight)) for j, _c in mdl.placed]
    # A thread only starts and polls the helper process (it holds the GIL for moments) while
    # this one works.
    (_stages, out, errors), other = clock.parallel(
        lambda: run_levels(mdl, config, deadline, {"mode": "relax"}, None,
                           [("min", objective)], stop, ASSIST_GRACE_S),
        lambda: None if meanwhile is None else meanwhile())
    seconds = round(clock.now() - t0, 3)
    x = out.get("x")
    if not out.get("optimal") or x is None:
        why = errors or f"the LP relaxation was not solved in time ({out.get('status', '-')})"
        return Relaxation(None, weight, seconds=seconds, message=why), other
    return Relaxation(float(out["objective"]), weight, float(sum(x[j] for j, _ in mdl.placed)),
                      float(sum(c * x[j] for j, c in mdl.rank_cost)), stations_of(mdl, x),
                      seconds), other


def priced_lp(enc: Encoded, weight: int, off_list_cost: int,
              price: Callable[[tuple[str, int, int]], float | None], deadline: float,
              stop: Callable[[], bool] | None = None, seed: int = 0) -> float | None:
    """The LP relaxation's optimum with some limits priced instead of kept (one HiGHS thread).

    ``min sum (cost - weight) x + sum over priced limits of price * load`` over the
    aggregated model's LP with every other limit kept: ``price(key)`` (``key`` as in
    ``Aggregated.cap_rows``) gives a limit's price, or None to keep it as a row. A placement costs
    its rank, off the list ``off_list_cost`` (given, so that a part of a problem is costed as
    the whole is). Used by :func:`matcher.solvers.lagrange.upgrade_by_discipline`. None when
    HiGHS is missing or has not solved it by ``deadline``.
    """
    if importlib.util.find_spec("highspy") is None:
        return None
    mdl = build_model(enc, pairs=False, every_limit=True)
    lp = mdl.lp
    objective: list[tuple[int, float]] = [(j, float(enc.cost(i, w) - weight))
                                          for (i, w), j in mdl.y.items()]
    objective += [(j, float(off_list_cost - weight)) for j in mdl.ovf.values()]
    for key, r in mdl.cap_rows.items():
        p = price(key)
        if p is None:
            continue
        lp.row_lo[r], lp.row_hi[r] = -math.inf, math.inf  # free: the price stands for it
        if p:
            start, end = lp.row_start[r], lp.row_start[r + 1]
            objective += [(j, p * v) for j, v in zip(lp.row_idx[start:end], lp.row_val[start:end],
                                                     strict=True)]
    _stages, out, _errors = run_levels(mdl, SolverConfig(seed=seed, workers=1), deadline,
                                        {"mode": "relax"}, None, [("min", objective)], stop,
                                        ASSIST_GRACE_S)
    return float(out["objective"]) if out.get("optimal") else None


def stations_of(mdl: Aggregated, x: npt.NDArray[np.float64]) -> dict[int, int]:
    """Student -> workstation from a fractional solution: a listed workstation the student
    holds at least half of; off-list places of a class (rounded by largest remainders) to its
    members holding the most ``ovf``."""
    station: dict[int, int] = {}
    share: dict[int, float] = {}
    for (i, w), j in mdl.y.items():
        if x[j] >= 0.5 and x[j] > share.get(i, 0.0):
            station[i], share[i] = w, x[j]
    by_class: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (c, w), j in mdl.o.items():
        if x[j] > 1e-9:
            by_class[c].append((w, float(x[j])))
    for c, (_key, members) in enumerate(mdl.classes):
        off = sorted((i for i in members if i not in station and x[mdl.ovf[i]] >= 0.5),
                     key=lambda i: (-x[mdl.ovf[i]], i))
        places = by_class.get(c, [])
        slots = [w for w, v in places for _ in range(math.floor(v + 1e-9))]
        rest = sorted(places, key=lambda p: (-(p[1] - math.floor(p[1] + 1e-9)), p[0]))
        slots += [w for w, _v in rest][:max(0, len(off) - len(slots))]
        for i, w in zip(off, slots, strict=False):
            station[i] = w
    return station
