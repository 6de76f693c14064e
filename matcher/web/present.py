"""How ``matcher ui`` speaks: the request's language, the page templates and their helpers.

The language is the one the user chose with the page's switch (the ``lang`` cookie, or a
``?lang=`` on an API call), else the browser's (``Accept-Language``, through
:func:`matcher.messages.lang_from_accept_language`). Every word of a page is a catalogue code
(``web.*``, in ``locale/*/LC_MESSAGES/web.po``) given to ``t(...)`` in the Jinja2 templates
(``matcher/web/templates``, autoescaped: a cell of the clerk's workbook shown on a page is
text, never HTML).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from ..messages import Lang, Message, label, lang_from_accept_language, normalize_lang

__all__ = ["STATUS_CODES", "lang_of", "page", "status_text"]

STATUS_CODES = ("queued", "running", "optimal", "feasible", "infeasible", "unknown", "failed",
                "cancelled", "interrupted")
"""Every run status; each has the label ``web.status.<status>``."""

_env = Environment(loader=PackageLoader("matcher.web", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True)


def lang_of(request: Request) -> Lang:
    """The language of a request: ``?lang=``, then the ``lang`` cookie, then the browser's."""
    for value in (request.query_params.get("lang"), request.cookies.get("lang")):
        chosen = normalize_lang(value) if value else None
        if chosen is not None:
            return chosen
    return lang_from_accept_language(request.headers.get("accept-language"))


def status_text(status: str | None, lang: Lang) -> str:
    """A run status in words."""
    key = (status or "unknown").lower()
    return label(f"web.status.{key}", lang) if key in STATUS_CODES else str(status)


def _number(value: Any, digits: int = 0) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.{digits}f}"


def _share(value: Any) -> str:
    return "—" if not isinstance(value, int | float) else f"{value:.1%}"


def _seconds(value: Any) -> str:
    if not isinstance(value, int | float):
        return "—"
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s"


def _kpi(name: str, value: Any, delta: bool = False) -> str:
    """A KPI of ``matcher compare``: shares as percentages, counts grouped, a delta signed."""
    if value is None or value == "":
        return "" if delta else "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    sign = "+" if delta and value > 0 else ""
    if "share" in name:
        return f"{sign}{value:.1%}"
    if isinstance(value, float) and not value.is_integer():
        return f"{sign}{value:,.3f}"
    return f"{sign}{int(value):,}"


def _date(value: Any) -> str:
    """``2026-01-07T16:24:55Z`` as ``2026-01-07 16:24`` (UTC)."""
    text = str(value or "")
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def page(request: Request, template: str, status_code: int = 200, **context: Any
         ) -> HTMLResponse:
    """Render a page in the request's language."""
    lang = lang_of(request)

    def t(code: str, **values: Any) -> str:
        return label(code, lang, **values)

    def text(item: Message | str) -> str:
        return item.text(lang) if isinstance(item, Message) else str(item)

    html = _env.get_template(template).render(
        request=request, lang=lang, t=t, text=text, status_text=lambda s: status_text(s, lang),
        number=_number, share=_share, kpi=_kpi, seconds=_seconds, date=_date,
        path=request.url.path, **context)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["content-security-policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'none'")
    response.headers["cache-control"] = "no-store"
    return response
