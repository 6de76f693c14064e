"""What every ``matcher`` command shares: failing with error lines, loading, output folders.

Bad input gives one ``error:`` line per problem on stderr, exit code 2 and nothing written. The
library speaks of arguments (``out_dir``, ``force=True``); the command line speaks of its flags
(``--out``, ``--force``): :class:`MatcherGroup` names them so in every message
(:func:`matcher.formats.output.using_words`). Outputs are checked before any work
(:func:`prepare_out`: never an input, ``--force`` only over matcher's own folders, writable)
and claimed for the whole run (:func:`claimed`); a signal ends a command with one line saying
what was written, never with a traceback (:class:`MatcherGroup`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ..formats.interrupt import Interrupted, signal_name
from ..formats.lock import claim
from ..formats.occupancy import apply_previous
from ..formats.output import CLI_WORDS, Input, OutputError, check_output, check_space, using_words
from ..formats.scenario import Validation, validate_scenario
from ..messages import Lang, Message, choose_lang, label, msg, render
from ..model import Problem, ScenarioError
from ..reports.pages import markdown_table

__all__ = ["SECONDS", "FiniteFloat", "MatcherGroup", "WholeNumber", "apply_previous_option",
           "claimed", "cli_lang", "echo_messages", "echo_table", "fail", "finishing",
           "lang_option", "load_checked", "load_problem", "prepare_out"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _remember_lang(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta["matcher.lang"] = value.lower()


def lang_option(command: F) -> F:
    """The ``--lang zh|en`` option: the language of what the command prints and writes.

    Without it the scenario decides (Chinese headers or sheet names mean ``zh``), else the
    locale (:func:`matcher.messages.choose_lang`); :func:`cli_lang` reads the choice.
    """
    return click.option(
        "--lang", type=click.Choice(["zh", "en"], case_sensitive=False), default=None,
        expose_value=False, is_eager=True, callback=_remember_lang,
        help="Language of messages and outputs (default: the scenario's, else the locale)."
    )(command)


def cli_lang(problem: Problem | None = None, hint: Lang | None = None) -> Lang:
    """The language of this command: ``--lang``, else the scenario's (``problem.language``, or
    ``hint`` when no problem could be read), else the locale."""
    ctx = click.get_current_context(silent=True)
    explicit = ctx.meta.get("matcher.lang") if ctx is not None else None
    return choose_lang(explicit, problem.language if problem is not None else hint)


def echo_messages(messages: Iterable[Message], lang: Lang) -> None:
    """Print messages on stderr, one line each with its severity (``warning: ...``)."""
    for m in messages:
        click.echo(render(m, lang, severity=True), err=True)


def load_checked(path: str, *, occupancy: bool = True, quiet: bool = False) -> Validation:
    """Read a scenario and print what was found: errors (then exit 2), warnings and notes, in
    the command's language (:func:`cli_lang`).

    Parameters
    ----------
    path
        The scenario folder or workbook.
    occupancy
        Subtract ``occupancy.csv`` from the capacities.
    quiet
        Print errors only (a command that only reads the scenario again, such as ``check``).

    Returns
    -------
    Validation
        The valid reading (its problem is set).
    """
    found = validate_scenario(path, occupancy=occupancy)
    lang = cli_lang(found.problem, found.lang_hint)
    echo_messages(found.errors, lang)
    if not quiet:
        echo_messages(found.warnings, lang)
        echo_messages(found.notes, lang)
    if not found.ok:
        sys.exit(2)
    return found


def _line(item: str | Message) -> str:
    if isinstance(item, Message):
        return render(item, cli_lang(), severity=True)
    return label("cli.error_prefix", cli_lang(), text=item)  # already worded: a prefix only


def fail(messages: Sequence[str | Message], code: int = 2) -> NoReturn:
    """Print one ``error:`` line per message on stderr and exit (2: bad input); messages are
    worded in the command's language (:func:`cli_lang`)."""
    for item in messages:
        click.echo(_line(item), err=True)
    sys.exit(code)


def prepare_out(out: str | Path, inputs: Iterable[Input] = (), force: bool = False, *,
                file: bool = False, legacy: Callable[[Path], bool] | None = None) -> Path:
    """Check an output before any work (:func:`matcher.formats.output.check_output`); the
    path to write, or exit 2 saying why not."""
    try:
        return check_output(out, inputs, force=force, file=file, legacy=legacy)
    except OutputError as e:
        fail(e.lines(cli_lang()))


@contextmanager
def claimed(target: Path, needed_bytes: int = 0) -> Iterator[None]:
    """Hold the exclusive claim on an output while the block runs (exit 2 when another run
    holds it or the disk is too full for ``needed_bytes``)."""
    try:
        if needed_bytes:
            check_space(target, needed_bytes)
        with claim(target) as held:
            echo_messages(held.notes, cli_lang())
            yield
    except OutputError as e:
        fail(e.lines(cli_lang()))


def finishing(write: Callable[[], T], fallback: T) -> T:
    """Run a write; when a signal arrived during it and it was finished first, say so and go
    on (the output is complete), returning ``fallback`` for the path written."""
    try:
        return write()
    except Interrupted as e:
        if e.completed is None:
            raise
        echo_messages([msg("signal.finished", severity="note", signal=e.name,
                           path=str(e.completed))], cli_lang())
        return fallback


def load_problem(path: str, occupancy: bool = True) -> Problem:
    """Load a scenario, or fail with its error lines (in the command's language); warnings and
    notes are left to ``validate`` and ``solve``."""
    found = load_checked(path, occupancy=occupancy, quiet=True)
    assert found.problem is not None
    return found.problem


def apply_previous_option(problem: Problem, previous: str | None) -> Problem:
    """``--previous RESULT_DIR`` of ``matcher solve`` and ``matcher check``: subtract an earlier
    cohort's placements from the capacities (exit 2 with one line per problem)."""
    if previous is None:
        return problem
    lang = cli_lang(problem)
    try:
        reduced, notes = apply_previous(problem, previous)
    except ScenarioError as e:
        fail(e.lines(lang))
    echo_messages(notes, lang)
    return reduced


def echo_table(frame: Any, lang: Lang = "en") -> None:
    """Print a DataFrame as a Markdown table, its column names in ``lang``."""
    click.echo(markdown_table(frame, lang=lang))


class FiniteFloat(click.ParamType):
    """A number option that must be finite (``nan``, ``inf`` and ``1e999`` are refused) and
    within ``[low, high]``."""

    name = "number"

    def __init__(self, low: float | None = None, high: float | None = None):
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> float:
        """The value as a finite float, or a usage error in the user's language."""
        if isinstance(value, float) and math.isfinite(value):
            number = value
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                self.fail(render(msg("option.not_finite", value=str(value)), cli_lang()),
                          param, ctx)
        if (self.low is not None and number < self.low) or (
                self.high is not None and number > self.high):
            self.fail(render(msg("option.out_of_range", value=str(value),
                                 low=_plain(self.low, "-∞"), high=_plain(self.high, "∞")),
                             cli_lang()), param, ctx)
        return number


def _plain(x: float | None, none: str) -> str:
    return none if x is None else f"{x:,.2f}".rstrip("0").rstrip(".")


class WholeNumber(click.IntRange):
    """A whole-number option within ``[min, max]`` (click's IntRange, help and all), whose
    refusals are in the user's language."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Any:
        """The value as an int in range, or a usage error in the user's language."""
        try:
            number = int(value) if isinstance(value, int) else int(str(value).strip(), 10)
        except ValueError:
            self.fail(render(msg("option.not_whole", value=str(value)), cli_lang()), param, ctx)
        if (self.min is not None and number < self.min) or (
                self.max is not None and number > self.max):
            self.fail(render(msg("option.out_of_range", value=str(value),
                                 low=_plain(self.min, "-∞"), high=_plain(self.max, "∞")),
                             cli_lang()), param, ctx)
        return number


SECONDS = FiniteFloat(low=0.01, high=10**7)
"""A time limit in seconds: finite, from 0.01 to ten million (about 116 days)."""


class MatcherGroup(click.Group):
    """The ``matcher`` group: commands name ``--out``/``--force`` in their messages, bad input
    left uncaught by a command and a usage error still end as error lines with exit 2 (a
    usage error names the command's ``--help``), and a signal (Ctrl-C,
    SIGTERM, SIGHUP) ends a command with one line and exit code 128 + the signal, never with a
    traceback (whatever was being written is complete or absent, see
    :func:`matcher.formats.interrupt.finish_first`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Remember the words (a usage error found before ``--lang`` is read still honours
        it)."""
        ctx.meta["matcher.argv"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command with the command line's words, errors and signals handled."""
        try:
            with using_words(CLI_WORDS):
                return super().invoke(ctx)
        except ScenarioError as e:
            fail(e.lines(cli_lang()))
        except click.UsageError as e:  # error lines like every other error, not click's block
            _usage_error(e, ctx)
        except KeyboardInterrupt as e:
            signum = e.signum if isinstance(e, Interrupted) else 2
            done = e.completed if isinstance(e, Interrupted) else None
            if done is not None:
                echo_messages([msg("signal.finished", severity="note", signal=signal_name(
                    signum), path=str(done))], cli_lang())
            else:
                fail([msg("signal.stopped", signal=signal_name(signum))], code=128 + signum)
            sys.exit(128 + signum)


def _usage_error(e: click.UsageError, ctx: click.Context) -> NoReturn:
    """A usage error as one error line in the user's language (``--lang`` from the words when
    click stopped before reading it)."""
    if "matcher.lang" not in ctx.meta:
        words = ctx.meta.get("matcher.argv", [])
        for i, word in enumerate(words):
            value = word[7:] if word.startswith("--lang=") else (
                words[i + 1] if word == "--lang" and i + 1 < len(words) else None)
            if value is not None and value.lower() in ("zh", "en"):
                ctx.meta["matcher.lang"] = value.lower()
    lang = cli_lang()
    name = e.ctx.command_path if e.ctx is not None else "matcher"
    param = getattr(e, "param", None)
    hint = param.get_error_hint(e.ctx) if param is not None and e.ctx is not None else None
    hint = hint or getattr(e, "param_hint", None)
    if isinstance(hint, (list, tuple)):
        hint = " / ".join(hint)
    hint = str(hint or "?").replace("'", "")  # click quotes it; the catalogue quotes it again
    problem: str
    if isinstance(e, click.NoSuchOption):
        problem = label("cli.no_such_option", lang, option=e.option_name)
        if e.possibilities:
            problem = label("cli.did_you_mean", lang, text=problem,
                            choices=", ".join(sorted(e.possibilities)))
    elif isinstance(e, click.MissingParameter):
        problem = label("cli.missing", lang, name=hint)
    elif isinstance(e, click.BadParameter):
        problem = label("cli.bad_value", lang, name=hint,
                        problem=e.message.rstrip("."))
    else:
        problem = e.format_message().rstrip(".")
    fail([msg("cli.usage", problem=problem, command=name)])
