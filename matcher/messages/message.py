"""Structured messages: a code, a severity, a location and values, rendered in zh or en.

Code that tells the user something builds a :class:`Message` with :func:`msg` (the one factory
the catalogue test looks for: ``msg("load.unknown_id", ...)`` with the code as a literal) and
leaves the wording to the catalogue::

    from matcher.messages import Location, msg, render

    m = msg("load.unknown_id", at=Location(file="students.csv", row=12, field="preferences"),
            kind=msg("entity.workstation"), value="W9", where="workstations.csv")
    render(m, "en")  # "students.csv row 12, preferences: unknown workstation 'W9' (not in ..."
    render(m, "zh")  # "students.csv 第12行（preferences）：工作站“W9”不存在（在 ... 中找不到）"

A value is text, a number, a list of texts, or another message (rendered as its text in the same
language: a nested reason, or a label such as ``msg("entity.workstation")``), or a list of texts
and messages (each item rendered, then joined as a list). Plain labels
(table headers, sheet names of outputs) need no message: :func:`label`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Union, cast

from .catalogue import PlainValue, fill, template
from .lang import Lang
from .location import Location

Severity = Literal["error", "warning", "note"]
"""How bad it is: ``error`` stops the run, ``warning`` is suspicious data, ``note`` is a
tolerance applied or something worth knowing."""

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")
"""Every severity, worst first."""

Value = Union[str, int, float, tuple[Union[str, "Message"], ...], "Message"]
"""A value as a message stores it (lists become tuples)."""

ValueIn = Union[str, int, float, Sequence[Union[str, "Message"]], "Message"]
"""A value as a caller may give it (a list of texts and messages is accepted)."""

CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
"""The form of a message code: dotted lower-case words, e.g. ``load.unknown_id``."""


class Values(Mapping[str, Value]):
    """The values of a message: a read-only, hashable mapping of checked plain values.

    Parameters
    ----------
    values
        Name -> value. Names are identifiers (they are the template's placeholders); values
        are text, whole numbers, finite floats, lists of texts and messages (stored as
        tuples) or messages. Booleans, None and other types are refused.

    Raises
    ------
    TypeError
        For a name that is not an identifier or a value of another type.
    ValueError
        For a float that is not finite (it would not survive JSON).
    """

    __slots__ = ("_data",)

    def __init__(self, values: Mapping[str, ValueIn] | None = None):
        data: dict[str, Value] = {}
        for name, value in (values or {}).items():
            if not isinstance(name, str) or not name.isidentifier():
                raise TypeError(f"message value names are identifiers, not {name!r}")
            data[name] = _checked(name, value)
        self._data = data

    def __getitem__(self, key: str) -> Value:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)


def _checked(name: str, value: Any) -> Value:
    """A value as stored, or TypeError / ValueError naming it."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"message value {name!r} must be text, a number, a list of texts or a "
                        f"message, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"message value {name!r} must be a finite number, not {value!r}")
    if isinstance(value, str | int | float | Message):
        return value
    if isinstance(value, Sequence) and all(isinstance(v, str | Message) for v in value):
        return tuple(value)
    raise TypeError(f"message value {name!r} must be text, a number, a list of texts or a "
                    f"message, not {type(value).__name__}")


@dataclass(frozen=True)
class Message:
    """Something to tell the user: a code from the catalogue, how bad, where, and the values.

    Frozen and hashable (a set of messages drops repeats), JSON-ready (:meth:`to_dict`,
    :meth:`from_dict`), rendered in either language (:meth:`text`, :func:`render`). Build it
    with :func:`msg`.

    Parameters
    ----------
    code
        The catalogue code (``msgid``), e.g. ``load.unknown_id``: stable, dotted, lower case.
    severity
        ``error``, ``warning`` or ``note``.
    location
        Where it points, or None for the whole run.
    values
        The template's placeholders -> values (see :class:`Values`).

    Raises
    ------
    ValueError
        For a code not of the dotted form or an unknown severity.
    """

    code: str
    severity: Severity = "error"
    location: Location | None = None
    values: Mapping[str, ValueIn] = field(default_factory=Values)

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not CODE.fullmatch(self.code):
            raise ValueError(f"a message code is dotted lower-case words such as "
                             f"load.unknown_id, not {self.code!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not "
                             f"{self.severity!r}")
        if self.location is not None and not isinstance(self.location, Location):
            raise TypeError(f"location must be a Location, not {type(self.location).__name__}")
        if not isinstance(self.values, Values):
            object.__setattr__(self, "values", Values(self.values))

    def text(self, lang: Lang) -> str:
        """The message's sentence in ``lang``, without location or severity.

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.

        Returns
        -------
        str
            The catalogue's template with the values filled in. A code the catalogue lacks
            (a test forbids it) shows as the code with its values, never as an exception.
        """
        plain: dict[str, PlainValue] = {k: _plain(v, lang) for k, v in self.stored().items()}
        found = template(self.code, lang)
        if found is None:
            shown = ", ".join(f"{k}={v}" for k, v in plain.items())
            return f"{self.code} ({shown})" if shown else self.code
        return fill(found, plain, lang)

    def stored(self) -> Values:
        """The values as stored (checked; lists as tuples).

        Returns
        -------
        Values
            The same object as :attr:`values`, typed as stored.
        """
        return cast(Values, self.values)

    def to_dict(self, lang: Lang | None = None) -> dict[str, Any]:
        """The message as JSON-ready data; with ``lang``, also its text in that language.

        Parameters
        ----------
        lang
            When given, the result also holds ``text`` (:meth:`text`) and ``where`` (the
            rendered location, or None): what the web page and the HTTP API show.

        Returns
        -------
        dict[str, Any]
            ``{"code", "severity", "location" (see :meth:`Location.to_dict`, or None),
            "values"}``; lists are JSON lists, nested messages nested dicts.
        """
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "location": self.location.to_dict() if self.location is not None else None,
            "values": {k: _json_value(v) for k, v in self.stored().items()},
        }
        if lang is not None:
            out["text"] = self.text(lang)
            out["where"] = self.location.text(lang) if self.location is not None else None
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        """A message from :meth:`to_dict`'s data (``text`` and ``where`` are ignored).

        Parameters
        ----------
        data
            The mapping :meth:`to_dict` gave, e.g. after ``json.loads``.

        Returns
        -------
        Message
            A message equal to the one written.
        """
        loc = data.get("location")
        def value(v: Any) -> Any:
            if isinstance(v, Mapping):
                return cls.from_dict(v)
            if isinstance(v, list):
                return [cls.from_dict(x) if isinstance(x, Mapping) else x for x in v]
            return v

        values = {k: value(v) for k, v in (data.get("values") or {}).items()}
        return cls(code=data["code"], severity=data.get("severity", "error"),
                   location=Location.from_dict(loc) if loc is not None else None,
                   values=values)

    def __str__(self) -> str:
        return render(self, "en")


def _plain(value: Value, lang: Lang) -> PlainValue:
    """A stored value as :func:`~matcher.messages.catalogue.fill` takes it: messages as text."""
    if isinstance(value, Message):
        return value.text(lang)
    if isinstance(value, tuple):
        return tuple(v.text(lang) if isinstance(v, Message) else v for v in value)
    return value


def _json_value(value: Value) -> Any:
    if isinstance(value, Message):
        return value.to_dict()
    if isinstance(value, tuple):
        return [v.to_dict() if isinstance(v, Message) else v for v in value]
    return value


def msg(code: str, /, *, severity: Severity = "error", at: Location | None = None,
        **values: ValueIn) -> Message:
    """Build a message: THE factory for user-facing text (its code must be a literal).

    ``tests/messages`` scans ``matcher/**/*.py`` for calls of ``msg``, ``label`` and
    ``Message`` with a literal code and fails when the catalogue lacks one, so write the code
    out: ``msg("load.missing_column", at=loc, column="student_id", required=[...])``.

    Parameters
    ----------
    code
        The catalogue code, e.g. ``load.unknown_id``.
    severity
        ``error`` (default), ``warning`` or ``note``.
    at
        Where the message points, or None.
    **values
        The template's placeholders (the names ``severity`` and ``at`` are taken).

    Returns
    -------
    Message
        The frozen message.
    """
    return Message(code, severity, at, values)


def render(message: Message, lang: Lang, *, severity: bool = False) -> str:
    """One line for the user: location and sentence, optionally with the severity prefix.

    Parameters
    ----------
    message
        The message.
    lang
        ``"zh"`` or ``"en"``.
    severity
        Prefix the severity as the command line does (``error: ...`` / ``错误：...``, from
        ``cli.error_prefix``, ``cli.warning_prefix``, ``cli.note_prefix``).

    Returns
    -------
    str
        E.g. ``sheet 学生, row 9, column C (所在高校): unknown university 'HIT' (...)`` or
        ``学生 工作表 第9行 C列（所在高校）：高校“HIT”不存在（...）``.
    """
    line = message.text(lang)
    if message.location is not None:
        line = label("location.then", lang, location=message.location.text(lang), text=line)
    if severity:
        line = label(f"cli.{message.severity}_prefix", lang, text=line)
    return line


def label(code: str, lang: Lang, /, **values: PlainValue) -> str:
    """A plain text of the catalogue: a header, a sheet name, a prefix; no location, no severity.

    Parameters
    ----------
    code
        The catalogue code, e.g. ``severity.warning``, ``entity.workstation``.
    lang
        ``"zh"`` or ``"en"``.
    **values
        Placeholders, if the template has any.

    Returns
    -------
    str
        The text; the code itself when no catalogue has it (a test forbids that).
    """
    found = template(code, lang)
    return code if found is None else fill(found, values, lang)


class MessageError(Exception):
    """Bad input, as messages: what loaders raise; ``str()`` is English, one line per message.

    Parameters
    ----------
    messages
        The messages (usually every error found, not only the first).

    Attributes
    ----------
    messages : tuple[Message, ...]
        The messages, in the order given.
    """

    def __init__(self, messages: Iterable[Message]):
        self.messages: tuple[Message, ...] = tuple(messages)
        super().__init__(self.messages)  # one argument: pickling calls __init__(*args)

    def lines(self, lang: Lang, *, severity: bool = False) -> list[str]:
        """Every message rendered with :func:`render`, one string each.

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.
        severity
            Prefix each with its severity (``error: ...``).

        Returns
        -------
        list[str]
            One line per message.
        """
        return [render(m, lang, severity=severity) for m in self.messages]

    def __str__(self) -> str:
        return "\n".join(self.lines("en"))
