"""Calibrate the deterministic cost model: counted work against CPU time, phase by phase.

A deterministic solve (``--deterministic``, docs/solvers.md) decides by *counted work*
(:mod:`matcher.solvers.clock`): each phase charges reference seconds by a rate per unit of work
(``*_SECONDS_PER_*`` beside the code). The rates are meant to make a reference second take
about a second of one core on the reference machine. This script runs the phases of the slot
model's province path one by one on a tier, in a deterministic clock session, and prints for
each the work it counted, the CPU seconds it took (``time.process_time``: robust to other
processes sharing the machine, unlike wall time) and their ratio, with the units the rate is
charged by, so the rate that would have made counted = CPU can be read off. The HiGHS LP of
the helper is measured in its own process (HiGHS cannot share a process with OR-Tools), with
its simplex iterations.

Usage (repository root; the tiers as ``matcher bench`` caches them)::

    python benchmarks/calibrate.py --tier M
    python benchmarks/calibrate.py --tier XL --no-lp

Prints one Markdown row per phase and the load average (``os.getloadavg``) before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MOVE_TRIES = 300_000
"""Placement tries the local moves get here (about 6 reference seconds)."""

_LP_CHILD = r"""
import json, sys, time
from pathlib import Path
import numpy as np
from matcher.solvers.highs import common
from matcher.solvers.highs.slot_lp import Master, SlotProblem, indicator
work = Path(sys.argv[1])
job = json.loads((work / "job.json").read_text())
data = np.load(work / "model.npz")
pb = SlotProblem(data)
iters = {"simplex": 0, "ipm": 0, "entries": 0, "runs": 0}
run = common.Clock.run
def counted(self, h, seconds, mip=False):
    ok = run(self, h, seconds, mip)
    info = h.getInfo()
    iters["simplex"] += max(0, int(info.simplex_iteration_count))
    iters["ipm"] += max(0, int(info.ipm_iteration_count))
    iters["entries"] = int(h.getNumNz()) + int(h.getNumRow()) + int(h.getNumCol())
    iters["runs"] += 1
    return ok
common.Clock.run = counted
deadline = common.CLOCK.start(job)
t, c = time.perf_counter(), time.process_time()
lp = Master(pb, job, data["active"], pb.cost - float(job["placed_weight"])
            * indicator(pb.n_cols, pb.placed_cols))
ok = lp.solve(deadline)
print(json.dumps({"ok": ok, "work": common.CLOCK.work, "wall": time.perf_counter() - t,
                  "cpu": time.process_time() - c, **iters}))
"""


def main() -> None:
    """Parse the arguments, run the phases, print the rows."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tier", default="M", help="S, M, L, XL or P (default M)")
    ap.add_argument("--no-lp", action="store_true", help="skip the helper's LP")
    args = ap.parse_args()
    from matcher import load_scenario
    from matcher.encoding import encode
    from matcher.planning.bench import TIERS, tier_scenario
    from matcher.solvers import clock
    from matcher.solvers.moves import place_unplaced
    from matcher.solvers.relaxation import relax_weight
    from matcher.solvers.slot_flow import SlotFlow, potentials
    from matcher.solvers.slot_rounding import mentors_and_starts, rounded, supervisors
    from matcher.solvers.slots import MENTOR, build

    load0 = os.getloadavg()[0]
    problem = load_scenario(tier_scenario(TIERS[args.tier.upper()]))
    rows: list[tuple[str, float, float, str]] = []

    with clock.session(True) as watch:
        def phase(name: str, fn: Any, units: str) -> Any:
            w0, c0 = watch.work, time.process_time()
            got = fn()
            rows.append((name, watch.work - w0, time.process_time() - c0, units))
            print(f"  {name}: counted {watch.work - w0:.2f}, CPU "
                  f"{time.process_time() - c0:.2f}", file=sys.stderr, flush=True)
            return got

        enc = phase("encode (not charged)", lambda: encode(problem), "")
        model = phase("slots.build", lambda: build(enc), "")
        rows[-1] = (*rows[-1][:3], f"{model.n_cols:,} columns")
        weight = relax_weight(enc)
        net = phase("SlotFlow network", lambda: SlotFlow(enc, model, weight), "")
        rows[-1] = (*rows[-1][:3], f"{len(net.tail):,} arcs")
        _value, _x, f = phase("SlotFlow.solve (min-cost flow)", net.solve, "same arcs")
        phase("SlotFlow.max_placed", net.max_placed, "same arcs")
        cost = net.costs()
        phase("potentials (Bellman-Ford)", lambda: potentials(
            net.tail, net.head, net.cap, cost, f, net.n_nodes), "same arcs")
        inner = phase("inner network + solve", lambda: SlotFlow(enc, model, weight,
                                                                inner=True).solve(), "")
        station_of = phase("rounded", lambda: rounded(enc, model, inner[1]), "")
        people = phase("mentors_and_starts", lambda: mentors_and_starts(enc, station_of),
                       f"{len(station_of):,} students")
        sups = phase("supervisors", lambda: supervisors(enc, people), "")
        chosen = {i: (w, m, sups[i], k) for i, (w, m, k) in people.items() if i in sups}
        left = enc.n_placeable - len(chosen)
        # (a bounded number of tries: the rate is what is measured, and unbounded the
        # budgeted passes may take many minutes at XL)
        got = phase("place_unplaced (moves)", lambda: place_unplaced(
            enc, chosen, watch.now() + 1e9, work=MOVE_TRIES), f"{left:,} left to place")
        rows[-1] = (*rows[-1][:3], rows[-1][3] + f", {len(got):,} placed")

    lp: dict[str, Any] = {}
    if not args.no_lp:
        from matcher.solvers.slot_flow import flow_prices
        from matcher.solvers.slot_solve import ACTIVE_REDUCED_COST
        prices = flow_prices(enc, model, weight)
        active = (prices.reduced_cost <= ACTIVE_REDUCED_COST) & (model.col_kind != MENTOR)
        with tempfile.TemporaryDirectory() as tmp:
            import numpy as np
            np.savez(Path(tmp) / "model.npz", **dict(model.arrays()), active=active)
            (Path(tmp) / "job.json").write_text(json.dumps(
                {"seed": 0, "threads": 1, "log": False, "placed_weight": weight,
                 "deterministic": True, "work": 1e9}))
            out = subprocess.run([sys.executable, "-c", _LP_CHILD, tmp], capture_output=True,
                                 text=True, check=True)
            lp = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(("helper LP (weighted, priced)", lp["work"], lp["cpu"],
                     f"{lp['simplex']:,} simplex + {lp['ipm']:,} ipm iterations, "
                     f"{lp['entries']:,} entries at the end, {lp['runs']} runs"))

    cpu = platform.processor() or platform.machine()
    print(f"tier {args.tier}: {enc.n_students:,} students; {cpu}, "
          f"Python {platform.python_version()}; load {load0:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"command: python benchmarks/calibrate.py --tier {args.tier}"
          + (" --no-lp" if args.no_lp else ""))
    print("| phase | counted s | CPU s | counted / CPU | units |")
    print("|---|---:|---:|---:|---|")
    for name, work, cpu, units in rows:
        ratio = f"{work / cpu:.2f}" if cpu > 0.005 and work > 0 else "–"
        print(f"| {name} | {work:.2f} | {cpu:.2f} | {ratio} | {units} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
