"""Validation and pricing of recipients: one pass over a request's messages.

Each recipient becomes either a `Prepared` message or a list of field errors.
The One API refuses the whole request on any error; the legacy API answers per
recipient and sends the valid ones — so the check itself never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from relaybox.domain.phone import InvalidPhone, parse_phone, stored_phone
from relaybox.domain.pricing import PriceBook
from relaybox.domain.rcs import RCS_ENCODING, SmsFallback, check_agent
from relaybox.domain.rules import RuleViolation, check_reference, check_sender, prepare_text
from relaybox.domain.segments import Encoding
from relaybox.errors import FieldError, LegacyCode


@dataclass(frozen=True, slots=True)
class Recipient:
    """One message as the client asked for it (raw values, not yet checked)."""

    path: str  # One API path of this item, e.g. "phones.3" or "messages.0"
    phone: object
    text: object
    sender: object
    reference: object = None
    tariff_code: object = None
    transliterate: bool = False
    phone_field: str = "number"  # name of the phone field under `path`
    #: Full paths for fields that do not live under `path` (e.g. {"text": "sms.text"}).
    field_paths: Mapping[str, str] = field(default_factory=dict)
    #: RCS: this recipient's own content and fallback (personalised sends), else the request's.
    rcs_options: dict | None = None
    fallback: SmsFallback | None = None
    #: The phone is a stored contact's, already in E.164 form: its region is read without a full parse.
    stored: bool = False


@dataclass(frozen=True, slots=True)
class Prepared:
    """A recipient checked and priced: E.164 phone as an integer, ISO country, parts (SMS segments) and price in
    units of 1e-7 of the account currency (domain/money.py).
    """
    phone: int
    country: str
    sender: str
    text: str
    encoding: Encoding | str  # an SMS encoding, or RCS_ENCODING
    parts: int
    reference: str | None
    tariff_code: int
    price: int  # units, in the account currency
    alternative_sms: dict | None = None  # RCS: its SMS fallback, priced for this recipient
    brand: str | None = None  # the operator's brand (domain/networks.py)
    rcs_options: dict | None = None  # RCS: its own content, when it is not the request's


def _at(r: Recipient, name: str) -> str:
    if name in r.field_paths:
        return r.field_paths[name]
    return f"{r.path}.{name}" if r.path else name


def prepare(
    recipients: list[Recipient],
    *,
    prices: PriceBook,
    currency: str,
    default_tariff: int,
    channel: str = "sms",
    reference_required: bool = False,
    fallback: SmsFallback | None = None,
) -> list[Prepared | list[FieldError]]:
    """With channel "rcs", `text` is the RCS content's summary, already checked
    (domain/rcs.py), the sender is an RCS agent, and a message is one part;
    `fallback` is the SMS to send instead, priced here per recipient."""
    results: list[Prepared | list[FieldError]] = []
    seen_phones: set[int] = set()
    seen_refs: set[str] = set()
    text_cache: dict[tuple[object, bool], tuple[str, object]] = {}
    for r in recipients:
        errors: list[FieldError] = []
        phone = None
        try:
            phone = stored_phone(r.phone) if r.stored else parse_phone(r.phone)
        except InvalidPhone as exc:
            errors.append(FieldError(_at(r, r.phone_field), f"The phone number {exc}.", LegacyCode.INVALID_PHONE))
        if phone is not None:
            if phone.number in seen_phones:
                errors.append(
                    FieldError(
                        _at(r, r.phone_field),
                        "The phone is already in the messaging list.",
                        LegacyCode.PHONE_REPEATED,
                    )
                )
            seen_phones.add(phone.number)

        try:
            sender = check_agent(r.sender) if channel == "rcs" else check_sender(r.sender)
        except RuleViolation as exc:
            errors.append(FieldError(_at(r, "sender"), str(exc), LegacyCode.INVALID_ORIGINATOR))
            sender = ""

        key = (r.text, r.transliterate)
        if channel == "rcs":
            text, info = r.text, None
        else:
            try:
                if not isinstance(r.text, str):  # a list or object where a text belongs: refused, not cached
                    text, info = prepare_text(r.text, r.transliterate)
                else:
                    if key not in text_cache:
                        text_cache[key] = prepare_text(r.text, r.transliterate)
                    text, info = text_cache[key]
            except RuleViolation as exc:
                errors.append(FieldError(_at(r, "text"), str(exc), LegacyCode.INVALID_TEXT))
                text, info = "", None

        reference = None
        if r.reference is None or r.reference == "":
            if reference_required:
                errors.append(
                    FieldError(_at(r, "reference"), "The reference is required.", LegacyCode.REFERENCE_MISSING)
                )
        else:
            try:
                reference = check_reference(r.reference)
            except RuleViolation as exc:
                errors.append(FieldError(_at(r, "reference_id"), str(exc), LegacyCode.INVALID_REFERENCE))
            else:
                if reference in seen_refs:
                    errors.append(
                        FieldError(
                            _at(r, "reference_id"),
                            "The reference is used twice in this request.",
                            LegacyCode.REFERENCE_EXISTS,
                        )
                    )
                seen_refs.add(reference)

        tariff = default_tariff
        if r.tariff_code is not None:
            if isinstance(r.tariff_code, int) and not isinstance(r.tariff_code, bool) and prices.has_tariff(r.tariff_code):
                tariff = r.tariff_code
            else:
                errors.append(FieldError(_at(r, "tariff_code"), "The tariff is invalid.", LegacyCode.INVALID_TARIFF))

        rate = sms_rate = None
        own_fallback = r.fallback if r.fallback is not None else fallback
        if phone is not None and not errors:
            rate = prices.rate(tariff, phone.country, channel, currency)
            if rate is None:
                errors.append(
                    FieldError(
                        _at(r, r.phone_field),
                        f"Sending to {phone.country} is not allowed.",
                        LegacyCode.DIRECTION_NOT_ALLOWED,
                    )
                )
            elif own_fallback is not None:
                sms_rate = prices.rate(tariff, phone.country, "sms", currency)
                if sms_rate is None:
                    errors.append(
                        FieldError(
                            _at(r, r.phone_field),
                            f"Sending the SMS fallback to {phone.country} is not allowed.",
                            LegacyCode.DIRECTION_NOT_ALLOWED,
                        )
                    )
        if errors:
            results.append(errors)
            continue
        parts = info.parts if channel == "sms" else 1
        results.append(
            Prepared(
                phone=phone.number,
                country=phone.country,
                brand=phone.brand,
                sender=sender,
                text=text,
                encoding=info.encoding if info is not None else RCS_ENCODING,
                parts=parts,
                reference=reference,
                tariff_code=tariff,
                price=parts * rate,
                alternative_sms=own_fallback.priced(tariff, sms_rate) if own_fallback is not None else None,
                rcs_options=r.rcs_options,
            )
        )
    return results
