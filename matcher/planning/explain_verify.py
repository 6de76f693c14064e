"""Verifying a change suggested by ``matcher explain``: that the student fits next to the current
allocation in the changed problem (:func:`keeps_rules`, by the independent checker), then
re-solving the changed problem to see whether the student is placed (:class:`Verifier`), in the
explanation's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..check import CheckReport, check
from ..messages import Lang, label
from ..model import Lock, Placement, Problem, Result, Status

__all__ = ["Verdict", "Verifier", "keeps_rules", "with_fields"]

Verdict = tuple[bool, str, str]
"""(verified, what the re-solves did in words, ``re-solve`` / ``re-solve with a lock`` / "")."""


def with_fields(problem: Problem, **update: Any) -> Problem:
    """A copy of the frozen, validated problem with some fields replaced, as explain changes it:
    a capacity one higher, a mentor or supervisor with a fresh id, a wider window, a lock where
    the student fits. Such changes keep every rule of the problem's validation, so the
    cross-checks of the whole problem are not run again (at 100,000 students they took 7 s a
    change); the entities themselves are validated (tests/planning/test_explain_fast.py shows
    the copies pass the full validation)."""
    fields = {name: getattr(problem, name) for name in type(problem).model_fields}
    return Problem.model_validate({**fields, **update}, context={"cross_checked": True})


def keeps_rules(changed: Problem, rows: list[dict[str, str]], new: Mapping[str, str],
                baseline: CheckReport) -> bool:
    """Whether the allocation ``rows`` plus the student's ``new`` row keeps every rule of the
    ``changed`` problem that the allocation kept in the original one (``baseline``: the
    checker's report on it), by the independent checker.

    When the allocation broke no rule and no rule couples students across workstations or
    counts a workstation's students from below (group quotas, groups, minimum intakes), the
    checker looks only at the students the new row meets: those at its
    workstation (hence its mentors) and those of its supervisor, with every workstation, mentor
    and supervisor. Every limit the new row uses (the workstation's and the mentor's terms, the
    supervisor's students) is then counted whole; the other rows are as in the baseline. This
    gives the same verdict as checking the whole allocation, at a province's scale in a fraction
    of a second instead of seconds a change.
    """
    witness = [*rows, dict(new)]
    if (baseline.issues or changed.quotas or changed.groups
            or any(w.min_intake > 1 for w in changed.workstations)):
        return set(check(changed, witness).issues) <= set(baseline.issues)
    wid, sup = new["workstation_id"], new["supervisor_id"]
    keep = {new["student_id"]} | {r.get("student_id", "") for r in rows
                                  if r.get("workstation_id") == wid
                                  or r.get("supervisor_id") == sup}
    part = changed.model_copy(update={
        "students": tuple(x for x in changed.students if x.student_id in keep),
        "locks": tuple(x for x in changed.locks if x.student_id in keep),
        "rankings": tuple(x for x in changed.rankings if x.student_id in keep),
        "vetoes": tuple(x for x in changed.vetoes if x.student_id in keep)})
    return check(part, [r for r in witness if r.get("student_id") in keep]).ok


class Verifier:
    """Re-solves changed problems to confirm that a change places the student."""

    def __init__(self, student_id: str, placed_before: int, solver: str, time_limit_s: float,
                 seed: int, workers: int, solve: Any, lang: Lang = "en"):
        self.lang = lang
        self.sid = student_id
        self.before = placed_before
        self.solver = solver
        self.limit = time_limit_s
        self.seed = seed
        self.workers = workers
        self.solve = solve

    def _run(self, problem: Problem) -> tuple[Result, Placement | None]:
        res: Result = self.solve(problem, self.solver, time_limit_s=self.limit, seed=self.seed,
                                 workers=self.workers)
        return res, next((pl for pl in res.placements if pl.student_id == self.sid), None)

    def verify(self, problem: Problem, workstation_id: str, terms: tuple[str, ...],
               may_lock: bool) -> Verdict:
        """The verdict on a changed problem: first a plain re-solve, then one with the student
        locked at ``workstation_id`` from the first of ``terms``."""

        def t(code: str, **values: Any) -> str:
            return label(code, self.lang, **values)

        res, got = self._run(problem)
        head = t("explain.verify.head", solver=self.solver, status=res.status.value,
                 seconds=f"{res.wall_seconds:.1f}", limit=f"{self.limit:g}")
        if got is not None:
            text = head + t("explain.verify.placed", student=self.sid,
                            workstation=got.workstation_id, start=got.start_term,
                            end=got.end_term, placed=res.placed, before=self.before)
            return True, text, "re-solve"
        if res.status in (Status.UNKNOWN, Status.INFEASIBLE):
            text = head + t("explain.verify.nothing")
            return False, text, ""
        text = head + t("explain.verify.still", student=self.sid, placed=res.placed,
                        before=self.before)
        if not may_lock:
            return False, text, ""
        # the room went to someone else: would the change place the student if the office
        # also locked them there, without placing fewer students in all?
        lock = Lock(student_id=self.sid, workstation_id=workstation_id,
                    start_term=terms[0])
        locked_problem = with_fields(problem, locks=(*problem.locks, lock))
        res2, got2 = self._run(locked_problem)
        if got2 is not None and res2.placed >= res.placed:
            text += t("explain.verify.lock_ok", student=self.sid, workstation=workstation_id,
                      term=terms[0], status=res2.status.value,
                      seconds=f"{res2.wall_seconds:.1f}", placed=res2.placed)
            return True, text, "re-solve with a lock"
        text += t("explain.verify.lock_fail" if got2 is not None
                  else "explain.verify.lock_fail_unplaced", student=self.sid,
                  workstation=workstation_id, status=res2.status.value, placed=res2.placed)
        return False, text, ""
