"""What ``validate`` says about an uploaded scenario, as rows for the page and the API.

:func:`validate` loads the scenario with :func:`matcher.load_scenario` (what ``matcher
validate`` does) and turns what it found into :class:`Finding` rows: severity, code, and the
location's parts (file or sheet, row, column, header), so that the page shows a table a clerk
can follow cell by cell, and the API returns the structured messages.

The loader reports structured :class:`~matcher.messages.Message` objects where it has them
(issue 25: errors with their :class:`~matcher.messages.Location`, and the warnings and notes of
a valid scenario); a line of plain text from a part not yet moved to the catalogue becomes a
finding with no code, its place (the text before the first ``: ``) shown as its location.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..formats.scenario import load_scenario
from ..messages import Lang, Location, Message, MessageError, msg
from ..model import Problem, ProblemError, ScenarioError

__all__ = ["Finding", "Validation", "findings", "validate"]

log = logging.getLogger("matcher.web")


@dataclass(frozen=True)
class Finding:
    """One row of the validation table.

    Attributes
    ----------
    severity
        ``error``, ``warning`` or ``note``.
    code
        The catalogue code, or None for a plain line of text.
    where
        The location as the user reads it (empty when none).
    text
        What is wrong and what to do.
    file, sheet, row, column, header
        The location's parts (None when not given).
    """

    severity: str
    code: str | None
    where: str
    text: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    header: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The API's form: ``code, severity, location, where, text``."""
        location = None
        if any(v is not None for v in (self.file, self.sheet, self.row, self.column,
                                       self.header)):
            location = {"file": self.file, "sheet": self.sheet, "row": self.row,
                        "column": self.column, "header": self.header}
        return {"code": self.code, "severity": self.severity, "location": location,
                "where": self.where or None, "text": self.text}


def _from_message(m: Message, lang: Lang) -> Finding:
    at = m.location
    return Finding(m.severity, m.code, at.text(lang) if at is not None else "", m.text(lang),
                   file=at.file if at else None, sheet=at.sheet if at else None,
                   row=at.row if at else None, column=at.column if at else None,
                   header=at.header if at else None)


_PLACE = re.compile(r"^(?P<where>[^:]{1,200}?): (?P<text>.+)$", re.S)


def _from_line(line: str) -> Finding:
    found = _PLACE.match(line)
    if found is None:
        return Finding("error", None, "", line)
    return Finding("error", None, found["where"], found["text"])


def findings(items: Iterable[Message | str], lang: Lang) -> list[Finding]:
    """Rows for messages and plain lines, errors first, then warnings, then notes."""
    rows = [_from_message(m, lang) if isinstance(m, Message) else _from_line(str(m))
            for m in items]
    order = {"error": 0, "warning": 1, "note": 2}
    return sorted(rows, key=lambda f: order.get(f.severity, 3))


@dataclass
class Validation:
    """The outcome of validating a scenario.

    Attributes
    ----------
    problem
        The loaded problem, or None when there were errors.
    messages
        Errors (then no problem), warnings and notes: messages or plain lines.
    """

    problem: Problem | None
    messages: list[Message | str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the scenario loaded (warnings and notes may remain)."""
        return self.problem is not None

    def rows(self, lang: Lang) -> list[Finding]:
        """The table rows in ``lang``."""
        return findings(self.messages, lang)

    def summary(self) -> dict[str, Any]:
        """Counts of a valid scenario: name, students, workstations, mentors, supervisors,
        terms, and the scenario's own time limit."""
        p = self.problem
        if p is None:
            return {}
        return {"name": p.name, "students": len(p.students),
                "workstations": len(p.workstations), "mentors": len(p.mentors),
                "supervisors": len(p.supervisors), "terms": len(p.terms),
                "time_limit_s": p.solver.time_limit_s, "input_sha256": p.input_sha256}


def _noted(problem: Problem) -> list[Message | str]:
    """The warnings and notes a valid scenario carries (issue 25), if the loader gives any."""
    found: Sequence[Any] = ()
    for name in ("messages", "notes", "warnings"):
        value = getattr(problem, name, None)
        if isinstance(value, list | tuple) and value:
            found = value
            break
    return [m for m in found if isinstance(m, Message | str)]


def validate(scenario: Path, shown_name: str) -> Validation:
    """Load a scenario as ``matcher validate`` does; never raises for bad input.

    Parameters
    ----------
    scenario
        The staged workbook or folder.
    shown_name
        The upload's name, for a message about the whole upload.
    """
    try:
        problem = load_scenario(scenario)
    except MessageError as e:
        return Validation(None, list(e.messages))
    except ScenarioError as e:
        items: Sequence[Any] = getattr(e, "structured", None) or e.messages
        return Validation(None, list(items))
    except ProblemError as e:
        return Validation(None, [f"{i.table}: {i.message}" for i in e.issues])
    except Exception as e:  # a bug of the loader must not become a 500 for the clerk
        log.exception("validating %s", scenario)
        return Validation(None, [msg("web.validate_crashed", at=Location(file=shown_name),
                                     error=f"{type(e).__name__}: {e}"[:300])])
    return Validation(problem, _noted(problem))
