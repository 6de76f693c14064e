"""Group quotas (issue 29) in planning: explain and the unassigned reasons name the hard quota
that kept a student out, and a variant carries quotas.csv along.

tiny with a hard quota (at most half of W2's students from HEU): the optimum leaves S3 (HEU,
listing only W2) out though W2 has room; the reason and the explanation say which quota, with
the figures before and after, in both languages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from budget import PROOF_S

from matcher import explain, load_scenario, solve
from matcher.model import Problem

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


@pytest.fixture(scope="module")
def with_quota(tmp_path_factory: pytest.TempPathFactory) -> Problem:
    folder = tmp_path_factory.mktemp("q") / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "quotas.csv").write_text(
        "workstation_id,selector,value,max_share\nW2,university_id,HEU,50%\n", encoding="utf-8")
    return load_scenario(folder)


def test_a_quota_that_kept_a_student_out_is_named(with_quota: Problem) -> None:
    """S3's reason is reason.quota naming W2 and row 1; explain gives W2 the kind ``quota``
    with the counts now (1 of 2) and with the student (2 of 3)."""
    r = solve(with_quota, "milp", time_limit_s=PROOF_S, seed=0, workers=1)
    reason = dict(r.unassigned)["S3"]
    assert reason.code == "reason.quota", reason
    assert "W2" in reason.text("en") and "rows 1" in reason.text("en")
    assert "第1行的硬性配额" in reason.text("zh")
    en = explain(with_quota, r, "S3", lang="en")
    (w2,) = [c for c in en.choices if c.workstation_id == "W2"]
    assert w2.kind == "quota"
    assert "1 of 2 now, 2 of 3 with the student" in w2.text
    zh = explain(with_quota, r, "S3", lang="zh")
    assert "目前 2 人中 1 人，加入该生后 3 人中 2 人" in zh.text()


def test_a_variant_keeps_quotas_and_drops_those_of_removed_workstations(tmp_path: Path) -> None:
    """A variant carries quotas.csv along; removing a workstation drops its quotas with a note
    (they would name a workstation the variant no longer has), and the written variant reads
    back with the rest."""
    from matcher.planning.variant import build_variant, write_variant

    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "quotas.csv").write_text(
        "workstation_id,selector,value,max_share\nW2,university_id,HEU,50%\n"
        ",discipline,0855,0.5\n", encoding="utf-8")
    (tmp_path / "v.yaml").write_text("remove_workstations: [W2]\n", encoding="utf-8")
    v = build_variant(tmp_path / "v.yaml", folder)
    assert [(q.workstation_id, q.value) for q in v.problem.quotas] == [(None, "0855")]
    assert any("quotas.csv" in n for n in v.notes)
    write_variant(v, tmp_path / "out")
    assert load_scenario(tmp_path / "out").quotas == v.problem.quotas
