"""What every ``matcher`` command shares: failing with error lines, loading, output folders.

Bad input gives one ``error:`` line per problem on stderr, exit code 2 and nothing written. The
library speaks of arguments (``force=True``); the command line speaks of its flags
(``--out``, ``--force``), and :func:`exists_message` says it so.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from ..formats.occupancy import apply_previous
from ..formats.resultdir import ResultExistsError, check_out_dir
from ..formats.scenario import load_scenario
from ..model import Problem, ScenarioError
from ..reports.pages import markdown_table

__all__ = ["apply_previous_option", "echo_table", "exists_message", "fail", "load_problem",
           "writable"]


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
    """Load a scenario, or fail with its error lines."""
    try:
        return load_scenario(path, occupancy=occupancy)
    except ScenarioError as e:
        fail(e.messages)


def apply_previous_option(problem: Problem, previous: str | None) -> Problem:
    """``--previous RESULT_DIR`` of ``matcher solve`` and ``matcher check``: subtract an earlier
    cohort's placements from the capacities (exit 2 with one line per problem)."""
    if previous is None:
        return problem
    try:
        reduced, notes = apply_previous(problem, previous)
    except ScenarioError as e:
        fail(e.messages)
    for line in notes:
        click.echo(f"note: {line}", err=True)
    return reduced


def echo_table(frame: Any) -> None:
    """Print a DataFrame as a Markdown table."""
    click.echo(markdown_table(frame))
