"""Every API call as a value: what to send and how to read the answer, shared by both clients.

A `Call` says the HTTP method and path, the query and JSON body, which API family it belongs to
(and so how it authenticates and how its errors look), whether repeating it is harmless, and how
to turn the decoded JSON of a successful answer into a model.  `Client` and `AsyncClient` only
carry calls over the wire (client/flow.py decides retries and tokens), so each operation is
written once, here.

The docstrings name the spec operation (BSG One API v2.0 `operationId`, or the legacy REST path)
each builder follows.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Generic, TypedDict, TypeVar

from relaybox.client import errors
from relaybox.client.models import (
    Balance,
    Campaign,
    CampaignDetail,
    LegacyBalance,
    LegacyMessageStatus,
    LegacyPrice,
    LegacyResult,
    LegacyTask,
    LegacyTaskStatus,
    Message,
    Page,
    Price,
    Tariff,
)

T = TypeVar("T")


class Family(StrEnum):
    """How a call authenticates and how its errors look."""

    ONEAPI = "oneapi"  # /api: bearer JWT (or X-API-KEY), HTTP status errors
    LEGACY = "legacy"  # /rest: X-API-KEY, HTTP 200 {"error": N} errors
    LOGIN = "login"  # /api/auth/login: the key in the body, no auth header
    REFRESH = "refresh"  # /api/auth/refresh: the current JWT


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the reading of its answer.

    `idempotent` says whether sending it twice is harmless: only such calls are repeated after a
    5xx or a reply lost once the request may have reached the server (client/flow.py).
    `parse` takes the decoded JSON of a 2xx answer and returns the model (or raises an error of
    client/errors.py).
    """

    method: str
    path: str
    parse: Callable[[Any], T]
    family: Family = Family.ONEAPI
    params: Mapping[str, str] | None = None
    json: Any = None
    idempotent: bool = True


PhoneInput = int | str


def phone_value(phone: PhoneInput) -> int | str:
    """A phone number as the One API takes it: a JSON integer of E.164 digits (`+`, spaces,
    dashes and dots dropped).  Anything else goes as given, for the server to refuse with its
    field path."""
    if isinstance(phone, int) and not isinstance(phone, bool):
        return phone
    cleaned = str(phone).strip().lstrip("+").replace(" ", "").replace("-", "").replace(".", "")
    return int(cleaned) if cleaned.isascii() and cleaned.isdigit() and len(cleaned) <= 18 else str(phone)


def time_param(value: datetime | date | str) -> str:
    """A time for a query or body: `YYYY-MM-DD HH:MM:SS` in UTC (a naive datetime is taken as UTC)."""
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d 00:00:00")
    return value


def _body(**fields: Any) -> dict:
    """A JSON object of the fields that were given (None means "not sent", so the server's default)."""
    return {k: v for k, v in fields.items() if v is not None}


def _params(**fields: Any) -> dict[str, str]:
    return {k: (time_param(v) if isinstance(v, date) else str(v)) for k, v in fields.items() if v is not None}


def _data(model: Callable[..., T]) -> Callable[[Any], T]:
    return lambda body: model.model_validate(body["data"])  # type: ignore[attr-defined]


def _page(model: Any) -> Callable[[Any], Page]:
    def parse(body: Any) -> Page:
        meta = (body.get("meta") or {}).get("page") or {}
        items = [model.model_validate(item) for item in body["data"]]
        return Page[model](
            items=items,
            total=meta.get("total", len(items)),
            offset=meta.get("offset", 0),
            limit=meta.get("limit", len(items)),
        )

    return parse


def next_page(call: Call[Page[T]], page: Page[T]) -> Call[Page[T]] | None:
    """The call for the page after `page` (same filters, `page[offset]` moved on), or None."""
    offset = page.next_offset
    if offset is None:
        return None
    return dataclasses.replace(call, params={**(call.params or {}), "page[offset]": str(offset)})


# -- One API: authentication and account ---------------------------------------------------------


def login(api_key: str) -> Call[str]:
    """`POST /api/auth/login {"api_key"}` (operationId `login`): a JWT (`{"bearer": ...}`).

    Raises AuthError (401 `Unauthenticated.`) for an unknown, revoked or malformed key.
    """
    return Call("POST", "/api/auth/login", lambda b: b["bearer"], Family.LOGIN, json={"api_key": api_key})


def refresh() -> Call[str]:
    """`POST /api/auth/refresh` (operationId `refresh_token`): a new JWT for the current one."""
    return Call("POST", "/api/auth/refresh", lambda b: b["bearer"], Family.REFRESH)


def balance() -> Call[Balance]:
    """`GET /api/accounts/balance` (operationId `account_balance`)."""
    return Call("GET", "/api/accounts/balance", _data(Balance))


def tariffs(*, offset: int = 0, limit: int = 50) -> Call[list[Tariff]]:
    """`GET /api/accounts/tariff` (operationId `account_tariffs`): the account's active tariffs;
    `limit` 15–500."""

    def parse(body: Any) -> list[Tariff]:
        return [Tariff.model_validate(t) for t in body["data"]]

    return Call("GET", "/api/accounts/tariff", parse, params=_params(**{"page[offset]": offset, "page[limit]": limit}))


# -- One API: sending ----------------------------------------------------------------------------


class Recipient(TypedDict, total=False):
    """One phone of a campaign: `number` (E.164 digits) and an optional `reference_id`
    (1–32 of `[A-Za-z0-9_-]`, unique in the account)."""

    number: PhoneInput
    reference_id: str


class IndividualMessage(TypedDict, total=False):
    """One message of `send_individual` (spec `SmsSendIndividualRequest.messages[]`)."""

    phone: PhoneInput
    text: str
    sender: str
    reference_id: str
    tariff_code: int
    transliterate: bool


class SendOptions(TypedDict, total=False):
    """Options shared by the send calls.

    `validity`: hours, 1–72 (default 72); `tariff_code`: 0–9 (default: the account's);
    `start_at`: when to start (datetime, UTC if naive; later than now means `scheduled`);
    `transliterate`: turn non-GSM letters into Latin ones before counting segments;
    `callback_url`: where status callbacks go.
    """

    validity: int
    tariff_code: int
    start_at: datetime | str
    transliterate: bool
    callback_url: str


def _phones(phones: Iterable[PhoneInput | Recipient | tuple[PhoneInput, str | None]]) -> list[dict]:
    out = []
    for p in phones:
        if isinstance(p, Mapping):
            item = {"number": phone_value(p["number"])}
            if p.get("reference_id") is not None:
                item["reference_id"] = p["reference_id"]
        elif isinstance(p, tuple):
            item = {"number": phone_value(p[0])}
            if p[1] is not None:
                item["reference_id"] = p[1]
        else:
            item = {"number": phone_value(p)}
        out.append(item)
    return out


def _options(options: SendOptions) -> dict:
    start_at = options.get("start_at")
    return _body(**{**options, "start_at": time_param(start_at) if start_at is not None else None})


def send_sms(
    phones: Iterable[PhoneInput | Recipient | tuple[PhoneInput, str | None]], text: str, sender: str,
    **options: Any,
) -> Call[Campaign]:
    """`POST /api/campaigns/sms/send` (operationId `sms_send`): one text to up to 10,000 phones,
    as one campaign.

    `phones`: numbers (int or digit string), `(number, reference_id)` pairs or `Recipient` dicts.
    `text` up to 765 GSM septets or 355 UCS-2 units; `sender` 3–11 alphanumeric or 3–15 digits.
    Returns the campaign (`calculated_price` in its currency).  Raises ValidationError (422, e.g.
    `phones.3.number`, `text`, or `Not enough money`), DuplicateRequest (the same body within the
    duplicate window).  Never repeated after a 5xx or a lost reply (it could send twice).
    """
    body = {"phones": _phones(phones), "text": text, "sender": sender, **_options(options)}
    return Call("POST", "/api/campaigns/sms/send", _data(Campaign), json=body, idempotent=False)


def send_individual(messages: Iterable[IndividualMessage], **options: Any) -> Call[Campaign]:
    """`POST /api/campaigns/sms/send-individual` (operationId `sms_send_individual`): up to 10,000
    messages, each with its own text and sender, as one campaign.  Errors as `send_sms`
    (paths `messages.N.phone`, `messages.N.text`...)."""
    items = [{**m, "phone": phone_value(m["phone"])} for m in messages]
    body = {"messages": items, **_options(options)}
    return Call("POST", "/api/campaigns/sms/send-individual", _data(Campaign), json=body, idempotent=False)


def send_message(phone: PhoneInput, text: str, sender: str, *, reference_id: str | None = None,
                 validity: int | None = None, tariff_code: int | None = None, transliterate: bool | None = None,
                 callback_url: str | None = None) -> Call[Message]:
    """`POST /api/messages/send` (operationId `send_message`, channel `sms`): one message, no campaign.

    Returns the message (`id`, `status` `accepted`, `amount`).  Errors as `send_sms`, with paths
    `phone.number`, `sms.text`, `sms.sender`.
    """
    body = _body(
        channels=["sms"],
        phone=_body(number=phone_value(phone), reference_id=reference_id),
        sms=_body(text=text, sender=sender, transliterate=transliterate),
        validity=validity, tariff_code=tariff_code, callback_url=callback_url,
    )
    return Call("POST", "/api/messages/send", _data(Message), json=body, idempotent=False)


def price(phones: Iterable[PhoneInput], text: str, sender: str, *, tariff_code: int | None = None) -> Call[Price]:
    """`POST /api/campaigns/price` (operationId `campaign_price`): what a campaign would cost,
    nothing sent.  Raises ValidationError as `send_sms` (paths `messages.N.phone`)."""
    body = _body(messages=[{"phone": phone_value(p)} for p in phones], text=text, sender=sender, tariff_code=tariff_code)
    return Call("POST", "/api/campaigns/price", lambda b: Price.model_validate(b), json=body)


# -- One API: campaigns and messages ---------------------------------------------------------------


class CampaignFilters(TypedDict, total=False):
    """Filters of `GET /api/campaigns`.

    `type`: sms, rcs or whatsapp; `date_from`/`date_to`: created between (UTC; `to` at most 30
    days ahead); `search_field` sender or taskname with `search_value`; `sort`: id, sender, type,
    date, status; `way`: asc or desc; `offset`; `limit`: 30–500 per page (default 50).
    """

    type: str
    date_from: datetime | str
    date_to: datetime | str
    search_field: str
    search_value: str
    sort: str
    way: str
    offset: int
    limit: int


class MessageFilters(TypedDict, total=False):
    """Filters of `GET /api/messages`.

    `id`, `campaign_id`, `reference_id`; `date_from`/`date_to`: created between (UTC; default the
    three months up to now; a wider range, or a future `to`, is a ValidationError); `sort`: id,
    phone, delivered; `way`: asc or desc; `offset`; `limit`: 15–500 per page (default 50).
    """

    id: int
    campaign_id: int
    reference_id: str
    date_from: datetime | str
    date_to: datetime | str
    sort: str
    way: str
    offset: int
    limit: int


def campaigns(**filters: Any) -> Call[Page[Campaign]]:
    """`GET /api/campaigns` (operationId `campaigns`): one page of the account's campaigns
    (`CampaignFilters`).  Raises ValidationError for a bad filter (`page.limit`, `filter.type`...)."""
    params = _params(**{
        "filter[type]": filters.get("type"), "filter[from]": filters.get("date_from"),
        "filter[to]": filters.get("date_to"), "search[field]": filters.get("search_field"),
        "search[value]": filters.get("search_value"), "sort": filters.get("sort"), "way": filters.get("way"),
        "page[offset]": filters.get("offset"), "page[limit]": filters.get("limit"),
    })
    return Call("GET", "/api/campaigns", _page(Campaign), params=params)


def _campaign_path(campaign_id: int, suffix: str = "") -> str:
    return f"/api/campaigns/{int(campaign_id)}{suffix}"


def campaign(campaign_id: int) -> Call[Campaign]:
    """`GET /api/campaigns/{id}` (operationId `campaign`).  Raises NotFound for another account's id."""
    return Call("GET", _campaign_path(campaign_id), _data(Campaign))


def campaign_detail(campaign_id: int) -> Call[CampaignDetail]:
    """`GET /api/campaigns/{id}/detail` (operationId `campaign_details`): statuses counted.
    Raises NotFound."""
    return Call("GET", _campaign_path(campaign_id, "/detail"), _data(CampaignDetail))


def stop_campaign(campaign_id: int) -> Call[Campaign]:
    """`PATCH /api/campaigns/{id}/stop` (operationId `campaign_stop`): stop a scheduled, sending,
    paused or moderated campaign; its unsent messages are refunded.  Raises NotFound, and
    ValidationError `Invalid campaign status` for a campaign that is done or already stopped."""
    return Call("PATCH", _campaign_path(campaign_id, "/stop"), _data(Campaign), idempotent=False)


def messages(**filters: Any) -> Call[Page[Message]]:
    """`GET /api/messages` (operationId `get_messages`): one page of messages (`MessageFilters`).
    Raises ValidationError for a bad filter (`filter.from`, `page.limit`, `sort`...)."""
    params = _params(**{
        "filter[id]": filters.get("id"), "filter[campaign_id]": filters.get("campaign_id"),
        "filter[reference_id]": filters.get("reference_id"), "filter[from]": filters.get("date_from"),
        "filter[to]": filters.get("date_to"), "sort": filters.get("sort"), "way": filters.get("way"),
        "page[offset]": filters.get("offset"), "page[limit]": filters.get("limit"),
    })
    return Call("GET", "/api/messages", _page(Message), params=params)


def _only(what: str) -> Callable[[Any], Message]:
    def parse(body: Any) -> Message:
        if not body.get("data"):
            raise errors.NotFound(f"no message with that {what}", status_code=200, body=body)
        return Message.model_validate(body["data"][0])

    return parse


def message(message_id: int) -> Call[Message]:
    """One message by id: `GET /api/messages?filter[id]=` (the list's default date range, the last
    three months).  Raises NotFound when the list is empty."""
    return dataclasses.replace(messages(id=message_id), parse=_only("id"))


def message_by_reference(reference_id: str) -> Call[Message]:
    """One message by its `reference_id`: `GET /api/messages?filter[reference_id]=`.  Raises NotFound."""
    return dataclasses.replace(messages(reference_id=reference_id), parse=_only("reference"))


# -- legacy REST -----------------------------------------------------------------------------------


def _segment(value: object) -> str:
    # a caller's value is one path segment, never a way to another path
    return quote(str(value), safe="")


def _legacy_options(validity: int | None, tariff: int | None, send_time: datetime | str | None) -> dict:
    return _body(validity=validity, tariff=tariff, send_time=time_param(send_time) if send_time is not None else None)


def _one_result(body: Any) -> LegacyResult:
    result = LegacyResult.model_validate(body["result"])
    if not result.ok:
        raise errors.legacy_error(result.error, result.error_description or "", body)
    return result


def legacy_create_sms(msisdn: PhoneInput, body: str, reference: str, originator: str, *,
                      validity: int | None = None, tariff: int | None = None,
                      send_time: datetime | str | None = None) -> Call[LegacyResult]:
    """`PUT /rest/sms/create`, destination `phone`: one message (`reference` is required there).

    Returns its `id` and `price`.  Raises LegacyError with BSG's code: 21 invalid phone,
    22 reference missing, 23 reference exists, 25 invalid originator, 26 empty or too long
    text, 27 invalid reference, 28 invalid validity, 8 not enough money; LegacyAuthError (1).
    """
    payload = {"destination": "phone", "msisdn": str(msisdn), "body": body, "reference": reference,
               "originator": originator, **_legacy_options(validity, tariff, send_time)}
    return Call("PUT", "/rest/sms/create", _one_result, Family.LEGACY, json=payload, idempotent=False)


def legacy_create_task(phones: Sequence[tuple[PhoneInput, str]], body: str, originator: str, *,
                       validity: int | None = None, tariff: int | None = None,
                       send_time: datetime | str | None = None) -> Call[LegacyTask]:
    """`PUT /rest/sms/create`, destination `phones`: one text to `(msisdn, reference)` pairs as a
    task.  Each recipient's `LegacyResult` carries its own error; LegacyError only when every one
    was refused (or for a request-level code: 3, 7, 12, 25, 26...)."""
    payload = {"destination": "phones", "phones": [{"msisdn": str(m), "reference": r} for m, r in phones],
               "body": body, "originator": originator, **_legacy_options(validity, tariff, send_time)}
    return Call("PUT", "/rest/sms/create", LegacyTask.model_validate, Family.LEGACY, json=payload, idempotent=False)


def legacy_create_individual(messages: Sequence[Mapping[str, Any]], *, validity: int | None = None,
                             tariff: int | None = None, send_time: datetime | str | None = None) -> Call[LegacyTask]:
    """`PUT /rest/sms/create`, destination `individual`: `messages` of `{msisdn, reference,
    originator, body}`, as one task; errors as `legacy_create_task`."""
    phones = [{**m, "msisdn": str(m["msisdn"])} for m in messages]
    payload = {"destination": "individual", "phones": phones, **_legacy_options(validity, tariff, send_time)}
    return Call("PUT", "/rest/sms/create", LegacyTask.model_validate, Family.LEGACY, json=payload, idempotent=False)


def legacy_sms_status(message_id: int | str) -> Call[LegacyMessageStatus]:
    """`GET /rest/sms/{id}`: a message's status.  Raises LegacyNotFound (20)."""
    return Call("GET", f"/rest/sms/{_segment(message_id)}", LegacyMessageStatus.model_validate, Family.LEGACY)


def legacy_sms_status_by_reference(reference: str) -> Call[LegacyMessageStatus]:
    """`GET /rest/sms/reference/{reference}`.  Raises LegacyNotFound (20)."""
    return Call("GET", f"/rest/sms/reference/{_segment(reference)}", LegacyMessageStatus.model_validate, Family.LEGACY)


def legacy_task_status(task_id: int | str) -> Call[LegacyTaskStatus]:
    """`GET /rest/sms/task/{task_id}`: a task's totals.  Raises LegacyNotFound (30), LegacyError (29)."""
    return Call("GET", f"/rest/sms/task/{_segment(task_id)}", LegacyTaskStatus.model_validate, Family.LEGACY)


def legacy_prices(tariff: int | None = None) -> Call[list[LegacyPrice]]:
    """`GET /rest/sms/prices[/{tariff}]`: SMS prices by country.  Raises LegacyError (6 invalid tariff)."""
    path = "/rest/sms/prices" if tariff is None else f"/rest/sms/prices/{int(tariff)}"
    return Call("GET", path, lambda b: [LegacyPrice.model_validate(p) for p in b["prices"]], Family.LEGACY)


def legacy_balance() -> Call[LegacyBalance]:
    """`GET /rest/common/balance`."""
    return Call("GET", "/rest/common/balance", LegacyBalance.model_validate, Family.LEGACY)
