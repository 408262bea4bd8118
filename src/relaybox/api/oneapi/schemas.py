"""One API request bodies (reference/one-api-openapi.yaml).

Shapes only: types and sizes.  The business rules (phones, senders, texts,
references, prices) are checked by the services so that both API families
share them.  Fields the spec defines but relaybox does not act on are accepted
and listed in docs/compatibility.md; unknown fields are ignored, as BSG does.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

PhoneValue = int | str
#: Most lists one send to lists may name (the spec's maxItems of SendRcsCampaignGroups.groups).
MAX_GROUPS = 1000
#: A contact list id: a JSON integer (not a boolean or a string), within the id column's range.
GroupId = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LoginRequest(_Body):
    api_key: str


class PhoneItem(_Body):
    number: PhoneValue
    reference_id: str | None = None


class SmsSendRequest(_Body):
    phones: Annotated[list[PhoneItem], Field(min_length=1, max_length=10000)]
    sender: str
    text: str
    tariff_code: int | None = None
    validity: int | None = None
    start_at: str | None = None
    transliterate: bool = False
    callback_url: Annotated[str, Field(max_length=500)] | None = None
    short_links: list[dict] | None = None  # accepted, not acted on
    # Not in the spec's SmsSendRequest (so off unless asked): new phones go to the contact book.
    add_to_contact_book: bool = False
    # Not in the spec's SmsSendRequest (every other send has it, default true): the same here.
    check_stop_list: bool = True


class IndividualMessage(_Body):
    phone: PhoneValue
    text: str
    sender: str
    tariff_code: int | None = None
    reference_id: str | None = None
    transliterate: bool = False


class SmsSendIndividualRequest(_Body):
    messages: Annotated[list[IndividualMessage], Field(min_length=1, max_length=10000)]
    tariff_code: int | None = None
    validity: int | None = None
    # The spec types this as an integer by mistake; a date-time is what it means.
    start_at: str | int | None = None
    callback_url: Annotated[str, Field(max_length=500)] | None = None
    # Not in the spec's SmsSendIndividualRequest (so off unless asked): new phones go to the contact book.
    add_to_contact_book: bool = False
    check_stop_list: bool = True  # not in the spec's request; as in every other send




class SmsSendGroupsRequest(_Body):
    groups: Annotated[list[GroupId], Field(min_length=1, max_length=MAX_GROUPS)]
    sender: str
    text: str
    tariff_code: int | None = None
    validity: int | None = None
    start_at: str | None = None
    transliterate: bool = False
    callback_url: Annotated[str, Field(max_length=500)] | None = None
    short_links: list[dict] | None = None  # accepted, not acted on
    check_stop_list: bool = True  # not in the spec's request; as in every other send


class PriceMessage(_Body):
    phone: PhoneValue


class CampaignPriceRequest(_Body):
    sender: str
    text: str
    tariff_code: int | None = None
    messages: Annotated[list[PriceMessage], Field(max_length=10000)] = []
    groups: Annotated[list[GroupId], Field(max_length=MAX_GROUPS)] | None = None


class UniversalPhone(_Body):
    number: PhoneValue
    reference_id: str | None = None


class UniversalSms(_Body):
    sender: str
    text: str
    transliterate: bool = False
    validity: int | None = None  # the SMS fallback's validity (["rcs", "sms"]); else the request's
    unsubscribe_caption: str | None = None
    short_links: list[dict] | None = None


class MessageUniversal(_Body):
    channels: Annotated[list[str], Field(min_length=1, max_length=2)]
    phone: UniversalPhone
    sms: UniversalSms | None = None
    rcs: dict | None = None
    callback_url: Annotated[str, Field(max_length=500)] | None = None
    tariff_code: int | None = None
    validity: int | None = None
    validity_seconds: int | None = None
    respect_curfew: bool = False
    add_to_contact_book: bool = True
    check_stop_list: bool = True
    dry_run: bool | None = False


# -- RCS: content (`options`, the `rcs` object) is checked by domain/rcs.py, which
# reports every problem with its path; here it only has to be a JSON object.


class AlternativeSms(_Body):
    text: str
    sender: str
    validity: int | None = None
    validity_seconds: int | None = None  # accepted, not acted on (validity governs expiry)
    check_stop_list: bool = True  # the fallback is not created for a phone on the SMS stop list


class AlternativeChannel(_Body):
    sms: AlternativeSms | None = None


class RcsCampaignRequest(_Body):
    phones: Annotated[list[PhoneItem], Field(min_length=1, max_length=5000)]  # the spec's maxItems
    sender: str  # the RCS agent
    options: dict
    alternative_channel: AlternativeChannel | None = None
    start_at: str | None = None
    tariff_code: int | None = None
    validity: int | None = None
    validity_seconds: int | None = None
    # Not in the spec's SendRcsCampaign, but in every other send: status and click callbacks.
    callback_url: Annotated[str, Field(max_length=500)] | None = None
    add_to_contact_book: bool = True
    check_stop_list: bool = True


class RcsGroupsRequest(_Body):
    groups: Annotated[list[GroupId], Field(min_length=1, max_length=MAX_GROUPS)]
    sender: str  # the RCS agent
    options: dict
    alternative_channel: AlternativeChannel | None = None
    start_at: str | None = None
    tariff_code: int | None = None
    validity: int | None = None
    validity_seconds: int | None = None
    callback_url: Annotated[str, Field(max_length=500)] | None = None
    add_to_contact_book: bool = True
    check_stop_list: bool = True


class RcsMessageRequest(_Body):
    phone: UniversalPhone
    sender: str
    options: dict
    alternative_channel: AlternativeChannel | None = None
    callback_url: Annotated[str, Field(max_length=500)] | None = None
    tariff_code: int | None = None
    validity: int | None = None
    validity_seconds: int | None = None
    add_to_contact_book: bool = True
    check_stop_list: bool = True
