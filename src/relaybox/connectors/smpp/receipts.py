"""Delivery receipts: a deliver_sm's receipt text and TLVs as relaybox statuses.  Pure.

A receipt names the SMSC's message id (the `receipted_message_id` TLV, or `id:`
in the text) and the message's state (the `message_state` TLV, or `stat:` in the
text).  The TLVs win when both are present: they are structured, the text
format is only a convention (SMPP 3.4 Appendix B):

    id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...

SMSCs bend that convention in every direction, so the reader tolerates any order
of the fields, any letter case of their names (`Stat:`, `STAT:`), missing
optional fields (everything but the id and the state), fields it does not know
(`mcc:`, `imsi:`), extra spaces (`id: 42`), `submit_date` for `submit date`, and
dates of 10 or 12 digits (with seconds).  The fields are read only from the part
**before `text:`**: what follows is the first characters of the subscriber's own
message, which may well say `stat:DELIVRD` about anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from relaybox.domain.segments import decode_gsm7, encode_gsm7
from relaybox.domain.status import MessageStatus

#: esm_class message type (bits 5-2) of a deliver_sm that reports on a submitted message:
#: 0001 SMSC delivery receipt, 1000 intermediate delivery notification.
RECEIPT_TYPES = frozenset({0b0001, 0b1000})

#: `stat:` of the receipt text -> status; None: not final, no change (docs/connectors.md).
#: ACCEPTD is final in SMPP 3.4 ("read on behalf of the subscriber"), but operators send it
#: as "taken, on its way" before the DELIVRD that follows: were it final, that DELIVRD would be
#: ignored.  A message whose operator never sends a final state is ended by its validity.
STAT: dict[str, MessageStatus | None] = {
    "DELIVRD": MessageStatus.DELIVERED,
    "UNDELIV": MessageStatus.UNDELIVERED,
    "EXPIRED": MessageStatus.EXPIRED,
    "REJECTD": MessageStatus.FAILED,
    "UNKNOWN": MessageStatus.UNKNOWN,
    "DELETED": MessageStatus.UNDELIVERED,  # removed by the SMSC before it was delivered
    "ACCEPTD": None,
    "ENROUTE": None,
}

#: Spellings SMSCs use for the seven-letter words of SMPP 3.4 Appendix B.
STAT_ALIASES: dict[str, str] = {
    "DELIVERED": "DELIVRD",
    "DELIVER": "DELIVRD",
    "DELIVRED": "DELIVRD",
    "UNDELIVERABLE": "UNDELIV",
    "UNDELIVERED": "UNDELIV",
    "UNDELIVRD": "UNDELIV",
    "EXPIRE": "EXPIRED",
    "DELETE": "DELETED",
    "REJECTED": "REJECTD",
    "REJECT": "REJECTD",
    "ACCEPTED": "ACCEPTD",
    "ACCEPT": "ACCEPTD",
    "EN_ROUTE": "ENROUTE",
    "EN-ROUTE": "ENROUTE",
    "UNKNOWNN": "UNKNOWN",
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

#: A field name at the start of the text or after white space, then a colon (spaces allowed
#: around it).  "submit date" and "done date" are the two names with a space in them.
_KEY = re.compile(r"(?<!\S)(submit[ _]*date|done[ _]*date|[A-Za-z][A-Za-z0-9_-]*)[ \t]*:", re.IGNORECASE)
_DATE = re.compile(r"\d{10}(?:\d{2})?")
#: Names of the Appendix B fields, as read (lower case, single spaces).
FIELDS = ("id", "sub", "dlvrd", "submit date", "done date", "stat", "err", "text")


def is_receipt(esm_class: int) -> bool:
    """Whether a deliver_sm's esm_class marks a delivery receipt or an intermediate notification (SMPP 3.4 §5.2.12)."""
    return (esm_class >> 2) & 0x0F in RECEIPT_TYPES


@dataclass(frozen=True, slots=True)
class ParsedReceipt:
    """A DLR as read from deliver_sm TLVs and text (SMPP 3.4 Appendix B): the SMSC's message id, `stat`, and the
    relaybox status it means.
    """
    message_id: str  # as the SMSC wrote it (connectors/smpp/message_ids.py normalises it)
    stat: str  # the SMPP word: DELIVRD, UNDELIV, ...
    status: MessageStatus | None  # None: intermediate, no status change
    error: str | None = None  # the receipt's err: code, if any
    submitted: int | None = None  # sub: parts submitted
    delivered: int | None = None  # dlvrd: parts delivered
    submit_date: datetime | None = None  # naive: SMSCs write their own local time
    done_date: datetime | None = None
    text: str | None = None  # the echoed start of the message; None without a text: field


def receipt_fields(text: str) -> dict[str, str]:
    """The Appendix B fields of a receipt text, by lower-case name (`submit date`, `stat`, ...).

    Only what comes before the first `text:` counts; the value of `text` is everything
    after it.  The first occurrence of a field wins.  A value is the first word after
    the colon ("" when the next field follows at once).  Unknown fields are kept under
    their own name, so they never run into the value before them.
    """
    found: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for index, match in enumerate(matches):
        name = " ".join(match.group(1).lower().replace("_", " ").split())
        name = {"submitdate": "submit date", "donedate": "done date"}.get(name, name)
        if name == "text":
            found.setdefault("text", text[match.end() :])
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        words = text[match.end() : end].split()
        found.setdefault(name, words[0] if words else "")
    return found


def stat_word(value: str) -> str | None:
    """The Appendix B word for a `stat:` value (`delivered` -> DELIVRD; `2` -> DELIVRD), or None."""
    word = value.strip().upper()
    if word.isdigit():
        return MESSAGE_STATE.get(int(word))
    word = STAT_ALIASES.get(word, word)
    return word if word in STAT else None


def receipt_date(value: str | None) -> datetime | None:
    """YYMMDDhhmm or YYMMDDhhmmss (SMPP 3.4 Appendix B) as a naive datetime; None if not a date."""
    if not value or not _DATE.fullmatch(value):
        return None
    try:
        return datetime.strptime(value, "%y%m%d%H%M%S" if len(value) == 12 else "%y%m%d%H%M")
    except ValueError:
        return None


def receipt_string(short_message: bytes, data_coding: int) -> str:
    """A receipt's octets as text, by its data_coding: 8 is UCS-2 (UTF-16BE), anything else is read
    octet by octet (the field names and values are ASCII letters and digits in every SMSC alphabet,
    GSM 03.38 included; only the echoed text may come out odd)."""
    if data_coding == 0x08:
        return short_message.decode("utf-16-be", "replace")
    return short_message.decode("latin-1")


def _count(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) <= 9 else None


def parse_receipt(
    text: bytes | str,
    receipted_message_id: bytes | None,
    message_state: bytes | None,
    data_coding: int = 0,
) -> ParsedReceipt | None:
    """A receipt's message id and state, TLVs first, then the text before `text:`.

    `text` is the short_message (or message_payload) octets, read by `data_coding`
    (`receipt_string`), or already a str.  None when the receipt names no message id
    or no state relaybox knows (SMPP 3.4 §5.2.28 and Appendix B).
    """
    body = text if isinstance(text, str) else receipt_string(text, data_coding)
    fields = receipt_fields(body)
    if not isinstance(text, str) and data_coding == 0x00 and "text" in fields:
        # the echoed text in the SMSC default alphabet, when it is GSM 03.38 (é, €, ...)
        try:
            fields["text"] = receipt_fields(decode_gsm7(text)).get("text", fields["text"])
        except ValueError:
            pass  # octets above 0x7F: not GSM 03.38 after all; keep them as read
    message_id = (receipted_message_id or b"").split(b"\0", 1)[0].decode("latin-1").strip()
    message_id = message_id or fields.get("id", "")
    stat = MESSAGE_STATE.get(message_state[0]) if message_state else None
    if stat is None:
        stat = stat_word(fields.get("stat", ""))
    if not message_id or stat is None:
        return None
    return ParsedReceipt(
        message_id,
        stat,
        STAT[stat],
        error=fields.get("err") or None,
        submitted=_count(fields.get("sub")),
        delivered=_count(fields.get("dlvrd")),
        submit_date=receipt_date(fields.get("submit date")),
        done_date=receipt_date(fields.get("done date")),
        text=fields.get("text"),
    )


def receipt_text(message_id: str, stat: str, *, submitted: str, done: str, err: str = "000", text: str = "") -> str:
    """The customary receipt text (SMPP 3.4 Appendix B), as the SMSC simulator sends it: the first
    20 characters of the message after `text:`."""
    delivered = "001" if stat == "DELIVRD" else "000"
    return (
        f"id:{message_id} sub:001 dlvrd:{delivered} submit date:{submitted} done date:{done} "
        f"stat:{stat} err:{err} text:{text[:20]}"
    )


def encode_receipt_text(text: str) -> tuple[int, bytes]:
    """(data_coding, octets) for a receipt text: GSM 03.38 (data_coding 0, one octet per septet,
    as relaybox submits) when every character has a GSM 03.38 code, else UCS-2 (data_coding 8)."""
    try:
        return 0x00, encode_gsm7(text)
    except ValueError:  # a character GSM 03.38 cannot carry: declare the coding that can
        return 0x08, text.encode("utf-16-be")


def decode_receipt_text(short_message: bytes, data_coding: int) -> str:
    """The inverse of `encode_receipt_text`, strict: a GSM 03.38 octet above 0x7F raises ValueError."""
    if data_coding == 0x08:
        return short_message.decode("utf-16-be")
    return decode_gsm7(short_message)
