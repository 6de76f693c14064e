"""The fast search for rows worth a closer look (totals, over-wide rows) finds what a test of
every row finds: a totals word in any of the first three cells, after any number of plain
rows, in a sheet and in a CSV file; cells holding NUL are looked at row by row."""

from __future__ import annotations

import pytest

from matcher.formats.locations import Found
from matcher.formats.schema import TABLES
from matcher.formats.tables import Grid, read_grid
from matcher.messages import Location

STUDENTS = next(t for t in TABLES if t.name == "students")
HEADER = ["student_id", "university_id", "discipline", "work_experience_years", "preferences",
          "supervisor_id", "priority"]


def _plain(k: int) -> list[str]:
    return [f"S{k}", "HIT", "0854", "0", "W1", "", "1"]


@pytest.mark.parametrize("nul", [False, True])
@pytest.mark.parametrize("sheet", [True, False])
@pytest.mark.parametrize(("total", "plain_before"), [
    (["\u3000合计", "", "", "", "", "", ""], 5),   # a full-width space before the word
    (["", "", "Subtotal", "", "", "", ""], 3),     # the third cell, English, any case
    (["", "ſum", "", "", "", "", ""], 1),          # a long s: casefold() gives "sum"
    (["", "共12人", "", "", "", "", ""], 0),
])
def test_totals_rows_found_after_plain_rows(sheet: bool, total: list[str],
                                            plain_before: int, nul: bool) -> None:
    """The totals row is left out with a note naming its row, wherever it stands (with a NUL
    in a later cell: the row-by-row search)."""
    rows = [HEADER, *(_plain(k) for k in range(plain_before)), total, _plain(99),
            *([["S\x00X", "HIT", "0854", "0", "W1", "", "1"]] if nul else [])]
    where = Location(file="s.xlsx", sheet="学生") if sheet else Location(file="students.csv")
    numbers = list(range(1, len(rows) + 1)) if sheet else list(range(len(rows)))
    found = Found()
    read = read_grid(STUDENTS, Grid(where, rows, numbers, sheet=sheet, multiline=False), found)
    assert read is not None
    notes = [m for m in found.notes if m.code == "load.totals_rows"]
    shown = plain_before + 2 if sheet else plain_before + 1  # Excel row / CSV data row
    assert len(notes) == 1 and notes[0].stored()["rows"] == (str(shown),)
    assert [r.student_id for r in read.rows if r is not None][-1] == "S99"
    assert len(found.errors) == nul
