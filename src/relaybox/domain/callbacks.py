"""Webhook bodies (the spec's status and click callback shapes), built from a message record."""

from __future__ import annotations

from datetime import datetime

from relaybox.domain.models import Message
from relaybox.domain.money import format_amount
from relaybox.domain.timefmt import format_time


def status_callback(message: Message) -> dict:
    """The status callback body (the legacy report shape, docs/compatibility.md): MSISDN, times as
    `YYYY-MM-DD HH:MM:SS` UTC (None when not yet), price with seven decimals as a string.
    """
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


def click_callback(message: Message, text: str, postback: str | None, at: datetime) -> dict:
    """The spec's RcsClickCallback: the recipient pressed a suggestion button of an RCS message."""
    return {
        "id": message.id,
        "reference": message.reference_id,  # null without one, as in the spec's example
        "msisdn": str(message.phone),
        "text": text,
        "postback": postback,
        "time_click": format_time(at),
    }
