"""The campaign page's statistics blocks: the delivery-time histogram, its percentiles and the
per-country/operator table, from `relaybox.services.breakdowns.campaign_breakdown`.

The service reads the traffic roll-ups (never the messages), so the page costs the same for a
campaign of 10 messages and of 10,000,000 and can be re-read on every live-progress poll.  The
functions here other than `campaign_stats` are pure: they shape the service's `Breakdown` for
templates/partials/breakdown_*.html (docs/console.md, "A campaign").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relaybox.domain.delivery_times import EDGES, OVERFLOW_SECONDS
from relaybox.domain.models import Caller, Campaign
from relaybox.domain.money import to_units
from relaybox.services import breakdowns as service
from relaybox.services.platform import Platform

#: Statuses a network row counts as delivered, and as not delivered (final, but not delivered).
DELIVERED = ("delivered", "read")
NOT_DELIVERED = ("expired", "failed", "undelivered", "unknown", "not_service_user")


def duration(seconds: int) -> tuple[str, str]:
    """(number, unit) of a bucket edge: seconds below a minute, minutes below an hour, else hours
    (90 → ("1.5", "min"), 7200 → ("2", "h"))."""
    if seconds < 60:
        return str(seconds), "s"
    value, unit = (seconds / 60, "min") if seconds < 3600 else (seconds / 3600, "h")
    return f"{value:g}", unit


def _text(seconds: int) -> str:
    number, unit = duration(seconds)
    return f"{number} {unit}"


def bucket_label(index: int) -> str:
    """The range of histogram bucket `index` (domain/delivery_times.py): "0–1 s", "45 s–1 min",
    "1–1.5 min", …, "> 24 h" for the last (everything slower than the last edge)."""
    if index >= len(EDGES):
        return f"> {_text(EDGES[-1])}"
    low = duration(EDGES[index - 1]) if index else ("0", "s")
    high = duration(EDGES[index])
    if low[1] == high[1]:
        return f"{low[0]}–{high[0]} {high[1]}"
    return f"{low[0]} {low[1]}–{high[0]} {high[1]}"


def at_most(edge: int | None) -> str | None:
    """A percentile (the upper edge of its bucket, seconds) as the page shows it: "≤ 3 s"; the
    overflow bucket's edge as "> 24 h"; None stays None (no deliveries)."""
    if edge is None:
        return None
    if edge >= OVERFLOW_SECONDS:
        return f"> {_text(EDGES[-1])}"
    return f"≤ {_text(edge)}"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the delivery-time histogram: the bucket's range and its delivered messages."""
    label: str  # the bucket's range, e.g. "2–3 s"
    count: int  # delivered messages whose delivery time is in it


def histogram_bars(histogram: Sequence[tuple[int, int]]) -> list[Bar]:
    """The service's [(upper edge in seconds, messages)] as bars from the fastest non-empty
    bucket to the slowest, empty buckets between them included (a gap is part of the shape)."""
    index_of = {edge: i for i, edge in enumerate(EDGES)}
    counts = {index_of.get(edge, len(EDGES)): n for edge, n in histogram if n}
    if not counts:
        return []
    return [Bar(bucket_label(i), counts.get(i, 0)) for i in range(min(counts), max(counts) + 1)]


@dataclass(frozen=True, slots=True)
class NetworkLine:
    """One row of the per-country/operator table; `operator`, `mcc`, `mnc` None where the data
    has no answer (docs/reports.md, "Country and operator of a message")."""

    country: str  # ISO 3166 alpha-2
    country_name: str | None
    operator: str | None
    mcc: str | None
    mnc: str | None
    messages: int
    delivered: int
    not_delivered: int
    cost: int  # units of 10^-7 of the campaign's currency (refunds and test traffic: 0)


def network_lines(rows: Sequence[service.NetworkRow]) -> list[NetworkLine]:
    """The service's rows (most messages first) as table lines, in the same order."""
    return [
        NetworkLine(
            country=r.country, country_name=r.country_name, operator=r.brand, mcc=r.mcc, mnc=r.mnc,
            messages=r.total,
            delivered=sum(r.by_status.get(s, 0) for s in DELIVERED),
            not_delivered=sum(r.by_status.get(s, 0) for s in NOT_DELIVERED),
            cost=to_units(r.cost),
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class CampaignStats:
    """What the campaign page's statistics blocks show."""

    bars: list[Bar]
    timed: int  # delivered messages with a delivery time (sent and delivered both known)
    p50: str | None
    p90: str | None
    p99: str | None
    networks: list[NetworkLine]
    total: int  # messages in the table (its footer)
    delivered: int
    not_delivered: int
    cost: int  # units
    currency: str | None

    @property
    def chart(self) -> list[dict]:
        """The histogram's data for console.js (Chart.js): [{"label", "count"}]."""
        return [{"label": b.label, "count": b.count} for b in self.bars]


def shape(b: service.Breakdown) -> CampaignStats:
    """A campaign's breakdown as the campaign page shows it: histogram bars, p50/p90/p99, per-network lines and the
    cost in units of 1e-7 of the currency.
    """
    lines = network_lines(b.networks)
    times = b.delivery_times
    return CampaignStats(
        bars=histogram_bars(times.histogram), timed=times.count,
        p50=at_most(times.p50), p90=at_most(times.p90), p99=at_most(times.p99),
        networks=lines, total=b.total,
        delivered=sum(n.delivered for n in lines), not_delivered=sum(n.not_delivered for n in lines),
        cost=to_units(b.cost), currency=b.currency,
    )


async def campaign_stats(platform: Platform, caller: Caller, campaign: Campaign) -> CampaignStats:
    """The breakdown of one of the caller's campaigns, shaped for the page.  Raises NotFound
    for another account's campaign (the page has already checked that)."""
    return shape(await service.campaign_breakdown(platform, caller, campaign.id))
