"""Tests of ``cpsat --stable``: the best allocation with no blocking pair (justified envy).

The reference is a brute force: every allocation (workstation, mentor, supervisor and terms per
student, every limit kept) enumerated by :mod:`brute`'s options, the ones with no blocking pair
under the checker's definition (:func:`matcher.fairness.blocking_pairs`, which the solver does
not use: it states the definition as constraints of its own) kept, the best by (placed, rank
cost, pair weight) taken.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from brute import Option, Search, brute_force
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import examples, tiny_problems

import matcher
from matcher.check import blocking_pairs
from matcher.cli import cli
from matcher.encoding import encode
from matcher.fairness import Held
from matcher.fairness import blocking_pairs as fairness_pairs
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
from matcher.solvers.base import SolverConfig, build_result
from matcher.solvers.stable_check import blocking, complete
from matcher.solvers.stable_serial import serial_stable

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


# ---- the brute-force reference ----------------------------------------------------------------
def held(o: Option) -> Held:
    """An option as the fairness measures see a placement."""
    split = any(b - a > 1 for a, b in zip(o.terms, o.terms[1:], strict=False))
    return Held(o.workstation, o.mentor, o.supervisor, o.terms[0], o.terms[-1],
                o.terms if split else ())


def stable_optimum(p: Problem) -> tuple[int, int, float] | None:
    """(placed, rank cost, pair weight) of the best allocation with no blocking pair, or None.

    Depth first over every student's options (and "unplaced" unless locked), every limit
    kept; a complete allocation that could beat the best stable one so far is checked for
    blocking pairs.
    """
    sr = Search.of(p)
    students, options = sr.students, sr.options
    load: dict[tuple[Any, ...], int] = {}
    rest_place = [0] * (len(students) + 1)
    rest_cost = [0] * (len(students) + 1)
    rest_weight = [0.0] * (len(students) + 1)
    for i in range(len(students) - 1, -1, -1):
        opts = options[i]
        rest_place[i] = rest_place[i + 1] + (1 if opts else 0)
        rest_cost[i] = rest_cost[i + 1] + (min(o.cost for o in opts) if opts else 0)
        rest_weight[i] = rest_weight[i + 1] + (max(o.weight for o in opts) if opts else 0.0)
    best: list[tuple[int, int, float] | None] = [None]
    chosen: dict[str, Option] = {}

    def key(v: tuple[int, int, float]) -> tuple[int, int, float]:
        return (v[0], -v[1], v[2])

    def dfs(i: int, placed: int, cost: int, weight: float) -> None:
        cur = best[0]
        if cur is not None and key((placed + rest_place[i], cost + rest_cost[i],
                                    weight + rest_weight[i] + 1e-9)) <= key(cur):
            return
        if i == len(students):
            if sr.coupled(chosen) and not fairness_pairs(
                    p, {sid: held(o) for sid, o in chosen.items()}):
                best[0] = (placed, cost, weight)
            return
        sid = students[i].student_id
        for o in options[i]:
            if sr.fits(load, o):
                sr.take(load, o, +1)
                chosen[sid] = o
                dfs(i + 1, placed + 1, cost + o.cost, weight + o.weight)
                del chosen[sid]
                sr.take(load, o, -1)
        if sid not in sr.locked:
            dfs(i + 1, placed, cost, weight)

    dfs(0, 0, 0, 0.0)
    return best[0]


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


def test_full_mentors_excuse_a_workstation_with_room() -> None:
    """A workstation with a free place whose only mentor is full of better students cannot
    take the student: no blocking pair (the strict definition says there is one, and no
    allocation escapes it).

    One term. W1 has two places and one mentor with one place; W2 one place. S1 (priority 90)
    lists W1; S2 (priority 80) lists W1 then W2. S1 takes W1's mentor, so S2 at W2 is stable.
    """
    p = market(("T0",), {"W1": 2, "W2": 1},
               [("S1", ("W1",), 90.0, 6, "T0", "T0"),
                ("S2", ("W1", "W2"), 80.0, 6, "T0", "T0")], preferences_only=True)
    p = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields},
                   "mentors": tuple(m.model_copy(update={"capacity": 1}) for m in p.mentors)})
    r = _solve(p, stable=True)
    assert (r.status, r.placed, r.rank_cost) == (Status.OPTIMAL, 2, 3)
    assert _stations(r) == {"S1": "W1", "S2": "W2"}
    assert blocking_pairs(p, r) == [] and blocking_pairs(p, r, "strict") == [("S2", "W1")]
    assert stable_optimum(p) == (2, 3, 0.0)
    assert matcher.check(p, r).ok


def test_a_full_supervisor_excuses_an_unplaced_student() -> None:
    """An unplaced student whose supervisor is full envies nobody: the only supervisor has one
    place, so one of the two students stays out, and the stable optimum keeps W1's place free
    for nobody else (S2 unplaced, W1 with room, no blocking pair)."""
    p = market(("T0",), {"W1": 2},
               [("S1", ("W1",), 90.0, 6, "T0", "T0"),
                ("S2", ("W1",), 80.0, 6, "T0", "T0")], preferences_only=True)
    p = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields},
                   "supervisors": tuple(x.model_copy(update={"capacity": 1})
                                        for x in p.supervisors)})
    r = _solve(p, stable=True)
    assert (r.status, r.placed, r.rank_cost) == (Status.OPTIMAL, 1, 1)
    assert blocking_pairs(p, r) == [] and stable_optimum(p) == (1, 1, 0.0)
    assert matcher.check(p, r).ok


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


def test_a_lock_is_never_envied() -> None:
    """A lock is the office's decision: locking S2 at W1 (which ranks S1 higher) leaves S1 no
    justified envy, so --stable keeps the lock and sends S1 to W2 (the strict definition would
    call this unstable)."""
    p = market(("T0",), {"W1": 1, "W2": 1},
               [("S1", ("W1", "W2"), 90.0, 6, "T0", "T0"),
                ("S2", ("W1",), 80.0, 6, "T0", "T0")], preferences_only=False)
    locked = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields},
                        "locks": (Lock(student_id="S2", workstation_id="W1"),)})
    r = _solve(locked, stable=True)
    assert (r.status, r.placed, r.rank_cost) == (Status.OPTIMAL, 2, 3)
    assert _stations(r) == {"S1": "W2", "S2": "W1"}
    assert blocking_pairs(locked, r) == [] and blocking_pairs(locked, r, "strict")
    assert matcher.check(locked, r).ok


def test_locks_that_cannot_all_be_honoured_are_named() -> None:
    """Two locks on W1's one place: INFEASIBLE, and the message names both locks.csv rows."""
    p = market(("T0",), {"W1": 1, "W2": 1},
               [("S1", ("W1", "W2"), 90.0, 6, "T0", "T0"),
                ("S2", ("W1",), 80.0, 6, "T0", "T0")], preferences_only=False)
    locked = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields},
                        "locks": (Lock(student_id="S1", workstation_id="W1"),
                                  Lock(student_id="S2", workstation_id="W1"))})
    r = _solve(locked, stable=True)
    assert r.status == Status.INFEASIBLE
    assert "conflicting locks: locks.csv rows 1, 2" in r.message
    assert r.stats["conflicting_locks"] == ["S1", "S2"]


# ---- generated problems against the brute force -------------------------------------------------
@st.composite
def ranked_problems(draw: Any) -> Problem:
    """Tiny problems (:func:`strategies.tiny_problems`, half of them with tied choices, vetoes
    and split practices) plus a few ``rankings.csv`` rows, with ranks from 1 to 3 so that equal
    explicit ranks (ties) occur."""
    p = draw(tiny_problems(rules=draw(st.booleans())))
    # (groups and minimum intakes are not held by the stable mode: it says so, see test_rules)
    p = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, "groups": (),
                   "workstations": tuple(w.model_copy(update={"min_intake": 0})
                                         for w in p.workstations)})
    if draw(st.booleans()):  # mentors with one place each, so that they bind
        p = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, "mentors": tuple(
            m.model_copy(update={"capacity": min(m.capacity, 1)}) for m in p.mentors)})
    cells = [(w.workstation_id, s.student_id) for w in p.workstations for s in p.students]
    picked = draw(st.lists(st.sampled_from(cells), unique=True, max_size=4))
    rankings = tuple(Ranking(workstation_id=w, student_id=s, rank=draw(st.integers(1, 3)))
                     for w, s in picked)
    return Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, "rankings": rankings})


@settings(max_examples=examples(60, 300), deadline=None, derandomize=True,
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
    assert r.stats.get("warm_violated_clauses", 0) == 0  # a stable start breaks no clause
    assert (r.placed, r.rank_cost) == ref[:2]
    assert r.pair_weight == pytest.approx(ref[2], abs=0.01)
    assert (r.placed_upper_bound, r.rank_cost_lower_bound) == ref[:2]


def test_tiny_stable_equals_the_brute_force() -> None:
    """On scenarios/tiny the plain optimum has blocking pairs; --stable is the brute force's
    stable optimum, proven, with none."""
    p = matcher.load_scenario(TINY)
    assert blocking_pairs(p, _solve(p))
    r = _solve(p, stable=True)
    assert r.status == Status.OPTIMAL and blocking_pairs(p, r) == []
    assert (r.placed, r.rank_cost) == stable_optimum(p)[:2]
    assert matcher.check(p, r).ok


@st.composite
def common_priority(draw: Any) -> Problem:
    """Tiny problems, some with the rules held by the stable mode, where every workstation
    ranks students by priority alone (no ``rankings.csv``)."""
    p = draw(tiny_problems(rules=draw(st.booleans())))
    return Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, "groups": (),
                      "rankings": (), "workstations": tuple(
                          w.model_copy(update={"min_intake": 0}) for w in p.workstations)})


@settings(max_examples=examples(25, 150), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(common_priority())
def test_a_common_priority_always_has_a_stable_allocation(p: Problem) -> None:
    """When the workstations rank by a common priority a stable allocation always exists
    (score first is one) whenever any allocation does: --stable is never INFEASIBLE, proves
    the brute force's optimum, and score first itself leaves no blocking pair; nor do the
    two-pass serial allocations."""
    ref = stable_optimum(p)
    r = _solve(p, stable=True)
    if brute_force(p) is None:  # the locks alone cannot be honoured: no allocation at all
        assert ref is None and r.status == Status.INFEASIBLE
        return
    assert ref is not None
    first = matcher.solve(p, "greedy", policy="priority")
    assert blocking_pairs(p, first) == []
    assert r.status == Status.OPTIMAL and blocking_pairs(p, r) == []
    assert (r.placed, r.rank_cost) == ref[:2]
    assert matcher.check(p, r).ok
    # The two-pass serial allocations (both orders of the off-list students) are stable too
    # (the checker, every rule), so no better than the best stable one.
    enc = encode(p)
    for last in (True, False):
        chosen = serial_stable(enc, off_list_last=last)
        if chosen is None:  # (locks this greedy pass cannot place)
            continue
        got = build_result(enc, "cpsat", Status.FEASIBLE, chosen, SolverConfig(), 0.0)
        assert matcher.check(p, got).ok and blocking_pairs(p, got) == []
        assert (got.placed, -got.rank_cost) <= (ref[0], -ref[1])


@settings(max_examples=examples(60, 300), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(ranked_problems(), st.randoms(use_true_random=False))
def test_the_solvers_blocking_pairs_are_the_checkers(p: Problem, rng: random.Random) -> None:
    """The solvers' own statement of justified envy (``stable_check.blocking``, how --stable
    picks a stable warm start) finds the checker's blocking pairs on random allocations."""
    sr = Search.of(p)
    load: dict[tuple[Any, ...], int] = {}
    alloc: dict[str, Option] = {}
    for s, opts in zip(sr.students, sr.options, strict=True):
        fit = [o for o in opts if sr.fits(load, o)]
        if fit and rng.random() < 0.8:
            o = rng.choice(fit)
            sr.take(load, o, +1)
            alloc[s.student_id] = o
    enc = encode(p)
    ix = {x: k for k, x in enumerate(enc.student_ids)}
    wx = {x: k for k, x in enumerate(enc.workstation_ids)}
    mx = {x: k for k, x in enumerate(enc.mentor_ids)}
    sx = {x: k for k, x in enumerate(enc.supervisor_ids)}
    chosen = {ix[sid]: (wx[o.workstation], mx[o.mentor], sx[o.supervisor],
                        enc.plan_index[o.terms] if held(o).terms else o.start)
              for sid, o in alloc.items()}
    got = [(enc.student_ids[i], enc.workstation_ids[w]) for i, w in blocking(enc, chosen)]
    want = fairness_pairs(p, {sid: held(o) for sid, o in alloc.items()})
    assert sorted(got) == sorted(want)
    assert bool(blocking(enc, chosen, first_only=True)) == bool(want)


@settings(max_examples=examples(40, 200), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(ranked_problems())
def test_completing_a_stable_allocation_keeps_it_stable(p: Problem) -> None:
    """Deferred acceptance's and score first's allocations, when stable, stay stable (the
    checker) once their unplaced students are placed where there is room (``complete``), and
    keep every rule."""
    enc = encode(p)
    for name, options in (("da", {}), ("greedy", {"policy": "priority"})):
        r = matcher.solve(p, name, **options)
        if r.status != Status.FEASIBLE or blocking_pairs(p, r):
            continue  # (locks that cannot all be honoured; an unstable start)
        chosen = enc.choices_from_ids({pl.student_id: (pl.workstation_id, pl.mentor_id,
                                                       pl.supervisor_id, ";".join(pl.terms))
                                       for pl in r.placements})
        assert len(chosen) == r.placed
        done = complete(enc, chosen)
        assert set(chosen.items()) <= set(done.items())
        result = build_result(enc, "cpsat", Status.FEASIBLE, done, SolverConfig(), 0.0)
        assert matcher.check(p, result).ok
        assert blocking_pairs(p, result) == []


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
