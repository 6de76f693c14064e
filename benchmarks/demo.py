"""Time and peak memory of solving a scenario, printed as one Markdown table row.

Usage: ``python benchmarks/demo.py SCENARIO [--solver cpsat] [--time-limit 60] [--workers 2]``

Each run is a fresh process, so the peak resident memory (``ru_maxrss``) is that solve's own.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import matcher


def main() -> None:
    """Solve once and print one Markdown row: figures, bounds, gap, time and memory."""
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--solver", default="cpsat")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    problem = matcher.load_scenario(args.scenario)
    load_s = time.perf_counter() - t0
    result = matcher.solve(problem, args.solver, time_limit_s=args.time_limit,
                           workers=args.workers, seed=args.seed)
    report = matcher.check(problem, result)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gap = result.rank_gap
    print("| scenario | solver | status | placed | placed bound | rank cost | rank bound | gap "
          "| load s | solve s | peak MiB | checker |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {problem.name} | {args.solver} | {result.status.value} | {result.placed} | "
          f"{result.placed_upper_bound} | {result.rank_cost} | {result.rank_cost_lower_bound} | "
          f"{'-' if gap is None else f'{gap:.3%}'} | {load_s:.2f} | {result.wall_seconds:.2f} | "
          f"{peak_mib:.0f} | {'ok' if report.ok else 'VIOLATIONS'} |")
    print(f"\nmachine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {platform.python_version()}, time limit {args.time_limit}s, "
          f"workers {args.workers}, seed {args.seed}; stats {result.stats}")


if __name__ == "__main__":
    main()
