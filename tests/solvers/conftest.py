"""Fixtures shared by the solver tests."""

from __future__ import annotations

import pytest

from matcher.solvers import cpsat


@pytest.fixture
def slot_model_at_every_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send small problems down cpsat's slot-model and flow paths too (by default cpsat proves
    problems under ``SLOT_MIN_CHOICES`` choice columns in process with CP-SAT): for tests of
    those paths on hand-sized cases."""
    monkeypatch.setattr(cpsat, "SLOT_MIN_CHOICES", 0)
