"""Legacy REST request bodies: `/rest/sms/create` and `/rest/sms/price`.

Shapes only, read as leniently as old clients write them: numbers where
strings are meant (`"msisdn": 380971234567`, `"reference": 123`) and strings
where numbers are meant (`"validity": "24"`, `"tariff": "1"`) are accepted when
the meaning is clear.  The rules themselves (phones, senders, texts,
references, validity, prices) are checked by the services, which both API
families share.  Unknown fields are ignored, as BSG does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from relaybox.errors import LegacyCode, ValidationFailed
from relaybox.services.sending import MAX_RECIPIENTS

PHONE, PHONES, INDIVIDUAL = "phone", "phones", "individual"
DESTINATIONS = (PHONE, PHONES, INDIVIDUAL)
MAX_CALLBACK_URL = 500


@dataclass(frozen=True, slots=True)
class Item:
    """One recipient as the client sent it (values coerced, not yet checked)."""

    msisdn: object
    reference: object
    originator: object = None  # individual only
    body: object = None  # individual only


@dataclass(frozen=True, slots=True)
class SmsRequest:
    """A legacy SMS request as read (destination phone | phones | individual), values unchecked until the services check them."""
    destination: str  # phone | phones | individual
    items: list[Item]
    originator: object  # shared by every message (phone, phones); None for individual
    body: object
    validity: object
    tariff: object
    send_time: object  # None, a datetime, or a string the services parse
    callback_url: str | None
    transliterate: bool
    two_way: bool = False  # `2way`: the originator must be one of the account's two-way numbers (35/36)


def _fail(field: str, message: str, code: int) -> ValidationFailed:
    return ValidationFailed.one(field, message, code)


def text_value(value: object) -> object:
    """An integer where a string is meant (msisdn, reference, originator, body) becomes that string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def tariff_value(value: object) -> object:
    """A tariff code as an integer; "1" and 1.0 are 1.  Anything else is left for the services to refuse (6)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def validity_value(value: object) -> object:
    """Hours; "24" is accepted by the validity rule itself, "" means the default."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def send_time_value(value: object) -> object:
    """A date and time string (parsed by the services), or a Unix time as a number or digit string."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _fail("send_time", "The send time must be a date and time.", LegacyCode.INVALID_SEND_TIME)
    if isinstance(value, int):
        if not 0 <= value < 2**33:
            raise _fail("send_time", "The send time is out of range.", LegacyCode.INVALID_SEND_TIME)
        return datetime.fromtimestamp(value, UTC)
    return value


def flag(value: object, field: str) -> bool:
    """true/false, 1/0 and their string forms; absent is false."""
    if isinstance(value, str):
        value = value.strip().lower()
    if value in (True, "1", "true", "yes"):
        return True
    if value in (None, False, "", "0", "false", "no"):
        return False
    raise _fail(field, f"The {field} field must be true or false.", LegacyCode.INVALID_PARAMETERS)


def shared_content(data: dict) -> tuple[object, object, bool]:
    """(originator, body, transliterate) at the top level of a request, as given."""
    return text_value(data.get("originator")), text_value(data.get("body")), flag(data.get("transliterate"), "transliterate")


def _required(data: dict, name: str) -> object:
    value = data.get(name)
    if value is None:
        raise _fail(name, f"The {name} field is required.", LegacyCode.NOT_ENOUGH_PARAMETERS)
    return value


def _phone_list(data: dict) -> list[dict]:
    phones = _required(data, "phones")
    if not isinstance(phones, list) or not phones:
        raise _fail("phones", "The phones field must be a non-empty list.", LegacyCode.INVALID_PAYLOAD)
    if len(phones) > MAX_RECIPIENTS:
        raise _fail("phones", f"At most {MAX_RECIPIENTS} phones per request.", LegacyCode.BATCH_TOO_LARGE)
    if not all(isinstance(p, dict) for p in phones):
        raise _fail("phones", "Every item of phones must be an object.", LegacyCode.INVALID_PAYLOAD)
    return phones


def parse_sms_request(data: dict) -> SmsRequest:
    """Read a create/price body; raise the legacy request-level errors (3, 7, 10, 12, 24)."""
    destination = data.get("destination")
    if destination is None:
        raise _fail("destination", "The destination field is required.", LegacyCode.NOT_ENOUGH_PARAMETERS)
    if destination not in DESTINATIONS:
        raise _fail("destination", "The destination must be phone, phones or individual.", LegacyCode.INVALID_PARAMETERS)

    originator = body = None  # individual: each message carries its own
    if destination == PHONE:
        items = [Item(msisdn=text_value(_required(data, "msisdn")), reference=text_value(data.get("reference")))]
    elif destination == PHONES:
        items = [Item(msisdn=text_value(p.get("msisdn")), reference=text_value(p.get("reference"))) for p in _phone_list(data)]
    else:
        items = [
            Item(
                msisdn=text_value(p.get("msisdn")),
                reference=text_value(p.get("reference")),
                originator=text_value(p.get("originator")),
                body=text_value(p.get("body")),
            )
            for p in _phone_list(data)
        ]
    if destination != INDIVIDUAL:
        originator = text_value(_required(data, "originator"))
        body = text_value(_required(data, "body"))

    callback_url = data.get("callback_url")
    if callback_url == "":
        callback_url = None
    if callback_url is not None and (not isinstance(callback_url, str) or len(callback_url) > MAX_CALLBACK_URL):
        raise _fail("callback_url", f"The callback_url must be a URL of at most {MAX_CALLBACK_URL} characters.",
                    LegacyCode.INVALID_PARAMETERS)
    return SmsRequest(
        destination=destination,
        items=items,
        originator=originator,
        body=body,
        validity=validity_value(data.get("validity")),
        tariff=tariff_value(data.get("tariff")),
        send_time=send_time_value(data.get("send_time")),
        callback_url=callback_url,
        transliterate=flag(data.get("transliterate"), "transliterate"),
        two_way=flag(data.get("2way"), "2way"),
    )


def task_id_value(raw: str) -> int:
    """A task id from the path: up to 18 ASCII digits. Raises ValidationFailed (legacy 29)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise _fail("task_id", "The task id must be a positive integer.", LegacyCode.INVALID_TASK_ID)
    return int(raw)


def tariff_code_value(raw: str) -> int:
    """A tariff code from the path: up to 9 ASCII digits. Raises ValidationFailed (legacy 6)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise _fail("tariff", "The tariff is invalid.", LegacyCode.INVALID_TARIFF)
    return int(raw)
