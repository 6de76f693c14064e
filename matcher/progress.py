"""A one-line progress display on a terminal, silent everywhere else.

Long steps (loading a big scenario, solving, re-solving sweeps) wrap themselves in
:func:`progress`. On a terminal (the stream is a TTY and ``TERM`` is not ``dumb``) a single
status line on stderr is redrawn in place with ``\\r``: a spinner, the step, the elapsed time and
whatever the step last reported; it is wiped when the step ends, so the normal output that follows
is left clean. When stderr is a pipe, a file or a test runner's capture, nothing at all is
written: logs and CI output stay exactly as before.

Anything running inside a step can report without being handed the display, through the
module-level :func:`update` (a no-op when no step is active)::

    from matcher import progress

    with progress.progress("solving (cpsat)", limit_s=60):
        ...
        progress.update(elapsed=12.5, best=1980, bound=1994, gap=0.007)  # e.g. from a callback

It is thread-safe: a solver callback may call :func:`update` from its own thread.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_SPINNER = "|/-\\"
_REDRAW_S = 0.1  # how often the line is redrawn while nothing reports (the clock still moves)


def is_terminal(stream: TextIO) -> bool:
    """True when ``stream`` is an interactive terminal worth drawing on."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False
    return bool(tty) and os.environ.get("TERM", "") != "dumb"


class Progress:
    """One step's status line. Use :func:`progress` rather than building one directly.

    Parameters
    ----------
    label
        What the step does, e.g. ``"loading scenario"``.
    stream
        Where to draw (default: ``sys.stderr`` at the time of the call).
    enabled
        Force the display on or off; ``None`` (default) draws only on a terminal.
    total
        For a step made of counted parts (a sweep): how many; see :meth:`advance`.
    limit_s
        A time budget to show beside the elapsed time, e.g. a solver's time limit.
    """

    def __init__(self, label: str, *, stream: TextIO | None = None, enabled: bool | None = None,
                 total: int | None = None, limit_s: float | None = None):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream) if enabled is None else enabled
        self.total = total
        self.limit_s = limit_s
        self.done = 0
        self.elapsed: float | None = None  # as reported by the step (e.g. solver wall time)
        self.best: float | None = None
        self.bound: float | None = None
        self.gap: float | None = None
        self.note = ""
        self._t0 = time.monotonic()
        self._tick = 0
        self._width = 0  # length of the last line drawn, to wipe it
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- reporting ----------------------------------------------------------------------------
    def update(self, elapsed: float | None = None, best: float | None = None,
               bound: float | None = None, gap: float | None = None,
               note: str | None = None) -> None:
        """Report the step's state; any argument left ``None`` keeps its previous value.

        Parameters
        ----------
        elapsed
            Seconds the step itself has measured (shown instead of the display's own clock).
        best, bound, gap
            Best objective value found so far, the proven bound and the relative gap
            (``0.02`` is shown as ``2.00%``), e.g. from a CP-SAT solution callback.
        note
            A short free text, e.g. ``"stage 2: rank cost"``.
        """
        with self._lock:
            if elapsed is not None:
                self.elapsed = elapsed
            if best is not None:
                self.best = best
            if bound is not None:
                self.bound = bound
            if gap is not None:
                self.gap = gap
            if note is not None:
                self.note = note
            self._draw()

    def advance(self, note: str | None = None, n: int = 1) -> None:
        """Count ``n`` more parts of a counted step as done."""
        with self._lock:
            self.done += n
            if note is not None:
                self.note = note
            self._draw()

    # ---- drawing ----------------------------------------------------------------------------
    def line(self) -> str:
        """The status line as it would be drawn now (without the spinner)."""
        elapsed = self.elapsed if self.elapsed is not None else time.monotonic() - self._t0
        parts = [self.label]
        if self.total is not None:
            parts.append(f"{self.done}/{self.total}")
        clock = f"{elapsed:.1f} s"
        if self.limit_s is not None:
            clock += f" of {self.limit_s:g} s"
        parts.append(clock)
        if self.best is not None:
            parts.append(f"best {self.best:g}")
        if self.bound is not None:
            parts.append(f"bound {self.bound:g}")
        if self.gap is not None:
            parts.append(f"gap {self.gap:.2%}")
        if self.note:
            parts.append(self.note)
        return "  ".join(parts)

    def _draw(self) -> None:
        """Redraw in place; the caller holds the lock."""
        if not self.enabled or self._stop.is_set():
            return
        self._tick += 1
        text = f"{_SPINNER[self._tick % len(_SPINNER)]} {self.line()}"
        cols = _columns(self.stream)
        if len(text) > cols - 1:  # a wrapped line cannot be redrawn in place
            text = text[:max(cols - 2, 1)] + "…"
        pad = " " * max(self._width - len(text), 0)
        self._width = len(text)
        try:
            self.stream.write("\r" + text + pad)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: stop drawing, never fail a run
            self.enabled = False

    def _run(self) -> None:
        while not self._stop.wait(_REDRAW_S):
            with self._lock:
                self._draw()

    def start(self) -> None:
        """Draw the first line and keep the clock moving (terminal only)."""
        if not self.enabled:
            return
        with self._lock:
            self._draw()
        self._thread = threading.Thread(target=self._run, name="matcher-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop redrawing and wipe the line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.enabled and self._width:
            with self._lock:
                try:
                    self.stream.write("\r" + " " * self._width + "\r")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass
                self._width = 0


def _columns(stream: TextIO) -> int:
    """Terminal width; a terminal that reports none (0, e.g. a fresh pty) counts as 100."""
    try:
        cols = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        cols = 0
    if cols <= 0:
        try:
            cols = int(os.environ.get("COLUMNS", "0"))
        except ValueError:
            cols = 0
    return cols if cols > 0 else 100


_active: list[Progress] = []
_active_lock = threading.Lock()


@contextmanager
def progress(label: str, *, stream: TextIO | None = None, enabled: bool | None = None,
             total: int | None = None, limit_s: float | None = None) -> Iterator[Progress]:
    """Show a status line for the duration of a step (terminal only; see the module docstring).

    Parameters are those of :class:`Progress`. Steps may nest: :func:`update` reports to the
    innermost one, and an inner step's line replaces the outer one's until it ends.

    Yields
    ------
    Progress
        The step's display, for :meth:`Progress.update` and :meth:`Progress.advance`.
    """
    bar = Progress(label, stream=stream, enabled=enabled, total=total, limit_s=limit_s)
    with _active_lock:
        outer = _active[-1] if _active else None
        _active.append(bar)
    if outer is not None and outer.stream is bar.stream:
        outer.stop()  # pause (and wipe) the outer line: one line at a time on a terminal
    bar.start()
    try:
        yield bar
    finally:
        bar.stop()
        with _active_lock:
            _active.remove(bar)
        if outer is not None and outer.stream is bar.stream and outer.enabled:
            outer._stop.clear()
            outer.start()


def current() -> Progress | None:
    """The innermost active step, or None."""
    with _active_lock:
        return _active[-1] if _active else None


def update(elapsed: float | None = None, best: float | None = None, bound: float | None = None,
           gap: float | None = None, note: str | None = None) -> None:
    """Report to the innermost active step (see :meth:`Progress.update`); a no-op without one.

    This is the entry point for code that is not handed the display, such as a solver's
    solution callback: it costs a lock and nothing else when nothing is shown.
    """
    bar = current()
    if bar is not None:
        bar.update(elapsed=elapsed, best=best, bound=bound, gap=gap, note=note)
