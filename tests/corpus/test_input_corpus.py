"""The hostile-input corpus of the loader, scenario.yaml and workbooks (issue 24 item 7): every
case of ``tests/corpus/input/*.yaml``, run as a user would.

A case is a few lines of YAML::

    - id: capacity-thousands-separator          # unique name
      class: loader                             # loader | yaml | workbook
      why: capacity "1,000" was read as 1000    # what it shows
      base: tiny                                # tiny, book (tiny as a workbook), office
      edits:                                    # applied in order (see _edit)
        - {file: workstations.csv, replace: ["W2,0854;0855,3,", 'W2,0854;0855,"1,000",']}
      run: validate SCEN                        # the command (SCEN: the scenario, DIR: its
                                                # folder, OUT: a path for outputs)
      exit: 2
      errors: [load.number_comma]               # codes among validate_scenario's errors
      warnings: []                              # ... warnings, notes (each a subset)
      says: ["'1,000' holds a comma"]           # each appears in stderr (or stdout)
      written: []                               # paths that must exist afterwards
      absent: [OUT]                             # paths that must not exist afterwards
      limits: {matcher.formats.tables.MAX_CSV_ROWS: 3}   # module constants patched for the run

The runner checks for every case: the exit code; no traceback; on exit 2 nothing on stdout and
every stderr line an error, warning or note line (in either language); the scenario's files
byte for byte unchanged; ``written`` present and ``absent`` absent; and the codes that
:func:`matcher.formats.validate_scenario` gives. The counts per class are in
``tests/corpus/input/COUNTS.md`` (:func:`test_counts_match`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import importlib.util
import io
import os
import re
import shlex
import shutil
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from matcher.cli import cli
from matcher.formats import validate_scenario

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "input"
TINY = ROOT / "scenarios" / "tiny"
CLASSES = ("loader", "yaml", "workbook")
PREFIXES = ("error: ", "warning: ", "note: ", "错误：", "警告：", "提示：")
KEYS = {"id", "class", "why", "base", "edits", "run", "exit", "errors", "warnings", "notes",
        "says", "written", "absent", "limits", "book"}


def _load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(HERE.glob("*.yaml")):
        cases += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return cases


CASES = _load_cases()


def _make_xlsx() -> Any:
    spec = importlib.util.spec_from_file_location("make_xlsx", ROOT / "scenarios" / "make_xlsx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The base scenarios, built once: tiny as a workbook, and the office's own workbook."""
    root = tmp_path_factory.mktemp("bases")
    book = _make_xlsx().convert(TINY, root / "book" / "tiny.xlsx")
    sys.path.insert(0, str(ROOT / "tests" / "formats"))
    try:
        import office_book
    finally:
        sys.path.remove(str(ROOT / "tests" / "formats"))
    office = office_book.build(root / "office" / "office.xlsx")
    return {"book": book, "office": office}


def _base(case: dict[str, Any], bases: dict[str, Path], work: Path) -> Path:
    """Copy the case's base into ``work``; the scenario path (a folder or a workbook)."""
    base = case.get("base", "tiny")
    if base == "tiny":
        shutil.copytree(TINY, work / "scen")
        return work / "scen"
    if base == "empty":
        (work / "scen").mkdir()
        return work / "scen"
    src = bases[base]
    (work / "scen").mkdir()
    name = case.get("book", src.name)
    shutil.copy(src, work / "scen" / name)
    return work / "scen" / name


def _expand(text: str) -> str:
    """``<<x*2000>>`` in a case's text is 2,000 x's (long cells without long YAML)."""
    return re.sub(r"<<(.)\*([0-9]+)>>", lambda m: m.group(1) * int(m.group(2)), text)


def _value(v: Any) -> Any:
    """A cell value of a case: ``{date: 2026-09-01}`` is an Excel date cell."""
    if isinstance(v, dict) and "date" in v:
        d = v["date"]
        return dt.datetime(d.year, d.month, d.day) if isinstance(d, dt.date) else d
    return v


def _edit(scen: Path, edit: dict[str, Any]) -> None:
    """Apply one edit to the scenario (a folder of CSVs, or a workbook ``scen``)."""
    folder = scen if scen.is_dir() else scen.parent
    if "file" in edit:
        path = folder / edit["file"]
        enc = edit.get("encoding", "utf-8")
        if "replace" in edit:
            old, new = edit["replace"][0], _expand(edit["replace"][1])
            text = path.read_text(encoding="utf-8")
            assert old in text, (edit["file"], old)
            path.write_bytes(text.replace(old, new, 1).encode(enc))
        elif "write" in edit:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_expand(edit["write"]).encode(enc))
        elif "append" in edit:
            with path.open("ab") as f:
                f.write(_expand(edit["append"]).encode(enc))
        elif "recode" in edit:
            path.write_bytes(path.read_text(encoding="utf-8").encode(enc))
        elif "hex" in edit:
            path.write_bytes(bytes.fromhex(edit["hex"]))
        elif "size" in edit:
            with path.open("ab") as f:
                f.truncate(edit["size"])
        elif edit.get("delete"):
            path.unlink()
        elif edit.get("mkdir"):
            path.unlink(missing_ok=True)
            path.mkdir()
        elif "link" in edit:
            target = folder.parent / edit["link"]
            target.write_text("x\n", encoding="utf-8")
            path.unlink(missing_ok=True)
            path.symlink_to(target)
        elif "copy_book" in edit:
            shutil.copy(scen, path)
        else:
            raise AssertionError(f"unknown file edit {edit}")
        return
    if "zip" in edit:
        _zip_edit(scen, edit["zip"])
        return
    wb = openpyxl.load_workbook(scen)
    if "new_sheet" in edit:
        ws = wb.create_sheet(edit["new_sheet"])
        for row in edit.get("rows", []):
            ws.append([_value(v) for v in row])
        if "state" in edit:
            ws.sheet_state = edit["state"]
    elif "delete_sheet" in edit:
        del wb[edit["delete_sheet"]]
    else:
        ws = wb[edit["sheet"]]
        if "cell" in edit:
            cell = ws[edit["cell"]]
            value = _value(edit["value"])
            cell.value = _expand(value) if isinstance(value, str) else value
            if edit["value"] == "#N/A":
                cell.data_type = "e"
            if "format" in edit:
                cell.number_format = edit["format"]
        elif "hide_row" in edit:
            ws.row_dimensions[edit["hide_row"]].hidden = True
        elif "state" in edit:
            ws.sheet_state = edit["state"]
        elif "rename" in edit:
            ws.title = edit["rename"]
        elif "insert_rows" in edit:
            at, count = edit["insert_rows"]
            ws.insert_rows(at, count)
        elif "merge" in edit:
            ws.merge_cells(edit["merge"])
        elif "append" in edit:
            ws.append([_value(v) for v in edit["append"]])
        elif "clear" in edit:
            for row in ws.iter_rows():
                for c in row:
                    c.value = None
        else:
            raise AssertionError(f"unknown sheet edit {edit}")
    wb.save(scen)


def _zip_edit(book: Path, edit: dict[str, Any]) -> None:
    """Rewrite the workbook's zip: add a part, or replace text inside one."""
    raw = io.BytesIO()
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == edit.get("part") and "replace" in edit:
                old, new = edit["replace"]
                assert old.encode() in data, (info.filename, old)
                data = data.replace(old.encode(), new.encode(), 1)
            dst.writestr(info.filename, data)
        if "add" in edit:
            dst.writestr(edit["add"], edit.get("text", "<x/>"))
    data = raw.getvalue()
    if "cut" in edit:
        data = data[:edit["cut"]]
    book.write_bytes(data)


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def test_cases_well_formed() -> None:
    """Every case has a unique id, a known class, a why, a command and an exit code, and only
    known keys."""
    ids = Counter(c["id"] for c in CASES)
    assert [i for i, n in ids.items() if n > 1] == []
    for case in CASES:
        assert set(case) <= KEYS, (case["id"], set(case) - KEYS)
        assert case["class"] in CLASSES and case.get("why") and case.get("run"), case["id"]
        assert isinstance(case["exit"], int), case["id"]


def test_counts_match() -> None:
    """tests/corpus/input/COUNTS.md states the number of cases per class and in all."""
    counts = Counter(c["class"] for c in CASES)
    text = (HERE / "COUNTS.md").read_text(encoding="utf-8")
    for name in CLASSES:
        assert f"| {name} | {counts[name]} |" in text, (name, counts[name])
    assert f"| all | {len(CASES)} |" in text


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any], bases: dict[str, Path], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> None:
    """One corpus case (its ``why`` says what it shows): exit code, no traceback, nothing
    written on a refusal, the scenario untouched, the expected codes and words."""
    for name, value in (case.get("limits") or {}).items():
        module, _, attr = name.rpartition(".")
        monkeypatch.setattr(importlib.import_module(module), attr, value)
    scen = _base(case, bases, tmp_path)
    for edit in case.get("edits") or []:
        _edit(scen, edit)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path / "scen")
    folder = scen if scen.is_dir() else scen.parent
    args = [a.replace("SCEN", str(scen)).replace("DIR", str(folder)).replace("OUT", str(out))
            for a in shlex.split(case["run"])]
    runner = CliRunner(env={"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "LANGUAGE": "",
                            "LC_MESSAGES": ""})
    r = runner.invoke(cli, args, catch_exceptions=False)
    output = r.stdout + r.stderr
    assert "Traceback" not in output
    assert r.exit_code == case["exit"], output
    if case["exit"] == 2:
        assert r.stdout == "", r.stdout
        lines = r.stderr.splitlines()
        assert lines and all(line.startswith(PREFIXES) for line in lines), lines
    assert _snapshot(tmp_path / "scen") == before, "the scenario was changed"
    for want in case.get("says") or []:
        assert want in output, (want, output)
    for path in case.get("written") or []:
        assert Path(path.replace("OUT", str(out))).exists(), path
    for path in case.get("absent", ["OUT"] if case["exit"] == 2 else []):
        assert not Path(path.replace("OUT", str(out))).exists(), path
    if any(case.get(k) for k in ("errors", "warnings", "notes")):
        found = validate_scenario(args[1])  # the scenario the command was given
        for kind in ("errors", "warnings", "notes"):
            got = {m.code for m in getattr(found, kind)}
            assert set(case.get(kind) or []) <= got, (kind, got)
    assert not any(p.name.startswith(".") and p.name.endswith((".tmp", ".old"))
                   for p in tmp_path.rglob("*")), "a temporary folder was left"


if os.name == "nt":  # pragma: no cover
    pytest.skip("POSIX paths and links", allow_module_level=True)
