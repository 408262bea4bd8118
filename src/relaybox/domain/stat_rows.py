"""The rows of a statistics export job (BSG One API `GET /api/stat/jobs/{id}` `result`), and
their CSV form.  Pure.

Columns, in order (the spec's example row): message_id, message_type, msisdn, country_name,
brand, mcc, mnc, originator, price, currency, time_in, time_sent, time_dlr, status, body,
sl_clicks.  Every value is a string or null, as in the spec's example: ids and phones as
digit strings, the price with 7 decimals, times "YYYY-MM-DD HH:MM:SS" UTC.  In CSV, null is
the empty field.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from relaybox.domain import networks
from relaybox.domain.models import Message
from relaybox.domain.money import format_amount

COLUMNS: tuple[str, ...] = (
    "message_id", "message_type", "msisdn", "country_name", "brand", "mcc", "mnc", "originator", "price",
    "currency", "time_in", "time_sent", "time_dlr", "status", "body", "sl_clicks",
)

#: relaybox statuses as BSG's statistics name them (the `status` filter's enum); `read` and
#: `not_service_user` have no BSG name there and keep their own, capitalised.
STATUS_NAMES: dict[str, str] = {
    "scheduled": "Scheduled", "moderation": "Moderation", "accepted": "Accepted", "sending": "Sending",
    "sent": "Sent", "delivered": "Delivered", "expired": "Expired", "failed": "Failed",
    "undelivered": "Undelivered", "unknown": "Unknown", "read": "Read", "not_service_user": "Not_service_user",
}

#: The `status` filter: a BSG name → the relaybox statuses it selects.  "Delivered" includes
#: RCS `read` (a read message was delivered); "Rejected" (refused by BSG's moderation) selects
#: nothing: relaybox refuses such messages at the request and never stores them.
STATUS_FILTER: dict[str, tuple[str, ...]] = {
    "Delivered": ("delivered", "read"), "Rejected": (), "Scheduled": ("scheduled",),
    "Moderation": ("moderation",), "Accepted": ("accepted",), "Sending": ("sending",), "Sent": ("sent",),
    "Expired": ("expired",), "Failed": ("failed",), "Undelivered": ("undelivered", "not_service_user"),
    "Unknown": ("unknown",),
}


def _time(value: datetime | None) -> str | None:
    """format_time ("YYYY-MM-DD HH:MM:SS" UTC) at a third of strftime's cost: an export formats millions."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(sep=" ", timespec="seconds")[:19]


def stat_row(m: Message) -> dict[str, str | None]:
    """One result row of a message."""
    net = networks.network(m.country, m.brand)
    return {
        "message_id": str(m.id),
        "message_type": m.type,
        "msisdn": str(m.phone),
        "country_name": net.country_name,
        "brand": net.brand,
        "mcc": net.mcc,
        "mnc": net.mnc,
        "originator": m.sender,
        "price": format_amount(m.price),
        "currency": m.currency,
        "time_in": _time(m.created_at),
        "time_sent": _time(m.sent_at),
        "time_dlr": _time(m.delivered_at),
        "status": STATUS_NAMES.get(m.status, m.status),
        "body": m.text,
        "sl_clicks": None,
    }


def csv_lines(rows: list[dict[str, str | None]]) -> str:
    """Rows as CSV (RFC 4180: CRLF, fields quoted when needed), no header."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
    return out.getvalue()


def csv_header() -> str:
    """The export CSV's header line (COLUMNS), CRLF-terminated (RFC 4180)."""
    return ",".join(COLUMNS) + "\r\n"


def parse_csv_lines(text: str) -> list[dict[str, str | None]]:
    """The rows `csv_lines` wrote (empty fields back to null)."""
    return [
        {c: (v if v != "" else None) for c, v in zip(COLUMNS, values)}
        for values in csv.reader(io.StringIO(text, newline=""))
    ]
