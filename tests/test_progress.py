"""Tests of matcher.progress: a status line on a terminal, nothing at all anywhere else."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher import progress
from matcher.cli import cli

TINY = Path(__file__).resolve().parents[1] / "scenarios" / "tiny"


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_quiet_when_not_a_terminal() -> None:
    """On a plain stream (a pipe, a file, a capture) a step writes nothing, whatever it reports."""
    out = io.StringIO()
    with progress.progress("solving", stream=out, limit_s=60, total=3) as bar:
        bar.update(elapsed=1.0, best=10, bound=12, gap=0.2, note="stage 1")
        progress.update(best=11)
        bar.advance()
        time.sleep(0.25)  # longer than a redraw period: the clock must not draw either
    assert out.getvalue() == ""


def test_dumb_terminal_is_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """TERM=dumb (an editor's shell, some CI) counts as no terminal."""
    monkeypatch.setenv("TERM", "dumb")
    out = FakeTerminal()
    with progress.progress("loading", stream=out):
        progress.update(note="x")
    assert out.getvalue() == ""


def test_terminal_line_shows_reports_and_is_wiped(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the line is redrawn with \\r, shows what was reported, and is wiped at the
    end."""
    monkeypatch.setenv("TERM", "xterm")
    out = FakeTerminal()
    with progress.progress("solving (cpsat)", stream=out, limit_s=60):
        progress.update(elapsed=12.5, best=1980, bound=1994, gap=0.007)
        drawn = out.getvalue()
    assert drawn.startswith("\r")
    last = drawn.split("\r")[-1]
    for piece in ("solving (cpsat)", "12.5 s of 60 s", "best 1980", "bound 1994", "gap 0.70%"):
        assert piece in last
    tail = out.getvalue()[len(drawn):]
    assert tail.endswith("\r") and tail.strip() == ""  # the line is blanked, cursor at column 0


def test_update_without_a_step_is_a_no_op() -> None:
    """The module-level update (for solver callbacks) does nothing when no step is active."""
    assert progress.current() is None
    progress.update(elapsed=1, best=2, bound=3, gap=0.5)


def test_nested_steps_report_to_the_innermost() -> None:
    """update() goes to the innermost active step; the outer one is active again afterwards."""
    with progress.progress("outer", enabled=False) as outer:
        with progress.progress("inner", enabled=False) as inner:
            progress.update(best=5)
        progress.update(best=7)
    assert inner.best == 5 and outer.best == 7
    assert progress.current() is None


def test_update_from_another_thread() -> None:
    """A solver callback thread may report while the step runs."""
    out = FakeTerminal()
    with progress.progress("solving", stream=out, enabled=True) as bar:
        workers = [threading.Thread(target=progress.update, kwargs={"best": k})
                   for k in range(20)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    assert bar.best is not None and 0 <= bar.best < 20


def test_cli_solve_is_quiet_off_a_terminal(tmp_path: Path) -> None:
    """matcher solve under a test runner (stderr captured, not a terminal) prints no progress:
    stderr carries only the loader's messages about the data (each line a warning or note
    naming where), never a status line (drawn with carriage returns, naming a step and its
    seconds)."""
    r = CliRunner().invoke(cli, ["solve", str(TINY), "--out", str(tmp_path / "out"),
                                 "--workers", "1", "--lang", "en"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "\r" not in r.stderr and "\r" not in r.stdout
    for line in r.stderr.splitlines():
        assert line.startswith(("warning:", "note:")), line
    for step in ("loading scenario", "solving", "writing results"):
        assert step not in r.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_cli_solve_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    """Run as a user would, with stderr on a pseudo-terminal: the steps appear there."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "matcher.cli", "solve", str(TINY), "--out", str(tmp_path / "o"),
         "--workers", "1"], stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
        env=env)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout, _ = proc.communicate(timeout=120)
    os.close(master)
    assert proc.returncode == 0
    text = seen.decode("utf-8", "replace")
    assert "loading scenario" in text and "solving" in text
    assert b"\r" not in stdout and b"placed" in stdout  # the summary itself stays clean
