"""What can be wrong with input: located issues of a problem, and the user-facing error.

:class:`ProblemIssue` locates one broken rule by table, row and column and carries it as a
structured :class:`~matcher.messages.Message` (a code of the catalogue and its values, worded in
Chinese or English when shown); :class:`ProblemError` (what building a
:class:`~matcher.model.Problem` in code raises) carries every issue found. :class:`ScenarioError`
is the error every reader and transformation raises for bad input: every message found, each
saying where it is and what to do, in either language (:meth:`ScenarioError.lines`); its
``messages`` are the English lines matcher has always given. :func:`issue_line` writes an issue
as such a line for a scenario folder of CSVs (:mod:`matcher.formats.locations` also names sheets
and Excel's rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..messages import Lang, Location, Message, label, msg, render

MAX_ERRORS = 50
"""Most messages a :class:`ScenarioError` keeps (one more says how many more there were)."""

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
    "groups": "groups.csv",
    "vetoes": "vetoes.csv",
    "quotas": "quotas.csv",
    "occupancy": "occupancy.csv",
    "scenario": "scenario.yaml",
}
"""The file of a scenario folder that holds each table (``scenario``: the settings)."""


@dataclass(frozen=True)
class ProblemIssue:
    """One thing wrong (or worth a warning) in a problem, located by table, row and column.

    ``table`` is a table name (``students``, ``workstation_terms``, ...) or ``scenario`` for
    the settings (then ``column`` is the setting, e.g. ``policy.window``). ``row`` is the
    0-based index into the problem's tuple. Build one with :meth:`of` from a message.

    Attributes
    ----------
    message
        The issue's text in English, without its location (kept for callers that compare
        text; equality and hashing use table, row, column and this text).
    detail
        The structured message (code, severity, values; no location): what the loader turns
        into a located message in the user's language. Values named ``other_row`` hold a
        1-based data row of the same table, and ``rows`` a list of them, so that a reader
        can show them as the user counts rows (a workbook's Excel rows).
    """

    table: str
    row: int | None
    column: str | None
    message: str
    detail: Message | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, table: str, row: int | None, column: str | None, detail: Message
           ) -> ProblemIssue:
        """An issue from its structured message (its English text is kept in ``message``).

        Parameters
        ----------
        table, row, column
            Where: the table, the 0-based row (or None), the column or setting (or None).
        detail
            The message, without location.

        Returns
        -------
        ProblemIssue
            The issue.
        """
        return cls(table, row, column, detail.text("en"), detail)

    @property
    def severity(self) -> str:
        """``error`` (a broken rule), ``warning`` (suspicious data) or ``note``."""
        return self.detail.severity if self.detail is not None else "error"

    def located(self, at: Location | None) -> Message:
        """The issue as a message pointing at ``at``.

        Parameters
        ----------
        at
            Where the issue is, as the user sees it (or None).

        Returns
        -------
        Message
            The structured message with that location; an issue built from plain text becomes
            ``load.text`` with the text.
        """
        if self.detail is None:
            return msg("load.text", at=at, text=self.message)
        return replace(self.detail, location=at)


def table_location(table: str, row: int | None, column: str | None) -> Location:
    """Where a table's row is in a scenario folder of CSVs (rows count from 1 below the header).

    Parameters
    ----------
    table
        A table name, or ``scenario`` for the settings.
    row
        The 0-based row, or None.
    column
        The column (or setting path), or None.

    Returns
    -------
    Location
        ``students.csv`` row ``row + 1``, field ``column``.
    """
    return Location(file=TABLE_FILES.get(table, table),
                    row=row + 1 if row is not None else None, field=column)


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

    @property
    def structured(self) -> tuple[Message, ...]:
        """Every issue as a message located as in a scenario folder of CSVs."""
        return tuple(i.located(table_location(i.table, i.row, i.column)) for i in self.issues)

    def lines(self, lang: Lang, *, severity: bool = False) -> list[str]:
        """Every issue as one line in ``lang`` (``students.csv row 1, university_id: ...``).

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.
        severity
            Prefix each line with its severity (``error: ...``).

        Returns
        -------
        list[str]
            One line per issue.
        """
        lines = [render(m, lang) for m in self.structured]
        return [label("cli.error_prefix", lang, text=x) for x in lines] if severity else lines


class ScenarioError(Exception):
    """Invalid input: every message found (at most ``MAX_ERRORS``), in either language.

    Parameters
    ----------
    messages
        The errors: structured :class:`~matcher.messages.Message` objects, or plain lines
        (from parts of matcher that do not word their messages through the catalogue yet).
        Past ``MAX_ERRORS`` one ``load.too_many_errors`` message says how many were left out.
    warnings, notes
        What else the reader found (suspicious data, tolerances applied): shown with the
        errors so that a note can explain an error (``validate`` prints them).
    context
        A prefix of every line, saying what made the change (``cohort 2``), or None.

    Attributes
    ----------
    messages : list[str]
        The errors as English lines, one each (what matcher has always given).
    items : tuple[Message | str, ...]
        The errors as given (capped).
    warnings, notes : tuple[Message, ...]
        As given.
    """

    def __init__(self, messages: Iterable[Message | str], *,
                 warnings: Iterable[Message] = (), notes: Iterable[Message] = (),
                 context: Message | str | None = None):
        given = list(messages)
        shown: list[Message | str] = []
        extra = 0  # errors left out already (a reader's own load.too_many_errors)
        for m in given:
            if isinstance(m, Message) and m.code == "load.too_many_errors":
                count = m.stored().get("count")
                extra += count if isinstance(count, int) else 0
            else:
                shown.append(m)
        kept: list[Message | str] = shown[:MAX_ERRORS]
        extra += len(shown) - len(kept)
        if extra > 0:
            kept.append(msg("load.too_many_errors", count=extra))
        self.items: tuple[Message | str, ...] = tuple(kept)
        self.warnings: tuple[Message, ...] = tuple(warnings)
        self.notes: tuple[Message, ...] = tuple(notes)
        self.context = context
        self.messages: list[str] = self.lines("en")
        super().__init__("\n".join(self.messages))

    def __reduce__(self) -> Any:  # survive pickling (worker processes) with every field
        return (_rebuild_error, (self.items, self.warnings, self.notes, self.context))

    @property
    def structured(self) -> tuple[Message, ...]:
        """The errors as messages (a plain line becomes ``load.text``, a context wraps)."""
        out = []
        for item in self.items:
            m = item if isinstance(item, Message) else msg("load.text", text=item)
            if self.context is not None:
                m = msg("load.in_context", severity=m.severity, at=m.location,
                        context=self.context, text=replace(m, location=None))
            out.append(m)
        return tuple(out)

    def lines(self, lang: Lang, *, severity: bool = False) -> list[str]:
        """The errors, one line each, in ``lang``: :attr:`structured` rendered.

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.
        severity
            Prefix each line with ``error: `` (``错误：``).

        Returns
        -------
        list[str]
            ``location: context: text`` per error (location first, as in :attr:`structured`
            and every other message; without a location, ``context: text``).
        """
        lines = [render(m, lang) for m in self.structured]
        return [label("cli.error_prefix", lang, text=x) for x in lines] if severity else lines


def _rebuild_error(items: tuple[Message | str, ...], warnings: tuple[Message, ...],
                   notes: tuple[Message, ...], context: Message | str | None) -> ScenarioError:
    error = ScenarioError((), warnings=warnings, notes=notes, context=context)
    error.items = items
    error.messages = error.lines("en")
    error.args = ("\n".join(error.messages),)
    return error


def error_detail(err: Mapping[str, Any], value: str | None = None) -> Message:
    """A pydantic error as a message: what is wrong with the value, and what to give.

    Parameters
    ----------
    err
        One entry of ``ValidationError.errors()``.
    value
        The value as the user typed it (quoted in the message), or None for a setting or a
        field set in code (the message then says "is too small" without the value).

    Returns
    -------
    Message
        ``load.too_small``, ``load.too_large``, ``load.empty_list``, ... (with ``value``), or
        ``load.value_too_small``, ... (without).
    """
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, ProblemError) and cause.issues and cause.issues[0].detail is not None:
        return cause.issues[0].detail  # a validator's own message (e.g. objective.rank)
    if kind in ("greater_than_equal", "greater_than"):
        bound = _bound(ctx.get("ge", ctx.get("gt")))
        if kind == "greater_than":
            return (msg("load.too_small_exclusive", value=value, minimum=bound)
                    if value is not None else msg("load.value_too_small_exclusive",
                                                  minimum=bound))
        return (msg("load.too_small", value=value, minimum=bound) if value is not None
                else msg("load.value_too_small", minimum=bound))
    if kind in ("less_than_equal", "less_than"):
        bound = _bound(ctx.get("le", ctx.get("lt")))
        return (msg("load.too_large", value=value, maximum=bound) if value is not None
                else msg("load.value_too_large", maximum=bound))
    if kind == "too_short":
        return (msg("load.empty_list", value=value) if value is not None
                else msg("load.value_empty_list"))
    if kind in ("bool_parsing", "bool_type"):
        return (msg("load.not_yes_no", value=value) if value is not None
                else msg("load.value_not_yes_no"))
    if kind == "missing":
        return msg("load.field_missing")
    if kind == "extra_forbidden":
        return msg("load.field_unknown")
    reason = str(err.get("msg", kind))
    return (msg("load.invalid_value", value=value, reason=reason) if value is not None
            else msg("load.value_invalid", reason=reason))


def _bound(bound: Any) -> str:
    """A bound as the user types it: ``0``, ``1000000``, ``0.5`` (no digit grouping)."""
    if isinstance(bound, float) and bound.is_integer():
        return str(int(bound))
    return str(bound)


def error_reason(err: Any) -> str:
    """A pydantic error as a short English instruction (``is too small; give a value >= 0``).

    Kept for callers that build their own lines; new code uses :func:`error_detail`.
    """
    return error_detail(err).text("en")


def issue_line(issue: ProblemIssue) -> str:
    """One English line for an issue of a scenario folder: ``file row r, column: message``.

    Rows count from 1 below the header.
    """
    return render(issue.located(table_location(issue.table, issue.row, issue.column)), "en")
