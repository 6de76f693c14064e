"""Loading A/B: ``validate_scenario`` of an older matcher and of this one, in one process.

On a shared machine two runs in separate processes differ by more than a small change gains;
this runs both codes interleaved in the same process (best of ``--repeat`` CPU times each), so
that what else runs on the machine slows both alike. The older code is any checkout's
``matcher`` package, copied under the name ``matcher_old`` (its own imports are relative).

Usage (repository root)::

    git worktree add /tmp/before <commit>        # the code to compare against
    python benchmarks/load_ab.py /tmp/before benchmarks/tiers/XL-100000x5000-s2026 --repeat 3
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path, help="a checkout holding the older matcher/ package")
    ap.add_argument("scenario", help="a scenario folder or .xlsx workbook")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(args.before / "matcher", Path(tmp) / "matcher_old")
        sys.path.insert(0, tmp)
        import matcher_old.formats as before  # type: ignore[import-not-found]

        import matcher.formats as after

        runs = {"before": before.validate_scenario, "after": after.validate_scenario}
        for run in runs.values():
            run(args.scenario)  # imports and lazy set-up out of the timing
        best = dict.fromkeys(runs, float("inf"))
        for _ in range(args.repeat):
            for name, run in runs.items():
                t = time.process_time()
                ok = run(args.scenario).ok
                best[name] = min(best[name], time.process_time() - t)
                assert ok, f"{name}: the scenario does not validate"
    print(f"before {best['before']:.3f} s CPU, after {best['after']:.3f} s CPU, "
          f"ratio {best['after'] / best['before']:.3f}")


if __name__ == "__main__":
    main()
