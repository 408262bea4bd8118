"""Legacy REST bodies for the OpenAPI document (api/openapi.py): the create/price request and every answer.

The family parses its requests by hand (`legacy/schemas.py`, lenient as old clients need) and
builds its answers as dicts (`legacy/present.py`); these models only describe them.
`tests/unit/test_openapi_legacy_models.py` proves the request model accepts what the parser
accepts and refuses what it refuses, and that each answer `present` builds fits its model.

Application errors are HTTP 200 with `{"error": N, "errorDescription": "..."}` (the official
clients read codes only from a 2xx body), so every 200 is "the answer, or an error body".
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from relaybox.api.legacy.schemas import MAX_CALLBACK_URL
from relaybox.services.sending import MAX_RECIPIENTS

Time = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", description="UTC, `YYYY-MM-DD HH:MM:SS`")]
Decimal7 = Annotated[str, Field(pattern=r"^-?\d+\.\d{7}$", description="a decimal string with 7 decimals")]
Digits = Annotated[str, Field(pattern=r"^[0-9]+$")]
#: Strings where old clients may send numbers: `"msisdn": 380971234567` is `"380971234567"`.
Text = str | int
Flag = Annotated[bool | Literal[0, 1, "0", "1", "true", "false", "yes", "no", ""] | None,
                 Field(description="true/false, 1/0 and their strings (any case); absent or empty is false")]


# -- the request of PUT/POST /rest/sms/create and /rest/sms/price


class _Strict(BaseModel):
    # JSON Schema's meaning: `true` is no integer, `1` no string
    model_config = ConfigDict(strict=True)


class _Common(_Strict):
    validity: int | Annotated[str, Field(pattern=r"^\s*[0-9]*\s*$")] | None = Field(
        None, description="hours, 1-72 (error 28 otherwise); default 72; a digit string or empty string too")
    tariff: int | Annotated[str, Field(pattern=r"^\s*[0-9]*\s*$")] | None = Field(
        None, description="the account's tariff code (error 6 for an unknown one); default: the account's")
    send_time: Annotated[int, Field(ge=0, lt=2**33)] | str | None = Field(
        None, description="when to send: `YYYY-MM-DD HH:MM:SS` (UTC), ISO 8601, or a Unix time (error 10)")
    callback_url: Annotated[str, Field(max_length=MAX_CALLBACK_URL)] | None = Field(
        None, description="where to post status changes (http or https)")
    transliterate: Flag = None


class LegacyPhoneItem(_Strict):
    msisdn: Text = Field(description="the number, digits with an optional `+` (error 21 for an impossible one)")
    reference: Text | None = Field(None, description="1-32 of `A-Za-z0-9_-`, unique per account (errors 22, 23, 27)")


class IndividualItem(LegacyPhoneItem):
    originator: Text | None = Field(None, description="the sender (error 25)")
    body: Text | None = Field(None, description="the text (error 26)")


class PhoneRequest(_Common):
    """One message, no task."""

    destination: Literal["phone"]
    msisdn: Text
    reference: Text | None = Field(None, description="required by create (error 22), optional for price")
    originator: Text = Field(description="alphanumeric 3-11 or numeric 3-15 (error 25)")
    body: Text = Field(description="the text: at most 765 GSM 7-bit septets or 355 UCS-2 units (error 26)")


class PhonesRequest(_Common):
    """One text to many numbers: one task."""

    destination: Literal["phones"]
    phones: Annotated[list[LegacyPhoneItem], Field(min_length=1, max_length=MAX_RECIPIENTS)]
    originator: Text
    body: Text


class IndividualRequest(_Common):
    """A text and sender per number: one task."""

    destination: Literal["individual"]
    phones: Annotated[list[IndividualItem], Field(min_length=1, max_length=MAX_RECIPIENTS)]


class SmsRequest(RootModel[Annotated[PhoneRequest | PhonesRequest | IndividualRequest,
                                     Field(discriminator="destination")]]):
    """The body of `/rest/sms/create` and `/rest/sms/price`, by `destination`; unknown fields are ignored."""


# -- answers


class ErrorBody(BaseModel):
    """An error: HTTP 200 (429 for a rate limit), error codes 1-33."""

    error: Annotated[int, Field(ge=1)]
    errorDescription: str


class _Ok(BaseModel):
    error: Literal[0]
    errorDescription: Literal["No errors"]


class Accepted(_Ok):
    id: Digits | None = Field(None, description="the message id (create only)")
    reference: str | None = None
    price: float
    currency: str


class Refused(ErrorBody):
    """One recipient refused, with its own error and the reference it was sent with."""

    reference: str | None = None


class CreatedOne(BaseModel):
    result: Accepted | Refused


class CreatedTask(BaseModel):
    task_id: Digits
    result: list[Accepted | Refused]
    total_price: float
    currency: str


class AllRefused(ErrorBody):
    """Every recipient refused: nothing was written; the first one's error on top."""

    result: list[Refused]


class CreateResponse(RootModel[CreatedOne | CreatedTask | AllRefused | ErrorBody]):
    """`phone`: `{"result": ...}`; `phones`/`individual`: a task with one result per recipient."""


class PricedOne(_Ok):
    totalprice: float
    currency: str


class PricedMany(PricedOne):
    result: list[Accepted | Refused]


class PriceResponse(RootModel[PricedMany | PricedOne | AllRefused | ErrorBody]):
    """`phone`: its price; `phones`/`individual`: the total and one result per recipient."""


class Status(_Ok):
    id: Digits
    msisdn: Digits
    reference: str | None
    time_in: Time
    time_sent: Time | None = Field(description="when the operator got it; the planned time until then")
    time_dr: Time | None
    status: Literal["scheduled", "moderation", "accepted", "sending", "sent", "delivered", "read", "expired",
                    "failed", "undelivered", "unknown", "not_service_user"]
    price: float
    currency: str


class StatusResponse(RootModel[Status | ErrorBody]):
    pass


class Task(_Ok):
    originator: str | None
    body: str | None = Field(description="null for an individual task")
    validity: int | None
    totalprice: float
    currency: str
    sent: int
    delivered: int
    expired: int
    undeliverable: int
    unknown: int


class TaskResponse(RootModel[Task | ErrorBody]):
    pass


class PriceLine(BaseModel):
    type: Literal["sms"]
    country: str
    country_name: str
    mcc: str
    mnc: str
    price: Decimal7
    currency: str


class PriceList(_Ok):
    prices: list[PriceLine]


class PriceListResponse(RootModel[PriceList | ErrorBody]):
    pass


class LegacyBalance(_Ok):
    amount: Decimal7
    currency: str
    limit: Decimal7 = Field(description="the credit limit")


class LegacyBalanceResponse(RootModel[LegacyBalance | ErrorBody]):
    pass


#: 429: a rate limit's refusal (error 11), with Retry-After.
ERRORS = {429: ErrorBody}
