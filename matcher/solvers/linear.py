"""A small backend-neutral linear model: columns with bounds, integrality and names, rows by family.

The aggregated model (:mod:`matcher.solvers.aggregate`) is written once into a
:class:`LinearModel`; each engine turns it into its own form. HiGHS reads the columns and rows
as arrays (:meth:`LinearModel.arrays`); CP-SAT gets each column and row as it is made, through a
:class:`Sink` (:mod:`matcher.solvers.cpsat_model`), so that its own constraints (which HiGHS
does not have) can be put between them in the order the model has always had.

Every column is an integer in ``[lb, ub]`` (``boolean`` columns are the 0/1 ones CP-SAT takes
as literals); every row reads ``lo <= sum of coefficient * column <= hi``, with its terms merged
by column and sorted (CP-SAT stores a linear constraint the same way).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Terms = list[tuple[int, int]]
"""A linear expression: ``(column, coefficient)`` pairs (a column may repeat)."""
Name = tuple[Any, ...]
"""A column's name, by its parts (``("y", i, w)`` reads ``y_i_w``): formatted only when a
backend wants it (:meth:`LinearModel.name_of`)."""


class Sink(Protocol):
    """Something that renders columns and rows as they are made (a backend)."""

    def column(self, model: LinearModel, j: int) -> None:
        """Column ``j`` of ``model`` was just made."""

    def row(self, model: LinearModel, r: int) -> None:
        """Row ``r`` of ``model`` was just made."""


@dataclass
class LinearModel:
    """Columns and rows of a linear model with integer columns, kept as plain lists.

    Rows are stored by row (compressed sparse row form: ``row_start[r]`` to
    ``row_start[r + 1]`` index ``row_idx`` and ``row_val``); ``row_family[r]`` names the
    constraint family a row belongs to.
    """

    sink: Sink | None = None
    name: list[Name] = field(default_factory=list)
    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    boolean: list[bool] = field(default_factory=list)
    row_lo: list[float] = field(default_factory=list)
    row_hi: list[float] = field(default_factory=list)
    row_start: list[int] = field(default_factory=lambda: [0])
    row_idx: list[int] = field(default_factory=list)
    row_val: list[int] = field(default_factory=list)
    row_family: list[str] = field(default_factory=list)

    def var(self, ub: int, name: Name, *, boolean: bool = False) -> int:
        """A new integer column in ``[0, ub]`` (``boolean``: a 0/1 literal); its index."""
        self.name.append(name)
        self.lb.append(0.0)
        self.ub.append(float(ub))
        self.boolean.append(boolean)
        j = len(self.ub) - 1
        if self.sink is not None:
            self.sink.column(self, j)
        return j

    def row(self, terms: Terms, lo: float, hi: float, family: str) -> int:
        """Add ``lo <= terms <= hi`` (repeated columns merged, zero coefficients dropped,
        columns sorted); its index."""
        merged: dict[int, int] = defaultdict(int)
        for j, c in terms:
            merged[j] += c
        for j in sorted(merged):
            if merged[j] != 0:
                self.row_idx.append(j)
                self.row_val.append(merged[j])
        self.row_lo.append(lo)
        self.row_hi.append(hi)
        self.row_start.append(len(self.row_idx))
        self.row_family.append(family)
        r = len(self.row_lo) - 1
        if self.sink is not None:
            self.sink.row(self, r)
        return r

    def name_of(self, j: int) -> str:
        """Column ``j``'s name: its parts joined by ``_``."""
        return "_".join(map(str, self.name[j]))

    def bound(self, terms: Terms) -> float:
        """The largest value ``terms`` can take within the column bounds."""
        return sum(c * (self.ub[j] if c > 0 else self.lb[j]) for j, c in terms)

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.ub)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.row_lo)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Columns and rows as the arrays HiGHS takes (``-inf``/``inf`` where a row has no
        bound on that side): ``lb``, ``ub``, ``integer``, ``row_lo``, ``row_hi``,
        ``row_start``, ``row_idx``, ``row_val``."""
        return {
            "lb": np.asarray(self.lb, dtype=np.float64),
            "ub": np.asarray(self.ub, dtype=np.float64),
            "integer": np.ones(self.n_cols, dtype=bool),
            # (bounds as given: all-integer bounds stay an integer array; HiGHS takes either)
            "row_lo": np.asarray(self.row_lo),
            "row_hi": np.asarray(self.row_hi),
            "row_start": np.asarray(self.row_start, dtype=np.int64),
            "row_idx": np.asarray(self.row_idx, dtype=np.int32),
            "row_val": np.asarray(self.row_val, dtype=np.float64),
        }


def merged(terms: Sequence[tuple[int, float]]
           ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """An expression as sorted column indices and their summed coefficients (an objective)."""
    total: dict[int, float] = defaultdict(float)
    for j, c in terms:
        total[j] += c
    keys = sorted(total)
    return np.array(keys, dtype=np.int32), np.array([total[j] for j in keys], dtype=np.float64)


def value(x: Any, terms: Terms) -> int:
    """The value of ``terms`` at the column values ``x``, rounded to an integer."""
    return round(sum(c * x[j] for j, c in terms))

