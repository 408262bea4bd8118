"""Inbound (two-way) SMS rules: stop keywords, addresses, redelivery keys, the webhook body.  Pure.

A mobile-originated (MO) message is what a subscriber sends back.  docs/inbound.md tells the whole
story; this module holds the rules that need no database:

- `is_stop_keyword`: the whole message, trimmed and case-folded, is one of the configured keywords
  (`STOP`, but not `Please stop`).  Case folding is Unicode's (`str.casefold`), so `СТОП`, `стоп`
  and `Stopp` all match; internal whitespace is collapsed and trailing punctuation (`STOP!`,
  `stop.`) dropped, since phones and people add both.
- `address`: an SMPP address (source or destination) as relaybox stores it: digits without `+`,
  alphanumeric senders as given.
- `dedupe_key`: what makes a redelivered MO (a deliver_sm whose response the SMSC never got, sent
  again) the same message: the connector, both addresses, the concatenation reference and size,
  the network's own id when it gives one, and the text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from relaybox.domain.timefmt import format_time

#: The default STOP-style keywords (RELAYBOX_INBOUND_STOP_KEYWORDS replaces them): English as the
#: carriers' opt-out conventions (CTIA: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT),
#: French (ARRET, ARRÊT, STOP), Spanish (ALTO, BAJA, PARAR, CANCELAR), German (STOPP, ABMELDEN),
#: Italian (BASTA, CANCELLA), Portuguese (PARE, SAIR, CANCELAR), Dutch (AFMELDEN), Polish (STOP,
#: KONIEC), Ukrainian and Russian (СТОП, ВІДПИСАТИСЯ, ОТПИСАТЬСЯ), Turkish (DUR, IPTAL), Greek (ΣΤΟΠ).
DEFAULT_STOP_KEYWORDS: tuple[str, ...] = (
    "STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT OUT", "OPT-OUT",
    "ARRET", "ARRÊT", "ALTO", "BAJA", "PARAR", "CANCELAR", "STOPP", "ABMELDEN", "BASTA", "CANCELLA",
    "PARE", "SAIR", "AFMELDEN", "KONIEC", "СТОП", "ВІДПИСАТИСЯ", "ОТПИСАТЬСЯ", "DUR", "IPTAL", "İPTAL", "ΣΤΟΠ",
)

#: Characters dropped from the end of a reply before it is compared: "STOP!", "stop." are STOP.
_TRAILING = ".!?,;:"
_SPACES = re.compile(r"\s+")

#: The `action` of a stored MO whose keyword put its sender on the stop list.
STOPLISTED = "stoplisted"


def normalize_keyword(text: str) -> str:
    """The form keywords are compared in: NFC, trimmed, inner whitespace collapsed, trailing
    punctuation dropped, case-folded."""
    value = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip().rstrip(_TRAILING).strip()
    return value.casefold()


def parse_keywords(raw: str | None) -> frozenset[str]:
    """A comma-separated keyword list (RELAYBOX_INBOUND_STOP_KEYWORDS), normalised; None or ""
    gives the defaults; a list of only commas and spaces gives no keywords at all ("-" too)."""
    if raw is None or raw.strip() == "":
        return frozenset(normalize_keyword(k) for k in DEFAULT_STOP_KEYWORDS)
    if raw.strip() == "-":
        return frozenset()
    return frozenset(k for k in (normalize_keyword(p) for p in raw.split(",")) if k)


def is_stop_keyword(text: str, keywords: frozenset[str]) -> bool:
    """Whether the whole message is a stop keyword (compared with `normalize_keyword`)."""
    if len(text) > 64:  # no keyword is that long; spares the normalisation of long texts
        return False
    return normalize_keyword(text) in keywords


def address(value: str) -> str:
    """An MO address as stored: surrounding spaces and one leading `+` dropped from a
    number; an alphanumeric address unchanged.  Raises ValueError for an empty address."""
    text = value.strip()
    digits = text[1:] if text.startswith("+") else text
    if digits.isascii() and digits.isdigit():
        text = digits
    if not text:
        raise ValueError("empty address")
    return text


def two_way_number(value: object) -> str:
    """A two-way number as configured: 3 to 15 digits after an optional `+`.  ValueError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("a two-way number is 3 to 15 digits")
    text = value.strip().removeprefix("+")
    if not (text.isascii() and text.isdigit() and 3 <= len(text) <= 15):
        raise ValueError("a two-way number is 3 to 15 digits")
    return text


def dedupe_key(connector: str, sender: str, recipient: str, text: str, *, network_id: str | None = None,
               reference: int | None = None, total: int = 1) -> str:
    """sha256 hex of what makes two deliveries the same MO (see the module's docstring)."""
    parts = [connector, sender, recipient, network_id or "", "" if reference is None else str(reference), str(total), text]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A stored MO (store/inbound.py), as the listing and the webhook show it."""

    id: int
    account_id: int | None
    sender: str
    recipient: str
    text: str
    encoding: str
    parts: int
    connector: str
    route: str  # number | last_sender | none
    reply_to: int | None
    action: str | None
    received_at: datetime


def inbound_body(m: InboundMessage) -> dict:
    """The JSON object of one MO in `GET /api/x-relaybox/inbound` and in the inbound webhook
    (with `"event": "sms.inbound"` added there)."""
    return {
        "id": m.id,
        "from": m.sender,
        "to": m.recipient,
        "text": m.text,
        "encoding": m.encoding,
        "parts": m.parts,
        "received_at": format_time(m.received_at),
        "route": m.route,
        "reply_to_message_id": m.reply_to,
        "action": m.action,
    }


def inbound_callback(m: InboundMessage) -> dict:
    """The inbound webhook body: the MO as listed, with `"event": "sms.inbound"` (docs/inbound.md)."""
    return {"event": "sms.inbound", **inbound_body(m)}
