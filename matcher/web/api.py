"""The HTTP API of ``matcher ui`` for other tools (documented in docs/api.md and at /api/docs).

``POST /api/runs`` (multipart: ``scenario`` file, optional ``solver``, ``time_limit_s``,
``seed``) -> 201 ``{"id": ...}``; ``GET /api/runs``; ``GET /api/runs/{id}``;
``POST /api/runs/{id}/cancel``; ``POST /api/runs/{id}/verify``; ``DELETE /api/runs/{id}``;
``GET /api/runs/{id}/files/{name}``; ``GET /api/runs/{id}/explain?student=``.

Errors are JSON ``{"messages": [...]}``, each message with ``code``, ``severity``,
``location``, ``values``, ``text`` and ``where`` in the requested language (``?lang=zh|en``,
else ``Accept-Language``): 422 for a bad upload or field (the validation's messages), 404 for
an unknown run or file, 409 for what cannot be done now (a file of a run still running).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from ..messages import Lang, Location, Message, msg
from .present import lang_of
from .service import FILES, RunOptions, Service, UserError
from .validation import Validation

__all__ = ["message_dicts", "router"]

router = APIRouter(prefix="/api", tags=["runs"])


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def message_dicts(items: list[Message | str], lang: Lang) -> list[dict[str, Any]]:
    """Messages as the API returns them; a plain line of text gets no code."""
    out = []
    for item in items:
        if isinstance(item, Message):
            out.append(item.to_dict(lang))
        else:
            out.append({"code": None, "severity": "error", "location": None, "values": {},
                        "text": str(item), "where": None})
    return out


def error_response(error: UserError, lang: Lang) -> JSONResponse:
    """A :class:`UserError` as the API's JSON error."""
    return JSONResponse({"messages": message_dicts(list(error.messages), lang)},
                        status_code=error.status)


def _validation_dicts(checked: Validation, lang: Lang) -> list[dict[str, Any]]:
    """The validation's messages (errors, then warnings, then notes), each located."""
    return message_dicts(list(checked.messages), lang)


@router.post("/runs", status_code=201, summary="Upload a scenario and start a run")
async def create_run(
        request: Request,
        scenario: Annotated[UploadFile, File(description=".xlsx workbook or .zip of a "
                                                         "scenario folder")],
        solver: Annotated[str | None, Form(description="registered solver (default "
                                                       "cpsat)")] = None,
        time_limit_s: Annotated[str | None, Form(description="seconds, > 0 (default: the "
                                                             "scenario's)")] = None,
        seed: Annotated[str | None, Form(description="random seed, a whole number >= 0 "
                                                     "(default: the scenario's)")] = None,
) -> Response:
    """Validate the uploaded scenario and queue its solve: 201 ``{"id", "status",
    "messages"}`` (warnings and notes), or 422 with the validation's messages."""
    lang = lang_of(request)
    service = _service(request)
    try:
        options = RunOptions.parse(solver, time_limit_s, seed)
        staged, checked = await run_in_threadpool(service.stage, scenario.filename,
                                                  scenario.file)
        if not checked.ok:
            return JSONResponse({"messages": _validation_dicts(checked, lang)},
                                status_code=422)
        # the files' language: the one asked for, else the scenario's (as matcher solve)
        asked = request.query_params.get("lang") or request.headers.get("accept-language")
        run_id = await run_in_threadpool(service.start, staged.token, options,
                                         lang if asked else None)
    except UserError as e:
        return error_response(e, lang)
    return JSONResponse({"id": run_id, "status": "queued",
                         "messages": _validation_dicts(checked, lang)}, status_code=201,
                        headers={"location": f"/api/runs/{run_id}"})


@router.get("/runs", summary="The run history, newest first")
async def list_runs(request: Request) -> Response:
    """Every run with its figures (``GET /api/runs/{id}`` without ``progress`` and
    ``files``)."""
    rows = _service(request).history.runs()
    for row in rows:
        row["cancelled"] = bool(row.get("cancelled"))
    return JSONResponse({"runs": rows})


@router.get("/runs/{run_id}", summary="A run's status and figures")
async def get_run(request: Request, run_id: str) -> Response:
    """``status`` (``queued``, ``running``, then ``OPTIMAL``, ``FEASIBLE``, ``INFEASIBLE``,
    ``UNKNOWN``, or ``failed``, ``cancelled``, ``interrupted``), ``placed``, ``unassigned``,
    ``rank_cost``, the bounds, ``message``, ``progress`` while it runs, the ``files``."""
    lang = lang_of(request)
    service = _service(request)
    try:
        out = service.status(run_id)
    except UserError as e:
        return error_response(e, lang)
    if out["status"] == "failed":
        out["messages"] = message_dicts(service.errors(run_id), lang)
    return JSONResponse(out)


@router.post("/runs/{run_id}/cancel", status_code=202, summary="Stop a run")
async def cancel_run(request: Request, run_id: str) -> Response:
    """Stop a queued or running run; a solve keeps the best allocation found (status
    ``FEASIBLE``, ``cancelled: true``). 409 when it is not queued or running."""
    lang = lang_of(request)
    service = _service(request)
    try:
        if not service.cancel(run_id):
            raise UserError([msg("web.not_running", at=Location(file="run"))], 409)
    except UserError as e:
        return error_response(e, lang)
    return JSONResponse({"id": run_id, "status": service.run(run_id)["status"]},
                        status_code=202)


@router.post("/runs/{run_id}/verify", status_code=202, summary="Re-run from the manifest")
async def verify_run(request: Request, run_id: str) -> Response:
    """Queue ``matcher verify`` of a finished run; ``verify_status`` of ``GET
    /api/runs/{id}`` becomes ``verified`` or ``not_verified``."""
    lang = lang_of(request)
    try:
        _service(request).verify(run_id)
    except UserError as e:
        return error_response(e, lang)
    return JSONResponse({"id": run_id, "verify_status": "queued"}, status_code=202)


@router.delete("/runs/{run_id}", summary="Delete a finished run")
async def delete_run(request: Request, run_id: str) -> Response:
    """Remove a run's folder and its history row (409 while it is queued or running)."""
    lang = lang_of(request)
    try:
        await run_in_threadpool(_service(request).delete, run_id)
    except UserError as e:
        return error_response(e, lang)
    return Response(status_code=204)


@router.get("/runs/{run_id}/files/{name}", summary="A file of the result folder")
async def get_file(request: Request, run_id: str, name: str) -> Response:
    """One of ``results.xlsx``, ``assignments.csv``, ``unassigned.csv``, ``summary.json``,
    ``report.html``, ``manifest.json``."""
    lang = lang_of(request)
    try:
        path = _service(request).file(run_id, name)
    except UserError as e:
        return error_response(e, lang)
    return FileResponse(path, media_type=FILES[name], filename=name)


@router.get("/runs/{run_id}/explain", summary="Why a student is placed where, or not")
async def explain_student(request: Request, run_id: str, student: str) -> Response:
    """``matcher explain`` of one student (without verifying re-solves): ``text`` and the
    structured explanation."""
    lang = lang_of(request)
    try:
        exp, text = await run_in_threadpool(_service(request).explain, run_id, student, lang)
    except UserError as e:
        return error_response(e, lang)
    return JSONResponse({"student_id": exp.student_id, "text": text,
                         "explanation": exp.to_dict()})
