"""A result in words (:mod:`matcher.reports.words`): the proof says exactly which objective
levels are proven, from the bounds and the solver's stats, never from the status alone; the
solve summary in both languages."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import matcher
from matcher.model import Result, Status
from matcher.reports.words import proof, status_word, summary_lines, text_width

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "tiny-cpsat"


@pytest.fixture(scope="module")
def optimum() -> tuple[matcher.Problem, Result]:
    """tiny and its proven optimum (the checked-in cpsat result: placed 5 of at most 5, rank
    cost 7 of at least 7, pair weight 2)."""
    return matcher.load_scenario(TINY), matcher.read_result(GOLDEN)


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("all levels", {}, "proof.all",
     "every objective level proven optimal: placed, rank cost and pair weight"),
    ("pair weight cut", {"stats": {"pair_weight_proven": False}}, "proof.levels_12_pair_open",
     "levels 1-2 proven optimal (placed, rank cost); pair weight not proven"),
    ("rank gap", {"status": Status.FEASIBLE, "rank_cost_lower_bound": 6},
     "proof.placed_only", "placed proven maximal; rank cost not proven optimal (14.286% above "
     "the lower bound 6)"),
    ("no rank bound", {"status": Status.FEASIBLE, "rank_cost_lower_bound": None},
     "proof.placed_only", "placed proven maximal; rank cost not proven optimal (no lower "
     "bound known)"),
    ("placed open", {"status": Status.FEASIBLE, "placed_upper_bound": 6}, "proof.placed_open",
     "placed not proven maximal (at most 6 can be placed)"),
    ("no bounds", {"status": Status.FEASIBLE, "placed_upper_bound": None}, "proof.placed_open",
     "placed not proven maximal (no upper bound known)"),
    ("infeasible", {"status": Status.INFEASIBLE, "placements": ()}, "proof.infeasible",
     "proven: no allocation keeps every rule"),
    ("unknown", {"status": Status.UNKNOWN, "placements": ()}, "proof.unknown",
     "nothing was found or proven within the limits"),
]


@pytest.mark.parametrize(("name", "change", "code", "english"), CASES,
                         ids=[c[0] for c in CASES])
def test_proof_says_exactly_what_is_proven(optimum: tuple[matcher.Problem, Result], name: str,
                                           change: dict[str, Any], code: str,
                                           english: str) -> None:
    """Each combination of bounds and stats gives its own wording, in both languages; an
    OPTIMAL result whose pair weight was cut says so instead of "every level"."""
    problem, result = optimum
    said = proof(dataclasses.replace(result, **change), problem)
    assert said.code == code
    assert said.text("en") == english
    assert said.text("zh") and said.text("zh") != english and "{" not in said.text("zh")


def test_without_pairs_only_two_levels_count(optimum: tuple[matcher.Problem, Result]) -> None:
    """A scenario that rewards no pairs has two levels: both proven is all there is."""
    problem, result = optimum
    plain = problem.model_copy(update={"pairs": ()})
    assert proof(result, plain).code == "proof.levels_12"
    assert "rewards no pairs" in proof(result, plain).text("en")


def test_summary_lines_in_both_languages(optimum: tuple[matcher.Problem, Result]) -> None:
    """The summary's labels line up (CJK characters count double) and carry the figures."""
    problem, result = optimum
    en = summary_lines(result, 6, Path("out"), "en", problem)
    assert en[0].startswith("status      OPTIMAL  (cpsat, ")
    assert en[1] == "placed      5 of 6  (proven maximum 5)"
    assert "rank cost   7  (lower bound 7, gap 0.000%)" in en
    assert en[-1] == "written     out"
    zh = summary_lines(result, 6, Path("out"), "zh", problem)
    assert zh[1] == "已分配        5 人（共 6 人），已证明最多可分配 5 人"
    assert {text_width(line.split()[0]) + len(line) - len(line.split(maxsplit=1)[0])
            - len(line.split(maxsplit=1)[1]) for line in zh} == {14}
    assert status_word(Status.FEASIBLE, "zh") == "可行"
