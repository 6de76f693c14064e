"""The commands' refusals come from the catalogue (``cli.po``, ``results.po``, ``plan.po``): each
one in Chinese with ``--lang zh`` and in English with ``--lang en``, exit 2, nothing written.

Each case is a command line that is refused before any solving, the Chinese line and the
English line it must print on stderr.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher.cli import cli

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


def _run(*args: str | Path) -> tuple[int, str]:
    r = CliRunner().invoke(cli, [str(a) for a in args])
    return r.exit_code, r.stderr


CASES = {  # name -> (arguments, Chinese line, English line)
    "cli.stable_needs_cpsat": (
        ("solve", TINY, "--out", "{tmp}/out", "--stable", "--solver", "greedy"),
        "错误：--stable 只能与 --solver cpsat 一起使用，不能与 --solver greedy 一起使用",
        "error: --stable works only with --solver cpsat, not --solver greedy"),
    "cli.unknown_tier": (
        ("bench", "--tier", "XXL"),
        "错误：没有“XXL”这一规模档位；请从以下档位中选择：S、M、L、XL",
        "error: unknown tier 'XXL'; choose one of: S, M, L, XL"),
    "solver.unknown": (
        ("bench", "--tier", "S", "--solvers", "greedy,nope"),
        "错误：没有名为“nope”的求解器；请从以下求解器中选择：",
        "error: unknown solver 'nope'; choose one of: "),
    "solver.none_given": (
        ("bench", "--tier", "S", "--solvers", ","),
        "错误：没有指定求解器；请填 all，或从以下求解器中选择：",
        "error: no solver given; choose 'all' or some of: "),
    "cli.variant_paths": (
        ("variant", "a", "b", "c", "--out", "{tmp}/v"),
        "错误：最多只能给出 BASE 和 VARIANT.yaml 两个路径，现在给了 3 个",
        "error: give at most BASE and VARIANT.yaml, got 3 paths"),
    "cli.compare_two": (
        ("compare", "{tmp}", "--out", "{tmp}/c"),
        "错误：请至少给出两个结果文件夹用于比较",
        "error: give at least two result folders to compare"),
    "cli.compare_scenarios": (
        ("compare", "{tmp}/a", "{tmp}/b", "{tmp}/c", "--scenario", TINY, "--scenario", TINY,
         "--out", "{tmp}/out"),
        "错误：--scenario 给了 2 次，但结果有 3 个；"
        "请只给一次（用于全部结果），或按结果的顺序每个结果各给一次",
        "error: --scenario: given 2 times for 3 results; give it once (for all) or once per "
        "result, in the same order"),
    "plan.sweep.vary_bad_value": (
        ("sweep", TINY, "--vary", "capacity_scale=big", "--out", "{tmp}/out"),
        "错误：--vary capacity_scale=big：“big”不是数字；请填写用逗号隔开的取值",
        "error: --vary capacity_scale=big: 'big' is not a number; give comma-separated values"),
    "plan.sweep.vary_unknown": (
        ("sweep", TINY, "--vary", "size=1,2", "--out", "{tmp}/out"),
        "错误：--vary size=1,2：没有“size”这个参数；可用的参数有：capacity_scale、",
        "error: --vary size=1,2: unknown parameter 'size'; use one of capacity_scale, "),
    "result.missing_file": (
        ("check", TINY, "{tmp}"),
        "错误：{tmp}/assignments.csv：找不到此文件；请给出 matcher solve 生成的结果文件夹",
        "error: {tmp}/assignments.csv: missing file; give a result folder written by matcher "
        "solve"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("code", sorted(CASES))
def test_refusal_in_the_language(code: str, lang: str, tmp_path: Path) -> None:
    """The command exits 2 with the refusal worded in ``--lang`` (first line of stderr)."""
    args, zh, en = CASES[code]
    filled = [str(a).replace("{tmp}", str(tmp_path)) for a in args]
    status, err = _run(*filled, "--lang", lang)
    want = (zh if lang == "zh" else en).replace("{tmp}", str(tmp_path))
    assert status == 2, err
    assert err.splitlines()[0].startswith(want), err
    assert not (tmp_path / "out").exists() and not (tmp_path / "v").exists()


def test_locale_decides_without_lang(tmp_path: Path) -> None:
    """Without ``--lang`` a Chinese locale words the refusal in Chinese."""
    r = CliRunner(env={"LC_ALL": "zh_CN.UTF-8"}).invoke(cli, ["bench", "--tier", "XXL"])
    assert r.exit_code == 2
    assert r.stderr.startswith("错误：没有“XXL”这一规模档位")


@pytest.mark.parametrize(("lang", "lines"), [
    ("zh", ["修改：删除了 1 名学生", "修改：工作站 W1 在 2027-spring 关闭",
            "修改：3 个工作站（全部工作站）的容量乘以 2："
            "每学期名额由 5 个变为 10 个，企业导师可带人数同比调整"]),
    ("en", ["changed  removed 1 student(s)", "changed  closed W1 in 2027-spring",
            "changed  scaled capacity x2 at 3 workstation(s) (every workstation): 5 -> 10 places "
            "per term, mentors alike"]),
])
def test_variant_says_what_it_changed_in_the_language(tmp_path: Path, lang: str,
                                                      lines: list[str]) -> None:
    """``matcher variant --lang zh`` lists the changes (``variant.change.*``) and the written
    folder in Chinese; ``--lang en`` as before."""
    f = tmp_path / "v.yaml"
    f.write_text("remove_students: [S6]\nclose: [{workstation_id: W1, terms: [2027-spring]}]\n"
                 "scale_capacity: 2\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["variant", str(TINY), str(f), "--out", str(tmp_path / "out"),
                                 "--lang", lang])
    assert r.exit_code == 0, r.output
    out = r.stdout.splitlines()
    assert set(lines) <= set(out), out
    assert out[-1].startswith("已写出 " if lang == "zh" else "wrote ")


def test_generate_reports_in_the_locale_language(tmp_path: Path) -> None:
    """``matcher generate`` under a Chinese locale says what it wrote in Chinese
    (``cli.generate.wrote``)."""
    r = CliRunner(env={"LC_ALL": "zh_CN.UTF-8"}).invoke(cli, [
        "generate", "--students", "12", "--workstations", "3", "--universities", "2",
        "--out", str(tmp_path / "g")])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == (f"已写出 {tmp_path / 'g'}：学生 12 人，工作站 3 个，高校 2 所"
                                "（随机种子 0）")
