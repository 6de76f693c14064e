"""Planning commands of the ``matcher`` CLI: variant, compare, sweep, rolling, resolve.

Registered on the main group by :mod:`matcher.cli.main` (:func:`plan_commands`). Like the rest
of the CLI they only parse, call the library and print; bad input gives one line per problem on
stderr, exit code 2 and nothing written.
"""

from __future__ import annotations

import sys

import click

from .. import solvers
from ..formats.resultdir import result_size_estimate
from ..messages import label, msg
from ..model import Problem, ScenarioError
from ..reports.pages import column_label, word
from ..reports.words import status_text, status_word
from .common import (
    SECONDS,
    FiniteFloat,
    WholeNumber,
    claimed,
    cli_lang,
    echo_messages,
    echo_table,
    fail,
    finishing,
    lang_option,
    load_problem,
    prepare_out,
)
from .helptext import HelpCommand

__all__ = ["plan_commands"]


@click.command(cls=HelpCommand)
@click.argument("paths", nargs=-1, required=True, metavar="[BASE] VARIANT.yaml",
                type=click.Path())
@click.option("--out", "out", required=True, type=click.Path(), help="Scenario folder to write.")
@click.option("--force", is_flag=True, help="Replace an existing folder.")
@lang_option
def variant(paths: tuple[str, ...], out: str, force: bool) -> None:
    """Apply a variant file's changes to a base scenario and write the full new scenario.

    BASE (a scenario folder) replaces the variant file's own ``base:``.
    """
    from ..planning.variant import build_variant, write_variant
    from ..planning.variant_spec import read_variant

    if len(paths) > 2:
        fail([msg("cli.variant_paths", count=len(paths))])
    base, file = (paths[0], paths[1]) if len(paths) == 2 else (None, paths[0])
    try:
        named = base if base is not None else read_variant(file).base
    except ScenarioError as e:
        fail(e.lines(cli_lang()))
    target = prepare_out(out, [(file, "variant"), (named, "base")], force)
    try:
        v = build_variant(file, base)
    except ScenarioError as e:
        fail(e.lines(cli_lang()))
    p = v.problem
    lang = cli_lang(p)
    with claimed(target, result_size_estimate(len(p.students))):
        finishing(lambda: write_variant(v, target, force=force, source=file, lang=lang),
                  target)
    for m in v.change_messages:
        click.echo(label("cli.variant.changed", lang, text=m.text(lang)))
    for m in v.note_messages:
        click.echo(label("cli.variant.note", lang, text=m.text(lang)))
    click.echo(label("cli.variant.wrote", lang, path=str(target), students=len(p.students),
                     workstations=len(p.workstations), mentors=len(p.mentors)))


@click.command(cls=HelpCommand)
@click.argument("results", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", required=True, type=click.Path(), help="Report folder to write.")
@click.option("--scenario", "scenarios", multiple=True, type=click.Path(),
              help="The scenario of the results: once for all, or once per result in order.")
@click.option("--force", is_flag=True, help="Replace an existing folder.")
@lang_option
def compare(results: tuple[str, ...], out: str, scenarios: tuple[str, ...], force: bool) -> None:
    """Compare two or more result folders: KPIs side by side and who moves where.

    The first result is the baseline. Without --scenario only the figures the result folders
    hold are compared (no shares by group, no capacity use, no blocking pairs).
    """
    from ..planning.compare import compare as run_compare
    from ..planning.compare import read_view, write_comparison

    if len(results) < 2:
        fail([msg("cli.compare_two")])
    if len(scenarios) not in (0, 1, len(results)):
        fail([msg("cli.compare_scenarios", count=len(scenarios), results=len(results))])
    target = prepare_out(out, [*((r, "result") for r in results),
                               *((s, "scenario") for s in scenarios)], force)
    loaded: dict[str, Problem] = {}
    for s in scenarios:
        if s not in loaded:
            loaded[s] = load_problem(s)
    chosen = list(scenarios) * len(results) if len(scenarios) == 1 else list(scenarios)
    problems = [loaded[s] for s in chosen] if chosen else [None] * len(results)
    try:
        views = [read_view(r) for r in results]
        comparison = run_compare(views, problems)
    except ScenarioError as e:
        fail(e.lines(cli_lang()))
    with claimed(target):
        lang = cli_lang(next((p for p in problems if p is not None), None))
        finishing(lambda: write_comparison(comparison, target, force=force, inputs=[
            (s, "scenario") for s in scenarios], lang=lang), target)
    echo_messages(comparison.notes, lang)
    head = comparison.kpis[~comparison.kpis["kpi"].str.contains(r"\[")]
    echo_table(head.assign(kpi=[column_label(k, lang) for k in head["kpi"]]), lang)
    counts = comparison.changes[comparison.changes["students"] > 0]
    for rec in counts.itertuples(index=False):
        click.echo(label("cmd.compare.count", lang, result=str(rec.result),
                         count=int(str(rec.students)),
                         change=word("change", str(rec.change), lang)))
    click.echo(label("cmd.written", lang, path=str(target)))


@click.command(cls=HelpCommand)
@click.argument("base", type=click.Path(file_okay=False))
@click.option("--vary", "vary", multiple=True, required=True, metavar="NAME=V1,V2,...",
              help="A parameter and its values; repeat for a grid (capacity_scale, "
                   "practice_months, experienced_practice_months, experienced_years, "
                   "preferences_only, intake_pct).")
@click.option("--out", "out", required=True, type=click.Path(), help="Sweep folder to write.")
@click.option("--solver", default="cpsat", show_default=True, type=click.Choice(solvers.names()))
@click.option("--time-limit", type=SECONDS, default=None,
              help="Seconds per point (default: scenario.yaml).")
@click.option("--seed", type=WholeNumber(min=0), default=0, show_default=True,
              help="Solver seed and seed of intake_pct draws.")
@click.option("--workers", type=WholeNumber(min=1), default=1, show_default=True,
              help="Search workers per point.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run the points on this Dask distributed scheduler (tcp://host:8786).")
@click.option("--processes", type=WholeNumber(min=1), default=None,
              help="Local processes (default: the number of CPUs).")
@click.option("--force", is_flag=True, help="Replace an existing folder.")
@lang_option
def sweep(base: str, vary: tuple[str, ...], out: str, solver: str, time_limit: float | None,
          seed: int, workers: int, scheduler: str | None, processes: int | None,
          force: bool) -> None:
    """Solve a grid of variants of BASE; write a KPI table and one plot per KPI."""
    from ..formats.occupancy import read_occupancy
    from ..planning.sweep import check_grid, open_executor, parse_vary, run_sweep, write_sweep

    target = prepare_out(out, [(base, "scenario")], force)
    try:
        grid = parse_vary(vary)
        check_grid(grid, seed)
    except ScenarioError as e:
        fail(e.lines(cli_lang()))
    problem = load_problem(base, occupancy=False)
    with claimed(target):
        try:
            occupancy = read_occupancy(base)
            with open_executor(scheduler, processes) as executor:
                result = run_sweep(problem, grid, executor, solver=solver,
                                   time_limit_s=time_limit, seed=seed, workers=workers,
                                   occupancy=occupancy)
        except ScenarioError as e:
            fail(e.lines(cli_lang()))
        lang = cli_lang(problem)
        finishing(lambda: write_sweep(result, target, force=force,
                                      title=label("page.sweep.title", lang, name=problem.name),
                                      inputs=[(base, "scenario")], lang=lang), target)
    cols = ["point", *result.parameters, "status", "placed", "placed_share",
            "first_choice_share", "rank_cost", "unused_places"]
    echo_table(result.table[cols].assign(status=[status_text(x, lang)
                                                 for x in result.table["status"]]), lang)
    click.echo(label("cmd.written", lang, path=str(target)))


@click.command(cls=HelpCommand)
@click.argument("base", type=click.Path(file_okay=False))
@click.option("--cohorts", type=WholeNumber(min=1, max=50), required=True,
              help="Number of yearly intakes to simulate.")
@click.option("--growth", type=FiniteFloat(-99.0, 1000.0), default=0.0,
              show_default=True, help="Intake growth per year, percent (negative: shrink).")
@click.option("--out", "out", required=True, type=click.Path(), help="Folder to write.")
@click.option("--solver", default="cpsat", show_default=True, type=click.Choice(solvers.names()))
@click.option("--time-limit", type=SECONDS, default=None,
              help="Seconds per cohort (default: scenario.yaml).")
@click.option("--seed", type=WholeNumber(min=0), default=None,
              help="Solver seed and seed of the intake draws (default: scenario.yaml).")
@click.option("--workers", type=WholeNumber(min=1), default=None, help="Search workers.")
@click.option("--mentor-load", type=click.Choice(["busiest", "ignore"]), default="busiest",
              show_default=True, help="Carry earlier cohorts' mentor load by its busiest term "
              "(safe; placed is a lower bound) or not at all (placed is an upper bound).")
@click.option("--force", is_flag=True, help="Replace an existing folder.")
@lang_option
def rolling(base: str, cohorts: int, growth: float, out: str, solver: str,
            time_limit: float | None, seed: int | None, workers: int | None, mentor_load: str,
            force: bool) -> None:
    """Simulate N yearly intakes in sequence, each allocated the places earlier ones left."""
    from ..formats.occupancy import read_occupancy
    from ..planning.rolling import simulate, write_rolling

    target = prepare_out(out, [(base, "scenario")], force)
    problem = load_problem(base, occupancy=False)
    with claimed(target, cohorts * result_size_estimate(len(problem.students))):
        try:
            occupancy = read_occupancy(base)
            report = simulate(problem, cohorts, growth, base_occupancy=occupancy,
                              solver=solver, time_limit_s=time_limit, seed=seed,
                              workers=workers, mentor_load=mentor_load)
        except ScenarioError as e:
            fail(e.lines(cli_lang()))
        finishing(lambda: write_rolling(report, target, force=force,
                                        inputs=[(base, "scenario")], lang=cli_lang(problem)),
                  target)
    cols = ["cohort", "first_term", "intake", "demand_student_terms", "remaining_places",
            "demand_ratio", "placed", "placed_share"]
    echo_table(report.years[cols], cli_lang(problem))
    click.echo(label("cmd.written", cli_lang(problem), path=str(target)))


@click.command(cls=HelpCommand)
@click.argument("scenario", type=click.Path(exists=False))
@click.option("--previous", "previous", required=True, type=click.Path(),
              help="The earlier result folder of this scenario (to keep where possible).")
@click.option("--changes", "changes", required=True, type=click.Path(),
              help="Changes YAML (variant format: remove_students, close, mentor_leave, "
                   "add_students, ...).")
@click.option("--out", "out", required=True, type=click.Path(), help="Result folder to write.")
@click.option("--time-limit", type=SECONDS, default=None,
              help="Seconds for the whole solve (default: scenario.yaml).")
@click.option("--seed", type=WholeNumber(min=0), default=None, help="Random seed.")
@click.option("--workers", type=WholeNumber(min=1), default=None, help="Search workers.")
@click.option("--force", is_flag=True, help="Replace an existing result folder.")
@lang_option
def resolve(scenario: str, previous: str, changes: str, out: str, time_limit: float | None,
            seed: int | None, workers: int | None, force: bool) -> None:
    """Repair an allocation after changes, moving as few students as possible."""
    from ..planning.resolve import previous_placements, write_resolution
    from ..planning.resolve import resolve as resolve_problem
    from ..planning.variant_spec import read_variant

    inputs = [(scenario, "scenario"), (previous, "previous"), (changes, "changes")]
    target = prepare_out(out, inputs, force)
    base = load_problem(scenario)
    with claimed(target, result_size_estimate(len(base.students))):
        try:
            spec = read_variant(changes)
            rows = previous_placements(previous, base)
            res = resolve_problem(base, rows, spec, time_limit_s=time_limit, seed=seed,
                                  workers=workers)
        except ScenarioError as e:
            fail(e.lines(cli_lang(base)))
        written = finishing(lambda: write_resolution(res, target, force=force, inputs=inputs,
                                                     lang=cli_lang(base)), target)
    r = res.result
    lang = cli_lang(base)
    for m in res.variant.change_messages:
        click.echo(label("cli.resolve.change", lang, text=m.text(lang)))
    click.echo(label("cli.resolve.status", lang, seconds=f"{r.wall_seconds:.2f}",
                     status=r.status.value if lang == "en" else status_word(r.status, lang)))
    click.echo(label("cli.resolve.placed", lang, placed=r.placed,
                     total=len(res.problem.students)))
    click.echo(label("cli.resolve.moves", lang, kept=res.count("kept"),
                     moved=res.count("moved"), unplaced=res.count("unplaced"),
                     new=res.count("new"), new_unplaced=res.count("new-unplaced"),
                     withdrawn=res.count("withdrawn")))
    click.echo(label("cli.resolve.rank_cost", lang, cost=r.rank_cost))
    click.echo(label("cli.resolve.written", lang, path=str(written)))
    if r.status.value in ("INFEASIBLE", "UNKNOWN"):
        sys.exit(1)


def plan_commands() -> list[click.Command]:
    """The planning commands, for ``cli.add_command``."""
    return [variant, compare, sweep, rolling, resolve]
