"""Shared test setup: the helpers beside this file (``strategies``, ``brute``) are importable
from every test folder, which mirror the package (model/, formats/, solvers/, check/, reports/,
planning/, cli/)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
