"""The models the exact solvers build stay exactly what they were (issue 23: one builder).

For ``scenarios/tiny`` and ``scenarios/heilongjiang-demo``, each as it is, with locks added
and as a re-solve, this hashes:

* every CP-SAT model ``cpsat`` builds (the proto as text): the model, each level's form of it
  (level 1's objective, level 2 with the placed count fixed, level 3 with the rank cost
  limited, a re-solve's first objective) and the hint of a fixed allocation (greedy);
* the ``stable`` model (tiny: with its levels; the demo: the model and the hint of deferred
  acceptance's allocation);
* every array, and the job, that HiGHS's helper process would receive: from ``milp``
  (solve, ``refine_levels`` in both modes and with everyone placed, ``relax``, ``priced_lp``,
  the lock conflict search) and from the slot model (``cpsat``'s levels 1-2).

The helper is not started: the one HiGHS runner (``highs_runner.run_helper``) is replaced by one
that records what it was given and stops the solve (:class:`_Captured`). The stored values
(``data/model_snapshot.json``) were computed from the code before the solver house was
refactored; a deliberate change of a model rewrites them with ``MATCHER_REGEN_SNAPSHOT=1``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import matcher
from matcher.encoding import Encoded, encode
from matcher.model import Lock, Problem
from matcher.solvers import (
    cpsat_model,
    highs_runner,
    milp,
    milp_model,
    relaxation,
    slot_solve,
    slots,
    stable_model,
)
from matcher.solvers.base import Choice, SolverConfig
from matcher.solvers.da import deferred_acceptance
from matcher.solvers.greedy import serial_dictatorship

ROOT = Path(__file__).resolve().parents[2]
STORED = Path(__file__).parent / "data" / "model_snapshot.json"
SCENARIOS = {"tiny": ROOT / "scenarios" / "tiny",
             "demo": ROOT / "scenarios" / "heilongjiang-demo"}
CONFIG = SolverConfig(time_limit_s=60.0, seed=0, workers=2)


class _Captured(Exception):
    """Raised by the stand-in runner once it has recorded what the helper would get."""


def _digest(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:20]


def _arrays_digest(arrays: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        out[name] = _digest(f"{a.dtype.str}{a.shape}".encode() + a.tobytes())
    return out


def _job_digest(job: dict[str, Any]) -> str:
    kept = {k: v for k, v in job.items() if k != "deadline"}
    return _digest(json.dumps(kept, sort_keys=True, default=str))


# ---- the variants ---------------------------------------------------------------------------
def _with(problem: Problem, **update: Any) -> Problem:
    fields = {f: getattr(problem, f) for f in Problem.model_fields}
    return Problem(**{**fields, **update})


def _locked(problem: Problem) -> Problem:
    """Locks taken from the greedy allocation: every 7th placed student (every 2nd in a small
    scenario) at its workstation, every 3rd of those with its mentor and start too (so every
    kind of lock is there)."""
    enc = encode(problem)
    chosen, _failed = serial_dictatorship(enc)
    step = 7 if len(chosen) > 50 else 2
    locks = []
    for n, (i, (w, m, _s, k)) in enumerate(sorted(chosen.items())):
        if n % step:
            continue
        full = (n // step) % 3 == 0
        locks.append(Lock(student_id=enc.student_ids[i], workstation_id=enc.workstation_ids[w],
                          mentor_id=enc.mentor_ids[m] if full else None,
                          start_term=problem.terms[k] if full else None))
    return _with(problem, locks=tuple(locks))


def _previous(problem: Problem) -> dict[str, tuple[str, str, str, str]]:
    """Earlier placements for a re-solve: the greedy allocation, every 5th student left out."""
    enc = encode(problem)
    chosen, _failed = serial_dictatorship(enc)
    return {enc.student_ids[i]: (enc.workstation_ids[w], enc.mentor_ids[m],
                                 enc.supervisor_ids[s], problem.terms[k])
            for n, (i, (w, m, s, k)) in enumerate(sorted(chosen.items())) if n % 5}


def _variant(name: str) -> tuple[Problem, dict[int, Choice]]:
    scenario, _, kind = name.partition("+")
    problem = matcher.load_scenario(SCENARIOS[scenario])
    if kind == "locks":
        problem = _locked(problem)
    previous: dict[int, Choice] = {}
    if kind == "resolve":
        previous = encode(problem).choices_from_ids(_previous(problem))
    return problem, previous


# ---- the seams: where a model is built, or handed to HiGHS ----------------------------------
def _cp_model(enc: Encoded, previous: dict[int, Choice]) -> Any:
    return cpsat_model.build_model(enc, previous)


def _cp_hint(cp: Any, mdl: Any, chosen: dict[int, Choice]) -> None:
    mdl.hint(cp, chosen)


def _stable_model(enc: Encoded) -> Any:
    return stable_model.build_stable_model(enc)


def _stable_hint(mdl: Any, chosen: dict[int, Choice]) -> int:
    return stable_model.hint_allocation(mdl, chosen)


def _capture(monkeypatch: pytest.MonkeyPatch, got: dict[str, str], label: str) -> None:
    """The one HiGHS runner replaced: what the helper would get is recorded, then the solve
    is stopped."""
    def fake(_entry: str, arrays: dict[str, Any], job: dict[str, Any], **_kw: Any) -> Any:
        for key, value in _arrays_digest(arrays).items():
            got[f"{label}/{key}"] = value
        got[f"{label}/job"] = _job_digest(job)
        raise _Captured

    monkeypatch.setattr(highs_runner, "run_helper", fake)


def _capture_slots(monkeypatch: pytest.MonkeyPatch, got: dict[str, str], label: str,
                   enc: Encoded) -> None:
    _capture(monkeypatch, got, label)
    model = slots.build(enc)
    got[f"{label}/student_row"] = _arrays_digest({"a": model.student_row})["a"]
    got[f"{label}/class_members"] = _digest(json.dumps(model.class_members))


# ---- the fingerprints -----------------------------------------------------------------------
def _cp_fingerprints(enc: Encoded, previous: dict[int, Choice], start: dict[int, Choice]
                     ) -> dict[str, str]:
    out: dict[str, str] = {}
    mdl = _cp_model(enc, previous)
    cp = mdl.model
    out["cpsat/model"] = _digest(str(cp.proto))
    first = cp.clone()
    weight = len(mdl.agg.keep) + 1
    first.maximize(mdl.placed * weight + mdl.kept if mdl.agg.keep else mdl.placed)
    out["cpsat/level1"] = _digest(str(first.proto))
    second = cp.clone()
    second.add(mdl.placed == len(start))
    second.minimize(mdl.rank_cost)
    out["cpsat/level2"] = _digest(str(second.proto))
    if not isinstance(mdl.pair_weight, int):
        third = cp.clone()
        third.add(mdl.placed == len(start))
        third.add(mdl.rank_cost <= enc.rank_cost(start))
        third.maximize(mdl.pair_weight)
        out["cpsat/level3"] = _digest(str(third.proto))
    hinted = cp.clone()
    _cp_hint(hinted, mdl, start)
    out["cpsat/hint"] = _digest(str(hinted.proto.solution_hint))
    return out


def _milp_fingerprints(monkeypatch: pytest.MonkeyPatch, problem: Problem, enc: Encoded,
                       start: dict[int, Choice]) -> dict[str, str]:
    got: dict[str, str] = {}
    far = 1e12  # a deadline that never comes (nothing is solved)

    def capture(label: str, call: Any) -> None:
        _capture(monkeypatch, got, label)
        with pytest.raises(_Captured):
            call()

    capture("milp/solve", lambda: milp.solve(problem, CONFIG))
    capture("milp/refine", lambda: milp.refine_levels(enc, len(start), start, CONFIG, far))
    capture("milp/refine-everyone",
            lambda: milp.refine_levels(enc, enc.n_placeable, start, CONFIG, far))
    if enc.use_pairs:
        capture("milp/refine-pairs", lambda: milp.refine_levels(
            enc, len(start), start, CONFIG, far, pairs_only=True))
    capture("milp/relax", lambda: relaxation.relax(enc, CONFIG, far))

    def price(key: tuple[str, int, int]) -> float | None:
        kind, what, _t = key
        return None if kind == "w" else 0.0 if what % 2 else 0.25 + what % 3

    capture("milp/priced", lambda: relaxation.priced_lp(enc, 1000, enc.max_list + 1, price,
                                                         far))
    if problem.locks:
        capture("milp/conflict", lambda: milp._conflicting_locks(
            milp_model.build_model(enc), CONFIG, far))
    return got


def _slot_fingerprints(monkeypatch: pytest.MonkeyPatch, enc: Encoded) -> dict[str, str]:
    got: dict[str, str] = {}
    if slots.applies(enc):
        return got
    _capture_slots(monkeypatch, got, "slots", enc)
    with pytest.raises(_Captured):
        slot_solve.solve_slots(enc, CONFIG, 0.0, lambda: "", "cpsat")
    return got


def _fingerprints(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    problem, previous = _variant(name)
    enc = encode(problem)
    start, _failed = serial_dictatorship(enc)
    out = _cp_fingerprints(enc, previous, start)
    if not previous:  # (milp and the slot model have no re-solve)
        out |= _milp_fingerprints(monkeypatch, problem, enc, start)
        out |= _slot_fingerprints(monkeypatch, enc)
    return out


def _stable_fingerprints(name: str) -> dict[str, str]:
    problem, _previous = _variant(name)
    enc = encode(problem)
    mdl = _stable_model(enc)
    cp = mdl.model
    out = {"stable/model": _digest(str(cp.proto))}
    da = deferred_acceptance(enc).chosen
    if da is not None:
        out["stable/violated"] = str(_stable_hint(mdl, da))
        out["stable/hint"] = _digest(str(cp.proto.solution_hint))
    if enc.n_students <= 100:  # the demo's model is large: its levels are left to tiny
        first = cp.clone()
        first.maximize(mdl.placed)
        out["stable/level1"] = _digest(str(first.proto))
        second = cp.clone()
        second.minimize(mdl.rank_cost)
        out["stable/level2"] = _digest(str(second.proto))
        if not isinstance(mdl.pair_weight, int):
            third = cp.clone()
            third.maximize(mdl.pair_weight)
            out["stable/level3"] = _digest(str(third.proto))
    return out


# ---- the tests ------------------------------------------------------------------------------
def _compare(key: str, got: dict[str, str]) -> None:
    stored = json.loads(STORED.read_text(encoding="utf-8")) if STORED.is_file() else {}
    if os.environ.get("MATCHER_REGEN_SNAPSHOT") == "1":
        stored[key] = got
        STORED.parent.mkdir(parents=True, exist_ok=True)
        STORED.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return
    assert key in stored, f"no stored snapshot for {key}"
    want = stored[key]
    changed = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    assert not changed, f"{key}: these parts of the models changed: {changed}"


VARIANTS = ["tiny", "tiny+locks", "tiny+resolve", "demo", "demo+locks", "demo+resolve"]


@pytest.mark.parametrize("name", VARIANTS)
def test_models_are_unchanged(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CP-SAT protos and HiGHS arrays of cpsat, milp and the slot model are as stored."""
    _compare(name, _fingerprints(name, monkeypatch))


@pytest.mark.parametrize("name", ["tiny", "tiny+locks"])
def test_stable_models_are_unchanged(name: str) -> None:
    """The stable model (CP-SAT only) is as stored: tiny's, with locks and every level."""
    _compare(f"stable:{name}", _stable_fingerprints(name))
