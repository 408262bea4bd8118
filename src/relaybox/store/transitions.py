"""The one way a message changes status.

`apply_changes` checks each requested change against the domain rules, updates
the messages, adds the summed counter deltas to each campaign (one UPDATE per
campaign per batch, so workers do not queue on a hot row), refunds what the
rules say to refund, queues webhook calls, and finishes campaigns whose last
message became final — all in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.callbacks import status_callback
from relaybox.domain.models import Message
from relaybox.domain.status import FINAL, Channel, MessageStatus, can_transition, refundable
from relaybox.store import accounts as accounts_store
from relaybox.store.messages import chunks
from relaybox.store.outbox import enqueue
from relaybox.store.rows import COUNTER_COLUMNS, message_from_row
from relaybox.store.tables import campaigns, messages

#: Final statuses that come from the network: their time is the delivery-report time.
_REPORTED = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.UNDELIVERED,
        MessageStatus.EXPIRED,
        MessageStatus.UNKNOWN,
        MessageStatus.NOT_SERVICE_USER,
    }
)


@dataclass(frozen=True, slots=True)
class StatusChange:
    message_id: int
    status: MessageStatus
    at: datetime
    connector: str | None = None
    operator_id: str | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    message: Message  # as it is after the change
    previous: MessageStatus


async def load_for_update(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Message]:
    found: dict[int, Message] = {}
    for part in chunks(sorted(set(ids))):
        query = select(messages).where(messages.c.id.in_(part))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        for row in await conn.execute(query):
            found[row.id] = message_from_row(row)
    return found


async def apply_changes(
    conn: AsyncConnection, changes: Sequence[StatusChange], now: datetime, *, loaded: dict[int, Message] | None = None
) -> list[Applied]:
    if not changes:
        return []
    current = loaded if loaded is not None else await load_for_update(conn, [c.message_id for c in changes])
    applied: list[Applied] = []
    updates: dict[int, dict] = {}
    deltas: dict[int, Counter] = defaultdict(Counter)
    refunds: Counter = Counter()

    for change in changes:
        msg = current.get(change.message_id)
        if msg is None:
            continue
        old = MessageStatus(msg.status)
        new = change.status
        if not can_transition(old, new, Channel(msg.type)):
            continue
        msg.status = new.value
        if new is MessageStatus.SENT or (new in _REPORTED and msg.sent_at is None and old is MessageStatus.SENDING):
            msg.sent_at = msg.sent_at or change.at
        if new in _REPORTED and msg.delivered_at is None:
            msg.delivered_at = change.at
        if change.operator_id is not None:
            msg.operator_id = change.operator_id
        if change.connector is not None:
            msg.connector = change.connector
        updates[msg.id] = {
            "b_id": msg.id,
            "b_status": msg.status,
            "b_sent_at": msg.sent_at,
            "b_delivered_at": msg.delivered_at,
            "b_operator_id": msg.operator_id,
            "b_connector": msg.connector,
        }
        if msg.campaign_id is not None:
            delta = deltas[msg.campaign_id]
            delta[COUNTER_COLUMNS[old.value]] -= 1
            delta[COUNTER_COLUMNS[new.value]] += 1
            if old not in FINAL and new in FINAL:
                delta["n_pending"] -= 1
        if refundable(old, new) and not msg.is_test and msg.price:
            refunds[msg.account_id] += msg.price
        applied.append(Applied(message=msg, previous=old))

    if not applied:
        return []

    await conn.execute(
        update(messages)
        .where(messages.c.id == bindparam("b_id"))
        .values(
            status=bindparam("b_status"),
            sent_at=bindparam("b_sent_at"),
            delivered_at=bindparam("b_delivered_at"),
            operator_id=bindparam("b_operator_id"),
            connector=bindparam("b_connector"),
        ),
        list(updates.values()),
    )
    for campaign_id, delta in deltas.items():
        values = {col: campaigns.c[col] + n for col, n in delta.items() if n}
        if values:
            await conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(**values))
    await accounts_store.refund(conn, dict(refunds))

    callbacks = [
        (a.message.account_id, a.message.id, a.message.callback_url, status_callback(a.message))
        for a in applied
        if a.message.callback_url
    ]
    await enqueue(conn, callbacks, now)

    touched = list(deltas)
    if touched:
        # single messages (no campaign) can share a batch with campaign messages
        started = [
            a.message.campaign_id
            for a in applied
            if a.message.status == MessageStatus.SENDING and a.message.campaign_id is not None
        ]
        if started:
            await _mark_started(conn, sorted(set(started)), now)
        await finish_campaigns(conn, touched, now)
    return applied


async def _mark_started(conn: AsyncConnection, campaign_ids: list[int], now: datetime) -> None:
    await conn.execute(
        update(campaigns)
        .where(campaigns.c.id.in_(campaign_ids), campaigns.c.real_start_at.is_(None))
        .values(real_start_at=now)
    )
    await conn.execute(
        update(campaigns)
        .where(campaigns.c.id.in_(campaign_ids), campaigns.c.status == "scheduled")
        .values(status="sending")
    )


async def finish_campaigns(conn: AsyncConnection, campaign_ids: list[int], now: datetime) -> None:
    """A sending (or scheduled) campaign whose every message is final is done."""
    for part in chunks(campaign_ids):
        await conn.execute(
            update(campaigns)
            .where(
                campaigns.c.id.in_(part),
                campaigns.c.n_pending == 0,
                campaigns.c.status.in_(("sending", "scheduled")),
            )
            .values(status="done", finished_at=now)
        )
