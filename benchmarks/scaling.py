"""Plot how time, memory and gap grow from tier S to XL (issue 4), from `matcher bench` CSVs.

Usage (from the repository root)::

    python benchmarks/scaling.py benchmarks/runs/S-session4/results.csv \\
        benchmarks/runs/M-session4/results.csv ... --out benchmarks/scaling.png

Each CSV row is one run; rows are grouped by solver and placed on the x axis by the tier's
number of students (log scale). Three panels: wall time, peak memory, rank-cost gap. Runs that
did not produce an allocation are left out of the plot and listed on stdout.
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/scaling.png"))
    args = parser.parse_args()
    series: dict[str, list[tuple[int, float, float, float | None]]] = defaultdict(list)
    for path in args.csv:
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if row["status"] not in ("OPTIMAL", "FEASIBLE"):
                    print(f"left out: {row['tier']} {row['solver']} {row['status']}: "
                          f"{row['message'][:120]}")
                    continue
                gap = float(row["rank_gap"]) * 100 if row["rank_gap"] else None
                series[row["solver"]].append((int(row["students"]), float(row["solve_s"]),
                                              float(row["peak_rss_mib"]), gap))
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for solver, points in sorted(series.items()):
        points.sort()
        xs = [p[0] for p in points]
        axes[0].plot(xs, [p[1] for p in points], marker="o", label=solver)
        axes[1].plot(xs, [p[2] for p in points], marker="o", label=solver)
        gaps = [(p[0], p[3]) for p in points if p[3] is not None]
        axes[2].plot([g[0] for g in gaps], [g[1] for g in gaps], marker="o", label=solver)
    for ax, title in zip(axes, ("wall time (s)", "peak memory (MiB)", "rank-cost gap (%)"),
                         strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("students")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[1].axhline(4096, color="grey", linestyle="--", linewidth=1)  # the XL memory target
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
