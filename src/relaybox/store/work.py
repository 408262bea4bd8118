"""Queries that find work for the engine: due messages, in-doubt ones, receipts' owners, expiries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.models import Message
from relaybox.domain.status import MessageStatus
from relaybox.store.messages import chunks
from relaybox.store.rows import message_from_row
from relaybox.store.tables import DUE_SQL, PENDING_SQL, messages
from relaybox.store.transitions import StatusChange, apply_changes


async def claim_due(conn: AsyncConnection, now: datetime, limit: int) -> list[Message]:
    """Move up to `limit` due messages to `sending` and return them.

    Recorded before the hand-off to a connector: a process that dies after
    this point leaves the messages in `sending`, where recovery finds them.
    """
    query = (
        select(messages)
        .where(text(DUE_SQL), messages.c.due_at <= now)
        .order_by(messages.c.due_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    loaded = {row.id: message_from_row(row) for row in await conn.execute(query)}
    if not loaded:
        return []
    changes = [StatusChange(i, MessageStatus.SENDING, now) for i in loaded]
    applied = await apply_changes(conn, changes, now, loaded=loaded)
    return [a.message for a in applied]


async def in_doubt(conn: AsyncConnection, limit: int) -> list[Message]:
    """Messages left in `sending`: handed (or about to be handed) to a connector, result unknown."""
    rows = await conn.execute(
        select(messages).where(text(PENDING_SQL), messages.c.status == "sending").order_by(messages.c.id).limit(limit)
    )
    return [message_from_row(r) for r in rows]


async def resolve_operator_ids(conn: AsyncConnection, connector: str, operator_ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(list(operator_ids)):
        rows = await conn.execute(
            select(messages.c.operator_id, messages.c.id).where(
                messages.c.connector == connector, messages.c.operator_id.in_(part)
            )
        )
        found.update({r.operator_id: r.id for r in rows})
    return found


async def expire_due(conn: AsyncConnection, now: datetime, limit: int) -> int:
    """Messages whose validity ended before they reached a final status become `expired`."""
    rows = await conn.execute(
        select(messages.c.id).where(text(PENDING_SQL), messages.c.expires_at < now).limit(limit)
    )
    ids = [r.id for r in rows]
    applied = await apply_changes(conn, [StatusChange(i, MessageStatus.EXPIRED, now) for i in ids], now)
    return len(applied)
