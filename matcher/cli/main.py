"""The ``matcher`` command group and its core commands: parse, call the library, print.

Nothing runs at import.

Exit codes: 0 success; 1 ``check`` found violations (or a solve ended INFEASIBLE/UNKNOWN);
2 bad input or usage (one line per problem on stderr, nothing written).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import solvers
from ..formats.interrupt import raise_on_signals
from ..formats.resultdir import atomic_folder, result_size_estimate
from ..messages import label, msg, render
from ..model import ScenarioError, Status
from ..progress import progress
from ..reports.folder import write_result
from ..reports.words import summary_lines
from .common import (
    SECONDS,
    MatcherGroup,
    WholeNumber,
    apply_previous_option,
    claimed,
    cli_lang,
    echo_messages,
    fail,
    finishing,
    lang_option,
    load_checked,
    load_problem,
    prepare_out,
)
from .helptext import HelpGroup
from .plan import plan_commands
from .ui import ui

F = TypeVar("F", bound=Callable[..., Any])


class Group(HelpGroup, MatcherGroup):
    """The ``matcher`` group: help in the command's language (:class:`HelpGroup`), errors and
    signals as error lines (:class:`MatcherGroup`)."""


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="workstation-matcher")
def cli() -> None:
    """Place professional master's students at enterprise workstations with mentor pairs."""


@cli.command()
@click.argument("scenario", type=click.Path())
@lang_option
@click.option("--strict", is_flag=True,
              help="Treat warnings (suspicious data) as errors: exit 2 when there are any.")
def validate(scenario: str, strict: bool) -> None:
    """Check a scenario (folder or .xlsx workbook): every error, warning and note at once."""
    found = load_checked(scenario)
    p = found.problem
    assert p is not None
    lang = cli_lang(p)
    if strict and found.warnings:
        echo_messages([msg("load.strict_warnings", count=len(found.warnings))], lang)
        sys.exit(2)
    click.echo(label("load.valid", lang, name=p.name, students=len(p.students),
                     workstations=len(p.workstations), mentors=len(p.mentors),
                     supervisors=len(p.supervisors), terms=len(p.terms)))


@cli.command()
@click.argument("scenario", type=click.Path())
@click.option("--out", "out", required=True, type=click.Path(), help="Result folder to write.")
@click.option("--solver", default="cpsat", show_default=True,
              type=click.Choice(solvers.names()), help="Registered solver.")
@click.option("--time-limit", type=SECONDS, default=None,
              help="Seconds for the whole solve (default: scenario.yaml).")
@click.option("--seed", type=WholeNumber(min=0), default=None, help="Random seed.")
@click.option("--workers", type=WholeNumber(min=1), default=None, help="Search workers.")
@click.option("--force", is_flag=True, help="Replace an existing result folder.")
@click.option("--excel-bom", is_flag=True, help="Write CSVs as UTF-8 with BOM for Excel.")
@click.option("--log", is_flag=True, help="Print solver progress to stderr.")
@click.option("--previous", type=click.Path(file_okay=False), default=None,
              help="An earlier cohort's result folder: allocate only the places it leaves.")
@click.option("--stable", is_flag=True,
              help="cpsat only: the best allocation with no blocking pair (justified envy).")
@click.option("--policy", type=click.Choice(list(solvers.POLICIES)), default=None,
              help="Allocation rule: 'objective' (most placed, then the best preference ranks) "
                   "or 'priority' (score first, 分数优先，遵循志愿: students in order of priority, "
                   "each takes the best choice still possible). Default: the scenario's "
                   "solver.policy, else objective.")
@lang_option
@click.option("--deterministic/--no-deterministic", default=None,
              help="Count work instead of wall time: the same result files on any machine "
                   "(default: scenario.yaml).")
@click.option("--rank-objective", type=click.Choice(list(solvers.RANK_OBJECTIVES)),
              default=None, help="Level 2 after the most placed: sum (the least rank sum), "
              "profile (the most first choices, then second choices, ...) or minimax (the best "
              "worst rank, then the least rank sum). Default: the scenario's objective.rank, "
              "else sum.")
def solve(scenario: str, out: str, solver: str, time_limit: float | None, seed: int | None,
          workers: int | None, force: bool, excel_bom: bool, log: bool,
          previous: str | None, stable: bool, policy: str | None,
          deterministic: bool | None, rank_objective: str | None) -> None:
    """Allocate the scenario's students and write the result folder."""
    from ..solvers import solve as solve_problem

    if stable and solver != "cpsat":
        fail([msg("cli.stable_needs_cpsat", solver=solver)])
    if stable and policy == "priority":
        fail([label("fairness.stable_and_priority", cli_lang())])
    target = prepare_out(out, [(scenario, "scenario"), (previous, "previous")], force)
    show = False if log else None  # the solver's own log owns stderr then
    with progress("loading scenario", enabled=show):
        found = load_checked(scenario)
        assert found.problem is not None
        p = apply_previous_option(found.problem, previous)
    rule = policy or p.solver.policy
    if stable and rule == "priority":
        fail([label("fairness.stable_and_scenario_priority", cli_lang(p))])
    lang = cli_lang(p)
    with claimed(target, result_size_estimate(len(p.students))):
        with progress(f"solving ({'greedy' if rule == 'priority' else solver})", enabled=show,
                      limit_s=time_limit or p.solver.time_limit_s):
            result = solve_problem(p, solver, time_limit_s=time_limit, seed=seed,
                                   workers=workers, log=log, policy=policy,
                                   deterministic=deterministic,
                                   rank_objective=rank_objective,
                                   **({"stable": True} if stable else {}))
        with progress("writing results", enabled=show):
            written = finishing(lambda: write_result(result, target, force=force,
                                                     excel_bom=excel_bom, problem=p, lang=lang),
                                target)
    for line in summary_lines(result, len(p.students), written, lang, p):
        click.echo(line)
    if result.status in (Status.INFEASIBLE, Status.UNKNOWN):
        sys.exit(1)


@cli.command()
@click.argument("scenario", type=click.Path())
@click.argument("result_dir", type=click.Path(file_okay=False))
@click.option("--stability", type=click.Choice(["feasible", "strict"]), is_flag=False,
              flag_value="feasible", default=None,
              help="Also count and list blocking pairs: 'feasible' (the default when given "
                   "alone: the workstation could take the student, mentors and supervisors "
                   "counted) or 'strict' (the old definition: workstation places only).")
@click.option("--previous", type=click.Path(file_okay=False), default=None,
              help="The earlier cohort's result the solve was given with --previous.")
@lang_option
def check(scenario: str, result_dir: str, stability: str | None, previous: str | None
          ) -> None:
    """Re-check a result folder against every rule; exit 1 on any violation."""
    from ..check import check_result_dir

    p = apply_previous_option(load_problem(scenario), previous)
    lang = cli_lang(p)
    if not Path(result_dir).is_dir():
        fail([label("cmd.check.not_result", lang, path=result_dir)])
    try:
        rep = check_result_dir(p, result_dir, stability=stability or False)
    except ScenarioError as e:
        fail(e.lines(lang))
    click.echo(label("cmd.check.recomputed", lang, placed=rep.placed, rank_cost=rep.rank_cost,
                     pair_weight=f"{rep.pair_weight:g}"))
    if rep.blocking_pairs is not None:
        click.echo(label("cmd.check.blocking", lang, count=len(rep.blocking_pairs),
                         definition=str(rep.stability)))
        for sid, wid in rep.blocking_pairs:
            click.echo(label("cmd.check.pair", lang, student=sid, workstation=wid))
    if rep.issues:
        for line in rep.lines(lang):
            click.echo(label("cmd.check.violation", lang, text=line))
        click.echo(label("cmd.check.violations", lang, count=len(rep.issues)))
        sys.exit(1)
    click.echo(label("cmd.check.ok", lang))


@cli.command()
@click.option("--students", type=WholeNumber(min=1), required=True)
@click.option("--workstations", type=WholeNumber(min=1), required=True)
@click.option("--universities", type=WholeNumber(min=1), default=8, show_default=True)
@click.option("--seed", type=WholeNumber(min=0), default=0, show_default=True)
@click.option("--name", default=None, help="Scenario name (default: the folder name).")
@click.option("--preferences-only", is_flag=True, help="Set policy.preferences_only: true.")
@click.option("--out", "out", required=True, type=click.Path())
@click.option("--force", is_flag=True, help="Replace an existing folder.")
@click.option("--capacity-share", type=click.FloatRange(min=0.01), default=0.55,
              show_default=True, help="Workstation places per term, as a share of students.")
@click.option("--same-block", is_flag=True,
              help="Capacitated-assignment province: everyone needs the same two terms and no "
                   "mentor limit binds.")
def generate(students: int, workstations: int, universities: int, seed: int, name: str | None,
             preferences_only: bool, out: str, force: bool, capacity_share: float,
             same_block: bool) -> None:
    """Write a synthetic provincial cohort as a scenario folder."""
    from ..planning.generate import generate_scenario

    target = prepare_out(out, (), force)
    with claimed(target, result_size_estimate(students)):
        finishing(lambda: atomic_folder(target, force, lambda tmp: generate_scenario(
            tmp, students=students, workstations=workstations, universities=universities,
            seed=seed, name=name or Path(out).name, preferences_only=preferences_only,
            capacity_share=capacity_share, same_block=same_block),
            kind="scenario"), target)
    click.echo(label("cli.generate.wrote", cli_lang(), path=str(target), students=students,
                     workstations=workstations, universities=universities, seed=str(seed)))


@cli.command()
@click.option("--tier", required=True,
              help="Benchmark tier: S, M, L, XL, P (capacitated-assignment province), "
                   "S-rules or XL-rules (with issue 28's rules).")
@click.option("--solvers", "solver_spec", default="all", show_default=True,
              help="'all' or a comma-separated list of registered solvers.")
@click.option("--time-limit", type=SECONDS, default=None,
              help="Seconds per solver run (default: the tier's).")
@click.option("--seed", type=WholeNumber(min=0), default=0, show_default=True)
@click.option("--workers", type=WholeNumber(min=1), default=2, show_default=True)
@click.option("--out", "out", type=click.Path(), default=None,
              help="Result folder (default: benchmarks/runs/<tier>-<timestamp>).")
@click.option("--force", is_flag=True, help="Reuse an existing result folder.")
@click.option("--deterministic", is_flag=True,
              help="Count work instead of wall time: the same rows on any machine "
                   "(only the times vary).")
@lang_option
def bench(tier: str, solver_spec: str, time_limit: float | None, seed: int, workers: int,
          out: str | None, force: bool, deterministic: bool) -> None:
    """Run solvers on a generated tier (each in a fresh process); write a CSV and a table."""
    from ..planning.bench import TIERS, TIERS_DIR, legacy_bench, parse_solvers, run_bench

    if tier.upper() not in TIERS:
        fail([msg("cli.unknown_tier", tier=tier, tiers=list(TIERS))])
    try:
        names = parse_solvers(solver_spec)
    except solvers.UnknownSolverError as e:
        fail([e.message])
    if out is not None:
        prepare_out(out, [(TIERS_DIR, "tiers")], force, legacy=legacy_bench)
    done = run_bench(tier, names, time_limit_s=time_limit, seed=seed, workers=workers,
                     out_dir=out, force=force, progress=lambda line: click.echo(line, err=True),
                     deterministic=deterministic)
    click.echo(done.markdown)
    click.echo(label("cli.written", cli_lang(),
                     path=f"{done.out_dir / 'results.csv'}, {done.out_dir / 'results.md'}"))
    if not done.ok:
        sys.exit(1)


@cli.command()
@click.argument("scenario", type=click.Path())
@click.argument("result_dir", type=click.Path(file_okay=False))
@click.option("--out", "out", type=click.Path(), default=None,
              help="File to write (default: RESULT_DIR/report.html).")
@click.option("--force", is_flag=True, help="Replace an existing HTML file given with --out.")
@lang_option
def report(scenario: str, result_dir: str, out: str | None, force: bool) -> None:
    """Write report.html for a result folder: figures, charts, heat map, unassigned."""
    from ..formats.output import target_path
    from ..formats.resultdir import read_result
    from ..reports.html import REPORT_FILE, is_html_file, write_report
    from ..reports.manifest import rehash_output

    own = target_path(Path(result_dir) / REPORT_FILE)  # the folder's own report: matcher's
    target = own if out is None or target_path(out) == own else prepare_out(
        out, [(scenario, "scenario"), (result_dir, "result")], force, file=True,
        legacy=is_html_file)
    with progress("loading scenario"):
        p = load_problem(scenario)
    try:
        result = read_result(result_dir)
    except ScenarioError as e:
        fail(e.lines(cli_lang(p)))
    with claimed(own.parent if target == own else target):
        try:
            with progress("writing report"):
                written = finishing(lambda: write_report(p, result, target, lang=cli_lang(p)),
                                    target)
        except OSError as e:
            fail([msg("out.write_failed", path=str(target), reason=e.strerror or str(e))])
        if target == own:
            rehash_output(own.parent, REPORT_FILE)
    click.echo(label("cli.written", cli_lang(p), path=str(written)))


@cli.command()
@click.argument("scenario", type=click.Path())
@click.argument("result_dir", type=click.Path(file_okay=False))
@click.argument("student_id")
@click.option("--verify", type=WholeNumber(min=0), default=3, show_default=True,
              help="Re-solve to verify this many of the smallest changes (unassigned only).")
@click.option("--time-limit", type=SECONDS, default=None,
              help="Seconds per verifying re-solve (default: the result's, at most 30).")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@lang_option
def explain(scenario: str, result_dir: str, student_id: str, verify: int,
            time_limit: float | None, as_json: bool) -> None:
    """Explain one student's placement, or what would place an unassigned student."""
    import json

    from ..formats.resultdir import read_result
    from ..planning.explain import ExplainError
    from ..planning.explain import explain as explain_student

    with progress("loading scenario"):
        p = load_problem(scenario)
    lang = cli_lang(p)
    try:
        result = read_result(result_dir)
        exp = explain_student(p, result, student_id.strip(), verify=verify,
                              time_limit_s=time_limit, lang=lang)
    except ScenarioError as e:
        fail(e.lines(cli_lang()))
    except ExplainError as e:
        fail([render(e.message, lang)])
    if as_json:
        click.echo(json.dumps(exp.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(exp.text())


@cli.command()
@click.argument("result_dir", type=click.Path(file_okay=False))
@click.option("--scenario", type=click.Path(), default=None,
              help="Scenario folder or workbook (default: the one the manifest records).")
@click.option("--log", is_flag=True, help="Print solver progress to stderr.")
@lang_option
def verify(result_dir: str, scenario: str | None, log: bool) -> None:
    """Check every file of a result folder against its manifest.json and re-run it; exit 1
    unless every file is as written and the allocation is the same."""
    from ..planning.verify import main_lines, verify_result

    try:
        with progress("re-running from the manifest", enabled=False if log else None):
            rep = verify_result(result_dir, scenario, log=log)
    except ScenarioError as e:
        fail(e.lines(cli_lang()))
    click.echo(label("cli.verify.scenario", cli_lang(), scenario=str(rep.scenario)))
    head, *listed = main_lines(rep, cli_lang())
    click.echo(head)
    for note in rep.remarks:  # before the list: a time limit explains the differences
        click.echo(render(note, cli_lang(), severity=True))
    for line in listed:
        click.echo(line)
    if not rep.ok:
        sys.exit(1)


@cli.command("solvers")
def list_solvers() -> None:
    """List the registered solvers."""
    for name in solvers.names():
        click.echo(name + ("  (exact)" if name in solvers.EXACT else ""))


for _command in plan_commands():  # variant, compare, sweep, rolling, resolve (plan.py)
    cli.add_command(_command)
cli.add_command(ui)  # the web page (ui.py, matcher.web)


def main() -> None:
    """Entry point of the ``matcher`` command (SIGTERM and SIGHUP stop it as Ctrl-C does)."""
    raise_on_signals()
    cli(prog_name="matcher")
