"""Statistics export jobs (BSG's `/api/stat/jobs`) and relaybox's report extensions under
`/api/x-relaybox/` (the CSV of a job; breakdowns; time series).  docs/reports.md."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from relaybox.api.common import json_response, read_json
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import responses as r
from relaybox.api.oneapi.params import ListParams
from relaybox.api.oneapi.queries import BreakdownQuery, CsvQuery, StatJobPageQuery, TimeSeriesQuery
from relaybox.api.oneapi.schemas import StatJobRequest
from relaybox.api.openapi import ONE_API, documented
from relaybox.domain.timefmt import format_time
from relaybox.errors import NotFound, ValidationFailed
from relaybox.services import breakdowns, stat_jobs
from relaybox.services.stat_jobs import JobError

router = APIRouter(tags=["statistics"])

#: Relaybox's own routes beside BSG's: one prefix, so they never collide with BSG's paths.
EXTENSIONS = "/api/x-relaybox"


def _job_error(exc: JobError):
    body = {"error": exc.code, "errorDescription": exc.description}
    if isinstance(exc, stat_jobs.JobNotReady):
        body["status"] = exc.status
    return json_response(body)


def _job(job) -> dict:
    return {
        "key": job.key,
        "request": json.loads(job.request),
        "status": stat_jobs.STATUS_NAMES.get(job.status, job.status),
        # relaybox's additions to BSG's example row
        "created_at": format_time(job.created_at),
        "finished_at": format_time(job.finished_at),
        "rows": job.rows,
    }


#: The CSV download's other answers (its errors are JSON: StatCsvError).
_CSV_MEDIA = {
    "text/csv": {"type": "string", "description": "a header line, then one line per message (RFC 4180); "
                 "gzip-encoded in transit (Content-Encoding) when the request accepts gzip"},
    "application/gzip": {"type": "string", "contentMediaType": "application/gzip",
                         "description": "`?format=csv.gz`: the CSV file compressed (several gzip members, RFC 1952)"},
}


@router.post("/api/stat/jobs")
@documented(security=ONE_API, body=StatJobRequest, ok=r.StatJobKeyAnswer, errors=r.ERRORS,
            operation_id="stat_jobs_create", summary="Create an export job (errors in the 200 body: 91)")
async def create_job(request: Request, platform: PlatformDep, caller: OneApiCaller):
    _, data = await read_json(request)
    try:
        job = await stat_jobs.create_job(platform, caller, data)
    except JobError as exc:
        return _job_error(exc)
    request.app.state.notify_engine()
    return json_response({"error": 0, "errorDescription": "No errors", "key": job.key})


@router.get("/api/stat/jobs")
@documented(security=ONE_API, ok=r.StatJobList, errors=r.ERRORS, operation_id="stat_jobs_list",
            summary="The account's export jobs, newest first")
async def list_jobs(platform: PlatformDep, caller: OneApiCaller):
    jobs = await stat_jobs.list_jobs(platform, caller)
    return json_response({"error": 0, "result": [_job(j) for j in jobs]})


@router.get("/api/stat/jobs/{key}")
@documented(security=ONE_API, query=StatJobPageQuery, ok=r.StatPageAnswer, errors=r.ERRORS,
            operation_id="stat_jobs_show", summary="One page of a job's rows (errors in the 200 body: 90, 92, 93)")
async def load_job(key: str, request: Request, platform: PlatformDep, caller: OneApiCaller):
    params = ListParams(request.query_params, sorts=("id",), min_limit=1, max_limit=stat_jobs.PAGE_MAX,
                        default_limit=stat_jobs.PAGE_DEFAULT)
    params.check()
    try:
        page = await stat_jobs.load_page(platform, caller, key, params.offset, params.limit)
    except JobError as exc:
        return _job_error(exc)
    return json_response({
        "error": 0,
        "status": "Done",
        "result": page.rows,
        "meta": {"page": {"offset": page.offset, "limit": page.limit, "total": page.job.rows}},
    })


@router.delete("/api/stat/jobs/{key}")
@documented(security=ONE_API, ok=r.StatJobKeyAnswer, errors=r.ERRORS, operation_id="stat_jobs_delete",
            summary="Delete a job and its result (errors in the 200 body: 90)")
async def delete_job(key: str, platform: PlatformDep, caller: OneApiCaller):
    try:
        await stat_jobs.delete_job(platform, caller, key)
    except JobError as exc:
        return _job_error(exc)
    return json_response({"error": 0, "errorDescription": "No errors", "key": key})


@router.get(EXTENSIONS + "/stat/jobs/{key}/csv")
@documented(security=ONE_API, query=CsvQuery, ok=r.StatCsvError, ok_media=_CSV_MEDIA, errors=r.ERRORS,
            summary="A finished job's rows as CSV (or .csv.gz); a job error (90, 92, 93) as JSON")
async def job_csv(key: str, request: Request, platform: PlatformDep, caller: OneApiCaller):
    """The job's result as CSV: `?format=csv.gz` a .csv.gz file; else CSV, gzip-encoded in
    transit when the client accepts it (`Accept-Encoding: gzip`)."""
    fmt = request.query_params.get("format") or "csv"
    if fmt not in ("csv", "csv.gz"):
        raise ValidationFailed.one("format", "The format must be csv or csv.gz.")
    wants_gzip = "gzip" in request.headers.get("accept-encoding", "").lower()
    form = "csv.gz" if fmt == "csv.gz" else "gzip" if wants_gzip else "csv"
    try:
        pieces = await stat_jobs.csv_chunks(platform, caller, key, form=form)
    except JobError as exc:
        return _job_error(exc)
    name = f"stat-job-{key}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv.gz":
        return StreamingResponse(pieces, media_type="application/gzip", headers=headers)
    if form == "gzip":
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
    return StreamingResponse(pieces, media_type="text/csv; charset=utf-8", headers=headers)


# -- breakdowns ----------------------------------------------------------------------


def _breakdown(b: breakdowns.Breakdown) -> dict:
    body = {
        "total": b.total,
        "statuses": b.by_status,
        "cost": {"value": f"{b.cost:.7f}", "currency": b.currency},
        "networks": [
            {
                "country": n.country, "country_name": n.country_name, "brand": n.brand, "mcc": n.mcc, "mnc": n.mnc,
                "total": n.total, "statuses": n.by_status, "cost": f"{n.cost:.7f}",
            }
            for n in b.networks
        ],
        "delivery_time": {
            "count": b.delivery_times.count, "p50": b.delivery_times.p50, "p90": b.delivery_times.p90,
            "p99": b.delivery_times.p99,
            "histogram": [{"le": edge, "count": n} for edge, n in b.delivery_times.histogram],
        },
    }
    if b.campaign_id is not None:
        body["campaign_id"] = b.campaign_id
    if b.start is not None:
        body["from"], body["to"] = format_time(b.start), format_time(b.end)
    return body


def _positive_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound()
    return int(raw)


@router.get(EXTENSIONS + "/campaigns/{campaign_id}/breakdown")
@documented(security=ONE_API, ok=r.BreakdownResponse, errors=r.ERRORS_BY_ID,
            summary="One campaign's messages by status, network, cost and delivery time")
async def campaign_breakdown(campaign_id: str, platform: PlatformDep, caller: OneApiCaller):
    found = await breakdowns.campaign_breakdown(platform, caller, _positive_id(campaign_id))
    return json_response({"data": _breakdown(found)})


@router.get(EXTENSIONS + "/breakdown")
@documented(security=ONE_API, query=BreakdownQuery, ok=r.BreakdownResponse, errors=r.ERRORS,
            summary="The account's messages accepted in [from, to) by status, network, cost and delivery time")
async def account_breakdown(request: Request, platform: PlatformDep, caller: OneApiCaller):
    q = request.query_params
    start, end = breakdowns.resolve_range(q.get("from"), q.get("to"), platform.clock(),
                                          default=timedelta(days=30))
    found = await breakdowns.account_breakdown(platform, caller, start, end)
    return json_response({"data": _breakdown(found)})


@router.get(EXTENSIONS + "/timeseries")
@documented(security=ONE_API, query=TimeSeriesQuery, ok=r.TimeSeriesResponse, errors=r.ERRORS_BY_ID,
            summary="Sent, delivered and failed messages per interval")
async def time_series(request: Request, platform: PlatformDep, caller: OneApiCaller):
    q = request.query_params
    params = ListParams(q, sorts=("id",), min_limit=1)
    campaign_id = params.integer("campaign_id", "campaign_id", minimum=1)
    interval = params.choice("interval", "interval", tuple(breakdowns.INTERVALS), default="hour")
    params.check()
    start, end = breakdowns.resolve_range(q.get("from"), q.get("to"), platform.clock(),
                                          default=timedelta(days=1))
    series = await breakdowns.time_series(platform, caller, start, end, interval, campaign_id=campaign_id)
    return json_response({"data": {
        "interval": series.interval, "from": format_time(series.start), "to": format_time(series.end),
        "campaign_id": series.campaign_id,
        "points": [{"at": format_time(p.at), "sent": p.sent, "delivered": p.delivered, "failed": p.failed}
                   for p in series.points],
    }})
