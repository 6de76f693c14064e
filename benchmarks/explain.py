"""``explain`` of one unassigned student at province scale (issue 29): one command.

Loads the tier (default XL: 100,000 students, the cached ``benchmarks/tiers`` folder), solves it
with score first (``policy="priority"``; not timed), picks the first unassigned student in
``student_id`` order and explains them with the default verification (the three smallest
changes, each re-solved), in a fresh process. Prints one row for benchmarks/RESULTS.md: the
explain's wall and CPU seconds (loading and the first solve excluded), the peak memory, how many
changes were suggested and verified, with the machine, the load (``os.getloadavg``) and the
command. ``--profile N`` also prints the N functions with the most cumulative time.

Usage (repository root)::

    python benchmarks/explain.py              # XL
    python benchmarks/explain.py --tier S --profile 25
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import cProfile, pstats, resource, sys, time
import matcher
from matcher.planning.explain import explain
problem = matcher.load_scenario(sys.argv[1])
r = matcher.solve(problem, policy="priority")
placed = {p.student_id for p in r.placements}
sid = min(s.student_id for s in problem.students if s.student_id not in placed)
prof = cProfile.Profile() if int(sys.argv[2]) else None
t, c = time.perf_counter(), time.process_time()
if prof:
    prof.enable()
ex = explain(problem, r, sid)
if prof:
    prof.disable()
wall, cpu = time.perf_counter() - t, time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
verified = sum(1 for ch in ex.changes if ch.verified)
print(f"| {len(problem.students):,} | {sid} | {r.placed:,} | {wall:.1f} s | {cpu:.1f} s | "
      f"{peak:.0f} MiB | {len(ex.changes)} | {verified} |")
if prof:
    pstats.Stats(prof).sort_stats("cumulative").print_stats(int(sys.argv[2]))
"""


def main() -> None:
    """Parse the arguments, run the child, print the row."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tier", default="XL", help="S, M, L or XL (default XL)")
    ap.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    args = ap.parse_args()
    from matcher.planning.bench import TIERS, tier_scenario

    folder = tier_scenario(TIERS[args.tier.upper()], ROOT / "benchmarks" / "tiers")
    print(f"machine: {platform.node()} {os.cpu_count()} CPUs; load before "
          f"{os.getloadavg()[0]:.1f}; command: python benchmarks/explain.py "
          f"{' '.join(sys.argv[1:])}")
    print("| students | student | placed | explain wall | explain CPU | peak | changes | "
          "verified |")
    subprocess.run([sys.executable, "-c", _CHILD, str(folder), str(args.profile)], check=True)
    print(f"load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
