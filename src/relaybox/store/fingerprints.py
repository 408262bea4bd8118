"""Duplicate-request detection, kept in the database so that every API process agrees."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.bulk import to_driver
from relaybox.store.tables import request_fingerprints as fp


async def remember(conn: AsyncConnection, account_id: int, digest: str, now: datetime, window: timedelta) -> bool:
    """Record a request; False when the same one was seen within `window` (a duplicate).

    A single upsert does both the check and the write, so two processes that
    receive the same body at once cannot both pass.
    """
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(fp).values(account_id=account_id, digest=digest, seen_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[fp.c.account_id, fp.c.digest],
        set_={"seen_at": stmt.excluded.seen_at},
        where=fp.c.seen_at < now - window,
    )
    result = await conn.execute(stmt)
    return result.rowcount == 1


async def forget_older_than(conn: AsyncConnection, cutoff: datetime) -> int:
    """Delete request fingerprints seen before `cutoff`; returns how many."""
    result = await conn.execute(delete(fp).where(fp.c.seen_at < cutoff))
    return result.rowcount


async def remember_many(
    conn: AsyncConnection, items: list[tuple[int, str]], now: datetime, window: timedelta
) -> set[tuple[int, str]]:
    """`remember` for many (account, digest) pairs in one statement; returns the fresh ones.

    The pairs must be distinct.  RETURNING lists exactly the rows the upsert
    inserted or refreshed, so a pair missing from it was seen within the window.
    """
    if not items:
        return set()
    if conn.dialect.name == "sqlite":
        return await _remember_many_sqlite(conn, items, now, window)
    stmt = pg_insert(fp)
    stmt = stmt.on_conflict_do_update(
        index_elements=[fp.c.account_id, fp.c.digest],
        set_={"seen_at": stmt.excluded.seen_at},
        where=fp.c.seen_at < bindparam("cutoff", type_=fp.c.seen_at.type),
    ).returning(fp.c.account_id, fp.c.digest)
    # One statement with a parameter set per pair (SQLAlchemy sends them as
    # multi-row VALUES): compiled once, unlike a .values([...]) of each size.
    cutoff = now - window
    result = await conn.execute(stmt, [{"account_id": a, "digest": d, "seen_at": now, "cutoff": cutoff} for a, d in items])
    return {(r.account_id, r.digest) for r in result}


_sqlite_remember: dict[int, str] = {}


async def _remember_many_sqlite(conn, items: list[tuple[int, str]], now: datetime, window: timedelta):
    """`remember_many` as driver SQL: it runs in the single-send group commit, under the write lock."""
    n = len(items)
    sql = _sqlite_remember.get(n)
    if sql is None:
        sql = _sqlite_remember[n] = (
            "INSERT INTO request_fingerprints (account_id, digest, seen_at) VALUES "
            + ", ".join("(?, ?, ?)" for _ in range(n))
            + " ON CONFLICT (account_id, digest) DO UPDATE SET seen_at = excluded.seen_at"
            " WHERE request_fingerprints.seen_at < ? RETURNING account_id, digest"
        )
    seen_at = to_driver(fp.c.seen_at, conn.dialect, now)
    params = [value for account_id, digest in items for value in (account_id, digest, seen_at)]
    params.append(to_driver(fp.c.seen_at, conn.dialect, now - window))
    return {(r[0], r[1]) for r in await conn.exec_driver_sql(sql, tuple(params))}


async def forget(conn: AsyncConnection, items: list[tuple[int, str]]) -> None:
    """Drop fingerprints recorded for requests that were refused after all."""
    for account_id, digest in items:
        await conn.execute(delete(fp).where(fp.c.account_id == account_id, fp.c.digest == digest))
