"""Pure shaping of what the console shows: funnels, bars, costs, formatted values.

No I/O: each function takes records the services returned and gives plain values for templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from relaybox.domain.money import format_amount
from relaybox.domain.status import FINAL, REACHED_OPERATOR, RCS_PAID, MessageStatus
from relaybox.domain.timefmt import format_time

#: Campaign statuses in which its counters still move: the page polls for progress.
LIVE_CAMPAIGN = frozenset({"creation", "moderation", "scheduled", "sending", "paused"})

#: Order and wording of the per-status table.
STATUS_ORDER = [s.value for s in MessageStatus]
STATUS_LABELS = {
    "scheduled": "Scheduled", "moderation": "Moderation", "accepted": "Accepted", "sending": "Sending",
    "sent": "Sent (awaiting report)", "delivered": "Delivered", "read": "Read", "expired": "Expired",
    "failed": "Failed", "undelivered": "Undelivered", "unknown": "Unknown", "not_service_user": "Not an RCS user",
}
_FAILED = ("expired", "failed", "undelivered", "unknown", "not_service_user")


def amount(units: int | None, currency: str = "") -> str:
    """Money in units of 10^-7 as the API shows it (7 decimals), trailing zeros trimmed to 2."""
    if units is None:
        return "–"
    text = format_amount(units)
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"{whole}.{frac} {currency}".strip()


def when(value: datetime | None) -> str:
    """A time as `YYYY-MM-DD HH:MM:SS` UTC, or `–`."""
    return format_time(value) or "–"


def number(value: int | None) -> str:
    """An integer with thousands separators, or `–`."""
    return "–" if value is None else f"{value:,}"


def percent(part: int, whole: int) -> int:
    """`part` of `whole` in whole percent, 0 for an empty whole, never above 100."""
    if whole <= 0:
        return 0
    return min(100, round(100 * part / whole))


def phone(value: int) -> str:
    """An E.164 number with its `+`."""
    return f"+{value}"


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a funnel: its count and its share of the first step in whole percent."""
    label: str
    count: int
    share: int  # percent of the first step


def funnel(counts: Mapping[str, int], total: int) -> list[Step]:
    """Accepted → reached an operator → delivered, and those that failed on the way.

    `counts`: the campaign's per-status counters (campaigns.n_<status>); `total`: its messages.
    Sent = reached an operator (sent, delivered, read, undelivered, expired after sending,
    unknown), as the One API's short statistics count it; delivered includes read.
    """
    reached = sum(counts.get(s.value, 0) for s in REACHED_OPERATOR)
    delivered = counts.get("delivered", 0) + counts.get("read", 0)
    failed = sum(counts.get(s, 0) for s in _FAILED)
    steps = [("Accepted", total), ("Reached an operator", reached), ("Delivered", delivered), ("Not delivered", failed)]
    return [Step(label, n, percent(n, total)) for label, n in steps]


def status_rows(counts: Mapping[str, int]) -> list[tuple[str, str, int]]:
    """(status, label, count) for every status with messages, in the statuses' order."""
    return [(s, STATUS_LABELS[s], counts.get(s, 0)) for s in STATUS_ORDER if counts.get(s, 0)]


@dataclass(frozen=True, slots=True)
class Cost:
    """A campaign's money in units of 1e-7 of the currency: charged, reserved and refunded."""
    charged: int  # units: messages whose price stays charged (final, not refunded)
    reserved: int  # units: messages not final yet (reserved at acceptance)
    refunded: int  # units: given back (failed before an operator, expired unsent, RCS not delivered)
    charged_messages: int


def cost(groups: Sequence) -> Cost:
    """Split a campaign's prices (store.campaign_costs.PriceGroup) by the refund rules of
    domain/status.py: an SMS is paid once an operator took it; an unsent one that failed or expired
    is refunded; an RCS message is paid only when delivered or read."""
    charged = reserved = refunded = charged_n = 0
    for g in groups:
        status = MessageStatus(g.status)
        if status not in FINAL:
            reserved += g.price
        elif (status in RCS_PAID) if g.channel == "rcs" else g.reached_operator:
            charged += g.price
            charged_n += g.messages
        else:
            refunded += g.price
    return Cost(charged, reserved, refunded, charged_n)


def chart_data(counts: Mapping[str, int]) -> dict:
    """The per-status bar chart's data (console.js draws it with Chart.js)."""
    rows = status_rows(counts)
    return {"labels": [label for _, label, _ in rows], "values": [n for _, _, n in rows],
            "statuses": [s for s, _, _ in rows]}
