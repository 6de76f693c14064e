"""The catalogue itself: complete in both languages, consistent, shipped, and used correctly."""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from matcher.messages import LANGS, Lang, catalogue, placeholders, po_paths
from matcher.messages.message import CODE

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "matcher"

# msg("code", ...), label("code", ...), Message("code", ...) / Message(code="code", ...)
USE = re.compile(r"""\b(?:msg|label|Message)\(\s*(?:code\s*=\s*)?"""
                 r"""(?P<q>["'])(?P<code>[^"'\n]*)(?P=q)""")


def raw_entries(lang: Lang) -> dict[str, str]:
    """Every msgid of a language's .po files with its msgstr, empty ones included."""
    out: dict[str, str] = {}
    for path in po_paths(lang):
        with path.open("rb") as f:
            po = read_po(f)
        out.update({e.id: e.string if isinstance(e.string, str) else "" for e in po
                    if isinstance(e.id, str) and e.id})
    return out


def codes_used_in(text: str) -> set[str]:
    """The literal codes ``text`` passes to msg / label / Message."""
    return {m["code"] for m in USE.finditer(text)}


def test_every_code_has_both_languages() -> None:
    """Every code of the English catalogue has a non-empty Chinese text and vice versa: a
    message without its zh (or en) text fails here, naming the codes."""
    zh, en = raw_entries("zh"), raw_entries("en")
    assert sorted(c for c in en if not zh.get(c, "").strip()) == [], "codes without zh text"
    assert sorted(c for c in zh if not en.get(c, "").strip()) == [], "codes without en text"
    assert set(catalogue("zh")) == set(catalogue("en"))


def test_placeholders_agree_between_languages() -> None:
    """Every placeholder a template uses in one language is in the other, with the same format
    spec, so one call fills both languages."""
    zh, en = catalogue("zh"), catalogue("en")
    differ = {c: (placeholders(en[c]), placeholders(zh[c])) for c in en
              if placeholders(en[c]) != placeholders(zh.get(c, ""))}
    assert differ == {}


@pytest.mark.parametrize("lang", LANGS)
def test_templates_are_well_formed(lang: Lang) -> None:
    """Every template parses, names its placeholders (no ``{}`` or ``{0}``), and uses neither
    conversions (``!r``) nor attribute or index lookups (``{a.b}``, ``{a[0]}``)."""
    for code, text in catalogue(lang).items():
        for _, name, _spec, conversion in string.Formatter().parse(text):
            if name is None:
                continue
            assert name.isidentifier(), (code, name)
            assert conversion is None, (code, conversion)


def test_codes_are_dotted_and_unique() -> None:
    """Codes have the dotted lower-case form ``area.name`` and each is defined once per file
    (Babel would silently keep one of two entries), and in one file of a language only;
    both languages have the same files."""
    for lang in LANGS:
        ids = [c for path in po_paths(lang) for c in
               re.findall(r'^msgid "(.+)"$', path.read_text(encoding="utf-8"), flags=re.M)]
        assert len(ids) == len(set(ids)), lang
        assert [c for c in ids if not CODE.fullmatch(c)] == [], lang
    assert [p.name for p in po_paths("zh")] == [p.name for p in po_paths("en")]


def test_chinese_texts_are_translated() -> None:
    """A zh text is not a copy of the English one (unless it holds no English words, such as
    ``{location}：{text}``), and it quotes and punctuates the Chinese way: no ASCII quotes
    around values, no ``, `` or ``; `` between clauses."""
    zh, en = catalogue("zh"), catalogue("en")
    for code, text in zh.items():
        words = re.sub(r"\{[^}]*\}", "", en[code])
        if re.search("[A-Za-z]{3,}", words) and not re.fullmatch(r"[a-z ]+", words.strip()):
            assert text != en[code], f"{code}: zh text is the English one"
        assert "'" not in text, f"{code}: use “” quotes in zh"
        assert ", " not in text and "; " not in text, f"{code}: use ，and ；in zh"


def test_po_files_ship_with_the_package() -> None:
    """importlib.resources finds both .po files inside matcher.messages (pyproject's
    package-data ships them in a wheel, where no source tree is at hand)."""
    base = resources.files("matcher.messages")
    for lang in LANGS:
        po = base.joinpath("locale", lang, "LC_MESSAGES", "matcher.po")
        assert po.is_file(), lang
        assert "msgid" in po.read_text(encoding="utf-8")


def test_scanner_finds_literal_codes() -> None:
    """The scan below sees every form of call it claims to see (so it cannot pass vacuously)."""
    sample = '''
        msg("load.unknown_id", at=loc, value="W9")
        m.msg( 'load.missing_file', file=f)
        label("severity.note", lang)
        Message("load.empty_cell")
        Message(code="load.formula", values={})
        my_msg("not.seen")
        ProblemMessage("not.seen")
    '''
    assert codes_used_in(sample) == {"load.unknown_id", "load.missing_file", "severity.note",
                                     "load.empty_cell", "load.formula"}


def test_codes_used_in_code_are_in_the_catalogue() -> None:
    """Every code that ``matcher/**/*.py`` passes as a literal to ``msg``, ``label`` or
    ``Message`` is in the catalogue; the failure names the file and the code."""
    known = set(catalogue("en"))
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for code in sorted(codes_used_in(path.read_text(encoding="utf-8"))):
            if code not in known:
                missing.append(f"{path.relative_to(ROOT)}: {code}")
    assert missing == []


def test_severity_prefixes_exist() -> None:
    """render(..., severity=True) builds the code ``cli.<severity>_prefix`` at run time (the
    scan cannot see it): each exists and holds ``{text}``."""
    from matcher.messages import SEVERITIES

    for severity in SEVERITIES:
        for lang in LANGS:
            assert "text" in placeholders(catalogue(lang)[f"cli.{severity}_prefix"])
            assert catalogue(lang)[f"severity.{severity}"]
