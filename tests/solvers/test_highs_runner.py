"""The one HiGHS helper runner (:mod:`matcher.solvers.highs_runner`): how a helper run ends.

A helper that fails says so with the last line it wrote; one stopped on request or past its
time is killed, and says why; in every case the job folder is collected first, and no helper
process is left running.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from budget import far

import matcher
from matcher.encoding import encode
from matcher.solvers import highs_runner
from matcher.solvers.milp_model import build_model, helper_arrays

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


@pytest.fixture(autouse=True)
def _no_helper_left(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every helper process started here has ended when the test does."""
    started: list[Any] = []
    popen = highs_runner.subprocess.Popen

    def tracked(*args: Any, **kwargs: Any) -> Any:
        proc = popen(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(highs_runner.subprocess, "Popen", tracked)
    yield
    assert started and all(p.poll() is not None for p in started)


def _levels_job() -> tuple[dict[str, Any], dict[str, Any]]:
    mdl = build_model(encode(matcher.load_scenario(TINY)))
    arrays = helper_arrays(mdl, [("max", mdl.placed)], None)
    return arrays, {"mode": "levels", "senses": ["max"], "seed": 0, "threads": 1, "log": False}


def _files(work: Path) -> list[str]:
    return sorted(p.name for p in work.iterdir())


def test_a_finished_job_is_collected() -> None:
    """The helper's files are there for ``collect``; no error."""
    arrays, job = _levels_job()
    run = highs_runner.run_helper("levels", arrays, job, deadline=far(),
                                  grace=30, log=False, collect=_files)
    assert run.error == "" and not run.stopped
    assert "stage0.json" in run.collected and "job.json" in run.collected


def test_a_failing_helper_says_why() -> None:
    """A helper that raises ends the run with its exit code and the last line of stderr."""
    _arrays, job = _levels_job()
    run = highs_runner.run_helper("levels", {}, job, deadline=far(),
                                  grace=30, log=False, collect=_files)
    assert run.error.startswith("the HiGHS helper process failed (exit 1): ")
    assert "KeyError" in run.error and not run.stopped


def test_a_stop_request_ends_the_helper() -> None:
    """``stop`` true: the helper is killed at once, the run says it was stopped."""
    arrays, job = _levels_job()
    run = highs_runner.run_helper("levels", arrays, job, deadline=far(),
                                  grace=30, log=False, collect=_files, stop=lambda: True)
    assert run.stopped
    assert run.error.startswith("the HiGHS helper process was stopped on request")


def test_a_helper_past_its_time_is_killed() -> None:
    """Past the deadline and its grace, the helper is killed and the run says so."""
    arrays, job = _levels_job()
    run = highs_runner.run_helper("levels", arrays, job, deadline=time.perf_counter() - 1,
                                  grace=0, log=False, collect=_files)
    assert run.error.startswith("the HiGHS helper process overran its time limit")
    assert not run.stopped
