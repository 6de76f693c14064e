"""The documentation stays true: the library guide runs, links resolve, the README stays short.

- ``docs/library.md`` is a doctest: every ``>>>`` example runs from the repository root against
  the installed package's public API and must print what the page shows.
- Every relative link and image in ``README.md``, ``docs/*.md`` and ``benchmarks/*.md`` points
  to an existing file, and a ``#anchor`` to a heading of that file.
- ``README.md`` has at most 250 lines (the manual lives in ``docs/``).
"""

from __future__ import annotations

import doctest
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 250
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"),
                *(ROOT / "benchmarks").glob("*.md")])

_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (links inside code are not links)."""
    out, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return out


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.lower()
    kept = []
    for ch in text:
        if ch in " -_" or unicodedata.category(ch)[0] in "LN":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for line in _prose_lines(page.read_text(encoding="utf-8")):
        m = _HEADING.match(line)
        if not m:
            continue
        slug = _slug(m.group(1))
        n = seen.get(slug, 0)
        anchors.add(slug if n == 0 else f"{slug}-{n}")
        seen[slug] = n + 1
    return anchors


def _links(page: Path) -> list[str]:
    text = "\n".join(_prose_lines(page.read_text(encoding="utf-8")))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    return [m.group(1) for m in _LINK.finditer(text)]


def test_library_guide_doctest_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    failed, attempted = doctest.testfile(
        str(ROOT / "docs" / "library.md"), module_relative=False, report=True,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0
    assert failed == 0, f"{failed} of {attempted} examples in docs/library.md failed (see above)"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading with anchor #{anchor} in {dest.name}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_readme_is_short() -> None:
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines (at most {README_MAX_LINES}); move detail to docs/")


def test_format_reference_lists_every_alias() -> None:
    """docs/format.md lists every Chinese header, sheet name and settings key the loader accepts."""
    try:  # the layered package (issue 23)
        from matcher.formats import aliases  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # the flat package before it
        from matcher import aliases  # type: ignore[no-redef,unused-ignore]
    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    tables = (aliases.COLUMN_ALIASES, aliases.SHEET_ALIASES, aliases.SETTING_COLUMN_ALIASES,
              aliases.SETTING_ALIASES)
    missing = [f"{name}: {alias}" for table in tables for name, names in table.items()
               for alias in (name, *names) if f"`{alias}`" not in text]
    assert not missing, "docs/format.md lacks: " + ", ".join(missing)


def test_slug_matches_github() -> None:
    assert _slug("Rolling cohorts: `occupancy.csv`, `--previous`, `matcher rolling`") == (
        "rolling-cohorts-occupancycsv---previous-matcher-rolling")
    assert _slug("Explaining one student's outcome: `matcher explain`") == (
        "explaining-one-students-outcome-matcher-explain")
    assert _slug("scenario.yaml") == "scenarioyaml"
