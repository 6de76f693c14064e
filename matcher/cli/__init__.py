"""The ``matcher`` command line (click): the group :data:`cli` and the entry point :func:`main`.

* :mod:`~matcher.cli.main`: the group and the core commands (validate, solve, check, generate,
  bench, report, explain, verify, solvers);
* :mod:`~matcher.cli.plan`: the planning commands (variant, compare, sweep, rolling, resolve);
* :mod:`~matcher.cli.common`: what the commands share (error lines, loading, output folders).
"""

from .main import cli, main

__all__ = ["cli", "main"]
