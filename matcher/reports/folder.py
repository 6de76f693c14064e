"""Writing a result folder: the CSVs and summary, ``results.xlsx``, ``report.html``, the manifest.

:func:`write_result` composes the writers: :func:`matcher.formats.resultdir.write_result_files`
writes ``assignments.csv``, ``unassigned.csv`` and ``summary.json`` atomically and runs, inside
the temporary folder, :func:`~matcher.reports.xlsx.write_results_xlsx`,
:func:`~matcher.reports.html.write_report_into`, any extra writers, and last
:func:`~matcher.reports.manifest.write_manifest`, which hashes every file written before it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..formats.output import Input
from ..formats.resultdir import ResultWriter, write_result_files
from ..model import Problem, Result
from .html import write_report_into
from .manifest import write_manifest
from .xlsx import write_results_xlsx

__all__ = ["RESULT_WRITERS", "write_result"]

RESULT_WRITERS: tuple[ResultWriter, ...] = (write_results_xlsx, write_report_into)
"""The extra files every result folder gets (``results.xlsx``, ``report.html``), in order."""


def write_result(result: Result, out_dir: str | os.PathLike[str], *, force: bool = False,
                 excel_bom: bool = False, problem: Problem | None = None,
                 writers: Sequence[ResultWriter] = (), inputs: Iterable[Input] = ()) -> Path:
    """Write a result folder atomically.

    The folder holds ``assignments.csv``, ``unassigned.csv``, ``summary.json``, the files of
    :data:`RESULT_WRITERS` (``results.xlsx``, ``report.html``), those of ``writers``, and last
    ``manifest.json`` (the audit record, see :mod:`matcher.reports.manifest`). Text cells of
    the CSVs are escaped against formula injection
    (:func:`matcher.formats.escape.escape_cell`).

    Parameters
    ----------
    result
        A solver's result.
    out_dir
        The result folder; must not exist or be empty unless ``force``.
    force
        Replace an existing folder (atomically).
    excel_bom
        Write CSVs as UTF-8 with a byte-order mark, so Excel opens them correctly.
    problem
        The problem solved. Without it ``results.xlsx`` has no student details and rosters by
        block instead of by term, ``report.html`` is not written, and the manifest cannot name
        the input files, so ``matcher verify`` needs ``--scenario``.
    writers
        More :data:`~matcher.formats.resultdir.ResultWriter` callables
        (``writer(result, problem, folder)``), run after :data:`RESULT_WRITERS`.
    inputs
        More inputs the folder may not be, hold or lie inside, as ``(path, role)`` pairs
        (:data:`matcher.formats.output.Input`), besides the problem's scenario and
        ``--previous`` result, which are always protected.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    ResultExistsError
        When ``out_dir`` exists and is not empty, and ``force`` is false (pass
        ``force=True`` to replace it).
    OutputError
        When ``out_dir`` may not or cannot be written: it is, holds or lies inside an input,
        ``force`` was given for a folder matcher did not write, another run is writing it,
        it cannot be written there (:func:`matcher.formats.output.check_output`).
    """

    def manifest(result: Result, problem: Problem | None, folder: Path) -> None:
        write_manifest(result, problem, folder, excel_bom=excel_bom)

    return write_result_files(result, out_dir, force=force, excel_bom=excel_bom,
                              problem=problem,
                              writers=(*RESULT_WRITERS, *writers, manifest), inputs=inputs)
