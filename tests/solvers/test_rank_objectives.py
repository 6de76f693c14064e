"""Level 2 in the form the scenario chooses (``objective.rank``: sum, profile, minimax; issue 29).

Each exact solver must reach the brute-force optimum of the chosen form (enumerated here from
:mod:`tests.brute`'s per-student options, sharing nothing with the solvers) and say OPTIMAL
only with that level proven; heuristics keep their rule and report the form's value unproven.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from brute import Search
from budget import PROOF_S
from hypothesis import HealthCheck, given, settings
from strategies import examples, tiny_problems

import matcher
from matcher.model import (
    Mentor,
    ObjectiveSettings,
    Problem,
    ProblemError,
    Status,
    Student,
    Supervisor,
    Workstation,
)

FORMS = ("sum", "profile", "minimax")


def _with_rank(p: Problem, rank: str) -> Problem:
    return p.model_copy(update={"objective": ObjectiveSettings(
        pair_weight=p.objective.pair_weight, rank=rank)})


def _level2(kind: str, ranks: list[int], longest: int) -> tuple[int, ...]:
    """Level 2's value to minimise, written from the definitions (not from the solvers)."""
    if kind == "profile":  # most at rank 1, then at rank 2, ...: minimise -n1, -n2, ...
        count = Counter(ranks)
        return tuple(-count.get(r, 0) for r in range(1, longest + 2))
    if kind == "minimax":
        return (max(ranks, default=0), sum(ranks))
    return (sum(ranks),)


def brute_rank_optimum(p: Problem, kind: str) -> tuple[int, tuple[int, ...]] | None:
    """``(placed, level 2)`` of the best allocation by enumeration (None: the locks conflict)."""
    sr = Search.of(p)
    longest = max((max(s.preference_ranks or range(1, len(s.preferences) + 1))
                   for s in p.students if s.preferences), default=0)
    load: dict[tuple[Any, ...], int] = {}
    chosen: dict[str, Any] = {}
    best: list[tuple[int, tuple[int, ...]] | None] = [None]

    def dfs(i: int) -> None:
        if i == len(sr.students):
            if sr.coupled(chosen):
                # The brute force's option cost is the rank (K + 1 off the list).
                got = (len(chosen), _level2(kind, [o.cost for o in chosen.values()], longest))
                if best[0] is None or (-got[0], got[1]) < (-best[0][0], best[0][1]):
                    best[0] = got
            return
        sid = sr.students[i].student_id
        for o in sr.options[i]:
            if sr.fits(load, o):
                sr.take(load, o, +1)
                chosen[sid] = o
                dfs(i + 1)
                del chosen[sid]
                sr.take(load, o, -1)
        if sid not in sr.locked:
            dfs(i + 1)

    dfs(0)
    return best[0]


def _solved(p: Problem, solver: str) -> matcher.Result:
    result = matcher.solve(p, solver=solver, time_limit_s=PROOF_S, workers=1, seed=0)
    report = matcher.check(p, result)
    assert report.ok, report.violations
    return result


def _value(p: Problem, kind: str, result: matcher.Result) -> tuple[int, ...]:
    report = matcher.check(p, result)
    ranks = [r for r, n in enumerate(report.rank_profile, start=1) for _ in range(n)]
    return _level2(kind, ranks, len(report.rank_profile) - 1)


@settings(max_examples=examples(8, 80), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
@pytest.mark.parametrize("kind", ["profile", "minimax"])
def test_cpsat_reaches_the_brute_force_optimum(kind: str, problem: Problem) -> None:
    """On random tiny problems cpsat proves the optimum of each form, and its value is the
    brute force's (placed first, then the form); the checker agrees with its report."""
    p = _with_rank(problem, kind)
    expected = brute_rank_optimum(p, kind)
    result = _solved(p, "cpsat")
    if expected is None:
        assert result.status == Status.INFEASIBLE
        return
    assert result.status == Status.OPTIMAL, result.message
    assert result.placed == expected[0]
    assert _value(p, kind, result) == expected[1]
    block = result.stats["rank_objective"]
    assert block["form"] == kind and block["proven"] is True


def _problem(lists: dict[str, list[str]], stations: list[str], rank: str = "sum") -> Problem:
    """One term, one place per workstation, one mentor each, one supervisor with room for all;
    students may go only to their lists."""
    return Problem(
        name="rank forms", terms=("T1",), term_months=6,
        policy={"practice_months": 6, "experienced_practice_months": 6,
                "preferences_only": True},
        objective={"pair_weight": False, "rank": rank},
        students=tuple(Student(student_id=s, university_id="U", discipline="0854",
                               work_experience_years=0, preferences=tuple(prefs))
                       for s, prefs in lists.items()),
        workstations=tuple(Workstation(workstation_id=w, disciplines=("0854",), capacity=1)
                           for w in stations),
        mentors=tuple(Mentor(mentor_id=f"M{w}", workstation_id=w, disciplines=("0854",),
                             capacity=1) for w in stations),
        supervisors=(Supervisor(supervisor_id="S", university_id="U", disciplines=("0854",),
                                capacity=len(lists)),),
    )




@pytest.mark.parametrize("kind", FORMS)
@pytest.mark.parametrize("solver", ["cpsat", "milp"])
def test_exact_solvers_prove_each_form(kind: str, solver: str) -> None:
    """A three-student case (lists only, one place each): A: W1, W2, W3; B: W2, W3, W1;
    C: W1, W3, W2. All three placed; (W1, W2, W3) gives ranks 1, 1, 2 (sum 4, two first
    choices, worst 2) and is the only best one under every form (the others: sum 5 or more,
    at most one first choice with worst 2, or worst 3). Both exact solvers prove it."""
    p = _problem({"A": ["W1", "W2", "W3"], "B": ["W2", "W3", "W1"],
                  "C": ["W1", "W3", "W2"]}, ["W1", "W2", "W3"], kind)
    result = _solved(p, solver)
    assert result.status == Status.OPTIMAL, result.message
    assert {q.student_id: q.workstation_id for q in result.placements} == {
        "A": "W1", "B": "W2", "C": "W3"}
    assert brute_rank_optimum(p, kind) == (3, _value(p, kind, result))
    if kind != "sum":
        assert result.stats["rank_objective"]["proven"] is True


@pytest.mark.parametrize("solver", ["greedy", "da", "flow"])
def test_heuristics_report_the_form_unproven(solver: str) -> None:
    """A solver that keeps its own rule reports level 2 in the chosen form, never proven, and
    never says OPTIMAL for it (flow proves only the rank sum)."""
    p = _problem({"A": ["W1", "W2", "W3"], "B": ["W2", "W3", "W1"],
                  "C": ["W1", "W3", "W2"]}, ["W1", "W2", "W3"], "profile")
    result = _solved(p, solver)
    assert result.status != Status.OPTIMAL
    block = result.stats["rank_objective"]
    assert block["form"] == "profile" and block["proven"] is False
    assert sum(block["profile"]) == result.placed


def test_unknown_form_is_refused_in_both_languages() -> None:
    """A misspelt objective.rank is one located error, in Chinese and English, naming the
    choices; the Chinese names are read."""
    with pytest.raises(ProblemError) as caught:
        ObjectiveSettings(rank="best")
    issue = caught.value.issues[0]
    assert issue.column == "objective.rank"
    assert issue.detail is not None
    assert "sum, profile" in issue.detail.text("en") or "give sum" in issue.detail.text("en")
    assert "志愿" in issue.detail.text("zh")
    assert ObjectiveSettings(rank="最多第一志愿").rank == "profile"
    assert ObjectiveSettings(rank="志愿分布（最多第一志愿）").rank == "profile"
    assert ObjectiveSettings(rank="最差志愿最小").rank == "minimax"
    assert ObjectiveSettings(rank="志愿总和").rank == "sum"
    with pytest.raises(ValueError, match="unknown rank objective"):
        matcher.solve(_problem({"A": ["W1"]}, ["W1"]), "greedy", rank_objective="best")


def _three_answers() -> Problem:
    """The case where sum, profile and minimax choose three different allocations.

    One term, one place per workstation, lists only (``preferences_only``); K = 4::

        A: a            D: z            E: e, f
        B: b, c         (D always takes z, rank 1)    F: f, g
        C: a, b, z, d                   G: z, e, h

    All seven can be placed. Two independent parts (D only blocks z, which is C's third and G's
    first choice, so those can never be had):

    * A, B, C: either (A a, B b, C d) ranks 1, 1, 4 — or (A a, B c, C b) ranks 1, 2, 2 — or
      (A a, B c, C d) ranks 1, 2, 4 (C at a would leave A out);
    * E, F, G: (E e, F f, G h) ranks 1, 1, 3 — or (E f, F g, G e) ranks 2, 2, 2 — or worse
      ((1, 2, 3), (2, 2, 3)).

    So, with D's rank 1:

    =========  ===============================  =========  ===================  =====
    form       allocation (A..G)                sum        profile (1, 2, 3, 4)  worst
    =========  ===============================  =========  ===================  =====
    sum        a, c, b, z, e, f, h              11         (4, 2, 1, 0)          3
    profile    a, b, d, z, e, f, h              12         (5, 0, 1, 1)          4
    minimax    a, c, b, z, f, g, e              12         (2, 5, 0, 0)          2
    =========  ===============================  =========  ===================  =====

    The sum takes the cheaper part answers (5 + 1 + 5); the profile buys a fifth first choice
    with C's fourth; minimax gives everyone at most a second choice at one more rank in all.
    """
    return _problem({"A": ["a"], "B": ["b", "c"], "C": ["a", "b", "z", "d"], "D": ["z"],
                     "E": ["e", "f"], "F": ["f", "g"], "G": ["z", "e", "h"]},
                    ["a", "b", "c", "d", "e", "f", "g", "h", "z"])


ANSWERS = {"sum": "a c b z e f h", "profile": "a b d z e f h", "minimax": "a c b z f g e"}


@pytest.mark.parametrize("kind", FORMS)
@pytest.mark.parametrize("solver", ["cpsat", "milp"])
def test_forms_choose_differently(kind: str, solver: str) -> None:
    """On :func:`_three_answers` each form gets its own hand-derived allocation, proven, and
    the brute force agrees."""
    p = _with_rank(_three_answers(), kind)
    result = _solved(p, solver)
    assert result.status == Status.OPTIMAL, result.message
    got = {q.student_id: q.workstation_id for q in result.placements}
    assert " ".join(got[s] for s in "ABCDEFG") == ANSWERS[kind]
    assert brute_rank_optimum(p, kind) == (7, _value(p, kind, result))


def test_compare_shows_the_chosen_form() -> None:
    """compare gives, beside the rank distribution, the value each result's level 2 took: the
    profile (counts by rank, then off-list) and the worst rank; a sum result adds no such row."""
    from matcher.planning.compare import compare, view_of

    base = _three_answers()
    prof, mini = _with_rank(base, "profile"), _with_rank(base, "minimax")
    a, b = _solved(prof, "cpsat"), _solved(mini, "cpsat")
    table = compare([view_of(a, "profile"), view_of(b, "minimax")], [prof, mini]).kpis
    row = {r["kpi"]: r for r in table.to_dict("records")}
    assert row["rank_objective[profile]"]["profile"] == "5/0/1/1/0"
    assert row["rank_objective[minimax]"]["minimax"] == 2
    assert (row["worst_rank"]["profile"], row["worst_rank"]["minimax"]) == (4, 2)
    plain = compare([view_of(_solved(base, "cpsat"), "sum")] * 2, [base, base]).kpis
    assert "worst_rank" not in set(plain["kpi"])


def test_flow_relaxation_bounds_level_2() -> None:
    """The flow relaxation bounds each form for any allocation placing as many: on
    :func:`_three_answers` at most 5 first choices (C's and G's first are A's and D's), and
    no worst rank below 2 for seven placed (at rank 1 only five fit) — both met there."""
    from matcher.encoding import encode
    from matcher.solvers.cpsat_rank import relaxed_bounds
    from matcher.solvers.flow import relaxation

    for kind, want in (("profile", {"first_choices_ub": 5}), ("minimax", {"worst_rank_lb": 2})):
        enc = encode(_with_rank(_three_answers(), kind))
        assert relaxed_bounds(enc, relaxation(enc), 7) == want
    # The slot model's LP with 0/1 costs above rank 1, at 7 placed: 5 too (met); at 6 placed
    # (one of C or G left out, or B, ...) still at most 5 of them can have a first choice.
    from matcher.solvers.rank_slots import first_choices_bound
    from matcher.solvers.slots import build

    assert [first_choices_bound(enc, build(enc), n) for n in (7, 6, 5)] == [5, 5, 5]


@pytest.mark.parametrize("kind", ["profile", "minimax"])
def test_cpsat_highs_path_proves_each_form(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """cpsat's path for larger problems (HiGHS on every level, level 1 fixed when the quick
    allocation already places the proven maximum) reaches the hand-derived answers too."""
    from matcher.solvers import cpsat_rank

    monkeypatch.setattr(cpsat_rank, "CP_SAT_MAX_CHOICES", 0)
    p = _with_rank(_three_answers(), kind)
    result = _solved(p, "cpsat")
    assert result.stats["engine"] == "aggregated model (HiGHS, every level)"
    assert result.status == Status.OPTIMAL, result.message
    got = {q.student_id: q.workstation_id for q in result.placements}
    assert " ".join(got[s] for s in "ABCDEFG") == ANSWERS[kind]


def test_province_scale_reports_the_sum_engines_allocation(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """Above the size where a model of the form is built, cpsat takes the rank sum's engines
    (the most placed stays proven) and reports level 2 in the chosen form, unproven, with the
    flow relaxation's bound: on :func:`_three_answers` the sum's allocation has 4 first choices
    of at most 5 — and never says OPTIMAL."""
    from matcher.solvers import cpsat

    monkeypatch.setattr(cpsat, "RANKED_MAX_CHOICES", 0)
    p = _with_rank(_three_answers(), "profile")
    result = _solved(p, "cpsat")
    assert result.status == Status.FEASIBLE
    assert result.placed == result.placed_upper_bound == 7
    block = result.stats["rank_objective"]
    assert block["proven"] is False and block["profile"] == [4, 2, 1, 0, 0]
    assert block["first_choices_upper_bound"] == 5 and block["gap"] == 0.2
    assert result.stats["first_choices_bound"] == "slot model LP (0/1 costs above rank 1)"


def test_resolve_keeps_placements_under_a_form() -> None:
    """A re-solve (earlier placements that may be kept) under minimax: CP-SAT level by level,
    placed, then kept, then the worst rank; every earlier placement of :func:`_three_answers`'
    minimax answer is kept and the result is proven."""
    p = _with_rank(_three_answers(), "minimax")
    first = _solved(p, "cpsat")
    prev = {q.student_id: (q.workstation_id, q.mentor_id, q.supervisor_id, q.start_term)
            for q in first.placements}
    again = matcher.solve(p, "cpsat", time_limit_s=PROOF_S, workers=1, previous=prev)
    assert matcher.check(p, again).ok
    assert again.status == Status.OPTIMAL and again.stats["kept"] == 7
    assert again.stats["engine"] == "aggregated model (CP-SAT, level by level)"


@settings(max_examples=examples(8, 80), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_minimax_threshold_search_reaches_the_brute_force_optimum(
        problem: Problem) -> None:
    """cpsat's minimax for larger problems (the least worst rank by the rank sum's engines on
    the lists cut at a rank, then the rank sum there; module rank_threshold), forced onto
    random tiny problems: OPTIMAL, the brute force's value, the checker agrees."""
    from matcher.solvers import cpsat

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cpsat, "THRESHOLD_MIN_CHOICES", 0)
        p = _with_rank(problem, "minimax")
        expected = brute_rank_optimum(p, "minimax")
        result = _solved(p, "cpsat")
    if expected is None:
        assert result.status == Status.INFEASIBLE
        return
    assert result.status == Status.OPTIMAL, result.message
    assert (result.placed, _value(p, "minimax", result)) == expected
    block = result.stats["rank_objective"]
    assert block["proven"] is True and block["worst_rank_lower_bound"] == block["worst_rank"]


def test_profile_one_rank_at_a_time_on_the_slot_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """cpsat's profile path for slot-model problems (module rank_slots: from the rank sum's
    optimum, placed fixed, one 0/1 count per rank, no weights), forced onto
    :func:`_three_answers`: the hand-derived answer, OPTIMAL, each rank's count proven by its
    bound (2, 2 and 1 students above ranks 1, 2, 3; none can be above 4), and the summary says
    so; the checker agrees."""
    from matcher.reports.words import proof
    from matcher.solvers import cpsat, cpsat_rank

    monkeypatch.setattr(cpsat, "SLOT_MIN_CHOICES", 0)
    monkeypatch.setattr(cpsat_rank, "CP_SAT_MAX_CHOICES", 0)
    p = _with_rank(_three_answers(), "profile")
    result = _solved(p, "cpsat")
    assert result.stats["engine"] == "slot model + HiGHS (profile, one rank at a time)"
    assert result.status == Status.OPTIMAL, result.message
    got = {q.student_id: q.workstation_id for q in result.placements}
    assert " ".join(got[s] for s in "ABCDEFG") == ANSWERS["profile"]
    block = result.stats["rank_objective"]
    assert block["proven"] is True and block["levels_proven"] == 4
    assert [(b["rank"], b["above"], b["above_at_least"]) for b in block["level_bounds"]] == [
        (1, 2, 2), (2, 2, 2), (3, 1, 1)]
    # The checker recomputes each rank's count and refuses a wrong one or a broken least.
    bad = dict(block, level_bounds=[dict(block["level_bounds"][0], above_at_least=3),
                                    *block["level_bounds"][1:]])
    report = matcher.check(p, replace(result, stats={**result.stats, "rank_objective": bad}))
    assert [m.code for m in report.issues] == ["objectives.claim_level"]
    # Were only rank 1 proven, the summary would name it and the next rank's bound.
    block.update(proven=False, levels_proven=1)
    line = proof(result, p).text("en")
    assert "ranks 1 to 1" in line and "ranks 1 to 2: at most 5, here 5" in line
    assert "第1至第1志愿" in proof(result, p).text("zh")
