"""The reports layer: what a result folder holds besides its CSVs, and the planning pages.

* :mod:`~matcher.reports.folder`: :func:`write_result`, the whole result folder;
* :mod:`~matcher.reports.xlsx`: ``results.xlsx``;
* :mod:`~matcher.reports.html`: ``report.html``;
* :mod:`~matcher.reports.manifest`: ``manifest.json``;
* :mod:`~matcher.reports.pages`: the Markdown/HTML page builder of compare, sweep and rolling.
"""
