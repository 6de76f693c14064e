"""Choosing the language: --lang, then the scenario, then the locale; and Accept-Language."""

from __future__ import annotations

import pytest

from matcher.messages import choose_lang, lang_from_accept_language, looks_chinese

ZH_ENV = {"LANG": "zh_CN.UTF-8"}
EN_ENV = {"LANG": "en_US.UTF-8"}


def test_explicit_choice_wins() -> None:
    """--lang beats the scenario and the locale, and accepts tags such as zh-CN."""
    assert choose_lang("en", scenario_hint="zh", environ=ZH_ENV) == "en"
    assert choose_lang("zh", scenario_hint="en", environ=EN_ENV) == "zh"
    assert choose_lang("zh-CN", environ={}) == "zh"


def test_explicit_choice_must_be_known() -> None:
    """An explicit language the catalogue lacks is an error, not a silent fallback."""
    with pytest.raises(ValueError, match="fr"):
        choose_lang("fr", environ={})


def test_scenario_beats_locale() -> None:
    """Without --lang, the scenario's language (Chinese headers) beats the locale."""
    assert choose_lang(None, scenario_hint="zh", environ=EN_ENV) == "zh"
    assert choose_lang(None, scenario_hint="en", environ=ZH_ENV) == "en"


def test_locale_then_english() -> None:
    """Without --lang and scenario, the locale decides; with nothing set, English."""
    assert choose_lang(environ=ZH_ENV) == "zh"
    assert choose_lang(environ=EN_ENV) == "en"
    assert choose_lang(environ={}) == "en"
    assert choose_lang(environ={"LANG": "C"}) == "en"


@pytest.mark.parametrize(("environ", "lang"), [
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_ALL": "", "LANG": "zh_CN.GB18030"}, "zh"),
    ({"LANGUAGE": "zh_CN:en"}, "zh"),
    ({"LANG": "C.UTF-8", "LANGUAGE": "zh_CN"}, "en"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
])
def test_locale_variables_in_order(environ: dict[str, str], lang: str) -> None:
    """LC_ALL, LC_MESSAGES, LANG, LANGUAGE: the first one set decides; zh... means Chinese,
    anything else English."""
    assert choose_lang(environ=environ) == lang


def test_looks_chinese() -> None:
    """Names with a Han character mean a Chinese scenario; ASCII and full-width Latin do not."""
    assert looks_chinese(["student_id", "所在高校"])
    assert looks_chinese(["学生"])
    assert not looks_chinese(["student_id", "Ｓ1", "（）"])
    assert not looks_chinese([])


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    ("en;q=0.5, zh-Hans;q=0.7", "zh"),
    ("fr-FR,fr;q=0.9,zh;q=0.3", "zh"),
    ("zh;q=0, en", "en"),
    ("de-DE,fr", "en"),
    ("*", "en"),
    ("", "en"),
    (None, "en"),
    ("zh;q=abc,en;q=0.1", "en"),
    ("zh-TW", "zh"),
])
def test_accept_language(header: str | None, lang: str) -> None:
    """The web page takes the browser's best-weighted of zh and en, English otherwise;
    q=0 and malformed weights do not count."""
    assert lang_from_accept_language(header) == lang
