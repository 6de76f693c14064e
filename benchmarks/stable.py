"""``cpsat --stable`` and ``check --stability`` on the demo or a benchmark tier: one row each.

Solves the scenario with ``matcher.solve(problem, "cpsat", stable=True, time_limit_s=...)`` in a
fresh process (loading excluded) and prints one row ready for benchmarks/RESULTS.md: status,
placed against its proven bound, rank cost against its proven bound, the gap, wall and CPU
seconds, the peak memory of the process, the engine (the model, or the stable warm start when
the model is too large), then the checker's full blocking-pair list (``check --stability``, the
default definition) with its own wall and CPU seconds. The machine, the load (``os.getloadavg``)
and the command are printed with it.

Usage (repository root)::

    python benchmarks/stable.py                  # the 2,000-student demo, 60 s
    python benchmarks/stable.py --tier XL        # 100,000 students (cached benchmarks/tiers)
    python benchmarks/stable.py --scenario DIR --time-limit 120
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
import matcher
from matcher.check import check
problem = matcher.load_scenario(sys.argv[1])
t, c = time.perf_counter(), time.process_time()
r = matcher.solve(problem, "cpsat", stable=True, time_limit_s=float(sys.argv[2]), seed=0,
                  workers=2)
wall, cpu = time.perf_counter() - t, time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {"status": r.status.value, "placed": r.placed, "placed_ub": r.placed_upper_bound,
       "rank_cost": r.rank_cost, "rank_lb": r.rank_cost_lower_bound, "wall": wall, "cpu": cpu,
       "peak_mib": peak, "engine": r.stats.get("engine", "stable model"),
       "variables": r.stats.get("variables"), "warm": r.stats.get("warm_start")}
t, c = time.perf_counter(), time.process_time()
rep = check(problem, r, stability=True)
out.update(check_s=time.perf_counter() - t, check_cpu=time.process_time() - c,
           violations=len(rep.violations), blocking=len(rep.blocking_pairs or []))
print(json.dumps(out))
"""


def main() -> None:
    """Parse the arguments, run the child, print the row."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tier", help="S, M, L or XL (default: the demo scenario)")
    ap.add_argument("--scenario", help="a scenario folder instead")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    args = ap.parse_args()
    if args.tier:
        from matcher.planning.bench import TIERS, tier_scenario

        folder = tier_scenario(TIERS[args.tier.upper()], ROOT / "benchmarks" / "tiers")
        name = f"tier {args.tier.upper()}"
    else:
        folder = Path(args.scenario or ROOT / "scenarios" / "heilongjiang-demo")
        name = folder.name
    run = subprocess.run([sys.executable, "-c", _CHILD, str(folder), str(args.time_limit)],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    r = json.loads(run.stdout.strip().splitlines()[-1])
    load = os.getloadavg()
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus, "
          f"Python {platform.python_version()}; load average {load[0]:.1f} {load[1]:.1f}")
    print("command: python benchmarks/stable.py" + (f" --tier {args.tier}" if args.tier else "")
          + (f" --scenario {args.scenario}" if args.scenario else "")
          + f" --time-limit {args.time_limit:g}")
    gap = ((r["rank_cost"] - r["rank_lb"]) / r["rank_cost"] * 100
           if r["rank_lb"] is not None and r["rank_cost"] else 0.0)
    print("| scenario | status | placed | placed ≤ | rank cost | rank cost ≥ | rank gap % "
          "| solve s | CPU s | peak MiB | engine | blocking pairs | violations | check s "
          "| check CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {name} | {r['status']} | {r['placed']:,} | {r['placed_ub']:,} | "
          f"{r['rank_cost']:,} | {r['rank_lb']:,} | {gap:.1f} | {r['wall']:.1f} | "
          f"{r['cpu']:.1f} | {r['peak_mib']:,.0f} | {r['engine']} (start: {r['warm']}) | "
          f"{r['blocking']:,} | "
          f"{r['violations']} | {r['check_s']:.1f} | {r['check_cpu']:.1f} |")


if __name__ == "__main__":
    main()
