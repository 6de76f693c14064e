"""What every ``matcher`` command shares: failing with error lines, loading, output folders.

Bad input gives one ``error:`` line per problem on stderr, exit code 2 and nothing written. The
library speaks of arguments (``force=True``); the command line speaks of its flags
(``--out``, ``--force``), and :func:`exists_message` says it so.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ..formats.occupancy import apply_previous
from ..formats.resultdir import ResultExistsError, check_out_dir
from ..formats.scenario import Validation, validate_scenario
from ..messages import Lang, Message, choose_lang, render
from ..model import Problem, ScenarioError
from ..reports.pages import markdown_table

__all__ = ["apply_previous_option", "cli_lang", "echo_messages", "echo_table", "exists_message",
           "fail", "lang_option", "load_checked", "load_problem", "writable"]

F = TypeVar("F", bound=Callable[..., Any])


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


def fail(messages: list[str], code: int = 2) -> NoReturn:
    """Print one ``error:`` line per message on stderr and exit (2: bad input)."""
    for line in messages:
        click.echo(f"error: {line}", err=True)
    sys.exit(code)


def exists_message(error: ResultExistsError) -> str:
    """The command line's words for a folder that may not be replaced."""
    return (f"{error.path}: already exists and is not empty; choose another --out or pass "
            "--force to replace it")


def writable(out: Path, force: bool) -> None:
    """Fail early (before any solving) when the output folder may not be written."""
    try:
        check_out_dir(out, force)
    except ResultExistsError as e:
        fail([exists_message(e)])


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


def echo_table(frame: Any) -> None:
    """Print a DataFrame as a Markdown table."""
    click.echo(markdown_table(frame))
