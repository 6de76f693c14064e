"""Where an issue is, as the user sees it; and the messages a reading collects.

:class:`Found` collects what reading a scenario finds: errors, warnings (suspicious data) and
notes (tolerances applied). A :class:`Source` remembers where each table was read from, so that
a cross-table issue (:class:`~matcher.model.ProblemIssue`, row = 0-based index) becomes a
message located in the user's terms: the CSV file and its data row, or the workbook's sheet,
Excel's row number, the column letter and the header as typed; a file named inside a message
(``not in workstations.csv``) becomes the sheet that holds the table in a workbook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from ..messages import Location, Message, msg
from ..model.errors import TABLE_FILES, ProblemIssue, table_location
from .aliases import SHEET_ALIASES

__all__ = ["Found", "Locator", "Source", "sheet_renames"]


@dataclass
class Found:
    """What reading found: errors, warnings and notes, each a located message, in order."""

    errors: list[Message] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)

    def add(self, message: Message) -> None:
        """File a message under its severity."""
        if message.severity == "error":
            self.errors.append(message)
        elif message.severity == "warning":
            self.warnings.append(message)
        else:
            self.notes.append(message)


class Locator(Protocol):
    """A table as read (:class:`matcher.formats.tables.TableRead`): where its rows are."""

    numbers: list[int]

    def at(self, row: int | None, column: str | None, value: str | None = None) -> Location:
        """Where data row ``row`` (0-based) and ``column`` are."""
        ...


@dataclass(frozen=True)
class Source:
    """Where the tables came from, so that cross-table messages point at the right place.

    Attributes
    ----------
    tables
        Table name -> how it was read (its rows' numbers, its columns' letters and headers).
        A table not listed is located as in a scenario folder of CSVs.
    settings_at
        Setting key (``policy.window``) -> its location (``scenario.yaml``, or the settings
        sheet's row); None: ``scenario.yaml``.
    sheets
        A file named in messages -> the sheet that holds it instead (``workstations.csv`` ->
        ``工作站``), for a workbook.
    """

    tables: Mapping[str, Locator] = field(default_factory=dict)
    settings_at: Callable[[str], Location] | None = None
    sheets: Mapping[str, str] = field(default_factory=dict)

    def locate(self, issue: ProblemIssue) -> Message:
        """The issue as a message located as the user sees it.

        Parameters
        ----------
        issue
            A problem issue (0-based row).

        Returns
        -------
        Message
            The issue's message with its location; row numbers inside it (``also row 3``) are
            the user's row numbers, and a file inside it is the sheet in a workbook.
        """
        table = self.tables.get(issue.table)
        value = issue.detail.values.get("value") if issue.detail is not None else None
        if issue.table == "scenario":
            at = (self.settings_at(issue.column or "") if self.settings_at is not None
                  else Location(file="scenario.yaml", field=issue.column))
        elif table is not None:
            at = table.at(issue.row, issue.column, value if isinstance(value, str) else None)
        else:
            at = table_location(issue.table, issue.row, issue.column)
        located = issue.located(at)
        return self.words(located, table)

    def words(self, message: Message, table: Locator | None = None) -> Message:
        """``message`` with files named as the user has them (sheets in a workbook) and rows
        of ``table`` numbered as the user sees them."""
        values = dict(message.stored())
        changed = False
        for name, v in values.items():
            if isinstance(v, str) and v in self.sheets:
                values[name] = msg("location.sheet", sheet=self.sheets[v])
                changed = True
            elif isinstance(v, Message):
                inner = self.words(v, table)
                if inner is not v:
                    values[name] = inner
                    changed = True
            elif table is not None and name == "other_row" and isinstance(v, int):
                values[name] = _shown(table, v)
                changed = True
            elif table is not None and name == "rows" and isinstance(v, tuple):
                values[name] = tuple(str(_shown(table, int(r)))
                                     if isinstance(r, str) and r.isdigit() else r for r in v)
                changed = True
        return replace(message, values=values) if changed else message


def _shown(table: Locator, data_row: int) -> int:
    """The row number the user sees for 1-based data row ``data_row`` of ``table``."""
    numbers = table.numbers
    return numbers[data_row - 1] if 0 < data_row <= len(numbers) else data_row


def sheet_renames(titles: Mapping[str, str], chinese: bool) -> dict[str, str]:
    """File name -> sheet, for a workbook: the title of the sheet that holds each table
    (``students.csv`` -> ``学生``), or the sheet to add for a table it lacks (its Chinese name
    in a workbook whose sheets have Chinese names, else the table's name).

    Parameters
    ----------
    titles
        Table name (``students``, or ``scenario``) -> the title of its sheet.
    chinese
        Whether the workbook names its sheets in Chinese.
    """
    out = {}
    for table, file in TABLE_FILES.items():
        if table in titles:
            out[file] = titles[table]
        else:
            out[file] = SHEET_ALIASES.get(table, (table,))[0] if chinese else table
    return out
