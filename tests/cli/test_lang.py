"""``--lang`` and the language of ``matcher solve``: the summary, the reasons of unassigned.csv
and the manifest follow --lang, else the scenario (Chinese headers mean zh), else the locale."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from chinese import TINY, chinese_tiny
from click.testing import CliRunner, Result

from matcher.cli import cli

ENGLISH_ENV = {"LC_ALL": "C.UTF-8", "LC_MESSAGES": "", "LANG": "C.UTF-8", "LANGUAGE": ""}


def _solve(scenario: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, ["solve", str(scenario), "--out", str(out), "--solver", "da",
                                      *extra], env=env or ENGLISH_ENV, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def _reason(out: Path) -> str:
    with (out / "unassigned.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["student_id", "reason"]  # column names stay English
    return rows[0]["reason"]


def _lang(out: Path) -> str:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["write_options"][
        "lang"]


def test_english_scenario_in_english(tmp_path: Path) -> None:
    """tiny under an English locale: an English summary and reason; the manifest says en."""
    r = _solve(TINY, tmp_path / "out")
    assert r.stdout.splitlines()[0].startswith("status      FEASIBLE  (da, ")  # warnings: stderr
    assert "placed      5 of 6" in r.output
    assert "proven      placed not proven maximal (no upper bound known)" in r.output
    assert _reason(tmp_path / "out") == ("no workstation takes discipline 0856; add 0856 to a "
                                         "workstation's disciplines")
    assert _lang(tmp_path / "out") == "en"


def test_lang_option_gives_chinese(tmp_path: Path) -> None:
    """--lang zh on an English scenario: the summary and the reason in Chinese."""
    r = _solve(TINY, tmp_path / "out", "--lang", "zh")
    lines = r.stdout.splitlines()  # tiny's warnings (警告：...) go to stderr
    assert lines[0].startswith("状态          可行（da，用时 ")
    assert "已分配        5 人（共 6 人）" in lines
    assert "第一志愿      占已分配学生的 60.0%" in lines
    assert "证明情况      分配人数未证明为最多（没有已知的上界）" in lines
    assert _reason(tmp_path / "out") == ("没有工作站接收“0856”类别的学生；请在某个工作站的接收学科"
                                         "中加上 0856")
    assert _lang(tmp_path / "out") == "zh"


def test_chinese_headers_give_chinese_and_lang_overrides(tmp_path: Path) -> None:
    """A scenario with Chinese headers is answered in Chinese under an English locale; --lang en
    overrides the scenario."""
    zh = chinese_tiny(tmp_path / "zh")
    r = _solve(zh, tmp_path / "a")
    assert "状态" in r.output and _lang(tmp_path / "a") == "zh"
    assert "类别的学生" in _reason(tmp_path / "a")
    r = _solve(zh, tmp_path / "b", "--lang", "en")
    assert "status" in r.output and _lang(tmp_path / "b") == "en"


@pytest.mark.parametrize(("env", "lang"), [({"LC_ALL": "zh_CN.UTF-8"}, "zh"),
                                           ({"LC_ALL": "", "LANG": "zh_CN.GB18030"}, "zh"),
                                           ({"LC_ALL": "en_US.UTF-8"}, "en")])
def test_locale_decides_last(tmp_path: Path, env: dict[str, str], lang: str) -> None:
    """An English-headed scenario follows the locale (a Chinese office PC answers in Chinese)."""
    _solve(TINY, tmp_path / "out", env=ENGLISH_ENV | env)
    assert _lang(tmp_path / "out") == lang


def test_unknown_language_is_a_usage_error(tmp_path: Path) -> None:
    """--lang fr: exit 2 naming the choices, nothing written."""
    r = CliRunner().invoke(cli, ["solve", str(TINY), "--out", str(tmp_path / "out"), "--lang",
                                 "fr"])
    assert r.exit_code == 2 and "'zh', 'en'" in r.output
    assert not (tmp_path / "out").exists()
