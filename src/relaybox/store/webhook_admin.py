"""Account webhook settings (default URL, signing secret) and the delivery log shown by the CLI."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.tables import accounts, webhook_outbox


def new_secret() -> str:
    """A fresh webhook signing secret: 256 random bits as 64 hex characters."""
    return secrets.token_hex(32)  # 256 bits, as 64 hex characters


async def secrets_for(conn: AsyncConnection, account_ids: set[int]) -> dict[int, str]:
    """Each account's signing secret; one is made (and kept) for an account that has none yet."""
    if not account_ids:
        return {}
    rows = await conn.execute(
        select(accounts.c.id, accounts.c.webhook_secret).where(accounts.c.id.in_(sorted(account_ids)))
    )
    found = {r.id: r.webhook_secret for r in rows}
    for account_id, secret in sorted(found.items()):
        if secret is None:
            # Only where still NULL: two senders making one at once agree on the first.
            await conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id, accounts.c.webhook_secret.is_(None))
                .values(webhook_secret=new_secret())
            )
            found[account_id] = (
                await conn.execute(select(accounts.c.webhook_secret).where(accounts.c.id == account_id))
            ).scalar()
    return found


async def configure(
    conn: AsyncConnection, account_id: int, *, url: str | None, clear_url: bool, rotate: bool
) -> tuple[str | None, str] | None:
    """Set the account's default webhook URL and/or a new secret; (url, secret), or None if no such account."""
    values: dict = {}
    if clear_url:
        values["webhook_url"] = None
    elif url is not None:
        values["webhook_url"] = url
    if rotate:
        values["webhook_secret"] = new_secret()
    if values:
        result = await conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))
        if result.rowcount == 0:
            return None
    row = (await conn.execute(select(accounts.c.webhook_url).where(accounts.c.id == account_id))).first()
    if row is None:
        return None
    return row.webhook_url, (await secrets_for(conn, {account_id}))[account_id]


@dataclass(frozen=True, slots=True)
class Delivery:
    """A webhook outbox row as the admin commands show it."""
    id: int
    account_id: int
    message_id: int | None
    url: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: str


async def deliveries(
    conn: AsyncConnection, *, account_id: int | None, status: str | None, message_id: int | None, limit: int
) -> list[Delivery]:
    """The newest webhook deliveries, optionally of one account, status or message."""
    t = webhook_outbox
    query = select(t).order_by(t.c.id.desc()).limit(limit)
    if account_id is not None:
        query = query.where(t.c.account_id == account_id)
    if status is not None:
        query = query.where(t.c.status == status)
    if message_id is not None:
        query = query.where(t.c.message_id == message_id)
    return [
        Delivery(r.id, r.account_id, r.message_id, r.url, r.status, r.attempts, r.next_attempt_at, r.last_error,
                 r.created_at, r.delivered_at, r.payload)
        for r in await conn.execute(query)
    ]
