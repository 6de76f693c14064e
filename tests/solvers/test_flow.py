"""matcher.solvers.flow beyond the solver battery: the exact reassignment of an allocation."""

from __future__ import annotations

from budget import far
from hypothesis import HealthCheck, given, settings
from strategies import examples, problems
from test_packing import _improved, _one_place_stations

from matcher.check import check
from matcher.encoding import encode
from matcher.model import Problem, Status
from matcher.solvers.base import SolverConfig, build_result
from matcher.solvers.flow import reassign
from matcher.solvers.moves import improve_rank


def test_reassign_turns_a_ring_that_local_moves_cannot() -> None:
    """Four full workstations, one place each; A holds W1 and lists W2 first, B holds W2 and
    lists W3, C holds W3 and lists W4, D holds W4 and lists W1: every student at its second
    choice (rank cost 8). Turning the ring moves four students at once, more than the local
    moves' chains (two pushed on) reach, so they stay at 8; the reassignment gives everyone
    their first choice (4) and keeps every rule."""
    names = ("W1", "W2", "W3", "W4")
    lists = {"A": ("W2", "W1"), "B": ("W3", "W2"), "C": ("W4", "W3"), "D": ("W1", "W4")}
    p = _one_place_stations("ring", lists, names, preferences_only=True)
    enc = encode(p)
    held = {enc.student_ids.index(sid): (enc.workstation_ids.index(prefs[1]),
                                         enc.mentor_ids.index(f"M{prefs[1]}"), 0, 0)
            for sid, prefs in lists.items()}
    assert enc.rank_cost(improve_rank(enc, held, far())) == 8
    turned = reassign(enc, held, far())
    assert set(turned) == set(held) and enc.rank_cost(turned) == 4
    assert {enc.student_ids[i]: enc.workstation_ids[c[0]] for i, c in turned.items()} == {
        sid: prefs[0] for sid, prefs in lists.items()}
    assert check(p, build_result(enc, "test", Status.FEASIBLE, turned, SolverConfig(),
                                 0.0)).violations == []


@settings(max_examples=examples(60, 150), deadline=None, suppress_health_check=list(HealthCheck))
@given(problems(max_students=14, max_workstations=4))
def test_reassign_keeps_rules_placed_and_supervisors(p: Problem) -> None:
    """From the greedy allocation, the reassignment places exactly the same students with the
    same supervisors, never raises the rank cost, keeps locks, and keeps every rule (the
    independent checker): the leftover room it offers is never counted twice."""
    got = _improved(p, lambda enc, start: reassign(enc, start, far()))
    if got is None:
        return
    enc, start, out = got
    assert all(out[i][2] == start[i][2] for i in start)
    assert all(out[i] == start[i] for i in start if enc.st_lock[i] is not None)
