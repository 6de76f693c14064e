"""Every word of the web pages comes from the catalogue (web.po) in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from matcher.messages import LANGS, Lang, catalogue, label
from matcher.web.present import STATUS_CODES

WEB = Path(__file__).resolve().parents[2] / "matcher" / "web"


def codes_in_templates() -> set[str]:
    """Literal codes given to ``t("...")`` in the templates."""
    found: set[str] = set()
    for path in (WEB / "templates").glob("*.html"):
        found |= set(re.findall(r"""\bt\(\s*["']([a-z_.]*[a-z_])["']""", path.read_text("utf-8")))
    return found


def codes_in_code() -> set[str]:
    """Every ``"web.…"`` string literal of matcher/web and matcher/cli/ui.py (codes handed to
    helpers such as ``_fail`` and ``_refuse`` escape the catalogue test's own scan)."""
    found: set[str] = set()
    for path in [*WEB.glob("*.py"), WEB.parent / "cli" / "ui.py"]:
        found |= set(re.findall(r"""["'](web\.[a-z_.]+[a-z_])["']""", path.read_text("utf-8")))
    return found


def test_scans_see_codes() -> None:
    """The scans find codes of each kind (so the tests below cannot pass on nothing)."""
    assert {"web.nav_new", "web.upload_button"} <= codes_in_templates()
    assert {"web.zip_unsafe_entry", "web.refused_origin", "web.needs_password"} <= codes_in_code()


@pytest.mark.parametrize("lang", LANGS)
def test_every_code_is_in_the_catalogue(lang: Lang) -> None:
    """Codes of templates and code, and the codes built at run time (statuses, stages, file
    captions, verify outcomes), all have text in both languages."""
    built = {f"web.status.{s}" for s in STATUS_CODES} | {
        f"web.status_help.{s}" for s in STATUS_CODES} | {
        f"web.stage.{s}" for s in ("queued", "starting", "loading", "solving", "writing",
                                    "verifying")} | {
        f"web.file.{n}" for n in ("results_xlsx", "assignments_csv", "unassigned_csv",
                                  "summary_json", "report_html", "manifest_json")} | {
        f"web.verify_status.{s}" for s in ("queued", "verified", "not_verified", "failed")}
    known = catalogue(lang)
    missing = sorted(c for c in codes_in_templates() | codes_in_code() | built
                     if c not in known)
    assert missing == []


def test_chinese_labels_read_as_chinese() -> None:
    """A few labels as a graduate office reads them."""
    assert label("web.nav_history", "zh") == "历史记录"
    assert label("web.status.feasible", "zh") == "可行"
    assert "工作表" in label("web.place_sheet", "zh", sheet="学生")
