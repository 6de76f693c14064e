"""Tests of the ``da`` and ``flow`` baselines against hand-derived answers, textbook
algorithms, the ``matching`` library, brute force and networkx.

References here share no code with the solvers: the textbook deferred acceptance, the stable
matching enumerator and the fixed-size brute force read the :class:`~matcher.model.Problem`
fields directly; the networkx check re-solves the very graph the flow solver built.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import networkx as nx
from brute import Search, brute_force, station_capacity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching.games import HospitalResident
from strategies import examples, problems, tiny_problems

import matcher
from matcher.check import blocking_pairs
from matcher.encoding import encode
from matcher.model import (
    Lock,
    Mentor,
    ObjectiveSettings,
    Policy,
    Problem,
    Ranking,
    Result,
    Status,
    Student,
    Supervisor,
    TermCapacity,
    University,
    Workstation,
)
from matcher.solvers import EXACT, names
from matcher.solvers.flow import build_graph, relaxation

SETTINGS: dict[str, Any] = {"deadline": None,
                            "suppress_health_check": [HealthCheck.too_slow]}


def _solve(problem: Problem, solver: str) -> Result:
    return matcher.solve(problem, solver=solver, time_limit_s=10, seed=0, workers=1)


def _check_ok(problem: Problem, result: Result) -> matcher.CheckReport:
    """Run the independent checker and require a clean report."""
    report = matcher.check(problem, result)
    assert report.ok, report.violations
    return report


def _matching(result: Result) -> dict[str, str]:
    return {p.student_id: p.workstation_id for p in result.placements}


# ---- hospitals/residents problems, from the spec ----------------------------------------------
def _hr_problem(terms: int, stations: list[tuple[str, int]],
                students: list[tuple[str, float, tuple[str, ...]]],
                rankings: list[tuple[str, str, int]] | None = None,
                term_caps: list[tuple[str, int, int]] | None = None,
                preferences_only: bool = True, unis: int = 1) -> Problem:
    """A problem that reduces to hospitals/residents: every student needs every term, one
    discipline, mentors and supervisors that never bind."""
    many = max(len(students), 1)
    rankings, term_caps = rankings or [], term_caps or []
    term_ids = tuple(f"T{k}" for k in range(terms))
    uni_ids = [f"U{u}" for u in range(unis)]
    return Problem(
        name="hr", terms=term_ids, policy=Policy(preferences_only=preferences_only),
        objective=ObjectiveSettings(pair_weight=False),
        students=tuple(Student(student_id=sid, university_id=uni_ids[k % unis],
                               discipline="0854", work_experience_years=0,
                               required_months=6 * terms, preferences=prefs, priority=prio)
                       for k, (sid, prio, prefs) in enumerate(students)),
        workstations=tuple(Workstation(workstation_id=w, disciplines=("0854",), capacity=c)
                           for w, c in stations),
        mentors=tuple(Mentor(mentor_id=f"{w}-M", workstation_id=w, disciplines=("0854",),
                             capacity=many) for w, _c in stations),
        supervisors=tuple(Supervisor(supervisor_id=f"{u}-P", university_id=u,
                                     disciplines=("0854",), capacity=many) for u in uni_ids),
        universities=tuple(University(university_id=u) for u in uni_ids),
        term_capacities=tuple(TermCapacity(workstation_id=w, term=term_ids[t], capacity=c)
                              for w, t, c in term_caps),
        rankings=tuple(Ranking(workstation_id=w, student_id=s, rank=r) for w, s, r in rankings))


@st.composite
def hr_problems(draw: Any, max_students: int = 7, max_stations: int = 4,
                preferences_only: bool | None = True) -> Problem:
    """Random hospitals/residents problems: 1–3 terms that every student needs in full,
    per-term capacity overrides, priorities with ties, partial ``rankings.csv``."""
    terms = draw(st.integers(1, 3))
    n_ws = draw(st.integers(1, max_stations))
    stations = [(f"W{j}", draw(st.integers(0, 3))) for j in range(n_ws)]
    ws_ids = [w for w, _c in stations]
    n_st = draw(st.integers(1, max_students))
    students = [(f"S{i}", float(draw(st.integers(0, 3))),
                 tuple(draw(st.lists(st.sampled_from(ws_ids), unique=True, max_size=n_ws))))
                for i in range(n_st)]
    term_caps = [(w, t, draw(st.integers(0, 3))) for w in ws_ids for t in range(terms)
                 if draw(st.integers(0, 3)) == 0]
    rankings = []
    for w in ws_ids:
        ranked = draw(st.lists(st.sampled_from([s for s, _p, _l in students]), unique=True))
        rankings += [(w, s, r) for r, s in enumerate(ranked, start=1)]
    pref_only = draw(st.booleans()) if preferences_only is None else preferences_only
    return _hr_problem(terms, stations, students, rankings, term_caps, pref_only,
                       unis=draw(st.integers(1, 2)))


def _capacity(p: Problem) -> dict[str, int]:
    """Places per workstation when every student needs every term: the smallest term."""
    cap = station_capacity(p)
    return {w.workstation_id: min(cap[w.workstation_id, k] for k in range(len(p.terms)))
            for w in p.workstations}


def _station_key(p: Problem) -> Any:
    """The spec's workstation order: rankings.csv, then priority (higher first), then id."""
    own = {(r.workstation_id, r.student_id): r.rank for r in p.rankings}
    prio = {s.student_id: s.priority for s in p.students}

    def key(w: str, s: str) -> tuple[Any, ...]:
        return (0, own[w, s], -prio[s], s) if (w, s) in own else (1, 0, -prio[s], s)

    return key


def _acceptable(p: Problem) -> dict[str, list[str]]:
    cap = _capacity(p)
    return {s.student_id: [w for w in s.preferences if cap[w] > 0] for s in p.students}


def textbook_da(p: Problem) -> dict[str, str]:
    """Student-proposing deferred acceptance, as in the textbooks (a queue of free students)."""
    cap, key, prefs = _capacity(p), _station_key(p), _acceptable(p)
    held: dict[str, list[str]] = {w: [] for w in cap}
    nxt = dict.fromkeys(prefs, 0)
    free = sorted(prefs)
    while free:
        s = free.pop()
        if nxt[s] >= len(prefs[s]):
            continue
        w = prefs[s][nxt[s]]
        nxt[s] += 1
        held[w].append(s)
        held[w].sort(key=lambda x: key(w, x))
        if len(held[w]) > cap[w]:
            free.append(held[w].pop())
    return {s: w for w, ss in held.items() for s in ss}


def library_da(p: Problem) -> dict[str, str]:
    """The ``matching`` library's resident-optimal solution of the same game."""
    cap, key, prefs = _capacity(p), _station_key(p), _acceptable(p)
    residents = {s: ws for s, ws in prefs.items() if ws}
    hospitals = {w: sorted((s for s, ws in residents.items() if w in ws),
                           key=lambda s, w=w: key(w, s)) for w in cap}
    hospitals = {w: ss for w, ss in hospitals.items() if ss}
    if not residents:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        game = HospitalResident.create_from_dictionaries(
            residents, hospitals, {w: cap[w] for w in hospitals})
        solution = game.solve(optimal="resident")
    return {r.name: h.name for h, rs in solution.items() for r in rs}


def stable_matchings(p: Problem) -> list[dict[str, str]]:
    """Every stable matching, by enumeration (tiny problems only)."""
    cap, key, prefs = _capacity(p), _station_key(p), _acceptable(p)
    sids = sorted(prefs)
    out = []
    for combo in itertools.product(*[[None, *prefs[s]] for s in sids]):
        m = {s: w for s, w in zip(sids, combo, strict=True) if w is not None}
        load = {w: [s for s in m if m[s] == w] for w in cap}
        if any(len(load[w]) > cap[w] for w in cap):
            continue
        blocking = any(
            len(load[w]) < cap[w] or any(key(w, s) < key(w, t) for t in load[w])
            for s in sids
            for w in prefs[s][:prefs[s].index(m[s]) if s in m else len(prefs[s])])
        if not blocking:
            out.append(m)
    return out


# ---- da on hospitals/residents -----------------------------------------------------------------
def test_da_hand_built_student_optimal() -> None:
    """On a hand-solved hospitals/residents case da returns the student-optimal matching.

    A and B each take one student; A ranks S2 over S1 and B ranks S1 over S2 (rankings.csv),
    while S1 prefers A and S2 prefers B: both {S1-A, S2-B} and {S1-B, S2-A} are stable and the
    student-optimal one is the first. S3 (top priority, unranked) wants A then C; A keeps its
    ranked S1, so S3 goes to C. S4 wants C, which holds two. S5 wants B only and is rejected.
    """
    p = _hr_problem(1, [("A", 1), ("B", 1), ("C", 2)], [
        ("S1", 0, ("A", "B")), ("S2", 0, ("B", "A")), ("S3", 9, ("A", "C")),
        ("S4", 1, ("C",)), ("S5", 5, ("B",))],
        rankings=[("A", "S2", 1), ("A", "S1", 2), ("B", "S1", 1), ("B", "S2", 2)])
    result = _solve(p, "da")
    assert result.status == Status.FEASIBLE
    assert _matching(result) == {"S1": "A", "S2": "B", "S3": "C", "S4": "C"}
    assert blocking_pairs(p, result) == []
    _check_ok(p, result)


def test_da_hand_built_priority_chain() -> None:
    """Priority alone (no rankings.csv) drives a rejection chain, as worked out by hand.

    Priorities S1 > S2 > S3 > S4; one place each at X and Y. S4 takes X, S3 takes X from it;
    S4 moves to Y; S2 takes Y from S4 (S4 has no more choices); S1 takes X from S3, who moves
    to Y and is refused (S2 is above S3). Result: S1-X, S2-Y; S3 and S4 unplaced.
    """
    p = _hr_problem(1, [("X", 1), ("Y", 1)], [
        ("S1", 4, ("X",)), ("S2", 3, ("Y", "X")), ("S3", 2, ("X", "Y")), ("S4", 1, ("X", "Y"))])
    result = _solve(p, "da")
    assert _matching(result) == {"S1": "X", "S2": "Y"}
    assert blocking_pairs(p, result) == []
    _check_ok(p, result)


@settings(max_examples=examples(60, 150), **SETTINGS)
@given(hr_problems())
def test_da_is_textbook_and_library_da(problem: Problem) -> None:
    """On hospitals/residents problems da equals textbook DA and the matching library's
    resident-optimal solution, and has no blocking pair."""
    result = _solve(problem, "da")
    assert result.status == Status.FEASIBLE
    expected = textbook_da(problem)
    assert _matching(result) == expected
    assert library_da(problem) == expected
    assert blocking_pairs(problem, result) == []
    _check_ok(problem, result)


@settings(max_examples=examples(30, 80), **SETTINGS)
@given(hr_problems(max_students=5, max_stations=3))
def test_da_is_student_optimal_among_all_stable(problem: Problem) -> None:
    """da's matching is stable and every student likes it at least as well as any stable
    matching found by enumeration (the definition of student-optimal)."""
    result = _solve(problem, "da")
    got = _matching(result)
    stable = stable_matchings(problem)
    assert got in stable
    prefs = _acceptable(problem)

    def rank(s: str, m: dict[str, str]) -> int:
        return prefs[s].index(m[s]) if s in m else len(prefs[s])

    for other in stable:
        assert all(rank(s, got) <= rank(s, other) for s in prefs), other


@settings(max_examples=examples(30, 80), **SETTINGS)
@given(hr_problems(preferences_only=False))
def test_da_off_list_scramble_keeps_stability(problem: Problem) -> None:
    """Without preferences_only, da places the textbook matching and then fills free places
    off the lists, still with no blocking pair."""
    result = _solve(problem, "da")
    got = _matching(result)
    expected = textbook_da(problem)
    assert {s: w for s, w in got.items() if s in expected} == expected
    listed = {s.student_id: s.preferences for s in problem.students}
    assert all(w not in listed[s] for s, w in got.items() if s not in expected)
    assert blocking_pairs(problem, result) == []
    _check_ok(problem, result)


# ---- da and flow on general problems -------------------------------------------------------------
@settings(max_examples=examples(60, 150), **SETTINGS)
@given(tiny_problems())
def test_baselines_keep_every_rule(problem: Problem) -> None:
    """On tiny general problems (terms, mentors, supervisors, locks) da and flow pass the
    checker, never beat the brute-force optimum, and claim OPTIMAL/INFEASIBLE only truly."""
    optimum = brute_force(problem)
    for solver in ("da", "flow"):
        result = _solve(problem, solver)
        if optimum is None:
            assert result.status in (Status.INFEASIBLE, Status.UNKNOWN), solver
            assert not result.placements
            continue
        assert result.status != Status.INFEASIBLE, solver
        _check_ok(problem, result)
        assert result.placed <= optimum.placed
        assert len(result.placements) + len(result.unassigned) == len(problem.students)
        if result.status == Status.OPTIMAL:
            assert solver == "flow"
            assert (result.placed, result.rank_cost) == (optimum.placed, optimum.rank_cost)
            assert math.isclose(result.pair_weight, optimum.pair_weight, abs_tol=1e-6)


@settings(max_examples=examples(25, 60), **SETTINGS)
@given(problems(max_students=12, max_workstations=4, max_locks=3))
def test_baselines_check_on_larger_problems(problem: Problem) -> None:
    """On larger generated problems da and flow pass the checker and honour every lock, and
    flow's bounds hold for its own allocation."""
    for solver in ("da", "flow"):
        result = _solve(problem, solver)
        if result.status in (Status.INFEASIBLE, Status.UNKNOWN):
            assert problem.locks and not result.placements
            continue
        _check_ok(problem, result)
        placed = {pl.student_id for pl in result.placements}
        assert {lk.student_id for lk in problem.locks} <= placed


# ---- flow bounds ---------------------------------------------------------------------------------
def min_rank_cost_by_placed(p: Problem) -> dict[int, int]:
    """For every achievable number placed, the least rank cost (enumeration; locks kept).

    A memoised search over (student, loads so far): the loads decide what the remaining
    students can still do.
    """
    sr = Search.of(p)
    memo: dict[tuple[Any, ...], dict[int, int]] = {}

    def rest(i: int, loads: frozenset[tuple[Any, int]]) -> dict[int, int]:
        """Least cost of students i.. by how many of them are placed."""
        if i == len(sr.students):
            return {0: 0}
        state = (i, loads)
        if state in memo:
            return memo[state]
        out: dict[int, int] = {}
        for o in sr.options[i]:
            after = dict(loads)
            if not sr.fits(after, o):
                continue
            sr.take(after, o, +1)
            for n, c in rest(i + 1, frozenset(after.items())).items():
                out[n + 1] = min(out.get(n + 1, c + o.cost), c + o.cost)
        if sr.students[i].student_id not in sr.locked:
            for n, c in rest(i + 1, loads).items():
                out[n] = min(out.get(n, c), c)
        memo[state] = out
        return out

    return rest(0, frozenset())


@settings(max_examples=examples(80, 200), **SETTINGS)
@given(tiny_problems())
def test_flow_bounds_never_violated(problem: Problem) -> None:
    """The relaxation's bounds hold for every allocation: nobody places more than placed_ub,
    and for each count placed no allocation costs less than rank_lb_at(count)."""
    relax = relaxation(encode(problem))
    by_placed = min_rank_cost_by_placed(problem)
    if not by_placed:
        return  # the locks cannot be honoured: nothing to bound
    assert max(by_placed) <= relax.placed_ub
    for placed, cost in by_placed.items():
        assert relax.rank_lb_at(placed) <= cost, placed
    optimum = brute_force(problem)
    assert optimum is not None and optimum.placed == max(by_placed)
    if optimum.placed == relax.placed_ub:
        assert relax.rank_lb <= optimum.rank_cost
    result = _solve(problem, "flow")
    assert result.placed_upper_bound == relax.placed_ub
    assert result.rank_cost_lower_bound == relax.rank_lb_at(result.placed)


@settings(max_examples=examples(40, 100), **SETTINGS)
@given(hr_problems(max_students=5, max_stations=3, preferences_only=None))
def test_flow_exact_on_capacitated_assignment(problem: Problem) -> None:
    """Where the problem is a capacitated assignment (every student needs every term, mentors
    and supervisors never bind) flow proves its allocation OPTIMAL, equal to brute force."""
    optimum = brute_force(problem)
    assert optimum is not None
    result = _solve(problem, "flow")
    assert result.status == Status.OPTIMAL, result.message
    assert (result.placed, result.rank_cost) == (optimum.placed, optimum.rank_cost)
    assert result.placed_upper_bound == optimum.placed
    assert result.rank_cost_lower_bound == optimum.rank_cost
    _check_ok(problem, result)


def test_flow_exact_with_binding_supervisors() -> None:
    """Supervisors are modelled exactly: one supervisor for two students leaves one out.

    Two students of one university want A (room for two); the only supervisor takes one, so
    one student is placed at rank 1: placed 1, rank cost 1, proven.
    """
    p = _hr_problem(1, [("A", 2)], [("S1", 0, ("A",)), ("S2", 0, ("A",))])
    p = p.model_copy(update={"supervisors": (p.supervisors[0].model_copy(
        update={"capacity": 1}),)})
    result = _solve(p, "flow")
    assert (result.status, result.placed, result.rank_cost) == (Status.OPTIMAL, 1, 1)
    assert (result.placed_upper_bound, result.rank_cost_lower_bound) == (1, 1)
    _check_ok(p, result)


# ---- the graph against networkx ------------------------------------------------------------------
def _nx_graph(problem: Problem) -> tuple[nx.DiGraph, Any]:
    g = build_graph(encode(problem))
    pairs = list(zip(g.tails, g.heads, strict=True))
    assert len(set(pairs)) == len(pairs), "parallel arcs: a DiGraph would merge them"
    graph = nx.DiGraph()
    graph.add_nodes_from(range(g.n_nodes))
    for t, h, c, w in zip(g.tails, g.heads, g.capacities, g.costs, strict=True):
        graph.add_edge(t, h, capacity=c, weight=w)
    return graph, g


@settings(max_examples=examples(40, 100), **SETTINGS)
@given(problems(max_students=10, max_workstations=4))
def test_flow_matches_networkx(problem: Problem) -> None:
    """networkx's max-flow-min-cost on the same graph gives the same placed bound and cost,
    and its min-cost flow of each smaller value the same rank_lb_at."""
    graph, _g = _nx_graph(problem)
    relax = relaxation(encode(problem))
    flow = nx.max_flow_min_cost(graph, 0, 1)
    value = sum(flow[0][v] for v in flow[0])
    assert value == relax.placed_ub
    assert nx.cost_of_flow(graph, flow) == relax.rank_lb
    for placed in range(max(relax.placed_ub - 2, 1), relax.placed_ub):
        demands = nx.DiGraph(graph)
        demands.nodes[0]["demand"] = -placed
        demands.nodes[1]["demand"] = placed
        assert nx.min_cost_flow_cost(demands) == relax.rank_lb_at(placed)


# ---- locks, registry, determinism ----------------------------------------------------------------
def test_conflicting_locks_are_proven_infeasible() -> None:
    """Two locks on a one-place workstation cannot both hold: da and flow say INFEASIBLE,
    name the locked students and place nobody."""
    p = _hr_problem(1, [("A", 1), ("B", 1)], [("S1", 0, ("A",)), ("S2", 0, ("A",))])
    p = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields},
                   "locks": (Lock(student_id="S1", workstation_id="A"),
                             Lock(student_id="S2", workstation_id="A"))})
    for solver in ("da", "flow"):
        result = _solve(p, solver)
        assert result.status == Status.INFEASIBLE
        assert not result.placements and "locks.csv rows 1, 2" in result.message
        _check_ok(p, result)


def test_locks_come_first() -> None:
    """A locked student keeps its place even against a higher-priority student who wants it."""
    p = _hr_problem(1, [("A", 1), ("B", 1)], [("S1", 9, ("A",)), ("S2", 0, ("B", "A"))])
    p = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields},
                   "locks": (Lock(student_id="S2", workstation_id="A"),)})
    for solver in ("da", "flow"):
        result = _solve(p, solver)
        assert _matching(result) == {"S2": "A"}, solver
        _check_ok(p, result)


def test_registered_and_honest() -> None:
    """Both solvers are registered; flow may claim OPTIMAL (it proves it), da may not."""
    assert {"da", "flow"} <= set(names())
    assert "flow" in EXACT and "da" not in EXACT


def test_tiny_scenario_and_determinism() -> None:
    """On scenarios/tiny both run from the library, pass the checker, keep flow's bounds
    (at most the known optimum of 5 placed), and repeat themselves exactly."""
    from pathlib import Path

    problem = matcher.load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "tiny")
    for solver in ("da", "flow"):
        first, second = _solve(problem, solver), _solve(problem, solver)
        _check_ok(problem, first)
        assert first.placements == second.placements
        assert first.placed <= 5
    flow = _solve(problem, "flow")
    assert flow.placed_upper_bound is not None and flow.placed_upper_bound >= 5
    assert flow.rank_cost_lower_bound is not None and flow.rank_cost_lower_bound <= 7


def _greedy_by_the_docstring(enc: Any) -> dict[int, tuple[int, int, int, int]]:
    """Serial dictatorship as its docstring states it, with no shortcut: in priority order
    (locked first), every option in cost order, then start; the first with room in every term
    for the workstation and some mentor, and a supervisor with room, is taken."""
    ws = [list(c) for c in enc.ws_cap]
    ms = [[c] * enc.n_terms for c in enc.m_cap]
    ss = list(enc.s_cap)
    chosen = {}
    order = sorted(range(enc.n_students), key=lambda i: (
        enc.st_lock[i] is None, -enc.st_priority[i], enc.student_ids[i]))
    for i in order:
        sups = [s for s in enc.supervisors_for(i) if ss[s] > 0]
        lock = enc.st_lock[i]
        for w, k in sorted(enc.options(i), key=lambda o: (enc.cost(i, o[0]), o)):
            block = range(k, k + enc.st_block[i])
            mentors = [lock[1]] if lock is not None and lock[1] >= 0 else enc.mentors_for(
                w, enc.st_disc[i])
            fits = [m for m in mentors if all(ms[m][t] > 0 for t in block)]
            if sups and fits and all(ws[w][t] > 0 for t in block):
                for t in block:
                    ws[w][t] -= 1
                    ms[fits[0]][t] -= 1
                ss[sups[0]] -= 1
                chosen[i] = (w, fits[0], sups[0], k)
                break
    return chosen


@settings(max_examples=examples(60, 150), deadline=None, suppress_health_check=list(HealthCheck))
@given(problems(max_students=14, max_workstations=4))
def test_greedy_equals_its_docstring(problem: Problem) -> None:
    """The greedy's speed-up (a workstation found full for a profile is not tried again: room
    only shrinks) changes nothing: the allocation equals the plain reading of its rule."""
    from matcher.solvers.greedy import serial_dictatorship

    enc = encode(problem)
    assert serial_dictatorship(enc)[0] == _greedy_by_the_docstring(enc)
