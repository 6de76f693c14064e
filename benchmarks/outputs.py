"""Time to write every output of ``matcher solve`` at province scale, file by file.

Usage (repository root)::

    python benchmarks/outputs.py [--tier XL] [--solver da] [--lang zh] [--repeat 1]

The tier's scenario (``benchmarks/tiers/``, generated on first use: XL is 100,000 students and
5,000 workstations) is loaded and allocated with a fast solver (``da``: deferred acceptance,
every student with a reason when unplaced), then each output is written on its own and timed
(wall and CPU seconds, a forked writer's included): the CSVs and ``summary.json``,
``results.xlsx``, ``report.html`` and ``manifest.json``; last the whole result folder through
:func:`matcher.write_result`, which is what ``matcher solve`` does after solving (the target:
at most 15 s at 100,000 students on two cores). The figures are printed as a Markdown table
with the machine and its load; record them in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matcher
from matcher.formats.resultdir import write_result_files
from matcher.planning.bench import TIERS, tier_scenario
from matcher.reports import xlsx as results_xlsx
from matcher.reports.folder import output_lang
from matcher.reports.html import write_report_into
from matcher.reports.manifest import write_manifest
from matcher.reports.sheetwriter import STYLES, safe_sheet_name
from matcher.reports.xlsx import write_results_xlsx


class _XlsxWriterSheet:
    """The :class:`matcher.reports.sheetwriter.Sheet` calls, done with XlsxWriter (to compare)."""

    def __init__(self, ws: Any, formats: dict[str, Any], styles: list[str],
                 text: Callable[[str], str] | None):
        self.ws, self.formats, self.styles, self.rows, self.cols = ws, formats, styles, 0, 1
        self.text = text or (lambda s: s)

    def row(self, values: Any, style: str | None = None, styles: Any = None) -> int:
        r = self.rows
        self.rows += 1
        self.cols = max(self.cols, len(values))
        for c, v in enumerate(values):
            if v is None or (isinstance(v, float) and v != v):
                continue
            name = (styles[c] if styles is not None and c < len(styles) and styles[c]
                    else style or (self.styles[c] if c < len(self.styles) else "text"))
            fmt = self.formats.get(name)
            if isinstance(v, str):
                self.ws.write_string(r, c, self.text(v), fmt)
            elif isinstance(v, bool):
                self.ws.write_boolean(r, c, v, fmt)
            else:
                self.ws.write_number(r, c, v, fmt)
        return r

    def freeze(self, rows: int) -> None:
        self.ws.freeze_panes(rows, 0)

    def autofilter(self) -> None:
        self.ws.autofilter(0, 0, max(self.rows - 1, 0), self.cols - 1)

    def page_break(self) -> bool:
        return True

    def print_setup(self, **_kw: Any) -> None:
        self.ws.set_paper(9)
        self.ws.fit_to_pages(1, 0)


class _XlsxWriterBook:
    """The :class:`matcher.reports.sheetwriter.Book` calls, done with XlsxWriter in its
    constant-memory mode: ``--compare-xlsxwriter`` times the same workbook written with it."""

    def __init__(self, path: Path, font: str = "Calibri",
                 text: Callable[[str], str] | None = None):
        import xlsxwriter

        self.text = text
        self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        fmt = self.book.add_format
        self.formats = {"header": fmt({"bold": True, "bg_color": "#E8EDF3", "border": 1}),
                        "title": fmt({"bold": True, "font_size": 14}),
                        "bold": fmt({"bold": True}), "percent": fmt({"num_format": "0.0%"}),
                        "percent3": fmt({"num_format": "0.000%"}),
                        "wrap": fmt({"text_wrap": True, "valign": "top"}),
                        "decimal": fmt({"num_format": "0.00"}),
                        "subtitle": fmt({"font_color": "#5B6576"})}
        assert set(self.formats) | {"text", "int"} == set(STYLES)
        self.names: list[str] = []

    def sheet(self, name: str, *, widths: Any = (), styles: Any = ()) -> _XlsxWriterSheet:
        title = safe_sheet_name(name, self.names)
        self.names.append(title)
        return _XlsxWriterSheet(self.book.add_worksheet(title), self.formats, list(styles),
                                self.text)

    def close(self) -> None:
        self.book.close()


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended (the forked writer)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _timed(step: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    step()
    return time.perf_counter() - wall, _cpu() - cpu


def _size(path: Path) -> str:
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() \
        else path.stat().st_size
    return f"{size / 2**20:.1f}"


def main() -> None:
    """Load, allocate, then write each output and the whole folder; print one table."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--tier", default="XL", choices=sorted(TIERS))
    ap.add_argument("--solver", default="da")
    ap.add_argument("--lang", default=None, choices=["zh", "en"])
    ap.add_argument("--repeat", type=int, default=1, help="Write each output this many times "
                    "(the table shows the fastest).")
    ap.add_argument("--compare-xlsxwriter", action="store_true",
                    help="Also write results.xlsx with XlsxWriter's constant-memory mode "
                    "(pip install xlsxwriter) and time it.")
    args = ap.parse_args()
    tier = TIERS[args.tier]
    scenario = tier_scenario(tier)
    t0 = time.perf_counter()
    problem = matcher.load_scenario(scenario)
    load_s = time.perf_counter() - t0
    result = matcher.solve(problem, args.solver, seed=0, workers=2, time_limit_s=300)
    lang = output_lang(args.lang, problem)
    work = Path(tempfile.mkdtemp(prefix="matcher-outputs-"))
    print(f"tier {tier.name}: {len(problem.students):,} students, "
          f"{len(problem.workstations):,} workstations; {args.solver}: {result.placed:,} "
          f"placed, {len(result.unassigned):,} unassigned; language {lang}; load "
          f"{load_s:.1f} s; load average before {os.getloadavg()[0]:.2f}\n")
    print("| output | wall s | CPU s | MiB |")
    print("|---|---:|---:|---:|", flush=True)
    try:
        base = work / "base"

        def csvs() -> None:
            shutil.rmtree(base, ignore_errors=True)
            write_result_files(result, base, problem=problem, lang=lang)

        steps: list[tuple[str, Callable[[], object], Path]] = [
            ("assignments.csv, unassigned.csv, summary.json", csvs, base),
            ("results.xlsx", lambda: write_results_xlsx(result, problem, base, lang=lang),
             base / "results.xlsx"),
            ("report.html", lambda: write_report_into(result, problem, base, lang=lang),
             base / "report.html"),
            ("manifest.json", lambda: write_manifest(result, problem, base, lang=lang),
             base / "manifest.json"),
        ]
        whole = work / "whole"

        def folder() -> None:
            shutil.rmtree(whole, ignore_errors=True)
            matcher.write_result(result, whole, problem=problem, lang=lang)

        steps.append(("whole result folder (matcher.write_result)", folder, whole))
        if args.compare_xlsxwriter:
            def with_xlsxwriter() -> None:
                own = results_xlsx.Book
                results_xlsx.Book = _XlsxWriterBook  # type: ignore[assignment,misc]
                try:
                    write_results_xlsx(result, problem, base, lang=lang)
                finally:
                    results_xlsx.Book = own  # type: ignore[misc]

            steps.append(("results.xlsx, the same sheets by XlsxWriter (constant_memory)",
                          with_xlsxwriter, base / "results.xlsx"))
        for name, step, path in steps:
            wall, cpu = min((_timed(step) for _ in range(max(1, args.repeat))),
                            key=lambda t: t[0])
            print(f"| {name} | {wall:.2f} | {cpu:.2f} | {_size(path)} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} CPUs, python "
          f"{platform.python_version()}; load average after the runs {load[0]:.2f} "
          f"{load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
