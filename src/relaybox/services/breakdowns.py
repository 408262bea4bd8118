"""Breakdowns of an account's traffic: per campaign, or per account over a time range.

What a person running campaigns wants to see without writing code — where messages went,
what they cost, how fast they were delivered, what failed — read from the traffic roll-ups
(store/rollups.py), never from the messages, so a breakdown costs the same for a campaign of
10 messages and of 10,000,000 (docs/reports.md, docs/architecture.md "Reports").

Used by the extension routes under `/api/x-relaybox/` (api/oneapi/reports.py) and by the web
console, which calls these functions directly.  Every function is scoped by the caller's
account: another account's campaign is NotFound, never data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from relaybox.domain import networks
from relaybox.domain.delivery_times import percentile, upper_edge
from relaybox.domain.models import Caller
from relaybox.domain.money import from_units
from relaybox.domain.status import MessageStatus
from relaybox.domain.timefmt import InvalidTime, parse_time
from relaybox.errors import FieldError, LegacyCode, ValidationFailed
from relaybox.services import queries
from relaybox.services.platform import Platform
from relaybox.store import accounts as accounts_store
from relaybox.store import breakdowns as store

#: The widest range of an account breakdown or time series (as the messages list: 3 months).
MAX_RANGE = timedelta(days=92)
#: Intervals of a time series, and the most points one may have (a chart's worth).
INTERVALS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
MAX_POINTS = 5000
#: Statuses whose messages reached an operator (the One API's short `sent` statistic).
SENT_STATUSES = ("sent", "delivered", "read", "undelivered", "expired", "unknown")


@dataclass(frozen=True, slots=True)
class NetworkRow:
    """One country and operator: `brand`, `mcc`, `mnc` None when unknown (docs/reports.md)."""

    country: str
    country_name: str | None
    brand: str | None
    mcc: str | None
    mnc: str | None
    total: int
    by_status: dict[str, int]
    cost: Decimal


@dataclass(frozen=True, slots=True)
class DeliveryTimes:
    """Delivered messages' delivered_at − sent_at: `count`, and p50/p90/p99 in seconds (the upper
    edge of the histogram bucket each falls in; None without deliveries), and the histogram
    itself as [(upper edge in seconds, messages)]."""

    count: int
    p50: int | None
    p90: int | None
    p99: int | None
    histogram: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Messages of a campaign, or created in [start, end), now: `total`, `by_status` (every
    MessageStatus, zeros included), `networks` (by country and operator, most messages first),
    `cost` (what they are charged, in `currency`: test traffic and refunds are 0) and
    `delivery_times`."""

    total: int
    by_status: dict[str, int]
    networks: list[NetworkRow]
    cost: Decimal
    currency: str | None
    delivery_times: DeliveryTimes
    campaign_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One interval of a time series: message counts sent, delivered and failed in it."""
    at: datetime  # the start of the interval, UTC
    sent: int
    delivered: int
    failed: int


@dataclass(frozen=True, slots=True)
class TimeSeries:
    """Events per interval in [start, end): every interval, zeros included, in time order.
    `sent`: messages that reached an operator (by sent_at); `delivered` (by delivered_at);
    `failed`: messages that ended in any other final status (by the time they did)."""

    interval: str
    start: datetime
    end: datetime
    points: list[SeriesPoint]
    campaign_id: int | None = None


def _assemble(cells: list[store.StatusCell], histogram: dict[int, int], currency: str | None, **scope) -> Breakdown:
    by_status = {s.value: 0 for s in MessageStatus}
    per_network: dict[tuple[str, str | None], dict] = defaultdict(lambda: {"n": 0, "cost": 0, "by": defaultdict(int)})
    cost = 0
    for cell in cells:
        by_status[cell.status] = by_status.get(cell.status, 0) + cell.n
        slot = per_network[(cell.country, cell.brand)]
        slot["n"] += cell.n
        slot["cost"] += cell.cost
        slot["by"][cell.status] += cell.n
        cost += cell.cost
    rows = []
    for (country, brand), slot in per_network.items():
        if slot["n"] == 0:
            continue
        net = networks.network(country, brand)
        rows.append(NetworkRow(country, net.country_name, brand, net.mcc, net.mnc, slot["n"],
                               {k: v for k, v in sorted(slot["by"].items()) if v}, from_units(slot["cost"])))
    rows.sort(key=lambda r: (-r.total, r.country, r.brand or ""))
    times = DeliveryTimes(
        count=sum(histogram.values()),
        p50=percentile(histogram, 50),
        p90=percentile(histogram, 90),
        p99=percentile(histogram, 99),
        histogram=[(_edge(b), n) for b, n in sorted(histogram.items())],
    )
    return Breakdown(sum(by_status.values()), by_status, rows, from_units(cost), currency, times, **scope)


def _edge(bucket: int) -> int:
    return upper_edge(bucket)


async def campaign_breakdown(platform: Platform, caller: Caller, campaign_id: int) -> Breakdown:
    """The breakdown of one of the caller's campaigns (its SMS fallbacks included).

    Raises NotFound (404 `{"message": "Not found"}`) for an unknown or another account's id.
    """
    campaign = await queries.get_campaign(platform, caller, campaign_id)
    async with platform.db.read() as conn:
        cells = await store.status_cells(conn, caller.account_id, campaign_id=campaign.id)
        histogram = await store.delivery_histogram(conn, caller.account_id, campaign_id=campaign.id)
    return _assemble(cells, histogram, campaign.currency, campaign_id=campaign.id)


def resolve_range(raw_from: str | None, raw_to: str | None, now: datetime, *, default: timedelta) -> tuple[datetime, datetime]:
    """`from`/`to` of a report (the format of every relaybox time: "YYYY-MM-DD HH:MM:SS" UTC or
    ISO 8601): `to` defaults to now, `from` to `to` − `default`; at most 3 months.

    Raises ValidationFailed (422, field paths `from`, `to`).
    """
    errors: list[FieldError] = []
    values: dict[str, datetime | None] = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        values[name] = None
        if raw not in (None, ""):
            try:
                values[name] = parse_time(raw)
            except InvalidTime as exc:
                errors.append(FieldError(name, f"The {name} {exc}.", LegacyCode.INVALID_PARAMETERS))
    if errors:
        raise ValidationFailed(errors)
    end = values["to"] or now
    start = values["from"] or end - default
    if start >= end:
        raise ValidationFailed.one("from", "The from must be before to.")
    if end - start > MAX_RANGE:
        raise ValidationFailed.one("from", "The period must not exceed 3 months.")
    return start, end


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = _floor_hour(moment)
    return floor if floor == moment else floor + timedelta(hours=1)


async def account_breakdown(platform: Platform, caller: Caller, start: datetime, end: datetime) -> Breakdown:
    """The breakdown of the caller's messages created in [start, end), widened to whole hours
    (the roll-ups' resolution): `start` down, `end` up.  Use `resolve_range` for raw input."""
    start, end = _floor_hour(start), _ceil_hour(end)
    account = await _currency(platform, caller)
    async with platform.db.read() as conn:
        cells = await store.status_cells(conn, caller.account_id, start=start, end=end)
        histogram = await store.delivery_histogram(conn, caller.account_id, start=start, end=end)
    return _assemble(cells, histogram, account, start=start, end=end)


async def _currency(platform: Platform, caller: Caller) -> str | None:
    async with platform.db.read() as conn:
        account = await accounts_store.get_account(conn, caller.account_id)
    return account.currency if account else None


def _floor(moment: datetime, interval: str) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    if interval in ("hour", "day"):
        moment = moment.replace(minute=0)
    if interval == "day":
        moment = moment.replace(hour=0)
    return moment


async def time_series(
    platform: Platform, caller: Caller, start: datetime, end: datetime, interval: str = "hour",
    *, campaign_id: int | None = None,
) -> TimeSeries:
    """Sent/delivered/failed per `interval` ("minute" | "hour" | "day") in [start, end), for the
    account or one of its campaigns; `start` is floored to the interval, `end` rounded up.

    Raises ValidationFailed (`interval`: unknown, or more than MAX_POINTS points) and NotFound
    (another account's campaign).
    """
    step = INTERVALS.get(interval)
    if step is None:
        raise ValidationFailed.one("interval", "The interval must be one of minute, hour, day.")
    if campaign_id is not None:
        await queries.get_campaign(platform, caller, campaign_id)
    start = _floor(start, interval)
    floor_end = _floor(end, interval)
    end = floor_end if floor_end == end else floor_end + step
    if (end - start) / step > MAX_POINTS:
        raise ValidationFailed.one("interval", f"The range holds more than {MAX_POINTS} {interval}s: "
                                   "choose a longer interval or a shorter range.")
    async with platform.db.read() as conn:
        found = await store.event_series(conn, caller.account_id, start=start, end=end, interval=interval,
                                         campaign_id=campaign_id)
    by_time = {p.at: p for p in found}
    points = []
    at = start
    while at < end:
        p = by_time.get(at)
        points.append(SeriesPoint(at, p.sent, p.delivered, p.failed) if p else SeriesPoint(at, 0, 0, 0))
        at += step
    return TimeSeries(interval, start, end, points, campaign_id)
