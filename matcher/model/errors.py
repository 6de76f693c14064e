"""What can be wrong with input: located issues of a problem, and the user-facing error.

:class:`ProblemIssue` locates one broken rule by table, row and column; :class:`ProblemError`
(what building a :class:`~matcher.model.Problem` in code raises) carries every issue found.
:class:`ScenarioError` is the error every reader and transformation raises for bad input: one
message line per problem, each saying where it is and what to do. :func:`issue_line` writes
an issue as such a line for a scenario folder of CSVs (:mod:`matcher.formats.locations` also
names sheets and Excel's rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..messages import Lang, Message, render

MAX_ERRORS = 50
"""Most message lines a :class:`ScenarioError` keeps (a line says how many more there were)."""

TABLE_FILES: dict[str, str] = {
    "students": "students.csv",
    "workstations": "workstations.csv",
    "mentors": "mentors.csv",
    "supervisors": "supervisors.csv",
    "universities": "universities.csv",
    "workstation_terms": "workstation_terms.csv",
    "pairs": "pairs.csv",
    "locks": "locks.csv",
    "rankings": "rankings.csv",
    "occupancy": "occupancy.csv",
    "scenario": "scenario.yaml",
}
"""The file of a scenario folder that holds each table (``scenario``: the settings)."""


@dataclass(frozen=True)
class ProblemIssue:
    """One thing wrong with a problem, located by table, row (0-based index) and column.

    ``table`` is a table name (``students``, ``workstation_terms``, ...) or ``scenario`` for
    the settings (then ``column`` is the setting, e.g. ``policy.window``).
    """

    table: str
    row: int | None
    column: str | None
    message: str


class ProblemError(ValueError):
    """A problem that breaks the format's rules; carries every issue found.

    Attributes
    ----------
    issues
        Every :class:`ProblemIssue` found, in order.
    """

    def __init__(self, issues: list[ProblemIssue]):
        self.issues = issues
        head = "; ".join(
            f"{i.table}" + (f" row {i.row + 1}" if i.row is not None else "")
            + (f", {i.column}" if i.column else "") + f": {i.message}"
            for i in issues[:5]
        )
        more = f" (and {len(issues) - 5} more)" if len(issues) > 5 else ""
        super().__init__(head + more)


class ScenarioError(Exception):
    """Invalid input: carries every message found, one line each (at most ``MAX_ERRORS``).

    Parameters
    ----------
    messages
        One line of text per problem, or a catalogue :class:`~matcher.messages.Message`
        (rendered in the user's language by :meth:`lines`).

    Attributes
    ----------
    messages : list[str]
        The lines in English (messages rendered), as ``str()`` shows them.
    entries : list[str | Message]
        The lines as given: what :meth:`lines` renders in another language.
    """

    def __init__(self, messages: Sequence[str | Message]):
        self.entries: list[str | Message] = list(messages[:MAX_ERRORS])
        extra = len(messages) - len(self.entries)
        if extra > 0:
            self.entries.append(f"... and {extra} more error(s) not shown")
        self.messages = [render(m, "en") if isinstance(m, Message) else m for m in self.entries]
        super().__init__("\n".join(self.messages))

    def __reduce__(self) -> tuple[Any, ...]:  # worker processes pickle it: rebuild from entries
        return (type(self), (self.entries,))

    def lines(self, lang: Lang) -> list[str]:
        """Every line in ``lang``: messages rendered by the catalogue, plain lines as given."""
        return [render(m, lang) if isinstance(m, Message) else m for m in self.entries]


def error_reason(err: Any) -> str:
    """Turn a pydantic error into a short instruction."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return f"is too small; give a value {'>=' if 'ge' in ctx else '>'} {bound}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return f"is too large; give a value <= {bound}"
    if kind == "too_short":
        return "is empty; give at least one value"
    return f"is invalid ({err.get('msg', kind)})"


def issue_line(issue: ProblemIssue) -> str:
    """One message line for an issue of a scenario folder: ``file row r, column: message``.

    Rows count from 1 below the header.
    """
    file = TABLE_FILES.get(issue.table, issue.table)
    row = f" row {issue.row + 1}" if issue.row is not None else ""
    col = f", {issue.column}" if issue.column else ""
    return f"{file}{row}{col}: {issue.message}"
