"""Tests of ``cpsat --stable``: the best allocation with no blocking pair (justified envy).

The reference is a brute-force enumeration written here from the definition in docs/solvers.md and
in :func:`matcher.check.blocking_pairs` (it shares no code with the solver or the checker, only
the per-student options of :mod:`brute`): every allocation's workstations and starts, the
stable ones kept, the best by (placed, rank cost), then mentors and supervisors for the best
pair weight.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from brute import Option, Search
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import examples, tiny_problems

import matcher
from matcher.check import blocking_pairs
from matcher.cli import cli
from matcher.model import (
    Lock,
    Mentor,
    Policy,
    Problem,
    Ranking,
    Result,
    SolverSettings,
    Status,
    Student,
    Supervisor,
    University,
    Workstation,
)

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"

Slot = tuple[str, int]  # (workstation, start term index)


# ---- the brute-force reference ----------------------------------------------------------------
def _station_key(p: Problem) -> Any:
    """(workstation, student) -> sort key, lower is better: rankings.csv, else priority, id."""
    explicit = {(rk.workstation_id, rk.student_id): rk.rank for rk in p.rankings}
    prio = {s.student_id: s.priority for s in p.students}

    def key(wid: str, sid: str) -> tuple[Any, ...]:
        own = explicit.get((wid, sid))
        return (0, own, "") if own is not None else (1, -prio[sid], sid)

    return key


def spec_blocking(p: Problem, slots: dict[str, Slot], sr: Search) -> list[tuple[str, str]]:
    """Blocking pairs of an allocation given as student -> (workstation, start), by the spec."""
    key = _station_key(p)
    stations = {w.workstation_id: w for w in p.workstations}
    holders: dict[tuple[str, int], list[str]] = defaultdict(list)
    for s in sr.students:
        if s.student_id in slots:
            wid, k = slots[s.student_id]
            for t in range(k, k + p.block_terms(s)):
                holders[wid, t].append(s.student_id)
    out = []
    for s in sr.students:
        sid = s.student_id
        here = slots.get(sid)
        better = (s.preferences[:s.preferences.index(here[0])]
                  if here is not None and here[0] in s.preferences else s.preferences)
        n, (first, last) = p.block_terms(s), p.window(s)
        for wid in better:
            ws = stations[wid]
            if s.discipline not in ws.disciplines or (
                    ws.partner_universities and s.university_id not in ws.partner_universities):
                continue
            blocks = [range(k, k + n) for k in range(first, last - n + 2)]
            if any(all(sr.ws_cap[wid, t] > 0 for t in b) and all(
                    len(holders[wid, t]) < sr.ws_cap[wid, t]
                    or any(key(wid, j) > key(wid, sid) for j in holders[wid, t]) for t in b)
                   for b in blocks):
                out.append((sid, wid))
    return out


def stable_optimum(p: Problem) -> tuple[int, int, float] | None:
    """(placed, rank cost, pair weight) of the best allocation with no blocking pair, or None.

    Enumerates every (workstation, start) per student that keeps the workstation capacities,
    keeps the stable ones and, best (placed, rank cost) first, looks for mentors and supervisors
    (the best pair weight among the stable allocations of that quality).
    """
    sr = Search.of(p)
    students = sr.students
    by_slot: list[dict[Slot, list[Option]]] = []
    for opts in sr.options:
        groups: dict[Slot, list[Option]] = defaultdict(list)
        for o in opts:
            groups[o.workstation, o.start].append(o)
        by_slot.append(dict(groups))
    load: dict[tuple[str, int], int] = defaultdict(int)
    chosen: dict[str, Slot] = {}
    found: list[tuple[int, int, dict[str, Slot]]] = []

    def enumerate_slots(i: int) -> None:
        if i == len(students):
            if not spec_blocking(p, chosen, sr):
                cost = sum(by_slot[j][chosen[s.student_id]][0].cost
                           for j, s in enumerate(students) if s.student_id in chosen)
                found.append((len(chosen), cost, dict(chosen)))
            return
        sid = students[i].student_id
        for (wid, k), opts in by_slot[i].items():
            terms = opts[0].terms
            if all(load[wid, t] < sr.ws_cap[wid, t] for t in terms):
                for t in terms:
                    load[wid, t] += 1
                chosen[sid] = (wid, k)
                enumerate_slots(i + 1)
                del chosen[sid]
                for t in terms:
                    load[wid, t] -= 1
        if sid not in sr.locked:
            enumerate_slots(i + 1)

    def best_weight(slots: dict[str, Slot]) -> float | None:
        """Mentors and supervisors for these slots: the best pair weight, None if none fit."""
        placed = [j for j, s in enumerate(students) if s.student_id in slots]
        res: dict[tuple[Any, ...], int] = {}
        best: list[float | None] = [None]

        def dfs(n: int, weight: float) -> None:
            if n == len(placed):
                best[0] = weight if best[0] is None else max(best[0], weight)
                return
            j = placed[n]
            for o in by_slot[j][slots[students[j].student_id]]:
                if sr.fits(res, o):
                    sr.take(res, o, +1)
                    dfs(n + 1, weight + o.weight)
                    sr.take(res, o, -1)

        dfs(0, 0.0)
        return best[0]

    enumerate_slots(0)
    tiers: dict[tuple[int, int], list[dict[str, Slot]]] = defaultdict(list)
    for placed, cost, slots in found:
        tiers[placed, cost].append(slots)
    for placed, cost in sorted(tiers, key=lambda pc: (-pc[0], pc[1])):
        weights = [w for w in map(best_weight, tiers[placed, cost]) if w is not None]
        if weights:
            return placed, cost, max(weights)
    return None


# ---- hand-built scenarios -----------------------------------------------------------------------
def market(terms: tuple[str, ...], capacities: dict[str, int],
           students: list[tuple[str, tuple[str, ...], float, int, str, str]], *,
           preferences_only: bool, rankings: dict[str, list[str]] | None = None) -> Problem:
    """One university and discipline, mentors and supervisors that never bind.

    ``students`` rows are ``(id, preferences, priority, months, window_start, window_end)``;
    ``rankings`` gives a workstation's order of students (best first) for ``rankings.csv``.
    """
    n = len(students)
    return Problem(
        name="hand-built", terms=terms, term_months=6,
        policy=Policy(preferences_only=preferences_only),
        solver=SolverSettings(time_limit_s=10, seed=0, workers=2),
        students=tuple(Student(student_id=sid, university_id="U", discipline="0854",
                               work_experience_years=0, preferences=prefs, priority=prio,
                               required_months=months, window_start=ws, window_end=we)
                       for sid, prefs, prio, months, ws, we in students),
        workstations=tuple(Workstation(workstation_id=w, disciplines=("0854",), capacity=c)
                           for w, c in capacities.items()),
        mentors=tuple(Mentor(mentor_id=f"{w}-M", workstation_id=w, disciplines=("0854",),
                             capacity=n) for w in capacities),
        supervisors=(Supervisor(supervisor_id="P", university_id="U", disciplines=("0854",),
                                capacity=n),),
        universities=(University(university_id="U"),),
        rankings=tuple(Ranking(workstation_id=w, student_id=sid, rank=r)
                       for w, order in (rankings or {}).items()
                       for r, sid in enumerate(order, start=1)))


def _solve(p: Problem, **options: Any) -> Result:
    return matcher.solve(p, "cpsat", time_limit_s=10, seed=0, workers=2, **options)


def _stations(r: Result) -> dict[str, str]:
    return {pl.student_id: pl.workstation_id for pl in r.placements}


def test_stable_differs_from_the_unconstrained_optimum() -> None:
    """The plain optimum has a blocking pair; --stable gives the stable optimum, rank cost 4.

    One term, W1 and W2 with one place each. S1 (priority 90) lists W1, W2; S2 (priority 80)
    lists W1; off-list places cost K + 1 = 3. The plain optimum places both at rank cost 3
    (S2 at W1: 1, S1 at W2: 2), but W1 ranks S1 above S2 and S1 prefers W1: a blocking pair.
    Stable allocations put S1 at W1; the best of them sends S2 off its list to W2 (1 + 3 = 4),
    and S2 envies W1 without justification (W1 ranks S1 higher).
    """
    p = market(("T0",), {"W1": 1, "W2": 1},
               [("S1", ("W1", "W2"), 90.0, 6, "T0", "T0"),
                ("S2", ("W1",), 80.0, 6, "T0", "T0")], preferences_only=False)
    plain = _solve(p)
    assert (plain.status, plain.placed, plain.rank_cost) == (Status.OPTIMAL, 2, 3)
    assert blocking_pairs(p, plain) == [("S1", "W1")]

    stable = _solve(p, stable=True)
    assert (stable.status, stable.placed, stable.rank_cost) == (Status.OPTIMAL, 2, 4)
    assert _stations(stable) == {"S1": "W1", "S2": "W2"}
    assert matcher.check(p, stable).ok and blocking_pairs(p, stable) == []
    assert stable.stats["stable"] is True and stable.stats["blocking_pair_constraints"] > 0
    assert "no blocking pair" in stable.message


NO_STABLE = market(
    ("T0", "T1"), {"W0": 1, "W1": 1},
    [("A", ("W0", "W1"), 10.0, 6, "T1", "T1"),  # one term, in T1
     ("B", ("W1", "W0"), 20.0, 6, "T0", "T1"),  # one term, T0 or T1
     ("C", ("W1",), 30.0, 12, "T0", "T1"),      # both terms
     ("D", ("W0",), 40.0, 6, "T0", "T0")],      # one term, in T0
    preferences_only=True, rankings={"W0": ["D", "B", "A"], "W1": ["A", "C", "B"]})


def test_no_stable_allocation_is_infeasible() -> None:
    """Terms can rule out every stable allocation: --stable then says INFEASIBLE, and why.

    W0 and W1 have one place per term (T0, T1). D only wants W0 in T0 and W0 ranks D first, so
    D holds W0 in T0. C needs W1 for both terms; W1 ranks only A above C, and A can only take
    T1. If C is at W1, B (who prefers W1 but ranks below C there) must hold W0 in T1 (W0 ranks
    B above A), and then A, kept out of W0 by B, blocks with W1 (ranked above C, which holds
    T1). If C is not at W1, A must hold W1 in T1 (else C blocks), so B must hold W0 in T1
    (else A blocks with W0), and then B blocks with W1, free in T0. Every case has a blocking
    pair; the plain optimum exists and places everyone but one.
    """
    plain = _solve(NO_STABLE)
    assert plain.status == Status.OPTIMAL and plain.placed == 3
    assert blocking_pairs(NO_STABLE, plain)
    assert stable_optimum(NO_STABLE) is None

    r = _solve(NO_STABLE, stable=True)
    assert r.status == Status.INFEASIBLE and r.placed == 0
    assert r.message.startswith("no stable allocation exists")
    assert matcher.check(NO_STABLE, r).ok


def test_locks_that_rule_out_stability_are_named() -> None:
    """A lock can be what makes stability impossible: the message names its locks.csv row.

    Locking S2 at W1 in the first scenario leaves S1 (ranked higher by W1) a justified envy.
    """
    p = market(("T0",), {"W1": 1, "W2": 1},
               [("S1", ("W1", "W2"), 90.0, 6, "T0", "T0"),
                ("S2", ("W1",), 80.0, 6, "T0", "T0")], preferences_only=False)
    locked = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields},
                        "locks": (Lock(student_id="S2", workstation_id="W1"),)})
    r = _solve(locked, stable=True)
    assert r.status == Status.INFEASIBLE
    assert "locks.csv row 1" in r.message and r.stats["conflicting_locks"] == ["S2"]


# ---- generated problems against the brute force -------------------------------------------------
@st.composite
def ranked_problems(draw: Any) -> Problem:
    """Tiny problems (:func:`strategies.tiny_problems`) plus a few ``rankings.csv`` rows, with
    ranks from 1 to 3 so that equal explicit ranks (ties) occur."""
    p = draw(tiny_problems())
    cells = [(w.workstation_id, s.student_id) for w in p.workstations for s in p.students]
    picked = draw(st.lists(st.sampled_from(cells), unique=True, max_size=4))
    rankings = tuple(Ranking(workstation_id=w, student_id=s, rank=draw(st.integers(1, 3)))
                     for w, s in picked)
    return Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, "rankings": rankings})


@settings(max_examples=examples(120, 300), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(ranked_problems())
def test_stable_equals_the_brute_force_stable_optimum(p: Problem) -> None:
    """On generated problems the stable result is proven, passes the checker with no blocking
    pair, and equals the brute-force lexicographic optimum among allocations with no blocking
    pair; INFEASIBLE exactly when the brute force finds none."""
    ref = stable_optimum(p)
    r = _solve(p, stable=True)
    assert matcher.check(p, r).ok, matcher.check(p, r).violations
    if ref is None:
        assert r.status == Status.INFEASIBLE, (r.status, r.message)
        return
    assert r.status == Status.OPTIMAL, (r.status, r.message)
    assert blocking_pairs(p, r) == []
    assert (r.placed, r.rank_cost) == ref[:2]
    assert r.pair_weight == pytest.approx(ref[2], abs=0.01)
    assert (r.placed_upper_bound, r.rank_cost_lower_bound) == ref[:2]


def test_brute_force_blocking_agrees_with_the_checker() -> None:
    """The reference's blocking pairs are the checker's, on tiny's hand-derived optimum (which
    has two) and on its stable optimum (none)."""
    p = matcher.load_scenario(TINY)
    sr = Search.of(p)
    for r in (_solve(p), _solve(p, stable=True)):
        slots = {pl.student_id: (pl.workstation_id, p.terms.index(pl.start_term))
                 for pl in r.placements}
        assert spec_blocking(p, slots, sr) == blocking_pairs(p, r)
    assert blocking_pairs(p, _solve(p)) == [("S1", "W1"), ("S4", "W2")]


# ---- hospitals/residents ------------------------------------------------------------------------
@st.composite
def hospitals_residents(draw: Any) -> Problem:
    """One term, non-binding mentors and supervisors, preferences only, strict rankings."""
    n_w = draw(st.integers(1, 4))
    stations = [f"W{j}" for j in range(n_w)]
    n_s = draw(st.integers(1, 9))
    prios = draw(st.lists(st.integers(0, 1000), min_size=n_s, max_size=n_s, unique=True))
    students = [(f"S{i}", tuple(draw(st.lists(st.sampled_from(stations), unique=True,
                                              max_size=n_w))), float(prios[i]), 6, "T0", "T0")
                for i in range(n_s)]
    own = {w: draw(st.permutations([s[0] for s in students])) for w in stations
           if draw(st.booleans())}
    return market(("T0",), {w: draw(st.integers(0, 3)) for w in stations}, students,
                  preferences_only=True, rankings={w: list(order) for w, order in own.items()})


@settings(max_examples=examples(40, 100), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(hospitals_residents())
def test_hospitals_residents_matches_deferred_acceptance(p: Problem) -> None:
    """On hospitals/residents, every stable matching places the same students (rural hospitals
    theorem), and deferred acceptance's student-optimal one gives every student its best stable
    partner, so it has the least rank cost: --stable places exactly as many as da, with the
    same rank cost, and no blocking pair."""
    da = matcher.solve(p, "da")
    r = _solve(p, stable=True)
    assert r.status == Status.OPTIMAL
    assert blocking_pairs(p, da) == [] and blocking_pairs(p, r) == []
    assert (r.placed, r.rank_cost) == (da.placed, da.rank_cost)
    assert {pl.student_id for pl in r.placements} == {pl.student_id for pl in da.placements}


# ---- determinism and the command line -----------------------------------------------------------
def test_same_seed_same_allocation() -> None:
    """Same input, seed and workers give the same stable allocation."""
    rng = random.Random(7)
    rows = [(f"S{i}", tuple(rng.sample(["W0", "W1", "W2"], 2)), float(rng.randint(0, 99)),
             rng.choice([6, 12]), "T0", "T2") for i in range(10)]
    p = market(("T0", "T1", "T2"), {"W0": 2, "W1": 1, "W2": 2}, rows, preferences_only=False)
    first, second = _solve(p, stable=True), _solve(p, stable=True)
    assert first.status == Status.OPTIMAL
    assert first.placements == second.placements


def _run(*args: object) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_cli_stable_result_passes_the_stability_check(tmp_path: Path) -> None:
    """``matcher solve --solver cpsat --stable`` writes a result that ``matcher check
    --stability`` accepts with 0 blocking pairs (the plain optimum of tiny has 2)."""
    out = tmp_path / "out"
    r = _run("solve", TINY, "--out", out, "--solver", "cpsat", "--stable")
    assert r.exit_code == 0, r.output
    assert "no blocking pair" in r.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "OPTIMAL" and summary["stats"]["stable"] is True
    c = _run("check", TINY, out, "--stability")
    assert c.exit_code == 0, c.output
    assert "blocking pairs 0" in c.stdout and "ok: every rule holds" in c.stdout
    # The manifest records the mode, so matcher verify re-runs it stable too.
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["solver"]["options"] == {"stable": True}
    v = _run("verify", out)
    assert v.exit_code == 0 and v.stdout.splitlines()[1].startswith("verified"), v.output


def test_cli_stable_needs_cpsat(tmp_path: Path) -> None:
    """``--stable`` with another solver exits 2 with one line, writing nothing."""
    r = _run("solve", TINY, "--out", tmp_path / "out", "--solver", "greedy", "--stable")
    assert r.exit_code == 2
    assert r.stderr.splitlines() == ["error: --stable works only with --solver cpsat, not "
                                     "--solver greedy"]
    assert not (tmp_path / "out").exists()
