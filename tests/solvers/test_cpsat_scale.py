"""The exact solver's scale guards (:mod:`matcher.solvers.cpsat`): which engine runs where.

Province-sized models are not built for CP-SAT (``MAX_CHOICES``); mid-sized ones hand levels 2-3
to HiGHS (``LP_MIN_VARIABLES``..``LP_MAX_VARIABLES``). These tests force each path on small
generated cohorts, so they stay fast, and check the results with the independent checker.
"""

from __future__ import annotations

import multiprocessing
import time

import pytest

import matcher
from matcher.encoding import encode
from matcher.model import Status
from matcher.planning.generate import generate_scenario
from matcher.solvers import cpsat, cpsat_model, cpsat_province, lagrange
from matcher.solvers.aggregate import choice_count


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> matcher.Problem:
    folder = generate_scenario(tmp_path_factory.mktemp("g") / "g", students=150,
                               workstations=14, universities=3, seed=21)
    return matcher.load_scenario(folder)


def test_choice_count_matches_the_built_model(cohort: matcher.Problem) -> None:
    """The size estimate used before building equals the model's choice variables (y, ovf)."""
    enc = encode(cohort)
    mdl = cpsat_model.build_model(enc).agg
    assert choice_count(enc) == len(mdl.y) + len(mdl.ovf)


def test_too_large_model_returns_checked_warm_start(cohort: matcher.Problem,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Above MAX_CHOICES no model is built: the result is the best quick allocation after
    augmenting and local moves, valid, with the flow bounds, honest status and a note why
    (the classic path: the slot model, which would otherwise take this cohort, is off)."""
    monkeypatch.setattr(cpsat, "USE_SLOT_MODEL", False)
    monkeypatch.setattr(cpsat_province, "MAX_CHOICES", 10)
    result = matcher.solve(cohort, solver="cpsat", time_limit_s=10, workers=2, seed=0)
    assert result.stats["model"] == "not built"
    assert "too large for CP-SAT" in result.message
    assert matcher.check(cohort, result).ok
    exact = matcher.solve(cohort, solver="milp", time_limit_s=30, workers=2, seed=0)
    assert exact.status == Status.OPTIMAL
    assert result.placed <= exact.placed and result.placed_upper_bound >= exact.placed
    assert result.rank_cost_lower_bound is not None
    if result.placed == exact.placed:
        assert result.rank_cost_lower_bound <= exact.rank_cost <= result.rank_cost
    if result.status == Status.OPTIMAL:
        assert (result.placed, result.rank_cost) == (exact.placed, exact.rank_cost)


def test_plain_model_size_estimate_is_exact(cohort: matcher.Problem) -> None:
    """The plain model's per-profile size estimate (its memory guard) counts exactly the
    booleans it would build: one per (option, mentor) plus one per possible supervisor."""
    from matcher.solvers import plain

    enc = encode(cohort)
    direct = sum(len(plain._options(enc, i)) + len(enc.supervisors_for(i))
                 for i in range(enc.n_students))
    assert plain.estimated_booleans(enc) == direct


def test_too_large_model_uses_the_lp_relaxation_when_it_fits(cohort: matcher.Problem,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """Without a CP-SAT model the LP relaxation gives the bound (never above the exact optimum,
    never below the flow bound the result would have without it) and guides a rounding; above
    LP_GUIDE_MAX_CHOICES the Lagrangian bound (its helper process) takes its place (the
    classic path: the slot model is off)."""
    monkeypatch.setattr(cpsat, "USE_SLOT_MODEL", False)
    monkeypatch.setattr(cpsat_province, "MAX_CHOICES", 10)
    with_lp = matcher.solve(cohort, solver="cpsat", time_limit_s=20, workers=2, seed=0)
    assert with_lp.stats["lp_rank_bound"] is not None
    assert "LP relaxation bound" in with_lp.message
    assert matcher.check(cohort, with_lp).ok
    monkeypatch.setattr(cpsat_province, "LP_GUIDE_MAX_CHOICES", 0)
    without = matcher.solve(cohort, solver="cpsat", time_limit_s=10, workers=2, seed=0)
    assert "Lagrangian bound" in without.message and matcher.check(cohort, without).ok
    assert without.stats["relaxation"] == "Lagrangian"
    exact = matcher.solve(cohort, solver="milp", time_limit_s=30, workers=2, seed=0)
    assert with_lp.rank_cost_lower_bound is not None and exact.rank_cost is not None
    if with_lp.placed == exact.placed:
        assert with_lp.rank_cost_lower_bound <= exact.rank_cost
    if with_lp.placed == without.placed:
        assert with_lp.rank_cost_lower_bound >= (without.rank_cost_lower_bound or 0)


def test_a_failure_after_the_lagrangian_ends_its_helper(cohort: matcher.Problem,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An error while the allocation is improved (here: the reassignment raising) reaches the
    caller, and the Lagrangian helper (made to linger after sending its guide, as at province
    scale, where it goes on raising the bound until just before the limit) is ended with it:
    no child process is left running (the classic path: the slot model is off)."""
    monkeypatch.setattr(cpsat, "USE_SLOT_MODEL", False)
    monkeypatch.setattr(cpsat_province, "MAX_CHOICES", 10)
    monkeypatch.setattr(cpsat_province, "LP_GUIDE_MAX_CHOICES", 0)
    send_guide = lagrange._child

    def lingering(enc: object, deadline_in: float, conn: object, until_in: float | None
                  ) -> None:
        send_guide(enc, deadline_in, conn, None)  # type: ignore[arg-type]
        time.sleep(600)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("reassignment failed")

    monkeypatch.setattr(lagrange, "_child", lingering)
    monkeypatch.setattr(cpsat_province, "reassign", broken)
    try:
        with pytest.raises(RuntimeError, match="reassignment failed"):
            matcher.solve(cohort, solver="cpsat", time_limit_s=20, workers=2, seed=0)
        left = multiprocessing.active_children()
    finally:
        for child in multiprocessing.active_children():
            child.terminate()
    assert not left
