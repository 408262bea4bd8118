"""Operator changes of balances, each recorded with the balance it left (`account_ledger`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.models import LedgerEntry
from relaybox.store.tables import account_ledger, accounts


async def change_balance(
    conn: AsyncConnection, account_id: int, amount: int, *, kind: str, actor: str, note: str | None, now: datetime
) -> LedgerEntry | None:
    """Add `amount` units to the balance and record it, in the caller's transaction; None: no such account.

    The balance after is the one the UPDATE itself returns, so concurrent charges between a read and
    the write cannot make the ledger disagree with the account.
    """
    after = (
        await conn.execute(
            update(accounts).where(accounts.c.id == account_id)
            .values(balance=accounts.c.balance + amount).returning(accounts.c.balance)
        )
    ).scalar()
    if after is None:
        return None
    values = dict(account_id=account_id, kind=kind, amount=amount, balance_after=after, actor=actor, note=note,
                  created_at=now)
    entry_id = (await conn.execute(insert(account_ledger).values(**values))).inserted_primary_key[0]
    return LedgerEntry(id=entry_id, **values)


async def entries(conn: AsyncConnection, account_id: int, limit: int = 50) -> list[LedgerEntry]:
    """The account's latest entries, newest first."""
    query = (select(account_ledger).where(account_ledger.c.account_id == account_id)
             .order_by(account_ledger.c.id.desc()).limit(limit))
    return [LedgerEntry(id=r.id, account_id=r.account_id, kind=r.kind, amount=r.amount, balance_after=r.balance_after,
                        actor=r.actor, note=r.note, created_at=r.created_at) for r in await conn.execute(query)]
