"""Accounts, API keys, balances and platform settings."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.models import Account, AccountSummary, Caller
from relaybox.domain.timefmt import utcnow
from relaybox.store.tables import accounts, api_keys, settings


def hash_key(key: str) -> str:
    """How an API key is stored and looked up: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def _account(row) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        currency=row.currency,
        balance=row.balance,
        credit=row.credit,
        status=row.status,
        tariff_code=row.tariff_code,
        webhook_url=row.webhook_url,
    )


async def create_account(
    conn: AsyncConnection, *, name: str, currency: str, balance: int, credit: int, tariff_code: int,
    webhook_url: str | None = None,
) -> int:
    """Insert an active account; `balance` and `credit` in units of 1e-7 of `currency` (domain/money.py). Returns its id."""
    result = await conn.execute(
        insert(accounts).values(
            name=name,
            currency=currency,
            balance=balance,
            credit=credit,
            status="active",
            tariff_code=tariff_code,
            webhook_url=webhook_url,
            created_at=utcnow(),
        )
    )
    return result.inserted_primary_key[0]


async def add_api_key(conn: AsyncConnection, account_id: int, key: str, mode: str, label: str | None = None) -> int:
    """Store a key's hash (never the key), its prefix and last four characters; returns its id."""
    result = await conn.execute(
        insert(api_keys).values(
            account_id=account_id, key_hash=hash_key(key), mode=mode, prefix=key[:12], last4=key[-4:],
            label=label, created_at=utcnow(),
        )
    )
    return result.inserted_primary_key[0]


_GRANT = select(api_keys.c.id, api_keys.c.account_id, api_keys.c.mode, api_keys.c.revoked_at)


def _grant(row) -> tuple[Caller, datetime | None] | None:
    if row is None:
        return None
    return Caller(account_id=row.account_id, is_test=row.mode == "test", key_id=row.id), row.revoked_at


async def caller_for_key(conn: AsyncConnection, key: str, now: datetime) -> tuple[Caller, datetime | None] | None:
    """The caller a key stands for while it works at `now`, and when it stops (None: not planned)."""
    live = or_(api_keys.c.revoked_at.is_(None), api_keys.c.revoked_at > now)
    return _grant((await conn.execute(_GRANT.where(api_keys.c.key_hash == hash_key(key), live))).first())


async def caller_for_key_id(conn: AsyncConnection, key_id: int, now: datetime) -> tuple[Caller, datetime | None] | None:
    """`caller_for_key` by the key's row id: what a JWT names (services/auth.py)."""
    live = or_(api_keys.c.revoked_at.is_(None), api_keys.c.revoked_at > now)
    return _grant((await conn.execute(_GRANT.where(api_keys.c.id == key_id, live))).first())


async def get_account(conn: AsyncConnection, account_id: int) -> Account | None:
    """The account, or None."""
    row = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
    return _account(row) if row else None


async def set_status(conn: AsyncConnection, account_id: int, status: str) -> None:
    """Set the account's status (`active`, `blocked`); an unknown id changes nothing."""
    await conn.execute(update(accounts).where(accounts.c.id == account_id).values(status=status))


async def reserve(conn: AsyncConnection, account_id: int, amount: int) -> bool:
    """Take `amount` units from the balance if balance + credit covers it; atomic."""
    if amount == 0:
        return True
    result = await conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id, accounts.c.balance + accounts.c.credit >= amount)
        .values(balance=accounts.c.balance - amount)
    )
    return result.rowcount == 1


async def refund(conn: AsyncConnection, refunds: dict[int, int]) -> None:
    """Give units back, per account (in id order: see transitions.apply_changes on lock order)."""
    for account_id, amount in sorted(refunds.items()):
        if amount:
            await conn.execute(
                update(accounts).where(accounts.c.id == account_id).values(balance=accounts.c.balance + amount)
            )


async def get_setting(conn: AsyncConnection, key: str) -> str | None:
    """A platform setting's value from the `settings` table, or None."""
    return (await conn.execute(select(settings.c.value).where(settings.c.key == key))).scalar()


async def spendable(conn: AsyncConnection, account_ids: list[int]) -> dict[int, int]:
    """balance + credit per account, locked on PostgreSQL until the transaction ends."""
    if conn.dialect.name == "sqlite":  # driver SQL: the single-send group commit runs this under the write lock
        marks = ", ".join("?" for _ in account_ids)
        rows = await conn.exec_driver_sql(f"SELECT id, balance, credit FROM accounts WHERE id IN ({marks})",
                                          tuple(account_ids))
        return {r[0]: r[1] + r[2] for r in rows}
    query = select(accounts.c.id, accounts.c.balance, accounts.c.credit).where(accounts.c.id.in_(account_ids))
    return {r.id: r.balance + r.credit for r in await conn.execute(query.with_for_update())}


async def charge(conn: AsyncConnection, totals: dict[int, int]) -> None:
    """Take already-checked totals from the balances, one update per account, in id order."""
    if conn.dialect.name == "sqlite":
        params = [(amount, account_id) for account_id, amount in sorted(totals.items()) if amount]
        if params:
            await conn.exec_driver_sql("UPDATE accounts SET balance = balance - ? WHERE id = ?", params)
        return
    for account_id, amount in sorted(totals.items()):
        if amount:
            await conn.execute(
                update(accounts).where(accounts.c.id == account_id).values(balance=accounts.c.balance - amount)
            )


async def keep_setting(conn: AsyncConnection, key: str, value: str) -> str:
    """The stored value of `key`, storing `value` first if there is none (safe when processes race)."""
    insert_ = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await conn.execute(insert_(settings).values(key=key, value=value).on_conflict_do_nothing(index_elements=["key"]))
    return await get_setting(conn, key)


async def list_accounts(conn: AsyncConnection, now: datetime) -> list[AccountSummary]:
    """Every account, by id, with how many of its keys work at `now`."""
    live = or_(api_keys.c.revoked_at.is_(None), api_keys.c.revoked_at > now)
    counts = (
        select(api_keys.c.account_id, func.count().label("n")).where(live).group_by(api_keys.c.account_id).subquery()
    )
    query = (
        select(accounts, func.coalesce(counts.c.n, 0).label("active_keys"))
        .select_from(accounts.outerjoin(counts, counts.c.account_id == accounts.c.id))
        .order_by(accounts.c.id)
    )
    return [AccountSummary(_account(r), r.active_keys, r.created_at) for r in await conn.execute(query)]


async def set_webhook_url(conn: AsyncConnection, account_id: int, url: str | None) -> None:
    """The account's default webhook URL (None: no default), already checked by the caller."""
    await conn.execute(update(accounts).where(accounts.c.id == account_id).values(webhook_url=url))
