"""Property tests of every registered solver against the checker and a brute-force optimum.

Problems come from :mod:`strategies` (valid by construction); the brute force is
:mod:`brute`, written from the spec and sharing no code with the solvers. The solver tests are
parametrised over :func:`matcher.solvers.names`, so a solver added to the registry is tested
without touching this file: its results must pass the checker, its status must be honest (only
:data:`matcher.solvers.EXACT` may say OPTIMAL, INFEASIBLE only when no allocation exists), every
OPTIMAL claim must equal the brute-force optimum and every bound it reports must hold.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from brute import Option, brute_force, station_capacity, student_options
from budget import PROOF_S
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import examples, problems, tiny_problems

import matcher
from matcher import solvers
from matcher.cli import cli
from matcher.formats.resultdir import write_result_files
from matcher.messages import Message
from matcher.model import Problem, Result, Status
from matcher.solvers.reasons import REASON_CODES

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
SOLVERS = solvers.names()
DEAR = {"milp": 20, "cpsat": 2}
"""Solvers that cost much more per solve (milp starts a HiGHS helper process for every solve,
about 1 s; cpsat one for most): their property tests run ``1 / factor`` of the examples (at
least 10 by default, 20 in the thorough run)."""
COMPLETE = {"cpsat", "milp"}
"""Exact solvers that search the whole space: on these small problems, with a time limit they
never come near (``PROOF_S``), they must prove their answer (OPTIMAL or INFEASIBLE). Other
solvers in EXACT may claim OPTIMAL only when they can prove it (flow: when its relaxation is
exact)."""
ENTITY_TABLES = ("students", "workstations", "mentors", "supervisors", "universities",
                 "term_capacities", "pairs", "locks")


def _examples(name: str, quick: int, thorough: int) -> int:
    """A battery test's example count for ``name``: the fixed default set, or (``--thorough``)
    the nightly run's fresh random examples, fewer for the dear solvers (:data:`DEAR`)."""
    return examples(max(10, quick // DEAR.get(name, 1)), max(20, thorough // DEAR.get(name, 1)))


def _solve(problem: Problem, solver: str = "cpsat") -> Result:
    return matcher.solve(problem, solver=solver, time_limit_s=PROOF_S, workers=2, seed=0)


def _check_ok(problem: Problem, result: Result) -> matcher.CheckReport:
    """Run the independent checker and require a clean report.

    An UNKNOWN result carries no allocation (a heuristic that could not honour the locks, or
    nothing found in time): it must place nobody, and the checker may then only say that the
    locked students are not placed.
    """
    report = matcher.check(problem, result)
    if result.status == Status.UNKNOWN:
        assert result.placed == 0 and not result.placements
        assert all(v.startswith("rule 6: locked student") and v.endswith("is not placed")
                   for v in report.violations), report.violations
        return report
    assert report.ok, report.violations
    return report


def _rebuild(problem: Problem, **changes: object) -> Problem:
    """A fully re-validated copy of ``problem`` with some fields replaced."""
    fields = {f: getattr(problem, f) for f in Problem.model_fields}
    return Problem(**{**fields, **changes})


def min_rank_cost(p: Problem, placed: int) -> int | None:
    """The least rank cost of any allocation placing exactly ``placed`` students (brute force).

    None when no allocation places exactly that many (with every lock kept). Uses the
    per-student options of :mod:`brute` and its own capacity bookkeeping.
    """
    students = sorted(p.students, key=lambda s: s.student_id)
    locked = {lk.student_id for lk in p.locks}
    options = [student_options(p, s) for s in students]
    ws_left = dict(station_capacity(p))
    m_left = {(m.mentor_id, t): m.capacity for m in p.mentors for t in range(len(p.terms))}
    s_left = {s.supervisor_id: s.capacity for s in p.supervisors}
    best: list[int | None] = [None]

    def fits(o: Option) -> bool:
        return s_left[o.supervisor] > 0 and all(
            ws_left[o.workstation, t] > 0 and m_left[o.mentor, t] > 0 for t in o.terms)

    def take(o: Option, d: int) -> None:
        s_left[o.supervisor] -= d
        for t in o.terms:
            ws_left[o.workstation, t] -= d
            m_left[o.mentor, t] -= d

    def dfs(i: int, count: int, cost: int) -> None:
        if count + (len(students) - i) < placed or (best[0] is not None and cost >= best[0]):
            return
        if i == len(students):
            best[0] = cost if count == placed else best[0]
            return
        if count < placed:
            for o in options[i]:
                if fits(o):
                    take(o, 1)
                    dfs(i + 1, count + 1, cost + o.cost)
                    take(o, -1)
        if students[i].student_id not in locked:
            dfs(i + 1, count, cost)

    dfs(0, 0, 0)
    return best[0]


def _assert_bounds_consistent(problem: Problem, result: Result) -> None:
    """Bounds agree with the result itself: placed <= upper bound, rank cost >= lower bound."""
    ub, lb = result.placed_upper_bound, result.rank_cost_lower_bound
    if ub is not None:
        assert result.placed <= ub <= len(problem.students), (result.placed, ub)
    if lb is not None:
        assert 0 <= lb <= result.rank_cost, (lb, result.rank_cost)
    if result.status == Status.OPTIMAL:
        assert ub in (None, result.placed) and lb in (None, result.rank_cost), (ub, lb)


def _assert_conflict_named(problem: Problem, result: Result, *, minimal: bool) -> None:
    """The locked students an INFEASIBLE message names are a real conflict: their locks alone
    admit no allocation (brute force). With ``minimal`` the set is also as small as can be:
    dropping any one lock of it leaves a feasible set, or else every named lock is impossible
    even on its own (then each of them must change)."""
    match = re.search(r"locks\.csv rows? ([\d, ]+)", result.message)
    rows = {int(x) for x in match.group(1).replace(" ", "").split(",") if x} if match else set()
    named = [lk for k, lk in enumerate(problem.locks, start=1) if k in rows]
    assert named, f"INFEASIBLE must name the conflicting locks: {result.message!r}"
    assert brute_force(_rebuild(problem, locks=tuple(named))) is None, result.message
    if not minimal or len(named) == 1:
        return
    each_alone = all(brute_force(_rebuild(problem, locks=(lk,))) is None for lk in named)
    if each_alone:
        return
    for lk in named:
        rest = tuple(x for x in named if x is not lk)
        assert brute_force(_rebuild(problem, locks=rest)) is not None, (
            f"not a smallest conflict: {result.message!r} holds without {lk.student_id}")


# ---- every registered solver ------------------------------------------------------------------
@pytest.mark.parametrize("name", SOLVERS)
def test_solver_keeps_every_rule(name: str) -> None:
    """Every solver's result passes the checker, with an honest status and consistent bounds."""

    @settings(max_examples=_examples(name, 40, 400), **SETTINGS)
    @given(problems())
    def run(problem: Problem) -> None:
        result = _solve(problem, name)
        assert result.solver == name
        _check_ok(problem, result)
        if name not in solvers.EXACT:
            assert result.status != Status.OPTIMAL, "only exact solvers may claim OPTIMAL"
        if name in COMPLETE:
            assert result.status in (Status.OPTIMAL, Status.INFEASIBLE), result.message
        if result.status in (Status.INFEASIBLE, Status.UNKNOWN):
            assert result.placed == 0 and not result.placements
            if result.status == Status.INFEASIBLE:
                assert problem.locks, "only conflicting locks can make a problem infeasible"
        else:
            assert len(result.placements) + len(result.unassigned) == len(problem.students)
            # every reason is structured, with a code the catalogue words in both languages
            assert all(isinstance(reason, Message) and reason.code in REASON_CODES
                       and reason.text("en").strip() and reason.text("zh").strip()
                       for _, reason in result.unassigned)
        _assert_bounds_consistent(problem, result)

    run()


@pytest.mark.parametrize("name", SOLVERS)
def test_solver_claims_match_brute_force(name: str) -> None:
    """On tiny problems every claim is true: OPTIMAL equals the brute-force optimum, INFEASIBLE
    means no allocation exists, every bound holds against the exhaustive search, and a complete
    solver proves the optimum."""

    @settings(max_examples=_examples(name, 80, 1200), **SETTINGS)
    @given(tiny_problems())
    def run(problem: Problem) -> None:
        expected = brute_force(problem)
        result = _solve(problem, name)
        _check_ok(problem, result)
        if expected is None:
            assert result.status in (Status.INFEASIBLE, Status.UNKNOWN), result.status
            assert result.placed == 0
            if result.status == Status.INFEASIBLE:
                _assert_conflict_named(problem, result, minimal=name in COMPLETE)
            return
        assert result.status != Status.INFEASIBLE, "INFEASIBLE claimed, but an allocation exists"
        if name in COMPLETE:
            assert result.status == Status.OPTIMAL, (result.status, result.message)
        if result.status == Status.OPTIMAL:
            got = (result.placed, result.rank_cost)
            assert got == (expected.placed, expected.rank_cost), (got, expected)
            # OPTIMAL is about levels 1 and 2; a level-3 claim is made in the stats.
            if result.stats.get("pair_weight_proven", True):
                assert abs(result.pair_weight - expected.pair_weight) <= 1e-6
        # Whatever the status: no allocation beats the optimum; bounds hold against it.
        assert result.placed <= expected.placed
        if result.placed == expected.placed:
            assert result.rank_cost >= expected.rank_cost
        if result.placed_upper_bound is not None:
            assert result.placed_upper_bound >= expected.placed
        if result.rank_cost_lower_bound is not None:
            least = min_rank_cost(problem, result.placed)
            assert least is not None and result.rank_cost_lower_bound <= least
        pair_ub = result.stats.get("pair_weight_upper_bound")
        if pair_ub is not None and (result.placed, result.rank_cost) == (
                expected.placed, expected.rank_cost):
            assert pair_ub >= expected.pair_weight - 1e-6

    run()


@settings(max_examples=examples(50, 600), **SETTINGS)
@given(tiny_problems())
def test_brute_force_optimum_keeps_every_rule(problem: Problem) -> None:
    """The brute-force optimum itself passes the checker (a check on the reference)."""
    expected = brute_force(problem)
    if expected is None:
        return
    rows = [{"student_id": sid, "workstation_id": o.workstation, "mentor_id": o.mentor,
             "supervisor_id": o.supervisor, "start_term": problem.terms[o.start],
             "end_term": problem.terms[o.terms[-1]], "preference_rank": ""}
            for sid, o in expected.allocation.items()]
    own = matcher.check(problem, rows)
    assert own.ok, own.violations
    assert (own.placed, own.rank_cost) == (expected.placed, expected.rank_cost)
    assert abs(own.pair_weight - expected.pair_weight) <= 1e-6
    assert min_rank_cost(problem, expected.placed) == expected.rank_cost


def test_tiny_scenario_known_optimum() -> None:
    """scenarios/tiny solves to its hand-derived optimum (5 placed, rank cost 7, pair weight 2)."""
    expected = json.loads((TINY / "expected.json").read_text(encoding="utf-8"))
    problem = matcher.load_scenario(TINY)
    result = _solve(problem)
    assert result.status == Status.OPTIMAL
    assert result.placed == expected["placed"]
    assert result.rank_cost == expected["rank_cost"]
    assert abs(result.pair_weight - expected["pair_weight"]) <= 1e-6
    report = matcher.check(problem, result)
    assert report.ok, report.violations
    optimum = brute_force(problem)
    assert optimum is not None
    assert (optimum.placed, optimum.rank_cost, optimum.pair_weight) == (5, 7, 2)


def _written(result: Result) -> dict[str, bytes]:
    """The bytes a result folder holds for the allocation (not the timings): the CSVs as
    ``matcher.write_result`` writes them (its first step; the workbook and report, which only
    present these rows, are left out to keep the battery fast)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = write_result_files(result, Path(tmp) / "out")
        return {n: (out / n).read_bytes() for n in ("assignments.csv", "unassigned.csv")}


@pytest.mark.parametrize("name", SOLVERS)
def test_row_order_irrelevant(name: str) -> None:
    """Shuffling the rows of every table gives byte-identical assignments.csv and
    unassigned.csv, the same status and the same bounds, for every solver."""

    @settings(max_examples=_examples(name, 12, 160), **SETTINGS)
    @given(problems(), st.randoms(use_true_random=False))
    def run(problem: Problem, rnd: random.Random) -> None:
        shuffled = {}
        for table in ENTITY_TABLES:
            rows = list(getattr(problem, table))
            rnd.shuffle(rows)
            shuffled[table] = tuple(rows)
        base = _solve(problem, name)
        other = _solve(_rebuild(problem, **shuffled), name)
        assert (other.status, other.placed, other.rank_cost) == (
            base.status, base.placed, base.rank_cost)
        assert (other.placed_upper_bound, other.rank_cost_lower_bound) == (
            base.placed_upper_bound, base.rank_cost_lower_bound)
        assert _written(other) == _written(base)

    run()


def _shuffle_csv_rows(folder: Path, seed: int) -> None:
    """Shuffle the data rows of every CSV in ``folder`` (header kept first)."""
    rng = random.Random(seed)
    for path in sorted(folder.glob("*.csv")):
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        rng.shuffle(rows)
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


@pytest.mark.parametrize("name", SOLVERS)
def test_shuffled_files_same_result_files(name: str, tmp_path: Path) -> None:
    """`matcher solve` on tiny with the rows of every CSV shuffled writes byte-identical
    assignments.csv and unassigned.csv, and the same summary apart from timings and the
    input hash (the files differ)."""
    outs = []
    for seed in (None, 1, 2):
        scen = tmp_path / f"scen-{seed}"
        shutil.copytree(TINY, scen)
        if seed is not None:
            _shuffle_csv_rows(scen, seed)
        out = tmp_path / f"out-{seed}"
        r = CliRunner().invoke(cli, ["solve", str(scen), "--out", str(out), "--solver", name,
                                     "--seed", "0", "--workers", "2"], catch_exceptions=False)
        assert r.exit_code in (0, 1), r.output
        outs.append(out)
    assert (tmp_path / "scen-1" / "students.csv").read_bytes() != (
        TINY / "students.csv").read_bytes()

    def summary(out: Path) -> dict[str, Any]:
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        s.pop("input_sha256")
        s.pop("wall_seconds")
        s.pop("input_files", None)
        s["stats"] = {k: v for k, v in s.get("stats", {}).items()
                      if not k.endswith("_seconds")}
        return s

    for out in outs[1:]:
        for file in ("assignments.csv", "unassigned.csv"):
            assert (out / file).read_bytes() == (outs[0] / file).read_bytes(), file
        assert summary(out) == summary(outs[0])
