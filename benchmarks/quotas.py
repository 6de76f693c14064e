"""Group quotas (issue 29 item 5) on the demo, and the report's fairness figures: one command each.

``solve`` copies the 2,000-student demo, adds a ``quotas.csv`` with a hard quota at every
workstation (at most 40% of its students from HIT) and a soft one (at least 10% from the city
of Daqing), solves it with ``cpsat`` in a fresh process and prints one row for
benchmarks/RESULTS.md: status, placed and its bound, rank cost, its bound and the gap, the soft
quotas' shortfall (and whether that level is proven), broken hard quotas (must be 0), the
checker's verdict, wall time, CPU time (this process and its HiGHS helpers) and peak memory,
with the machine and load.

``figures`` times what the report and the workbook add (the blocking pairs by the default
definition, via ``check --stability``) against the plain check, on a generated cohort of
``--students`` (default 20,000: the report's limit), solved by ``da``.

Usage (repository root)::

    python benchmarks/quotas.py solve [--time-limit 60]
    python benchmarks/quotas.py figures [--students 20000]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_SOLVE = r"""
import json, resource, sys, time
import matcher
from matcher.check import check
problem = matcher.load_scenario(sys.argv[1])
def cpu():
    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
t, c = time.perf_counter(), cpu()
r = matcher.solve(problem, "cpsat", time_limit_s=float(sys.argv[2]))
wall, used = time.perf_counter() - t, cpu() - c
rep = check(problem, r)
soft = sum(q["shortfall"] for q in r.quotas if not q["hard"])
broken = sum(1 for q in r.quotas if q["hard"] and not q["met"])
gap = "-" if r.rank_gap is None else f"{r.rank_gap:.1%}"
print(f"| {r.status.value} | {r.placed:,} / {r.placed_upper_bound} | {r.rank_cost:,} / "
      f"{r.rank_cost_lower_bound} ({gap}) | {soft:.1f} "
      f"({'proven' if r.stats.get('quota_shortfall_proven') else 'not proven'}) | {broken} | "
      f"{'ok' if rep.ok else 'VIOLATIONS'} | {wall:.1f} s | {used:.1f} s | "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB |")
"""

_FIGURES = r"""
import resource, sys, time
import matcher
from matcher.check import check
problem = matcher.load_scenario(sys.argv[1])
r = matcher.solve(problem, "da")
t = time.perf_counter(); check(problem, r); plain = time.perf_counter() - t
t = time.perf_counter(); rep = check(problem, r, stability=True); full = time.perf_counter() - t
print(f"| {len(problem.students):,} | {plain:.1f} s | {full:.1f} s | {full - plain:.1f} s | "
      f"{len(rep.blocking_pairs)} | "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB |")
"""


def _quota_scenario(folder: Path) -> Path:
    shutil.copytree(ROOT / "scenarios" / "heilongjiang-demo", folder)
    stations = [line.split(",")[0] for line in
                (folder / "workstations.csv").read_text(encoding="utf-8").splitlines()[1:]]
    rows = ["workstation_id,selector,value,min_share,max_share,hard"]
    for w in stations:
        rows += [f"{w},university_id,HIT,,40%,hard", f"{w},city,Daqing,10%,,soft"]
    (folder / "quotas.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def main() -> None:
    """Run the chosen benchmark and print its row."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("solve", "figures"))
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--students", type=int, default=20_000)
    args = ap.parse_args()
    print(f"machine: {platform.node()} {os.cpu_count()} CPUs; load before "
          f"{os.getloadavg()[0]:.1f}; command: python benchmarks/quotas.py "
          f"{' '.join(sys.argv[1:])}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.what == "solve":
            scenario = _quota_scenario(Path(tmp) / "demo-quotas")
            print("| status | placed / bound | rank cost / bound (gap) | soft shortfall | "
                  "hard broken | checker | solve | CPU (with HiGHS helpers) | peak |")
            code = [sys.executable, "-c", _SOLVE, str(scenario), str(args.time_limit)]
        else:
            scenario = Path(tmp) / "cohort"
            subprocess.run([sys.executable, "-m", "matcher.cli", "generate", "--students",
                            str(args.students), "--workstations",
                            str(max(1, args.students * 3 // 40)), "--out", str(scenario)],
                           check=True, stdout=subprocess.DEVNULL)
            print("| students | check | check + blocking pairs | blocking pairs alone | "
                  "pairs | peak |")
            code = [sys.executable, "-c", _FIGURES, str(scenario)]
        subprocess.run(code, check=True)
    print(f"load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
