"""A result in words, in Chinese or English: its status, exactly what is proven, the summary.

Shared by the command line's solve summary, ``report.html`` and ``results.xlsx`` so that all
three say the same thing:

* :func:`status_word`: ``OPTIMAL`` / ``最优`` and so on;
* :func:`proof`: what the result proves, level by level (``levels 1-2 proven optimal (placed,
  rank cost); pair weight not proven``), from the bounds and the solver's stats, never from
  the status alone (an OPTIMAL result may leave the pair weight unproven);
* :func:`summary_lines`: the lines ``matcher solve`` prints.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from ..messages import Lang, Message, label, msg
from ..model import Problem, Result, Status

__all__ = ["pair_weight_used", "proof", "status_word", "summary_lines", "text_width"]

_STATUS_CODE = {Status.OPTIMAL: "status.optimal", Status.FEASIBLE: "status.feasible",
                Status.INFEASIBLE: "status.infeasible", Status.UNKNOWN: "status.unknown"}
_LABEL_COLUMN = {"en": 12, "zh": 14}  # where the values of the summary start (display columns)


def status_word(status: Status, lang: Lang) -> str:
    """The status as a word: ``OPTIMAL`` in English, ``最优`` in Chinese.

    Parameters
    ----------
    status
        The result's status.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The word (labels ``status.optimal``, ``status.feasible``, ...).
    """
    code = _STATUS_CODE[status]
    return label(code, lang)


def status_text(value: object, lang: Lang) -> str:
    """A status as read from a file (``"FEASIBLE"``) in words (:func:`status_word`), or the
    text as read when it is not a status (an older or damaged summary).

    Parameters
    ----------
    value
        The status as read.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        ``可行`` / ``FEASIBLE``, ... or ``str(value)``.
    """
    try:
        return status_word(Status(str(value)), lang)
    except ValueError:
        return str(value)


def pair_weight_used(result: Result, problem: Problem | None) -> bool:
    """Whether the third objective level (the pair weight) counts in this result.

    It counts when the scenario rewards pairs (``objective.pair_weight``) and lists some; without
    the problem, when the solver reported on it (``stats["pair_weight_proven"]``).
    """
    if problem is not None:
        return bool(problem.objective.pair_weight and problem.pairs)
    return "pair_weight_proven" in (result.stats or {})


def proof(result: Result, problem: Problem | None = None) -> Message:
    """Exactly what the result proves, as one message (codes ``proof.*``).

    Level 1 (placed) is proven when the placed upper bound equals the number placed; level 2
    (rank cost) when, with level 1 proven, the rank-cost lower bound equals the rank cost;
    level 3 (pair weight) when the solver says so (``stats["pair_weight_proven"]``; a result
    that does not use pairs has nothing to prove there).

    Parameters
    ----------
    result
        A solver's result, or one read back from a folder.
    problem
        The problem, to know whether the pair weight counts (see :func:`pair_weight_used`).

    Returns
    -------
    Message
        E.g. ``proof.levels_12_pair_open``: "levels 1-2 proven optimal (placed, rank cost);
        pair weight not proven".
    """
    if result.status == Status.INFEASIBLE:
        return msg("proof.infeasible", severity="note")
    if result.status == Status.UNKNOWN and not result.placements:
        return msg("proof.unknown", severity="note")
    ub, lb = result.placed_upper_bound, result.rank_cost_lower_bound
    if ub is None or ub > result.placed:
        bound: str | Message = (msg("proof.placed_bound", bound=ub) if ub is not None
                                else msg("proof.no_placed_bound"))
        return msg("proof.placed_open", severity="note", bound=bound)
    block = (result.stats or {}).get("rank_objective")
    if isinstance(block, dict):  # level 2 as a profile or the worst rank (issue 29)
        return _rank_proof(result, problem, block)
    if lb is None or lb < result.rank_cost:
        gap: str | Message = (msg("proof.gap", gap=_percent(result.rank_gap or 0.0, 3), bound=lb)
                              if lb is not None else msg("proof.no_bound"))
        return msg("proof.placed_only", severity="note", gap=gap)
    if not pair_weight_used(result, problem):
        return msg("proof.levels_12", severity="note")
    if (result.stats or {}).get("pair_weight_proven", True) is False:
        return msg("proof.levels_12_pair_open", severity="note")
    return msg("proof.all", severity="note")


def _percent(share: float, digits: int = 1) -> str:
    return f"{share:.{digits}%}"


def text_width(text: str) -> int:
    """Display columns of text on a terminal or in a spreadsheet (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _rank_proof(result: Result, problem: Problem | None, block: dict[str, Any]) -> Message:
    """:func:`proof` when level 2 is the profile or the worst rank (``stats.rank_objective``),
    placed being proven."""
    form = msg(f"objectives.form.{block.get('form')}") if block.get("form") in (
        "profile", "minimax") else str(block.get("form"))
    upto = block.get("levels_proven")
    if block.get("proven") is not True and isinstance(upto, int) and upto > 0:
        # (the profile one rank at a time: which ranks are proven, and the next one's bound)
        nxt = next((b for b in block.get("level_bounds", []) if b.get("rank") == upto + 1
                    and isinstance(b.get("above_at_least"), int)), None)
        placed = sum(int(n) for n in block.get("profile", []))
        rest: str | Message = msg("proof.no_bound") if nxt is None else msg(
            "objectives.next_rank_bound", rank=upto + 1, most=placed - nxt["above_at_least"],
            now=placed - int(nxt["above"]))
        return msg("objectives.proof.profile_levels", severity="note", upto=upto, rest=rest)
    if block.get("proven") is not True:
        gap = block.get("gap")
        return msg("objectives.proof.open", severity="note", form=form, gap=(
            msg("objectives.gap", gap=_percent(float(gap), 3)) if isinstance(gap, int | float)
            else msg("proof.no_bound")))
    if not pair_weight_used(result, problem):
        return msg("objectives.proof.levels_12", severity="note", form=form)
    if (result.stats or {}).get("pair_weight_proven", True) is False:
        return msg("objectives.proof.pair_open", severity="note", form=form)
    return msg("objectives.proof.all", severity="note", form=form)


def rank_objective_text(result: Result, lang: Lang) -> str | None:
    """Level 2's value in its form, one line (None when level 2 is the rank sum): the profile
    (how many got each rank) or the worst rank and the sum."""
    block = (result.stats or {}).get("rank_objective")
    if not isinstance(block, dict) or not isinstance(block.get("profile"), list):
        return None
    prof = [int(n) for n in block["profile"]]
    parts = [label("objectives.rank_count", lang, rank=r, count=n)
             for r, n in enumerate(prof[:-1], start=1)]
    parts.append(label("objectives.off_count", lang, count=prof[-1] if prof else 0))
    shown = label("objectives.list_sep", lang).join(parts)
    if block.get("form") == "minimax":
        return label("objectives.value.minimax", lang, worst=block.get("worst_rank", 0),
                     total=block.get("rank_sum", 0), profile=shown)
    return label("objectives.value.profile", lang, profile=shown)


def _line(code: str, value: str, lang: Lang) -> str:
    name = label(code, lang)
    return name + " " * max(1, _LABEL_COLUMN[lang] - text_width(name)) + value


def summary_lines(result: Result, n_students: int, written: Path | None, lang: Lang,
                  problem: Problem | None = None) -> list[str]:
    """The summary ``matcher solve`` prints: status, placed, first choice, rank cost, proof.

    Parameters
    ----------
    result
        The result.
    n_students
        Students in the problem.
    written
        The result folder written (None: not written).
    lang
        ``"zh"`` or ``"en"``.
    problem
        The problem, to say whether the pair weight counts.

    Returns
    -------
    list[str]
        One string per line, labels aligned.
    """
    r = result
    proven_s = r.stats.get("proven_seconds")
    proven_at = (label("solve.summary.proven_at", lang, seconds=float(proven_s))
                 if isinstance(proven_s, int | float) else "")
    if r.deterministic and r.work_seconds is not None:
        proven_at = label("solve.summary.work", lang, seconds=r.work_seconds) + proven_at
    lines = [_line("solve.label.status", label(
        "solve.summary.status", lang, status=status_word(r.status, lang), solver=r.solver,
        seconds=r.wall_seconds, proven_at=proven_at), lang)]
    if r.stats.get("policy") == "priority":  # score first: say which rule made this allocation
        lines.append(_line("fairness.label.policy", label("fairness.policy.priority", lang),
                           lang))
    ub = r.placed_upper_bound
    lines.append(_line("solve.label.placed", label(
        "solve.summary.placed", lang, placed=r.placed, total=n_students,
        bound=label("solve.summary.placed_bound", lang, bound=ub) if ub is not None else ""),
        lang))
    lines.append(_line("solve.label.first_choice", label(
        "solve.summary.first_choice", lang, share=_percent(r.first_choice_share)), lang))
    gap = r.rank_gap
    lb = r.rank_cost_lower_bound
    lines.append(_line("solve.label.rank_cost", label(
        "solve.summary.rank_cost", lang, cost=r.rank_cost,
        bound=label("solve.summary.rank_bound", lang, bound=lb, gap=_percent(gap, 3))
        if gap is not None and lb is not None else ""), lang))
    ranked = rank_objective_text(r, lang)
    if ranked is not None:
        lines.append(_line("objectives.label.rank", ranked, lang))
    if r.pair_weight:
        lines.append(_line("solve.label.pair_weight", f"{r.pair_weight:g}", lang))
    lines.append(_line("solve.label.proven", proof(r, problem).text(lang), lang))
    note = (r.stats or {}).get("note")
    if isinstance(note, dict) and note.get("code") == "quotas.refuse":  # (issue 29, in words)
        lines.append(_line("solve.label.note", msg("quotas.refuse", solver=note.get(
            "solver", r.solver), why=msg(str(note.get("why")))).text(lang), lang))
    elif r.message:
        lines.append(_line("solve.label.note", r.message, lang))
    if written is not None:
        lines.append(_line("solve.label.written", str(written), lang))
    return lines
