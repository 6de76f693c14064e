"""Tests of matcher.planning.explain: the named rule, full terms and holders are right, and
every suggested change for an unassigned student really places them when applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import matcher
from matcher.check import check
from matcher.cli import cli
from matcher.model import (
    Lock,
    Mentor,
    Policy,
    Problem,
    Ranking,
    Student,
    Supervisor,
    TermCapacity,
    Workstation,
)
from matcher.planning.explain import Change, ExplainError, Explanation, explain

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
DEMO = ROOT / "scenarios" / "heilongjiang-demo"

# The lexicographic optimum of tiny, derived by hand in scenarios/tiny/README.md.
TINY_ROWS = [
    {"student_id": "S1", "workstation_id": "W2", "mentor_id": "W2-M1", "supervisor_id": "HIT-S1",
     "start_term": "2026-autumn", "end_term": "2027-spring"},
    {"student_id": "S2", "workstation_id": "W1", "mentor_id": "W1-M1", "supervisor_id": "HIT-S1",
     "start_term": "2026-autumn", "end_term": "2027-spring"},
    {"student_id": "S3", "workstation_id": "W2", "mentor_id": "W2-M1", "supervisor_id": "HEU-S1",
     "start_term": "2026-autumn", "end_term": "2026-autumn"},
    {"student_id": "S4", "workstation_id": "W3", "mentor_id": "W3-M1", "supervisor_id": "HEU-S1",
     "start_term": "2026-autumn", "end_term": "2027-spring"},
    {"student_id": "S5", "workstation_id": "W2", "mentor_id": "W2-M2", "supervisor_id": "HEU-S2",
     "start_term": "2026-autumn", "end_term": "2027-spring"},
]


@pytest.fixture(scope="module")
def tiny() -> Problem:
    """scenarios/tiny, loaded once."""
    return matcher.load_scenario(TINY)


def _with(p: Problem, **update: Any) -> Problem:
    """A validated copy of a problem with some fields replaced."""
    return Problem.model_validate({**{f: getattr(p, f) for f in Problem.model_fields},
                                   **update})


def _student(p: Problem, sid: str, **changes: Any) -> Problem:
    return _with(p, students=tuple(s.model_copy(update=changes) if s.student_id == sid else s
                                   for s in p.students))


def _choice(e: Explanation, wid: str) -> Any:
    return next(c for c in e.choices if c.workstation_id == wid)


def _small(students: list[dict[str, Any]], *, ws_cap: int = 1, mentor_cap: int = 2,
           sup_cap: int = 5, terms: tuple[str, ...] = ("T1", "T2"),
           window: tuple[str, str] | None = None, more_supervisors: tuple[Supervisor, ...] = (),
           **extra: Any) -> Problem:
    """One university U, one discipline D, one workstation W1 with mentor W1-M1, supervisor U-S1.

    Students default to 12 months (two 6-month terms), priority 0, listing W1.
    """
    built = [Student(**{"university_id": "U", "discipline": "D", "work_experience_years": 0,
                        "preferences": ("W1",), **s}) for s in students]
    return Problem(
        name="small", terms=terms, term_months=6, policy=Policy(window=window),
        students=tuple(built),
        workstations=(Workstation(workstation_id="W1", disciplines=("D",), capacity=ws_cap),),
        mentors=(Mentor(mentor_id="W1-M1", workstation_id="W1", disciplines=("D",),
                        capacity=mentor_cap),),
        supervisors=(Supervisor(supervisor_id="U-S1", university_id="U", disciplines=("D",),
                                capacity=sup_cap), *more_supervisors), **extra)


def _applied(change: Change, sid: str) -> matcher.Result:
    """Solve the changed problem independently of the explanation; it must be valid."""
    assert change.problem is not None
    res = matcher.solve(change.problem, "cpsat", time_limit_s=10, seed=0, workers=1)
    assert check(change.problem, res).ok
    assert any(pl.student_id == sid for pl in res.placements), change
    return res


# ---- placed students: why here, why not the better choices -------------------------------------
def test_tiny_rows_are_the_valid_optimum(tiny: Problem) -> None:
    """The hand-derived allocation used below keeps every rule (placed 5, rank cost 7)."""
    rep = check(tiny, TINY_ROWS)
    assert rep.ok and (rep.placed, rep.rank_cost) == (5, 7)


def test_first_choice_has_nothing_better(tiny: Problem) -> None:
    """S2 is at its first choice: the explanation says so and lists no better choice."""
    e = explain(tiny, TINY_ROWS, "S2")
    assert e.placed and e.placement is not None and e.placement.workstation_id == "W1"
    assert e.choices == ()
    assert any("first choice" in line for line in e.why)


def test_full_terms_and_holder_named(tiny: Problem) -> None:
    """S1 (choice 2, W2): W1 is full in both needed terms, held by S2, whom S1 ranks ahead of."""
    e = explain(tiny, TINY_ROWS, "S1")
    assert e.placement is not None and e.placement.preference_rank == 2
    c = _choice(e, "W1")
    assert c.kind == "full" and c.rank == 1
    assert [f.term for f in c.full_terms] == ["2026-autumn", "2027-spring"]
    for f in c.full_terms:
        assert f.capacity == 1
        [h] = f.holders
        assert h.student_id == "S2" and h.their_rank == 1
        assert h.standing == "priority 85.5"
        assert h.student_ahead  # S1 has priority 92 > 85.5
    assert "S2" in c.text and "ahead" in c.text
    assert "W1" in e.text() and "S2 (priority 85.5, their choice 1" in e.text()


def test_holders_behind_and_ahead(tiny: Problem) -> None:
    """S4 (priority 90) at W3: W2 is full; S1 (92) is ahead of S4, S3 (80) and S5 (75.5) not."""
    e = explain(tiny, TINY_ROWS, "S4")
    c = _choice(e, "W2")
    assert c.kind == "full"
    autumn = next(f for f in c.full_terms if f.term == "2026-autumn")
    assert autumn.capacity == 3
    ahead = {h.student_id: h.student_ahead for h in autumn.holders}
    assert ahead == {"S1": False, "S3": True, "S5": True}
    spring = next(f for f in c.full_terms if f.term == "2027-spring")
    assert spring.capacity == 2  # the workstation_terms.csv override
    assert {h.student_id for h in spring.holders} == {"S1", "S5"}


def test_rankings_decide_standing(tiny: Problem) -> None:
    """With rankings.csv, W1's own rank (not priority) decides who is ahead."""
    p = _with(tiny, rankings=(Ranking(workstation_id="W1", student_id="S2", rank=1),
                              Ranking(workstation_id="W1", student_id="S1", rank=2)))
    c = _choice(explain(p, TINY_ROWS, "S1"), "W1")
    [h] = c.full_terms[0].holders
    assert h.standing == "ranked 1 by W1" and not h.student_ahead
    assert "every holder is ahead" in c.text


def test_rule_discipline(tiny: Problem) -> None:
    """S6 (0856) listed W3, which takes only 0855: the discipline rule is named."""
    e = explain(tiny, TINY_ROWS, "S6")
    assert not e.placed
    c = _choice(e, "W3")
    assert c.kind == "discipline" and "0856" in c.text
    assert e.changes == ()  # no capacity, mentor, supervisor or window change helps
    assert any("No single change" in line for line in e.why)


def test_rule_partnership(tiny: Problem) -> None:
    """A HEU student listing W1 (partners: HIT only) is told it is the partnership rule."""
    p = _student(tiny, "S3", preferences=("W1", "W2"))
    rows = [r for r in TINY_ROWS if r["student_id"] != "S3"] + [
        {**TINY_ROWS[2], "workstation_id": "W2"}]
    c = _choice(explain(p, rows, "S3"), "W1")
    assert c.kind == "partnership" and "HIT" in c.text and "HEU" in c.text


def test_rule_window_names_closed_terms(tiny: Problem) -> None:
    """W1 closed in 2027-spring leaves no 2-term block in S1's window: rule 'window'."""
    p = _with(tiny, term_capacities=(*tiny.term_capacities,
                                     TermCapacity(workstation_id="W1", term="2027-spring",
                                                  capacity=0)))
    rows = [r for r in TINY_ROWS if r["student_id"] != "S2"]
    c = _choice(explain(p, rows, "S1"), "W1")
    assert c.kind == "window" and "2027-spring" in c.text and "closed" in c.text


def test_rule_mentor(tiny: Problem) -> None:
    """A workstation taking the discipline but with no mentor for it: rule 'mentor'."""
    p = _with(tiny, workstations=tuple(
        w.model_copy(update={"disciplines": ("0855", "0856")}) if w.workstation_id == "W3"
        else w for w in tiny.workstations))
    c = _choice(explain(p, TINY_ROWS, "S6"), "W3")
    assert c.kind == "mentor" and "0856" in c.text


def test_rule_lock(tiny: Problem) -> None:
    """A student locked at W2 is told the lock, not capacity, rules out W1."""
    p = _with(tiny, locks=(Lock(student_id="S1", workstation_id="W2"),))
    e = explain(p, TINY_ROWS, "S1")
    assert _choice(e, "W1").kind == "lock"
    assert any("locks.csv" in line for line in e.why)


def test_mentors_fully_booked() -> None:
    """W1 has a free place but its only mentor is full: 'mentors_full', naming the mentee."""
    p = _small([{"student_id": "A", "priority": 2}, {"student_id": "B", "priority": 1}],
               ws_cap=2, mentor_cap=1)
    rows = [{"student_id": "A", "workstation_id": "W1", "mentor_id": "W1-M1",
             "supervisor_id": "U-S1", "start_term": "T1", "end_term": "T2"}]
    e = explain(p, rows, "B")
    c = _choice(e, "W1")
    assert c.kind == "mentors_full" and "W1-M1" in c.text and "A" in c.text


def test_justified_envy_is_the_checkers_blocking_pair() -> None:
    """B (priority 2) is unplaced and W1 holds A (priority 1): W1 could take B (its mentor
    mentors only A, the supervisor has room), so the choice is marked as a blocking pair, as
    ``check --stability`` counts it. With the only supervisor full (capacity 1, taken by A) W1
    still holds a student behind B, but nobody could supervise B: no blocking pair. With A
    ahead of B (priority 3): none either."""
    rows = [{"student_id": "A", "workstation_id": "W1", "mentor_id": "W1-M1",
             "supervisor_id": "U-S1", "start_term": "T1", "end_term": "T2"}]
    for a_priority, sup_cap, blocking in ((1, 5, True), (1, 1, False), (3, 5, False)):
        p = _small([{"student_id": "A", "priority": a_priority},
                    {"student_id": "B", "priority": 2}], sup_cap=sup_cap)
        e = explain(p, rows, "B", verify=0)
        c = _choice(e, "W1")
        assert c.kind == "full"
        assert c.blocking is blocking
        assert (("B", "W1") in matcher.check(p, rows, stability=True).blocking_pairs) is blocking
        assert ("justified envy" in e.text()) is blocking
        assert e.to_dict()["choices"][0]["blocking_pair"] is blocking


def test_preferences_only_is_named() -> None:
    """With preferences_only, an unassigned student is told off-list workstations are out."""
    p = _small([{"student_id": "A", "priority": 2}, {"student_id": "B", "priority": 1}])
    p = _with(p, policy=Policy(preferences_only=True))
    rows = [{"student_id": "A", "workstation_id": "W1", "mentor_id": "W1-M1",
             "supervisor_id": "U-S1", "start_term": "T1", "end_term": "T2"}]
    e = explain(p, rows, "B", verify=0)
    assert any("preferences_only" in line for line in e.why)


# ---- unassigned students: the smallest change, verified -----------------------------------------
def _one_left_out(p: Problem) -> tuple[list[dict[str, str]], str]:
    res = matcher.solve(p, "cpsat", time_limit_s=10, seed=0, workers=1)
    assert check(p, res).ok and len(res.unassigned) == 1
    return [pl.row() for pl in res.placements], res.unassigned[0][0]


def test_change_one_more_place() -> None:
    """Two students, one place: the change is one more place at W1 in both terms, verified."""
    p = _small([{"student_id": "A", "priority": 2}, {"student_id": "B", "priority": 1}])
    rows, out = _one_left_out(p)
    e = explain(p, rows, out, verify=3)
    first = e.changes[0]
    assert (first.kind, first.workstation_id, first.terms, first.size) == (
        "place", "W1", ("T1", "T2"), 2)
    assert "one more place at W1 in T1 and T2" in first.text
    assert first.verified is True and first.verified_by == "re-solve"
    assert first.problem is not None
    assert {(tc.workstation_id, tc.term, tc.capacity)
            for tc in first.problem.term_capacities} == {("W1", "T1", 2), ("W1", "T2", 2)}
    _applied(first, out)


def test_change_mentor_place() -> None:
    """Room at the workstation but the mentor is full: one more student for mentor W1-M1."""
    p = _small([{"student_id": "A"}, {"student_id": "B"}], ws_cap=2, mentor_cap=1)
    rows, out = _one_left_out(p)
    e = explain(p, rows, out)
    first = e.changes[0]
    assert (first.kind, first.size) == ("mentor", 1) and "W1-M1" in first.text
    assert first.problem is not None
    assert {m.mentor_id: m.capacity for m in first.problem.mentors} == {"W1-M1": 2}
    assert first.verified is True
    _applied(first, out)


def test_change_new_mentor_when_none_fits() -> None:
    """No mentor for the discipline at all: another mentor at the workstation is suggested."""
    p = _small([{"student_id": "A", "discipline": "D"}, {"student_id": "B", "discipline": "E"}],
               ws_cap=2, more_supervisors=(Supervisor(supervisor_id="U-S2", university_id="U",
                                                      disciplines=("E",), capacity=1),))
    p = _with(p, workstations=(p.workstations[0].model_copy(
        update={"disciplines": ("D", "E")}),))
    rows, out = _one_left_out(p)
    assert out == "B"
    e = explain(p, rows, out)
    assert _choice(e, "W1").kind == "mentor"
    first = e.changes[0]
    assert first.kind == "mentor" and "another enterprise mentor for E at W1" in first.text
    assert first.verified is True
    _applied(first, out)


def test_change_supervisor_place() -> None:
    """Room everywhere but the only supervisor is full: one more supervisor place."""
    p = _small([{"student_id": "A"}, {"student_id": "B"}], ws_cap=2, sup_cap=1)
    rows, out = _one_left_out(p)
    e = explain(p, rows, out)
    assert any("U-S1 is full" in line for line in e.why)
    first = e.changes[0]
    assert (first.kind, first.size) == ("supervisor", 1) and "U-S1" in first.text
    assert first.verified is True
    _applied(first, out)


def test_change_longer_window_and_order() -> None:
    """One-term students, window T2..T3, W1 with one place: a place or a term earlier.

    Changes are ordered by size, then kind (places before windows); each one, applied, places
    the student.
    """
    students = [{"student_id": sid, "work_experience_years": 5, "priority": pr}
                for sid, pr in (("A", 3), ("B", 2), ("C", 1))]
    p = _small(students, terms=("T1", "T2", "T3"), window=("T2", "T3"))
    rows, out = _one_left_out(p)
    e = explain(p, rows, out, verify=10)
    kinds = [c.kind for c in e.changes]
    assert "window" in kinds and "place" in kinds
    assert [c.size for c in e.changes] == sorted(c.size for c in e.changes)
    assert kinds.index("place") < kinds.index("window")
    win = next(c for c in e.changes if c.kind == "window")
    assert win.terms == ("T1",) and "starting T1 (1 term(s) earlier)" in win.text
    assert win.problem is not None
    moved = next(s for s in win.problem.students if s.student_id == out)
    assert (moved.window_start, moved.window_end) == ("T1", "T3")
    for ch in e.changes:
        assert ch.verified is True
        _applied(ch, out)


def test_no_change_needed_when_result_is_not_optimal() -> None:
    """A student left out although W1 had room: 'free', and 'no change' comes first."""
    p = _small([{"student_id": "A"}, {"student_id": "B"}], ws_cap=2)
    rows = [{"student_id": "A", "workstation_id": "W1", "mentor_id": "W1-M1",
             "supervisor_id": "U-S1", "start_term": "T1", "end_term": "T2"}]
    e = explain(p, rows, "B", verify=1)
    assert _choice(e, "W1").kind == "free"
    assert e.changes[0].kind == "none" and e.changes[0].size == 0
    assert e.changes[0].verified is True  # re-solving the same problem places B


def test_verified_with_a_lock_when_the_room_goes_to_another() -> None:
    """Two students left out of one place: one more place may go to the other one; a lock then
    shows the change places this student without placing fewer."""
    p = _small([{"student_id": "A", "priority": 3}, {"student_id": "B", "priority": 2},
                {"student_id": "C", "priority": 1}])
    res = matcher.solve(p, "cpsat", time_limit_s=10, seed=0, workers=1)
    rows = [pl.row() for pl in res.placements]
    for out, _ in res.unassigned:
        e = explain(p, rows, out, verify=1)
        first = e.changes[0]
        assert first.kind == "place" and first.verified is True
        assert first.verified_by in ("re-solve", "re-solve with a lock")
        if first.verified_by == "re-solve with a lock":
            assert "locked at W1" in first.verification


def test_verification_can_be_skipped(tiny: Problem) -> None:
    """verify=0 lists the changes without re-solving."""
    p = _small([{"student_id": "A", "priority": 2}, {"student_id": "B", "priority": 1}])
    rows, out = _one_left_out(p)
    e = explain(p, rows, out, verify=0)
    assert e.changes and all(c.verified is None for c in e.changes)
    assert "not re-solved" in e.text()


# ---- errors, the command line, the demo ----------------------------------------------------------
def test_unknown_student(tiny: Problem) -> None:
    """An unknown student id is a user error naming the id."""
    with pytest.raises(ExplainError, match=r"'S99' is not in students\.csv"):
        explain(tiny, TINY_ROWS, "S99")


def test_result_of_another_scenario(tiny: Problem) -> None:
    """Rows naming workstations the scenario does not have are refused."""
    rows = [{**TINY_ROWS[0], "workstation_id": "W9"}]
    with pytest.raises(ExplainError, match="does not fit scenario"):
        explain(tiny, rows, "S1")


@pytest.fixture(scope="module")
def tiny_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny solved once by the CLI."""
    out = tmp_path_factory.mktemp("explain") / "out"
    r = CliRunner().invoke(cli, ["solve", str(TINY), "--out", str(out), "--workers", "1"])
    assert r.exit_code == 0, r.output
    return out


def test_cli_explain_placed(tiny_out: Path) -> None:
    """matcher explain prints the placement and the full terms of the better choice."""
    r = CliRunner().invoke(cli, ["explain", str(TINY), str(tiny_out), "S1"])
    assert r.exit_code == 0, r.output
    assert "Placed at W2 (choice 2 of 2)" in r.stdout
    assert "1. W1: full in 2026-autumn and 2027-spring" in r.stdout


def test_cli_explain_json_and_unassigned(tiny_out: Path) -> None:
    """--json gives the same explanation as data; S6 is unassigned with the discipline rule."""
    r = CliRunner().invoke(cli, ["explain", str(TINY), str(tiny_out), "S6", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["placement"] is None
    assert data["choices"][0]["kind"] == "discipline"


def test_cli_explain_bad_input(tiny_out: Path, tmp_path: Path) -> None:
    """Unknown student or missing result folder: one 'error:' line, exit 2, no traceback."""
    r = CliRunner().invoke(cli, ["explain", str(TINY), str(tiny_out), "S99"])
    assert r.exit_code == 2 and r.stderr.startswith("error: student 'S99'")
    assert "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["explain", str(TINY), str(tmp_path / "none"), "S1"])
    assert r.exit_code == 2 and r.stderr.startswith("error: ")
    assert len(r.stderr.strip().splitlines()) == 1


def test_demo_scale_greedy(tmp_path: Path) -> None:
    """On the 2,000-student demo (greedy, fast): a placed student's better choices are each
    explained, and an unassigned student's first suggested change is verified by greedy."""
    p = matcher.load_scenario(DEMO)
    res = matcher.solve(p, "greedy", seed=0)
    placed = next(pl for pl in res.placements if (pl.preference_rank or 0) >= 3)
    e = explain(p, res, placed.student_id)
    assert len(e.choices) == placed.preference_rank - 1  # type: ignore[operator]
    assert all(c.kind != "free" for c in e.choices)  # greedy took the best that had room
    sid = res.unassigned[0][0]
    e = explain(p, res, sid, verify=1)
    assert not e.placed and e.changes
    first = e.changes[0]
    assert first.verified is not None and "re-solved with greedy" in first.verification


# ---- in Chinese ----------------------------------------------------------------------------------
def _all_chinese(text: str) -> None:
    """Every line of an explanation has Chinese words (ids, terms and numbers aside): no English
    sentence was left behind."""
    for line in text.splitlines():
        if line.strip():
            assert any("\u4e00" <= ch <= "\u9fff" for ch in line), line


def test_in_chinese_placed_with_full_terms_and_holders(tiny: Problem) -> None:
    """S1 in Chinese: the placement, the full better choice, its holder and standing; the same
    facts as in English (the kinds and holders do not depend on the language)."""
    zh, en = (explain(tiny, TINY_ROWS, "S1", lang=lang) for lang in ("zh", "en"))
    text = zh.text()
    _all_chinese(text)
    assert "分配到 W2（第2志愿，共 2 个志愿）" in text
    assert "1. W1：在学生所需的学期 2026-autumn和2027-spring 已满" in text
    assert "S2（优先级 85.5，其第1志愿，该学生排在其前面）" in text
    assert [(c.workstation_id, c.kind) for c in zh.choices] == [
        (c.workstation_id, c.kind) for c in en.choices]


def test_in_chinese_unassigned_with_verified_change() -> None:
    """An unassigned student in Chinese: the reason, the smallest change (one more place) and
    its verification by re-solving, all worded in Chinese."""
    p = _small([{"student_id": "A", "priority": 2}, {"student_id": "B", "priority": 1}])
    rows, out = _one_left_out(p)
    e = explain(p, rows, out, verify=1, lang="zh")
    text = e.text()
    _all_chinese(text)
    assert "能让该学生得到分配的最小单项改动（从小到大）：" in text
    assert "W1 在 T1和T2 各增加 1 个名额" in text and "[已通过重新求解验证]" in text
    assert e.changes[0].verified is True and "用 cpsat 重新求解" in e.changes[0].verification


def test_cli_explain_in_chinese(tiny_out: Path) -> None:
    """matcher explain --lang zh: the explanation and the error for an unknown student in
    Chinese."""
    r = CliRunner().invoke(cli, ["explain", str(TINY), str(tiny_out), "S6", "--lang", "zh"])
    assert r.exit_code == 0, r.output
    _all_chinese(r.stdout)
    assert "W3：不接收“0856”类别的学生（只接收 0855）" in r.stdout
    r = CliRunner().invoke(cli, ["explain", str(TINY), str(tiny_out), "S99", "--lang", "zh"])
    assert r.exit_code == 2 and "学号“S99”" in r.stderr
