"""The checker's findings are catalogue messages (``check.po``): each kind has a stable code,
its values, and a text in Chinese and in English; ``matcher check --lang zh`` prints them in
Chinese.

Each case breaks tiny's hand-written optimum (``scenarios/tiny/README.md``) in one way and names
the code it must give and a value the text must show; a ``check.*`` code without a case here
fails :func:`test_every_finding_code_has_a_case`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import matcher
from matcher.check import CheckReport, check, check_result_dir
from matcher.cli import cli
from matcher.messages import catalogue, render
from matcher.model import GroupMember, Lock, Problem, Veto

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
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def tiny() -> Problem:
    """The tiny scenario, loaded once."""
    return matcher.load_scenario(TINY)


def _rows(**changes: dict[str, str]) -> list[dict[str, str]]:
    """The optimum's rows, with some students' rows changed."""
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in OPTIMUM]
    for row in rows:
        row.update(changes.get(row["student_id"], {}))
    return rows


def _with(p: Problem, **fields: Any) -> Problem:
    return Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, **fields})


def _edit(p: Problem, field: str, key: str, ident: str, **changes: Any) -> Problem:
    items = tuple(x.model_copy(update=changes) if getattr(x, key) == ident else x
                  for x in getattr(p, field))
    return p.model_copy(update={field: items})


Case = Callable[[Problem], CheckReport]
CASES: dict[str, tuple[Case, str]] = {  # code -> (how to break the optimum, a value shown)
    "check.unknown_student": (lambda p: check(p, [*_rows(), {**_rows()[0], "student_id": "S9"}]),
                              "S9"),
    "check.placed_twice": (lambda p: check(p, [*_rows(), _rows()[2]]), "S3"),
    "check.unknown_ids": (lambda p: check(p, _rows(S1={"workstation_id": "W9"})), "W9"),
    "check.bad_terms": (lambda p: check(p, _rows(S3={"start_term": "2030-autumn",
                                                     "end_term": "2030-autumn"})),
                        "2030-autumn"),
    "check.term_count": (lambda p: check(p, _rows(S1={"end_term": A})), "S1"),
    "check.outside_window": (lambda p: check(p, _rows(S3={"start_term": "2026-spring",
                                                          "end_term": "2026-spring"})),
                             "2026-spring"),
    "check.too_many_blocks": (lambda p: check(p, _rows(S2={
        "start_term": "2025-autumn", "terms": f"2025-autumn;{B}"})), "2025-autumn"),
    "check.short_block": (lambda p: check(
        _with(p, policy=p.policy.model_copy(update={"max_segments": 2, "min_segment_months": 12,
                                                    "window": None})),
        _rows(S2={"start_term": "2025-autumn", "terms": f"2025-autumn;{B}"})), "2025-autumn"),
    "check.vetoed": (lambda p: check(_with(p, vetoes=(Veto(student_id="S2",
                                                           workstation_id="W1"),)), _rows()),
                     "W1"),
    "check.mentor_elsewhere": (lambda p: check(p, _rows(S3={"mentor_id": "W1-M1"})), "W1-M1"),
    "check.supervisor_elsewhere": (lambda p: check(p, _rows(S2={"supervisor_id": "HEU-S1"})),
                                   "HEU-S1"),
    "check.discipline": (lambda p: check(_edit(p, "mentors", "mentor_id", "W2-M2",
                                               disciplines=("9999",)), _rows()), "W2-M2"),
    "check.partners": (lambda p: check(_edit(p, "workstations", "workstation_id", "W2",
                                             partner_universities=("HIT",)), _rows()), "HIT"),
    "check.supervisor_replaced": (lambda p: check(_edit(p, "students", "student_id", "S5",
                                                        supervisor_id="HEU-S1"), _rows()),
                                  "HEU-S2"),
    "check.off_list": (lambda p: check(_with(
        _edit(p, "students", "student_id", "S4", preferences=("W2",)),
        policy=p.policy.model_copy(update={"preferences_only": True})),
        _rows(S4={"preference_rank": ""})), "W3"),
    "check.rank_claim": (lambda p: check(p, _rows(S1={"preference_rank": "1"})), "S1"),
    "check.workstation_capacity": (lambda p: check(p, _rows(S3={"start_term": B,
                                                                "end_term": B})), B),
    "check.mentor_capacity": (lambda p: check(_edit(p, "mentors", "mentor_id", "W2-M1",
                                                    capacity=1), _rows()), "W2-M1"),
    "check.supervisor_capacity": (lambda p: check(p, _rows(S4={"supervisor_id": "HEU-S2"})),
                                  "HEU-S2"),
    "check.lock_unplaced": (lambda p: check(p.model_copy(update=dict(locks=(Lock(student_id="S6",
                                                                 workstation_id="W3"),))),
                                            _rows()), "S6"),
    "check.lock_workstation": (lambda p: check(p.model_copy(update=dict(locks=(Lock(student_id="S4",
                                                                    workstation_id="W2"),))),
                                               _rows()), "S4"),
    "check.lock_mentor": (lambda p: check(p.model_copy(update=dict(locks=(Lock(
        student_id="S3", workstation_id="W2", mentor_id="W2-M2"),))), _rows()), "W2-M2"),
    "check.lock_start": (lambda p: check(p.model_copy(update=dict(locks=(Lock(
        student_id="S3", workstation_id="W2", start_term=B),))), _rows()), B),
    "check.group_split": (lambda p: check(_with(p, groups=(
        GroupMember(group_id="G7", student_id="S4"), GroupMember(group_id="G7", student_id="S5"))),
        [r for r in _rows() if r["student_id"] != "S5"]), "G7"),
    "check.group_apart": (lambda p: check(_with(p, groups=(
        GroupMember(group_id="G7", student_id="S1"), GroupMember(group_id="G7", student_id="S2"))),
        _rows()), "G7"),
    "check.min_intake": (lambda p: check(_edit(p, "workstations", "workstation_id", "W1",
                                               min_intake=2), _rows()), "W1"),
    "check.claim_infeasible": (lambda p: check(p, _rows(), claims={"status": "INFEASIBLE"}),
                               "INFEASIBLE"),
    "check.claim_figure": (lambda p: check(p, _rows(), claims={**CLAIMS, "rank_cost": 6}),
                           "rank_cost"),
    "check.claim_unassigned": (lambda p: check(p, _rows(), claims={**CLAIMS, "unassigned": 0}),
                               "0"),
    "check.claim_above_bound": (lambda p: check(p, _rows(), claims={
        **CLAIMS, "status": "FEASIBLE", "placed_upper_bound": 4}), "4"),
    "check.claim_below_bound": (lambda p: check(p, _rows(), claims={
        **CLAIMS, "rank_cost_lower_bound": 8}), "8"),
    "check.claim_optimal_placed": (lambda p: check(p, _rows(), claims={
        **CLAIMS, "placed_upper_bound": 6}), "6"),
    "check.claim_optimal_rank": (lambda p: check(p, _rows(), claims={
        **CLAIMS, "rank_cost_lower_bound": 6}), "6"),
}
# Parts of other findings, not findings of their own (each shown by a case above).
PARTS = {"check.row", "check.named", "check.terms_unknown_span", "check.terms_unknown",
         "check.terms_order", "check.terms_ends", "check.no_rank", "check.member_at"}
# Findings about a result folder's files (shown by test_folder_findings_in_both_languages).
FOLDER = {"check.not_listed", "check.listed_twice"}


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_finding_in_both_languages(tiny: Problem, code: str) -> None:
    """The broken allocation gives the finding's code; its Chinese text is Chinese (no English
    words but ids and field names), its English text keeps the ``rule N:`` line, and both
    show the key value."""
    make, value = CASES[code]
    rep = make(tiny)
    found = [m for m in rep.issues if m.code == code]
    assert found, [m.code for m in rep.issues]
    zh, en = render(found[0], "zh"), render(found[0], "en")
    assert value in zh and value in en, (zh, en)
    assert HAN.search(zh) and not HAN.search(en), (zh, en)
    assert "{" not in zh + en and "rule" not in zh and "claim" not in zh, zh
    assert en in rep.violations and rep.lines("zh") == [render(m, "zh") for m in rep.issues]


def test_every_finding_code_has_a_case() -> None:
    """Every ``check.*`` code of the catalogue is a finding with a case above, a part of one,
    or a folder finding: a new finding without a bilingual test fails here."""
    codes = {c for c in catalogue("en") if c.startswith("check.")}
    assert codes == set(CASES) | PARTS | FOLDER


def test_parts_are_worded_in_the_language(tiny: Problem) -> None:
    """A finding's parts (the row, the ids, the terms' reason, the group's members) are worded
    in the finding's language, not left in English."""
    rep = CASES["check.unknown_ids"][0](tiny)
    assert rep.lines("zh") == ["规则1：分配结果第1行（学生 S1）：方案中没有工作站“W9”"]
    assert rep.violations == ["rule 1: assignment row 1 (S1): unknown workstation 'W9'"]
    apart = [m for m in CASES["check.group_apart"][0](tiny).issues if m.code == "check.group_apart"]
    assert render(apart[0], "zh") == (
        "规则8：小组 G7 没有安排在一起："
        "S1 在 W2（自 2026-autumn 起）、S2 在 W1（自 2026-autumn 起）")
    rank = [m for m in check(tiny, _rows(S1={"workstation_id": "W3", "mentor_id": "W3-M1",
                                             "preference_rank": "1"})).issues
            if m.code == "check.rank_claim"]
    assert "无（不在志愿中）" in render(rank[0], "zh")


def test_a_report_finds_its_students(tiny: Problem) -> None:
    """``CheckReport.about`` finds the findings naming a student (its row, a lock, a group),
    and not those of a student whose id merely contains it (S1 is not S10)."""
    rep = check(tiny.model_copy(update={"locks": (Lock(student_id="S4", workstation_id="W2"),)}),
                _rows(S1={"end_term": A}))
    assert [m.code for m in rep.about("S1")] == ["check.term_count"]
    assert [m.code for m in rep.about("S4")] == ["check.lock_workstation"]
    assert rep.about("S") == []
    assert [m.code for m in rep.unfit()] == []


def test_folder_findings_in_both_languages(tiny: Problem, tmp_path: Path) -> None:
    """A result folder that lists a placed student as unassigned, and forgets another, gives
    ``check.listed_twice`` and ``check.not_listed`` in both languages."""
    out = tmp_path / "r"
    matcher.write_result(matcher.solve(tiny, solver="greedy", time_limit_s=5, seed=0, workers=1),
                         out)
    un = out / "unassigned.csv"
    lines = un.read_text(encoding="utf-8").splitlines()
    un.write_text("\n".join([lines[0], "S1,placed after all"]) + "\n", encoding="utf-8")
    rep = check_result_dir(tiny, out)
    codes = {m.code: m for m in rep.issues}
    assert set(codes) >= FOLDER, list(codes)
    assert "既被安排了" in render(codes["check.listed_twice"], "zh")
    assert "未分配名单" in render(codes["check.not_listed"], "zh")
    assert "both placed and listed" in render(codes["check.listed_twice"], "en")


@pytest.mark.parametrize(("lang", "line", "total"), [
    ("zh", "违规：规则5：工作站 W2 在 2027-spring 安排了 3 名学生，超过其容量 2", "共 1 处违规"),
    ("en", "violation: rule 5: workstation W2 holds 3 students in 2027-spring, capacity 2",
     "1 violation(s)"),
])
def test_matcher_check_speaks_the_language(tiny: Problem, tmp_path: Path, lang: str, line: str,
                                           total: str) -> None:
    """``matcher check --lang zh`` on a broken allocation names the violation in Chinese
    (``--lang en`` in English), exit 1."""
    out = tmp_path / "r"
    rows = _rows(S3={"start_term": B, "end_term": B, "terms": B})
    matcher.write_result(matcher.solve(tiny, solver="greedy", time_limit_s=5, seed=0, workers=1),
                         out)
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    header = (broken / "assignments.csv").read_text(encoding="utf-8").splitlines()[0]
    cols = header.split(",")
    body = [",".join(r.get(c, "") for c in cols) for r in rows]
    (broken / "assignments.csv").write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    (broken / "summary.json").unlink()
    (broken / "unassigned.csv").write_text("student_id,reason\nS6,none\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["check", str(TINY), str(broken), "--lang", lang])
    assert r.exit_code == 1, r.output
    assert line in r.stdout.splitlines(), r.stdout
    assert r.stdout.splitlines()[-1] == total
