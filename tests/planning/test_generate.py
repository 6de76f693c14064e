"""Tests of the synthetic-cohort generator (:mod:`matcher.planning.generate`).

The generated folders are checked with plain ``csv``/``pandas``/``yaml`` reading, independently
of the project's loader, against every rule of the scenario format.
"""

from __future__ import annotations

import filecmp
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from matcher.planning.generate import generate_scenario

REPO = Path(__file__).resolve().parents[2]
CODES = {f"08{k}" for k in range(54, 62)}
REQUIRED = {
    "students.csv": ["student_id", "university_id", "discipline", "work_experience_years",
                     "preferences", "supervisor_id"],
    "workstations.csv": ["workstation_id", "disciplines", "capacity", "partner_universities"],
    "mentors.csv": ["mentor_id", "workstation_id", "disciplines", "capacity"],
    "supervisors.csv": ["supervisor_id", "university_id", "disciplines", "capacity"],
}


def _read(folder: Path, name: str) -> pd.DataFrame:
    """Read a CSV as strings, empty cells as ''."""
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def _split(cell: str) -> list[str]:
    """A ``;``-separated cell as a list."""
    return [x for x in cell.split(";") if x]


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def check_scenario(folder: Path) -> dict[str, pd.DataFrame]:
    """Assert every rule of the scenario format on a folder; return its tables."""
    for name in _files(folder):
        raw = (folder / name).read_bytes()
        raw.decode("utf-8")  # UTF-8
        assert not raw.startswith(b"\xef\xbb\xbf"), name
        assert b"\r" not in raw, name
        assert raw.endswith(b"\n"), name
    assert not (folder / "locks.csv").exists() and not (folder / "rankings.csv").exists()

    cfg = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    assert set(cfg) <= {"name", "terms", "term_months", "policy", "solver", "objective",
                        "description"}
    terms = [str(t) for t in cfg["terms"]]
    assert len(terms) == len(set(terms)) >= 2
    tix = {t: k for k, t in enumerate(terms)}
    pol = cfg["policy"]
    assert cfg["term_months"] == 6
    assert (pol["practice_months"], pol["experienced_practice_months"],
            pol["experienced_years"]) == (12, 6, 2)
    first, last = (tix[str(t)] for t in pol["window"])
    assert first <= last and last == len(terms) - 1
    assert cfg["solver"] == {"time_limit_s": 60, "seed": 0, "workers": 2}

    t = {name: _read(folder, name) for name in REQUIRED}
    for name, cols in REQUIRED.items():
        assert list(t[name].columns[: len(cols)]) == cols, name
        assert len(t[name]) > 0, name
    stu, ws, men, sup = (t[n] for n in REQUIRED)
    unis = _read(folder, "universities.csv")
    for frame, col in ((stu, "student_id"), (ws, "workstation_id"), (men, "mentor_id"),
                       (sup, "supervisor_id"), (unis, "university_id")):
        assert frame[col].is_unique and (frame[col] != "").all(), col
    uni_ids = set(unis.university_id)

    # workstations
    w_disc = {r.workstation_id: _split(r.disciplines) for r in ws.itertuples()}
    w_part = {r.workstation_id: _split(r.partner_universities) for r in ws.itertuples()}
    w_cap = dict(zip(ws.workstation_id, ws.capacity.astype(int), strict=True))
    for w in w_disc:
        assert w_disc[w] and len(set(w_disc[w])) == len(w_disc[w]) and set(w_disc[w]) <= CODES
        assert len(set(w_part[w])) == len(w_part[w]) <= 3 and set(w_part[w]) <= uni_ids
        assert 1 <= w_cap[w] <= 12
    assert ws.lat.astype(float).between(43, 54).all()
    assert ws.lon.astype(float).between(121, 135).all()

    # mentors: 1-4 per workstation, non-empty subsets covering the workstation's disciplines
    covered: dict[str, set[str]] = {w: set() for w in w_disc}
    for r in men.itertuples():
        d = _split(r.disciplines)
        assert r.workstation_id in w_disc and d and set(d) <= set(w_disc[r.workstation_id])
        assert 1 <= int(r.capacity) <= 4
        covered[r.workstation_id] |= set(d)
    assert all(covered[w] == set(w_disc[w]) for w in w_disc)
    assert men.workstation_id.value_counts().between(1, 4).all()

    # supervisors
    s_disc = {r.supervisor_id: set(_split(r.disciplines)) for r in sup.itertuples()}
    s_uni = dict(zip(sup.supervisor_id, sup.university_id, strict=True))
    s_cap = dict(zip(sup.supervisor_id, sup.capacity.astype(int), strict=True))
    assert set(sup.university_id) <= uni_ids
    assert all(s_disc[s] and s_disc[s] <= CODES and 2 <= s_cap[s] <= 8 for s in s_disc)

    # students
    given: Counter[str] = Counter()
    room: Counter[tuple[str, str]] = Counter()
    for s, ds in s_disc.items():
        for code in ds:
            room[s_uni[s], code] += s_cap[s]
    for r in stu.itertuples():
        assert r.university_id in uni_ids and r.discipline in CODES
        assert room[r.university_id, r.discipline] > 0  # the university supervises it
        years = float(r.work_experience_years)
        assert years >= 0
        assert 60 <= float(r.priority) <= 100
        need = math.ceil((6 if years >= 2 else 12) / 6)
        assert last - first + 1 >= need
        prefs = _split(r.preferences)
        assert len(prefs) <= 10 and len(set(prefs)) == len(prefs)
        for w in prefs:
            assert r.discipline in w_disc[w]
            assert not w_part[w] or r.university_id in w_part[w]
        if r.supervisor_id:
            assert s_uni[r.supervisor_id] == r.university_id
            assert r.discipline in s_disc[r.supervisor_id]
            given[r.supervisor_id] += 1
    assert all(given[s] <= s_cap[s] for s in given)
    demand = Counter(zip(stu.university_id, stu.discipline, strict=True))
    assert all(room[k] >= n for k, n in demand.items())

    # optional tables
    if (folder / "workstation_terms.csv").exists():
        wt = _read(folder, "workstation_terms.csv")
        assert list(wt.columns) == ["workstation_id", "term", "capacity"] and len(wt) > 0
        assert set(wt.workstation_id) <= set(w_disc) and set(wt.term) <= set(terms)
        assert not wt.duplicated(["workstation_id", "term"]).any()
        assert (wt.capacity.astype(int) >= 0).all()
    if (folder / "pairs.csv").exists():
        pr = _read(folder, "pairs.csv")
        assert list(pr.columns) == ["supervisor_id", "mentor_id", "weight"] and len(pr) > 0
        assert set(pr.supervisor_id) <= set(s_disc) and set(pr.mentor_id) <= set(men.mentor_id)
        assert not pr.duplicated(["supervisor_id", "mentor_id"]).any()
        assert pr.weight.astype(int).between(1, 3).all()
    return {**t, "universities.csv": unis}


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    """The same arguments write byte-identical files, whatever the output folder."""
    a = generate_scenario(tmp_path / "a", students=800, workstations=60, seed=7)
    b = generate_scenario(tmp_path / "b", students=800, workstations=60, seed=7)
    assert _files(a) == _files(b)
    match, mismatch, errors = filecmp.cmpfiles(a, b, _files(a), shallow=False)
    assert not mismatch and not errors and len(match) == len(_files(a))


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    """Another seed gives another cohort (students, workstations and mentors all differ)."""
    a = generate_scenario(tmp_path / "a", students=800, workstations=60, seed=7)
    b = generate_scenario(tmp_path / "b", students=800, workstations=60, seed=8)
    for name in ("students.csv", "workstations.csv", "mentors.csv"):
        assert (a / name).read_bytes() != (b / name).read_bytes(), name


@pytest.mark.parametrize(
    ("students", "workstations", "universities", "terms", "seed"),
    [
        (3000, 200, 8, 6, 0),
        (500, 40, 20, 6, 1),  # more universities than the real list: suffixed ids
        (200, 15, 3, 4, 2),
        (60, 5, 2, 2, 3),  # two terms: the window is the whole calendar
        (1, 1, 1, 3, 4),
        (25, 3, 15, 5, 5),
    ],
)
def test_every_rule_of_the_format_holds(tmp_path: Path, students: int, workstations: int,
                                        universities: int, terms: int, seed: int) -> None:
    """Ids are unique, every reference resolves and every rule of the format holds."""
    out = generate_scenario(tmp_path / "s", students=students, workstations=workstations,
                            universities=universities, terms=terms, seed=seed)
    t = check_scenario(out)
    assert len(t["students.csv"]) == students and len(t["workstations.csv"]) == workstations
    assert len(t["universities.csv"]) == universities
    assert t["universities.csv"].university_id.iloc[0] == "HIT"


def test_options_are_written_to_the_scenario(tmp_path: Path) -> None:
    """name, terms and preferences_only reach scenario.yaml; with_pairs=False drops pairs.csv
    (also removing a stale one left by an earlier run in the same folder)."""
    out = generate_scenario(tmp_path / "s", students=300, workstations=30, seed=3)
    assert (out / "pairs.csv").exists()
    out = generate_scenario(tmp_path / "s", students=300, workstations=30, seed=3, terms=8,
                            name="my scenario", preferences_only=True, with_pairs=False)
    cfg = yaml.safe_load((out / "scenario.yaml").read_text(encoding="utf-8"))
    assert cfg["name"] == "my scenario" and cfg["policy"]["preferences_only"] is True
    assert cfg["terms"][0] == "2025-autumn" and cfg["terms"][-1] == "2029-spring"
    assert cfg["policy"]["window"] == ["2026-autumn", "2029-spring"]
    assert not (out / "pairs.csv").exists()
    check_scenario(out)


def test_capacity_and_given_supervisor_shares(tmp_path: Path) -> None:
    """capacity_share sets total capacity per term; given_supervisor_share the given supervisors."""
    out = generate_scenario(tmp_path / "s", students=1000, workstations=80, seed=4,
                            capacity_share=0.3, given_supervisor_share=0.0)
    t = check_scenario(out)
    assert t["workstations.csv"].capacity.astype(int).sum() == 300
    assert (t["students.csv"].supervisor_id == "").all()
    out = generate_scenario(tmp_path / "s", students=1000, workstations=80, seed=4,
                            given_supervisor_share=1.0)
    assert (check_scenario(out)["students.csv"].supervisor_id != "").all()


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    """Counts below 1, fewer than two terms and shares out of range raise ValueError and
    write nothing."""
    cases: list[dict[str, Any]] = [
        {"students": 0, "workstations": 5},
        {"students": 5, "workstations": 0},
        {"students": 5, "workstations": 5, "universities": 0},
        {"students": 5, "workstations": 5, "terms": 1},
        {"students": 5, "workstations": 5, "capacity_share": 0.0},
        {"students": 5, "workstations": 5, "given_supervisor_share": 1.5},
    ]
    for kwargs in cases:
        with pytest.raises(ValueError):
            generate_scenario(tmp_path / "bad", **kwargs)
    assert not (tmp_path / "bad").exists()


def test_structure_is_believable(tmp_path: Path) -> None:
    """Shares and skews match the intended shape: 0854/0855 most common, ~20 % experienced,
    ~half with a given supervisor, ~40 % partner workstations, capacity ~0.55 x students,
    Harbin the busiest city, and a popularity skew (a few workstations oversubscribed, many
    wanted by nobody as first choice)."""
    out = generate_scenario(tmp_path / "s", students=6000, workstations=400, seed=11)
    t = check_scenario(out)
    stu, ws = t["students.csv"], t["workstations.csv"]
    top = stu.discipline.value_counts().index[:2]
    assert set(top) == {"0854", "0855"}
    assert 0.16 < (stu.work_experience_years.astype(float) >= 2).mean() < 0.24
    assert 0.45 < (stu.supervisor_id != "").mean() < 0.55
    assert 0.33 < (ws.partner_universities != "").mean() < 0.47
    assert abs(ws.capacity.astype(int).sum() - 0.55 * len(stu)) <= 1
    assert ws.city.value_counts().index[0] == "Harbin"
    lengths = stu.preferences.map(lambda x: len(_split(x)))
    assert lengths.max() == 10 and (lengths == 0).any()
    first = stu.preferences.map(lambda x: x.split(";")[0]).loc[lengths > 0].value_counts()
    pressure = (first.reindex(ws.workstation_id).fillna(0)
                / ws.set_index("workstation_id").capacity.astype(int))
    assert (pressure > 3).sum() >= 5  # a few heavily oversubscribed
    assert (pressure < 0.5).mean() > 0.4  # many under-used


def test_ten_thousand_students_generate_in_seconds(tmp_path: Path) -> None:
    """10,000 students and 500 workstations generate in well under five seconds."""
    start = time.perf_counter()
    out = generate_scenario(tmp_path / "s", students=10_000, workstations=500, seed=5)
    assert time.perf_counter() - start < 5.0
    assert sum(1 for _ in (out / "students.csv").open(encoding="utf-8")) == 10_001


def test_committed_demo_is_reproducible(tmp_path: Path) -> None:
    """scenarios/heilongjiang-demo is exactly what scenarios/make_demo.py's call generates, and
    it keeps every rule of the format."""
    demo = REPO / "scenarios" / "heilongjiang-demo"
    out = generate_scenario(tmp_path / "demo", students=2000, workstations=150,
                            universities=12, seed=2026, name="heilongjiang-demo")
    names = _files(out)
    assert [n for n in _files(demo) if n != "README.md"] == names
    _, mismatch, errors = filecmp.cmpfiles(demo, out, names, shallow=False)
    assert not mismatch and not errors
    check_scenario(demo)
