"""Where a message points, as the user sees it: a file or a sheet, a row, a column.

A :class:`Location` is plain data (the web page shows its fields as table columns) and renders
itself in either language from the ``location.*`` templates of the catalogue:

* sheet 学生, row 9, column C, header 所在高校:
  zh ``学生 工作表 第9行 C列（所在高校）``, en ``sheet 学生, row 9, column C (所在高校)``;
* file students.csv, row 12, field university_id:
  zh ``students.csv 第12行（university_id）``, en ``students.csv row 12, university_id``
  (the English form matcher has always written);
* file scenario.yaml, line 3: zh ``scenario.yaml 第3行``, en ``scenario.yaml line 3``;
* file scenario.yaml, field policy.window:
  zh ``scenario.yaml（policy.window）``, en ``scenario.yaml, policy.window``.

Rows are numbered as the user finds them. In a workbook sheet, ``row`` is Excel's own row
number (the header is usually row 1, so the first student is row 2). In a CSV file, ``row`` is
the data row: the first line below the header is row 1 and blank lines count, as matcher's
messages have always said (``students.csv row 12`` is the 12th line under the header, which a
spreadsheet program that opens the CSV shows as its row 13). ``line`` is a line of a text file
counted from 1 with the header (encoding and quoting errors, YAML).

A location may lie **within** another: a CSV file (or a workbook's sheet) named by a variant
file's key is rendered after the key that names it, e.g. zh ``v.yaml（add_students）引用的
late.csv 第3行（学号）``, en ``v.yaml, add_students: late.csv row 3, 学号``; a sheet then names
its workbook too (``late.xlsx 中的 学生 工作表``), since the user did not name it on the command
line.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from .catalogue import fill, template
from .lang import Lang

_COLUMN_LETTERS = re.compile("[A-Z]{1,3}")


@dataclass(frozen=True)
class Location:
    """A place in the user's input: a file or a workbook sheet, and optionally a cell.

    Parameters
    ----------
    file
        The file's name as the user knows it (``students.csv``, ``scenario.yaml``); for a
        sheet, the workbook's name (``scenario.xlsx``), which is kept but not rendered (the
        user named the workbook). None when unknown.
    sheet
        The sheet's name as typed in the workbook (``学生``); None for a file.
    row
        The row as the user sees it (see the module docstring): Excel's row number in a sheet,
        the 1-based data row in a CSV file.
    line
        A line of a text file, 1-based, header included (for errors found before rows exist).
        Not together with ``row``, and not in a sheet.
    column
        The column letter in a sheet (``C``); None in a CSV file.
    header
        The column's header as the user typed it (``所在高校``).
    field
        The canonical field the column means (``university_id``), or a settings key
        (``policy.window``). Rendered only when ``header`` is not given.
    within
        The location that names this one's file, e.g. the variant file and its key
        ``add_students`` for the CSV it names; None for a file the user named.

    Raises
    ------
    ValueError
        When neither ``file`` nor ``sheet`` is given, a row or line is not a positive whole
        number, both are given (or a line in a sheet), or ``column`` is not a column letter.
    TypeError
        When ``within`` is not a Location.
    """

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    line: int | None = None
    column: str | None = None
    header: str | None = None
    field: str | None = None
    within: Location | None = None

    def __post_init__(self) -> None:
        if not self.file and not self.sheet:
            raise ValueError("a Location needs a file or a sheet")
        for name in ("row", "line"):
            n = getattr(self, name)
            if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
                raise ValueError(f"Location.{name} must be a whole number >= 1, not {n!r}")
        if self.row is not None and self.line is not None:
            raise ValueError("a Location has a row or a line, not both")
        if self.line is not None and self.sheet:
            raise ValueError("a sheet has rows, not lines")
        if self.column is not None and not _COLUMN_LETTERS.fullmatch(self.column):
            raise ValueError(f"Location.column must be a column letter such as C, not "
                             f"{self.column!r}")
        if self.within is not None and not isinstance(self.within, Location):
            raise TypeError(f"Location.within must be a Location, not "
                            f"{type(self.within).__name__}")

    def text(self, lang: Lang) -> str:
        """The location as ``lang`` writes it, e.g. ``学生 工作表 第9行 C列（所在高校）``.

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.

        Returns
        -------
        str
            The rendered location (see the module docstring for the forms).
        """
        at = _part("location.sheet", lang, sheet=self.sheet) if self.sheet else self.file or ""
        if self.sheet and self.file and self.within is not None:
            at = _part("location.book_sheet", lang, book=self.file, sheet=self.sheet)
        if self.row is not None:
            code = "location.sheet_row" if self.sheet else "location.file_row"
            at = _part(code, lang, place=at, row=str(self.row))
        elif self.line is not None:
            at = _part("location.file_line", lang, place=at, line=str(self.line))
        name = self.header or self.field
        if self.column and name:
            at = _part("location.column_header", lang, at=at, column=self.column, header=name)
        elif self.column:
            at = _part("location.column", lang, at=at, column=self.column)
        elif name:
            at = _part("location.header", lang, at=at, header=name)
        if self.within is not None:
            return _part("location.within", lang, outer=self.within.text(lang), inner=at)
        return at

    def inside(self, outer: Location) -> Location:
        """This location as found within ``outer`` (a file named by a variant file's key).

        Parameters
        ----------
        outer
            Where this location's file was named; a location already within another keeps
            its own outer place and gets ``outer`` around that.

        Returns
        -------
        Location
            A copy with ``within`` set.
        """
        inner = self.within.inside(outer) if self.within is not None else outer
        return replace(self, within=inner)

    def to_dict(self) -> dict[str, Any]:
        """The location as JSON-ready data: every field, None where not given.

        Returns
        -------
        dict[str, Any]
            ``{"file": ..., "sheet": ..., "row": ..., "line": ..., "column": ...,
            "header": ..., "field": ...}``, and ``"within"`` (the same form, nested) only for
            a location within another.
        """
        out = asdict(self)
        out.pop("within")
        if self.within is not None:
            out["within"] = self.within.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Location:
        """A location from :meth:`to_dict`'s data (missing keys are None).

        Parameters
        ----------
        data
            The mapping :meth:`to_dict` gave (after a JSON round trip).

        Returns
        -------
        Location
            An equal location.
        """
        names = ("file", "sheet", "row", "line", "column", "header", "field")
        outer = data.get("within")
        return cls(**{k: data.get(k) for k in names},
                   within=cls.from_dict(outer) if outer is not None else None)


def _part(code: str, lang: Lang, **values: str) -> str:
    """One location template filled; without a catalogue entry, the values in a plain row."""
    text = template(code, lang)
    if text is None:
        return " ".join(values.values())
    return fill(text, values, lang)
