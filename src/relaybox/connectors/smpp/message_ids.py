"""The SMSC's message ids in one form, so that a receipt finds the submit it reports on.  Pure.

SMPP 3.4 makes the `message_id` of `submit_sm_resp` and the id in a receipt
(`receipted_message_id`, or `id:` in the text) the same C-octet string, but
operators write them differently: upper case in one and lower case in the other,
with and without leading zeros (`0000000006` then `6`), hexadecimal in one and
decimal in the other (Kannel's `msg-id-type` exists for the same reason).
relaybox stores the submit id in a normal form (`submit_key`) and looks a
receipt up by the same normal form of its id (`receipt_keys`) in one query.

`receipt_id_format` (per connector, relaybox.toml) chooses the forms:

- `auto` (default): case and leading zeros ignored; and when a receipt's id finds
  no message in that form, its other base is tried too (decimal read as
  hexadecimal and hexadecimal as decimal) — the engine tries these *converted*
  forms only after the id's own form has found nothing for a while, and only onto
  a message that still waits for its receipt (engine/runner.py), because a
  digit-only id is both a decimal and a hexadecimal number.
- `hex`, `decimal`: both ids in that one base; case and leading zeros ignored,
  never converted.
- `hex-decimal`: `submit_sm_resp` in hexadecimal, receipts in decimal;
  `decimal-hex`: the other way round.  Both compared as numbers.
- `as-is`: exact strings, compared as the SMSC wrote them.
"""

from __future__ import annotations

from typing import Literal

ReceiptIdFormat = Literal["auto", "as-is", "hex", "decimal", "hex-decimal", "decimal-hex"]
FORMATS: tuple[str, ...] = ("auto", "as-is", "hex", "decimal", "hex-decimal", "decimal-hex")

#: Ids longer than this are never read as numbers (SMPP ids are at most 64 octets; Python
#: refuses int() of very long digit strings, and no SMSC numbers its messages that high).
_MAX_DIGITS = 40
_HEX = frozenset("0123456789abcdefABCDEF")


def _clean(message_id: str) -> str:
    return message_id.split("\0", 1)[0].strip()


def _is_decimal(value: str) -> bool:
    return 0 < len(value) <= _MAX_DIGITS and value.isascii() and value.isdigit()


def _is_hex(value: str) -> bool:
    return 0 < len(value) <= _MAX_DIGITS and all(c in _HEX for c in value)


def fold(message_id: str) -> str:
    """Lower case, without leading zeros (`000000001A` -> `1a`; `0000` -> `0`); "" stays ""."""
    value = _clean(message_id).lower()
    stripped = value.lstrip("0")
    return stripped or ("0" if value else "")


def _as_decimal_from_hex(value: str) -> str:
    return str(int(value, 16)) if _is_hex(value) else fold(value)


def _as_decimal(value: str) -> str:
    return str(int(value)) if _is_decimal(value) else fold(value)


def submit_key(message_id: str, fmt: ReceiptIdFormat = "auto") -> str:
    """The form a `submit_sm_resp` message_id is stored in (the message's `operator_id`)."""
    value = _clean(message_id)
    if fmt == "as-is":
        return value
    if fmt == "hex-decimal":
        return _as_decimal_from_hex(value)
    if fmt == "decimal-hex":
        return _as_decimal(value)
    return fold(value)


def receipt_keys(message_id: str, fmt: ReceiptIdFormat = "auto") -> tuple[str, tuple[str, ...]]:
    """(the receipt id's normal form, its converted forms) — see the module's text.

    Only `auto` has converted forms: the id read in its other base.
    """
    value = _clean(message_id)
    if fmt == "as-is":
        return value, ()
    if fmt == "hex-decimal":
        return _as_decimal(value), ()
    if fmt == "decimal-hex":
        return _as_decimal_from_hex(value), ()
    key = fold(value)
    if fmt != "auto":
        return key, ()
    converted: list[str] = []
    if _is_decimal(value):  # a decimal receipt id of a hexadecimal submit id
        converted.append(format(int(value), "x"))
    if _is_hex(value):  # a hexadecimal receipt id of a decimal submit id
        converted.append(str(int(value, 16)))
    return key, tuple(dict.fromkeys(c for c in converted if c != key))
