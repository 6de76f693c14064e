"""The message catalogue: gettext ``.po`` files per language, and filling their templates.

``locale/<lang>/LC_MESSAGES/*.po`` map a message code (the ``msgid``, e.g.
``load.unknown_id``) to a template (the ``msgstr``) with named placeholders in braces
(``unknown {kind} '{value}' (not in {where})``). ``matcher.po`` holds the shared codes; each area
of the code may keep its own file beside it (``load.po``, ``report.po``, ...), so that work on
different areas never edits the same file; a code defined in two files is an error. The files
are read once per process with Babel
(:func:`babel.messages.pofile.read_po`) from the installed package, so a wheel carries them.

:func:`fill` puts values into a template the way the language writes them: a list is joined with
the language's separator (``、`` in Chinese, ``, `` in English), a number without a format spec
gets the language's digit grouping (``12,345``), a number with one is formatted as Python does
(``{row:d}`` for a row number, which is never grouped; ``{size:.1f}``). A placeholder without a
value stays as typed (``{name}``), so a wrong call shows a visible gap instead of a traceback;
the tests in ``tests/messages`` keep templates and calls in step.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any

from .lang import DEFAULT_LANG, LANGS, Lang

PlainValue = str | int | float | tuple[str, ...]
"""A value :func:`fill` can place: text, a number, or a list of texts."""

LIST_SEPARATOR: Mapping[Lang, str] = MappingProxyType({"zh": "、", "en": ", "})
"""How each language joins the items of a list value."""

_BABEL_LOCALE: Mapping[Lang, str] = MappingProxyType({"zh": "zh_Hans_CN", "en": "en"})
DOMAIN = "matcher"
"""The gettext domain, and the name of the ``.po`` file with the shared codes."""


def po_path(lang: Lang) -> resources.abc.Traversable:
    """Where the catalogue of ``lang`` is, inside the installed package.

    Parameters
    ----------
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    importlib.resources.abc.Traversable
        ``matcher/messages/locale/<lang>/LC_MESSAGES/matcher.po``.
    """
    return resources.files(__package__).joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")


def po_paths(lang: Lang) -> list[resources.abc.Traversable]:
    """Every ``.po`` file of ``lang``, in name order (``matcher.po`` and one per area).

    Parameters
    ----------
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    list of importlib.resources.abc.Traversable
        The files of ``matcher/messages/locale/<lang>/LC_MESSAGES/``.
    """
    folder = resources.files(__package__).joinpath("locale", lang, "LC_MESSAGES")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".po")), key=lambda f: f.name)


@functools.cache
def catalogue(lang: Lang) -> Mapping[str, str]:
    """Every code of one language's catalogue with its template (read once, then cached).

    Parameters
    ----------
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    Mapping[str, str]
        Code -> template, read-only, file by file in name order; entries with an empty
        ``msgstr`` are left out (they count as missing).

    Raises
    ------
    ValueError
        For a language the catalogue does not have, or a code defined in two files.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    from babel.messages.pofile import read_po  # deferred: only needed when text is shown

    out: dict[str, str] = {}
    where: dict[str, str] = {}
    for path in po_paths(lang):
        with path.open("rb") as f:
            po = read_po(f, locale=_BABEL_LOCALE[lang], domain=DOMAIN)
        for entry in po:
            if not (isinstance(entry.id, str) and entry.id):
                continue
            if entry.id in where:
                raise ValueError(f"message code {entry.id!r} is defined in both "
                                 f"{where[entry.id]} and {path.name} ({lang})")
            where[entry.id] = path.name
            if isinstance(entry.string, str) and entry.string:
                out[entry.id] = entry.string
    return MappingProxyType(out)


def template(code: str, lang: Lang) -> str | None:
    """The template of ``code`` in ``lang``, else in English, else None.

    Parameters
    ----------
    code
        A message code such as ``load.unknown_id``.
    lang
        The language wanted.

    Returns
    -------
    str or None
        The template; English when ``lang`` lacks it (a test makes sure none lacks it); None
        when the code is in no catalogue.
    """
    found = catalogue(lang).get(code)
    if found is None and lang != DEFAULT_LANG:
        found = catalogue(DEFAULT_LANG).get(code)
    return found


def placeholders(text: str) -> dict[str, str]:
    """The named placeholders of a template with their format specs.

    Parameters
    ----------
    text
        A template, e.g. ``duplicate id '{value}' (also row {other_row:d})``.

    Returns
    -------
    dict[str, str]
        Name -> format spec (``""`` when none), e.g. ``{"value": "", "other_row": "d"}``.

    Raises
    ------
    ValueError
        When the template's braces are unbalanced.
    """
    return {name: spec or "" for _, name, spec, _ in string.Formatter().parse(text)
            if name is not None}


@functools.cache
def _number_locale(lang: Lang) -> Any:
    from babel import Locale

    return Locale.parse(_BABEL_LOCALE[lang])


def format_value(value: PlainValue, spec: str, lang: Lang) -> str:
    """One value as ``lang`` writes it at a placeholder with format spec ``spec``.

    Parameters
    ----------
    value
        Text (shown as is), a number or a list of texts.
    spec
        The placeholder's format spec (``""`` for none).
    lang
        The language.

    Returns
    -------
    str
        The text put in place of the placeholder.
    """
    if isinstance(value, tuple):
        return LIST_SEPARATOR[lang].join(format_value(v, spec, lang) for v in value)
    if type(value) is int and not spec:  # both languages group digits by three with ","
        return f"{value:,}"
    if isinstance(value, int | float) and not isinstance(value, bool) and not spec:
        from babel.numbers import format_decimal

        return str(format_decimal(value, locale=_number_locale(lang)))
    return format(value, spec)


@functools.lru_cache(maxsize=8192)
def _parts(text: str) -> tuple[tuple[str, str | None, str], ...] | None:
    """A template parsed once: ``(literal, placeholder or None, format spec)`` pieces; None when
    its braces do not parse."""
    try:
        return tuple((literal, name, spec or "")
                     for literal, name, spec, _ in string.Formatter().parse(text))
    except ValueError:
        return None


def fill(text: str, values: Mapping[str, PlainValue], lang: Lang) -> str:
    """A template with its placeholders replaced by ``values``, as ``lang`` writes them.

    Parameters
    ----------
    text
        A template from the catalogue.
    values
        Name -> value (text, number, or tuple of texts).
    lang
        The language (list separator, digit grouping).

    Returns
    -------
    str
        The filled text; a placeholder without a value stays as ``{name}``; a template whose
        braces do not parse is returned as it is.
    """
    parts = _parts(text)
    if parts is None:  # unbalanced braces (a test keeps them out of the catalogue)
        return text
    out = []
    for literal, name, spec in parts:  # str.format's work, without its per-call setup
        out.append(literal)
        if name is None:
            continue
        if name not in values:  # no value: shown as typed, a visible gap
            out.append("{" + name + (":" + spec if spec else "") + "}")
            continue
        value = values[name]
        try:
            out.append(format_value(value, spec, lang))
        except (ValueError, TypeError):  # a spec that does not fit the value: show it plainly
            out.append(format_value(value, "", lang))
    return "".join(out)
