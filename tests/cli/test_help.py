"""``--help`` in the command's language (:mod:`matcher.cli.helptext`): every command's and
option's help is in the catalogue in both languages, the English catalogue says what the
decorators say, and ``--lang zh`` or a Chinese locale gives Chinese help; what ``check`` prints
is in the command's language too."""

from __future__ import annotations

import inspect
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from matcher.cli.helptext import help_code
from matcher.cli.main import cli
from matcher.messages import template

SHARED = ("lang", "version", "help")
LOCALE = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


def _codes() -> list[tuple[str, str]]:
    """(catalogue code, the decorator's English) of every command and option with help."""
    out = []
    for command in [cli, *cli.commands.values()]:
        out.append((help_code(command), inspect.cleandoc(command.help or "")))
        for p in command.params:
            if isinstance(p, click.Option) and p.help and p.name:
                code = f"help.option.{p.name}" if p.name in SHARED else help_code(command, p.name)
                out.append((code, inspect.cleandoc(p.help)))
    return out


def test_every_help_text_is_in_the_catalogue_and_the_english_matches() -> None:
    """No command or option is left without a Chinese help text, and the English catalogue
    cannot drift from the help written in the code."""
    codes = _codes()
    assert len(codes) > 60
    for code, english in codes:
        assert template(code, "en") == english, code
        zh = template(code, "zh")
        assert zh and any("\u4e00" <= ch <= "\u9fff" for ch in zh), code


def _help(*args: str, env: dict[str, str | None] | None = None) -> str:
    base: dict[str, str | None] = dict.fromkeys(LOCALE)
    r = CliRunner().invoke(cli, list(args), env={**base, **(env or {})}, prog_name="matcher")
    assert r.exit_code == 0, r.output
    return r.output


def test_lang_zh_gives_chinese_help() -> None:
    """``matcher solve --lang zh --help``: the usage heading, the command, its options and
    click's own --help line in Chinese."""
    text = _help("solve", "--lang", "zh", "--help")
    assert text.startswith("用法：matcher solve")
    assert "为场景中的学生分配工作站，并写出结果文件夹。" in text
    assert "要写入的结果文件夹。" in text and "显示本帮助并退出。" in text
    assert "Result folder to write." not in text
    # click's own words too: the headings' colons, [OPTIONS], what it adds after a help text
    assert text.startswith("用法：matcher solve [选项] SCENARIO")
    assert "\n选项：\n" in text and "（必填）" in text and "（默认：cpsat）" in text
    assert "（取值范围：x>=0）" in text
    for english in ("[required]", "[default:", "Options:", "[OPTIONS]"):
        assert english not in text, english


@pytest.mark.parametrize(("locale", "expected", "absent"), [
    ("zh_CN.UTF-8", "检查一个场景", "Check a scenario"),
    ("en_US.UTF-8", "Check a scenario", "检查一个场景"),
])
def test_the_locale_chooses_the_language_of_the_command_list(
        locale: str, expected: str, absent: str) -> None:
    """Without --lang the locale decides: the group's list of commands in its language."""
    text = _help("--help", env={"LANG": locale})
    assert expected in text and absent not in text


def test_english_help_is_unchanged() -> None:
    """In English the help reads as the decorators wrote it (after the catalogue lookup the
    texts are put back: a later --help in another language is not affected)."""
    zh = _help("verify", "--lang", "zh", "--help")
    en = _help("verify", "--lang", "en", "--help")
    assert "按 manifest.json 核对结果文件夹中的每个文件" in zh
    assert en.startswith("Usage: matcher verify")
    assert "Check every file of a result folder against its" in en and "Show this message" in en
    assert "\nOptions:\n" in en and "matcher verify [OPTIONS]" in en
    assert "[required]" in _help("solve", "--lang", "en", "--help")
    assert cli.commands["verify"].help is not None and "re-run" in cli.commands["verify"].help


def test_check_speaks_chinese(tmp_path: Path) -> None:
    """matcher check --lang zh: the recomputed figures and the verdict in Chinese (exit 0)."""
    tiny = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
    out = tmp_path / "out"
    solved = CliRunner().invoke(cli, ["solve", str(tiny), "--out", str(out), "--solver", "da"])
    assert solved.exit_code == 0, solved.output
    r = CliRunner().invoke(cli, ["check", str(tiny), str(out), "--lang", "zh"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("重新计算：已分配 5 人")
    assert r.stdout.splitlines()[-1] == "通过：所有规则都满足，结果中的各项数字与重新计算一致"
