"""Delivery receipts: a deliver_sm's receipt text and TLVs as relaybox statuses.  Pure.

A receipt names the SMSC's message id (the `receipted_message_id` TLV, or `id:`
in the text) and the message's state (the `message_state` TLV, or `stat:` in the
text).  The TLVs win when both are present: they are structured, the text
format is only a convention (SMPP 3.4 Appendix B).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from relaybox.domain.status import MessageStatus

#: esm_class message type (bits 5-2) of a deliver_sm that reports on a submitted message:
#: 0001 SMSC delivery receipt, 1000 intermediate delivery notification.
RECEIPT_TYPES = frozenset({0b0001, 0b1000})

#: `stat:` of the receipt text -> status; None: not final, no change (docs/connectors.md).
STAT: dict[str, MessageStatus | None] = {
    "DELIVRD": MessageStatus.DELIVERED,
    "UNDELIV": MessageStatus.UNDELIVERED,
    "EXPIRED": MessageStatus.EXPIRED,
    "REJECTD": MessageStatus.FAILED,
    "UNKNOWN": MessageStatus.UNKNOWN,
    "DELETED": MessageStatus.UNDELIVERED,  # removed by the SMSC before it was delivered
    "ACCEPTD": MessageStatus.UNKNOWN,  # final, "read on behalf of the subscriber": delivery not known
    "ENROUTE": None,
}

#: The `message_state` TLV (SMPP 3.4 §5.2.28) as the same `stat:` words.
MESSAGE_STATE = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
STATE_OF_STAT = {stat: state for state, stat in MESSAGE_STATE.items()}

_FIELD = re.compile(r"(?i)\b(id|stat|err):(\S*)")


def is_receipt(esm_class: int) -> bool:
    return (esm_class >> 2) & 0x0F in RECEIPT_TYPES


@dataclass(frozen=True, slots=True)
class ParsedReceipt:
    message_id: str
    stat: str  # the SMPP word: DELIVRD, UNDELIV, ...
    status: MessageStatus | None  # None: intermediate, no status change
    error: str | None  # the receipt's err: code, if any


def parse_receipt(text: bytes, receipted_message_id: bytes | None, message_state: bytes | None) -> ParsedReceipt | None:
    """None when the receipt names no message id or no state relaybox knows."""
    fields = {key.lower(): value for key, value in _FIELD.findall(text.decode("latin-1"))}
    message_id = (receipted_message_id or b"").rstrip(b"\0").decode("latin-1") or fields.get("id", "")
    stat = None
    if message_state:
        stat = MESSAGE_STATE.get(message_state[0])
    if stat is None:
        stat = fields.get("stat", "").upper() or None
    if not message_id or stat not in STAT:
        return None
    return ParsedReceipt(message_id, stat, STAT[stat], fields.get("err"))


def receipt_text(message_id: str, stat: str, *, submitted: str, done: str, err: str = "000", text: str = "") -> bytes:
    """The customary receipt text (SMPP 3.4 Appendix B), as the SMSC simulator sends it."""
    delivered = "001" if stat == "DELIVRD" else "000"
    return (
        f"id:{message_id} sub:001 dlvrd:{delivered} submit date:{submitted} done date:{done} "
        f"stat:{stat} err:{err} text:{text[:20]}"
    ).encode("latin-1", "replace")
