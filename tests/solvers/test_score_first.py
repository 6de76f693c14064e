"""Tests of score first (分数优先，遵循志愿, ``--policy priority``): serial dictatorship.

The reference is the rule written out here from its words, by id, sharing no code with the
solver (no encoding): students in order (locked first, then higher ``priority``, ties by
``student_id``) each take the best choice still possible — listed workstations in rank order,
then (unless ``preferences_only``) the others by id; at a workstation the earliest start with a
place in every term and the first mentor (by id) of the discipline with room in every term; the
given supervisor, else the first (by id) of the university and discipline with room.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from strategies import examples, problems, tiny_problems

import matcher
from matcher.check import blocking_pairs
from matcher.cli import cli
from matcher.model import Problem, Result, SolverSettings, Status

DEMO = Path(__file__).resolve().parents[2] / "scenarios" / "heilongjiang-demo"
TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


def score_first_by_the_rule(p: Problem) -> dict[str, tuple[str, str, str, str]] | None:
    """Student id -> (workstation, mentor, supervisor, start term), by the rule's words; None
    when a locked student cannot be placed."""
    terms = list(p.terms)
    ws_left = {(w.workstation_id, t): w.capacity for w in p.workstations for t in terms}
    for tc in p.term_capacities:
        ws_left[tc.workstation_id, tc.term] = tc.capacity
    m_left = {(m.mentor_id, t): m.capacity for m in p.mentors for t in terms}
    s_left = {s.supervisor_id: s.capacity for s in p.supervisors}
    locks = {lk.student_id: lk for lk in p.locks}
    stations = sorted(p.workstations, key=lambda w: w.workstation_id)
    mentors = sorted(p.mentors, key=lambda m: m.mentor_id)
    sups = sorted(p.supervisors, key=lambda s: s.supervisor_id)
    out: dict[str, tuple[str, str, str, str]] = {}
    order = sorted(p.students, key=lambda s: (s.student_id not in locks, -s.priority,
                                              s.student_id))
    for st in order:
        lock = locks.get(st.student_id)
        given = [s for s in sups if s.supervisor_id == st.supervisor_id] if st.supervisor_id \
            else [s for s in sups if s.university_id == st.university_id
                  and st.discipline in s.disciplines]
        sup = next((s for s in given if s.capacity > 0 and s_left[s.supervisor_id] > 0), None)
        if sup is None:
            if lock is not None:
                return None
            continue
        n = math.ceil(p.required_months(st) / p.term_months)
        first, last = p.window(st)
        by_id = {w.workstation_id: w for w in stations}
        if lock is not None:
            tries = [by_id[lock.workstation_id]]
        else:
            tries = [by_id[w] for w in st.preferences]
            if not p.policy.preferences_only:
                tries += [w for w in stations if w.workstation_id not in st.preferences]
        cost = {w: r for r, w in enumerate(st.preferences)}
        if lock is not None:  # a lock's options in cost order, then start
            tries.sort(key=lambda w: cost.get(w.workstation_id, len(st.preferences)))
        done = False
        for w in tries:
            wid = w.workstation_id
            if st.discipline not in w.disciplines or (
                    w.partner_universities and st.university_id not in w.partner_universities):
                continue
            ms = [m for m in mentors if m.workstation_id == wid and st.discipline in m.disciplines
                  and m.capacity > 0]
            if lock is not None and lock.mentor_id is not None:
                ms = [m for m in ms if m.mentor_id == lock.mentor_id]
            for k in range(first, last - n + 2):
                block = terms[k:k + n]
                if lock is not None and lock.start_term is not None and terms[k] != \
                        lock.start_term:
                    continue
                if not all(_open(p, wid, t) for t in block):
                    continue
                if not all(ws_left[wid, t] > 0 for t in block):
                    continue
                m = next((m for m in ms if all(m_left[m.mentor_id, t] > 0 for t in block)),
                         None)
                if m is None:
                    continue
                for t in block:
                    ws_left[wid, t] -= 1
                    m_left[m.mentor_id, t] -= 1
                s_left[sup.supervisor_id] -= 1
                out[st.student_id] = (wid, m.mentor_id, sup.supervisor_id, terms[k])
                done = True
                break
            if done:
                break
        if lock is not None and not done:
            return None
    return out


def _open(p: Problem, wid: str, term: str) -> bool:
    """Whether a workstation is open in a term (its capacity then is above 0)."""
    cap = next(w.capacity for w in p.workstations if w.workstation_id == wid)
    for tc in p.term_capacities:
        if tc.workstation_id == wid and tc.term == term:
            cap = tc.capacity
    return cap > 0


def _placed(r: Result) -> dict[str, tuple[str, str, str, str]]:
    return {pl.student_id: (pl.workstation_id, pl.mentor_id, pl.supervisor_id, pl.start_term)
            for pl in r.placements}


def _priority(p: Problem) -> Result:
    return matcher.solve(p, "cpsat", policy="priority", time_limit_s=10)


def _without_rankings(p: Problem) -> Problem:
    return Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, "rankings": ()})


@settings(max_examples=examples(50, 600), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(problems(max_students=10, max_workstations=4))
def test_score_first_follows_its_rule(p: Problem) -> None:
    """On generated problems (terms, closed terms, mentors, supervisors, partnerships,
    preferences_only, locks) the policy places exactly as the rule's own words say, keeps every
    rule, and says FEASIBLE with the policy named (UNKNOWN, placing nobody, when a locked
    student finds no room)."""
    r = _priority(p)
    assert r.solver == "greedy" and r.stats["policy"] == "priority"
    expected = score_first_by_the_rule(p)
    if expected is None:
        assert r.status == Status.UNKNOWN and not r.placements
        return
    assert r.status == Status.FEASIBLE
    assert _placed(r) == expected
    assert matcher.check(p, r).ok


@settings(max_examples=examples(60, 800), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(tiny_problems())
def test_score_first_leaves_no_blocking_pair(p: Problem) -> None:
    """When workstations rank students by priority (no rankings.csv), score first leaves no
    blocking pair under the definition that respects the whole placement — locks included
    (a locked student is placed first and never displaced) — unless a lock could not be
    honoured (then it places nobody and says UNKNOWN)."""
    p = _without_rankings(p)
    r = _priority(p)
    if r.status == Status.UNKNOWN:
        assert not r.placements and "locks" in r.message
        return
    assert r.status == Status.FEASIBLE
    assert matcher.check(p, r).ok
    assert blocking_pairs(p, r) == []


def test_demo_score_first() -> None:
    """On the demo score first places 1,807 of 2,000 (the objective places all: its price),
    with no blocking pair; the old definition finds 944 that no workstation could honour."""
    p = matcher.load_scenario(DEMO)
    r = _priority(p)
    assert (r.placed, r.placed_upper_bound) == (1807, 2000)
    assert blocking_pairs(p, r) == []
    assert len(blocking_pairs(p, r, "strict")) == 944


def _with_policy(p: Problem, policy: Any) -> Problem:
    return Problem(**{**{f: getattr(p, f) for f in Problem.model_fields},
                      "solver": SolverSettings(policy=policy)})


def test_scenario_policy_and_its_chinese_names() -> None:
    """``solver: {policy: priority}`` makes every solve score first (``分数优先`` means the
    same); ``policy="objective"`` overrides it; an unknown name is refused."""
    p = matcher.load_scenario(TINY)
    for name in ("priority", "分数优先", "分数优先，遵循志愿", "Score First"):
        q = _with_policy(p, name)
        assert q.solver.policy == "priority"
        assert matcher.solve(q, "cpsat").stats["policy"] == "priority"
    q = _with_policy(p, "priority")
    assert matcher.solve(q, "cpsat", policy="objective", time_limit_s=10).solver == "cpsat"
    with pytest.raises(matcher.ProblemError):
        _with_policy(p, "lottery")
    with pytest.raises(ValueError, match="two different rules"):
        matcher.solve(q, "cpsat", stable=True)


def test_cli_policy_priority(tmp_path: Path) -> None:
    """``matcher solve --policy priority`` names the rule in the summary, records it in the
    manifest so that ``matcher verify`` re-runs it, and refuses ``--stable`` with it."""
    out = tmp_path / "out"
    run = CliRunner()
    r = run.invoke(cli, ["solve", str(TINY), "--out", str(out), "--policy", "priority",
                         "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "policy      score first" in r.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["solver"]["name"] == "greedy"
    assert manifest["solver"]["options"] == {"policy": "priority"}
    v = run.invoke(cli, ["verify", str(out)])
    assert v.exit_code == 0, v.output
    zh = run.invoke(cli, ["solve", str(TINY), "--out", str(tmp_path / "zh"), "--policy",
                          "priority", "--lang", "zh"])
    assert "分数优先，遵循志愿" in zh.stdout
    bad = run.invoke(cli, ["solve", str(TINY), "--out", str(tmp_path / "x"), "--policy",
                           "priority", "--stable", "--lang", "en"])
    assert bad.exit_code == 2 and "two different rules" in bad.stderr, bad.output
    assert not (tmp_path / "x").exists()
