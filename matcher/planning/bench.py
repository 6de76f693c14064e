"""The benchmark suite: every solver on one generated tier, each run in a fresh process.

A *tier* is a synthetic provincial cohort written by
:func:`matcher.planning.generate.generate_scenario` with fixed arguments (see :data:`TIERS`),
cached under ``benchmarks/tiers/`` and regenerated when the generator's source changes.
:func:`run_bench` runs each requested solver on it in its own Python process, so that

* the peak memory of a run is that run's own (``ru_maxrss`` of the process, plus that of its
  largest helper process, such as the ``milp`` solver's HiGHS process), and
* a crash or a runaway run costs one row of the table, not the whole benchmark.

Each run loads the scenario, solves it, and runs the independent checker on the result
(:func:`matcher.check.check` with ``stability=True``, the computation behind
:func:`matcher.check.blocking_pairs`). The benchmark writes ``results.csv`` (one row per run,
:data:`COLUMNS`; rewritten after every run so an interrupted benchmark keeps what it finished),
``results.md`` (the Markdown table, the command and the machine) and ``logs/<solver>.log``.

Gaps: ``placed_gap = (placed_upper_bound - placed) / placed_upper_bound`` and
``rank_gap = (rank_cost - rank_cost_lower_bound) / rank_cost`` (0 when both are 0), each from
the run's own proven bounds; empty when the solver proves no bound (heuristics).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import hashlib
import io as _io
import json
import os
import platform
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import solvers
from ..check import check
from ..formats.escape import escape_cell, escape_markdown
from ..formats.lock import claim
from ..formats.output import check_output, write_marker
from ..formats.resultdir import atomic_folder
from ..formats.scenario import load_scenario
from ..messages import msg
from ..solvers.children import POPEN_OPTIONS, guard
from ..solvers.clock import SAFETY_FACTOR
from . import generate

__all__ = ["COLUMNS", "TIERS", "TIERS_DIR", "BenchReport", "Tier", "legacy_bench",
           "machine_info", "parse_solvers", "run_bench", "run_one", "runs_table",
           "tier_scenario"]


@dataclass(frozen=True)
class Tier:
    """A benchmark tier: the arguments of :func:`matcher.planning.generate.generate_scenario`.

    Attributes
    ----------
    name
        Tier name (``S``, ``M``, ``L``, ``XL``; tests use their own).
    students, workstations, universities
        Cohort size.
    seed
        Generator seed (fixed per tier, so every machine benchmarks the same data).
    time_limit_s
        Default time limit per solver run.
    terms
        Calendar terms (6: the practice window is the last four).
    capacity_share, same_block
        The generator's arguments of those names (tier P: a capacitated-assignment province).
    rules
        The shares of the rules of issue 28 (``min_intake_share``, ``segment_share``,
        ``group_share``, ``tie_share`` of the generator), or None for none.
    """

    name: str
    students: int
    workstations: int
    universities: int
    seed: int
    time_limit_s: float
    terms: int = 6
    capacity_share: float = 0.55
    same_block: bool = False
    rules: tuple[float, float, float, float] | None = None


RULE_SHARES = (0.10, 0.20, 0.05, 0.20)
"""The rule shares of the ``*-RULES`` tiers (issue 28): minimum intakes, segments, groups, ties."""

TIERS: dict[str, Tier] = {
    # S uses the demo's arguments, so it holds the same cohort as scenarios/heilongjiang-demo.
    "S": Tier("S", 2_000, 150, 12, 2026, 60.0),
    "M": Tier("M", 20_000, 1_500, 15, 2026, 120.0),
    "L": Tier("L", 50_000, 3_000, 20, 2026, 180.0),
    "XL": Tier("XL", 100_000, 5_000, 30, 2026, 300.0),
    # Issue 27: every student needs the same two terms and no mentor limit binds, with places
    # for about 97% of them (a min-cost flow solves it exactly).
    "P": Tier("P", 100_000, 10_000, 30, 2026, 30.0, capacity_share=0.97, same_block=True),
    # Issue 28's shares: 10% of workstations with a minimum intake, 20% of students allowed two
    # segments, 5% in groups of two or three, ties in 20% of the lists.
    "S-RULES": Tier("S-RULES", 2_000, 150, 12, 2026, 60.0, rules=RULE_SHARES),
    "XL-RULES": Tier("XL-RULES", 100_000, 5_000, 30, 2026, 180.0, rules=RULE_SHARES),
}
"""The benchmark tiers (issue 3/4 sizes, and issue 27's capacitated-assignment province P),
all with 6 terms, mentors, supervisors and pairs."""

COLUMNS = [
    "tier", "students", "workstations", "tier_seed", "solver", "seed", "workers",
    "time_limit_s", "status", "placed", "placed_upper_bound", "placed_gap", "rank_cost",
    "rank_cost_lower_bound", "rank_gap", "pair_weight", "first_choice_share", "top3_share",
    "blocking_pairs", "checker", "violations", "load_s", "solve_s", "cpu_s", "proven_s", "check_s",
    "peak_rss_mib", "deterministic", "work_s", "message", "date", "load_avg", "machine",
    "cpu", "cores", "memory_gib", "python", "ortools", "highspy", "matcher",
]
"""Columns of ``results.csv``, in order."""

TIERS_DIR = "benchmarks/tiers"
"""Where generated tiers are cached (git-ignored)."""
_STAMP = "tier.json"
_OVERHEAD_S = 300.0  # load + check allowance on top of the time limit before a run is killed


# ---- tiers ----------------------------------------------------------------------------------
def _generator_fingerprint() -> str:
    """A hash of the generator's source: a changed generator invalidates cached tiers."""
    return hashlib.sha256(Path(generate.__file__).read_bytes()).hexdigest()[:16]


def tier_scenario(tier: Tier, tiers_dir: str | os.PathLike[str] = TIERS_DIR) -> Path:
    """The scenario folder of a tier, generated on first use and cached.

    Parameters
    ----------
    tier
        The tier.
    tiers_dir
        Cache folder (git-ignored ``benchmarks/tiers`` by default).

    Returns
    -------
    Path
        ``<tiers_dir>/<name>-<students>x<workstations>-s<seed>``; its ``tier.json`` records the
        arguments and the generator fingerprint it was made with.
    """
    folder = Path(tiers_dir) / f"{tier.name}-{tier.students}x{tier.workstations}-s{tier.seed}"
    stamp = {**asdict(tier), "generator": _generator_fingerprint()}
    stamp.pop("time_limit_s")
    for key, default in (("capacity_share", 0.55), ("same_block", False)):
        if stamp[key] == default:  # (stamps written before these arguments stay valid)
            stamp.pop(key)
    if tier.rules is None:
        stamp.pop("rules")  # the stamps of tiers cached before the rules stay valid
    mins, segments, groups, ties = tier.rules or (0.0, 0.0, 0.0, 0.0)
    stamp_path = folder / _STAMP
    if stamp_path.is_file():
        try:
            if json.loads(stamp_path.read_text(encoding="utf-8")) == stamp:
                return folder
        except ValueError:
            pass  # a damaged stamp: regenerate

    def fill(tmp: Path) -> None:
        generate.generate_scenario(tmp, students=tier.students, workstations=tier.workstations,
                                   universities=tier.universities, seed=tier.seed,
                                   terms=tier.terms, name=f"tier-{tier.name}",
                                   capacity_share=tier.capacity_share,
                                   same_block=tier.same_block,
                                   min_intake_share=mins, segment_share=segments,
                                   group_share=groups, tie_share=ties)
        (tmp / _STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")

    return atomic_folder(folder, True, fill, kind="tier",
                         legacy=lambda old: (old / _STAMP).is_file())


# ---- solvers and machine --------------------------------------------------------------------
def parse_solvers(spec: str) -> list[str]:
    """Solver names from ``all`` or a comma-separated list, in the order given.

    Raises
    ------
    solvers.UnknownSolverError
        When a name is not registered (the message lists the registered names).
    """
    if spec.strip().lower() == "all":
        return solvers.names()
    names = [s.strip() for s in spec.split(",") if s.strip()]
    if not names:
        raise solvers.UnknownSolverError(msg("solver.none_given", solvers=solvers.names()))
    for name in names:
        solvers.get(name)  # raises on an unknown name, before anything runs
    return list(dict.fromkeys(names))


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """Where a benchmark ran: OS and CPU, cores, memory and library versions."""
    import psutil

    return {
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": _cpu_model(),
        "cores": os.cpu_count() or 0,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "ortools": _version("ortools"),
        "highspy": _version("highspy"),
        "matcher": _version("workstation-matcher"),
    }


# ---- one run, in its own process ------------------------------------------------------------
def _peak_rss_mib() -> float:
    """Peak resident memory of this process plus that of its largest finished helper."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    helpers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    unit = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return (own + helpers) * unit / 2**20


def _cpu_seconds() -> float:
    """Processor seconds (user and system) of this process and its finished helpers."""
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def _gap(num: float, den: float) -> float:
    return 0.0 if den == 0 else max(0.0, num / den)


def run_one(spec_path: str) -> None:
    """Process entry of one run: load, solve, check, write the row's figures as JSON."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    problem = load_scenario(spec["scenario"])
    t1 = time.perf_counter()
    result = solvers.solve(problem, spec["solver"], time_limit_s=spec["time_limit_s"],
                           seed=spec["seed"], workers=spec["workers"],
                           deterministic=bool(spec.get("deterministic")))
    t2 = time.perf_counter()
    cpu = _cpu_seconds()
    report = check(problem, result, stability=True)
    t3 = time.perf_counter()
    summary = result.summary()
    ub, lb = result.placed_upper_bound, result.rank_cost_lower_bound
    row = {
        "status": result.status.value, "placed": result.placed, "placed_upper_bound": ub,
        "placed_gap": None if ub is None else round(_gap(ub - result.placed, ub), 6),
        "rank_cost": result.rank_cost, "rank_cost_lower_bound": lb,
        "rank_gap": None if result.rank_gap is None else round(result.rank_gap, 6),
        "pair_weight": round(result.pair_weight, 6),
        "first_choice_share": summary["first_choice_share"], "top3_share": summary["top3_share"],
        "blocking_pairs": len(report.blocking_pairs or []),
        "checker": "ok" if report.ok else "FAIL", "violations": len(report.violations),
        "load_s": round(t1 - t0, 3), "solve_s": round(result.wall_seconds, 3),
        # (loading and solving, this process and its finished helpers: the load of other
        # processes on the machine stretches the wall time far more than this)
        "cpu_s": round(cpu, 3),
        # When levels 1-2 were proven (exact solvers; the run may go on with level 3).
        "proven_s": result.stats.get("proven_seconds"),
        "check_s": round(t3 - t2, 3), "peak_rss_mib": round(_peak_rss_mib(), 1),
        # a deterministic run: its counted work (reference seconds), which decided its path
        "deterministic": result.deterministic, "work_s": result.work_seconds,
        "message": result.message,
    }
    for line in report.violations[:20]:
        print(f"violation: {line}", file=sys.stderr)
    out = Path(spec["row_path"])
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(row), encoding="utf-8")
    os.replace(tmp, out)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a run and every helper it started (they share its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _spawn_run(scenario: Path, solver: str, time_limit_s: float, seed: int, workers: int,
               log_path: Path, deterministic: bool = False) -> dict[str, Any]:
    """Run one solver in a fresh process; its figures, or a CRASH/TIMEOUT row (a
    deterministic run is waited for as long as its helpers would be: its wall time is what
    varies)."""
    with tempfile.TemporaryDirectory(prefix="matcher-bench-") as tmp, \
            guard(Path(tmp)) as watcher:
        spec_path = Path(tmp) / "spec.json"
        row_path = Path(tmp) / "row.json"
        spec_path.write_text(json.dumps({
            "scenario": str(scenario), "solver": solver, "time_limit_s": time_limit_s,
            "seed": seed, "workers": workers, "deterministic": deterministic,
            "row_path": str(row_path)}), encoding="utf-8")
        code = "import sys; from matcher.planning.bench import run_one; run_one(sys.argv[1])"
        started = time.perf_counter()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([sys.executable, "-c", code, str(spec_path)],
                                    stdout=log, stderr=subprocess.STDOUT, **POPEN_OPTIONS)
            watcher.watch(proc.pid)
            try:
                proc.wait(timeout=time_limit_s * (
                    SAFETY_FACTOR if deterministic else 1.5) + _OVERHEAD_S)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return {"status": "TIMEOUT", "message": (
                    f"killed after {time.perf_counter() - started:.0f} s (time limit "
                    f"{time_limit_s:g} s); see {log_path}")}
            except BaseException:
                _kill_group(proc)  # Ctrl-C: stop the run too, then let the bench end
                raise
        if proc.returncode == 0 and row_path.is_file():
            row: dict[str, Any] = json.loads(row_path.read_text(encoding="utf-8"))
            return row
    lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    last = lines[-1] if lines else "no output"
    return {"status": "CRASH", "message": f"exit {proc.returncode}: {last} (see {log_path})"}


# ---- tables ---------------------------------------------------------------------------------
def _fmt(value: Any, kind: str = "") -> str:
    if value is None or value == "":
        return "–"
    if kind == "pct":
        return f"{float(value):.1%}"
    if kind == "gap":
        return f"{float(value):.3%}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "s":
        return f"{float(value):.2f}"
    if kind == "mib":
        return f"{float(value):,.0f}"
    return str(value)


_TABLE = [("solver", "solver", ""), ("status", "status", ""), ("placed", "placed", "int"),
          ("placed ≤", "placed_upper_bound", "int"), ("rank cost", "rank_cost", "int"),
          ("rank cost ≥", "rank_cost_lower_bound", "int"), ("rank gap", "rank_gap", "gap"),
          ("1st choice", "first_choice_share", "pct"), ("top 3", "top3_share", "pct"),
          ("blocking pairs", "blocking_pairs", "int"), ("checker", "checker", ""),
          ("solve s", "solve_s", "s"), ("CPU s", "cpu_s", "s"),
          ("proven at s", "proven_s", "s"),
          ("peak MiB", "peak_rss_mib", "mib")]
_WORK = ("work s", "work_s", "s")
"""The column of counted work, shown when some run was deterministic."""


def runs_table(rows: Sequence[dict[str, Any]]) -> str:
    """The runs as a Markdown table (one line per run; ``–`` where nothing is known)."""
    table = _TABLE + ([_WORK] if any(r.get("deterministic") for r in rows) else [])
    lines = ["| " + " | ".join(h for h, _k, _f in table) + " |",
             "|" + "---|" * len(table)]
    for row in rows:
        lines.append("| " + " | ".join(escape_markdown(_fmt(row.get(k), f))
                                       for _h, k, f in table) + " |")
    return "\n".join(lines)


@dataclass
class BenchReport:
    """What a benchmark produced.

    Attributes
    ----------
    rows
        One dict per run with the :data:`COLUMNS` keys.
    out_dir
        Folder holding ``results.csv``, ``results.md`` and ``logs/``.
    markdown
        The content of ``results.md``.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    out_dir: Path = Path()
    markdown: str = ""

    @property
    def ok(self) -> bool:
        """True when every run finished and the checker accepted every result."""
        return all(r.get("checker") == "ok" for r in self.rows)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)


def _csv_text(rows: Sequence[dict[str, Any]]) -> str:
    buf = _io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else escape_cell(row[k])
                         if isinstance(row.get(k), str) else row.get(k) for k in COLUMNS})
    return buf.getvalue()


def plain_ratio(rows: Sequence[dict[str, Any]]) -> dict[str, float | str] | None:
    """``cpsat`` against the ``plain`` CP-SAT model of the same run (issue 4's yardstick):
    time, peak memory and rank-cost ratios (cpsat / plain), or None without both rows. When the
    plain model found nothing, the ratio is that run's message instead."""
    by = {r.get("solver"): r for r in rows}
    ours, plain = by.get("cpsat"), by.get("plain")
    if ours is None or plain is None:
        return None
    out: dict[str, float | str] = {}
    if "not built" in str(plain.get("message", "")):  # nothing ran to compare with
        return {"plain": f"{plain.get('status')}: {plain.get('message', '')}"}
    for key in ("solve_s", "peak_rss_mib"):
        a, b = ours.get(key), plain.get(key)
        if isinstance(a, int | float) and isinstance(b, int | float) and b:
            out[key] = round(a / b, 3)
    if plain.get("status") in ("OPTIMAL", "FEASIBLE") and plain.get("placed") == ours.get(
            "placed") and plain.get("rank_cost"):
        out["rank_cost"] = round(ours["rank_cost"] / plain["rank_cost"], 4)
    elif plain.get("status") not in ("OPTIMAL", "FEASIBLE"):
        out["plain"] = f"{plain.get('status')}: {plain.get('message', '')}"
    else:
        out["plain"] = (f"plain placed {plain.get('placed'):,} against cpsat's "
                        f"{ours.get('placed'):,}")
    return out


def _plain_ratio(rows: Sequence[dict[str, Any]]) -> list[str]:
    ratio = plain_ratio(rows)
    if ratio is None:
        return []
    parts = [f"{label} ×{ratio[key]}" for key, label in (
        ("solve_s", "time"), ("peak_rss_mib", "peak memory"), ("rank_cost", "rank cost"))
        if key in ratio]
    extra = f" ({ratio['plain']})" if "plain" in ratio else ""
    return [f"cpsat / plain CP-SAT model, same run: {', '.join(parts) or '–'}{extra}.", ""]


def _markdown(tier: Tier, rows: Sequence[dict[str, Any]], machine: dict[str, Any],
              command: str) -> str:
    first = rows[0] if rows else {}
    loads = ", ".join(f"{r['load_avg']:.1f}" for r in rows if r.get("load_avg") is not None)
    return "\n".join([
        f"# Benchmark: tier {tier.name} ({tier.students:,} students × {tier.workstations:,} "
        f"workstations, {tier.universities} universities, generator seed {tier.seed})", "",
        f"Command: `{command}`", "",
        f"Measured {first.get('date', '')}; solver seed {first.get('seed', '')}, workers "
        f"{first.get('workers', '')}, time limit {first.get('time_limit_s', '')} s per run"
        + (" as a work budget (deterministic: the same allocations and bounds on any machine; "
           "`work s` is the work counted, the times vary)" if first.get("deterministic")
           else "") + ".", "",
        runs_table(rows), "", *_plain_ratio(rows),
        f"Machine: {escape_markdown(machine['machine'])}, {escape_markdown(machine['cpu'])}, "
        f"{machine['cores']} cores, "
        f"{machine['memory_gib']} GiB; Python {machine['python']}, OR-Tools "
        f"{machine['ortools'] or '–'}, highspy {machine['highspy'] or '–'}; 1-minute load "
        f"average when the runs began: {loads}.", "",
        "Each run is a fresh process; peak MiB is its `ru_maxrss` plus that of its largest "
        "helper process. Bounds and gaps are each solver's own proofs (– when it proves none); "
        "`placed ≤` is the proven maximum placeable, `rank cost ≥` the proven minimum rank cost "
        "with that many placed. See benchmarks/README.md for the protocol.", ""])


def run_bench(tier: str | Tier, solver_names: Sequence[str] | None = None, *,
              time_limit_s: float | None = None, seed: int = 0, workers: int = 2,
              out_dir: str | os.PathLike[str] | None = None, force: bool = False,
              tiers_dir: str | os.PathLike[str] = TIERS_DIR,
              progress: Callable[[str], None] | None = None,
              deterministic: bool = False) -> BenchReport:
    """Run solvers on a tier, one fresh process per run, and write the CSV and Markdown.

    Parameters
    ----------
    tier
        A name in :data:`TIERS` (case-insensitive) or a :class:`Tier`.
    solver_names
        Registered solvers to run, in order (default: all).
    time_limit_s
        Time limit per run (default: the tier's).
    seed, workers
        Passed to every solver.
    out_dir
        Result folder (default ``benchmarks/runs/<tier>-<timestamp>``); must not exist or be
        empty unless ``force``.
    force
        Reuse an existing folder (its earlier results are replaced).
    tiers_dir
        Cache of generated tiers.
    progress
        Called with one line when each run starts and ends.
    deterministic
        Run every solver with ``deterministic=True`` (the time limit is a work budget,
        docs/solvers.md): the rows' allocations, bounds and statuses are then the same on any
        machine, and ``work_s`` says how much work each counted; only the times vary.

    Returns
    -------
    BenchReport
        The rows, the folder and the Markdown text.

    Raises
    ------
    KeyError
        Unknown tier name.
    matcher.solvers.UnknownSolverError
        Unknown solver name (raised before anything is generated or written).
    matcher.formats.output.ResultExistsError
        ``out_dir`` exists and is not empty, without ``force``.
    matcher.formats.output.OutputError
        ``out_dir`` may not or cannot be written: it is, holds or lies in the tiers cache,
        ``force`` was given for a folder matcher did not write, another run writes it.
    """
    spec = TIERS[tier.upper()] if isinstance(tier, str) else tier
    names = list(solver_names) if solver_names is not None else solvers.names()
    for name in names:
        solvers.get(name)
    limit = spec.time_limit_s if time_limit_s is None else float(time_limit_s)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(out_dir) if out_dir is not None else Path("benchmarks/runs") / f"{spec.name}-{stamp}"
    out = check_output(out, [(tiers_dir, "tiers")], force=force, legacy=legacy_bench)
    with claim(out):
        return _run_bench(spec, names, limit, seed, workers, out, tiers_dir,
                          progress or (lambda _line: None), deterministic)


def legacy_bench(folder: Path) -> bool:
    """A benchmark folder written before folders were marked as matcher's."""
    return (folder / "results.csv").is_file() and (folder / "logs").is_dir()


def _run_bench(spec: Tier, names: Sequence[str], limit: float, seed: int, workers: int,
               out: Path, tiers_dir: str | os.PathLike[str], say: Callable[[str], None],
               deterministic: bool = False) -> BenchReport:

    say(f"tier {spec.name}: {spec.students:,} students × {spec.workstations:,} workstations")
    scenario = tier_scenario(spec, tiers_dir)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    for old in [out / "results.csv", out / "results.md", *(out / "logs").glob("*.log")]:
        old.unlink(missing_ok=True)  # with --force: no figures or logs of an earlier run
    write_marker(out, "bench", entries=("results.csv", "results.md", "logs"))
    machine = machine_info()
    command = "matcher bench " + shlex.join(
        ["--tier", spec.name, "--solvers", ",".join(names), "--time-limit", f"{limit:g}",
         "--seed", str(seed), "--workers", str(workers)]
        + (["--deterministic"] if deterministic else []))
    report = BenchReport(out_dir=out)
    for n, name in enumerate(names, start=1):
        say(f"[{n}/{len(names)}] {name}: running (time limit {limit:g} s)")
        load_before = os.getloadavg()[0]  # a shared machine: how busy it was when the run began
        figures = _spawn_run(scenario, name, limit, seed, workers, out / "logs" / f"{name}.log",
                             deterministic)
        row: dict[str, Any] = {
            "tier": spec.name, "students": spec.students, "workstations": spec.workstations,
            "tier_seed": spec.seed, "solver": name, "seed": seed, "workers": workers,
            "time_limit_s": limit, "date": _dt.date.today().isoformat(),
            "load_avg": round(load_before, 2), **machine, **figures}
        row.setdefault("checker", "–")
        report.rows.append(row)
        say(f"[{n}/{len(names)}] {name}: {row['status']}, placed {row.get('placed', '–')}, "
            f"rank cost {row.get('rank_cost', '–')}, {_fmt(row.get('solve_s'), 's')} s, "
            f"checker {row['checker']}")
        report.markdown = _markdown(spec, report.rows, machine, command)
        _write_atomic(out / "results.csv", _csv_text(report.rows))
        _write_atomic(out / "results.md", report.markdown)
    return report
