"""Reads of the traffic roll-ups (store/rollups.py) for breakdowns: never the messages.

Each function costs in proportion to the roll-up rows it reads — per campaign, its hours ×
countries × brands × statuses; per account range, the same over the range's hours; per time
series, the minutes with traffic — whatever the number of messages behind them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.rollups import ACCOUNT, ACCOUNT_HOURS
from relaybox.store.tables import delivery_times, traffic_minutes, traffic_rollups


@dataclass(frozen=True, slots=True)
class StatusCell:
    """Messages of one (country, operator brand, status): their count and cost in units of 1e-7 of the currency."""
    country: str
    brand: str | None
    status: str
    n: int
    cost: int  # units


@dataclass(frozen=True, slots=True)
class MinutePoint:
    """One interval (from `at`, UTC) of message counts sent, delivered and failed."""
    at: datetime  # the start of the interval
    sent: int
    delivered: int
    failed: int


def _scope(table, account_id: int, campaign_id: int | None, start: datetime | None, end: datetime | None, col):
    where = [table.c.account_id == account_id]
    if campaign_id is not None:
        where.append(table.c.campaign_id == campaign_id)
    if start is not None:
        where.append(col >= start)
    if end is not None:
        where.append(col < end)
    return where


async def status_cells(
    conn: AsyncConnection, account_id: int, *, campaign_id: int | None = None,
    start: datetime | None = None, end: datetime | None = None,
) -> list[StatusCell]:
    """Messages now in each status, and their cost, by country and brand; for one campaign
    and/or messages created in whole hours [start, end)."""
    t = traffic_rollups
    rows = await conn.execute(
        select(t.c.country, t.c.brand, t.c.status, func.sum(t.c.n), func.sum(t.c.cost))
        .where(*_scope(t, account_id, campaign_id or ACCOUNT, start, end, t.c.hour))
        .group_by(t.c.country, t.c.brand, t.c.status)
    )
    return [StatusCell(r[0], r[1] or None, r[2], int(r[3]), int(r[4])) for r in rows if r[3]]


async def delivery_histogram(
    conn: AsyncConnection, account_id: int, *, campaign_id: int | None = None,
    start: datetime | None = None, end: datetime | None = None,
) -> dict[int, int]:
    """{bucket: delivered messages} (domain/delivery_times.py), same scope as `status_cells`."""
    t = delivery_times
    rows = await conn.execute(
        select(t.c.bucket, func.sum(t.c.n))
        .where(*_scope(t, account_id, campaign_id or ACCOUNT, start, end, t.c.hour))
        .group_by(t.c.bucket)
    )
    return {int(r[0]): int(r[1]) for r in rows if r[1]}


#: SQLite's text form of a truncated time (UTCDateTime stores "YYYY-MM-DD HH:MM:SS.ffffff").
_SQLITE_TRUNC = {"hour": "%Y-%m-%d %H:00:00.000000", "day": "%Y-%m-%d 00:00:00.000000"}


async def event_series(
    conn: AsyncConnection, account_id: int, *, start: datetime, end: datetime, interval: str,
    campaign_id: int | None = None,
) -> list[MinutePoint]:
    """Sent, delivered and failed events per `interval` (minute | hour | day) in [start, end),
    of the account or one campaign; only the intervals that had any, in time order."""
    t = traffic_minutes
    # the account's own rows (store/rollups.py): per hour for hours and days, else per minute
    scope = campaign_id if campaign_id else (ACCOUNT_HOURS if interval != "minute" else ACCOUNT)
    if interval == "minute" or (interval == "hour" and not campaign_id):
        bucket = t.c.minute  # rows of that grain already
    elif conn.dialect.name == "postgresql":
        # in UTC whatever the session's TimeZone: a day is a UTC day
        bucket = func.date_trunc(literal_column(f"'{interval}'"), t.c.minute.op("AT TIME ZONE")(literal_column("'UTC'")))
    else:
        bucket = func.strftime(_SQLITE_TRUNC[interval], t.c.minute)
    bucket = bucket.label("at")
    rows = await conn.execute(
        select(bucket, func.sum(t.c.sent), func.sum(t.c.delivered), func.sum(t.c.failed))
        .where(*_scope(t, account_id, scope, start, end, t.c.minute))
        .group_by(literal_column("at"))
        .order_by(literal_column("at"))
    )
    return [MinutePoint(_as_time(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]


def _as_time(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


__all__: Sequence[str] = ("StatusCell", "MinutePoint", "status_cells", "delivery_histogram", "event_series")
