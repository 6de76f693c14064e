"""A Lagrangian bound for problems too large for the LP: the limits priced, students apart.

Dualising every shared limit — workstation places per term (prices ``lam[w, t]``), mentor places
per term (``mu[m, t]``) and supervisor places (``nu[s]``) — leaves each student on its own: it
takes its cheapest option ``(w, k, m, s)`` at cost ``rank(i, w) - W + sum over its block of
(lam[w, t] + mu[m, t]) + nu[s]``, or stays unplaced at cost 0 (a locked student must take one of
its lock's options). For any prices ``>= 0``

    ``L = sum_i min(0, best_i) - sum lam * cap_ws - sum mu * cap_m - sum nu * cap_s``

is at most ``rank - W * placed`` of every allocation, so ``rank >= L + W * P`` for any
allocation placing ``P`` (the same contract as :class:`matcher.solvers.relaxation.Relaxation`, which
this returns). The students' subproblems have integral optima, so the best prices give the LP
relaxation's bound; the subgradient method (Polyak steps towards an allocation's objective)
gets close to it in a few hundred cheap iterations, without building any model.

Everything runs on numpy arrays computed once per problem:

* *window groups* ``g = (d, n, first, last)``: students with the same discipline, block and
  window share, at each workstation, the allowed starts (``allowed[g]``, workstations ``x``
  starts) and the mentors (those of the workstation taking ``d``);
* *profiles* ``p = (u, g)``: add the university, which decides the partner workstations
  (``eligible[p]``); an off-list placement is the cheapest eligible workstation at ``K + 1``
  (a listed one at ``K + 1`` is never cheaper than at its rank, so no list need be excluded);
* each student's list as one padded row of workstations and ranks, for a row-wise minimum.

Per iteration: block sums of the prices, the cheapest mentor per workstation, discipline, block
and start, the cheapest start per group and workstation, the cheapest option per student, then
the loads of those choices for the subgradient. Measured: tier M (16 groups, 134 profiles)
0.3 s to set up and 9 ms per iteration (session 10); tier XL (100,000 students, 5,000
workstations; 16 groups, 268 profiles) 1.0 s and about 40 ms (session 11; 66 ms before).
"""

from __future__ import annotations

import math
import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from ..encoding import Encoded, encode
from . import clock
from .greedy import serial_dictatorship
from .relaxation import Relaxation, priced_lp, relax_weight

_T = TypeVar("_T")
_GRACE_S = 5.0  # how long past the deadline the helper may take to send its answer
_UPGRADE_MARGIN_S = 2.5  # the disciplines' LPs end this long before the later bound is due

INF = 1e18
ITERATION_SECONDS_PER_STUDENT = 0.4e-6
"""Deterministic cost model (:mod:`matcher.solvers.clock`): one subgradient iteration, per
student (tier XL: about 36 ms)."""
STALL_ITERATIONS = 15
"""Iterations without a better bound before the step size is halved."""
GUIDE_ITERATIONS = 40
"""Last iterations whose choices vote for each student's workstation in the guide."""


@dataclass
class _Groups:
    """The arrays that stay fixed while the prices change (see the module docstring)."""

    keys: list[tuple[int, int, int, int]]  # g -> (d, n, first, last)
    allowed: npt.NDArray[np.bool_]  # (g, w, k): start k allowed for group g at w
    profile_group: npt.NDArray[np.int64]  # p -> g
    eligible: npt.NDArray[np.float64]  # (p, w): 0 where w may take p's students, else INF
    st_profile: npt.NDArray[np.int64]  # i -> p (-1: no option at all)
    st_group: npt.NDArray[np.int64]  # i -> g
    st_block: npt.NDArray[np.int64]
    off_list: npt.NDArray[np.bool_]  # i -> may be placed off its list
    # listed workstations, one row per student with a list (in list order, padded to the
    # longest): the student, its workstations, and the rank (INF in the padding)
    list_student: npt.NDArray[np.int64]  # row -> i
    list_station: npt.NDArray[np.int64]  # (row, j) -> w (0 in the padding)
    list_flat: npt.NDArray[np.int64]  # (row, j) -> g * n_ws + w: an index into the cost array
    list_rank: npt.NDArray[np.float64]  # (row, j) -> rank (INF in the padding)
    # mentors per (discipline, workstation): rows sorted by workstation, segment starts
    mentor_rows: dict[int, npt.NDArray[np.int64]]
    mentor_seg: dict[int, npt.NDArray[np.int64]]
    mentor_station: dict[int, npt.NDArray[np.int64]]
    # supervisors per (university, discipline) for free choices
    sup_key: npt.NDArray[np.int64]  # i -> index of its (u, d) group, or -1 (given supervisor)
    sup_rows: npt.NDArray[np.int64]
    sup_seg: npt.NDArray[np.int64]
    st_sup: npt.NDArray[np.int64]
    locked: list[int]  # students with a lock (priced one by one, see _locked_cost)


def _groups(enc: Encoded) -> _Groups:
    """Build the fixed arrays (one pass over students, profiles and mentors)."""
    n_ws, n_terms = len(enc.workstation_ids), enc.n_terms
    keys: dict[tuple[int, int, int, int], int] = {}
    profiles: dict[tuple[int, int, int], int] = {}
    st_profile = np.full(enc.n_students, -1, dtype=np.int64)
    st_group = np.zeros(enc.n_students, dtype=np.int64)
    off_list = np.zeros(enc.n_students, dtype=bool)
    allowed_rows: list[npt.NDArray[np.bool_]] = []
    eligible_rows: list[npt.NDArray[np.bool_]] = []
    profile_group: list[int] = []
    lists: dict[int, list[tuple[int, int]]] = {}  # i -> its eligible (w, rank), in list order
    for i in range(enc.n_students):
        if enc.st_lock[i] is not None or not enc.supervisors_for(i):
            continue  # locked students are priced one by one (see _locked_cost)
        u, d, n, first, last, x = enc.profile(i)
        g = keys.get((d, n, first, last))
        if g is None:
            g = keys[d, n, first, last] = len(keys)
            allowed_rows.append(np.zeros((n_ws, n_terms), dtype=bool))
        p = profiles.get((u, g, x))  # (x: the vetoes differ, see the encoding)
        if p is None:
            p = profiles[u, g, x] = len(profiles)
            row = np.zeros(n_ws, dtype=bool)
            for w, k in enc.profile_options(enc.profile(i)):
                row[w] = True
                if k < n_terms:  # (segment plans are not priced: see has_segments below)
                    allowed_rows[g][w, k] = True
            eligible_rows.append(row)
            profile_group.append(g)
        if not eligible_rows[p].any():
            continue
        st_profile[i], st_group[i] = p, g
        off_list[i] = not enc.preferences_only
        listed = [(w, enc.rank_of[i][w]) for w in enc.st_prefs[i] if eligible_rows[p][w]]
        if listed:
            lists[i] = listed
    mentor_rows, mentor_seg, mentor_station = {}, {}, {}
    for d in {key[0] for key in keys}:
        rows: list[int] = []
        seg: list[int] = []
        stations: list[int] = []
        for w in range(n_ws):
            ms = enc.mentors_for(w, d)
            if ms:
                seg.append(len(rows))
                stations.append(w)
                rows.extend(ms)
        mentor_rows[d] = np.asarray(rows, dtype=np.int64)
        mentor_seg[d] = np.asarray(seg, dtype=np.int64)
        mentor_station[d] = np.asarray(stations, dtype=np.int64)
    who, station, flat, rank = _list_arrays(lists, st_group, n_ws)
    sup_groups: dict[tuple[int, int], int] = {}
    sup_rows: list[int] = []
    sup_seg: list[int] = []
    sup_key = np.full(enc.n_students, -1, dtype=np.int64)
    for i in range(enc.n_students):
        if enc.st_sup[i] >= 0 or st_profile[i] < 0:
            continue
        ud = (enc.st_univ[i], enc.st_disc[i])
        if ud not in sup_groups:
            sup_groups[ud] = len(sup_groups)
            sup_seg.append(len(sup_rows))
            sup_rows.extend(enc.supervisors_for(i))
        sup_key[i] = sup_groups[ud]
    return _Groups(
        keys=list(keys), allowed=np.asarray(allowed_rows, dtype=bool).reshape(
            len(keys), n_ws, n_terms),
        profile_group=np.asarray(profile_group, dtype=np.int64),
        # Added to the costs, not masked with them: four times faster at tier XL.
        eligible=np.where(np.asarray(eligible_rows, dtype=bool).reshape(len(profiles), n_ws),
                          0.0, INF),
        st_profile=st_profile, st_group=st_group,
        st_block=np.asarray(enc.st_block, dtype=np.int64), off_list=off_list,
        list_student=who, list_station=station, list_flat=flat, list_rank=rank,
        mentor_rows=mentor_rows, mentor_seg=mentor_seg, mentor_station=mentor_station,
        sup_key=sup_key, sup_rows=np.asarray(sup_rows, dtype=np.int64),
        sup_seg=np.asarray(sup_seg, dtype=np.int64),
        st_sup=np.asarray(enc.st_sup, dtype=np.int64),
        locked=[i for i in range(enc.n_students) if enc.st_lock[i] is not None])


def _list_arrays(lists: dict[int, list[tuple[int, int]]], st_group: npt.NDArray[np.int64],
                 n_ws: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                     npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The students' lists as dense arrays (see :class:`_Groups`): one ``argmin`` per row
    then finds each student's cheapest listed workstation (a segmented minimum over a flat
    array took twice as long at tier XL)."""
    width = max((len(v) for v in lists.values()), default=0)
    who = np.fromiter(lists, dtype=np.int64, count=len(lists))
    station = np.zeros((len(lists), width), dtype=np.int64)
    rank = np.full((len(lists), width), INF)
    for row, listed in enumerate(lists.values()):
        station[row, :len(listed)] = [w for w, _r in listed]
        rank[row, :len(listed)] = [r for _w, r in listed]
    flat = st_group[who][:, None] * n_ws + station
    return who, station, flat, rank


def _block_sums(price: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    """``out[x, k] = sum of price[x, k .. k+n-1]`` (INF where the block runs past the end)."""
    rows, terms = price.shape
    out = np.full((rows, terms), INF)
    if n <= terms:
        csum = np.concatenate([np.zeros((rows, 1)), np.cumsum(price, axis=1)], axis=1)
        out[:, :terms - n + 1] = csum[:, n:] - csum[:, :terms - n + 1]
    return out


def _segment_argmin(values: npt.NDArray[np.float64], seg: npt.NDArray[np.int64]
                    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Minimum per segment (rows ``seg[j] .. seg[j+1]-1``) and the first row reaching it."""
    mins = np.minimum.reduceat(values, seg, axis=0)
    lengths = np.diff(np.append(seg, len(values)))
    hit = values == np.repeat(mins, lengths, axis=0)
    pos = np.arange(len(values)).reshape((-1,) + (1,) * (values.ndim - 1))
    first = np.minimum.reduceat(np.where(hit, pos, len(values)), seg, axis=0)
    return mins, first


@dataclass
class _Choice:
    """Each student's cheapest option at given prices (``station`` -1: better unplaced)."""

    value: float
    station: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    mentor: npt.NDArray[np.int64]
    supervisor: npt.NDArray[np.int64]


def _cheapest(enc: Encoded, gr: _Groups, lam: npt.NDArray[np.float64],
              mu: npt.NDArray[np.float64], nu: npt.NDArray[np.float64],
              weight: float) -> _Choice:
    """Solve every student's subproblem at prices ``lam``, ``mu``, ``nu`` (and the locks)."""
    n_ws, n_terms = lam.shape
    n_st = enc.n_students
    # Cheapest mentor per (discipline, block) at each workstation and start.
    ws_blocks = {n: _block_sums(lam, n) for n in {key[1] for key in gr.keys}}
    m_blocks = {n: _block_sums(mu, n) for n in ws_blocks}
    cost = np.full((len(gr.keys), n_ws), INF)
    best_k = np.zeros((len(gr.keys), n_ws), dtype=np.int64)
    best_m = np.full((len(gr.keys), n_ws, n_terms), -1, dtype=np.int64)
    mentor_min: dict[tuple[int, int], tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]] = {}
    for g, (d, n, _first, _last) in enumerate(gr.keys):
        if (d, n) not in mentor_min:
            full = np.full((n_ws, n_terms), INF)
            who = np.full((n_ws, n_terms), -1, dtype=np.int64)
            rows = gr.mentor_rows[d]
            if len(rows):
                mins, first = _segment_argmin(m_blocks[n][rows], gr.mentor_seg[d])
                full[gr.mentor_station[d]] = mins
                who[gr.mentor_station[d]] = rows[np.minimum(first, len(rows) - 1)]
            mentor_min[d, n] = (full, who)
        m_cost, m_who = mentor_min[d, n]
        option = np.where(gr.allowed[g], ws_blocks[n] + m_cost, INF)
        best_k[g] = np.argmin(option, axis=1)
        cost[g] = option[np.arange(n_ws), best_k[g]]
        best_m[g] = m_who
    # Supervisors: the given one, else the cheapest of the student's university and discipline.
    sup_cost = np.zeros(n_st)
    sup_pick = gr.st_sup.copy()
    given = gr.st_sup >= 0
    sup_cost[given] = nu[gr.st_sup[given]]
    if len(gr.sup_rows):
        mins, first = _segment_argmin(nu[gr.sup_rows], gr.sup_seg)
        free = gr.sup_key >= 0
        sup_cost[free] = mins[gr.sup_key[free]]
        sup_pick[free] = gr.sup_rows[first[gr.sup_key[free]]]
    # Each student: its best listed workstation, or the best eligible one at K + 1.
    value = np.full(n_st, INF)
    station = np.full(n_st, -1, dtype=np.int64)
    priced = gr.st_profile >= 0
    if len(gr.eligible):
        per_profile = cost[gr.profile_group]
        per_profile += gr.eligible  # at least INF where not eligible
        p_station = np.argmin(per_profile, axis=1)
        p_cost = per_profile[np.arange(len(per_profile)), p_station]
        off = priced & gr.off_list
        value[off] = enc.max_list + 1 + p_cost[gr.st_profile[off]]
        station[off] = p_station[gr.st_profile[off]]
    if len(gr.list_student):
        listed = gr.list_rank + cost.ravel()[gr.list_flat]  # the padding stays above INF
        rows = np.arange(len(listed))
        first = np.argmin(listed, axis=1)  # ties: the higher-ranked workstation
        mins = listed[rows, first]
        who = gr.list_student
        better = mins < value[who]
        value[who[better]] = mins[better]
        station[who[better]] = gr.list_station[rows[better], first[better]]
    value += sup_cost - weight
    start = np.full(n_st, -1, dtype=np.int64)
    mentor = np.full(n_st, -1, dtype=np.int64)
    sel = station >= 0  # (none at all when no student has an option)
    start[sel] = best_k[gr.st_group[sel], station[sel]]
    mentor[sel] = best_m[gr.st_group[sel], station[sel], start[sel]]
    take = priced & (value < 0) & (station >= 0) & (value < INF / 2)
    total = float(value[take].sum())
    station = np.where(take, station, -1)
    for i in gr.locked:  # each iteration: the list is made once, not the students scanned
        got = _locked_cost(enc, i, lam, mu, nu, weight)
        if got is None:
            continue  # no option at all: the problem is infeasible, nothing to bound
        total += got[0]
        station[i], start[i], mentor[i], sup_pick[i] = got[1]
    return _Choice(total, station, start, mentor, np.where(station >= 0, sup_pick, -1))


def _locked_cost(enc: Encoded, i: int, lam: npt.NDArray[np.float64],
                 mu: npt.NDArray[np.float64], nu: npt.NDArray[np.float64], weight: float
                 ) -> tuple[float, tuple[int, int, int, int]] | None:
    """A locked student's cheapest option (it must take one), by enumeration."""
    lock = enc.st_lock[i]
    assert lock is not None
    n = enc.st_block[i]
    best: tuple[float, tuple[int, int, int, int]] | None = None
    sups = enc.supervisors_for(i)
    if not sups:
        return None
    s = min(sups, key=lambda s: (nu[s], s))
    for w, k in enc.options(i):
        block = list(enc.covers(k, n))
        mentors = [lock[1]] if lock[1] >= 0 else enc.mentors_for(w, enc.st_disc[i])
        for m in mentors:
            c = (enc.cost(i, w) - weight + float(lam[w, block].sum() + mu[m, block].sum())
                 + float(nu[s]))
            if best is None or c < best[0]:
                best = (c, (w, k, m, s))
    return best


def _loads(enc: Encoded, gr: _Groups, ch: _Choice, shape_ws: tuple[int, int],
           n_mentors: int, n_sups: int
           ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Places used by the students' choices: per workstation and term, mentor and term, and
    supervisor."""
    n_terms = shape_ws[1]
    ws = np.zeros(shape_ws[0] * n_terms)
    ms = np.zeros(n_mentors * n_terms)
    placed = np.flatnonzero(ch.station >= 0)
    block = gr.st_block[placed]
    for off in range(int(block.max(initial=0))):
        sel = placed[block > off]
        term = ch.start[sel] + off
        ws += np.bincount(ch.station[sel] * n_terms + term, minlength=len(ws))
        ms += np.bincount(ch.mentor[sel] * n_terms + term, minlength=len(ms))
    sups = np.bincount(ch.supervisor[placed], minlength=n_sups).astype(float)
    return ws.reshape(shape_ws), ms.reshape(n_mentors, n_terms), sups


def lagrangian_bound(enc: Encoded, deadline: float, upper: float | None = None,
                     max_iterations: int | None = None, *, report_at: float | None = None,
                     report: Callable[[Relaxation], object] | None = None) -> Relaxation:
    """Subgradient ascent on the Lagrangian dual (see :func:`_ascend`, the same parameters);
    the relaxation at the best prices."""
    return _ascend(enc, deadline, upper, max_iterations, report_at=report_at,
                   report=report)[0]


Prices = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]
"""``(lam[w, t], mu[m, t], nu[s])``: prices of workstation, mentor and supervisor places."""


def _ascend(enc: Encoded, deadline: float, upper: float | None = None,
            max_iterations: int | None = None, *, report_at: float | None = None,
            report: Callable[[Relaxation], object] | None = None
            ) -> tuple[Relaxation, Prices]:
    """Subgradient ascent on the Lagrangian dual (see the module docstring) until ``deadline``.

    Parameters
    ----------
    enc
        The encoded problem.
    deadline
        ``clock.now()`` value at which to stop (the best bound so far is returned).
    upper
        ``rank - W * placed`` of a known allocation (``W``: see
        :func:`~matcher.solvers.relaxation.relax_weight`): the Polyak step aims at it. Without one,
        a guess 1% above the bound.
    max_iterations
        Iteration limit (a deterministic stop, for tests); None: until ``deadline``. (A limit
        of 2,000 used to end the bound at tier XL about 40 s before its deadline.)
    report_at, report
        Once ``clock.now()`` passes ``report_at`` (or at the end, if that comes
        first), ``report`` gets the relaxation as it is then, and the ascent goes on to
        ``deadline``: the guide is wanted early, the bound gains from the time left.

    Returns
    -------
    Relaxation, Prices
        ``value``: the best Lagrangian value (``rank >= value + weight * P``); ``placed`` and
        ``station``: the students' choices at the best prices (a guide for a rounding, not an
        allocation: limits may be exceeded). Then the best prices.
    """
    t0 = clock.now()
    weight = relax_weight(enc)
    gr = _groups(enc)
    n_ws, n_terms = len(enc.workstation_ids), enc.n_terms
    cap_ws = np.asarray(enc.ws_cap, dtype=float).reshape(n_ws, n_terms)
    cap_m = np.repeat(np.asarray(enc.m_cap, dtype=float)[:, None], n_terms, axis=1)
    cap_s = np.asarray(enc.s_cap, dtype=float)
    lam, mu, nu = np.zeros((n_ws, n_terms)), np.zeros_like(cap_m), np.zeros_like(cap_s)
    best_value, best_choice = -math.inf, None
    best_prices: Prices = (lam, mu, nu)
    theta, stall, iterations = 1.0, 0, 0
    recent: list[npt.NDArray[np.int64]] = []
    limit = math.inf if max_iterations is None else max_iterations
    while iterations < limit and (iterations == 0 or clock.now() < deadline):
        iterations += 1
        clock.charge(ITERATION_SECONDS_PER_STUDENT * enc.n_students)
        ch = _cheapest(enc, gr, lam, mu, nu, weight)
        value = ch.value - float((lam * cap_ws).sum() + (mu * cap_m).sum() + (nu * cap_s).sum())
        if value > best_value + 1e-9:
            best_value, best_choice, stall = value, ch, 0
            best_prices = (lam, mu, nu)
        else:
            stall += 1
            if stall >= STALL_ITERATIONS:
                theta, stall = theta / 2, 0
        recent.append(ch.station)
        if len(recent) > GUIDE_ITERATIONS:
            recent.pop(0)
        if report is not None and report_at is not None and clock.now() >= report_at:
            report(_relaxation(enc, best_value, weight, recent, t0, iterations))
            report = None
        ws, ms, ss = _loads(enc, gr, ch, (n_ws, n_terms), len(enc.m_cap), len(enc.s_cap))
        # Subgradients, projected: a price at 0 with room to spare cannot go lower.
        g_ws = np.where((lam > 0) | (ws > cap_ws), ws - cap_ws, 0.0)
        g_m = np.where((mu > 0) | (ms > cap_m), ms - cap_m, 0.0)
        g_s = np.where((nu > 0) | (ss > cap_s), ss - cap_s, 0.0)
        norm = float((g_ws ** 2).sum() + (g_m ** 2).sum() + (g_s ** 2).sum())
        if norm == 0:
            break  # the students' choices keep every limit: the bound is exact
        target = upper if upper is not None and upper > best_value else (
            best_value + 0.01 * abs(best_value) + 1.0)
        step = theta * (target - value) / norm
        lam = np.maximum(0.0, lam + step * g_ws)
        mu = np.maximum(0.0, mu + step * g_m)
        nu = np.maximum(0.0, nu + step * g_s)
        if theta < 1e-6:
            break
    assert best_choice is not None
    result = _relaxation(enc, best_value, weight, recent, t0, iterations)
    if report is not None:
        report(result)
    return result, best_prices


def _relaxation(enc: Encoded, best_value: float, weight: int,
                recent: list[npt.NDArray[np.int64]], t0: float, iterations: int) -> Relaxation:
    """The bound so far, with its guide: each student's most frequent choice over the last
    iterations (the ergodic average of the subgradient method tends to the LP's solution;
    one iterate jumps around)."""
    votes = np.sort(np.stack(recent), axis=0)  # sorted: ties go to the lowest index
    best_station = np.full(enc.n_students, -1, dtype=np.int64)
    best_count = np.zeros(enc.n_students, dtype=np.int64)
    for row in votes:
        count = (votes == row).sum(axis=0)
        better = count > best_count
        best_count[better], best_station[better] = count[better], row[better]
    placed = np.flatnonzero(best_station >= 0)
    station = {int(i): int(best_station[i]) for i in placed}
    rank = float(sum(enc.cost(i, w) for i, w in station.items()))
    return Relaxation(best_value, weight, float(len(placed)), rank, station,
                      round(clock.now() - t0, 3),
                      message="" if iterations else "no iteration in time")


def _greedy_upper(enc: Encoded) -> float:
    """``rank - W * placed`` (``W``: :func:`~matcher.solvers.relaxation.relax_weight`) of the greedy
    allocation with every student it leaves out who has an option counted as placed off-list
    (an estimate above the optimum, for the Polyak step)."""
    chosen, _failed = serial_dictatorship(enc)
    placeable = enc.n_placeable
    missing = max(0, placeable - len(chosen))
    return float(enc.rank_cost(chosen) + missing * (enc.max_list + 1)
                 - relax_weight(enc) * placeable)


UPGRADE_S_PER_STUDENT = 1.5e-3
"""Seconds a discipline's LP takes per student of it, model included (tier XL, one thread:
36,390 students 12 s to build and 32 s to solve), for :func:`upgrade_by_discipline` to try
only what can end in time."""
UPGRADE_MAX_SHARE = 0.4
"""Largest share of the listed choices one discipline may have for its LP to be tried in
:func:`upgrade_by_discipline` (tier XL's largest: 36% of the students, its LP 32 s on one
thread; the whole XL LP took 482 s)."""


def upgrade_by_discipline(enc: Encoded, prices: Prices, value: float, deadline: float,
                          stop: Callable[[], bool] | None = None,
                          progress: Callable[[float], object] | None = None
                          ) -> tuple[float, int]:
    """Raise a Lagrangian value by solving each discipline's LP with only the shared limits
    priced (a partial Lagrangian).

    Every student has one discipline; only workstations, mentors and supervisors taking
    several couple them. At the same prices, a discipline's share of the Lagrangian value
    (its students' cheapest options less its own limits' priced capacity) is at most the
    optimum of its LP with every limit of its own kept and only the shared ones priced
    (weak duality), so replacing shares by LP optima keeps a valid bound, for any subset of
    the disciplines. Largest first (most of the gain; tier XL at the guide's prices:
    385,622 -> 399,708 with all eight in 89 s, models included); a discipline is skipped when
    its LP is too large (:data:`UPGRADE_MAX_SHARE`), would not end by ``deadline``
    (:data:`UPGRADE_S_PER_STUDENT`) or is not solved by then. ``progress`` gets the value
    after each discipline raised.

    Returns
    -------
    tuple
        The raised value (``rank >= value + weight * P`` as before) and how many disciplines
        were raised.
    """
    lam, mu, nu = prices
    weight = relax_weight(enc)
    problem = enc.problem
    gr = _groups(enc)
    disc = np.asarray(enc.st_disc, dtype=np.int64)
    sizes = np.bincount(disc, minlength=len(enc.disciplines))
    shared_w = {w for w, ds in enumerate(enc.ws_disc) if len(ds) > 1}
    shared_m = {m for m, ds in enumerate(enc.m_disc) if len(ds) > 1}
    shared_s = {s for s, ds in enumerate(enc.s_disc) if len(ds) > 1}

    def price(key: tuple[str, int, int]) -> float | None:
        kind, x, t = key
        if kind == "w":
            return float(lam[x, t]) if x in shared_w else None
        if kind == "m":
            return float(mu[x, t]) if x in shared_m else None
        return float(nu[x]) if x in shared_s else None

    raised = 0
    for d in np.argsort(-sizes, kind="stable"):
        if sizes[d] == 0 or clock.now() >= deadline or (stop is not None and stop()):
            break
        if (sizes[d] > UPGRADE_MAX_SHARE * enc.n_students
                or deadline - clock.now() < UPGRADE_S_PER_STUDENT * sizes[d]):
            continue
        own = disc == d
        rows = own[gr.list_student]
        part = replace(gr, st_profile=np.where(own, gr.st_profile, -1),
                       list_student=gr.list_student[rows], list_station=gr.list_station[rows],
                       list_flat=gr.list_flat[rows], list_rank=gr.list_rank[rows],
                       locked=[i for i in gr.locked if own[i]])
        share = _cheapest(enc, part, lam, mu, nu, weight).value
        only = frozenset({int(d)})
        share -= sum(float(lam[w] @ np.asarray(enc.ws_cap[w], dtype=float))
                     for w, ds in enumerate(enc.ws_disc) if ds == only)
        share -= sum(float(mu[m].sum()) * enc.m_cap[m] for m, ds in enumerate(enc.m_disc)
                     if ds == only)
        share -= sum(float(nu[s]) * enc.s_cap[s] for s, ds in enumerate(enc.s_disc)
                     if ds == only)
        name = enc.disciplines[d]
        ids = {st.student_id for st in problem.students if st.discipline == name}
        sub = encode(problem.model_copy(update={
            "students": tuple(st for st in problem.students if st.discipline == name),
            "locks": tuple(lk for lk in problem.locks if lk.student_id in ids),
            "rankings": tuple(rk for rk in problem.rankings if rk.student_id in ids)}))
        best = priced_lp(sub, weight, enc.max_list + 1, price, deadline, stop)
        if best is not None and best > share:
            value += best - share
            raised += 1
            if progress is not None:
                progress(value)
    return value, raised


def _child(enc: Encoded, deadline_in: float, conn: object, until_in: float | None) -> None:
    """Helper-process entry (forked): the relaxation sent back through the pipe when due, then
    (``until_in`` given) the bound's value as it is at that later time: the disciplines'
    LPs at the guide's prices (:func:`upgrade_by_discipline`) where any fits, else the ascent
    goes on."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop

    def on_term(_signum: int, _frame: object) -> None:
        raise SystemExit(0)  # unwinds: a HiGHS helper of the disciplines' LPs is killed

    signal.signal(signal.SIGTERM, on_term)
    now = clock.now()
    due = now + deadline_in
    upper = _greedy_upper(enc)
    until = None if until_in is None else now + until_in
    # The disciplines' LPs replace the rest of the ascent only if one of them fits in time.
    sizes = np.bincount(np.asarray(enc.st_disc, dtype=np.int64))
    fits = (sizes > 0) & (sizes <= UPGRADE_MAX_SHARE * enc.n_students) & (
        UPGRADE_S_PER_STUDENT * sizes <= (until_in or 0.0) - deadline_in - _UPGRADE_MARGIN_S)
    upgrade = until is not None and bool(fits.any()) and np.count_nonzero(sizes) > 1
    result, prices = _ascend(enc, due if until is None or upgrade else until, upper,
                             report_at=due, report=conn.send)  # type: ignore[attr-defined]
    if until is None:
        return
    value = result.value
    if upgrade and value is not None:
        # Each raise is sent at once (the parent takes the last that came in time); HiGHS
        # stops a little before ``until`` so that its last answer still does.
        upgrade_by_discipline(enc, prices, value, until - _UPGRADE_MARGIN_S,
                              progress=conn.send)  # type: ignore[attr-defined]
        return
    conn.send(value)  # type: ignore[attr-defined]


def no_later_bound(wait: bool = True, wait_until: float | None = None) -> float | None:
    """The later-bound getter when there is none (no helper goes on raising a bound)."""
    return None


def relax_apart(enc: Encoded, deadline: float, stop: Callable[[], bool] | None = None,
                meanwhile: Callable[[], _T] | None = None, *, bound_until: float | None = None
                ) -> tuple[Relaxation, _T | None, Callable[..., float | None]]:
    """:func:`lagrangian_bound` in a helper process while this one runs ``meanwhile``.

    The same contract as :func:`matcher.solvers.relaxation.relax` (the bound and a guide), for
    problems whose LP is too large to solve in time. The helper is a fork of this process (it
    needs the encoded problem, and starting afresh would read the scenario again); where fork
    is not available the bound is computed here, after ``meanwhile``.

    Parameters
    ----------
    enc
        The encoded problem.
    deadline
        ``clock.now()`` value by which the bound must be ready.
    stop
        Polled while waiting; true ends the helper early (no bound then).
    meanwhile
        Work for this process while the helper runs; its value is returned with the bound.
    bound_until
        If given, the helper goes on raising the bound until then (on the second core, while
        this process rounds the guide): the third value returned, called after that, gives
        the bound's value then (None if stopped or not available).

    Returns
    -------
    tuple
        The relaxation at ``deadline``, what ``meanwhile`` returned, and the later bound's
        getter (it ends the helper: call it when ``bound_until`` is given, with ``wait=False``
        to end the helper at once, ``wait_until`` to wait no longer than that; left uncalled,
        the helper still ends by itself after ``bound_until``).
    """
    t0 = clock.now()
    weight = relax_weight(enc)

    if "fork" not in multiprocessing.get_all_start_methods() or clock.deterministic():
        # (a deterministic solve: here, after meanwhile, so that its bound is the same
        # whatever the machine's pace)
        other = None if meanwhile is None else meanwhile()
        return lagrangian_bound(enc, deadline, _greedy_upper(enc)), other, no_later_bound
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    helper = ctx.Process(target=_child, args=(
        enc, deadline - t0, send, None if bound_until is None else bound_until - t0),
        daemon=True)
    helper.start()
    send.close()

    def answer(until: float) -> object | None:
        # The helper's next message, polling ``stop``; None if it has none by ``until`` (a
        # message already sent is taken even when ``until`` has passed).
        while True:
            if stop is not None and stop():
                return None
            if receive.poll(0.05 if clock.now() < until else 0):
                try:
                    return receive.recv()
                except EOFError:  # the helper died without an answer
                    return None
            if clock.now() >= until or (not helper.is_alive() and not receive.poll()):
                return None

    def end() -> None:  # idempotent: the getter may be called again
        if helper.is_alive():
            helper.terminate()
        helper.join(1.0)
        if not receive.closed:
            receive.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        # A thread waits for the answer while this one works.
        pending = pool.submit(answer, deadline + _GRACE_S)
        other = None if meanwhile is None else meanwhile()
        got = pending.result()
    if not isinstance(got, Relaxation) or bound_until is None:
        end()
    if not isinstance(got, Relaxation):
        why = "stopped" if stop is not None and stop() else "the Lagrangian bound was not ready"
        return Relaxation(None, weight, seconds=round(clock.now() - t0, 3),
                          message=why), other, no_later_bound
    if bound_until is None:
        return got, other, no_later_bound
    until = bound_until

    def later(wait: bool = True, wait_until: float | None = None) -> float | None:
        # Waits at most until wait_until (or the grace after bound_until); once only.
        # The helper may send several values (each higher): the last in time counts.
        limit = until + _GRACE_S if wait_until is None else min(until + _GRACE_S, wait_until)
        value = None
        while wait and not receive.closed:
            got_next = answer(limit)
            if not isinstance(got_next, float):
                break
            value = got_next
        end()
        return value

    return got, other, later
