"""The formats layer: files in and out (scenarios, occupancy, result folders); no solving.

* :mod:`~matcher.formats.schema`: the tables and their columns;
* :mod:`~matcher.formats.aliases`: the Chinese (and loosely spelt) names of columns and sheets;
* :mod:`~matcher.formats.cells`: reading input bytes safely, decoding them, parsing cells;
* :mod:`~matcher.formats.escape`: the one escaping layer (formulas, HTML, Markdown);
* :mod:`~matcher.formats.yamlsafe`: the one safe YAML reader;
* :mod:`~matcher.formats.settings`: the scenario's settings (``scenario.yaml`` or a sheet);
* :mod:`~matcher.formats.locations`: where an issue is, as the user sees it;
* :mod:`~matcher.formats.tables`: CSV files and sheets read as offices keep them (header row,
  totals rows, list separators, carried columns) into model rows;
* :mod:`~matcher.formats.workbook`: reading a scenario given as an ``.xlsx`` workbook;
* :mod:`~matcher.formats.tolerance`: names read as ids, dates read as terms (with notes);
* :mod:`~matcher.formats.scenario`: :func:`load_scenario`, :func:`validate_scenario` (every
  error, warning and note as structured messages) and :func:`write_scenario`;
* :mod:`~matcher.formats.occupancy`: what earlier cohorts occupy;
* :mod:`~matcher.formats.resultdir`: the one result-folder module (atomic writing, reading);
* :mod:`~matcher.formats.output`: where a command may write (never over an input);
* :mod:`~matcher.formats.lock`: the exclusive claim on an output;
* :mod:`~matcher.formats.interrupt`: signals while an output is written.
"""

from .scenario import Validation, load_scenario, validate_scenario, write_scenario

__all__ = ["Validation", "load_scenario", "validate_scenario", "write_scenario"]
