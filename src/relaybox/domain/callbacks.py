"""Webhook bodies (the spec's status callback shape), built from a message record."""

from __future__ import annotations

from relaybox.domain.models import Message
from relaybox.domain.money import format_amount
from relaybox.domain.timefmt import format_time


def status_callback(message: Message) -> dict:
    return {
        "error": 0,
        "errorDescription": "No errors",
        "id": message.id,
        "msisdn": str(message.phone),
        "reference": message.reference_id or "",
        "time_in": format_time(message.created_at),
        "time_sent": format_time(message.sent_at),
        "time_dr": format_time(message.delivered_at),
        "status": message.status,
        "price": format_amount(message.price),
        "currency": message.currency,
    }
