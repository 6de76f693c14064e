"""``matcher ui``: a local web page for the graduate office, its run history and an HTTP API.

Layer 8, beside the command line: it parses requests, calls the library and presents. The
pieces: :mod:`~matcher.web.server` (starting it), :mod:`~matcher.web.app` (the application),
:mod:`~matcher.web.pages` and :mod:`~matcher.web.api` (what it answers),
:mod:`~matcher.web.service` (its library calls), :mod:`~matcher.web.store` (the run history:
run folders indexed in SQLite), :mod:`~matcher.web.runner` and :mod:`~matcher.web.worker`
(the run queue and its worker processes), :mod:`~matcher.web.uploads` and
:mod:`~matcher.web.validation` (uploads and what ``validate`` says of them),
:mod:`~matcher.web.security` (the guards) and :mod:`~matcher.web.present` (language and
templates). See docs/office.md (for a clerk) and docs/api.md (for other tools).

Nothing is imported here: ``matcher`` commands other than ``ui`` never load the web framework.
"""
