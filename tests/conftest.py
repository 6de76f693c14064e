"""Shared test setup: the helpers beside this file (``strategies``, ``brute``) are importable
from every test folder, which mirror the package (model/, formats/, solvers/, check/, reports/,
planning/, cli/)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Without --lang or a Chinese scenario, outputs follow the locale (matcher.messages.choose_lang):
# the tests expect English unless they ask for Chinese, whatever the machine is set to.
os.environ["LC_ALL"] = "C.UTF-8"

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
