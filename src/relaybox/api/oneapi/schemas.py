"""One API request bodies (reference/one-api-openapi.yaml).

Shapes only: types and sizes.  The business rules (phones, senders, texts,
references, prices) are checked by the services so that both API families
share them.  Fields the spec defines but relaybox does not act on are accepted
and listed in docs/compatibility.md; unknown fields are ignored, as BSG does.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema

# -- Field types.  Parsing takes the lenient Python types; what the services then enforce (the rules
# both families share, domain/rules.py and domain/phone.py) is added to the JSON Schema only, so that
# the OpenAPI document says what the server accepts without changing the parser or its messages.

PhoneValue = Annotated[
    int | str,
    WithJsonSchema({
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": 999999999999999},
            {"type": "string", "pattern": r"^\s*\+?[0-9]{1,20}\s*$"},
        ],
        "description": "the number with its country code (E.164 digits): a JSON integer, or digits with an optional "
        "`+` in a string; it must be a possible number of a country (libphonenumber) and at most 15 digits once "
        "normalised",
        "examples": [380972000000],
    }),
]
Sender = Annotated[str, Field(
    description="alphanumeric 3-11 (Latin letters, digits, space, `.-_&`) or numeric 3-15 digits",
    json_schema_extra={"pattern": r"^(?:[0-9]{3,15}|[A-Za-z0-9 .\-_&]{3,11})$", "examples": ["relaybox"]},
)]
Text = Annotated[str, Field(
    description="the SMS text: at most 765 GSM 7-bit septets (extension characters count two) or 355 UCS-2 units",
    json_schema_extra={"minLength": 1, "maxLength": 765, "examples": ["Hello"]},
)]
Reference = Annotated[str | None, Field(
    description="your id of the message: 1-32 of `A-Za-z0-9_-`, unique per account",
    json_schema_extra={"pattern": r"^[A-Za-z0-9_\-]{1,32}$"},
)]
Validity = Annotated[int | None, Field(
    description="hours the message may wait for delivery, 1-72; default 72",
    json_schema_extra={"minimum": 1, "maximum": 72},
)]
TariffCode = Annotated[int | None, Field(description="one of the account's tariff codes (see /api/accounts/tariff); "
                                         "default: the account's")]
StartAt = Annotated[str | None, Field(description="when to start: `YYYY-MM-DD HH:MM:SS` (UTC) or ISO 8601 (`T`, optional "
                                      "offset); default now")]
CallbackUrl = Annotated[str, Field(max_length=500, description="http(s) URL that gets each status change")] | None

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
    reference_id: Reference = None


class SmsSendRequest(_Body):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"phones": [{"number": 380972000000, "reference_id": "order1"}], "sender": "relaybox", "text": "Hello"}]})

    phones: Annotated[list[PhoneItem], Field(min_length=1, max_length=10000)]
    sender: Sender
    text: Text
    tariff_code: TariffCode = None
    validity: Validity = None
    start_at: StartAt = None
    transliterate: bool = False
    callback_url: CallbackUrl = None
    short_links: list[dict] | None = None  # accepted, not acted on
    # Not in the spec's SmsSendRequest (so off unless asked): new phones go to the contact book.
    add_to_contact_book: bool = False
    # Not in the spec's SmsSendRequest (every other send has it, default true): the same here.
    check_stop_list: bool = True


class IndividualMessage(_Body):
    phone: PhoneValue
    text: Text
    sender: Sender
    tariff_code: TariffCode = None
    reference_id: Reference = None
    transliterate: bool = False


class SmsSendIndividualRequest(_Body):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"messages": [{"phone": 380972000000, "text": "Hello", "sender": "relaybox"}]}]})

    messages: Annotated[list[IndividualMessage], Field(min_length=1, max_length=10000)]
    tariff_code: TariffCode = None
    validity: Validity = None
    # The spec types this as an integer by mistake; a date-time is what it means.
    start_at: Annotated[str | int | None, WithJsonSchema({
        "anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0, "maximum": 2**33 - 1}, {"type": "null"}],
        "description": "a date and time as in SmsSendRequest, or a Unix time (seconds)",
    })] = None
    callback_url: CallbackUrl = None
    # Not in the spec's SmsSendIndividualRequest (so off unless asked): new phones go to the contact book.
    add_to_contact_book: bool = False
    check_stop_list: bool = True  # not in the spec's request; as in every other send


class SmsSendGroupsRequest(_Body):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"groups": [1], "sender": "relaybox", "text": "Hello {name}"}]})

    groups: Annotated[list[GroupId], Field(min_length=1, max_length=MAX_GROUPS)]
    sender: Sender
    text: Annotated[str, Field(description="the SMS text, with `{field}` placeholders filled per contact (`{{`, `}}`: literal braces)")]
    tariff_code: TariffCode = None
    validity: Validity = None
    start_at: StartAt = None
    transliterate: bool = False
    callback_url: CallbackUrl = None
    short_links: list[dict] | None = None  # accepted, not acted on
    check_stop_list: bool = True  # not in the spec's request; as in every other send


class PriceMessage(_Body):
    phone: PhoneValue


class CampaignPriceRequest(_Body):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"sender": "relaybox", "text": "Hello", "messages": [{"phone": 380972000000}]}]})

    sender: Sender
    text: Text
    tariff_code: TariffCode = None
    messages: Annotated[list[PriceMessage], Field(max_length=10000)] = []
    groups: Annotated[list[GroupId], Field(max_length=MAX_GROUPS)] | None = None


class UniversalPhone(_Body):
    number: PhoneValue
    reference_id: Reference = None


class UniversalSms(_Body):
    sender: Sender
    text: Text
    transliterate: bool = False
    validity: Validity = None  # the SMS fallback's validity (["rcs", "sms"]); else the request's
    unsubscribe_caption: str | None = None
    short_links: list[dict] | None = None


class MessageUniversal(_Body):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"channels": ["sms"], "phone": {"number": 380972000000}, "sms": {"sender": "relaybox", "text": "Hello"}}]})

    channels: Annotated[list[str], Field(
        min_length=1, max_length=2, json_schema_extra={"items": {"type": "string", "enum": ["sms", "rcs"]}},
        description='["sms"], ["rcs"] or ["rcs", "sms"] (RCS with an SMS fallback)')]
    phone: UniversalPhone
    sms: UniversalSms | None = None
    rcs: dict | None = Field(None, description="RCS content: `sender` (the agent) and `text` or `cards` (with "
                             "suggestions), checked as in /api/messages/rcs/send's `options`")
    callback_url: CallbackUrl = None
    tariff_code: TariffCode = None
    validity: Validity = None
    validity_seconds: int | None = None
    respect_curfew: bool = False
    add_to_contact_book: bool = True
    check_stop_list: bool = True
    dry_run: bool | None = False


# -- RCS: content (`options`, the `rcs` object) is checked by domain/rcs.py, which
# reports every problem with its path; here it only has to be a JSON object.


class AlternativeSms(_Body):
    text: Text
    sender: Sender
    validity: Validity = None
    validity_seconds: int | None = None  # accepted, not acted on (validity governs expiry)
    check_stop_list: bool = True  # the fallback is not created for a phone on the SMS stop list


class AlternativeChannel(_Body):
    sms: AlternativeSms | None = None


class RcsCampaignRequest(_Body):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"phones": [{"number": 380972000000}], "sender": "rcs_agent", "options": {"text": "Hello"}, "alternative_channel": {"sms": {"sender": "relaybox", "text": "Hello"}}}]})

    phones: Annotated[list[PhoneItem], Field(min_length=1, max_length=5000)]  # the spec's maxItems
    sender: str = Field(description="the RCS agent")
    options: dict = Field(description="RCS content: `{\"text\": ...}` or `{\"cards\": [...]}` with suggestions (each "
                          "problem reported with its path)")
    alternative_channel: AlternativeChannel | None = None
    start_at: StartAt = None
    tariff_code: TariffCode = None
    validity: Validity = None
    validity_seconds: int | None = None
    # Not in the spec's SendRcsCampaign, but in every other send: status and click callbacks.
    callback_url: CallbackUrl = None
    add_to_contact_book: bool = True
    check_stop_list: bool = True


class RcsGroupsRequest(_Body):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"groups": [1], "sender": "rcs_agent", "options": {"text": "Hello {name}"}, "alternative_channel": {"sms": {"sender": "relaybox", "text": "Hello {name}"}}}]})

    groups: Annotated[list[GroupId], Field(min_length=1, max_length=MAX_GROUPS)] = Field(
        description="contact list ids of the account; a contact in several lists gets one message")
    sender: str = Field(description="the RCS agent")
    options: dict = Field(description="RCS content: `{\"text\": ...}` or `{\"cards\": [...]}` with suggestions (each "
                          "problem reported with its path); `{field}` placeholders in its texts are filled per "
                          "contact (`{{`, `}}`: literal braces)")
    alternative_channel: AlternativeChannel | None = Field(
        None, description="the SMS sent where RCS is not delivered; its text's `{field}` placeholders are filled "
        "per contact too")
    start_at: StartAt = None
    tariff_code: TariffCode = None
    validity: Validity = None
    validity_seconds: int | None = None  # accepted, not acted on (validity governs expiry)
    # Not in the spec's SendRcsCampaignGroups, but in every other send: status and click callbacks.
    callback_url: CallbackUrl = None
    add_to_contact_book: bool = Field(True, description="accepted; the recipients are already in the contact book")
    check_stop_list: bool = True


class RcsMessageRequest(_Body):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"phone": {"number": "380972000000"}, "sender": "rcs_agent", "options": {"text": "Hello"}}]})

    phone: UniversalPhone
    sender: str = Field(description="the RCS agent")
    options: dict = Field(description="RCS content: `{\"text\": ...}` or `{\"cards\": [...]}` with suggestions (each "
                          "problem reported with its path)")
    alternative_channel: AlternativeChannel | None = None
    callback_url: CallbackUrl = None
    tariff_code: TariffCode = None
    validity: Validity = None
    validity_seconds: int | None = None
    add_to_contact_book: bool = True
    check_stop_list: bool = True


# -- statistics export jobs: `services/stat_jobs.py:parse_request` reads the body by hand (its
# error paths and codes); this schema-only model describes what it accepts, and
# tests/unit/test_openapi_stat_job_request.py proves the two agree.

StatTime = Annotated[str, Field(description="`YYYY-MM-DD HH:MM:SS` (UTC) or ISO 8601 with `T` and an optional offset")]
Ignored = Annotated[object, Field(description="accepted and ignored (BSG's short links and sources are not modelled)")]


class StatJobByMessage(_Body):
    """Export the account's messages with these ids."""

    type: Literal["message"]
    message_id: Annotated[list[Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]], Field(max_length=10000)]


class StatJobByParams(_Body):
    """Export the account's messages matching every given term."""

    type: Literal["params"]
    time_in_from: StatTime = Field(description="accepted at or after (created_at)")
    time_in_to: StatTime = Field(description="accepted at or before; not before time_in_from, at most 3 months after it")
    time_sent_from: StatTime | None = None
    time_sent_to: StatTime | None = Field(None, description="not before time_sent_from")
    phones: Annotated[list[PhoneValue], Field(max_length=10000)] | None = None
    country: str | None = Field(None, description="ISO 3166 alpha-2 code (`UA`) or English name (`Ukraine`)")
    operator_id: str | None = Field(None, description="the operator's MCC and MNC (`25501`)",
                                    json_schema_extra={"pattern": r"^(?:[0-9]{5,6})?$"})
    status: Literal["Delivered", "Undelivered", "Expired", "Failed", "Unknown", "Sent", "Sending", "Accepted",
                    "Scheduled", "Moderation", "Rejected", ""] | None = None
    campaign_id: int | None = Field(None, strict=True, ge=1, le=2**63 - 1,
                                    description="relaybox's addition: one campaign's messages")
    sender: Ignored = None
    source: Ignored = None
    sl_clicks: Ignored = None
    sl_clicks_comp: Ignored = None
    sl_clicks_count: Ignored = None


class StatJobRequest(RootModel[Annotated[StatJobByMessage | StatJobByParams, Field(discriminator="type")]]):
    """`POST /api/stat/jobs` (BSG's StatJobsCreateRequest): by message ids, or by filters."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"type": "params", "time_in_from": "2026-11-01 00:00:00", "time_in_to": "2026-11-30 23:59:59",
         "status": "Delivered"}]})
