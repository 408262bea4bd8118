"""Queries that find work for the engine: due messages, in-doubt ones, receipts' owners, expiries."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.models import Message
from relaybox.domain.status import MessageStatus
from relaybox.store.messages import chunks
from relaybox.store.bulk import select_rows, to_driver
from relaybox.store.rows import Mapped, message_from_row
from relaybox.store.tables import DUE_SQL, PENDING_SQL, messages
from relaybox.store.db import driver
from relaybox.store.rollups import Deltas
from relaybox.store.transitions import StatusChange, add_to_counters, apply_changes, count_move


#: Due messages, oldest first, skipping those another worker is claiming (the `ix_messages_due` partial index).
_CLAIM = f"SELECT * FROM messages WHERE {DUE_SQL} AND due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED"


async def claim_due(conn: AsyncConnection, now: datetime, limit: int, claimer: str | None = None) -> list[Message]:
    """Move up to `limit` due messages to `sending`, tagged with the claiming worker, and return them.

    Recorded before the hand-off to a connector: a worker that dies after
    this point leaves the messages in `sending` under its tag, where another
    worker's recovery finds them once the tag's lease is gone (store/workers.py).
    On PostgreSQL, `SKIP LOCKED` lets workers claim disjoint batches at once.
    """
    if conn.dialect.name == "postgresql":
        # asyncpg directly: the dispatcher's hottest query (see db.driver)
        records = await (await driver(conn)).fetch(_CLAIM, now, limit)
        loaded = {r["id"]: message_from_row(Mapped(r)) for r in records}
    else:  # the same query as driver SQL (store/bulk.py: select_rows)
        rows = await select_rows(conn, messages, f"{DUE_SQL} AND due_at <= ? ORDER BY due_at LIMIT ?",
                                 (to_driver(messages.c.due_at, conn.dialect, now), limit))
        loaded = {values["id"]: message_from_row(Mapped(values)) for values in rows}
    if not loaded:
        return []
    changes = [StatusChange(i, MessageStatus.SENDING, now, connector=claimer) for i in loaded]
    applied = await apply_changes(conn, changes, now, loaded=loaded)
    return [a.message for a in applied]


async def release_claims(conn: AsyncConnection, claimed: Sequence[Message], claimer: str, due_at: datetime) -> int:
    """Undo a claim that was never handed to a connector: back to `accepted`, due again at `due_at`.

    For the messages of a connector that is down (engine/runner.py: _hand_over).
    Only those still `sending` under `claimer` move; their campaigns' counters
    move with them.  Returns how many moved.
    """
    ids = sorted(m.id for m in claimed)
    moved = []
    for part in chunks(ids):
        rows = await conn.execute(
            update(messages)
            .where(messages.c.id.in_(part), messages.c.status == MessageStatus.SENDING.value,
                   messages.c.connector == claimer)
            .values(status=MessageStatus.ACCEPTED.value, connector=None, due_at=due_at)
            .returning(*messages.c)
        )
        moved.extend(message_from_row(r) for r in rows)
    deltas: dict[int, Counter] = defaultdict(Counter)
    rollup = Deltas()
    for msg in moved:
        if msg.campaign_id is not None:
            count_move(deltas, msg.campaign_id, msg.parent_id, MessageStatus.SENDING, MessageStatus.ACCEPTED)
        rollup.moved(msg, MessageStatus.SENDING, MessageStatus.ACCEPTED, refunded=False,
                     sent_before=msg.sent_at, at=due_at)
    await add_to_counters(conn, deltas)
    await rollup.write(conn)
    return len(moved)


async def sending_claimers(conn: AsyncConnection) -> set[str | None]:
    """The claim tags of the messages in `sending` (handed, or about to be handed, to a connector)."""
    rows = await conn.execute(
        select(messages.c.connector).where(text(PENDING_SQL), messages.c.status == "sending").distinct()
    )
    return {r[0] for r in rows}


async def take_over(conn: AsyncConnection, dead: Collection[str | None], claimer: str, limit: int) -> list[Message]:
    """Re-tag up to `limit` `sending` messages of dead claimers as `claimer`'s, and return them.

    In-doubt messages: their result was never recorded.  The UPDATE re-checks
    the tag row by row, so when two workers recover at once each message goes
    to exactly one of them.
    """
    tags = [t for t in dead if t is not None]
    owned_by_dead = messages.c.connector.in_(tags)
    if None in dead:
        owned_by_dead = or_(owned_by_dead, messages.c.connector.is_(None))
    pick = (
        select(messages.c.id)
        .where(text(PENDING_SQL), messages.c.status == "sending", owned_by_dead)
        .order_by(messages.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    rows = await conn.execute(
        update(messages)
        .where(messages.c.id.in_(pick.scalar_subquery()), messages.c.status == "sending", owned_by_dead)
        .values(connector=claimer)
        .returning(*messages.c)
    )
    return sorted((message_from_row(r) for r in rows), key=lambda m: m.id)


_LOCK_BY_OPERATOR = (
    "SELECT * FROM messages WHERE connector = $1 AND operator_id = ANY($2::varchar[]) ORDER BY id FOR UPDATE"
)


async def lock_by_operator_ids(conn: AsyncConnection, connector: str, operator_ids: Sequence[str]) -> dict[str, Message]:
    """The messages a connector's reports are about, by operator id, loaded for `apply_changes`.

    One query finds (and on PostgreSQL locks) them, in id order.
    """
    if conn.dialect.name == "postgresql":
        records = await (await driver(conn)).fetch(_LOCK_BY_OPERATOR, connector, list(operator_ids))
        return {r["operator_id"]: message_from_row(Mapped(r)) for r in records}
    found: dict[str, Message] = {}
    for part in chunks(list(operator_ids)):
        where = f"connector = ? AND operator_id IN ({', '.join('?' for _ in part)}) ORDER BY id"
        for values in await select_rows(conn, messages, where, (connector, *part)):
            found[values["operator_id"]] = message_from_row(Mapped(values))
    return found


async def expire_due(conn: AsyncConnection, now: datetime, limit: int) -> int:
    """Messages whose validity ended before they reached a final status become `expired`."""
    rows = await conn.execute(
        select(messages.c.id).where(text(PENDING_SQL), messages.c.expires_at < now).limit(limit)
    )
    ids = [r.id for r in rows]
    applied = await apply_changes(conn, [StatusChange(i, MessageStatus.EXPIRED, now) for i in ids], now)
    return len(applied)
