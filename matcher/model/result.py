"""The result: one type for every solver (Result, Placement), with an honest Status."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..messages import Lang, Message

ASSIGNMENT_COLUMNS = ["student_id", "workstation_id", "mentor_id", "supervisor_id", "start_term",
                      "end_term", "preference_rank", "terms"]
TERM_SEPARATOR = ";"
"""Separates the terms of a placement in ``assignments.csv``'s ``terms`` column."""

Reason = str | Message
"""Why a student is unassigned: a structured message from a solver (code ``reason.*``, worded
in either language when shown), or plain text read back from a written ``unassigned.csv``."""


def reason_text(reason: Reason, lang: Lang = "en") -> str:
    """A reason as text in ``lang`` (text read from a folder stays as it was written).

    Parameters
    ----------
    reason
        A message or text.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The reason's sentence.
    """
    return reason.text(lang) if isinstance(reason, Message) else reason


class Status(enum.StrEnum):
    """How much a result proves.

    OPTIMAL
        Every objective level is proven optimal.
    FEASIBLE
        The allocation keeps every rule; optimality is not proven (a heuristic, a time limit).
    INFEASIBLE
        Proven: no allocation keeps every rule (for example, the locks cannot all be honoured).
    UNKNOWN
        Nothing was found or proven within the limits.
    """

    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Placement:
    """One student's placement, in ids (term labels inclusive).

    ``terms`` lists every term of the practice in calendar order (a split practice has gaps
    between ``start_term`` and ``end_term``); empty (a result read from an older folder) means
    every term from ``start_term`` to ``end_term``: use :meth:`covered`.
    """

    student_id: str
    workstation_id: str
    mentor_id: str
    supervisor_id: str
    start_term: str
    end_term: str
    preference_rank: int | None
    terms: tuple[str, ...] = ()

    def row(self) -> dict[str, str]:
        """The placement as an ``assignments.csv`` row of strings (the rows
        :func:`matcher.check` and :func:`matcher.explain` take)."""
        return {"student_id": self.student_id, "workstation_id": self.workstation_id,
                "mentor_id": self.mentor_id, "supervisor_id": self.supervisor_id,
                "start_term": self.start_term, "end_term": self.end_term,
                "preference_rank": "" if self.preference_rank is None
                else str(self.preference_rank), "terms": TERM_SEPARATOR.join(self.terms)}

    def covered(self, calendar: Sequence[str]) -> list[str]:
        """The terms of the practice, given the scenario's terms in calendar order (terms not
        in it are left out)."""
        if self.terms:
            return [t for t in self.terms if t in calendar]
        if self.start_term not in calendar or self.end_term not in calendar:
            return []
        order = list(calendar)
        return order[order.index(self.start_term):order.index(self.end_term) + 1]


@dataclass(frozen=True)
class Result:
    """What a solver returns.

    Attributes
    ----------
    solver
        Registry name of the solver.
    status
        See :class:`Status`. A heuristic never reports OPTIMAL.
    placements
        Placements sorted by student id.
    unassigned
        ``(student_id, reason)`` pairs sorted by student id. A solver gives each reason as a
        :class:`~matcher.messages.Message` (``reason.*`` codes, worded in Chinese or English
        where it is shown: :meth:`reasons`); a result read back from a folder has the text
        written there.
    placed, rank_cost, pair_weight
        Objective levels 1–3 of this allocation.
    placed_upper_bound
        Proven: no allocation places more students (None when nothing is proven).
    rank_cost_lower_bound
        Proven: no allocation placing ``placed`` students has a lower rank cost (None when
        nothing is proven).
    wall_seconds
        Time spent in the solver.
    seed, workers, time_limit_s
        The configuration used.
    input_sha256
        Hash of the input files.
    stats
        Solver-specific figures (model size, stage times, ...).
    message
        A human-readable note (why infeasible, why stopped).
    deterministic
        The run counted work instead of wall time (``SolverConfig.deterministic``): with the
        same input, seed, workers and time limit it gives the same result on any machine.
    work_seconds
        A deterministic run's work, in reference seconds (about its wall time on the reference
        machine); None otherwise. Its ``summary.json`` records this instead of the wall time,
        and every time in its ``stats`` is counted the same way, so that the file is the same
        on every machine.
    quotas
        Issue 29: each group quota of ``quotas.csv`` measured on this allocation (``row``,
        ``workstation_id``, ``selector``, ``value``, ``hard``, ``count``, ``total``, ``share``,
        ``shortfall`` in students, ``met``); empty without quotas. ``summary.json`` has them
        under ``quotas`` (only when there are quotas), and ``matcher check`` re-derives them.
    """

    solver: str
    status: Status
    placements: tuple[Placement, ...]
    unassigned: tuple[tuple[str, Reason], ...]
    placed: int
    rank_cost: int
    pair_weight: float
    placed_upper_bound: int | None
    rank_cost_lower_bound: int | None
    wall_seconds: float
    seed: int
    workers: int
    time_limit_s: float
    input_sha256: str
    stats: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    deterministic: bool = False
    work_seconds: float | None = None
    quotas: tuple[dict[str, Any], ...] = ()

    @property
    def assignments(self) -> pd.DataFrame:
        """Placements as a DataFrame with the ``assignments.csv`` columns."""
        rows = [vars(p) | {"terms": TERM_SEPARATOR.join(p.terms)} for p in self.placements]
        frame = pd.DataFrame(rows, columns=ASSIGNMENT_COLUMNS)
        frame["preference_rank"] = frame["preference_rank"].astype("Int64")
        return frame

    @property
    def unassigned_frame(self) -> pd.DataFrame:
        """Unassigned students and their reasons (in English) as a DataFrame."""
        return self.unassigned_table("en")

    def unassigned_table(self, lang: Lang) -> pd.DataFrame:
        """Unassigned students and their reasons in ``lang``: the ``unassigned.csv`` columns.

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.

        Returns
        -------
        pandas.DataFrame
            Columns ``student_id`` and ``reason``.
        """
        return pd.DataFrame(self.reasons(lang), columns=["student_id", "reason"])

    def reasons(self, lang: Lang = "en") -> list[tuple[str, str]]:
        """``(student_id, reason)`` pairs with each reason worded in ``lang``.

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.

        Returns
        -------
        list of tuple
            In the order of :attr:`unassigned` (by student id).
        """
        return [(sid, reason_text(r, lang)) for sid, r in self.unassigned]

    @property
    def first_choice_share(self) -> float:
        """Share of placed students at their first choice (0 when none placed)."""
        if not self.placements:
            return 0.0
        return sum(p.preference_rank == 1 for p in self.placements) / len(self.placements)

    @property
    def rank_gap(self) -> float | None:
        """Relative gap of the rank cost to its proven lower bound (None without a bound)."""
        if self.rank_cost_lower_bound is None:
            return None
        if self.rank_cost == 0:
            return 0.0
        return max(0.0, (self.rank_cost - self.rank_cost_lower_bound) / self.rank_cost)

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` content (stable key order)."""
        top3 = sum(1 for p in self.placements if p.preference_rank is not None
                   and p.preference_rank <= 3)
        return {
            "status": self.status.value,
            "solver": self.solver,
            "placed": self.placed,
            "unassigned": len(self.unassigned),
            "rank_cost": self.rank_cost,
            "pair_weight": round(self.pair_weight, 6),
            "placed_upper_bound": self.placed_upper_bound,
            "rank_cost_lower_bound": self.rank_cost_lower_bound,
            "rank_cost_gap": None if self.rank_gap is None else round(self.rank_gap, 6),
            "first_choice_share": round(self.first_choice_share, 6),
            "top3_share": round(top3 / len(self.placements), 6) if self.placements else 0.0,
            **({"deterministic": True, "work_seconds": round(self.work_seconds or 0.0, 3)}
               if self.deterministic else {"wall_seconds": round(self.wall_seconds, 3)}),
            "seed": self.seed,
            "workers": self.workers,
            "time_limit_s": self.time_limit_s,
            "input_sha256": self.input_sha256,
            "message": self.message,
            **({"quotas": [dict(q) for q in self.quotas]} if self.quotas else {}),
            "stats": self.stats,
        }
