"""A library caller's script: the public API type-checks (tests/typing/test_public_api.py)."""

from pathlib import Path

import matcher

problem: matcher.Problem = matcher.load_scenario(Path("scenarios/tiny"))
copy = matcher.Problem(name="copy", terms=problem.terms, students=problem.students,
                       workstations=problem.workstations, mentors=problem.mentors,
                       supervisors=problem.supervisors, term_months=problem.term_months)
result: matcher.Result = matcher.solve(copy, "greedy", time_limit_s=5.0, seed=0)
report: matcher.CheckReport = matcher.check(copy, result)
ok: bool = report.ok and result.status is matcher.Status.FEASIBLE
out: Path = matcher.write_result(result, Path("out"), force=True, problem=copy)
again: matcher.Result = matcher.read_result(out)
solvers: list[str] = matcher.solvers.names()
