"""Seeded, vectorised generator of synthetic provincial cohorts.

:func:`generate_scenario` writes a complete scenario folder (``scenario.yaml``, ``students.csv``,
``workstations.csv``, ``mentors.csv``, ``supervisors.csv``, ``universities.csv`` and, when there
is something to put in them, ``workstation_terms.csv`` and ``pairs.csv``) shaped like one
province's annual allocation of engineering professional master's students in Heilongjiang:

* the eight engineering professional-degree categories 0854-0861, skewed towards 0854
  (Electronic Information) and 0855 (Mechanical Engineering);
* real Heilongjiang universities (ids such as ``HIT``, ``HEU``, ``HRBUST``), each with a plausible
  (not official) set of categories it trains in, cycled with numeric suffixes (``HIT2``, ...) when
  more universities are asked for than the list holds;
* workstations in the province's real cities (Harbin and Daqing heaviest, coordinates jittered),
  each taking one to three categories (more only when very few workstations must between them
  take every category), about 40 % restricted to one to three partner
  universities, with capacities of 1-12 students per term summing to about 0.55 x the cohort
  (by default);
* one to four enterprise mentors per workstation, each covering a non-empty subset of its
  categories, all of the workstation's categories covered;
* campus supervisors per university and category, capacity 2-8, with room for every student;
* students with 0-10 ranked preferences drawn with a Zipf-like popularity skew, about 20 % with
  two or more years of work experience, a ``priority`` score, and about half with a given campus
  supervisor;
* about 5 % of workstations closed for some terms, a few per-term capacity overrides, and
  existing supervisor-mentor collaborations (``pairs.csv``).

People, enterprises and mentors are synthetic. The same arguments always give byte-identical
files; 100,000 students and 5,000 workstations take a few seconds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["CITIES", "DISCIPLINES", "UNIVERSITIES", "generate_scenario"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Engineering professional-degree categories: code, English name, share of students.
DISCIPLINES: tuple[tuple[str, str, float], ...] = (
    ("0854", "Electronic Information", 0.30),
    ("0855", "Mechanical Engineering", 0.22),
    ("0856", "Materials and Chemical Engineering", 0.12),
    ("0857", "Resources and Environment", 0.07),
    ("0858", "Energy and Power", 0.10),
    ("0859", "Civil and Hydraulic Engineering", 0.08),
    ("0860", "Biology and Medicine", 0.06),
    ("0861", "Transportation", 0.05),
)

#: Heilongjiang cities: name, latitude, longitude, share of workstations, category affinity
#: (multipliers on the category shares for workstations located there).
CITIES: tuple[tuple[str, float, float, float, dict[str, float]], ...] = (
    ("Harbin", 45.80, 126.53, 0.40, {"0854": 1.4, "0861": 1.3}),
    ("Daqing", 46.59, 125.10, 0.15, {"0856": 2.2, "0858": 2.0, "0857": 1.5}),
    ("Qiqihar", 47.35, 123.92, 0.08, {"0855": 1.8, "0856": 1.3}),
    ("Mudanjiang", 44.55, 129.63, 0.06, {"0855": 1.3, "0860": 1.4}),
    ("Jiamusi", 46.80, 130.32, 0.06, {"0855": 1.3, "0860": 1.3}),
    ("Jixi", 45.30, 130.97, 0.04, {"0857": 3.0, "0858": 1.5}),
    ("Suihua", 46.65, 126.97, 0.04, {"0860": 1.8, "0856": 1.2}),
    ("Shuangyashan", 46.65, 131.16, 0.03, {"0857": 3.0, "0858": 1.5}),
    ("Yichun", 47.73, 128.84, 0.03, {"0857": 2.0, "0859": 1.5}),
    ("Qitaihe", 45.77, 131.00, 0.03, {"0857": 3.0, "0858": 1.5}),
    ("Hegang", 47.35, 130.30, 0.03, {"0857": 3.0, "0858": 1.5}),
    ("Heihe", 50.25, 127.53, 0.03, {"0861": 1.8, "0859": 1.5}),
)

_ALL = ("0854", "0855", "0856", "0857", "0858", "0859", "0860", "0861")

#: Heilongjiang universities with professional master's programmes: id, name, city, relative
#: cohort size, engineering categories trained (plausible, not an official list).
UNIVERSITIES: tuple[tuple[str, str, str, float, tuple[str, ...]], ...] = (
    ("HIT", "Harbin Institute of Technology", "Harbin", 3.0, _ALL),
    ("HEU", "Harbin Engineering University", "Harbin", 2.2,
     ("0854", "0855", "0856", "0857", "0858", "0859", "0861")),
    ("HRBUST", "Harbin University of Science and Technology", "Harbin", 2.0,
     ("0854", "0855", "0856", "0858")),
    ("NEFU", "Northeast Forestry University", "Harbin", 1.4,
     ("0854", "0855", "0856", "0857", "0859", "0860", "0861")),
    ("NEAU", "Northeast Agricultural University", "Harbin", 1.2,
     ("0855", "0856", "0857", "0860")),
    ("HLJU", "Heilongjiang University", "Harbin", 1.2,
     ("0854", "0856", "0857", "0859", "0860")),
    ("NEPU", "Northeast Petroleum University", "Daqing", 1.3,
     ("0854", "0855", "0856", "0857", "0858", "0859")),
    ("QQHRU", "Qiqihar University", "Qiqihar", 0.8, ("0854", "0855", "0856", "0860")),
    ("JMSU", "Jiamusi University", "Jiamusi", 0.7, ("0854", "0855", "0856", "0860")),
    ("USTH", "Heilongjiang University of Science and Technology", "Harbin", 0.8,
     ("0854", "0855", "0856", "0857", "0859")),
    ("BYAU", "Heilongjiang Bayi Agricultural University", "Daqing", 0.6,
     ("0855", "0856", "0860")),
    ("HRBMU", "Harbin Medical University", "Harbin", 0.6, ("0854", "0860")),
    ("HRBNU", "Harbin Normal University", "Harbin", 0.5, ("0854", "0856", "0857")),
    ("HRBUC", "Harbin University of Commerce", "Harbin", 0.5, ("0854", "0856", "0860")),
    ("MDJNU", "Mudanjiang Normal University", "Mudanjiang", 0.4, ("0854", "0856")),
)

# Shape parameters of the synthetic cohort.
_MAX_CAPACITY = 12
_PARTNER_SHARE = 0.40
_MAX_PREFERENCES = 10
_PREF_LENGTH_P = (0.05, 0.03, 0.04, 0.06, 0.08, 0.10, 0.12, 0.12, 0.12, 0.10, 0.18)  # 0..10
_ZIPF_EXPONENT = 1.0
_SUPERVISOR_SLACK = 1.3  # supervisor capacity per (university, category) >= slack x students
_CLOSED_SHARE = 0.05
_OVERRIDE_SHARE = 0.02
_PAIR_SHARE = 0.10  # pairs per mentor
_CANDIDATE_DRAWS = 3 * _MAX_PREFERENCES
_SCENARIO_FILES = ("scenario.yaml", "students.csv", "workstations.csv", "mentors.csv",
                   "supervisors.csv", "universities.csv", "workstation_terms.csv", "pairs.csv",
                   "locks.csv", "rankings.csv")


def term_labels(n: int, first_year: int = 2025) -> list[str]:
    """Term labels in calendar order, starting with an autumn term.

    Parameters
    ----------
    n
        Number of terms.
    first_year
        Calendar year of the first (autumn) term.

    Returns
    -------
    list of str
        ``["2025-autumn", "2026-spring", "2026-autumn", ...]`` for ``first_year=2025``.
    """
    out = []
    for k in range(n):
        year = first_year + (k + 1) // 2
        out.append(f"{year}-{'autumn' if k % 2 == 0 else 'spring'}")
    return out


def _universities(n: int) -> list[tuple[str, str, str, float, tuple[str, ...]]]:
    """The first ``n`` universities, cycling through the list with suffixes 2, 3, ..."""
    out = []
    for k in range(n):
        cycle, j = divmod(k, len(UNIVERSITIES))
        uid, name, city, weight, disc = UNIVERSITIES[j]
        if cycle:
            uid, name = f"{uid}{cycle + 1}", f"{name} (synthetic campus {cycle + 1})"
            weight *= 0.5
        out.append((uid, name, city, weight, disc))
    return out


def _ids(prefix: str, n: int, width: int) -> list[str]:
    """``prefix`` + 1-based zero-padded numbers."""
    w = max(width, len(str(n)))
    return [f"{prefix}{k:0{w}d}" for k in range(1, n + 1)]


def _join_codes(mask: BoolArray, codes: npt.NDArray[Any]) -> list[str]:
    """For each row of a boolean matrix, the ``;``-joined codes of its true columns."""
    return [";".join(codes[row]) for row in mask]


def _top_k(keys: FloatArray, k: IntArray) -> BoolArray:
    """Per row, mark the ``k[row]`` columns with the largest keys (ties by column)."""
    order = np.argsort(-keys, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(keys.shape[1])[None, :].repeat(len(keys), 0), 1)
    return np.asarray(ranks < k[:, None])


def _gumbel_keys(rng: np.random.Generator, weights: FloatArray) -> FloatArray:
    """Keys whose top-k is a weighted sample without replacement (zero weight: never)."""
    with np.errstate(divide="ignore"):
        logw = np.log(weights)
    return np.asarray(logw + rng.gumbel(size=weights.shape))


def _capacities(rng: np.random.Generator, n: int, target_total: int) -> IntArray:
    """Right-skewed capacities in ``1..12`` whose sum is as close to ``target_total`` as fits."""
    target_total = int(min(max(target_total, n), n * _MAX_CAPACITY))
    mean_extra = target_total / n - 1.0
    raw = rng.gamma(2.0, max(mean_extra, 1e-9) / 2.0, size=n)
    cap = np.clip(1 + np.floor(raw + 0.5), 1, _MAX_CAPACITY).astype(np.int64)
    for _ in range(64):  # nudge by +-1 at random workstations until the total matches
        diff = target_total - int(cap.sum())
        if diff == 0:
            break
        room = np.flatnonzero(cap < _MAX_CAPACITY) if diff > 0 else np.flatnonzero(cap > 1)
        if len(room) == 0:
            break
        pick = rng.choice(room, size=min(abs(diff), len(room)), replace=False)
        cap[pick] += 1 if diff > 0 else -1
    return cap


def _yaml_str(s: str) -> str:
    """A YAML scalar for ``s``: bare when safe, else double-quoted."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", s) and not re.fullmatch(r"[0-9._-]+", s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8, ``\\n`` line endings, no index."""
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def generate_scenario(
    out_dir: str | Path,
    *,
    students: int,
    workstations: int,
    universities: int = 8,
    seed: int = 0,
    name: str | None = None,
    terms: int = 6,
    preferences_only: bool = False,
    with_pairs: bool = True,
    capacity_share: float = 0.55,
    given_supervisor_share: float = 0.5,
    same_block: bool = False,
    min_intake_share: float = 0.0,
    segment_share: float = 0.0,
    group_share: float = 0.0,
    tie_share: float = 0.0,
) -> Path:
    """Write a synthetic, province-shaped scenario folder.

    Parameters
    ----------
    out_dir
        Folder to write; created if missing. Files of the scenario format that this call does
        not write (for instance a stale ``pairs.csv`` or ``locks.csv``) are removed, so the
        folder holds exactly the generated scenario.
    students
        Number of students (>= 1).
    workstations
        Number of workstations (>= 1).
    universities
        Number of universities (>= 1), taken from the real Heilongjiang list in order and
        cycled with numeric suffixes beyond its length.
    seed
        Seed of ``numpy.random.default_rng``; the same arguments give byte-identical files.
    name
        Scenario name; default ``synthetic-<students>x<workstations>-s<seed>``.
    terms
        Number of terms (>= 2), labelled ``2025-autumn, 2026-spring, ...``. The practice window
        is the third term to the last (the whole calendar when ``terms < 4``).
    preferences_only
        Value of ``policy.preferences_only`` in ``scenario.yaml``.
    with_pairs
        Write ``pairs.csv`` with existing supervisor-mentor collaborations.
    capacity_share
        Target total workstation capacity per term as a share of ``students`` (each
        workstation's capacity stays within 1-12, which caps what can be reached).
    given_supervisor_share
        Share of students whose campus supervisor is given in ``students.csv`` (the others are
        left to the solver).
    same_block
        A *capacitated-assignment province* (issue 27): every student needs the same block,
        the last two terms (the practice window is those two, and 12 months for everyone,
        work experience or not), and no mentor limit can bind (each workstation's mentors
        take all its categories, with room for its capacity in every term). Such a problem is
        an assignment with capacities, solved exactly by a min-cost flow. The other draws are
        the same as without it.
    min_intake_share, segment_share, group_share, tie_share
        The rules of issue 28 (all 0 by default, which writes exactly what the generator always
        wrote): the share of workstations with a ``min_intake`` (2 or 3, at most their capacity),
        of students allowed two segments (``max_segments`` 2, drawn among the 12-month
        students so that the share is of all students), of students in groups of two or
        three (same university and discipline, the first member's list for all), and of lists
        of two or more choices with one tie (two neighbours joined by ``=``). They draw from
        their own random stream, so the rest of the cohort is the same as without them.

    Returns
    -------
    Path
        The scenario folder.

    Raises
    ------
    ValueError
        When a count is out of range.

    Notes
    -----
    Structure (all synthetic apart from the university names, cities and category codes):

    - total workstation capacity per term is about ``capacity_share`` x ``students`` (capped at
      12 per workstation); a 12-month student covers two of the four window terms, so with the
      default 0.55 places are tight but mostly sufficient;
    - every workstation category is covered by at least one of its mentors; mentor capacities
      (1-4 per term) add up to about the workstation's capacity, so some mentors bind;
    - every (university, category) with students has supervisors with at least 1.3 x as many
      places as students; given supervisors never exceed their capacity;
    - preferences list only workstations that accept the student's category and university,
      weighted by a Zipf-like popularity (boosted for the university's city and partners).
    """
    if students < 1 or workstations < 1 or universities < 1:
        raise ValueError("students, workstations and universities must each be at least 1")
    if not capacity_share > 0:
        raise ValueError("capacity_share must be positive")
    if not 0 <= given_supervisor_share <= 1:
        raise ValueError("given_supervisor_share must be between 0 and 1")
    if terms < 2:
        raise ValueError("terms must be at least 2 (a 12-month practice needs two 6-month terms)")
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    n_s, n_w = int(students), int(workstations)
    name = name or f"synthetic-{n_s}x{n_w}-s{seed}"
    term_list = term_labels(terms)
    w_first = 2 if terms >= 4 else 0
    window_terms = term_list[w_first:]
    if same_block:  # (the overrides and closed terms below then fall in these two)
        w_first = terms - 2
        window_terms = term_list[w_first:]

    codes = np.array([d[0] for d in DISCIPLINES])
    n_d = len(codes)
    d_share = np.array([d[2] for d in DISCIPLINES])
    d_index = {c: k for k, c in enumerate(codes)}

    # ---- universities -----------------------------------------------------------------------
    unis = _universities(universities)
    n_u = len(unis)
    uni_ids = np.array([u[0] for u in unis])
    city_names = [c[0] for c in CITIES]
    uni_city = np.array([city_names.index(u[2]) for u in unis])
    uni_weight = np.array([u[3] for u in unis])
    uni_disc = np.zeros((n_u, n_d), dtype=bool)
    for k, uni in enumerate(unis):
        uni_disc[k, [d_index[c] for c in uni[4]]] = True
    offered = uni_disc.any(axis=0)

    # ---- workstations -----------------------------------------------------------------------
    city_share = np.array([c[3] for c in CITIES])
    city_share = city_share / city_share.sum()
    w_city = rng.choice(len(CITIES), size=n_w, p=city_share)
    coords = np.array([[c[1], c[2]] for c in CITIES])[w_city] + rng.normal(0.0, 0.06, (n_w, 2))
    affinity = np.ones((len(CITIES), n_d))
    for k, c in enumerate(CITIES):
        for code, mult in c[4].items():
            affinity[k, d_index[code]] = mult
    w_ndisc = rng.choice(np.array([1, 2, 3]), size=n_w, p=[0.45, 0.40, 0.15])
    d_weight = d_share[None, :] * affinity[w_city] * np.where(offered, 1.0, 0.0)[None, :]
    w_disc = _top_k(_gumbel_keys(rng, d_weight), np.minimum(w_ndisc, int(offered.sum())))

    has_partner = (rng.random(n_w) < _PARTNER_SHARE) & (n_u > 1)
    n_partner = np.minimum(rng.integers(1, 4, size=n_w), n_u - 1)
    fits = (w_disc.astype(np.int64) @ uni_disc.T.astype(np.int64)) > 0  # (W, U)
    p_weight = uni_weight[None, :] * np.where(uni_city[None, :] == w_city[:, None], 2.0, 1.0)
    p_weight = p_weight * fits
    n_partner = np.where(has_partner, np.minimum(n_partner, fits.sum(axis=1)), 0)
    partner = _top_k(_gumbel_keys(rng, p_weight), n_partner)
    is_open: BoolArray = np.asarray(~partner.any(axis=1))

    # every category some university trains in is taken by at least one open workstation
    for dd in np.flatnonzero(offered).tolist():
        if (w_disc[:, dd] & is_open).any():
            continue
        cand = np.flatnonzero(is_open & (w_disc.sum(axis=1) < 3))
        if len(cand) == 0:
            cand = np.flatnonzero(w_disc.sum(axis=1) < 3)
        if len(cand) == 0:
            cand = np.arange(n_w)
        w = int(rng.choice(cand))
        partner[w] = False
        is_open[w] = True
        w_disc[w, dd] = True

    w_cap = _capacities(rng, n_w, round(capacity_share * n_s))
    w_ids = np.array(_ids("W", n_w, 4))

    # ---- mentors ----------------------------------------------------------------------------
    n_m_per = np.clip(np.ceil(w_cap / 4).astype(np.int64) + rng.integers(0, 2, size=n_w), 1, 4)
    m_ws = np.repeat(np.arange(n_w), n_m_per)
    n_m = len(m_ws)
    m_first = np.cumsum(n_m_per) - n_m_per
    m_pos = np.arange(n_m) - m_first[m_ws]  # mentor's index within its workstation
    m_count = n_m_per[m_ws]
    base = np.ceil(w_cap[m_ws] / m_count).astype(np.int64)
    m_cap = np.clip(base + rng.integers(-1, 2, size=n_m), 1, 4)
    # slot j = the workstation's j-th category; mentor i covers slot j if j % m == i or
    # i % k == j (so every slot and every mentor is covered), plus random extra slots
    k_disc = w_disc.sum(axis=1)
    n_slots = int(k_disc.max())
    slot_codes = np.sort(np.where(w_disc, np.arange(n_d)[None, :], n_d), axis=1)[:, :n_slots]
    j = np.arange(n_slots)[None, :]
    kk = k_disc[m_ws][:, None]
    covers = ((j % m_count[:, None]) == m_pos[:, None]) | (j == (m_pos[:, None] % kk))
    covers |= rng.random((n_m, n_slots)) < 0.35
    covers &= j < kk
    m_disc = np.zeros((n_m, n_d), dtype=bool)
    rows, cols = np.nonzero(covers)
    m_disc[rows, slot_codes[m_ws][rows, cols]] = True
    m_ids = [f"{w_ids[w]}-M{p + 1}" for w, p in zip(m_ws.tolist(), m_pos.tolist(), strict=True)]
    if same_block:
        # Mentors never bind: each takes every category of its workstation, and together they
        # have room for its capacity plus the largest override (+3) in every term.
        m_disc = w_disc[m_ws].copy()
        m_cap = np.ceil((w_cap[m_ws] + 3) / m_count).astype(np.int64)

    # ---- students ---------------------------------------------------------------------------
    s_uni = rng.choice(n_u, size=n_s, p=uni_weight / uni_weight.sum())
    sd_cdf = np.cumsum(uni_disc * d_share[None, :], axis=1)[s_uni]
    s_u = rng.random(n_s) * sd_cdf[:, -1]
    s_disc = np.minimum((s_u[:, None] >= sd_cdf).sum(axis=1), n_d - 1)
    bad = ~uni_disc[s_uni, s_disc]  # only on a floating-point edge: take the first category
    s_disc[bad] = np.argmax(uni_disc[s_uni[bad]], axis=1)
    r = rng.random(n_s)
    s_exp = np.where(r < 0.62, 0, np.where(r < 0.80, 1, 1 + rng.geometric(0.35, size=n_s)))
    s_exp = np.minimum(s_exp, 15)
    s_priority = np.round(np.clip(rng.normal(80.0, 8.0, size=n_s), 60.0, 100.0), 1)
    s_ids = _ids("S", n_s, 5)

    # ---- supervisors ------------------------------------------------------------------------
    group = s_uni * n_d + s_disc  # (university, category) of each student
    n_group = np.bincount(group, minlength=n_u * n_d)
    g_offered = uni_disc.reshape(-1)
    need = np.where(g_offered, np.ceil(_SUPERVISOR_SLACK * n_group), 0).astype(np.int64)
    n_sup_g = np.where(g_offered, np.maximum(1, np.ceil(need / 5.0)), 0).astype(np.int64)
    sup_g = np.repeat(np.arange(n_u * n_d), n_sup_g)
    sup_cap = rng.integers(2, 9, size=len(sup_g))
    short = np.maximum(need - np.bincount(sup_g, weights=sup_cap, minlength=n_u * n_d), 0)
    extra = np.ceil(short / 8.0).astype(np.int64)
    sup_g = np.concatenate([sup_g, np.repeat(np.arange(n_u * n_d), extra)])
    sup_cap = np.concatenate([sup_cap, np.full(int(extra.sum()), 8)])
    order = np.argsort(sup_g, kind="stable")
    sup_g, sup_cap = sup_g[order], sup_cap[order]
    n_sup = len(sup_g)
    sup_uni, sup_main = np.divmod(sup_g, n_d)
    sup_disc = np.zeros((n_sup, n_d), dtype=bool)
    sup_disc[np.arange(n_sup), sup_main] = True
    # about 20 % also supervise a second category of their university
    second_w = uni_disc[sup_uni] & ~sup_disc
    has_second = (rng.random(n_sup) < 0.2) & second_w.any(axis=1)
    second = _top_k(_gumbel_keys(rng, second_w.astype(np.float64)), has_second.astype(np.int64))
    sup_disc |= second
    sup_rank = np.arange(n_sup) - np.searchsorted(sup_uni, sup_uni)  # index within university
    sup_ids = np.array([f"{uni_ids[u]}-S{k + 1:03d}"
                        for u, k in zip(sup_uni.tolist(), sup_rank.tolist(), strict=True)])

    # given supervisors: fill shuffled capacity slots of the student's (university, category)
    given = rng.random(n_s) < given_supervisor_share
    slot_sup = np.repeat(np.arange(n_sup), sup_cap)
    slot_order = np.lexsort((rng.random(len(slot_sup)), sup_g[slot_sup]))
    slot_sup = slot_sup[slot_order]
    slot_start = np.searchsorted(sup_g[slot_sup], np.arange(n_u * n_d))
    g_students = np.flatnonzero(given)
    g_sorted = g_students[np.argsort(group[g_students], kind="stable")]
    g_grp = group[g_sorted]
    g_rank = np.arange(len(g_sorted)) - np.searchsorted(g_grp, g_grp)
    s_sup = np.full(n_s, "", dtype=object)
    s_sup[g_sorted] = sup_ids[slot_sup[slot_start[g_grp] + g_rank]]

    # ---- preferences ------------------------------------------------------------------------
    popularity = 1.0 / (rng.permutation(n_w) + 1.0) ** _ZIPF_EXPONENT
    s_len = rng.choice(_MAX_PREFERENCES + 1, size=n_s, p=_PREF_LENGTH_P)
    prefs = np.full(n_s, "", dtype=object)
    groups_present = np.flatnonzero(n_group)
    members_sorted = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[members_sorted], groups_present)
    for gi, g in enumerate(groups_present.tolist()):
        gu, gd = divmod(g, n_d)
        members = members_sorted[bounds[gi]:bounds[gi] + n_group[g]]
        eligible = np.flatnonzero(w_disc[:, gd] & (is_open | partner[:, gu]))
        if len(eligible) == 0:
            continue
        weight = popularity[eligible] * np.where(w_city[eligible] == uni_city[gu], 1.6, 1.0)
        weight = weight * np.where(partner[eligible, gu], 2.5, 1.0)
        p = weight / weight.sum()
        lengths = np.minimum(s_len[members], len(eligible))
        draws = np.searchsorted(np.cumsum(p), rng.random((len(members), _CANDIDATE_DRAWS)))
        draws = np.minimum(draws, len(eligible) - 1)
        # keep each row's first occurrences, in draw order (= sampling without replacement)
        srt = np.argsort(draws, axis=1, kind="stable")
        sv = np.take_along_axis(draws, srt, axis=1)
        first_sorted = np.ones_like(sv, dtype=bool)
        first_sorted[:, 1:] = sv[:, 1:] != sv[:, :-1]
        keep = np.empty_like(first_sorted)
        np.put_along_axis(keep, srt, first_sorted, axis=1)
        keep &= np.cumsum(keep, axis=1) <= lengths[:, None]
        got = keep.sum(axis=1)
        row_ids = eligible[draws].astype(np.int64)
        rr, cc = np.nonzero(keep)
        chosen = w_ids[row_ids[rr, cc]]
        cuts = np.cumsum(got)[:-1]
        lists = [";".join(x) for x in np.split(chosen, cuts)]
        for t in np.flatnonzero(got < lengths).tolist():  # rare: too few distinct draws
            pick = rng.choice(len(eligible), size=int(lengths[t]), replace=False, p=p)
            lists[t] = ";".join(w_ids[eligible[pick]])
        prefs[members] = lists

    # ---- closed terms and capacity overrides ------------------------------------------------
    n_closed = round(_CLOSED_SHARE * n_w)
    n_over = round(_OVERRIDE_SHARE * n_w)
    picked = rng.permutation(n_w)[: n_closed + n_over]
    wt_rows: list[tuple[int, int, int]] = []
    for rank, w in enumerate(picked.tolist()):
        if rank < n_closed:
            k = 1 if rng.random() < 0.7 or len(window_terms) < 2 else 2
            for t in rng.choice(len(window_terms), size=k, replace=False).tolist():
                wt_rows.append((w, w_first + t, 0))
        else:
            t = int(rng.integers(len(window_terms)))
            delta = int(rng.choice(np.array([-2, -1, 1, 2, 3])))
            new = min(max(int(w_cap[w]) + delta, 1), _MAX_CAPACITY)
            if new == int(w_cap[w]):
                new = max(int(w_cap[w]) - 1, 0)
            wt_rows.append((w, w_first + t, new))
    wt_rows.sort()

    # ---- supervisor-mentor collaborations ---------------------------------------------------
    pair_rows: list[tuple[str, str, int]] = []
    if with_pairs:
        sup_by_disc = [np.flatnonzero(sup_disc[:, d]) for d in range(n_d)]
        n_pairs = round(_PAIR_SHARE * n_m)
        seen: set[tuple[int, int]] = set()
        for m in rng.permutation(n_m)[:n_pairs].tolist():
            w = int(m_ws[m])
            md = int(rng.choice(np.flatnonzero(m_disc[m])))
            cand = sup_by_disc[md]
            if not is_open[w]:
                cand = cand[partner[w, sup_uni[cand]]]
            if len(cand) == 0:
                continue
            s = int(rng.choice(cand))
            if (s, m) in seen:
                continue
            seen.add((s, m))
            pair_rows.append((str(sup_ids[s]), m_ids[m], int(rng.integers(1, 4))))
        pair_rows.sort()

    # ---- the rules of issue 28 (their own random stream: the cohort above is unchanged) -------
    rules = _Rules(np.random.default_rng([seed, 28]), n_s, n_w)
    w_min = rules.min_intakes(min_intake_share, w_cap)
    s_segments = rules.segments(segment_share, s_exp < 2)
    group_rows = rules.groups(group_share, s_uni, s_disc, s_ids, prefs)
    prefs = rules.ties(tie_share, prefs)

    # ---- write ------------------------------------------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    for f in _SCENARIO_FILES:
        (out / f).unlink(missing_ok=True)
    (out / "scenario.yaml").write_text(
        _scenario_yaml(name, term_list, window_terms, preferences_only, seed,
                       n_s, n_w, n_u, same_block), encoding="utf-8", newline="\n")
    _write_csv(pd.DataFrame({
        "student_id": s_ids,
        "university_id": uni_ids[s_uni],
        "discipline": codes[s_disc],
        "work_experience_years": s_exp,
        "preferences": prefs,
        "supervisor_id": s_sup,
        "priority": np.char.mod("%.1f", s_priority),
        **({"max_segments": s_segments} if s_segments is not None else {}),
    }), out / "students.csv")
    _write_csv(pd.DataFrame({
        "workstation_id": w_ids,
        "disciplines": _join_codes(w_disc, codes),
        "capacity": w_cap,
        "partner_universities": _join_codes(partner, uni_ids),
        "city": np.array(city_names)[w_city],
        "lat": np.char.mod("%.4f", coords[:, 0]),
        "lon": np.char.mod("%.4f", coords[:, 1]),
        **({"min_intake": w_min} if w_min is not None else {}),
    }), out / "workstations.csv")
    _write_csv(pd.DataFrame({
        "mentor_id": m_ids,
        "workstation_id": w_ids[m_ws],
        "disciplines": _join_codes(m_disc, codes),
        "capacity": m_cap,
    }), out / "mentors.csv")
    _write_csv(pd.DataFrame({
        "supervisor_id": sup_ids,
        "university_id": uni_ids[sup_uni],
        "disciplines": _join_codes(sup_disc, codes),
        "capacity": sup_cap,
    }), out / "supervisors.csv")
    _write_csv(pd.DataFrame({
        "university_id": uni_ids,
        "name": [u[1] for u in unis],
        "city": [u[2] for u in unis],
    }), out / "universities.csv")
    if wt_rows:
        _write_csv(pd.DataFrame({
            "workstation_id": [str(w_ids[w]) for w, _, _ in wt_rows],
            "term": [term_list[t] for _, t, _ in wt_rows],
            "capacity": [c for _, _, c in wt_rows],
        }), out / "workstation_terms.csv")
    if pair_rows:
        _write_csv(pd.DataFrame(pair_rows, columns=["supervisor_id", "mentor_id", "weight"]),
                   out / "pairs.csv")
    if group_rows:
        _write_csv(pd.DataFrame(group_rows, columns=["group_id", "student_id"]),
                   out / "groups.csv")
    return out


class _Rules:
    """Draws the rules of issue 28 for :func:`generate_scenario` (each share 0: nothing)."""

    def __init__(self, rng: np.random.Generator, n_s: int, n_w: int):
        self.rng, self.n_s, self.n_w = rng, n_s, n_w

    def min_intakes(self, share: float, w_cap: IntArray) -> list[str] | None:
        """``min_intake`` cells: 2 or 3 (at most the capacity, and at least 2) for a share."""
        if share <= 0:
            return None
        picked = self.rng.random(self.n_w) < share
        value = np.minimum(self.rng.integers(2, 4, size=self.n_w), np.maximum(w_cap, 2))
        return [str(v) if p else "" for p, v in zip(picked.tolist(), value.tolist(),
                                                    strict=True)]

    def segments(self, share: float, splittable: BoolArray) -> list[str] | None:
        """``max_segments`` cells: 2 for a share of the students, drawn among those whose
        practice can be split (12 months: two terms)."""
        if share <= 0:
            return None
        among = max(float(splittable.mean()), 1e-9)
        picked = (self.rng.random(self.n_s) < min(1.0, share / among)) & splittable
        return ["2" if x else "" for x in picked.tolist()]

    def groups(self, share: float, s_uni: IntArray, s_disc: IntArray, s_ids: list[str],
               prefs: Any) -> list[tuple[str, str]]:
        """Groups of 2 or 3 students of one university and discipline (about ``share`` of the
        students), each member given the first member's list; rows of ``groups.csv``."""
        if share <= 0:
            return []
        pool: dict[tuple[int, int], list[int]] = {}
        for i in self.rng.permutation(self.n_s).tolist():
            pool.setdefault((int(s_uni[i]), int(s_disc[i])), []).append(i)
        target = round(share * self.n_s)
        rows: list[tuple[str, str]] = []
        placed = count = 0
        for key in sorted(pool):
            members = pool[key]
            while placed < target and len(members) >= 2:
                size = 3 if len(members) >= 3 and self.rng.random() < 0.4 else 2
                chosen, members[:] = members[:size], members[size:]
                count += 1
                for i in sorted(chosen):
                    rows.append((f"G{count:05d}", s_ids[i]))
                    prefs[i] = prefs[min(chosen)]
                placed += size
        return rows

    def ties(self, share: float, prefs: Any) -> Any:
        """One tie (two neighbours joined by ``=``) in a share of the lists of two or more."""
        if share <= 0:
            return prefs
        out = prefs.copy()
        for i, text in enumerate(prefs.tolist()):
            items = text.split(";") if text else []
            if len(items) >= 2 and self.rng.random() < share:
                k = int(self.rng.integers(len(items) - 1))
                items[k:k + 2] = [f"{items[k]}={items[k + 1]}"]
                out[i] = ";".join(items)
        return out


def _scenario_yaml(name: str, term_list: list[str], window_terms: list[str],
                   preferences_only: bool, seed: int, n_s: int, n_w: int, n_u: int,
                   same_block: bool = False) -> str:
    """The text of ``scenario.yaml``, with comments."""
    return "\n".join([
        f"# Synthetic cohort written by matcher.generate: {n_s} students, {n_w} workstations,",
        f"# {n_u} universities, generator seed {seed}. Universities, cities and discipline codes",
        "# are real (Heilongjiang); students, enterprises, mentors and supervisors are synthetic.",
        f"name: {_yaml_str(name)}",
        f"terms: [{', '.join(term_list)}]  # calendar order",
        "term_months: 6                     # months of practice one term counts for",
        "policy:",
        "  practice_months: 12              # students with under experienced_years of work",
        ("  experienced_practice_months: 12  # everyone needs the same two terms"
         if same_block else
         "  experienced_practice_months: 6   # students with at least experienced_years of work"),
        "  experienced_years: 2",
        f"  window: [{window_terms[0]}, {window_terms[-1]}]"
        "   # first and last term a placement may cover",
        f"  preferences_only: {'true' if preferences_only else 'false'}"
        "          # true: only workstations on the student's own list",
        "objective:",
        "  pair_weight: true                # level 3: reward supervisor-mentor pairs in pairs.csv",
        "solver: {time_limit_s: 60, seed: 0, workers: 2}   # defaults; CLI flags override",
        "",
    ])
