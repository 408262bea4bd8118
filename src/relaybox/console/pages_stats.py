"""Statistics export jobs: the account's jobs (polled by htmx while one runs), a form to create
one, the CSV download of a finished one, and delete — over `relaybox.services.stat_jobs`, the
same functions as BSG's `/api/stat/jobs`.  The jobs run in the engine's processes, never in a
request: creating one writes a pending row and wakes the engine (docs/reports.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from relaybox.console import stat_job_forms as forms
from relaybox.console.errors import message_page
from relaybox.console.session import caller_of, check_csrf
from relaybox.console.templating import render
from relaybox.domain.models import Caller
from relaybox.errors import FieldError, ValidationFailed
from relaybox.services import stat_jobs
from relaybox.services.stat_jobs import JobError, JobFailed, JobNotFound, JobNotReady, TooManyJobs

router = APIRouter(prefix="/console")
Signed = Annotated[Caller, Depends(caller_of)]

NOTICES = {"created": "The job was created. It runs in the background; this page follows it.",
           "deleted": "The job was deleted."}
#: Download formats: ?format= → (file name suffix, media type).
FORMATS = {"csv": ("csv", "text/csv; charset=utf-8"), "csv.gz": ("csv.gz", "application/gzip")}


async def _table(request: Request, caller: Caller) -> dict:
    jobs = [forms.job_line(j) for j in await stat_jobs.list_jobs(request.app.state.platform, caller)]
    polling = any(j.running for j in jobs)
    return {"jobs": jobs, "polling": polling, "state": forms.jobs_state(jobs)}


async def _page(request: Request, caller: Caller, values: dict, status: int = 200, **extra) -> Response:
    context = {**await _table(request, caller), "values": values, "statuses": forms.STATUS_CHOICES, **extra}
    return render(request, "stat_jobs.html", context, status)


@router.get("/stat-jobs")
async def stat_jobs_page(request: Request, caller: Signed):
    """`GET /console/stat-jobs`: the caller's exports and the form for a new one."""
    query = request.query_params
    values = forms.form_values(query, request.app.state.platform.clock())
    return await _page(request, caller, values, notice=NOTICES.get(query.get("done", "")))


@router.get("/stat-jobs/list")
async def stat_jobs_table(request: Request, caller: Signed):
    """The jobs table alone: what the page polls while a job is pending or processing."""
    return render(request, "partials/stat_jobs_table.html", await _table(request, caller))


def _errors_by_field(errors: list[FieldError]) -> dict[str, str]:
    found: dict[str, str] = {}
    for e in errors:
        found.setdefault(forms.field_of(e.path), e.message)
    return found


@router.post("/stat-jobs")
async def create_job(request: Request, caller: Signed):
    """Create a job from the form (fields named as the API's request); 422 with the errors by
    field, or 409 when the account already has its most jobs running (BSG's error 91)."""
    form = await check_csrf(request)
    values = {name: form.get(name, "") for name in forms.FIELDS}
    try:
        await stat_jobs.create_job(request.app.state.platform, caller, forms.to_request(form))
    except ValidationFailed as exc:
        return await _page(request, caller, values, 422, errors=exc.errors, field_errors=_errors_by_field(exc.errors))
    except TooManyJobs as exc:
        return await _page(request, caller, values, 409, errors=[FieldError("", exc.description + ": wait for "
                                                                            "a job to finish, or delete one.")],
                           field_errors={})
    request.app.state.notify_engine()  # the engine starts it now rather than at its next look
    return RedirectResponse("/console/stat-jobs?done=created", status_code=303)


def _job_error_page(request: Request, exc: JobError) -> Response:
    if isinstance(exc, JobNotFound):
        return message_page(request, 404, "Not found", "There is no such job, or it belongs to another account.")
    if isinstance(exc, JobNotReady):
        return message_page(request, 409, "Not finished yet", "The job is still running; its download link "
                            "appears on the statistics page once it is done.")
    if isinstance(exc, JobFailed):
        return message_page(request, 409, "The job failed", "Delete it and create it again.")
    return message_page(request, 400, "Request refused", exc.description)


@router.get("/stat-jobs/{key}/download")
async def download(request: Request, caller: Signed, key: str):
    """A finished job's rows as CSV (`?format=csv`, the default; gzip-encoded in transit when the
    browser accepts it) or as a .csv.gz file (`?format=csv.gz`), streamed a stored chunk
    (2,000 rows) at a time: constant memory whatever the job's size."""
    fmt = request.query_params.get("format") or "csv"
    if fmt not in FORMATS:
        return message_page(request, 400, "Request refused", "The format must be csv or csv.gz.")
    suffix, media = FORMATS[fmt]
    wants_gzip = "gzip" in request.headers.get("accept-encoding", "").lower()
    form = "csv.gz" if fmt == "csv.gz" else "gzip" if wants_gzip else "csv"
    try:
        pieces = await stat_jobs.csv_chunks(request.app.state.platform, caller, key, form=form)
    except JobError as exc:
        return _job_error_page(request, exc)
    headers = {"Content-Disposition": f'attachment; filename="stat-job-{key}.{suffix}"',
               "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if form == "gzip":
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
    return StreamingResponse(pieces, media_type=media, headers=headers)


@router.post("/stat-jobs/{key}/delete")
async def delete_job(request: Request, caller: Signed, key: str):
    """`POST /console/stat-jobs/{key}/delete`: delete an export, then 303; a stat job error (90 …) as its page."""
    await check_csrf(request)
    try:
        await stat_jobs.delete_job(request.app.state.platform, caller, key)
    except JobError as exc:
        return _job_error_page(request, exc)
    return RedirectResponse("/console/stat-jobs?done=deleted", status_code=303)
