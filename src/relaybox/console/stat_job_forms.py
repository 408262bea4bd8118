"""The statistics-jobs page's pure parts: its form → BSG's `StatJobsCreateRequest` (the body
`POST /api/stat/jobs` takes, checked by services/stat_jobs.py:parse_request), a job's filter as
one line of text, and the form's starting values.  No I/O.

Times: the form's `datetime-local` fields are read as UTC (as every relaybox time without an
offset) and sent on as "YYYY-MM-DD HH:MM:SS"; a value that is not a time is sent on as typed, so
that the service's error names its field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from relaybox.domain.models import Campaign
from relaybox.domain.stat_rows import STATUS_FILTER
from relaybox.domain.timefmt import InvalidTime, format_time, parse_time
from relaybox.services.stat_jobs import STATUS_NAMES
from relaybox.store.stat_jobs import StatJob

#: The form's fields, named as the request's (time_in_* required, the others optional).
FIELDS = ("time_in_from", "time_in_to", "status", "country", "operator_id", "campaign_id", "phones")
#: The status filter's choices: BSG's names (domain/stat_rows.py).
STATUS_CHOICES = tuple(STATUS_FILTER)
#: What separates the numbers of the phones field: blanks, commas, semicolons, line breaks.
_PHONE_SEPARATORS = re.compile(r"[\s,;]+")
#: Longest id or number taken as an integer; longer ones go on as text (the service refuses them).
_MAX_DIGITS = 18
_LOCAL = "%Y-%m-%dT%H:%M:%S"  # an <input type="datetime-local" step="1"> value


def _time_text(raw: str) -> str:
    text = raw.strip()
    try:
        return format_time(parse_time(text))
    except InvalidTime:
        return text


def _number_or_text(raw: str) -> int | str:
    digits = raw[1:] if raw.startswith("+") else raw
    if digits.isascii() and digits.isdigit() and len(digits) <= _MAX_DIGITS:
        return int(digits)
    return raw


def to_request(form: Mapping[str, str]) -> dict:
    """The create form's fields as a `type: "params"` request.  Empty optional fields are left
    out; `phones` is split on blanks, commas and semicolons; `campaign_id` and the phones become
    integers when they are digits (else they go on as typed, and the service refuses them)."""
    data: dict = {"type": "params"}
    for name in ("time_in_from", "time_in_to"):
        data[name] = _time_text(form.get(name, ""))
    for name in ("status", "country", "operator_id"):
        value = form.get(name, "").strip()
        if value:
            data[name] = value
    campaign = form.get("campaign_id", "").strip()
    if campaign:
        data["campaign_id"] = _number_or_text(campaign)
    phones = [p for p in _PHONE_SEPARATORS.split(form.get("phones", "")) if p]
    if phones:
        data["phones"] = [_number_or_text(p) for p in phones]
    return data


def local_input(value: datetime) -> str:
    """A UTC time as a `datetime-local` field's value."""
    return value.strftime(_LOCAL)


def _as_input(raw: str) -> str:
    try:
        return local_input(parse_time(raw))
    except InvalidTime:
        return raw


def form_values(query: Mapping[str, str], now: datetime) -> dict[str, str]:
    """The create form's starting values: those in the page's query (the campaign page links here
    with its campaign and time range), else the last 24 hours up to the next full hour."""
    start = (now - timedelta(days=1)).replace(second=0, microsecond=0)
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    values = {name: query.get(name, "") for name in FIELDS}
    values["time_in_from"] = _as_input(values["time_in_from"]) if values["time_in_from"] else local_input(start)
    values["time_in_to"] = _as_input(values["time_in_to"]) if values["time_in_to"] else local_input(end)
    return values


def campaign_export_url(campaign: Campaign) -> str:
    """The statistics page with its form set to the campaign's messages: the campaign, accepted
    from a minute before it was created to a day after (a list send inserts its messages over
    a while)."""
    start = campaign.created_at.replace(second=0, microsecond=0) - timedelta(minutes=1)
    query = {"campaign_id": campaign.id, "time_in_from": local_input(start),
             "time_in_to": local_input(start + timedelta(days=1))}
    return "/console/stat-jobs?" + urlencode(query) + "#create"


def _shown_time(value: object) -> str:
    try:
        return format_time(parse_time(value))
    except InvalidTime:
        return str(value)


def describe(request: Mapping) -> str:
    """A job's filter (its request, as stored) in a line: "accepted 2026-11-30 07:00:00 to
    2026-11-30 08:00:00 · status Delivered · campaign #7 · 2 phones"."""
    if request.get("type") == "message":
        ids = request.get("message_id") or []
        return f"{len(ids)} message id{'' if len(ids) == 1 else 's'}"
    parts = [f"accepted {_shown_time(request.get('time_in_from'))} to {_shown_time(request.get('time_in_to'))}"]
    if request.get("time_sent_from") or request.get("time_sent_to"):
        parts.append(f"sent {_shown_time(request.get('time_sent_from') or '…')} to "
                     f"{_shown_time(request.get('time_sent_to') or '…')}")
    for name, label in (("status", "status"), ("country", "country"), ("operator_id", "operator")):
        if request.get(name):
            parts.append(f"{label} {request[name]}")
    if request.get("campaign_id") is not None:
        parts.append(f"campaign #{request['campaign_id']}")
    if request.get("phones"):
        n = len(request["phones"])
        parts.append(f"{n} phone{'' if n == 1 else 's'}")
    return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class JobLine:
    """A row of the jobs table."""

    key: str
    status: str  # pending | processing | done | failed
    status_label: str  # as the API lists it: Pending, Processing, Done, Failed
    summary: str
    rows: int  # rows written so far (all of them once done)
    created_at: datetime
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        return self.status in ("pending", "processing")

    @property
    def done(self) -> bool:
        return self.status == "done"


def job_line(job: StatJob) -> JobLine:
    """A stat job as the exports table lists it, with a summary of its request."""
    try:
        request = json.loads(job.request)
    except ValueError:  # written by this code, so not expected; the row still shows
        request = {}
    summary = describe(request) if isinstance(request, dict) else ""
    return JobLine(job.key, job.status, STATUS_NAMES.get(job.status, job.status), summary, job.rows,
                   job.created_at, job.finished_at)


def jobs_state(jobs: list[JobLine]) -> str:
    """The line above the jobs table, also announced to screen readers when it changes."""
    if not jobs:
        return "No export jobs yet."
    running = sum(j.running for j in jobs)
    if running:
        return f"{running} job{' is' if running == 1 else 's are'} running; this list updates every 2 seconds."
    return "Every job has finished."


def field_of(path: str) -> str:
    """The form field an error's path names ("phones.3" → "phones")."""
    return path.split(".", 1)[0]
