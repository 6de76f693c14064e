"""Loading benchmark: how long matcher takes to read and validate a province-sized scenario.

Generates the XL tier (100,000 students, 5,000 workstations; ``matcher generate``'s seed 0)
unless a folder is given, writes it also as one ``.xlsx`` workbook (Chinese headers, as
``scenarios/make_xlsx.py`` writes it), and times ``matcher.formats.validate_scenario`` on both,
each in a fresh process (best of ``--repeat`` runs), with its CPU time (less dependent on what
else runs on a shared machine than the wall time) and the peak memory of that process. Also
times the refusal of a 600,000-row workbook (the size limit is checked from the sheet's XML
before any cell is parsed). Prints one table row per case, ready for benchmarks/RESULTS.md.

Usage (repository root)::

    python benchmarks/load.py                       # XL tier in a temporary folder
    python benchmarks/load.py --students 20000 --workstations 1500
    python benchmarks/load.py --scenario path/to/folder --repeat 3
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
from matcher.formats import validate_scenario
t = time.perf_counter()
c = time.process_time()
found = validate_scenario(sys.argv[1])
wall = time.perf_counter() - t
cpu = time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall, "cpu": cpu, "peak_mib": peak, "ok": found.ok,
                  "students": len(found.problem.students) if found.problem else 0,
                  "errors": [e.code for e in found.errors][:3],
                  "warnings": len(found.warnings), "notes": len(found.notes)}))
"""


def _time(path: Path, repeat: int) -> dict[str, object]:
    """Best of ``repeat`` fresh-process runs of validate_scenario on ``path``."""
    best: dict[str, object] | None = None
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], check=True,
                             capture_output=True, text=True, cwd=ROOT)
        run = json.loads(out.stdout.strip().splitlines()[-1])
        if best is None or run["wall"] < best["wall"]:
            best = run
    assert best is not None
    return best


def _workbook(folder: Path, out: Path) -> Path:
    spec = importlib.util.spec_from_file_location("make_xlsx", ROOT / "scenarios" / "make_xlsx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.convert(folder, out)


def _huge_workbook(path: Path, rows: int) -> Path:
    """A students sheet of ``rows`` rows of five cells, written straight as XML."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "students"
    buf = io.BytesIO()
    book.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, src.read(info))
                continue
            with dst.open(info.filename, "w") as f:
                f.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                        b'2006/main"><dimension ref="A1:E%d"/><sheetData>' % rows)
                for r in range(1, rows + 1):
                    f.write(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>S%07d</t></is></c>'
                            b'<c r="B%d"><v>0</v></c><c r="C%d"><v>854</v></c>'
                            b'<c r="D%d"><v>3</v></c><c r="E%d"><v>1</v></c></row>'
                            % (r, r, r, r, r, r, r))
                f.write(b"</sheetData></worksheet>")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=None, help="a scenario folder to time")
    ap.add_argument("--students", type=int, default=100_000)
    ap.add_argument("--workstations", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=1, help="fresh-process runs, best kept")
    ap.add_argument("--no-workbook", action="store_true", help="time the CSV folder only")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = args.scenario
        if folder is None:
            folder = work / "cohort"
            subprocess.run([sys.executable, "-m", "matcher.cli", "generate", "--students",
                            str(args.students), "--workstations", str(args.workstations),
                            "--out", str(folder)], check=True, capture_output=True, cwd=ROOT)
        cases = [("folder of CSVs", folder)]
        if not args.no_workbook:
            t = time.perf_counter()
            book = _workbook(folder, work / "book" / "scenario.xlsx")
            print(f"(workbook written in {time.perf_counter() - t:.1f} s, "
                  f"{book.stat().st_size / 2**20:.1f} MiB)", file=sys.stderr)
            cases.append(("one .xlsx workbook", book))
            (work / "huge").mkdir()
            cases.append(("600,000-row workbook (refused)",
                          _huge_workbook(work / "huge" / "big.xlsx", 600_000)))
        load = os.getloadavg()
        print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}; load average {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f}")
        print("| input | students | valid | load s (wall) | load s (CPU) | peak MiB | warnings | "
              "notes |")
        print("|---|---|---|---|---|---|---|---|")
        for name, path in cases:
            run = _time(path, args.repeat)
            valid = "yes" if run["ok"] else f"no ({', '.join(run['errors'])})"
            print(f"| {name} | {run['students']:,} | {valid} | {run['wall']:.2f} | "
                  f"{run['cpu']:.2f} | {run['peak_mib']:.0f} | {run['warnings']} | "
                  f"{run['notes']} |")


if __name__ == "__main__":
    main()
