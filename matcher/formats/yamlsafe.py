"""The one safe YAML reader of settings files (``scenario.yaml``).

:func:`load_settings_text` parses with PyYAML's safe loader after :func:`yaml_structure` has
refused what a settings file has no use for and what could harm the reader: aliases (the
"billion laughs"), keys given twice, nesting deeper than :data:`MAX_YAML_DEPTH`, and tags. Every
refusal is one message line naming ``scenario.yaml`` and, where known, the line.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .cells import show

__all__ = ["MAX_YAML_DEPTH", "TOO_DEEP", "flow_depth", "line", "load_settings_text",
           "yaml_structure"]


def line(mark: Any) -> str:
    """`` line N`` for a YAML position, empty when unknown."""
    return f" line {mark.line + 1}" if mark is not None else ""


MAX_YAML_DEPTH = 20
"""Deepest nesting of lists and mappings read."""
TOO_DEEP = ("scenario.yaml: lists or mappings nested too deeply; scenario.yaml holds a few "
            "levels of settings only")


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


def yaml_structure(text: str) -> str | None:
    """Refuse what ``yaml.safe_load`` would accept but a settings file has no use for.

    Aliases (``*name``) are refused: a few lines of nested aliases expand to billions of values
    (the "billion laughs" attack). A key given twice in one mapping is refused: YAML keeps the
    last silently, which hides the first.
    """
    if flow_depth(text) > MAX_YAML_DEPTH:  # PyYAML's scanner slows quadratically with depth
        return TOO_DEEP
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            return (f"scenario.yaml{line(event.start_mark)}: aliases "
                    f"(*{show(event.anchor)}) are not allowed; write the values out")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    todo = [root] if root is not None else []
    while todo:
        node = todo.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        return (f"scenario.yaml{line(key.start_mark)}: key "
                                f"'{show(key.value)}' is given twice; keep one")
                    seen.add(key.value)
                todo += [key, value]
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value
    return None



def load_settings_text(text: str) -> tuple[Any, str | None]:
    """Parse the text of ``scenario.yaml`` safely.

    Returns
    -------
    (document, None)
        The parsed document (None for an empty file).
    (None, message)
        Why it is refused: one message line naming the file and, where known, the line.
    """
    try:
        problem = yaml_structure(text)
        doc = yaml.safe_load(text) if problem is None else None
    except RecursionError:  # PyYAML composes nested blocks recursively
        return None, TOO_DEEP
    except yaml.YAMLError as e:
        where = line(getattr(e, "problem_mark", None))
        tag = re.search(r"tag '([^']*)'", str(getattr(e, "problem", "")))
        if isinstance(e, yaml.constructor.ConstructorError) and tag:
            shown = show(tag.group(1).replace("tag:yaml.org,2002:", "!!"))
            return None, (f"scenario.yaml{where}: the tag '{shown}' is not allowed; "
                          "scenario.yaml holds plain text, numbers, lists and mappings only")
        return None, f"scenario.yaml{where}: not valid YAML; check indentation and colons"
    if problem is not None:
        return None, problem
    return doc, None
