"""One API response bodies and error envelopes, for the OpenAPI document (api/openapi.py).

The bodies themselves are built as dicts by `oneapi/present.py` (no model on the hot paths); these
models describe them field by field, with the JSON types the official client validates:
`tests/unit/test_openapi_document.py` checks them against what `present` builds, and
`tests/unit/test_openapi_bsg.py` against BSG's published spec (the `bsg_api` client's models).
Every field listed is always sent (`null` where the type says so).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel

#: A time as relaybox writes it: UTC, `YYYY-MM-DD HH:MM:SS`.
Time = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
                            description="UTC, `YYYY-MM-DD HH:MM:SS`")]
CampaignStatus = Literal["creation", "moderation", "spam", "scheduled", "sending", "paused", "stopped", "done"]
MessageStatus = Literal["scheduled", "moderation", "accepted", "sending", "sent", "delivered", "read", "expired",
                        "failed", "undelivered", "unknown", "not_service_user"]
#: The channels relaybox sends (BSG's MessageType also has viber, hlr, whatsapp).
MessageType = Literal["sms", "rcs"]
#: `rest`: sent through either API (BSG: "rest"); BSG's other sources (web, smpp, ...) do not occur.
MessageSource = Literal["rest"]
Amount = Annotated[str, Field(pattern=r"^-?\d+\.\d{7}$", description="a decimal string with 7 decimals")]


class _Out(BaseModel):
    """A response body: a field without a default is always sent (required); one with a default may be absent."""


class ShortStatistics(_Out):
    delivered: int = Field(description="delivered + read")
    sent: int = Field(description="messages that reached an operator")


class Campaign(_Out):
    """A campaign as list, get, stop (and, with `calculated_price`, the sends) return it."""

    id: int
    name: str | None
    sender: str | None
    status: CampaignStatus
    message_type: MessageType
    start_at: Time | None
    real_start_at: Time | None
    finished_at: Time | None
    created_at: Time
    statistics: ShortStatistics
    currency: str


class SentCampaign(Campaign):
    calculated_price: float = Field(description="the campaign's total price, a JSON number")


class CampaignResponse(_Out):
    data: Campaign


class SmsCampaignResponse(_Out):
    """The answer of the campaign sends (SMS, individual, to lists, RCS)."""

    data: SentCampaign
    skipped: dict[str, list[str]] = Field(
        default_factory=dict,
        description="relaybox: only when stop-listed recipients were left out (never sent, never charged): each "
                    "left-out phone's path in the request (`phones.<i>.number`, `messages.<i>.phone`, "
                    "`contacts.<phone>.phone`) and why, shaped as a 422's `errors` (docs/sending-to-lists.md)",
        examples=[{"phones.0.number": ["The phone is on the SMS stop list: not sent."]}])


class DetailStatistics(_Out):
    scheduled: int
    moderation: int
    accepted: int
    sending: int
    sent: int
    delivered: int
    read: int
    expired: int
    failed: int
    undelivered: int
    unknown: int
    not_viber_user: int = Field(ge=0, le=0, description="always 0: relaybox sends no Viber")
    not_rcs_user: int = Field(description="messages in not_service_user")


class AlternativeStatistics(_Out):
    statistics: DetailStatistics


class AlternativeChannelsStatistics(_Out):
    sms: AlternativeStatistics


class CampaignDetail(_Out):
    id: int
    name: str | None
    sender: str | None
    status: CampaignStatus
    type: MessageType
    started_at: Time | None
    actual_start_at: Time | None
    finished_at: Time | None
    created_at: Time
    statistics: DetailStatistics
    alternative_channels: AlternativeChannelsStatistics | None = Field(
        description="RCS campaigns: the statistics of their SMS fallbacks; null for SMS campaigns")
    total_messages: int
    total_phones: int
    total_price: Amount
    currency: str


class CampaignDetailResponse(_Out):
    data: CampaignDetail


class PageMeta(_Out):
    total: int
    offset: int = Field(ge=0)
    limit: int


class Meta(_Out):
    page: PageMeta


class CampaignPage(_Out):
    data: list[Campaign]
    meta: Meta


class MessageAmount(_Out):
    value: Amount
    currency: str


class AlternativeSmsIds(_Out):
    parts: int
    id: list[int]


class MessageAlternativeChannels(_Out):
    sms: AlternativeSmsIds


class Message(_Out):
    """A message of `GET /api/messages`; RCS messages also carry `rcs_options` and `alternative_channels`."""

    id: int = Field(ge=1)
    campaign_id: int | None
    reference_id: str | None
    type: MessageType
    source: MessageSource
    text: str | None
    phone: int = Field(description="E.164 digits")
    validity: int = Field(ge=1, le=72)
    status: MessageStatus
    amount: MessageAmount
    sender: str | None
    created_at: Time
    sent_at: Time | None
    delivered_at: Time | None
    country: str | None
    parts: int
    rcs_options: dict | None = Field(None, description="RCS only: the content sent ({text} or {cards})")
    alternative_channels: MessageAlternativeChannels | None = Field(
        None, description="RCS only: the SMS sent instead, when one was")


class MessagePage(_Out):
    data: list[Message]
    meta: Meta


class MessageInfo(_Out):
    id: int = Field(ge=1)
    reference_id: str | None
    source: MessageSource
    type: MessageType
    phone: int = Field(description="E.164 digits")
    status: MessageStatus
    validity: int = Field(ge=1, le=72)
    amount: MessageAmount
    sender: str | None
    created_at: Time
    sent_at: Time | None
    delivered_at: Time | None


class MessageResponse(_Out):
    data: MessageInfo


class DryRunInfo(_Out):
    """A dry run's answer: checked and priced like a real send, but nothing is stored, so no id or times."""

    source: MessageSource
    type: MessageType
    phone: int = Field(description="E.164 digits")
    status: Literal["accepted"]
    validity: int = Field(ge=1, le=72)
    amount: MessageAmount
    sender: str | None


class SendMessageResponse(_Out):
    """`POST /api/messages/send`: the message, or with `dry_run: true` what it would be."""

    data: MessageInfo | DryRunInfo


class Balance(_Out):
    balance: float
    currency: str
    credit: float


class BalanceResponse(_Out):
    data: Balance


class Tariff(_Out):
    id: int
    name: str
    code: int
    is_active: bool
    is_default: bool


class TariffPage(_Out):
    data: list[Tariff]
    total: int


class Token(_Out):
    bearer: str = Field(description="a JWT for `Authorization: Bearer`")


class Price(_Out):
    price: float
    currency: str


# -- error envelopes


class ValidationErrors(_Out):
    """422: each field path (`phones.0.number`) with what is wrong; `Not enough money` for funds."""

    message: str = Field(examples=["The given data was invalid.", "Not enough money"])
    errors: dict[str, list[str]]


class InvalidCampaignStatus(_Out):
    message: Literal["Invalid campaign status"]
    errors: Annotated[list[str], Field(max_length=0)]


class Unauthenticated(_Out):
    message: Literal["Unauthenticated."]


class Forbidden(_Out):
    message: Literal["Account is blocked."]


class NotFound(_Out):
    message: Literal["Not found"]


class TooManyRequests(_Out):
    """A rate limit (`Too Many Attempts.`, with Retry-After) or a body repeated within 10 seconds."""

    message: Literal["Too Many Attempts.", "Too many duplicate request detected"]


class StopRefused(RootModel[InvalidCampaignStatus | ValidationErrors]):
    """422 of the campaign stop: not stoppable in its status (or an unreadable request)."""


#: The error envelopes every authenticated One API operation can answer.
ERRORS = {401: Unauthenticated, 403: Forbidden, 422: ValidationErrors, 429: TooManyRequests}
#: ... and those addressing one campaign by id.
ERRORS_BY_ID = {**ERRORS, 404: NotFound}


# -- statistics export jobs (BSG's `/api/stat/jobs`): every answer is HTTP 200, errors in BSG's
# `{"error": code, "errorDescription": ...}` envelope (services/stat_jobs.py, docs/reports.md)

JobStatus = Literal["Pending", "Processing", "Done", "Failed"]
StatStatus = Literal["Scheduled", "Moderation", "Accepted", "Sending", "Sent", "Delivered", "Expired", "Failed",
                     "Undelivered", "Unknown", "Read", "Not_service_user"]


class StatJobError(_Out):
    """A stat job's error: 90 `File not found` (unknown key, another account's job, deleted), 91 `Maximum
    count of exports reached`, 92 `Job is not finished yet` (with the job's `status`), 93 `Job failed`."""

    error: Literal[90, 91, 92, 93]
    errorDescription: Literal["File not found", "Maximum count of exports reached", "Job is not finished yet",
                              "Job failed"]
    status: Literal["Pending", "Processing"] | None = Field(None, description="error 92 only: the job's status")


class StatJobKey(_Out):
    """A job created, or deleted."""

    error: Literal[0]
    errorDescription: Literal["No errors"]
    key: str = Field(description="the job's key", examples=["3941ffacdd698b404e"])


class StatJobKeyAnswer(RootModel[StatJobKey | StatJobError]):
    """`POST /api/stat/jobs` (errors: 91) and `DELETE /api/stat/jobs/{key}` (errors: 90)."""


class StatJob(_Out):
    key: str
    request: dict = Field(description="the filter as it was given")
    status: JobStatus
    created_at: Time
    finished_at: Time | None
    rows: int | None = Field(description="messages in the result; null until the job is done")


class StatJobList(_Out):
    """`GET /api/stat/jobs`: the account's jobs, newest first."""

    error: Literal[0]
    result: list[StatJob]


class StatRow(_Out):
    """One exported message (BSG's example row): every value a string or null."""

    message_id: str = Field(pattern=r"^[0-9]+$")
    message_type: MessageType
    msisdn: str = Field(pattern=r"^[0-9]+$", description="E.164 digits")
    country_name: str | None
    brand: str | None
    mcc: str | None
    mnc: str | None
    originator: str | None = Field(description="the sender")
    price: Amount
    currency: str | None
    time_in: Time = Field(description="accepted")
    time_sent: Time | None
    time_dlr: Time | None
    status: StatStatus
    body: str | None
    sl_clicks: None = Field(description="always null: relaybox has no short links")


class StatPage(_Out):
    """`GET /api/stat/jobs/{key}`: one page of a finished job's rows."""

    error: Literal[0]
    status: Literal["Done"]
    result: list[StatRow]
    meta: Meta


class StatPageAnswer(RootModel[StatPage | StatJobError]):
    """`GET /api/stat/jobs/{key}` (errors: 90, 92, 93)."""


class StatCsvError(RootModel[StatJobError]):
    """The CSV download's JSON answer: the job's error (90, 92, 93) instead of the file."""


# -- relaybox's report extensions (`/api/x-relaybox/`): docs/reports.md


class BreakdownCost(_Out):
    value: Amount
    currency: str | None = Field(description="the account's currency")


class NetworkBreakdown(_Out):
    country: str = Field(description="ISO 3166 alpha-2")
    country_name: str | None
    brand: str | None = Field(description="the operator; null where unknown")
    mcc: str | None
    mnc: str | None
    total: int = Field(ge=0)
    statuses: dict[str, int] = Field(description="messages per status (statuses with messages)")
    cost: Amount


class HistogramBucket(_Out):
    le: int = Field(description="the bucket's upper edge in seconds (259200: slower than a day)")
    count: int = Field(ge=0)


class DeliveryTime(_Out):
    """Delivered messages' `delivered_at − sent_at` in seconds; percentiles are bucket upper edges."""

    count: int = Field(ge=0)
    p50: int | None
    p90: int | None
    p99: int | None
    histogram: list[HistogramBucket]


class Breakdown(_Out):
    total: int = Field(ge=0)
    statuses: dict[str, int] = Field(description="messages now in each status, zeros included")
    cost: BreakdownCost
    networks: list[NetworkBreakdown] = Field(description="by country and operator, most messages first")
    delivery_time: DeliveryTime
    campaign_id: int | None = Field(None, description="a campaign's breakdown only")
    from_: Time | None = Field(None, alias="from", description="an account's breakdown only: the range's start")
    to: Time | None = Field(None, description="an account's breakdown only: the range's end (excluded)")


class BreakdownResponse(_Out):
    data: Breakdown


class SeriesPoint(_Out):
    at: Time = Field(description="the interval's start")
    sent: int = Field(ge=0)
    delivered: int = Field(ge=0)
    failed: int = Field(ge=0)


class TimeSeries(_Out):
    interval: Literal["minute", "hour", "day"]
    from_: Time = Field(alias="from")
    to: Time
    campaign_id: int | None
    points: list[SeriesPoint] = Field(description="every interval of the range, zeros included")


class TimeSeriesResponse(_Out):
    data: TimeSeries


class InboundMessage(_Out):
    """An inbound (mobile-originated) message (docs/inbound.md)."""

    id: int = Field(ge=1)
    from_: str = Field(alias="from", description="the sender's number (MSISDN) as the SMSC gave it")
    to: str = Field(description="the number it was sent to")
    text: str
    encoding: str = Field(description="how the text was read from the PDU's data_coding: gsm7, ascii, latin1, "
                          "cyrillic, hebrew, ucs2, or binary (the octets as hexadecimal)")
    parts: int = Field(ge=1)
    received_at: Time
    route: Literal["number", "last_sender"] = Field(
        description="how it was matched to the account: the number is the account's, or the last sender to that phone")
    reply_to_message_id: int | None
    action: Literal["stoplisted"] | None = Field(description="`stoplisted`: its keyword put the sender on the stop list")


class InboundPage(_Out):
    data: list[InboundMessage]
    meta: Meta
