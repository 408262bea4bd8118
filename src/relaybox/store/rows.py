"""Row → record conversion shared by the store's query modules."""

from __future__ import annotations

from relaybox.domain.models import Campaign, Message
from relaybox.domain.status import MessageStatus

COUNTER_COLUMNS = {s.value: f"n_{s.value}" for s in MessageStatus}
#: Counters of the SMS fallbacks of an RCS campaign's messages.
ALT_COUNTER_COLUMNS = {s.value: f"n_alt_{s.value}" for s in MessageStatus}


class Mapped:
    """A dict (or an asyncpg record) where the conversions below expect a SQLAlchemy row
    (they read `row._mapping`)."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict):
        self._mapping = mapping


def message_from_row(row) -> Message:
    """A `messages` row as a Message."""
    m = row._mapping
    return Message(
        id=m["id"],
        account_id=m["account_id"],
        campaign_id=m["campaign_id"],
        type=m["type"],
        source=m["source"],
        reference_id=m["reference_id"],
        phone=m["phone"],
        country=m["country"],
        sender=m["sender"],
        text=m["text"],
        encoding=m["encoding"],
        parts=m["parts"],
        validity=m["validity"],
        tariff_code=m["tariff_code"],
        price=m["price"],
        currency=m["currency"],
        status=m["status"],
        is_test=m["is_test"],
        created_at=m["created_at"],
        due_at=m["due_at"],
        expires_at=m["expires_at"],
        sent_at=m["sent_at"],
        delivered_at=m["delivered_at"],
        connector=m["connector"],
        operator_id=m["operator_id"],
        callback_url=m["callback_url"],
        rcs_options=m["rcs_options"],
        alternative_sms=m["alternative_sms"],
        alternative_id=m["alternative_id"],
        parent_id=m["parent_id"],
        brand=m["brand"],
    )


def campaign_from_row(row) -> Campaign:
    """A `campaigns` row as a Campaign, with its per-status counters (COUNTER_COLUMNS, ALT_COUNTER_COLUMNS)."""
    m = row._mapping
    return Campaign(
        id=m["id"],
        account_id=m["account_id"],
        name=m["name"],
        type=m["type"],
        source=m["source"],
        sender=m["sender"],
        text=m["text"],
        validity=m["validity"],
        tariff_code=m["tariff_code"],
        status=m["status"],
        is_test=m["is_test"],
        start_at=m["start_at"],
        real_start_at=m["real_start_at"],
        finished_at=m["finished_at"],
        created_at=m["created_at"],
        total_messages=m["total_messages"],
        total_phones=m["total_phones"],
        total_price=m["total_price"],
        currency=m["currency"],
        callback_url=m["callback_url"],
        counts={status: m[col] for status, col in COUNTER_COLUMNS.items()},
        alt_counts={status: m[col] for status, col in ALT_COUNTER_COLUMNS.items()},
    )
