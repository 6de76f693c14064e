"""The aggregation the exact models share (``cpsat`` and ``milp``).

Both models count interchangeable students instead of deciding for each one (the math is in the
docstring of :mod:`matcher.solvers.cpsat`). This module holds the keys of those families and the
one way back from the counts to a placement per student, so the two engines differ only in how
they find the counts.

Keys
    *start group* ``a = (w, d, n, first, last, mlock)``, *mentor pool* ``(w, d, k, n)``,
    *supervisor group* ``("free", u, d)`` or ``("given", s, -1)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from ..encoding import Encoded
from .base import Choice

StartKey = tuple[int, int, int, int, int, int]  # (w, d, n, first, last, mlock)
PoolKey = tuple[int, int, int, int]  # (w, d, k, n)
GroupKey = tuple[str, int, int]  # ("free", u, d) or ("given", s, -1)
PairKey = tuple[StartKey, int, GroupKey, int, int]  # (a, start, group, supervisor, mentor)


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
    first, last, mlock = span_of(enc, i)
    return (station[i], enc.st_disc[i], enc.st_block[i], first, last, mlock), group_of(enc, i)


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
                mentor_left[(a[0], a[1], k, a[2]), m] -= 1
            if grp[0] == "free":
                sup_left[grp, s] -= 1
    for a in sorted(by_a):
        w, d, n, first, last, mlock = a
        starts = enc.starts(w, n, first, last)
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
