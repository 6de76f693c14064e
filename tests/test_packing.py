"""The shared heuristic bookkeeping of matcher.solvers.packing: local rank improvement."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from strategies import problems

from matcher import load_scenario
from matcher.check import check
from matcher.encoding import encode
from matcher.model import Problem
from matcher.result import Status
from matcher.solvers.base import SolverConfig, build_result
from matcher.solvers.greedy import serial_dictatorship
from matcher.solvers.packing import improve_rank, place_unplaced

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "heilongjiang-demo"


def _rank(enc, chosen) -> int:  # type: ignore[no-untyped-def]
    return sum(enc.cost(i, c[0]) for i, c in chosen.items())


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(problems(max_students=12, max_workstations=4))
def test_improve_rank_keeps_rules_and_placed_and_never_worsens(p: Problem) -> None:
    """From the greedy allocation, the local moves place exactly the same students, keep every
    rule (the independent checker) and never raise the rank cost."""
    enc = encode(p)
    start, failed = serial_dictatorship(enc)
    if failed:
        return
    better = improve_rank(enc, start, time.perf_counter() + 5)
    assert set(better) == set(start)
    assert _rank(enc, better) <= _rank(enc, start)
    result = build_result(enc, "test", Status.FEASIBLE, better, SolverConfig(), 0.0)
    assert check(p, result).violations == []


def test_improve_rank_gains_on_the_demo() -> None:
    """On the demo the moves lower the greedy allocation's rank cost (they can fail: a no-op
    would not pass)."""
    p = load_scenario(DEMO)
    enc = encode(p)
    start, _ = serial_dictatorship(enc)
    better = improve_rank(enc, start, time.perf_counter() + 30)
    assert _rank(enc, better) < _rank(enc, start)
    assert check(p, build_result(enc, "test", Status.FEASIBLE, better, SolverConfig(),
                                 0.0)).violations == []


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(problems(max_students=12, max_workstations=4))
def test_place_unplaced_keeps_rules_and_everyone_placed(p: Problem) -> None:
    """Augmenting moves keep every student placed before placed and every rule kept (the
    independent checker)."""
    enc = encode(p)
    start, failed = serial_dictatorship(enc)
    if failed:
        return
    more = place_unplaced(enc, start, time.perf_counter() + 5)
    assert set(start) <= set(more)
    result = build_result(enc, "test", Status.FEASIBLE, more, SolverConfig(), 0.0)
    assert check(p, result).violations == []


def test_place_unplaced_places_more_on_the_demo() -> None:
    """From the greedy allocation of the demo (1,807 of 2,000), augmenting moves place more."""
    p = load_scenario(DEMO)
    enc = encode(p)
    start, _ = serial_dictatorship(enc)
    more = place_unplaced(enc, start, time.perf_counter() + 60)
    assert len(more) > len(start)
    assert check(p, build_result(enc, "test", Status.FEASIBLE, more, SolverConfig(),
                                 0.0)).violations == []
