"""Writing a result folder: the CSVs and summary, ``results.xlsx``, ``report.html``, the manifest.

:func:`write_result` composes the writers: :func:`matcher.formats.resultdir.write_result_files`
writes ``assignments.csv``, ``unassigned.csv`` and ``summary.json`` atomically and runs, inside
the temporary folder, :func:`~matcher.reports.xlsx.write_results_xlsx`,
:func:`~matcher.reports.html.write_report_into`, any extra writers, and last
:func:`~matcher.reports.manifest.write_manifest`, which hashes every file written before it.
``results.xlsx`` is written in a forked child process while the rest is written here
(:mod:`matcher.reports.background`), which halves the time at province scale on two cores.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from ..formats.output import Input
from ..formats.resultdir import ResultWriter, write_result_files
from ..messages import Lang, choose_lang
from ..model import Problem, Result
from .background import Background
from .fairness_figures import figures
from .html import write_report_into
from .manifest import write_manifest
from .xlsx import write_results_xlsx

__all__ = ["RESULT_WRITERS", "LangWriter", "output_lang", "write_result"]

class LangWriter(Protocol):
    """A :data:`~matcher.formats.resultdir.ResultWriter` that also takes the language."""

    def __call__(self, result: Result, problem: Problem | None, folder: Path, *,
                 lang: Lang = "en") -> object: ...


RESULT_WRITERS: tuple[LangWriter, ...] = (write_results_xlsx, write_report_into)
"""The extra files every result folder gets (``results.xlsx``, ``report.html``), in order."""


def output_lang(lang: str | None, problem: Problem | None) -> Lang:
    """The language a library call writes in: ``lang`` if given, else the scenario's.

    Parameters
    ----------
    lang
        ``"zh"``, ``"en"`` (or a tag such as ``zh-CN``), or None.
    problem
        The problem; its :attr:`~matcher.model.Problem.language` decides when ``lang`` is
        None.

    Returns
    -------
    Lang
        English when neither says: a library call does not depend on the machine's locale
        (the command line does, see :func:`matcher.messages.choose_lang`).

    Raises
    ------
    ValueError
        For a language the catalogue does not have.
    """
    return choose_lang(lang, problem.language if problem is not None else None, environ={})


def write_result(result: Result, out_dir: str | os.PathLike[str], *, force: bool = False,
                 excel_bom: bool = False, problem: Problem | None = None,
                 writers: Sequence[ResultWriter] = (), inputs: Iterable[Input] = (),
                 lang: str | None = None, parallel: bool | None = None) -> Path:
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
    lang
        The language of the outputs for people (the reasons of ``unassigned.csv``,
        ``results.xlsx``, ``report.html``): ``"zh"`` or ``"en"``; by default the scenario's
        (:attr:`Problem.language <matcher.model.Problem.language>`), else English. Column names
        of the CSVs and the keys of ``summary.json`` stay English; the manifest records the
        language.
    parallel
        Write ``results.xlsx`` in a forked child process while the other files are written
        (default: where that is safe and useful, see
        :func:`~matcher.reports.background.can_fork`); the files are the same either way.

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

    chosen = output_lang(lang, problem)
    # every writer shows the reasons in the same language: word them once (thousands at scale)
    result = dataclasses.replace(result, unassigned=tuple(result.reasons(chosen)))
    if problem is not None:  # the fairness figures, once for report.html and (forked) xlsx
        figures(problem, result)

    def manifest(result: Result, problem: Problem | None, folder: Path) -> None:
        write_manifest(result, problem, folder, excel_bom=excel_bom, lang=chosen)

    # results.xlsx is written in a forked child while report.html (with the checker) and the
    # extra writers run here: on two cores the two largest outputs take the time of one
    xlsx, *rest = (functools.partial(w, lang=chosen) for w in RESULT_WRITERS)
    background = Background(xlsx, enabled=parallel)
    chain: tuple[ResultWriter, ...] = (background.start, *rest, *writers, background.wait,
                                       manifest)
    try:
        return write_result_files(result, out_dir, force=force, excel_bom=excel_bom,
                                  problem=problem, writers=chain, lang=chosen,
                                  inputs=inputs)
    finally:
        background.stop()
