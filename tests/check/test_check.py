"""Tests of the independent checker (:mod:`matcher.check`): one broken result per rule.

The baseline is tiny's unique optimum, written by hand from ``scenarios/tiny/README.md`` (not
taken from a solver), so a solver bug cannot hide a checker bug. Each test breaks one thing, in
the rows or in a modified copy of the problem, and asserts the checker's message.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import matcher
from matcher.check import check, check_result_dir
from matcher.model import Lock, Problem

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
COLUMNS = ("student_id", "workstation_id", "mentor_id", "supervisor_id", "start_term",
           "end_term", "preference_rank")
A, B = "2026-autumn", "2027-spring"
OPTIMUM = [  # README.md, "Level 3": placed 5, rank cost 7, pair weight 2
    ("S1", "W2", "W2-M1", "HIT-S1", A, B, "2"),
    ("S2", "W1", "W1-M1", "HIT-S1", A, B, "1"),
    ("S3", "W2", "W2-M1", "HEU-S1", A, A, "1"),
    ("S4", "W3", "W3-M1", "HEU-S1", A, B, "2"),
    ("S5", "W2", "W2-M2", "HEU-S2", A, B, "1"),
]
CLAIMS: dict[str, Any] = {"status": "OPTIMAL", "placed": 5, "unassigned": 1, "rank_cost": 7,
                          "pair_weight": 2.0, "placed_upper_bound": 5,
                          "rank_cost_lower_bound": 7}


@pytest.fixture(scope="module")
def problem() -> Problem:
    """The tiny scenario, loaded once."""
    return matcher.load_scenario(TINY)


@pytest.fixture
def rows() -> list[dict[str, str]]:
    """Tiny's optimum as assignments.csv rows (a fresh copy per test)."""
    return [dict(zip(COLUMNS, r, strict=True)) for r in OPTIMUM]


def _with(rows: list[dict[str, str]], sid: str, **changes: str) -> list[dict[str, str]]:
    """The rows with one student's row changed."""
    out = [dict(r) for r in rows]
    (row,) = [r for r in out if r["student_id"] == sid]
    row.update(changes)
    return out


def _edit(p: Problem, field: str, key: str, ident: str, **changes: Any) -> Problem:
    """A copy of the problem with one entity (``field`` tuple, id column ``key``) changed."""
    items = tuple(x.model_copy(update=changes) if getattr(x, key) == ident else x
                  for x in getattr(p, field))
    assert items != getattr(p, field), f"{ident} not in {field}"
    return p.model_copy(update={field: items})


def _violations(p: Problem, rows: list[dict[str, str]], claims: dict[str, Any] | None = None,
                ) -> list[str]:
    rep = check(p, rows, claims=claims)
    assert not rep.ok
    assert rep.violations
    return rep.violations


def _has(violations: list[str], *parts: str) -> None:
    """Some violation contains every part (the first part is matched as a prefix)."""
    head, *rest = parts
    hits = [v for v in violations if v.startswith(head) and all(x in v for x in rest)]
    assert hits, f"no violation starting {head!r} with {rest}: {violations}"


# ---- the valid allocation -------------------------------------------------------------------
def test_optimum_is_valid(problem: Problem, rows: list[dict[str, str]]) -> None:
    """Tiny's hand-derived optimum passes with placed 5, rank cost 7, pair weight 2."""
    rep = check(problem, rows, claims=CLAIMS)
    assert rep.ok, rep.violations
    assert (rep.placed, rep.rank_cost, rep.pair_weight) == (5, 7, 2)


def test_solver_result_is_valid(problem: Problem) -> None:
    """The CP-SAT result on tiny passes the checker, as a Result object, with (5, 7, 2)."""
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    rep = matcher.check(problem, result)
    assert rep.ok, rep.violations
    assert (rep.placed, rep.rank_cost, rep.pair_weight) == (5, 7, 2)


def test_empty_allocation_is_valid(problem: Problem) -> None:
    """Placing nobody breaks no rule (it is just poor)."""
    rep = check(problem, [])
    assert rep.ok and (rep.placed, rep.rank_cost) == (0, 0)


# ---- rule 1 ---------------------------------------------------------------------------------
def test_student_placed_twice(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A student with two rows is caught."""
    v = _violations(problem, [*rows, dict(rows[2])])
    _has(v, "rule 1: assignment row 6 (S3)", "placed more than once")


def test_unknown_student(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A row for a student who is not in the scenario is caught."""
    v = _violations(problem, [*rows, {**rows[0], "student_id": "S9"}])
    _has(v, "assignment row 6 (S9)", "unknown student")


@pytest.mark.parametrize(("column", "value", "text"), [
    ("workstation_id", "W9", "unknown workstation 'W9'"),
    ("mentor_id", "W2-M9", "unknown mentor 'W2-M9'"),
    ("supervisor_id", "HIT-S9", "unknown supervisor 'HIT-S9'"),
])
def test_unknown_ids(problem: Problem, rows: list[dict[str, str]], column: str, value: str,
                     text: str) -> None:
    """A workstation, mentor or supervisor that does not exist is caught."""
    v = _violations(problem, _with(rows, "S1", **{column: value}))
    _has(v, "rule 1: assignment row 1 (S1)", text)


def test_unknown_term(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A term label that is not a scenario term is caught."""
    v = _violations(problem, _with(rows, "S3", start_term="2030-autumn", end_term="2030-autumn"))
    _has(v, "rule 1: assignment row 3 (S3)", "unknown term '2030-autumn'")


def test_mentor_of_another_workstation(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A mentor who works at a different workstation is caught."""
    v = _violations(problem, _with(rows, "S3", mentor_id="W1-M1"))
    _has(v, "rule 1: assignment row 3 (S3)", "mentor W1-M1 works at W1, not W2")


def test_supervisor_of_another_university(problem: Problem,
                                          rows: list[dict[str, str]]) -> None:
    """A supervisor of another university than the student's is caught."""
    v = _violations(problem, _with(rows, "S2", supervisor_id="HEU-S1"))
    _has(v, "rule 1: assignment row 2 (S2)", "supervisor HEU-S1 is at HEU", "student at HIT")


def test_block_of_wrong_length(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A block shorter than the student needs is caught."""
    v = _violations(problem, _with(rows, "S1", end_term=A))
    _has(v, "rule 1: assignment row 1 (S1)", "has 1 term(s), the student needs 2")


def test_block_reversed(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A block that ends before it starts is caught."""
    v = _violations(problem, _with(rows, "S1", start_term=B, end_term=A))
    _has(v, "rule 1: assignment row 1 (S1)", "has 0 term(s), the student needs 2")


def test_block_outside_window(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A block of the right length but before the practice window is caught."""
    v = _violations(problem, _with(rows, "S3", start_term="2026-spring", end_term="2026-spring"))
    _has(v, "rule 1: assignment row 3 (S3)", "leaves the window 2026-autumn..2027-spring")


def test_block_outside_own_window(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A student's own window_end narrows where the block may lie."""
    p = _edit(problem, "students", "student_id", "S3", window_end=A)
    v = _violations(p, _with(rows, "S3", start_term=B, end_term=B))
    _has(v, "rule 1: assignment row 3 (S3)", "leaves the window 2026-autumn..2026-autumn")


# ---- rule 2 ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "key", "ident", "discs", "who"), [
    ("workstations", "workstation_id", "W3", ("0854",), "workstation W3"),
    ("mentors", "mentor_id", "W3-M1", ("0854",), "mentor W3-M1"),
    ("supervisors", "supervisor_id", "HEU-S1", ("0854",), "supervisor HEU-S1"),
])
def test_discipline_not_taken(problem: Problem, rows: list[dict[str, str]], field: str,
                              key: str, ident: str, discs: tuple[str, ...], who: str) -> None:
    """S4 (0855) at W3 with W3-M1 and HEU-S1: each one dropping 0855 is caught."""
    p = _edit(problem, field, key, ident, disciplines=discs)
    v = _violations(p, rows)
    _has(v, "rule 2: assignment row 4 (S4)", f"{who} does not take discipline 0855")
    assert all(x.startswith("rule 2") for x in v), v


# ---- rule 3 ---------------------------------------------------------------------------------
def test_partnership_broken(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A workstation open only to HIT holding HEU students is caught."""
    p = _edit(problem, "workstations", "workstation_id", "W2", partner_universities=("HIT",))
    v = _violations(p, rows)
    _has(v, "rule 3: assignment row 3 (S3)", "W2 takes only HIT")
    _has(v, "rule 3: assignment row 5 (S5)", "W2 takes only HIT")
    assert all(x.startswith("rule 3") for x in v), v


# ---- rule 4 ---------------------------------------------------------------------------------
def test_given_supervisor_replaced(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A student's given supervisor swapped for another is caught."""
    p = _edit(problem, "students", "student_id", "S5", supervisor_id="HEU-S1")
    v = _violations(p, rows)
    assert v == ["rule 4: assignment row 5 (S5): given supervisor HEU-S1 replaced by HEU-S2"]


# ---- rule 5 ---------------------------------------------------------------------------------
def test_workstation_over_override_capacity(problem: Problem,
                                            rows: list[dict[str, str]]) -> None:
    """W2 holds 3 in 2027-spring where workstation_terms.csv allows 2."""
    v = _violations(problem, _with(rows, "S3", start_term=B, end_term=B))
    assert v == ["rule 5: workstation W2 holds 3 students in 2027-spring, capacity 2"]


def test_workstation_over_capacity(problem: Problem, rows: list[dict[str, str]]) -> None:
    """W2 at base capacity 2 holds 3 in 2026-autumn."""
    p = _edit(problem, "workstations", "workstation_id", "W2", capacity=2)
    v = _violations(p, rows)
    assert v == ["rule 5: workstation W2 holds 3 students in 2026-autumn, capacity 2"]


def test_workstation_closed_term(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A workstation closed (capacity 0) in a term holds nobody then."""
    p = problem.model_copy(update={"term_capacities": (
        *problem.term_capacities,
        problem.term_capacities[0].model_copy(update={"workstation_id": "W3", "term": A,
                                                      "capacity": 0}))})
    v = _violations(p, rows)
    assert v == ["rule 5: workstation W3 holds 1 students in 2026-autumn, capacity 0"]


def test_mentor_over_capacity(problem: Problem, rows: list[dict[str, str]]) -> None:
    """W2-M1 (capacity cut to 1) holds S1 and S3 in 2026-autumn."""
    p = _edit(problem, "mentors", "mentor_id", "W2-M1", capacity=1)
    v = _violations(p, rows)
    assert v == ["rule 5: mentor W2-M1 holds 2 students in 2026-autumn, capacity 1"]


def test_supervisor_over_total_capacity(problem: Problem, rows: list[dict[str, str]]) -> None:
    """HEU-S2 (capacity 1 in all) given both S4 and S5."""
    v = _violations(problem, _with(rows, "S4", supervisor_id="HEU-S2"))
    assert v == ["rule 5: supervisor HEU-S2 holds 2 students, capacity 1"]


# ---- rule 6 ---------------------------------------------------------------------------------
def test_preferences_only_broken(problem: Problem, rows: list[dict[str, str]]) -> None:
    """With preferences_only, a placement off the student's list is caught."""
    p = _edit(problem, "students", "student_id", "S4", preferences=("W2",))
    p = p.model_copy(update={"policy": p.policy.model_copy(update={"preferences_only": True})})
    v = _violations(p, _with(rows, "S4", preference_rank=""))
    assert v == ["rule 6: assignment row 4 (S4): W3 is not on the student's list "
                 "(preferences_only)"]


def test_preferences_only_kept(problem: Problem, rows: list[dict[str, str]]) -> None:
    """With preferences_only, tiny's optimum (all on-list) still passes."""
    p = problem.model_copy(update={"policy": problem.policy.model_copy(
        update={"preferences_only": True})})
    assert check(p, rows).ok


@pytest.mark.parametrize(("lock", "text"), [
    (Lock(student_id="S4", workstation_id="W2"), "locked student S4 is at W3, lock says W2"),
    (Lock(student_id="S6", workstation_id="W3"), "locked student S6 is not placed"),
    (Lock(student_id="S3", workstation_id="W2", mentor_id="W2-M2"),
     "locked student S3 has mentor W2-M1, lock says W2-M2"),
    (Lock(student_id="S3", workstation_id="W2", start_term=B),
     "locked student S3 starts 2026-autumn, lock says 2027-spring"),
])
def test_lock_not_kept(problem: Problem, rows: list[dict[str, str]], lock: Lock,
                       text: str) -> None:
    """A lock's workstation, mentor or start not honoured (or the student unplaced)."""
    p = problem.model_copy(update={"locks": (lock,)})
    v = _violations(p, rows)
    assert v == [f"rule 6: {text}"]


def test_lock_kept(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A lock the allocation honours in full passes."""
    lock = Lock(student_id="S3", workstation_id="W2", mentor_id="W2-M1", start_term=A)
    assert check(problem.model_copy(update={"locks": (lock,)}), rows).ok


# ---- claims ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "value", "text"), [
    ("placed", 6, "claim: summary says placed = 6, recomputed 5"),
    ("rank_cost", 6, "claim: summary says rank_cost = 6, recomputed 7"),
    ("pair_weight", 0.0, "claim: summary says pair_weight = 0.0, recomputed 2.0"),
    ("unassigned", 0, "claim: summary says 0 unassigned, recomputed 1"),
    ("placed_upper_bound", 4, "claim: placed 5 exceeds the claimed upper bound 4"),
    ("rank_cost_lower_bound", 8, "claim: rank cost 7 is below the claimed lower bound 8"),
])
def test_false_claim(problem: Problem, rows: list[dict[str, str]], key: str, value: Any,
                     text: str) -> None:
    """A summary figure that does not match the allocation (or a bound it breaks) is caught."""
    claims = {**CLAIMS, key: value}
    if key == "placed_upper_bound":
        claims["status"] = "FEASIBLE"
    v = _violations(problem, rows, claims)
    assert text in v, v


def test_optimal_claim_below_bound(problem: Problem, rows: list[dict[str, str]]) -> None:
    """OPTIMAL with placed below the claimed proven maximum is caught."""
    v = _violations(problem, rows, {**CLAIMS, "placed_upper_bound": 6})
    assert "claim: OPTIMAL but placed 5 differs from the proven bound 6" in v


def test_optimal_claim_above_rank_bound(problem: Problem, rows: list[dict[str, str]]) -> None:
    """OPTIMAL with rank cost above the claimed lower bound is caught."""
    v = _violations(problem, rows, {**CLAIMS, "rank_cost_lower_bound": 6})
    assert "claim: OPTIMAL but rank cost 7 differs from the bound 6" in v


def test_infeasible_claim_with_placements(problem: Problem, rows: list[dict[str, str]]) -> None:
    """INFEASIBLE claimed for a result that places students is caught."""
    v = _violations(problem, rows, {"status": "INFEASIBLE"})
    assert v == ["claim: status INFEASIBLE but the result places students"]


def test_wrong_preference_rank_column(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A preference_rank that does not match the student's list is caught."""
    v = _violations(problem, _with(rows, "S1", preference_rank="1"))
    assert v == ["assignment row 1 (S1): preference_rank says 1, the list gives 2"]


def test_off_list_costs_k_plus_one(problem: Problem, rows: list[dict[str, str]]) -> None:
    """A placement off the student's list costs K+1 = 3 (K = 2, the longest list)."""
    p = _edit(problem, "students", "student_id", "S5", preferences=("W3",))
    rep = check(p, _with(rows, "S5", preference_rank=""))
    assert rep.ok, rep.violations
    assert rep.rank_cost == 7 - 1 + 3


# ---- result folders -------------------------------------------------------------------------
def test_result_dir_student_neither_placed_nor_unassigned(problem: Problem,
                                                          tmp_path: Path) -> None:
    """check_result_dir catches a student missing from both assignments and unassigned."""
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    out = matcher.write_result(result, tmp_path / "out")
    assert check_result_dir(problem, out).ok
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "unassigned.csv").write_text("student_id,reason\n", encoding="utf-8")
    rep = check_result_dir(problem, broken)
    assert rep.violations == ["student S6 is neither placed nor listed in unassigned.csv"]
