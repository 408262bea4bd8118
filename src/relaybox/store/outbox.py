"""The webhook outbox: rows written with the status change, sent later with retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.tables import webhook_outbox


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A webhook call to make: the URL and its JSON payload, attempts so far, and the account whose secret signs it."""
    id: int
    url: str
    payload: str
    attempts: int
    account_id: int | None = None  # whose secret signs it


async def enqueue(conn: AsyncConnection, items: list[tuple[int, int | None, str, dict]], now: datetime) -> None:
    """Queue webhook calls, each (account id, message id or None, URL, body dict), due at `now`."""
    if not items:
        return
    await conn.execute(
        insert(webhook_outbox),
        [
            {
                "account_id": account_id,
                "message_id": message_id,
                "url": url,
                "payload": orjson.dumps(body).decode(),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for account_id, message_id, url, body in items
        ],
    )


async def due(
    conn: AsyncConnection, now: datetime, limit: int, exclude_accounts: list[int] | tuple[int, ...] = ()
) -> list[OutboxItem]:
    """Pending items due by `now`, oldest first, skipping the accounts in `exclude_accounts` (those
    whose senders are all busy: their items must not stand in front of other accounts').
    PostgreSQL: the rows are locked (SKIP LOCKED) until the caller's transaction leases them."""
    query = (
        select(
            webhook_outbox.c.id,
            webhook_outbox.c.url,
            webhook_outbox.c.payload,
            webhook_outbox.c.attempts,
            webhook_outbox.c.account_id,
        )
        .where(webhook_outbox.c.status == "pending", webhook_outbox.c.next_attempt_at <= now)
        .order_by(webhook_outbox.c.next_attempt_at)
        .limit(limit)
    )
    if exclude_accounts:
        query = query.where(webhook_outbox.c.account_id.not_in(sorted(exclude_accounts)))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [OutboxItem(r.id, r.url, r.payload, r.attempts, r.account_id) for r in await conn.execute(query)]


async def any_due(conn: AsyncConnection, now: datetime, exclude_accounts: list[int] | tuple[int, ...] = ()) -> bool:
    """Whether `due` would find anything (a read: no lock taken)."""
    query = (
        select(webhook_outbox.c.id)
        .where(webhook_outbox.c.status == "pending", webhook_outbox.c.next_attempt_at <= now)
        .limit(1)
    )
    if exclude_accounts:
        query = query.where(webhook_outbox.c.account_id.not_in(sorted(exclude_accounts)))
    return (await conn.execute(query)).first() is not None


async def lease(conn: AsyncConnection, ids: list[int], until: datetime) -> None:
    """Push the items' next attempt out while they are being sent, so no other sender takes them."""
    if ids:
        await conn.execute(
            update(webhook_outbox).where(webhook_outbox.c.id.in_(ids)).values(next_attempt_at=until)
        )


async def record_success(conn: AsyncConnection, item_id: int, now: datetime) -> None:
    """Mark a webhook call delivered and count the attempt."""
    await conn.execute(
        update(webhook_outbox)
        .where(webhook_outbox.c.id == item_id)
        .values(status="delivered", attempts=webhook_outbox.c.attempts + 1, delivered_at=now, last_error=None)
    )


async def record_failure(
    conn: AsyncConnection, item_id: int, error: str, now: datetime, retry_in: timedelta | None
) -> None:
    """Count a failed attempt and keep the error (first 1000 characters); retry after `retry_in`, or with None give up (failed)."""
    values = {"attempts": webhook_outbox.c.attempts + 1, "last_error": error[:1000]}
    if retry_in is None:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = now + retry_in
    await conn.execute(update(webhook_outbox).where(webhook_outbox.c.id == item_id).values(**values))
