"""The scenario's settings: ``scenario.yaml`` read and checked, or a workbook's settings sheet.

:func:`read_yaml` reads ``scenario.yaml`` (through the one safe YAML reader,
:mod:`matcher.formats.yamlsafe`); :func:`settings` checks the settings, wherever they came from,
into :class:`~matcher.model.Problem` fields (name, terms, term_months, policy, solver,
objective), one located message per problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..messages import Location, Message, msg
from ..model.entities import ObjectiveSettings, Policy, SolverSettings
from ..model.errors import error_detail
from .cells import MAX_YAML_BYTES, cell_problem, decode, read_input, show
from .locations import Found
from .yamlsafe import load_settings_text

__all__ = ["SCENARIO_KEYS", "is_label", "read_yaml", "settings", "yaml_at"]

SCENARIO_KEYS = {"name", "terms", "term_months", "policy", "solver", "objective", "description"}
"""The keys of ``scenario.yaml``."""


def yaml_at(key: str) -> Location:
    """Where a (dotted) key of ``scenario.yaml`` is: ``scenario.yaml, policy.window``."""
    return Location(file="scenario.yaml", field=key or None)


def read_yaml(folder: Path, found: Found, hashes: dict[str, str]) -> dict[str, Any] | None:
    """The checked settings of ``folder/scenario.yaml`` (None when unusable; errors added).

    ``hashes`` receives the file's SHA-256 under its name.
    """
    path = folder / "scenario.yaml"
    at = Location(file="scenario.yaml")
    if not path.is_file():
        found.add(msg("load.missing_file", at=at, file="scenario.yaml", folder=str(folder)))
        return None
    raw = read_input(folder, "scenario.yaml", MAX_YAML_BYTES, found.errors)
    if raw is None:
        return None
    hashes["scenario.yaml"] = hashlib.sha256(raw).hexdigest()
    text = decode(raw, "scenario.yaml", found.errors, found.notes)
    if text is None:
        return None
    doc, refused = load_settings_text(text)
    if refused is not None:
        found.add(refused if isinstance(refused, Message) else msg("load.text", text=refused))
        return None
    if doc is None:
        found.add(msg("load.empty_settings", at=at))
        return None
    if not isinstance(doc, dict):
        found.add(msg("load.settings_not_mapping", at=at, got=type(doc).__name__))
        return None
    return settings(doc, folder.name, found, yaml_at)


def settings(doc: dict[Any, Any], default_name: str, found: Found,
             at: Callable[[str], Location]) -> dict[str, Any]:
    """Validate scenario settings: parsed ``scenario.yaml``, or a workbook's ``scenario`` sheet.

    ``at(key)`` locates a (dotted) key: ``scenario.yaml, terms`` or the settings sheet's row;
    ``default_name`` is used when the settings give no name.
    """
    for key in sorted(set(map(str, doc)) - SCENARIO_KEYS):
        found.add(msg("load.unknown_key", at=at(show(key)), keys=sorted(SCENARIO_KEYS)))
    name = doc.get("name")
    if name is not None and not is_label(name):
        found.add(msg("load.name_not_text", at=at("name")))
    out: dict[str, Any] = {"name": str(name).strip() if is_label(name) else default_name}
    terms = doc.get("terms")
    if not isinstance(terms, list) or not terms or not all(is_label(t) for t in terms):
        found.add(msg("load.terms_not_list", at=at("terms")))
    else:
        out["terms"] = tuple(str(t).strip() for t in terms)
    if "term_months" in doc:
        out["term_months"] = doc["term_months"]
    for key, model in (("policy", Policy), ("solver", SolverSettings),
                       ("objective", ObjectiveSettings)):
        section = doc.get(key)
        if section is None:
            continue
        if not isinstance(section, dict):
            found.add(msg("load.section_not_mapping", at=at(key)))
            continue
        if key == "policy" and "window" in section and section["window"] is not None:
            win = section["window"]
            if not (isinstance(win, list) and len(win) == 2 and all(map(is_label, win))):
                found.add(msg("load.window_not_pair", at=at("policy.window")))
                continue
            section = {**section, "window": tuple(str(t).strip() for t in win)}
        try:
            out[key] = model.model_validate(section)
        except ValidationError as e:
            for err in e.errors():
                loc = show(".".join(str(x) for x in err["loc"]))
                detail = (msg("load.unknown_setting") if err["type"] == "extra_forbidden"
                          else error_detail(err))
                found.add(replace(detail, location=at(f"{key}.{loc}")))
    if "term_months" in out and (not isinstance(out["term_months"], int)
                                 or isinstance(out["term_months"], bool)
                                 or not 1 <= out["term_months"] <= 24):
        found.add(msg("load.term_months_range", at=at("term_months")))
    return out


def is_label(value: object) -> bool:
    """A YAML scalar usable as a label (a name, a term): text or a whole number, one line."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    text = str(value).strip()
    return bool(text) and cell_problem(text) is None
