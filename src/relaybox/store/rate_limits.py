"""Rate limits: each account's own limits, and the token buckets the API processes share."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Float, bindparam, cast, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.tables import accounts, rate_buckets

#: The limit columns of `accounts`, by the names services use.
LIMIT_COLUMNS = ("rate_requests_per_second", "rate_requests_burst", "rate_messages_per_second", "rate_messages_burst")


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """An account's own limits as stored: None is "the platform's default", 0 a rate of "no limit"."""

    requests_per_second: int | None = None
    requests_burst: int | None = None
    messages_per_second: int | None = None
    messages_burst: int | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """What one process spent from one bucket since its last report, with the limit it applies."""

    account_id: int
    kind: str  # requests | messages
    rate: float
    burst: float
    spent: int


async def account_limits(conn: AsyncConnection, account_ids: list[int]) -> dict[int, AccountLimits]:
    """The stored limits of the given accounts (absent: no such account)."""
    if not account_ids:
        return {}
    rows = await conn.execute(
        select(accounts.c.id, *(accounts.c[name] for name in LIMIT_COLUMNS)).where(accounts.c.id.in_(account_ids))
    )
    return {row[0]: AccountLimits(*row[1:]) for row in rows}


async def set_limits(conn: AsyncConnection, account_id: int, values: dict[str, int | None]) -> bool:
    """Set some of an account's limit columns (keys: LIMIT_COLUMNS); False when there is no such account."""
    unknown = set(values) - set(LIMIT_COLUMNS)
    if unknown:
        raise ValueError(f"not limit columns: {sorted(unknown)}")
    result = await conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))
    return result.rowcount == 1


def _database_now(dialect: str):
    """Seconds since the epoch on the database's clock: one clock for every API process."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", func.clock_timestamp()), Float)
    return literal_column("((julianday('now') - 2440587.5) * 86400.0)")


async def exchange(conn: AsyncConnection, reports: list[Report]) -> dict[tuple[int, str], float]:
    """Add each report's spending to its shared bucket and return each bucket's new level.

    One statement for all the reports: an upsert that refills the bucket for the time
    since its last refill (the database's clock, capped at `burst`), takes what was
    spent, and returns the level.  A bucket not yet in the table starts full.  Rows are
    written in key order, so two processes' exchanges cannot deadlock on PostgreSQL.
    """
    if not reports:
        return {}
    ordered = sorted(reports, key=lambda r: (r.account_id, r.kind))
    if conn.dialect.name == "sqlite":
        # The same statement as driver SQL, compiled once per number of rows: building and compiling
        # it afresh (five times a second in every API process) was a few per cent of a busy one's time.
        sql, names, values = _exchange_sql(conn.dialect, len(ordered))
        values = dict(values)  # the statement's own constants (the 0.0 of the refill), then the rows'
        for i, r in enumerate(ordered):
            values.update({f"account_id_{i}": r.account_id, f"kind_{i}": r.kind, f"rate_{i}": float(r.rate),
                           f"burst_{i}": float(r.burst), f"tokens_{i}": float(r.burst - r.spent),
                           f"consumed_{i}": r.spent})
        result = await conn.exec_driver_sql(sql, tuple(values[name] for name in names))
        return {(row[0], row[1]): float(row[2]) for row in result}
    rows = [
        {"account_id": r.account_id, "kind": r.kind, "rate": r.rate, "burst": r.burst, "tokens": r.burst - r.spent,
         "consumed": r.spent}
        for r in ordered
    ]
    result = await conn.execute(_exchange_statement(conn.dialect.name, rows))
    return {(row[0], row[1]): float(row[2]) for row in result}


_exchange_sqls: dict[int, tuple[str, tuple[str, ...], dict]] = {}


def _exchange_sql(dialect, n: int) -> tuple[str, tuple[str, ...], dict]:
    """`exchange`'s statement for `n` rows as SQLite driver SQL, its parameters' names in order, and
    the values of the parameters the statement itself fixes."""
    if n not in _exchange_sqls:
        names = ("account_id", "kind", "rate", "burst", "tokens", "consumed")
        rows = [{name: bindparam(f"{name}_{i}") for name in names} for i in range(n)]
        compiled = _exchange_statement("sqlite", rows).compile(dialect=dialect)
        _exchange_sqls[n] = (str(compiled), tuple(compiled.positiontup), compiled.params)
    return _exchange_sqls[n]


def _exchange_statement(dialect: str, rows: list[dict]):
    now = _database_now(dialect)
    rows = [{**row, "refilled_at": now} for row in rows]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    smaller, larger = (func.least, func.greatest) if dialect == "postgresql" else (func.min, func.max)
    stmt = insert(rate_buckets).values(rows)
    new = stmt.excluded
    elapsed = larger(new.refilled_at - rate_buckets.c.refilled_at, 0.0)
    stmt = stmt.on_conflict_do_update(
        index_elements=[rate_buckets.c.account_id, rate_buckets.c.kind],
        set_={
            "tokens": smaller(new.burst, rate_buckets.c.tokens + elapsed * new.rate) - new.consumed,
            "consumed": rate_buckets.c.consumed + new.consumed,
            "rate": new.rate,
            "burst": new.burst,
            "refilled_at": larger(new.refilled_at, rate_buckets.c.refilled_at),
        },
    ).returning(rate_buckets.c.account_id, rate_buckets.c.kind, rate_buckets.c.tokens)
    return stmt


async def shared_levels(conn: AsyncConnection, account_id: int) -> dict[str, float]:
    """The current level of each of an account's shared buckets (refilled to the database's now)."""
    dialect = conn.dialect.name
    smaller, larger = (func.least, func.greatest) if dialect == "postgresql" else (func.min, func.max)
    b = rate_buckets.c
    level = smaller(b.burst, b.tokens + larger(_database_now(dialect) - b.refilled_at, 0.0) * b.rate)
    rows = await conn.execute(select(b.kind, level).where(b.account_id == account_id))
    return {row[0]: float(row[1]) for row in rows}


async def consumed(conn: AsyncConnection, account_id: int) -> dict[str, int]:
    """Tokens ever spent from each of an account's shared buckets (requests, messages)."""
    rows = await conn.execute(
        select(rate_buckets.c.kind, rate_buckets.c.consumed).where(rate_buckets.c.account_id == account_id)
    )
    return {row[0]: row[1] for row in rows}
