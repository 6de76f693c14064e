"""matcher.formats.yamlsafe: the one YAML reader refuses what a settings file has no use for,
naming the file, the line and the key, before any value is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.formats.yamlsafe import (
    MAX_YAML_DEPTH,
    YamlError,
    parse_yaml,
    read_yaml_file,
)


def _refusal(text: str) -> tuple[str, str]:
    with pytest.raises(YamlError) as info:
        parse_yaml(text, "v.yaml")
    (m,) = info.value.items
    assert not isinstance(m, str)
    return m.code, str(m)


def test_plain_settings_read() -> None:
    """Mappings, lists, text, numbers and booleans come back as PyYAML's safe loader builds
    them; an empty file is None."""
    doc = parse_yaml("base: ../demo\nscale_capacity:\n  - {factor: 1.2, city: Daqing}\n"
                     "policy: {preferences_only: true}\n", "v.yaml")
    assert doc == {"base": "../demo", "scale_capacity": [{"factor": 1.2, "city": "Daqing"}],
                   "policy": {"preferences_only": True}}
    assert parse_yaml("", "v.yaml") is None


def test_billion_laughs_refused_at_the_first_alias() -> None:
    """Nested aliases are refused where the first alias is used, with its key."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, 30)]
    code, text = _refusal("\n".join(lines) + "\n")
    assert code == "yaml.alias"
    assert text == "v.yaml line 2, a1[0]: aliases (*a0) are not allowed; write the values out"


def test_anchor_alone_refused() -> None:
    """An anchor is refused too, even unused: a settings file has no use for one."""
    code, text = _refusal("policy:\n  window: &w [2026-autumn, 2027-spring]\n")
    assert code == "yaml.anchor" and text.startswith("v.yaml line 2, policy.window: anchors (&w)")


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['ls']", "!!str 5",
                                 "!custom x", "!!binary aGk="])
def test_every_tag_refused(tag: str) -> None:
    """Every explicit tag is refused, the harmless ones too, named as written."""
    code, text = _refusal(f"name: {tag}\n")
    assert code == "yaml.tag" and text.startswith("v.yaml line 1, name: the tag '!")


def test_duplicate_key_named_with_its_mapping() -> None:
    """A key given twice is named with the mapping that holds it and the second line."""
    code, text = _refusal("policy:\n  practice_months: 6\n  practice_months: 12\n")
    assert code == "yaml.duplicate_key"
    assert text == "v.yaml line 3, policy: key 'practice_months' is given twice; keep one"


def test_structure_refusals() -> None:
    """More than one document, a list as a key, nesting beyond the limit (in brackets or by
    indentation), text that is not YAML: each refused with the line where known."""
    assert _refusal("a: 1\n---\nb: 2\n")[0] == "yaml.documents"
    assert _refusal("? [a, b]\n: 1\n")[0] == "yaml.complex_key"
    assert _refusal("x: " + "[" * 5000 + "]" * 5000 + "\n")[0] == "yaml.too_deep"
    deep = "".join(" " * k + f"k{k}:\n" for k in range(MAX_YAML_DEPTH + 2)) + " " * 30 + "v\n"
    code, text = _refusal(deep)
    assert code == "yaml.too_deep" and "at most 20" in text
    code, text = _refusal("terms: [2025-autumn, 2026-spr\n")
    assert code == "yaml.invalid" and text.startswith("v.yaml line 2: not valid YAML")


def test_files_too_large_or_not_text(tmp_path: Path) -> None:
    """A file over 1 MiB is refused before it is read; bytes that are not UTF-8 too."""
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (1 << 20) + "\n", encoding="utf-8")
    with pytest.raises(YamlError, match="more than the 1,048,576"):
        read_yaml_file(big)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(YamlError, match="not UTF-8"):
        read_yaml_file(latin)
    with pytest.raises(YamlError, match="not found"):
        read_yaml_file(tmp_path / "none.yaml")


def test_messages_in_chinese() -> None:
    """The refusals are worded in Chinese too."""
    with pytest.raises(YamlError) as info:
        parse_yaml("a: 1\na: 2\n", "变体.yaml")
    assert info.value.lines("zh") == ["变体.yaml 第2行：键“a”出现了两次；请只保留一个"]
