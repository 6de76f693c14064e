"""The scenario's settings: ``scenario.yaml`` read and checked, or a workbook's settings sheet.

:func:`read_yaml` reads ``scenario.yaml`` (through the one safe YAML reader,
:mod:`matcher.formats.yamlsafe`); :func:`settings` checks the settings, wherever they came from,
into :class:`~matcher.model.Problem` fields (name, terms, term_months, policy, solver,
objective), one located message line per problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..model.errors import error_reason
from ..model.problem import ObjectiveSettings, Policy, SolverSettings
from .cells import MAX_YAML_BYTES, cell_problem, decode, read_input, show
from .yamlsafe import load_settings_text

__all__ = ["SCENARIO_KEYS", "is_label", "read_yaml", "settings"]

SCENARIO_KEYS = {"name", "terms", "term_months", "policy", "solver", "objective", "description"}
"""The keys of ``scenario.yaml``."""


def read_yaml(folder: Path, errors: list[str], hashes: dict[str, str]) -> dict[str, Any] | None:
    """The checked settings of ``folder/scenario.yaml`` (None when unusable; errors appended).

    ``hashes`` receives the file's SHA-256 under its name.
    """
    path = folder / "scenario.yaml"
    if not path.is_file():
        errors.append("scenario.yaml: missing file; every scenario needs scenario.yaml in "
                      f"{folder}")
        return None
    raw = read_input(folder, "scenario.yaml", MAX_YAML_BYTES, errors)
    if raw is None:
        return None
    hashes["scenario.yaml"] = hashlib.sha256(raw).hexdigest()
    text = decode(raw, "scenario.yaml", errors)
    if text is None:
        return None
    doc, refused = load_settings_text(text)
    if refused is not None:
        errors.append(refused)
        return None
    if doc is None:
        errors.append("scenario.yaml: the file is empty; give at least name and terms")
        return None
    if not isinstance(doc, dict):
        errors.append("scenario.yaml: expected keys such as name, terms, policy; got "
                      f"{type(doc).__name__}")
        return None
    return settings(doc, folder.name, errors, lambda key: f"scenario.yaml, {key}")


def settings(doc: dict[Any, Any], default_name: str, errors: list[str],
              at: Callable[[str], str]) -> dict[str, Any]:
    """Validate scenario settings: parsed ``scenario.yaml``, or a workbook's ``scenario`` sheet.

    ``at(key)`` is the message prefix locating a (dotted) key, e.g. ``"scenario.yaml, terms"``
    or ``"scenario.xlsx sheet scenario row 3, terms"``; ``default_name`` is used when the
    settings give no name.
    """
    for key in sorted(set(map(str, doc)) - SCENARIO_KEYS):
        errors.append(f"{at(show(key))}: unknown key; use one of "
                      + ", ".join(sorted(SCENARIO_KEYS)))
    name = doc.get("name")
    if name is not None and not is_label(name):
        errors.append(f"{at('name')}: give the scenario's name as one line of text")
    out: dict[str, Any] = {"name": str(name).strip() if is_label(name) else default_name}
    terms = doc.get("terms")
    if not isinstance(terms, list) or not terms or not all(is_label(t) for t in terms):
        errors.append(f"{at('terms')}: give a non-empty list of term labels in calendar "
                      "order, e.g. [2026-autumn, 2027-spring]")
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
            errors.append(f"{at(key)}: expected a mapping of settings")
            continue
        if key == "policy" and "window" in section and section["window"] is not None:
            win = section["window"]
            if not (isinstance(win, list) and len(win) == 2 and all(map(is_label, win))):
                errors.append(f"{at('policy.window')}: give [first_term, last_term]")
                continue
            section = {**section, "window": tuple(str(t).strip() for t in win)}
        try:
            out[key] = model.model_validate(section)
        except ValidationError as e:
            for err in e.errors():
                loc = show(".".join(str(x) for x in err["loc"]))
                msg = "unknown setting" if err["type"] == "extra_forbidden" else error_reason(err)
                errors.append(f"{at(f'{key}.{loc}')}: {msg}")
    if "term_months" in out and (not isinstance(out["term_months"], int)
                                 or isinstance(out["term_months"], bool)
                                 or not 1 <= out["term_months"] <= 24):
        errors.append(f"{at('term_months')}: give a whole number of months from 1 to 24")
    return out


def is_label(value: object) -> bool:
    """A YAML scalar usable as a label (a name, a term): text or a whole number, one line."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    text = str(value).strip()
    return bool(text) and cell_problem(text) is None
