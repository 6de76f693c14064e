"""The one safe YAML reader: every YAML file matcher reads comes through here.

``scenario.yaml``, variant files (``matcher variant``, ``sweep`` points) and changes files
(``matcher resolve``) hold a few levels of settings, never data, so anything else is refused
before a value is built: aliases and anchors (a few lines of nested aliases expand to billions
of values, the "billion laughs"), tags (``!!python/object`` and every other), keys given twice
(YAML keeps the last silently, which hides the first), keys that are not text, more than one
document, nesting deeper than :data:`MAX_YAML_DEPTH`, and files over :data:`MAX_YAML_BYTES`.
One streaming pass over the parser's events finds all of these before anything is composed,
so a hostile file is refused at once; only then is the document built with PyYAML's safe
loader. Every refusal is a catalogue message (``yaml.*``) naming the file, the line and the
key.

* :func:`read_yaml_file`: a file, read, size-checked, decoded and parsed;
* :func:`parse_yaml`: text already read;
* :func:`load_settings_text`: the form the ``scenario.yaml`` loader uses.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ..messages import Location, Message, msg
from ..model import ScenarioError
from .cells import MAX_YAML_BYTES, show

__all__ = ["MAX_YAML_BYTES", "MAX_YAML_DEPTH", "YamlError", "flow_depth", "load_settings_text",
           "parse_yaml", "read_yaml_file", "yaml_problem"]

MAX_YAML_DEPTH = 20
"""Deepest nesting of lists and mappings read (:data:`MAX_YAML_BYTES`, 1 MiB, is the largest
file read)."""


class YamlError(ScenarioError):
    """A YAML file refused: one message naming the file, the line and the key."""


def flow_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` counting every bracket, even quoted ones (an
    over-estimate, which a settings file never comes near, and that no quote can hide from)."""
    depth = deepest = 0
    for c in text:
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _at(file: str, mark: Any, path: list[str]) -> Location:
    line = mark.line + 1 if mark is not None else None
    dotted = "".join(p if p.startswith("[") else f".{p}" for p in path).lstrip(".")
    return Location(file=file, line=line, field=dotted or None)


class _Frame:
    """A mapping or list being read: where its next node goes."""

    def __init__(self, kind: str, path: list[str]):
        self.kind = kind
        self.path = path
        self.index = 0
        self.key: str | None = None
        self.want_key = kind == "map"
        self.keys: set[str] = set()


def yaml_problem(text: str, file: str) -> Message | None:
    """The first thing in ``text`` a settings file may not hold, or None.

    Reads the parser's events once (nothing is composed or constructed), so a billion-laughs
    file or a thousand levels of nesting are refused at once.

    Raises
    ------
    yaml.YAMLError
        When the text is not YAML at all (the caller words it).
    """
    if flow_depth(text) > MAX_YAML_DEPTH:  # PyYAML's scanner slows quadratically with depth
        return msg("yaml.too_deep", at=Location(file=file), limit=MAX_YAML_DEPTH, file=file)
    stack: list[_Frame] = []
    documents = 0
    anchor: Message | None = None  # an anchor alone does no harm: an alias is worse news
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                return msg("yaml.documents", at=_at(file, event.start_mark, []))
            continue
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()
            if stack:
                _advance(stack[-1])
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        top = stack[-1] if stack else None
        path = [] if top is None else top.path + (
            [] if top.want_key else [top.key or "?"] if top.kind == "map" else
            [f"[{top.index}]"])
        where = _at(file, event.start_mark, path)
        if isinstance(event, yaml.AliasEvent):
            return msg("yaml.alias", at=where, name=show(str(event.anchor)), file=file)
        if event.anchor is not None and anchor is None:
            anchor = msg("yaml.anchor", at=where, name=show(str(event.anchor)), file=file)
        tag = getattr(event, "tag", None)
        if tag is not None:
            return msg("yaml.tag", at=where, tag=show(tag.replace("tag:yaml.org,2002:", "!!")),
                       file=file)
        if top is not None and top.kind == "map" and top.want_key:
            if not isinstance(event, yaml.ScalarEvent):
                return msg("yaml.complex_key", at=where)
            if event.value in top.keys:
                return msg("yaml.duplicate_key", at=_at(file, event.start_mark, top.path),
                           key=show(event.value))
            top.keys.add(event.value)
            top.key = show(event.value)
            top.want_key = False
            continue
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if len(stack) >= MAX_YAML_DEPTH:
                return msg("yaml.too_deep", at=where, limit=MAX_YAML_DEPTH, file=file)
            kind = "map" if isinstance(event, yaml.MappingStartEvent) else "list"
            stack.append(_Frame(kind, path))
            continue
        if top is not None:
            _advance(top)
    return anchor


def _advance(frame: _Frame) -> None:
    """A value of ``frame`` was read: a mapping wants a key next, a list its next item."""
    if frame.kind == "map":
        frame.want_key = True
    else:
        frame.index += 1


def parse_yaml(text: str, file: str) -> Any:
    """Parse the text of a YAML settings file safely (see the module docstring).

    Parameters
    ----------
    text
        The file's text.
    file
        The file as messages name it.

    Returns
    -------
    Any
        The document: mappings, lists, text, numbers, booleans, dates; None for an empty file.

    Raises
    ------
    YamlError
        What is refused, or why it is not YAML, naming the file, the line and the key.
    """
    if len(text) > MAX_YAML_BYTES:
        raise YamlError([msg("yaml.too_large", at=Location(file=file), size=len(text),
                             limit=MAX_YAML_BYTES)])
    try:
        refused = yaml_problem(text, file)
        if refused is not None:
            raise YamlError([refused])
        return yaml.safe_load(text)
    except RecursionError:  # PyYAML composes nested blocks recursively
        raise YamlError([msg("yaml.too_deep", at=Location(file=file), limit=MAX_YAML_DEPTH,
                             file=file)]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = str(getattr(e, "problem", "") or "").strip() or "unreadable"
        raise YamlError([msg("yaml.invalid", at=_at(file, mark, []),
                             problem=show(problem))]) from None


def read_yaml_file(path: str | os.PathLike[str], name: str | None = None) -> Any:
    """Read, size-check, decode and parse a YAML settings file.

    Parameters
    ----------
    path
        The file.
    name
        The file as messages name it (default: the path as given).

    Raises
    ------
    YamlError
        Missing, too large, not UTF-8 text, or refused by :func:`parse_yaml`.
    """
    path = Path(path)
    file = name if name is not None else str(path)
    if not path.is_file():
        raise YamlError([msg("yaml.missing", at=Location(file=file))])
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise YamlError([msg("yaml.too_large", at=Location(file=file), size=size,
                             limit=MAX_YAML_BYTES)])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise YamlError([msg("yaml.not_utf8", at=Location(file=file))]) from None
    return parse_yaml(text, file)


def load_settings_text(text: str, file: str = "scenario.yaml") -> tuple[Any, str | None]:
    """Parse the text of ``scenario.yaml`` safely (for the loader's error lines).

    Returns
    -------
    (document, None)
        The parsed document (None for an empty file).
    (None, line)
        Why it is refused: one message line naming the file, the line and the key.
    """
    try:
        return parse_yaml(text, file), None
    except YamlError as e:
        return None, e.messages[0]
