"""Typed answers of BSG-compatible APIs (pydantic models), as relaybox and BSG's cloud send them.

Field names and meanings follow BSG's One API spec (v2.0, `components/schemas`) and the legacy
REST API.  Conventions, whichever shape the server used on the wire:

- money is `Decimal` in the account's ISO 4217 currency (the wire has 7-decimal strings such as
  `"0.0100000"` and JSON numbers such as `0.015`; both parse exactly, never through binary floats);
- times are timezone-aware `datetime`s in UTC (the wire has `2025-03-20 05:11:15`, UTC, and
  ISO 8601 with an offset such as `2000-01-23T04:56:07.000+00:00`);
- phone numbers are E.164 digits without `+` (`int` in the One API, `str` in legacy REST);
- unknown fields are kept (`model_extra`), so a newer server does not break an older client.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field


def _exact_decimal(value: Any) -> Any:
    # str(0.1) is "0.1": the decimal written on the wire, not the binary float's expansion
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = Annotated[Decimal, BeforeValidator(_exact_decimal)]
UtcTime = Annotated[datetime, AfterValidator(_utc)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a One API list: `{"data": [...], "meta": {"page": {total, offset, limit}}}`.

    `total` counts the items on every page; `offset` and `limit` are the page's (spec: `MetaPage`).
    """

    items: list[T]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        """Offset of the following page, or None when this page is the last."""
        end = self.offset + len(self.items)
        if not self.items or len(self.items) < self.limit or end >= self.total:
            return None
        return end


# -- One API ------------------------------------------------------------------------------------


class Amount(_Model):
    """A message's price (spec `MessageApiSchema.amount`): `value` from a 7-decimal string."""

    value: Money
    currency: str | None = None


class Message(_Model):
    """A message (spec `MessageApiSchema`; `POST /api/messages/send` answers a subset of it).

    `status` is one of BSG's `MessageStatus` values (scheduled, accepted, sending, sent,
    delivered, expired, failed, undelivered, unknown, read, not_service_user, ...); `validity`
    is hours; `parts` the number of SMS segments charged.
    """

    id: int
    campaign_id: int | None = None
    reference_id: str | None = None
    type: str | None = None
    source: str | None = None
    text: str | None = None
    phone: int
    validity: int | None = None
    status: str
    amount: Amount | None = None
    sender: str | None = None
    created_at: UtcTime | None = None
    sent_at: UtcTime | None = None
    delivered_at: UtcTime | None = None
    country: str | None = None
    parts: int | None = None


class ShortStatistics(_Model):
    """Campaign list / get / send statistics: `delivered` (incl. read), `sent` (reached an operator)."""

    delivered: int = 0
    sent: int = 0


class Campaign(_Model):
    """A campaign as listed, fetched, sent or stopped (spec `CampaignSchema`).

    `status` is one of creation, moderation, spam, scheduled, sending, paused, stopped, done.
    `calculated_price` is given by send answers (and by BSG's list); None where the server omits it.
    """

    id: int
    name: str | None = None
    sender: str | None = None
    status: str
    message_type: str | None = None
    start_at: UtcTime | None = None
    real_start_at: UtcTime | None = None
    finished_at: UtcTime | None = None
    created_at: UtcTime | None = None
    statistics: ShortStatistics = Field(default_factory=ShortStatistics)
    calculated_price: Money | None = None
    currency: str | None = None


#: Campaign statuses after which nothing changes any more.
FINAL_CAMPAIGN_STATUSES = frozenset({"done", "stopped", "spam"})


class CampaignDetail(_Model):
    """`GET /api/campaigns/{id}/detail` (spec `CampaignDetails200Response.data`).

    `statistics` maps every message status (and `not_viber_user`, `not_rcs_user`) to the number
    of the campaign's messages now in it; `total_price` is the campaign's cost in `currency`.
    """

    id: int
    name: str | None = None
    sender: str | None = None
    status: str
    type: str | None = None
    started_at: UtcTime | None = None
    actual_start_at: UtcTime | None = None
    finished_at: UtcTime | None = None
    created_at: UtcTime | None = None
    statistics: dict[str, int] = Field(default_factory=dict)
    total_messages: int | None = None
    total_phones: int | None = None
    total_price: Money | None = None
    currency: str | None = None
    # relaybox: {"sms": {"statistics": {...}}} for RCS campaigns, else null; BSG's example: []
    alternative_channels: Any = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_CAMPAIGN_STATUSES


class Balance(_Model):
    """`GET /api/accounts/balance`: `balance` (may be negative down to -`credit`) in `currency`."""

    balance: Money
    currency: str | None = None
    credit: Money = Decimal(0)


class Price(_Model):
    """`POST /api/campaigns/price`: the estimated cost of a campaign (None when BSG gives none)."""

    price: Money | None = None
    currency: str | None = None


class Tariff(_Model):
    """One of the account's tariffs (spec `TariffSchema`)."""

    id: int | None = None
    name: str | None = None
    code: int
    is_active: bool = True
    is_default: bool = False


# -- legacy REST ---------------------------------------------------------------------------------


class LegacyMessageStatus(_Model):
    """`GET /rest/sms/{id}` and `/rest/sms/reference/{reference}`: one message's state.

    `time_in` accepted, `time_sent` handed to the operator (the planned time until then),
    `time_dr` delivery report; `price` in `currency`.
    """

    id: str
    msisdn: str
    reference: str | None = None
    time_in: UtcTime | None = None
    time_sent: UtcTime | None = None
    time_dr: UtcTime | None = None
    status: str
    price: Money | None = None
    currency: str | None = None


class LegacyTaskStatus(_Model):
    """`GET /rest/sms/task/{task_id}`: a task's (campaign's) totals.

    `sent` counts messages that reached an operator; `body` is None for an individual task.
    """

    originator: str | None = None
    body: str | None = None
    validity: int | None = None
    totalprice: Money | None = None
    currency: str | None = None
    sent: int = 0
    delivered: int = 0
    expired: int = 0
    undeliverable: int = 0
    unknown: int = 0


class LegacyResult(_Model):
    """One recipient of a legacy create/price answer: `error` 0 and an `id` when accepted,
    else its own legacy error code (21 invalid phone, 23 reference exists, ...)."""

    error: int = 0
    error_description: str | None = Field(default=None, alias="errorDescription")
    id: str | None = None
    reference: str | None = None
    price: Money | None = None
    currency: str | None = None

    @property
    def ok(self) -> bool:
        return self.error == 0


class LegacyTask(_Model):
    """`PUT /rest/sms/create` with `phones` or `individual`: the task and each recipient's result.

    A refused recipient does not sink the others; `task_id` is None when every one was refused.
    """

    task_id: str | None = None
    result: list[LegacyResult] = Field(default_factory=list)
    total_price: Money | None = None
    currency: str | None = None


class LegacyPrice(_Model):
    """One line of `GET /rest/sms/prices[/{tariff}]`: the SMS price to a country (MCC)."""

    type: str | None = None
    country: str
    country_name: str | None = None
    mcc: str | int | None = None
    mnc: str | int | None = None
    price: Money
    currency: str | None = None


class LegacyBalance(_Model):
    """`GET /rest/common/balance`: `amount` (balance) and `limit` (credit) in `currency`."""

    amount: Money
    currency: str | None = None
    limit: Money = Decimal(0)
