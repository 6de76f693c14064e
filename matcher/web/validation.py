"""What ``validate`` says about an uploaded scenario, as rows for the page and the API.

:func:`validate` is :func:`matcher.validate_scenario` (what ``matcher validate`` does): the
library's :class:`~matcher.formats.Validation` holds the errors, warnings and notes as
structured messages, each located as the clerk sees it (file or sheet, row, column letter,
header), and its :meth:`~matcher.formats.Validation.rows` are the page's table in the page's
language. :func:`findings` gives the same rows for other lists of messages (a refused upload, a
run that failed on bad input), so that every table of the web reads alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..formats import Validation, validate_scenario
from ..messages import Lang, Location, Message, msg

__all__ = ["Validation", "findings", "summary", "validate"]

log = logging.getLogger("matcher.web")


def validate(scenario: Path, shown_name: str) -> Validation:
    """Read a scenario as ``matcher validate`` does; never raises for bad input.

    Parameters
    ----------
    scenario
        The staged workbook or folder.
    shown_name
        The upload's name, for a message about the whole upload.

    Returns
    -------
    Validation
        The library's result: the problem when valid, and every error, warning and note.
    """
    try:
        return validate_scenario(scenario)
    except Exception as e:  # a bug of the loader must not become a 500 for the clerk
        log.exception("validating %s", scenario)
        return Validation(str(scenario), None, (msg(
            "web.validate_crashed", at=Location(file=shown_name),
            error=f"{type(e).__name__}: {e}"[:300]),))


def findings(items: Iterable[Message | str], lang: Lang) -> list[dict[str, Any]]:
    """Table rows (as :meth:`Validation.rows`) for messages, errors first, then warnings,
    then notes; a plain line of text (an old run's record) is an error row with no code."""
    items = list(items)
    messages = [m for m in items if isinstance(m, Message)]
    lines = [str(m) for m in items if not isinstance(m, Message)]
    by = {s: tuple(m for m in messages if m.severity == s) for s in ("error", "warning", "note")}
    rows = Validation("", None, by["error"], by["warning"], by["note"]).rows(lang)
    blank = dict.fromkeys(("code", "file", "sheet", "row", "line", "column", "header", "field",
                           "where"))
    return [{**blank, "severity": "error", "text": line} for line in lines] + rows


def summary(checked: Validation) -> dict[str, Any]:
    """Counts of a valid scenario (empty when invalid): name, students, workstations, mentors,
    supervisors, terms, the scenario's own time limit and its input hash."""
    p = checked.problem
    if p is None or not checked.ok:
        return {}
    return {"name": p.name, "students": len(p.students), "workstations": len(p.workstations),
            "mentors": len(p.mentors), "supervisors": len(p.supervisors),
            "terms": len(p.terms), "time_limit_s": p.solver.time_limit_s,
            "input_sha256": p.input_sha256}
