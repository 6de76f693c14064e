"""The pages of ``matcher ui`` for a graduate office clerk: new run, running, result, history.

* **New run** (``/new``): upload a workbook or a zip of a scenario folder; the validation's
  errors, warnings and notes as a table (sheet, row, column, header, what to do); a valid
  scenario gets the start form (solver, time limit: the scenario's own by default, seed).
* **Run** (``/runs/{id}``): while it runs, the stage, the students placed so far and the gap,
  refreshed by a small polling script (``static/run.js``), and a cancel button; when it is
  done, the headline figures, the downloads, a student search (``explain``), the unassigned
  students with their reasons, ``verify``, and the report itself.
* **History** (``/history``): every run; open, download, delete (after a confirmation page),
  compare two (``/compare``).

Forms post to the server and are answered with a redirect (no page needs script to work,
only the live figures do).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from .. import solvers
from ..messages import Lang, Location, msg
from .present import lang_of, page
from .service import FILES, RunOptions, Service, UserError, iter_bytes
from .store import ACTIVE
from .validation import findings, summary

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_SHOWN_ROWS = 500
"""Rows of a long table (unassigned students, moves) shown on a page; the files hold all."""


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _error_page(request: Request, error: UserError) -> Response:
    return page(request, "error.html", status_code=error.status, messages=error.messages)


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/")
async def home() -> Response:
    """The start page is the new-run page."""
    return _see("/new")


@router.get("/favicon.ico")
async def favicon() -> Response:
    """No icon (a browser asks for one on every page)."""
    return Response(status_code=204)


@router.get("/lang/{code}")
async def switch_language(code: str, next: str = "/new") -> Response:
    """Remember the language chosen (a cookie for a year) and go back to the page."""
    target = next if next.startswith("/") and not next.startswith("//") else "/new"
    response = _see(target.replace("\\", "/"))
    if code in ("zh", "en"):
        response.set_cookie("lang", code, max_age=365 * 86400, samesite="lax",
                            httponly=True)
    return response


# ---- new run --------------------------------------------------------------------------------
def _new_page(request: Request, **context: Any) -> Response:
    context.setdefault("solvers", solvers.names())
    context.setdefault("exact", solvers.EXACT)
    context.setdefault("findings", [])
    return page(request, "new.html", **context)


@router.get("/new")
async def new_run(request: Request) -> Response:
    """The upload form."""
    return _new_page(request)


@router.post("/new")
async def upload(request: Request,
                 scenario: Annotated[UploadFile | None, File()] = None) -> Response:
    """Store and validate an upload; show the validation table and, when it is valid, the
    start form."""
    lang = lang_of(request)
    if scenario is None or not scenario.filename:
        error = msg("web.upload_missing", at=Location(file="upload"))
        return _new_page(request, findings=_rows([error], lang), uploaded=None)
    service = _service(request)
    try:
        staged, checked = await run_in_threadpool(service.stage, scenario.filename,
                                                  scenario.file)
    except UserError as e:
        return _new_page(request, findings=_rows(list(e.messages), lang),
                         uploaded=scenario.filename)
    return _new_page(request, findings=checked.rows(lang), uploaded=staged.original_name,
                     token=staged.token if checked.ok else None, summary=summary(checked))


def _rows(items: list[Any], lang: Lang) -> list[dict[str, Any]]:
    return findings(items, lang)


@router.post("/start")
async def start(request: Request, token: Annotated[str, Form()] = "",
                solver: Annotated[str, Form()] = "cpsat",
                time_limit_s: Annotated[str, Form()] = "",
                seed: Annotated[str, Form()] = "") -> Response:
    """Start a validated upload's run and go to its page."""
    service = _service(request)
    try:
        doc = service.staged(token)
    except UserError as e:
        return _error_page(request, e)
    try:
        options = RunOptions.parse(solver, time_limit_s, seed)
        run_id = await run_in_threadpool(service.start, token, options, lang_of(request))
    except UserError as e:
        return _new_page(request, findings=_rows(list(e.messages), lang_of(request)),
                         token=token, summary=doc.get("summary") or {},
                         uploaded=doc.get("original_name"))
    return _see(f"/runs/{run_id}")


# ---- one run --------------------------------------------------------------------------------
@router.get("/runs/{run_id}")
async def show_run(request: Request, run_id: str, student: str = "") -> Response:
    """The running page while the run is queued or running; the result page after."""
    service = _service(request)
    try:
        info = service.status(run_id)
    except UserError as e:
        return _error_page(request, e)
    if info["status"] in ACTIVE:
        return page(request, "running.html", run=info)
    lang = lang_of(request)
    result = await run_in_threadpool(service.result, run_id)
    explained: dict[str, Any] | None = None
    if student.strip() and result is not None:
        try:
            exp, text = await run_in_threadpool(service.explain, run_id, student, lang)
            explained = {"student": exp.student_id, "text": text, "placed": exp.placed}
        except UserError as e:
            explained = {"student": student.strip()[:100], "error": e.messages}
    unassigned = service.unassigned(run_id) if result is not None else []
    return page(request, "result.html", run=info, result=result, explained=explained,
                student=student.strip()[:100], unassigned=unassigned[:MAX_SHOWN_ROWS],
                unassigned_count=len(unassigned), files=info["files"],
                verify=service.verify_report(run_id, lang), errors=_rows(service.errors(run_id),
                                                                   lang),
                busy=service.runner is not None and service.runner.busy(run_id),
                progress=info["progress"])


@router.post("/runs/{run_id}/cancel")
async def cancel(request: Request, run_id: str) -> Response:
    """Stop the run (it keeps the best allocation found) and show its page."""
    try:
        _service(request).cancel(run_id)
    except UserError as e:
        return _error_page(request, e)
    return _see(f"/runs/{quote(run_id)}")


@router.post("/runs/{run_id}/verify")
async def verify(request: Request, run_id: str) -> Response:
    """Queue a re-run from the manifest; the page shows the outcome when it is done."""
    try:
        _service(request).verify(run_id)
    except UserError as e:
        return _error_page(request, e)
    return _see(f"/runs/{quote(run_id)}#verify")


@router.get("/runs/{run_id}/delete")
async def confirm_delete(request: Request, run_id: str) -> Response:
    """Ask before deleting."""
    try:
        info = _service(request).status(run_id)
    except UserError as e:
        return _error_page(request, e)
    return page(request, "delete.html", run=info)


@router.post("/runs/{run_id}/delete")
async def delete(request: Request, run_id: str) -> Response:
    """Delete the run and go back to the history."""
    try:
        await run_in_threadpool(_service(request).delete, run_id)
    except UserError as e:
        return _error_page(request, e)
    return _see("/history")


@router.get("/runs/{run_id}/files/{name}")
async def download(request: Request, run_id: str, name: str, inline: bool = False
                   ) -> Response:
    """A file of the result folder (the report also inline, for the page's frame)."""
    try:
        path = _service(request).file(run_id, name)
    except UserError as e:
        return _error_page(request, e)
    if inline and name == "report.html":
        response = FileResponse(path, media_type=FILES[name])
        # the report is generated from the clerk's data: shown without scripts or forms
        response.headers["content-security-policy"] = (
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "frame-ancestors 'self'")
        return response
    return FileResponse(path, media_type=FILES[name], filename=name)


@router.get("/runs/{run_id}/download.zip")
async def download_zip(request: Request, run_id: str) -> Response:
    """The whole result folder as a zip."""
    service = _service(request)
    try:
        data = await run_in_threadpool(service.zip_bytes, run_id)
        row = service.run(run_id)
    except UserError as e:
        return _error_page(request, e)
    name = f"matcher-{row['id']}.zip"
    return StreamingResponse(iter_bytes(data), media_type="application/zip",
                             headers={"content-disposition": f'attachment; filename="{name}"',
                                      "content-length": str(len(data))})


# ---- history --------------------------------------------------------------------------------
@router.get("/history")
async def history(request: Request) -> Response:
    """Every run, newest first."""
    return page(request, "history.html", runs=_service(request).history.runs())


@router.get("/compare")
async def compare_runs(request: Request) -> Response:
    """Compare two finished runs (the older one is the baseline): KPIs and moved students."""
    chosen = [r for r in request.query_params.getlist("run") if r][:3]
    if len(chosen) != 2:
        error = UserError([msg("web.compare_two", at=Location(file="history"))], 422)
        return _error_page(request, error)
    service = _service(request)
    try:
        rows = [service.run(r) for r in chosen]
        rows.sort(key=lambda r: (r["created"], r["id"]))
        comparison = await run_in_threadpool(service.compare, rows[0]["id"], rows[1]["id"])
    except UserError as e:
        return _error_page(request, e)
    kpis = comparison.kpis.where(comparison.kpis.notna(), None).to_dict("records")
    labels = [v.label for v in comparison.views]
    moves = comparison.moves.head(MAX_SHOWN_ROWS).fillna("").to_dict("records")
    changes = comparison.changes.to_dict("records")
    return page(request, "compare.html", runs=rows, kpis=kpis, labels=labels, moves=moves,
                moves_count=len(comparison.moves), changes=changes,
                notes=[n.text(lang_of(request)) for n in comparison.notes])
