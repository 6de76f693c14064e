"""The public API type-checks with mypy against the installed package, as a caller's script.

``public_api.py`` (load, build a problem in code, solve, check, write, read back) must pass
``mypy --strict``; a control script with wrong types must fail, so that the check is not
vacuous (an untyped package would make everything ``Any`` and pass). Only the scripts are
checked (``--follow-imports=silent``); the cache lives under the system's temporary folder, so
a second run takes a second.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CONTROL = '''import matcher

wrong: int = matcher.load_scenario("scenarios/tiny")
matcher.Problem(nme="x", terms=("t",), students=(), workstations=(), mentors=(),
                supervisors=())
'''


def _mypy(files: list[Path], tmp: Path) -> subprocess.CompletedProcess[str]:
    spec = importlib.util.find_spec("matcher")
    assert spec is not None and spec.origin is not None
    root = Path(spec.origin).resolve().parents[1]  # the folder holding the package
    env = dict(os.environ)
    site = {Path(p).resolve() for p in sysconfig.get_paths().values() if p}
    if root not in site:  # an editable install: mypy cannot follow its import hook
        env["MYPYPATH"] = str(root)
    config = tmp / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")  # a caller's settings, not the project's
    cache = Path(tempfile.gettempdir()) / "matcher-mypy-cache"
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--strict",
         "--follow-imports=silent", "--cache-dir", str(cache), "--python-executable",
         sys.executable, "--no-color-output", *map(str, files)],
        capture_output=True, text=True, env=env, cwd=tmp, timeout=600)


def test_public_api_type_checks(tmp_path: Path) -> None:
    """public_api.py has no error; both wrong lines of the control script are caught."""
    pytest.importorskip("mypy")
    control = tmp_path / "control.py"
    control.write_text(CONTROL, encoding="utf-8")
    done = _mypy([HERE / "public_api.py", control], tmp_path)
    errors = [(Path(ln.split(":")[0]).name, ln.rsplit("[", 1)[-1].rstrip("]"))
              for ln in done.stdout.splitlines() if ": error: " in ln]
    assert sorted(errors) == [("control.py", "assignment"), ("control.py", "call-arg")], (
        done.stdout + done.stderr)
