"""Statistics export jobs (BSG One API `/api/stat/jobs`): create, list, load (paged), delete,
and the result as CSV.

A job is created here, by the API, as a `pending` row; an engine process runs it
(engine/stat_jobs.py) and stores its result in the database as gzip-compressed CSV chunks of
`CHUNK_ROWS` rows.  Loading a page reads the one or two chunks it covers; a CSV download
streams the chunks one at a time — constant memory whatever the job's size — and as a
`csv.gz` file sends them as they are stored (a gzip file of several members, RFC 1952).  docs/reports.md has the shapes, filters and error codes.

The web console calls these functions directly.  Every function is scoped by the caller's
account: another account's job is `JobNotFound` (error 90), exactly like an unknown one.
"""

from __future__ import annotations

import gzip
import json
import secrets
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from relaybox.domain import networks
from relaybox.domain.models import Caller
from relaybox.domain.phone import InvalidPhone, parse_phone
from relaybox.domain.stat_rows import COLUMNS, STATUS_FILTER, csv_header, parse_csv_lines
from relaybox.domain.timefmt import InvalidTime, parse_time
from relaybox.errors import FieldError, LegacyCode, RelayboxError, ValidationFailed
from relaybox.services.platform import Platform
from relaybox.store import stat_jobs as store
from relaybox.store.stat_jobs import MessageFilter, StatJob

#: Result rows per stored chunk (and per page of the engine's walk over the messages).
CHUNK_ROWS = 2000
#: The widest `time_in` range of a job (as the messages list: 3 months).
MAX_RANGE = timedelta(days=92)
#: Most ids in `message_id`, phones in `phones`.
MAX_LIST = 10000
#: Rows per page of `load_page`: default and most.
PAGE_DEFAULT = 1000
PAGE_MAX = 10000

#: Job status as the list shows it.
STATUS_NAMES = {"pending": "Pending", "processing": "Processing", "done": "Done", "failed": "Failed"}


class JobError(RelayboxError):
    """A stat-job error in BSG's envelope: `{"error": code, "errorDescription": description}` (HTTP 200)."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code = code
        self.description = description


class JobNotFound(JobError):
    """Unknown key, or another account's job: BSG's error 90."""

    def __init__(self) -> None:
        super().__init__(90, "File not found")


class TooManyJobs(JobError):
    """BSG stat job error 91: the account has the most exports it may keep."""
    def __init__(self) -> None:
        super().__init__(91, "Maximum count of exports reached")


class JobNotReady(JobError):
    """BSG stat job error 92: the job has not finished; `status` is its current status."""
    def __init__(self, status: str) -> None:
        super().__init__(92, "Job is not finished yet")
        self.status = status


class JobFailed(JobError):
    """BSG stat job error 93: the job failed."""
    def __init__(self) -> None:
        super().__init__(93, "Job failed")


# -- the request ---------------------------------------------------------------


def _time(data: dict, name: str, errors: list[FieldError], required: bool = False) -> datetime | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors.append(FieldError(name, f"The {name} field is required.", LegacyCode.NOT_ENOUGH_PARAMETERS))
        return None
    try:
        return parse_time(value)
    except InvalidTime as exc:
        errors.append(FieldError(name, f"The {name} {exc}.", LegacyCode.INVALID_PARAMETERS))
        return None


def _int_list(data: dict, name: str, errors: list[FieldError]) -> list | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        errors.append(FieldError(name, f"The {name} must be an array.", LegacyCode.INVALID_PARAMETERS))
        return None
    if len(value) > MAX_LIST:
        errors.append(FieldError(name, f"The {name} may not have more than {MAX_LIST} items.",
                                 LegacyCode.INVALID_PARAMETERS))
        return None
    return value


def parse_request(data: object, account_id: int, now: datetime) -> MessageFilter:
    """BSG's `StatJobsCreateRequest` → the filter of the account's messages it exports.

    `type: "message"` with `message_id: [ids]`; or `type: "params"` with `time_in_from` and
    `time_in_to` (required; at most 3 months apart, `to` not before `from`), optional
    `time_sent_from`/`time_sent_to`, `phones` (E.164 numbers), `country` (ISO 3166 alpha-2 or
    English name), `operator_id` (MCC+MNC, e.g. "25501"), `status` (BSG's names: "Delivered"…),
    and relaybox's `campaign_id`.  `sender`, `source` and the `sl_clicks*` (short links) terms
    are accepted and ignored.  Raises ValidationFailed (422) with the field paths.
    """
    if not isinstance(data, dict):
        raise ValidationFailed.one("body", "The request must be a JSON object.", LegacyCode.INVALID_PAYLOAD)
    kind = data.get("type")
    errors: list[FieldError] = []
    if kind == "message":
        ids = _int_list(data, "message_id", errors)
        if ids is None and not errors:
            errors.append(FieldError("message_id", "The message_id field is required.", LegacyCode.NOT_ENOUGH_PARAMETERS))
        for i, value in enumerate(ids or []):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
                errors.append(FieldError(f"message_id.{i}", "The message id must be a positive integer.",
                                         LegacyCode.INVALID_PARAMETERS))
        if errors:
            raise ValidationFailed(errors)
        return MessageFilter(account_id=account_id, message_ids=tuple(sorted(set(ids))))
    if kind != "params":
        raise ValidationFailed.one("type", "The type must be one of message, params.", LegacyCode.INVALID_PARAMETERS)
    start = _time(data, "time_in_from", errors, required=True)
    end = _time(data, "time_in_to", errors, required=True)
    sent_from = _time(data, "time_sent_from", errors)
    sent_to = _time(data, "time_sent_to", errors)
    if start and end:
        if end < start:
            errors.append(FieldError("time_in_to", "The time_in_to must not be before time_in_from.",
                                     LegacyCode.INVALID_PARAMETERS))
        elif end - start > MAX_RANGE:
            errors.append(FieldError("time_in_from", "The period must not exceed 3 months.",
                                     LegacyCode.INVALID_PARAMETERS))
    if sent_from and sent_to and sent_to < sent_from:
        errors.append(FieldError("time_sent_to", "The time_sent_to must not be before time_sent_from.",
                                 LegacyCode.INVALID_PARAMETERS))
    phones = None
    raw_phones = _int_list(data, "phones", errors)
    if raw_phones is not None:
        phones = []
        for i, value in enumerate(raw_phones):
            try:
                phones.append(parse_phone(value).number)
            except InvalidPhone as exc:
                errors.append(FieldError(f"phones.{i}", f"The phone number {exc}.", LegacyCode.INVALID_PHONE))
    country = None
    if data.get("country") not in (None, ""):
        raw = data["country"]
        country = networks.country_code(raw) if isinstance(raw, str) else None
        if country is None:
            errors.append(FieldError("country", "The country must be an ISO 3166 code or a country name.",
                                     LegacyCode.INVALID_PARAMETERS))
    nets = None
    if data.get("operator_id") not in (None, ""):
        raw = data["operator_id"]
        if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) not in (5, 6):
            errors.append(FieldError("operator_id", "The operator_id must be an MCC and MNC (5 or 6 digits).",
                                     LegacyCode.INVALID_PARAMETERS))
        else:
            nets = tuple(networks.brands_for_operator(raw))
    statuses = None
    if data.get("status") not in (None, ""):
        raw = data["status"]
        if not isinstance(raw, str) or raw not in STATUS_FILTER:
            errors.append(FieldError("status", "The status must be one of " + ", ".join(STATUS_FILTER) + ".",
                                     LegacyCode.INVALID_PARAMETERS))
        else:
            statuses = STATUS_FILTER[raw]
    campaign_id = data.get("campaign_id")
    if campaign_id is not None and (isinstance(campaign_id, bool) or not isinstance(campaign_id, int)
                                    or not 0 < campaign_id < 2**63):
        errors.append(FieldError("campaign_id", "The campaign_id must be a positive integer.",
                                 LegacyCode.INVALID_PARAMETERS))
    if errors:
        raise ValidationFailed(errors)
    return MessageFilter(
        account_id=account_id, created_from=start, created_to=end, sent_from=sent_from, sent_to=sent_to,
        phones=tuple(sorted(set(phones))) if phones is not None else None, country=country, networks=nets,
        statuses=statuses, campaign_id=campaign_id,
    )


def filter_of(job: StatJob) -> MessageFilter:
    """The filter of a stored job (its request was checked when it was created)."""
    return parse_request(json.loads(job.request), job.account_id, job.created_at)


# -- the API's operations ---------------------------------------------------------


async def create_job(platform: Platform, caller: Caller, data: object) -> StatJob:
    """Check the request and queue a job; returns it (`key`: 18 hex characters, BSG's form).

    Raises ValidationFailed (422) and TooManyJobs (error 91) when the account already has
    `RELAYBOX_STAT_JOBS_PER_ACCOUNT` jobs pending or processing.
    """
    now = platform.clock()
    parse_request(data, caller.account_id, now)
    request = json.dumps(data, separators=(",", ":"), sort_keys=True)
    key = secrets.token_hex(9)
    limit = platform.settings.stat_jobs_per_account
    job = await platform.db.transact(lambda conn: store.create_job(conn, caller.account_id, key, request, now, limit))
    if job is None:
        raise TooManyJobs()
    return job


async def list_jobs(platform: Platform, caller: Caller) -> list[StatJob]:
    """The caller's jobs, newest first."""
    async with platform.db.read() as conn:
        return await store.list_jobs(conn, caller.account_id)


async def get_job(platform: Platform, caller: Caller, key: str) -> StatJob:
    """One of the caller's jobs by key; JobNotFound (90) otherwise."""
    if not isinstance(key, str) or not key.isascii() or not key.isalnum() or len(key) > 32:
        raise JobNotFound()
    async with platform.db.read() as conn:
        job = await store.get_job(conn, caller.account_id, key)
    if job is None:
        raise JobNotFound()
    return job


async def delete_job(platform: Platform, caller: Caller, key: str) -> None:
    """Delete a job and its result; JobNotFound (90) when the caller has no such job."""
    await get_job(platform, caller, key)
    if not await platform.db.transact(lambda conn: store.delete_job(conn, caller.account_id, key)):
        raise JobNotFound()


def _finished(job: StatJob) -> None:
    if job.status == "failed":
        raise JobFailed()
    if job.status != "done":
        raise JobNotReady(STATUS_NAMES.get(job.status, job.status))


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a finished stat job: `rows` as dicts of strings or None (domain/stat_rows.py) from `offset`."""
    job: StatJob
    offset: int
    limit: int
    rows: list[dict]  # stat rows (domain/stat_rows.py)


async def load_page(platform: Platform, caller: Caller, key: str, offset: int = 0, limit: int = PAGE_DEFAULT) -> Page:
    """Rows [offset, offset + limit) of a finished job, in message id order.

    Raises JobNotFound (90), JobNotReady (92: pending or processing), JobFailed (93), and
    ValidationFailed for an offset below 0 or a limit outside 1..PAGE_MAX.
    """
    if offset < 0:
        raise ValidationFailed.one("page.offset", "The page offset must be at least 0.")
    if not 1 <= limit <= PAGE_MAX:
        raise ValidationFailed.one("page.limit", f"The page limit must be between 1 and {PAGE_MAX}.")
    job = await get_job(platform, caller, key)
    _finished(job)
    rows: list[dict] = []
    index = offset
    end = min(offset + limit, job.rows)
    async with platform.db.read() as conn:
        while index < end:
            chunk = await store.chunk_for_row(conn, job.id, index)
            if chunk is None:
                break
            lines = parse_csv_lines(zlib.decompress(chunk.data, wbits=31).decode("utf-8"))
            take = lines[index - chunk.first_row: end - chunk.first_row]
            rows.extend(take)
            index += len(take)
            if not take:
                break
    return Page(job, offset, limit, rows)


async def csv_chunks(platform: Platform, caller: Caller, key: str, *, form: str = "csv") -> AsyncIterator[bytes]:
    """The job's result as CSV (a header line, then a row per message): awaited, returns an async
    iterator of byte pieces (`async for piece in await csv_chunks(...)`).

    `form`: "csv" plain UTF-8; "csv.gz" a gzip file made of the chunks' gzip members as stored
    (RFC 1952 allows several members: gzip, zcat, Python's gzip read them as one file; the server
    compresses nothing); "gzip" one single-member gzip stream, for `Content-Encoding: gzip`
    (HTTP clients decode only the first member of a response), compressed as it goes.
    Raises JobNotFound / JobNotReady / JobFailed when awaited, before any piece, so a response
    can still answer them.  One chunk (2,000 rows) is in memory at a time.
    """
    if form not in ("csv", "csv.gz", "gzip"):
        raise ValueError(form)
    job = await get_job(platform, caller, key)
    _finished(job)

    async def pieces() -> AsyncIterator[bytes]:
        header = csv_header().encode()
        stream = zlib.compressobj(6, zlib.DEFLATED, 31) if form == "gzip" else None
        if form == "csv.gz":
            yield gzip.compress(header, compresslevel=1, mtime=0)
        elif stream is not None:
            yield stream.compress(header)
        else:
            yield header
        seq = 0
        while True:
            async with platform.db.read() as conn:
                chunk = await store.chunk_at(conn, job.id, seq)
            if chunk is None:
                break
            if form == "csv.gz":
                yield chunk.data
            else:
                text = zlib.decompress(chunk.data, wbits=31)
                yield stream.compress(text) + stream.flush(zlib.Z_SYNC_FLUSH) if stream is not None else text
            seq += 1
        if stream is not None:
            yield stream.flush()

    return pieces()


__all__ = ["COLUMNS", "JobError", "JobNotFound", "TooManyJobs", "JobNotReady", "JobFailed", "Page",
           "create_job", "list_jobs", "get_job", "delete_job", "load_page", "csv_chunks", "parse_request"]
