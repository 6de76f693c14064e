"""The solver budgets the tests use, so that no test depends on how fast the machine is.

A test either needs a proof (OPTIMAL, INFEASIBLE, a bound equal to the optimum, the same
allocation twice) or checks what happens when a budget runs out. For the first kind every
problem in the suite is small (a proof takes well under a second of CPU), and the solvers stop
as soon as they have proven the answer, so the test gives a time limit no machine comes near:
:data:`PROOF_S`, as long as the per-test ceiling against hangs (pyproject.toml,
``timeout``). A machine that needed that long would fail the test by the ceiling anyway; the
solver's clock never decides the outcome. For the second kind the budget is so small that it
is always hit (:data:`CUT_S`), and the test asserts only what holds whatever was reached: a
valid allocation, valid bounds, an honest status (OPTIMAL only with matching bounds; FEASIBLE
with a message naming the limit).

Work that a test hands a deadline directly (local moves, packing, the Lagrangian ascent) gets
:func:`far`: a deadline those loops never reach, as they stop when they have nothing left to
do; where a test needs such a loop cut short it gives an iteration count instead.
"""

from __future__ import annotations

import time

PROOF_S = 600.0
"""Time limit for a solve that must prove its answer (equal to the per-test ceiling)."""
CUT_S = 0.001
"""Time limit for a solve that must be cut short: reached before any search can start."""


def far() -> float:
    """A ``time.perf_counter()`` deadline no loop in a test reaches (:data:`PROOF_S` ahead)."""
    return time.perf_counter() + PROOF_S
