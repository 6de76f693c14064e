"""Which language a user reads: ``zh`` or ``en``, from an option, the scenario or the locale.

The order is fixed (issue 25): an explicit choice (``--lang``, the web page's switch) first; then
the scenario (a caller that sees Chinese headers or sheet names passes ``scenario_hint="zh"``,
see :func:`looks_chinese`); then the locale of the process; else English. A web request's
``Accept-Language`` header gives the browser's choice (:func:`lang_from_accept_language`).
"""

from __future__ import annotations

import locale
import os
import re
from collections.abc import Iterable, Mapping
from typing import Literal

Lang = Literal["zh", "en"]
"""A language the catalogue speaks."""

LANGS: tuple[Lang, ...] = ("zh", "en")
"""Every language of the catalogue; the first one is the office's own."""

DEFAULT_LANG: Lang = "en"
"""The language when nothing says otherwise."""

LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")
"""Environment variables read, in this order; the first one set (non-empty) decides."""

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def normalize_lang(value: str | None) -> Lang | None:
    """The catalogue language a language tag or locale name means, or None.

    Parameters
    ----------
    value
        A tag such as ``zh``, ``zh-CN``, ``zh_Hans_CN.UTF-8``, ``en-GB``, ``Chinese
        (Simplified)_China.936`` (a Windows locale name), or None.

    Returns
    -------
    Lang or None
        ``"zh"`` for any Chinese tag, ``"en"`` for any English one, None for anything else
        (``C``, ``POSIX``, ``fr_FR``, an empty string).
    """
    if not value:
        return None
    tag = value.strip().lower()
    if tag.startswith(("zh", "chinese")):
        return "zh"
    if tag.startswith("en"):
        return "en"
    return None


def looks_chinese(texts: Iterable[str]) -> bool:
    """True when any of ``texts`` holds a Chinese (Han) character.

    Parameters
    ----------
    texts
        What the user typed and matcher reads as names: headers, sheet names, setting keys.
        Pass names, not data: a student's Chinese name says nothing about the office's
        language of work if its headers are English.

    Returns
    -------
    bool
        Whether a caller should pass ``scenario_hint="zh"`` to :func:`choose_lang`.
    """
    return any(_HAN.search(t) for t in texts)


def choose_lang(explicit: str | None = None, scenario_hint: str | None = None,
                environ: Mapping[str, str] = os.environ) -> Lang:
    """The language to speak: the explicit choice, else the scenario's, else the locale's.

    Parameters
    ----------
    explicit
        ``--lang`` (or the web switch): ``zh`` or ``en`` (a tag such as ``zh-CN`` is accepted).
        None when not given.
    scenario_hint
        ``zh`` when the scenario's headers or sheet names are Chinese (:func:`looks_chinese`),
        ``en`` when they are English, None when unknown (no scenario read yet).
    environ
        The environment to read the locale from (the process's own by default). The first of
        ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, ``LANGUAGE`` that is set decides: ``zh...``
        means Chinese; anything else (``C``, ``en_US.UTF-8``, ``fr_FR``) means English. When
        none is set and ``environ`` is the process's own environment (a Windows office PC
        sets none), the system locale (:func:`locale.getlocale`) decides instead.

    Returns
    -------
    Lang
        ``"zh"`` or ``"en"``.

    Raises
    ------
    ValueError
        When ``explicit`` is given but is neither Chinese nor English.
    """
    if explicit is not None:
        lang = normalize_lang(explicit)
        if lang is None:
            raise ValueError(f"unknown language {explicit!r}; use one of {', '.join(LANGS)}")
        return lang
    hint = normalize_lang(scenario_hint)
    if hint is not None:
        return hint
    for name in LOCALE_VARIABLES:
        value = environ.get(name, "")
        if value:
            return "zh" if normalize_lang(value) == "zh" else "en"
    if environ is os.environ:
        return "zh" if normalize_lang(_system_locale()) == "zh" else DEFAULT_LANG
    return DEFAULT_LANG


def _system_locale() -> str | None:
    """The system's locale name (Windows sets no ``LANG``); None when it cannot be told."""
    try:
        return locale.getlocale(locale.LC_CTYPE)[0]
    except (ValueError, TypeError):  # an unparseable locale setting
        return None


def lang_from_accept_language(header: str | None) -> Lang:
    """The language a browser asks for in its ``Accept-Language`` header.

    Parameters
    ----------
    header
        For example ``zh-CN,zh;q=0.9,en;q=0.8``. Entries are weighed by ``q`` (default 1);
        among equal weights the first listed wins; ``q=0``, ``*``, malformed entries and
        languages other than Chinese and English are ignored.

    Returns
    -------
    Lang
        The best-weighted of ``zh`` and ``en``; English when the header names neither.
    """
    best: tuple[float, Lang] | None = None
    for entry in (header or "").split(","):
        tag, *params = (part.strip() for part in entry.split(";"))
        lang = normalize_lang(tag)
        if lang is None:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if not 0 < q <= 1:
            continue
        if best is None or q > best[0]:
            best = (q, lang)
    return best[1] if best is not None else DEFAULT_LANG
