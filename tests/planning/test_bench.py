"""Tests of the benchmark suite (:mod:`matcher.planning.bench`) and the ``matcher bench`` command.

They run the real pipeline (tier generation and caching, one process per solver, checker,
CSV and Markdown) on a tiny test-only tier, so they stay fast.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher import solvers
from matcher.cli import cli
from matcher.planning import bench
from matcher.planning.bench import COLUMNS, Tier, run_bench, tier_scenario

TINY_TIER = Tier("T", students=40, workstations=6, universities=2, seed=3, time_limit_s=10.0)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> bench.BenchReport:
    """Every registered solver benchmarked once on the tiny tier."""
    root = tmp_path_factory.mktemp("bench")
    return run_bench(TINY_TIER, solvers.names(), out_dir=root / "out",
                     tiers_dir=root / "tiers", workers=1)


def _csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_csv_has_the_columns_and_one_row_per_solver(report: bench.BenchReport) -> None:
    """results.csv has exactly the documented columns and one row per solver, in order."""
    header, rows = _csv_rows(report.out_dir / "results.csv")
    assert header == COLUMNS
    assert [r["solver"] for r in rows] == solvers.names()
    for r in rows:
        assert r["tier"] == "T" and r["students"] == "40" and r["workstations"] == "6"
        assert r["checker"] == "ok", r
        assert r["status"] in {"OPTIMAL", "FEASIBLE"}, r
        assert float(r["peak_rss_mib"]) > 0
        assert float(r["cpu_s"]) > 0  # (loading and solving: processor time, beside the wall)
        assert r["machine"] and r["python"]
        assert 0 <= float(r["first_choice_share"]) <= float(r["top3_share"]) <= 1


def test_proofs_agree_across_solvers(report: bench.BenchReport) -> None:
    """cpsat and milp prove the same optimum on the tiny tier; no run beats any proven bound."""
    by_name = {r["solver"]: r for r in report.rows}
    for name in ("cpsat", "milp"):
        assert by_name[name]["status"] == "OPTIMAL", by_name[name]["message"]
        assert by_name[name]["placed_gap"] == 0 and by_name[name]["rank_gap"] == 0
    optimal = [r for r in report.rows if r["status"] == "OPTIMAL"]
    assert len({(r["placed"], r["rank_cost"]) for r in optimal}) == 1
    best = by_name["cpsat"]
    assert 0 < best["proven_s"] <= best["solve_s"]  # when levels 1-2 were proven, recorded
    for r in report.rows:
        assert r["placed"] <= best["placed_upper_bound"]
        assert (r["placed"], -r["rank_cost"]) <= (best["placed"], -best["rank_cost"])
        if r["placed_upper_bound"] is not None:
            assert best["placed"] <= r["placed_upper_bound"], r


def test_markdown_table_lists_every_run(report: bench.BenchReport) -> None:
    """results.md holds the table (a line per run), the command and the machine."""
    text = (report.out_dir / "results.md").read_text(encoding="utf-8")
    assert text == report.markdown
    assert "| solver | status | placed |" in text
    for name in solvers.names():
        assert f"| {name} | " in text
    assert "Command: `matcher bench --tier T" in text and "Machine:" in text
    assert (report.out_dir / "logs" / "greedy.log").is_file()


def test_tier_is_cached(tmp_path: Path) -> None:
    """A generated tier is reused; a changed stamp (e.g. a new generator) regenerates it."""
    folder = tier_scenario(TINY_TIER, tmp_path)
    mtime = (folder / "students.csv").stat().st_mtime_ns
    assert tier_scenario(TINY_TIER, tmp_path) == folder
    assert (folder / "students.csv").stat().st_mtime_ns == mtime
    (folder / "tier.json").write_text("{}", encoding="utf-8")
    tier_scenario(TINY_TIER, tmp_path)
    assert (folder / "tier.json").read_text(encoding="utf-8") != "{}"


def test_a_crashing_run_becomes_a_row(tmp_path: Path) -> None:
    """A run whose process fails gives a CRASH row with the reason, not a failed benchmark."""
    row = bench._spawn_run(tmp_path / "missing", "greedy", 5.0, 0, 1, tmp_path / "log.txt")
    assert row["status"] == "CRASH"
    assert "exit" in row["message"] and "log.txt" in row["message"]


def test_cli_unknown_solver_is_exit_2(tmp_path: Path) -> None:
    """An unknown solver name is a one-line error, exit 2, and nothing is written."""
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["bench", "--tier", "S", "--solvers", "greedy,nope",
                                 "--out", str(out)])
    assert r.exit_code == 2
    assert "unknown solver 'nope'" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_cli_unknown_tier_is_exit_2(tmp_path: Path) -> None:
    """An unknown tier is a one-line error naming the tiers, exit 2."""
    r = CliRunner().invoke(cli, ["bench", "--tier", "XXL", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert "unknown tier 'XXL'; choose one of: S, M, L, XL" in r.output


def test_cli_refuses_a_non_empty_out(tmp_path: Path) -> None:
    """An existing non-empty --out folder is refused (exit 2) unless --force."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x", encoding="utf-8")
    r = CliRunner().invoke(cli, ["bench", "--tier", "S", "--solvers", "greedy", "--out",
                                 str(out)])
    assert r.exit_code == 2 and "--force" in r.output


def test_cli_bench_prints_and_writes_the_table(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`matcher bench --tier S --solvers greedy` prints the table and writes CSV and Markdown
    (tier S swapped for the tiny tier, tiers cached under the working folder)."""
    monkeypatch.setitem(bench.TIERS, "S", Tier("S", 40, 6, 2, 3, 10.0))
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["bench", "--tier", "s", "--solvers", "greedy",
                                 "--out", "run"])
    assert r.exit_code == 0, r.output + r.stderr
    assert "| greedy | FEASIBLE |" in r.stdout
    assert "[1/1] greedy: FEASIBLE" in r.stderr
    _header, rows = _csv_rows(tmp_path / "run" / "results.csv")
    assert [row["solver"] for row in rows] == ["greedy"]
    assert (tmp_path / "benchmarks" / "tiers" / "S-40x6-s3" / "tier.json").is_file()


def test_plain_ratio_compares_cpsat_with_the_plain_model() -> None:
    """The ratio line divides cpsat's time, memory and rank cost by the plain model's (same
    placed), says why when the plain model found nothing, and is absent without both rows."""
    from matcher.planning.bench import plain_ratio

    ours = {"solver": "cpsat", "status": "OPTIMAL", "placed": 10, "rank_cost": 30,
            "solve_s": 2.0, "peak_rss_mib": 100.0}
    plain = {"solver": "plain", "status": "FEASIBLE", "placed": 10, "rank_cost": 40,
             "solve_s": 8.0, "peak_rss_mib": 400.0}
    assert plain_ratio([ours, plain]) == {"solve_s": 0.25, "peak_rss_mib": 0.25,
                                          "rank_cost": 0.75}
    failed = {**plain, "status": "UNKNOWN", "message": "plain model not built"}
    ratio = plain_ratio([ours, failed])
    assert ratio is not None and "rank_cost" not in ratio
    assert ratio["plain"] == "UNKNOWN: plain model not built"
    assert plain_ratio([ours]) is None
    skipped = {**plain, "status": "UNKNOWN", "message": "plain model not built: 9 booleans"}
    assert plain_ratio([ours, skipped]) == {"plain": "UNKNOWN: plain model not built: 9 booleans"}


def test_a_deterministic_bench_gives_the_same_rows_twice(tmp_path: Path) -> None:
    """``deterministic=True`` (``matcher bench --deterministic``) runs each solver with its
    time limit as a work budget: two benchmarks give the same statuses, allocations' figures
    and counted work (only times and memory may differ), the table shows the work and the
    command the option."""
    runs = [run_bench(TINY_TIER, ["cpsat", "flow"], out_dir=tmp_path / f"out{k}",
                      tiers_dir=tmp_path / "tiers", workers=1, time_limit_s=0.5,
                      deterministic=True) for k in range(2)]
    same = ("status", "placed", "placed_upper_bound", "rank_cost", "rank_cost_lower_bound",
            "deterministic", "work_s")
    assert [[r[k] for k in same] for r in runs[0].rows] == [[r[k] for k in same]
                                                             for r in runs[1].rows]
    for row in runs[0].rows:
        assert row["deterministic"] is True and row["work_s"] is not None, row
        assert row["checker"] == "ok"
    assert "| work s |" in runs[0].markdown
    assert "--deterministic`" in runs[0].markdown
