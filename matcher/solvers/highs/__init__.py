"""Code that runs inside the HiGHS helper process, never next to OR-Tools.

highspy and OR-Tools cannot share a process (their HiGHS symbols clash and the process
crashes), so every HiGHS solve runs in a fresh helper process
(:mod:`matcher.solvers.highs_runner`). The modules here import only numpy, highspy (inside the
functions that call HiGHS) and each other, never the rest of matcher: the helper starts without
loading the package (which would also double its start-up time).

* :mod:`.common`: what both sides agree on (constants, column and row kinds) and shared helpers;
* :mod:`.levels`: the aggregated model's levels, LP relaxation and lock conflicts (``milp``);
* :mod:`.cuts`, :mod:`.slot_lp`, :mod:`.slot_search`: the slot model's bounds and searches.
"""
