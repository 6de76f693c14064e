"""The web application of ``matcher ui``: the pages, the API and the guards, put together.

:func:`create_app` builds the FastAPI application around a
:class:`~matcher.web.service.Service` (the data folder and the run queue): the pages
(:mod:`matcher.web.pages`), the HTTP API under ``/api`` (:mod:`matcher.web.api`; OpenAPI at
``/api/openapi.json``, browsable at ``/api/docs``), the style sheet and the polling script
(``/static``), behind :class:`~matcher.web.security.Guard`. No request ever gets a traceback:
an unexpected error is logged and answered 500 with a message in the user's language.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..messages import Location, msg
from .api import message_dicts
from .api import router as api_router
from .pages import router as page_router
from .present import lang_of, page
from .security import Guard
from .service import Service
from .uploads import MAX_UPLOAD_BYTES

__all__ = ["LOCAL_HOSTS", "create_app"]

log = logging.getLogger("matcher.web")

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
"""Host names a server bound to the loopback address answers to."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("workstation-matcher")
    except PackageNotFoundError:
        return "0"


def create_app(service: Service, *, password: str | None = None,
               hosts: Iterable[str] | None = LOCAL_HOSTS, close_service: bool = True,
               max_body: int = MAX_UPLOAD_BYTES + (1 << 20)) -> FastAPI:
    """The application.

    Parameters
    ----------
    service
        The data folder and run queue it serves.
    password
        Required on every request when given (see :mod:`matcher.web.security`).
    hosts
        Host names the ``Host`` header may give; None for any (a server on another address,
        which must have a password).
    close_service
        Stop the workers and close the history when the application shuts down.
    max_body
        Largest request body, in bytes (an upload plus its form).
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if close_service:
            service.close()

    app = FastAPI(title="matcher", version=_version(), lifespan=lifespan,
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
                  description="Place professional master's students at enterprise "
                              "workstations: upload a scenario, follow the run, download "
                              "the results. See docs/api.md.")
    app.state.service = service
    app.include_router(api_router)
    app.include_router(page_router)
    app.mount("/static", StaticFiles(packages=[("matcher.web", "static")]), name="static")
    app.add_middleware(Guard, max_body=max_body, hosts=hosts, password=password)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(RequestValidationError)
    async def bad_fields(request: Request, error: RequestValidationError) -> Response:
        lang = lang_of(request)
        items = []
        for problem in error.errors():
            where = ".".join(str(p) for p in problem.get("loc", ()) if p != "body") or "request"
            items.append(msg("web.bad_field", at=Location(file=where[:80]),
                             field=where[:80]))
        if wants_json(request):
            return JSONResponse({"messages": message_dicts(list(items), lang)},
                                status_code=422)
        return page(request, "error.html", status_code=422, messages=items)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        lang = lang_of(request)
        code = "web.not_found" if error.status_code == 404 else "web.bad_request"
        items = [msg(code, at=Location(file=request.url.path[:120]))]
        if wants_json(request):
            return JSONResponse({"messages": message_dicts(list(items), lang)},
                                status_code=error.status_code)
        return page(request, "error.html", status_code=error.status_code, messages=items)

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> Response:
        log.exception("request %s %s", request.method, request.url.path)
        lang = lang_of(request)
        items: list[Any] = [msg("web.internal_error", at=Location(file=request.url.path[:120]),
                                error=type(error).__name__)]
        if wants_json(request):
            return JSONResponse({"messages": message_dicts(items, lang)}, status_code=500)
        return page(request, "error.html", status_code=500, messages=items)

    return app
