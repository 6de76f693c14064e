"""Shared test setup: the helpers beside this file (``strategies``, ``brute``) are importable
from every test folder, which mirror the package (model/, formats/, solvers/, check/, reports/,
planning/, cli/); the suite's depth (quick by default, ``--thorough`` for the nightly run) and
its Hypothesis profiles.

The default run is the README's test command: every behaviour tested, each property on a
fixed (derandomised) set of examples, the same on every run and every machine, so that a
failure is reproducible and never a matter of luck. ``--thorough`` also runs the tests marked
``slow`` and every property on many more fresh random examples (docs/reliability.md, "Test
suite").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Without --lang or a Chinese scenario, outputs follow the locale (matcher.messages.choose_lang):
# the tests expect English unless they ask for Chinese, whatever the machine is set to.
os.environ["LC_ALL"] = "C.UTF-8"

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import strategies  # noqa: E402  (importable only once HERE is on the path)

# Properties are about shapes, not about timing: no deadline (a loaded machine is not a bug),
# no health check that fails a test for being slow to generate.
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("quick", derandomize=True, database=None, print_blob=True, **_COMMON)
settings.register_profile("thorough", derandomize=False, print_blob=True, **_COMMON)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--thorough", action="store_true", default=False,
                     help="matcher: also run the tests marked slow, and every property test "
                          "on its thorough count of fresh random examples (the nightly run)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a long check run only with --thorough (a cheaper case of the same "
                   "behaviour runs by default)")
    thorough = bool(config.getoption("--thorough"))
    strategies.THOROUGH = thorough
    settings.load_profile("thorough" if thorough else "quick")
    audit = os.environ.get("MATCHER_BUDGET_AUDIT")
    if audit:  # tests/budget_audit.py: every solve against its time limit, CPU per test
        import budget_audit

        budget_audit.install(audit)
        config.pluginmanager.register(budget_audit, "matcher-budget-audit")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--thorough") or config.getoption("-m"):
        return  # the nightly run, or the caller chose by marker (e.g. ``-m slow``)
    skip = pytest.mark.skip(reason="slow: runs with --thorough (docs/reliability.md)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
