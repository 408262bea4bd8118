"""Legacy REST response shapes, as BSG's REST API and its official clients have them.

Ids (message, task) travel as digit strings and phone numbers as strings, as
BSG sends them; prices in create, status and task answers are JSON numbers,
while the price list and the balance carry 7-decimal strings.  See
docs/compatibility-legacy.md for each choice.
"""

from __future__ import annotations

from relaybox.api.legacy.errors import error_body
from relaybox.domain.models import Account, Campaign, Message
from relaybox.domain.money import format_amount, from_units
from relaybox.domain.status import MessageStatus, short_statistics
from relaybox.domain.timefmt import format_time
from relaybox.services.prices import PriceLine

OK = error_body(0)


def number(units: int) -> float:
    """A price as a JSON number (BSG: `"price": 0.23`)."""
    return float(from_units(units))


def accepted(message_id: int | None, reference: str | None, price: int, currency: str) -> dict:
    """One accepted message of a create answer (or a priced one, without id, of a price answer)."""
    body = dict(OK)
    if message_id is not None:
        body["id"] = str(message_id)
    if reference is not None:
        body["reference"] = reference
    body.update({"price": number(price), "currency": currency})
    return body


def refused(code: int, reference: object = None) -> dict:
    """One refused message: its own error, and the client's reference back when it sent one."""
    body = error_body(code)
    if isinstance(reference, str) and reference:
        body["reference"] = reference
    return body


def status(m: Message) -> dict:
    """GET /rest/sms/{id} and /rest/sms/reference/{reference}."""
    return {
        **OK,
        "id": str(m.id),
        "msisdn": str(m.phone),
        "reference": m.reference_id,
        "time_in": format_time(m.created_at),
        # The seed calls it the "scheduled date and time" and BSG's schema the
        # time the operator got it: both, the planned time until it is sent.
        "time_sent": format_time(m.sent_at or m.due_at),
        "time_dr": format_time(m.delivered_at),
        "status": m.status,
        "price": number(m.price),
        "currency": m.currency,
    }


def task(c: Campaign) -> dict:
    """GET /rest/sms/task/{task_id}: counts from the campaign's per-status counters."""
    short = short_statistics(c.counts)
    return {
        **OK,
        "originator": c.sender,
        "body": c.text,  # None for an individual task: its messages have their own texts
        "validity": c.validity,
        "totalprice": number(c.total_price),
        "currency": c.currency,
        "sent": short["sent"],  # reached an operator
        "delivered": short["delivered"],
        "expired": c.counts.get(MessageStatus.EXPIRED.value, 0),
        "undeliverable": c.counts.get(MessageStatus.UNDELIVERED.value, 0),
        "unknown": c.counts.get(MessageStatus.UNKNOWN.value, 0),
    }


def price_list(currency: str, lines: list[PriceLine]) -> dict:
    """The legacy price list body: one entry per country, `mnc` "0" (one price for all networks), prices with seven decimals."""
    return {
        **OK,
        "prices": [
            {
                "type": "sms",
                "country": line.country,
                "country_name": line.country_name,
                "mcc": line.mcc,
                "mnc": "0",  # one price for every network of the country
                "price": format_amount(line.price),
                "currency": currency,
            }
            for line in lines
        ],
    }


def balance(a: Account) -> dict:
    """The legacy balance body: amount and credit `limit` with seven decimals, and the currency."""
    return {**OK, "amount": format_amount(a.balance), "currency": a.currency, "limit": format_amount(a.credit)}
