"""Parameter sweeps: a grid of variants of one scenario, each solved, compared by KPIs.

``--vary NAME=V1,V2,...`` (repeatable) spans a grid: every combination of the given values is one
point, a variant of the base built by :func:`matcher.planning.variant.apply_variant` and solved. The
parameters (:data:`PARAMETERS`):

=============================  =========================================================
``capacity_scale``             factor for every workstation's capacity and its mentors'
                               (largest-remainder rounding, see :mod:`matcher.planning.variant`)
``practice_months``            policy: months of practice (students under
                               ``experienced_years`` of work)
``experienced_practice_months`` policy: months for experienced students
``experienced_years``          policy: years of work that count as experienced
``preferences_only``           policy: only listed workstations (true/false)
``intake_pct``                 grow (+) or shrink (-) the intake by this percentage,
                               seeded by ``seed``
``max_segments``               policy: blocks a practice may be split into (issue 28)
=============================  =========================================================

One function, :func:`run_point`, maps a point (a picklable :class:`PointTask`) to its KPI row;
:func:`run_sweep` submits every point to a :class:`concurrent.futures.Executor`, either a local
process pool or a Dask ``distributed.Client``'s executor (:func:`open_executor`), and sorts the
rows by grid position, so the table is the same whichever way the points ran, as long as each
solve is deterministic (the greedy solver; CP-SAT with the same seed and workers and a solve
that finishes before its time limit).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import multiprocessing
import os
import re
import socket
import struct
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ..formats.escape import escape_frame, escape_markdown
from ..formats.output import Input
from ..formats.resultdir import atomic_folder
from ..messages import Lang, Message, label, msg
from ..model import Problem, ScenarioError, Status
from ..model.capacity import Occupancy, apply_occupancy
from ..reports.fonts import cjk_font
from ..reports.pages import Page, column_label, markdown_table
from ..reports.words import status_text, status_word
from ..solvers import solve
from .compare import kpis, view_of
from .variant import VariantSpec, apply_variant
from .variant_spec import check_variant

__all__ = ["HEADLINE", "PARAMETERS", "PointTask", "Sweep", "check_grid", "grid", "open_executor",
           "parse_vary", "probe_scheduler", "run_point", "run_sweep", "spec_for",
           "write_sweep"]

PARAMETERS: dict[str, str] = {
    "capacity_scale": "float",
    "practice_months": "int",
    "experienced_practice_months": "int",
    "experienced_years": "float",
    "preferences_only": "bool",
    "intake_pct": "float",
    "max_segments": "int",
}
"""Parameters a sweep can vary, with the kind of their values."""

HEADLINE = ("students", "placed", "placed_share", "unassigned", "first_choice_share",
            "top3_share", "rank_cost", "pair_weight", "blocking_pairs", "violations",
            "capacity_places", "used_places", "unused_places", "use_share")
"""KPIs of the sweep table (one plot each); the breakdowns go to ``kpis_by_group.csv``."""

MAX_POINTS = 10_000


def _value(name: str, kind: str, text: str) -> Any:
    """Parse one value of a ``--vary`` list; ValueError with the reason (a message)."""
    t = text.strip()
    if kind == "bool":
        low = t.lower()
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise ValueError(msg("plan.sweep.not_bool", value=t))
    try:
        x = float(t)
    except ValueError:
        raise ValueError(msg("plan.sweep.not_number", value=t)) from None
    if not math.isfinite(x):
        raise ValueError(msg("plan.sweep.not_finite", value=t))
    if kind == "int":
        if x != int(x):
            raise ValueError(msg("plan.sweep.not_whole", value=t))
        return int(x)
    return x


def parse_vary(texts: Sequence[str]) -> list[tuple[str, tuple[Any, ...]]]:
    """Parse ``NAME=V1,V2,...`` options into ``(name, values)`` in the order given.

    Raises
    ------
    ScenarioError
        One line per bad option: unknown name, bad value, repeated name or value.
    """
    errors: list[str | Message] = []
    out: list[tuple[str, tuple[Any, ...]]] = []
    seen: set[str] = set()
    for text in texts:
        m = re.fullmatch(r"\s*([A-Za-z_]+)\s*=(.*)", text)
        if m is None:
            errors.append(msg("plan.sweep.vary_form", option=text))
            continue
        name, rest = m.group(1), m.group(2)
        if name not in PARAMETERS:
            errors.append(msg("plan.sweep.vary_unknown", option=text, name=name,
                              parameters=list(PARAMETERS)))
            continue
        if name in seen:
            errors.append(msg("plan.sweep.vary_twice", option=text, name=name))
            continue
        seen.add(name)
        if not rest.strip():
            errors.append(msg("plan.sweep.vary_empty", option=text))
            continue
        values = []
        for part in rest.split(","):
            try:
                values.append(_value(name, PARAMETERS[name], part))
            except ValueError as e:
                errors.append(msg("plan.sweep.vary_bad_value", option=text, reason=e.args[0]))
        if len(set(values)) < len(values):
            errors.append(msg("plan.sweep.vary_repeated", option=text))
        out.append((name, tuple(values)))
    if not texts:
        errors.append(msg("plan.sweep.vary_none"))
    if errors:
        raise ScenarioError(errors)
    return out


def grid(vary: Sequence[tuple[str, Sequence[Any]]]) -> list[tuple[tuple[str, Any], ...]]:
    """Every combination of the values, the first parameter varying slowest."""
    names = [n for n, _ in vary]
    return [tuple(zip(names, combo, strict=True))
            for combo in itertools.product(*(v for _, v in vary))]


def _describe(params: Sequence[tuple[str, Any]]) -> str:
    return ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else f'{v:g}'}"
                     if not isinstance(v, str) else f"{k}={v}" for k, v in params)


def spec_for(params: Sequence[tuple[str, Any]], seed: int = 0) -> VariantSpec:
    """The variant of one grid point, through exactly the checks of a variant file
    (:func:`matcher.planning.variant_spec.check_variant`): a point a variant file could not
    hold (``capacity_scale=-1``, ``intake_pct=100000``) is refused, naming the point.

    Raises
    ------
    ScenarioError
        One line per bad value, starting ``--vary <the point>``.
    """
    p = dict(params)
    doc: dict[str, Any] = {"seed": seed}
    policy = {k: p[k] for k in ("practice_months", "experienced_practice_months",
                                "experienced_years", "preferences_only", "max_segments") if k in p}
    if policy:
        doc["policy"] = policy
    if "capacity_scale" in p:
        doc["scale_capacity"] = p["capacity_scale"]
    if "intake_pct" in p:
        doc["intake_pct"] = p["intake_pct"]
    where = f"--vary {_describe(params)}"
    try:
        return check_variant(doc, where, Path.cwd())
    except ScenarioError as e:  # the variant file's key is the sweep's parameter here
        raise ScenarioError([_as_parameter(m) for m in e.items]) from None


def _as_parameter(m: str | Message) -> str | Message:
    """A variant file's error about ``scale_capacity``, named as the sweep's parameter."""
    loc = m.location if isinstance(m, Message) else None
    if loc is None or not (loc.field or "").startswith("scale_capacity"):
        return m
    assert isinstance(m, Message)
    return dataclasses.replace(m, location=dataclasses.replace(
        loc, field="capacity_scale" + (loc.field or "")[len("scale_capacity"):]))


@dataclass(frozen=True)
class PointTask:
    """Everything a worker needs to solve one grid point (picklable)."""

    index: int
    params: tuple[tuple[str, Any], ...]
    base: Problem
    solver: str
    time_limit_s: float | None
    seed: int
    workers: int
    occupancy: tuple[Occupancy, ...] = ()


def run_point(task: PointTask) -> dict[str, Any]:
    """Build the point's variant, solve it, and return its KPIs.

    Returns
    -------
    dict
        ``row`` (grid index, parameters, status and :data:`HEADLINE` KPIs), ``groups`` (the
        per-term and per-group KPIs), ``wall_seconds`` and ``time_limit_s`` (the limit the
        solve had: the scenario's when the sweep gave none).
    """
    variant = apply_variant(task.base, spec_for(task.params, task.seed), task.occupancy)
    problem = (apply_occupancy(variant.problem, variant.occupancy) if variant.occupancy
               else variant.problem)
    result = solve(problem, task.solver, time_limit_s=task.time_limit_s, seed=task.seed,
                   workers=task.workers)
    k = kpis(view_of(result, "point"), problem)
    row: dict[str, Any] = {"point": task.index, **dict(task.params),
                           "status": result.status.value}
    row.update({h: k.get(h) for h in HEADLINE})
    groups = {name: value for name, value in k.items() if name not in HEADLINE}
    return {"row": row, "groups": groups, "wall_seconds": result.wall_seconds,
            "time_limit_s": result.time_limit_s}


@dataclass(frozen=True)
class Sweep:
    """What :func:`run_sweep` found.

    Attributes
    ----------
    parameters
        The varied parameters, in order.
    table
        One row per point, in grid order: ``point``, the parameters, ``status``, the KPIs.
    groups
        Long table ``point, <parameters>, kpi, value`` of the per-term and per-group KPIs.
    timings
        ``point, wall_seconds`` (not part of the deterministic tables).
    solver, time_limit_s
        The solver of every point and its time limit per point in seconds (the scenario's when
        the sweep gave none): a page names them beside the points' statuses, so that a reader
        knows whether a shortage is the data's or the budget's.
    """

    parameters: tuple[str, ...]
    table: pd.DataFrame
    groups: pd.DataFrame
    timings: pd.DataFrame
    solver: str = ""
    time_limit_s: float | None = None


def check_grid(vary: Sequence[tuple[str, Sequence[Any]]], seed: int = 0) -> None:
    """Refuse a grid before anything is loaded or started: too many points, or a point that
    a variant file could not hold (:func:`spec_for`).

    Raises
    ------
    ScenarioError
        One line per bad point (at most ``MAX_ERRORS``).
    """
    points = grid(vary)
    if len(points) > MAX_POINTS:
        raise ScenarioError([msg("plan.sweep.too_many_points", count=len(points),
                                 limit=MAX_POINTS)])
    errors: list[str | Message] = []
    for params in points:
        try:
            spec_for(params, seed)
        except ScenarioError as e:
            errors += [m for m in e.items if m not in errors]
    if errors:
        raise ScenarioError(errors)


def run_sweep(base: Problem, vary: Sequence[tuple[str, Sequence[Any]]], executor: Executor, *,
              solver: str = "cpsat", time_limit_s: float | None = None, seed: int = 0,
              workers: int = 1, occupancy: Sequence[Occupancy] = ()) -> Sweep:
    """Solve every point of the grid on ``executor`` and collect the KPI table.

    Every point's variant is built here first, so a point that makes the scenario invalid is
    reported (one line naming it) before anything is solved.

    Parameters
    ----------
    base
        The base scenario with full capacities (``load_scenario(path, occupancy=False)``).
    vary
        ``(parameter, values)`` pairs (see :func:`parse_vary`).
    executor
        A local :class:`~concurrent.futures.ProcessPoolExecutor` or a Dask client's executor
        (see :func:`open_executor`).
    solver, time_limit_s, seed, workers
        For every solve; ``seed`` also seeds ``intake_pct`` draws.
    occupancy
        The base's ``occupancy.csv`` rows: subtracted from every point's (changed) capacities.

    Raises
    ------
    ScenarioError
        A grid point whose variant breaks a rule, or a grid larger than 10,000 points.
    """
    check_grid(vary, seed)
    points = grid(vary)
    errors: list[str] = []
    for params in points:
        try:
            apply_variant(base, spec_for(params, seed), occupancy)
        except ScenarioError as e:
            errors += e.messages
    if errors:
        raise ScenarioError(errors)
    tasks = [PointTask(i, params, base, solver, time_limit_s, seed, workers, tuple(occupancy))
             for i, params in enumerate(points, start=1)]
    futures = [executor.submit(run_point, t) for t in tasks]
    outputs = sorted((f.result() for f in futures), key=lambda o: o["row"]["point"])
    names = tuple(n for n, _ in vary)
    table = pd.DataFrame([o["row"] for o in outputs],
                         columns=["point", *names, "status", *HEADLINE], dtype=object)
    long = [{"point": o["row"]["point"], **{n: o["row"][n] for n in names}, "kpi": k,
             "value": v} for o in outputs for k, v in o["groups"].items()]
    groups = pd.DataFrame(long, columns=["point", *names, "kpi", "value"], dtype=object)
    timings = pd.DataFrame([{"point": o["row"]["point"], "wall_seconds": o["wall_seconds"]}
                            for o in outputs])
    limits = [o["time_limit_s"] for o in outputs]
    return Sweep(names, table, groups, timings, solver, max(limits) if limits else time_limit_s)


SCHEDULER_PROBE_S = 5.0
"""Seconds a ``--scheduler`` has to accept a connection and greet as Dask does."""


def probe_scheduler(address: str, timeout_s: float = SCHEDULER_PROBE_S) -> None:
    """Check, within ``timeout_s`` and before Dask is asked to connect, that ``address`` is a
    Dask scheduler: it accepts a TCP connection and greets first with a small Dask frame.

    Dask's own client waits without end for a server that says nothing (a web server, say),
    and reads the first eight bytes of anything else as the size of the message to follow
    (the bytes ``HTTP/1.1`` ask for 3 EiB). Addresses ``tcp://host:port`` and ``host:port``
    are probed; ``tls://`` (whose greeting is encrypted) is left to Dask.

    Raises
    ------
    ScenarioError
        The address cannot be read, nothing listens there, it says nothing, or what it says
        is not Dask's greeting.
    """
    text = address.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else "tcp"
    if scheme == "tls":
        return
    if scheme != "tcp":
        raise ScenarioError([msg("sweep.scheduler_scheme", address=text, scheme=scheme)])
    try:
        parts = urlsplit(text if "://" in text else f"tcp://{text}")
        host, port = parts.hostname, parts.port or 8786
        if not host or parts.path not in ("", "/"):
            raise ValueError(text)
    except ValueError:
        raise ScenarioError([msg("sweep.scheduler_address", address=text)]) from None
    seconds = f"{timeout_s:g}"
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as e:
        raise ScenarioError([msg("sweep.scheduler_unreachable", address=text,
                                 reason=e.strerror or str(e) or type(e).__name__)]) from None
    with sock:
        try:
            head = _recv_exactly(sock, 8, timeout_s)
            (size,) = struct.unpack("Q", head)  # distributed's frame header: native uint64
            if not 0 < size <= 1 << 20:  # a greeting is a few hundred bytes
                raise ValueError(size)
            greeting = _recv_exactly(sock, size, timeout_s)
            if b"pickle-protocol" not in greeting and b"compression" not in greeting:
                raise ValueError(greeting[:20])
        except TimeoutError:
            raise ScenarioError([msg("sweep.scheduler_silent", address=text,
                                     seconds=seconds)]) from None
        except (ValueError, OSError, struct.error):
            raise ScenarioError([msg("sweep.scheduler_not_dask", address=text)]) from None


def _recv_exactly(sock: socket.socket, n: int, timeout_s: float) -> bytes:
    """``n`` bytes from ``sock`` within ``timeout_s`` in all (TimeoutError; ValueError when
    the connection ends first)."""
    deadline = time.monotonic() + timeout_s
    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(min(n - len(data), 1 << 16))  # TimeoutError when it stays silent
        if not chunk:
            raise ValueError("closed")
        data += chunk
    return data


@contextmanager
def open_executor(scheduler: str | None = None, processes: int | None = None
                  ) -> Iterator[Executor]:
    """The executor a sweep runs on: a Dask cluster's, or a local process pool.

    Parameters
    ----------
    scheduler
        Address of a Dask distributed scheduler (``tcp://host:8786``); None for a local pool.
    processes
        Size of the local pool (default: the number of CPUs).

    Raises
    ------
    ScenarioError
        When the scheduler cannot be reached or is not a Dask scheduler
        (:func:`probe_scheduler`).
    """
    if scheduler:
        from distributed import Client

        probe_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as e:
            raise ScenarioError([msg("plan.sweep.no_scheduler", scheduler=scheduler,
                                     reason=str(e))]) from None
        try:
            # pure=False: no hashing of the (large) tasks for deduplication
            yield client.get_executor(pure=False)
        finally:
            client.close()
    else:
        # spawn: a forked child of a process running solver threads can deadlock
        with ProcessPoolExecutor(max_workers=processes or os.cpu_count() or 1,
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool


def _plot(sweep: Sweep, kpi: str, path: Path, lang: Lang = "en") -> None:
    """One PNG: the KPI against the first parameter, one line per combination of the rest;
    title and axes in ``lang`` (English when no font with Chinese glyphs is installed:
    :func:`matcher.reports.fonts.cjk_font`)."""
    import matplotlib

    font = cjk_font() if lang == "zh" else None
    shown: Lang = lang if lang != "zh" or font is not None else "en"
    # CJK fonts often lack the typographic minus of negative ticks: use the ASCII hyphen.
    style: dict[Any, Any] = {"font.family": "sans-serif", "axes.unicode_minus": False,
                             "font.sans-serif": [font, *matplotlib.rcParams["font.sans-serif"]]
                             } if font else {}
    with matplotlib.rc_context(style):
        fig = _figure(sweep, kpi, shown)
        fig.savefig(path, format="png", metadata={"Software": None})


def _figure(sweep: Sweep, kpi: str, lang: Lang) -> Any:
    """The plot of one KPI as a matplotlib Figure (the Agg canvas; no pyplot state)."""
    from matplotlib.figure import Figure

    t = sweep.table
    first, rest = sweep.parameters[0], list(sweep.parameters[1:])
    xs = list(dict.fromkeys(t[first].tolist()))
    numeric_x = all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs)
    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    ax = fig.subplots()
    groups = t.groupby(rest, sort=False) if rest else [((), t)]
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        ys = [None if v is None else float(v) for v in sub[kpi].tolist()]
        pos = sub[first].tolist() if numeric_x else [xs.index(x) for x in sub[first]]
        legend = _describe(list(zip(rest, key, strict=True))) if rest else None
        ax.plot(pos, [math.nan if y is None else y for y in ys], marker="o", label=legend)
    if not numeric_x:
        ax.set_xticks(range(len(xs)), [str(x).lower() for x in xs])
    ax.set_xlabel(column_label(first, lang))
    ax.set_ylabel(column_label(kpi, lang))
    ax.set_title(label("plot.title", lang, kpi=column_label(kpi, lang),
                       parameter=column_label(first, lang)))
    ax.grid(True, alpha=0.3)
    if rest:
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _run_line(sweep: Sweep, lang: Lang) -> str:
    """The solver, its time limit per point and how many points ended in each status."""
    counts: dict[str, int] = {}
    for status in sweep.table["status"].tolist():
        counts[status] = counts.get(status, 0) + 1
    statuses = ("，" if lang == "zh" else ", ").join(
        f"{status_word(Status(status), lang)} {count}" for status, count in counts.items())
    limit = "" if sweep.time_limit_s is None else f"{sweep.time_limit_s:g}"
    return label("page.sweep.run", lang, solver=sweep.solver, limit=limit, statuses=statuses)


def write_sweep(sweep: Sweep, out: str | os.PathLike[str], *, force: bool = False,
                title: str = "Sweep", inputs: Iterable[Input] = (), lang: Lang = "en") -> Path:
    """Write ``kpis.csv``, ``kpis.md``, ``kpis_by_group.csv``, ``timings.csv``, ``report.html``
    and ``plots/<kpi>.png`` (one per numeric KPI), atomically, never into or over ``inputs``
    (the base scenario); the page, ``kpis.md`` and the plots' captions in ``lang`` (the CSVs
    keep English column names)."""

    def fill(tmp: Path) -> None:
        for name, frame in (("kpis.csv", sweep.table), ("kpis_by_group.csv", sweep.groups),
                            ("timings.csv", sweep.timings)):  # group keys are ids: no formulas
            escape_frame(frame).to_csv(tmp / name, index=False, lineterminator="\n")
        (tmp / "plots").mkdir()
        page = Page(title, lang=lang)
        run_line = _run_line(sweep, lang)
        page.text(run_line)
        # the page words each point's status (kpis.csv keeps it as data)
        shown = sweep.table.assign(status=[status_text(x, lang)
                                           for x in sweep.table["status"]])
        page.table(shown)
        for kpi in HEADLINE:
            if sweep.table[kpi].isna().all():
                continue
            path = tmp / "plots" / f"{kpi}.png"
            _plot(sweep, kpi, path, lang)
            page.image(path, f"plots/{kpi}.png", column_label(kpi, lang))
        md = "\n".join([f"# {escape_markdown(title)}", "", escape_markdown(run_line), "",
                        markdown_table(shown, lang=lang), ""])
        (tmp / "kpis.md").write_text(md, encoding="utf-8")
        (tmp / "report.html").write_text(page.html(), encoding="utf-8")

    return atomic_folder(out, force, fill, kind="sweep", inputs=inputs)
