"""Score first (``--policy priority``) on a benchmark tier: time, memory, its price, its fairness.

Solves the tier (default XL: 100,000 students, 5,000 workstations, the cached
``benchmarks/tiers`` folder, generated when missing) with ``matcher.solve(problem,
policy="priority")`` in a fresh process, and prints one row ready for benchmarks/RESULTS.md:
the solve's wall and CPU seconds (loading excluded), the peak memory of the process, the
students placed against the proven bound (students with any allowed option), the rank
distribution (first choice, second, third, later, off the list), and the blocking pairs under
the checker's definition (``check --stability``; 0 when workstations rank by priority, which
the tiers do) with the checker's own time. The machine, the load (``os.getloadavg``) and the
command are printed with it.

Usage (repository root)::

    python benchmarks/score_first.py            # XL
    python benchmarks/score_first.py --tier S   # the demo's cohort
    python benchmarks/score_first.py --tier XL --no-check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
from collections import Counter
import matcher
from matcher.check import check
problem = matcher.load_scenario(sys.argv[1])
t, c = time.perf_counter(), time.process_time()
r = matcher.solve(problem, policy="priority")
wall, cpu = time.perf_counter() - t, time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ranks = Counter(p.preference_rank if p.preference_rank is not None and p.preference_rank <= 3
                else ("later" if p.preference_rank else "off")
                for p in r.placements)
out = {"status": r.status.value, "solver": r.solver, "placed": r.placed,
       "bound": r.placed_upper_bound, "rank_cost": r.rank_cost, "wall": wall, "cpu": cpu,
       "peak_mib": peak, "ranks": {str(k): v for k, v in ranks.items()}}
if sys.argv[2] == "1":
    t = time.perf_counter()
    rep = check(problem, r, stability=True)
    out.update(check_s=time.perf_counter() - t, violations=len(rep.violations),
               blocking=len(rep.blocking_pairs or []))
print(json.dumps(out))
"""


def main() -> None:
    """Parse the arguments, run the child, print the row."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tier", default="XL", help="S, M, L or XL (default XL)")
    ap.add_argument("--no-check", action="store_true", help="skip the checker's blocking pairs")
    args = ap.parse_args()
    from matcher.planning.bench import TIERS, tier_scenario

    folder = tier_scenario(TIERS[args.tier.upper()], ROOT / "benchmarks" / "tiers")
    run = subprocess.run([sys.executable, "-c", _CHILD, str(folder),
                          "0" if args.no_check else "1"],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    r = json.loads(run.stdout.strip().splitlines()[-1])
    load = os.getloadavg()
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus, "
          f"Python {platform.python_version()}; load average {load[0]:.1f} {load[1]:.1f}")
    print(f"command: python benchmarks/score_first.py --tier {args.tier}"
          + (" --no-check" if args.no_check else ""))
    ranks = r["ranks"]
    dist = " / ".join(f"{ranks.get(k, 0):,}" for k in ("1", "2", "3", "later", "off"))
    check = (f"{r['blocking']:,} | {r['violations']} | {r['check_s']:.2f}"
             if "blocking" in r else "– | – | –")
    print("| tier | status | placed | placed ≤ | rank 1/2/3/later/off | rank cost | solve s "
          "| CPU s | peak MiB | blocking pairs | violations | check s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.tier.upper()} | {r['status']} ({r['solver']}) | {r['placed']:,} | "
          f"{r['bound']:,} | {dist} | {r['rank_cost']:,} | {r['wall']:.2f} | {r['cpu']:.2f} | "
          f"{r['peak_mib']:,.0f} | {check} |")


if __name__ == "__main__":
    main()
