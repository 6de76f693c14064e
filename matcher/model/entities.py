"""The entities of a problem and their settings: one frozen pydantic model per table row.

:class:`Frozen` is the base of every model (immutable, no unknown fields, finite numbers);
calling a model class with bad data raises :class:`~matcher.model.errors.ProblemError`, located
by table, row and column through :func:`validation_issues`. The whole problem, which holds these
entities and checks the rules that span its tables, is :class:`matcher.model.problem.Problem`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..messages import msg
from .errors import ProblemError, ProblemIssue, error_detail

if TYPE_CHECKING:  # type checkers keep pydantic's field-by-field constructor signatures
    from pydantic._internal._model_construction import ModelMetaclass as _Checked
else:
    class _Checked(type(BaseModel)):  # pydantic's model metaclass
        """Calling a model class (``Student(...)``, ``Problem(...)``) raises ProblemError.

        Only a direct call is wrapped: ``model_validate`` and the validation of nested entities
        keep pydantic's own errors, which the readers turn into located messages.
        """

        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().__call__(*args, **kwargs)
            except ValidationError as e:
                raise ProblemError(validation_issues(e, cls)) from None


class Frozen(BaseModel, metaclass=_Checked):
    """Base for every model: immutable, no unknown fields, finite numbers only."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def unique_ids(values: Iterable[str]) -> tuple[str, ...]:
    """Strip, drop blanks and duplicates, keep first-seen order."""
    # map/filter/dict.fromkeys loop in C: 100,000 rows of lists are validated at load time
    return tuple(dict.fromkeys(filter(None, map(str.strip, map(str, values)))))


_LIST_SEPARATORS = re.compile(r"[;；、]")
_TIE_SIGNS = re.compile(r"[=＝]")


def _no_ties(entries: list[Any] | tuple[Any, ...]) -> bool:
    """Whether every entry is a plain ``str`` without a tie sign (``=``, ``＝``)."""
    if not set(map(type, entries)) <= {str}:
        return False
    joined = "".join(entries)
    return "=" not in joined and "＝" not in joined


IdList = Annotated[tuple[str, ...], AfterValidator(unique_ids)]
"""A list cell: ids stripped, blanks and repeats dropped, first-seen order kept."""


class Policy(Frozen):
    """Practice-period policy (``policy:`` in ``scenario.yaml``)."""

    practice_months: int = Field(default=12, ge=1, le=120)
    experienced_practice_months: int = Field(default=6, ge=1, le=120)
    experienced_years: float = Field(default=2.0, ge=0, le=100)
    window: tuple[str, str] | None = None
    preferences_only: bool = False
    max_segments: int = Field(default=1, ge=1, le=12)
    """How many blocks of consecutive terms a student's practice may be split into (1: one
    block); a student's own ``max_segments`` overrides it."""
    min_segment_months: int | None = Field(default=None, ge=1, le=120)
    """Shortest block of a split practice, in months (default: ``term_months``)."""


POLICY_NAMES: dict[str, str] = {
    "objective": "objective", "默认": "objective", "整体最优": "objective",
    "priority": "priority", "score first": "priority", "分数优先": "priority",
    "分数优先，遵循志愿": "priority", "分数优先,遵循志愿": "priority",
}
"""How an allocation rule may be written (``solver.policy``), by the name it stands for."""


class SolverSettings(Frozen):
    """Solver defaults (``solver:`` in ``scenario.yaml``); CLI flags and API arguments override.

    Attributes
    ----------
    policy
        The allocation rule: ``objective`` (default: the most students placed, then the best
        preference ranks, by the chosen solver) or ``priority`` (score first, 分数优先，遵循志愿:
        students in order of priority, each taking the best choice still possible). Written
        also in Chinese (``分数优先``, ``整体最优``).
    """

    time_limit_s: float = Field(default=60.0, gt=0, le=7 * 24 * 3600)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    workers: int = Field(default=2, ge=1, le=256)
    policy: Literal["objective", "priority"] = "objective"
    deterministic: bool = False
    """Count work instead of wall time: the same result on any machine (issue 27)."""

    @field_validator("policy", mode="before")
    @classmethod
    def _policy_name(cls, v: Any) -> Any:
        return POLICY_NAMES.get(str(v).strip().lower(), v) if isinstance(v, str) else v


RANK_OBJECTIVES = ("sum", "profile", "minimax")
"""The forms of level 2 (``objective.rank``): the rank sum, the rank profile (rank-maximal),
the worst rank then the sum."""
RANK_NAMES: dict[str, str] = {
    "sum": "sum", "rank sum": "sum", "志愿总和": "sum", "志愿序号总和最小": "sum",
    "profile": "profile", "rank-maximal": "profile", "rank maximal": "profile",
    "志愿分布": "profile", "最多第一志愿": "profile", "志愿分布(最多第一志愿)": "profile",
    "志愿分布（最多第一志愿）": "profile",
    "minimax": "minimax", "worst rank": "minimax", "最差志愿最小": "minimax",
    "最差志愿最好": "minimax",
}
"""How a form of level 2 may be written (``objective.rank``), by the name it stands for."""


def rank_objective(value: Any) -> str | None:
    """The form of level 2 that ``value`` names (:data:`RANK_NAMES`), or None."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.replace("\u3000", " ").split()).lower()
    return RANK_NAMES.get(text) or RANK_NAMES.get(text.replace("（", "(").replace("）", ")"))


class ObjectiveSettings(Frozen):
    """The objective's settings (``objective:`` in ``scenario.yaml``).

    Attributes
    ----------
    pair_weight
        Reward placements whose campus supervisor and enterprise mentor are an existing
        collaboration listed in ``pairs.csv`` (sum of their weights, maximised).
    rank
        The form of level 2, after the most placed (issue 29): ``sum`` (default: the least
        rank sum, off-list K+1), ``profile`` (rank-maximal: the most first choices, then the
        most second choices, ...) or ``minimax`` (the best worst rank given to a placed
        student, then the least rank sum). Also written in Chinese (``志愿总和``,
        ``志愿分布``/``最多第一志愿``, ``最差志愿最小``).
    """

    pair_weight: bool = True
    rank: Literal["sum", "profile", "minimax"] = "sum"

    @field_validator("rank", mode="before")
    @classmethod
    def _rank_name(cls, v: Any) -> Any:
        found = rank_objective(v)
        if found is None:
            raise ProblemError([ProblemIssue.of("scenario", None, "objective.rank", msg(
                "objectives.bad_rank", value=str(v), choices="sum, profile, minimax"))])
        return found


class Student(Frozen):
    """One professional master's student (a row of ``students.csv``)."""

    student_id: str = Field(min_length=1)
    university_id: str = Field(min_length=1)
    discipline: str = Field(min_length=1)
    work_experience_years: float = Field(ge=0, le=80)
    preferences: tuple[str, ...] = ()
    supervisor_id: str | None = None
    priority: float = 0.0
    window_start: str | None = None
    window_end: str | None = None
    required_months: int | None = Field(default=None, ge=1, le=120)
    max_segments: int | None = Field(default=None, ge=1, le=12)
    preference_ranks: tuple[int, ...] = ()
    """The rank of each entry of ``preferences`` when some are tied (same length, starting at 1,
    each the same as the one before or one more); empty: strict order, ranks 1, 2, 3, ...
    Built from tie groups: ``preferences="W1;W2=W3;W4"`` or ``[["W1"], ["W2", "W3"], ["W4"]]``
    give ``("W1", "W2", "W3", "W4")`` with ranks ``(1, 2, 2, 3)``."""

    @model_validator(mode="before")
    @classmethod
    def _tie_groups(cls, data: Any) -> Any:
        """``W1;W2=W3;W4`` (a string, or entries joined by ``=``) or nested lists: tie groups."""
        if not isinstance(data, dict) or "preferences" not in data:
            return data
        prefs = data["preferences"]
        if isinstance(prefs, str):
            prefs = _LIST_SEPARATORS.split(prefs)
        if not isinstance(prefs, (list, tuple)):
            return data
        if _no_ties(prefs):
            # the common case (a province's 100,000 lists of plain ids, no ``=``): no group
            # has two names, so each entry is a group of its own and nothing is ranked
            cleaned = tuple(filter(None, map(str.strip, prefs)))
            if cleaned == prefs and type(prefs) is tuple:
                return data  # (as the loader gives it: no copy of the row's mapping)
            out = dict(data)
            out["preferences"] = cleaned
            return out
        groups: list[list[str]] = []
        for entry in prefs:
            names = ([str(x) for x in entry] if isinstance(entry, (list, tuple))
                     else _TIE_SIGNS.split(str(entry)))
            names = [x.strip() for x in names if x.strip()]
            if names:
                groups.append(names)
        flat = tuple(x for g in groups for x in g)
        out = dict(data)
        out["preferences"] = flat
        if any(len(g) > 1 for g in groups) and not data.get("preference_ranks"):
            out["preference_ranks"] = tuple(r for r, g in enumerate(groups, start=1) for _ in g)
        return out

    @model_validator(mode="after")
    def _ranks_fit(self) -> Student:
        ranks = self.preference_ranks
        if ranks and (len(ranks) != len(self.preferences) or ranks[0] != 1 or any(
                b - a not in (0, 1) for a, b in itertools.pairwise(ranks))):
            raise ValueError("preference_ranks must give one rank per preference, from 1, "
                             "each the same as the one before or one more")
        return self

    @property
    def ranks(self) -> dict[str, int]:
        """Workstation id -> its rank on the student's list (tied choices share a rank)."""
        if self.preference_ranks:
            return dict(zip(self.preferences, self.preference_ranks, strict=True))
        return {w: r for r, w in enumerate(self.preferences, start=1)}

    def without_choices(self, gone: set[str]) -> Student:
        """The student with the workstations ``gone`` struck from its list (ties kept)."""
        groups = [[w for w in g if w not in gone] for g in self.tie_groups]
        groups = [g for g in groups if g]
        ranks = tuple(r for r, g in enumerate(groups, start=1) for _ in g)
        flat = tuple(w for g in groups for w in g)
        tied = len(ranks) != len(set(ranks))
        return self.model_copy(update={"preferences": flat,
                                       "preference_ranks": ranks if tied else ()})

    @property
    def tie_groups(self) -> tuple[tuple[str, ...], ...]:
        """The list as groups of tied choices, best first (one each when nothing is tied)."""
        out: dict[int, list[str]] = {}
        for w, r in self.ranks.items():
            out.setdefault(r, []).append(w)
        return tuple(tuple(out[r]) for r in sorted(out))


class Workstation(Frozen):
    """An enterprise postgraduate workstation (a row of ``workstations.csv``)."""

    workstation_id: str = Field(min_length=1)
    disciplines: IdList = Field(min_length=1)
    capacity: int = Field(ge=0, le=1_000_000)
    partner_universities: IdList = ()
    city: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    min_intake: int = Field(default=0, ge=0, le=1_000_000)
    """If the workstation takes anyone, it takes at least this many students over the whole
    allocation (0: no minimum)."""


class Mentor(Frozen):
    """An enterprise mentor (a row of ``mentors.csv``); capacity is per term."""

    mentor_id: str = Field(min_length=1)
    workstation_id: str = Field(min_length=1)
    disciplines: IdList = Field(min_length=1)
    capacity: int = Field(ge=0, le=1_000_000)


class Supervisor(Frozen):
    """A campus supervisor (a row of ``supervisors.csv``); capacity is for the whole allocation."""

    supervisor_id: str = Field(min_length=1)
    university_id: str = Field(min_length=1)
    disciplines: IdList = Field(min_length=1)
    capacity: int = Field(ge=0, le=1_000_000)


class University(Frozen):
    """A university (a row of the optional ``universities.csv``)."""

    university_id: str = Field(min_length=1)
    name: str | None = None
    city: str | None = None


class TermCapacity(Frozen):
    """One term's capacity override for a workstation (``workstation_terms.csv``); 0 = closed."""

    workstation_id: str = Field(min_length=1)
    term: str = Field(min_length=1)
    capacity: int = Field(ge=0, le=1_000_000)


class Pair(Frozen):
    """An existing supervisor–mentor collaboration worth rewarding (``pairs.csv``)."""

    supervisor_id: str = Field(min_length=1)
    mentor_id: str = Field(min_length=1)
    weight: float = Field(gt=0, le=1_000_000)


class Lock(Frozen):
    """A fixed placement (``locks.csv``): the student must be placed at this workstation."""

    student_id: str = Field(min_length=1)
    workstation_id: str = Field(min_length=1)
    mentor_id: str | None = None
    start_term: str | None = None


class Ranking(Frozen):
    """A workstation's own rank of a student (``rankings.csv``); 1 is best."""

    workstation_id: str = Field(min_length=1)
    student_id: str = Field(min_length=1)
    rank: int = Field(ge=1, le=1_000_000)


class CarriedColumn(Frozen):
    """A column of the user's own that matcher does not use, kept to be shown with the results.

    A graduate office keeps names, notes and its own codes beside the columns matcher reads
    (``姓名``, ``工作站名称``, ``备注``). The loader keeps every such column of the tables whose
    rows have one id (students, workstations, mentors, supervisors, universities), in the
    order of the sheet or file, so that outputs (``results.xlsx``) can carry them through.

    Attributes
    ----------
    table
        The table: ``students``, ``workstations``, ``mentors``, ``supervisors`` or
        ``universities``.
    header
        The column's header as the user typed it (``姓名``).
    values
        ``(id, text)`` for every row of the table, in row order; the text as typed (an empty
        cell is ``""``; numbers and dates as the loader reads cells: ``3``, ``2026-09-01``).
    """

    table: str = Field(pattern="^(students|workstations|mentors|supervisors|universities)$")
    header: str = Field(min_length=1)
    values: tuple[tuple[str, str], ...] = ()

    def by_id(self) -> dict[str, str]:
        """The texts by id (the first row wins for an id given twice).

        Returns
        -------
        dict[str, str]
            Id -> text.
        """
        out: dict[str, str] = {}
        for key, text in self.values:
            out.setdefault(key, text)
        return out


class GroupMember(Frozen):
    """A student of a group kept together (a row of ``groups.csv``): the students of a group
    are placed at one workstation with one start term, or none of them is."""

    group_id: str = Field(min_length=1)
    student_id: str = Field(min_length=1)


class Veto(Frozen):
    """A placement that must never happen (a row of ``vetoes.csv``), e.g. a conflict of
    interest."""

    student_id: str = Field(min_length=1)
    workstation_id: str = Field(min_length=1)


TABLE_OF_FIELD: dict[str, str] = {
    "students": "students", "workstations": "workstations", "mentors": "mentors",
    "supervisors": "supervisors", "universities": "universities",
    "term_capacities": "workstation_terms", "pairs": "pairs", "locks": "locks",
    "rankings": "rankings", "groups": "groups", "vetoes": "vetoes", "quotas": "quotas",
}
"""Problem field -> the table its rows come from (the other fields are ``scenario`` settings)."""

_ENTITY_TABLE: dict[type[BaseModel], str] = {
    Student: "students", Workstation: "workstations", Mentor: "mentors",
    Supervisor: "supervisors", University: "universities", TermCapacity: "workstation_terms",
    Pair: "pairs", Lock: "locks", Ranking: "rankings", GroupMember: "groups", Veto: "vetoes",
}


def register_table(model: type[BaseModel], table: str) -> None:
    """Locate the field errors of ``model`` (an entity defined in its own module, such as
    :class:`matcher.model.quotas.Quota`) by ``table``, like the entities above."""
    _ENTITY_TABLE[model] = table


_SETTINGS_SECTION: dict[type[BaseModel], str] = {
    Policy: "policy", SolverSettings: "solver", ObjectiveSettings: "objective"}


def validation_issues(error: ValidationError, model: type[BaseModel]) -> list[ProblemIssue]:
    """The issues of a pydantic error raised while building ``model``, located by table.

    A problem's cross-table issues (:func:`cross_check`) come back as they are; a field error
    is located by its table, row and column (settings by ``scenario`` and the setting's path).
    """
    out: list[ProblemIssue] = []
    for err in error.errors():
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ProblemError):
            out += cause.issues
            continue
        loc = [str(x) if not isinstance(x, int) else x for x in err["loc"]]
        detail = error_detail(err)
        if model in _ENTITY_TABLE:
            column = str(loc[0]) if loc else None
            out.append(ProblemIssue.of(_ENTITY_TABLE[model], None, column, detail))
        elif model in _SETTINGS_SECTION:
            path = ".".join(map(str, [_SETTINGS_SECTION[model], *loc]))
            out.append(ProblemIssue.of("scenario", None, path, detail))
        elif loc and loc[0] in TABLE_OF_FIELD:
            row = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
            column = str(loc[2]) if len(loc) > 2 else None
            out.append(ProblemIssue.of(TABLE_OF_FIELD[str(loc[0])], row, column, detail))
        else:
            out.append(ProblemIssue.of("scenario", None, ".".join(map(str, loc)) or None,
                                       detail))
    return out
