"""Connections and transactions.

One code path serves SQLite and PostgreSQL.  SQLite allows one writer at a
time, so on SQLite writes go through a single pooled connection that opens
transactions with ``BEGIN IMMEDIATE``: writers queue in-process instead of
failing on a lock upgrade, and readers (WAL mode) never wait for them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def async_url(url: str) -> str:
    """Map a plain database URL to the async driver relaybox uses for it."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database: {backend} (use sqlite:/// or postgresql://)")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(engine: AsyncEngine, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        # Let SQLAlchemy's "begin" event, not the driver, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn):  # pragma: no cover
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


T = TypeVar("T")


async def driver(conn: AsyncConnection):
    """The asyncpg connection under `conn` (PostgreSQL only), inside the same transaction.

    For the engine's few hot statements, run thousands of times a second with
    several workers: asyncpg's own prepared-statement cache and records skip
    SQLAlchemy's per-execution compile, parameter and row processing, about
    half a worker's CPU.  Everything else goes through SQLAlchemy Core.
    """
    raw = await conn.get_raw_connection()
    adapted = raw.dbapi_connection
    if getattr(adapted, "_transaction", False) is None:
        # SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement.
        # A statement sent straight to asyncpg before that would run outside the
        # transaction: autocommitted, its FOR UPDATE locks released at once, and
        # not undone by a rollback.  So begin it now, as SQLAlchemy would.
        await adapted._start_transaction()
    return raw.driver_connection

#: PostgreSQL's deadlock_detected and serialization_failure: the transaction
#: did nothing and may simply run again.
RETRYABLE = frozenset({"40P01", "40001"})


def retryable(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE


class Database:
    """The store's connections: `write()` for transactions that change data, `read()` for queries."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        if self.is_sqlite:
            self._writer = create_async_engine(self.url, pool_size=1, max_overflow=0, pool_timeout=120)
            self._reader = create_async_engine(self.url, pool_size=pool_size, max_overflow=pool_size)
            _sqlite_pragmas(self._writer, immediate=True)
            _sqlite_pragmas(self._reader, immediate=False)
        else:
            self._writer = create_async_engine(self.url, pool_size=pool_size, max_overflow=pool_size)
            self._reader = self._writer

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def engine(self) -> AsyncEngine:
        return self._writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits when the block ends and rolls back if it raises."""
        async with self._writer.begin() as conn:
            yield conn

    async def transact(self, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int = 6) -> T:
        """`work(conn)` in a `write()` transaction, run again if the database aborted it as a
        deadlock victim or a serialization failure (possible with several workers on PostgreSQL)."""
        for attempt in range(attempts):
            try:
                async with self.write() as conn:
                    return await work(conn)
            except DBAPIError as exc:
                if attempt == attempts - 1 or not retryable(exc):
                    raise
            await asyncio.sleep(random.uniform(0.01, 0.05) * 2**attempt)
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.connect() as conn:
            yield conn

    async def dispose(self) -> None:
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()
