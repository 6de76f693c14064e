"""The audit manifest of a result folder: ``manifest.json`` built, written and read.

Every result folder written by :func:`matcher.write_result` ends with ``manifest.json``:

``manifest_version``, ``created_utc``
    Format version (1) and when the folder was written.
``versions``, ``platform``
    matcher, Python, OR-Tools, pydantic, pandas, numpy and openpyxl versions; the OS.
``scenario``
    ``path`` (absolute) and ``path_from_result`` (relative to the result folder) of the scenario
    folder or workbook, its ``name``, ``input_sha256`` and ``files``: the SHA-256 of every input
    file read (``{"students.csv": "…", ...}``).
``settings``
    The scenario's ``terms``, ``term_months``, ``policy``, ``objective`` and ``solver_defaults``.
``solver``
    ``name``, whether it is ``exact``, and the ``seed``, ``workers`` and ``time_limit_s`` used;
    ``deterministic: true`` for a run that counted work (``--deterministic``);
    ``options``: ``{"stable": true}`` for ``cpsat --stable``, ``{"policy": "priority"}`` for score
    first (or the rule that overrode the scenario's), so that a re-run is made the same way.
``run``
    ``status``, ``message``, ``wall_seconds`` (and a deterministic run's ``work_seconds``),
    ``stopped_by_time_limit`` and ``reproducible`` (a deterministic run always is).
``objective``
    The three levels in order, each with ``name``, ``sense``, ``value`` and the proven ``bound``
    (None when nothing is proven): placed, rank cost, pair weight.
``outputs``
    SHA-256 of every other file of the folder, as written.
``write_options``
    ``excel_bom``, and ``lang``: the language of the outputs for people (``zh`` or ``en``).

:func:`matcher.planning.verify.verify_result` re-runs a result from its manifest.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import solvers
from ..messages import Message, msg
from ..model import Problem, Result, ScenarioError, Status

__all__ = ["MANIFEST", "MANIFEST_VERSION", "MAX_MANIFEST_BYTES", "build_manifest",
           "file_sha256", "read_manifest", "rehash_output", "stopped_by_time_limit", "versions",
           "write_manifest"]

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
_PACKAGES = {"matcher": "workstation-matcher", "ortools": "ortools", "pydantic": "pydantic",
             "pandas": "pandas", "numpy": "numpy", "openpyxl": "openpyxl"}
"""Key in ``versions`` -> the distribution whose version it records."""


def _options(result: Result, problem: Problem | None) -> dict[str, Any]:
    """The solver options a re-run needs: ``stable`` (``cpsat --stable``), and the allocation
    rule (``policy``) when it is score first or overrides the scenario's."""
    stats = result.stats or {}
    out: dict[str, Any] = {}
    if stats.get("stable"):
        out["stable"] = True
    rule = stats.get("policy", "objective")
    if rule != "objective" or (problem is not None and problem.solver.policy != rule):
        out["policy"] = rule
    # level 2's form (issue 29) when it is not the scenario's (--rank-objective)
    block = stats.get("rank_objective")
    form = block.get("form", "sum") if isinstance(block, dict) else "sum"
    if form != (problem.objective.rank if problem is not None else "sum"):
        out["rank"] = form
    return out


def versions() -> dict[str, str | None]:
    """Versions of Python and the packages a result depends on (None when not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name, dist in _PACKAGES.items():
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stopped_by_time_limit(result: Result) -> bool:
    """Whether the run was cut by its time limit (so a re-run may legitimately differ).

    An exact solver ends FEASIBLE or UNKNOWN only at its time limit, and leaves the pair weight
    (level 3) unproven only there; any solver may say so in its message.
    """
    exact = result.solver in solvers.EXACT
    return (exact and result.status in (Status.FEASIBLE, Status.UNKNOWN)) \
        or (exact and (result.stats or {}).get("pair_weight_proven") is False) \
        or "time limit" in result.message.lower()


def build_manifest(result: Result, problem: Problem | None, folder: Path, *,
                   excel_bom: bool = False, lang: str = "en") -> dict[str, Any]:
    """The manifest of a result folder whose other files are already in ``folder``.

    Parameters
    ----------
    result
        The result written.
    problem
        The problem solved (None: the input files and settings are not recorded).
    folder
        The folder being written; its files are hashed. Relative paths are computed from it,
        so it must be the result folder or a sibling of it (the temporary folder).
    excel_bom
        The write option used for the CSVs.
    lang
        The language the outputs for people were written in (``"zh"`` or ``"en"``).
    """
    source = problem.source if problem is not None else ""
    relative = None
    if source:
        try:
            relative = os.path.relpath(source, folder.resolve())
        except ValueError:  # another drive on Windows
            relative = None
    cut = stopped_by_time_limit(result)
    stats = result.stats or {}
    pair_enabled = problem.objective.pair_weight if problem is not None else None
    return {
        "manifest_version": MANIFEST_VERSION,
        "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": versions(),
        "platform": platform.platform(),
        "scenario": {
            "path": source or None,
            "path_from_result": relative,
            "name": problem.name if problem is not None else None,
            "input_sha256": result.input_sha256 or (problem.input_sha256 if problem else ""),
            "files": dict(problem.input_files) if problem is not None else {},
        },
        "settings": None if problem is None else {
            "terms": list(problem.terms),
            "term_months": problem.term_months,
            "policy": problem.policy.model_dump(mode="json"),
            # the rank objective only when not the default sum: older manifests stay as they were
            "objective": problem.objective.model_dump(
                mode="json", exclude={"rank"} if problem.objective.rank == "sum" else None),
            # the allocation rule and deterministic only when not the default: older manifests
            # stay as they were
            "solver_defaults": problem.solver.model_dump(mode="json", exclude=(
                ({"policy"} if problem.solver.policy == "objective" else set())
                | (set() if problem.solver.deterministic else {"deterministic"})) or None),
        },
        "solver": {
            "name": result.solver,
            "exact": result.solver in solvers.EXACT,
            "seed": result.seed,
            "workers": result.workers,
            "time_limit_s": result.time_limit_s,
            **({"deterministic": True} if result.deterministic else {}),
            **({"options": _options(result, problem)} if _options(result, problem) else {}),
        },
        "run": {
            "status": result.status.value,
            "message": result.message,
            "wall_seconds": round(result.wall_seconds, 3),
            **({"work_seconds": result.work_seconds} if result.deterministic else {}),
            "stopped_by_time_limit": cut,
            # A deterministic run cut by its work budget is reproducible all the same.
            "reproducible": not cut or result.deterministic,
        },
        "objective": [
            {"level": 1, "name": "placed", "sense": "maximise", "value": result.placed,
             "bound": result.placed_upper_bound},
            {"level": 2, "name": "rank_cost", "sense": "minimise", "value": result.rank_cost,
             "bound": result.rank_cost_lower_bound},
            {"level": 3, "name": "pair_weight", "sense": "maximise",
             "value": round(result.pair_weight, 6), "enabled": pair_enabled,
             "bound": stats.get("pair_weight_upper_bound")},
        ],
        "outputs": {p.name: file_sha256(p) for p in sorted(folder.iterdir())
                    if p.is_file() and p.name != MANIFEST},
        "write_options": {"excel_bom": excel_bom, "lang": lang},
    }


def write_manifest(result: Result, problem: Problem | None, folder: Path, *,
                   excel_bom: bool = False, lang: str = "en") -> None:
    """Write ``manifest.json`` into ``folder`` (last: it hashes the files already there)."""
    doc = build_manifest(result, problem, folder, excel_bom=excel_bom, lang=lang)
    (folder / MANIFEST).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")


def rehash_output(folder: Path, name: str) -> bool:
    """Record the new SHA-256 of ``folder/name`` in the folder's manifest, when matcher
    rewrote that file of a result folder (``matcher report`` without ``--out``), so that
    ``matcher verify`` does not take matcher's own rewrite for an edit.

    Returns
    -------
    bool
        Whether the manifest lists the file and was updated (False: no usable manifest).
    """
    path = folder / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    if not isinstance(doc, dict) or not isinstance(doc.get("outputs"), dict) \
            or name not in doc["outputs"]:
        return False
    doc["outputs"][name] = file_sha256(folder / name)
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return True


MAX_MANIFEST_BYTES = 64 << 20
"""Largest ``manifest.json`` read (a real one is a few kilobytes plus a hash per input file)."""

_TEXT, _WHOLE, _NUMBER, _MAP, _HASHES = "text", "whole", "number", "map", "hashes"
_FIELDS: tuple[tuple[str, str, bool], ...] = (
    # (dotted field, kind, required): what verify reads, and of which kind
    ("scenario", _MAP, True), ("scenario.path", _TEXT, False),
    ("scenario.path_from_result", _TEXT, False), ("scenario.input_sha256", _TEXT, False),
    ("scenario.files", _HASHES, False), ("solver", _MAP, True), ("solver.name", _TEXT, True),
    ("solver.seed", _WHOLE, True), ("solver.workers", _WHOLE, True),
    ("solver.time_limit_s", _NUMBER, True), ("solver.options", _MAP, False),
    ("run", _MAP, True), ("run.status", _TEXT, False), ("outputs", _HASHES, True),
    ("versions", _MAP, False), ("write_options", _MAP, False),
)


_KINDS: dict[str, Message] = {
    _TEXT: msg("kind.text"), _WHOLE: msg("kind.whole"),
    _NUMBER: msg("kind.number"), _MAP: msg("kind.map"),
    _HASHES: msg("kind.hashes")}


def _fits(value: Any, kind: str) -> bool:
    if kind == _TEXT:
        return isinstance(value, str)
    if kind == _WHOLE:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
    if kind == _NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value) and value > 0
    if kind == _HASHES:
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    return isinstance(value, dict)


def read_manifest(result_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a result folder's ``manifest.json`` and check every field verify relies on.

    Raises
    ------
    ScenarioError
        When it is missing, too large, not JSON, nested beyond reason, or a field is missing
        or of the wrong kind (``manifest.field``, naming the field).
    """
    path = Path(result_dir) / MANIFEST
    if not path.is_file():
        raise ScenarioError([msg("manifest.missing", path=str(path))])
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ScenarioError([msg("manifest.damaged", path=str(path),
                                 reason=msg("manifest.too_large"))])
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise ScenarioError([msg("manifest.damaged", path=str(path),
                                 reason=msg("manifest.too_deep"))]) from None
    except (ValueError, UnicodeDecodeError):
        raise ScenarioError([msg("manifest.damaged", path=str(path),
                                 reason=msg("manifest.not_json"))]) from None
    if not isinstance(doc, dict):
        raise ScenarioError([msg("manifest.damaged", path=str(path),
                                 reason=msg("manifest.not_object"))])
    bad: list[str | Message] = []
    for dotted, kind, required in _FIELDS:
        holder: Any = doc
        *parents, last = dotted.split(".")
        for part in parents:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if not isinstance(holder, dict):
            continue  # its parent is already reported
        if last not in holder or holder[last] is None:
            if required:
                bad.append(msg("manifest.field", path=str(path), field=dotted,
                               expected=_KINDS[kind]))
        elif not _fits(holder[last], kind):
            bad.append(msg("manifest.field", path=str(path), field=dotted,
                           expected=_KINDS[kind]))
    if bad:
        raise ScenarioError(bad)
    return dict(doc)
