"""Where an issue is, as the user sees it: the file or sheet, the row number shown, the column.

A :class:`Source` remembers where each table was read from, so that a cross-table issue
(:class:`~matcher.model.ProblemIssue`, row = 0-based index) becomes one message line that names
the CSV file and its data row, or the workbook's sheet and Excel's row number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..model.errors import ProblemIssue
from .schema import FILE_OF

__all__ = ["Source"]


@dataclass(frozen=True)
class Source:
    """Where the tables came from, so that cross-table messages point at the right place.

    The default is a folder of CSVs: a table is named by its file and row ``k`` (0-based) is
    shown as ``k + 1`` (as :func:`matcher.model.errors.issue_line` does). A workbook names
    sheets, shows Excel's row numbers and says "sheet students" where a message would say
    "students.csv".
    """

    labels: dict[str, str] = field(default_factory=dict)  # table -> label in messages
    numbers: dict[str, list[int]] = field(default_factory=dict)  # table -> row shown, per row
    settings_at: Callable[[str], str] | None = None  # message prefix of a settings key
    renames: tuple[tuple[str, str], ...] = ()  # file names inside messages -> sheet names

    def line(self, issue: ProblemIssue) -> str:
        """One located message line for a problem issue."""
        if issue.table == "scenario" and issue.column and self.settings_at is not None:
            head = self.settings_at(issue.column)
        else:
            file = self.labels.get(issue.table) or FILE_OF.get(issue.table, issue.table)
            shown = self.numbers.get(issue.table, [])
            row = ""
            if issue.row is not None:
                row = f" row {shown[issue.row] if issue.row < len(shown) else issue.row + 1}"
            col = f", {issue.column}" if issue.column else ""
            head = f"{file}{row}{col}"
        message = issue.message
        for old, new in self.renames:
            message = message.replace(old, new)
        return f"{head}: {message}"

