"""Connections and transactions.

One code path serves SQLite and PostgreSQL.  SQLite allows one writer at a
time, so on SQLite writes go through a single connection that opens
transactions with ``BEGIN IMMEDIATE``: writers queue in-process instead of
failing on a lock upgrade, and readers (WAL mode) never wait for them.  SQLite
connections live on threads of their own (store/sqlite_lanes.py): one hand-off
per statement, one per transaction given as a function (`transact`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from relaybox.store.sqlite_lanes import Checkpointer, LanePool, WriteGate, sync_engine


def async_url(url: str) -> str:
    """Map a plain database URL to the async driver relaybox uses for it."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite")  # plain sqlite3 on lane threads (store/sqlite_lanes.py)
    elif backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database: {backend} (use sqlite:/// or postgresql://)")
    return parsed.render_as_string(hide_password=False)


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
    """A deadlock victim or serialization failure, raised through SQLAlchemy or straight from the
    asyncpg driver (the bulk statements that use the driver's connection, store/bulk.py)."""
    if isinstance(exc, DBAPIError):
        exc = exc.orig
    return getattr(exc, "sqlstate", None) in RETRYABLE


class Database:
    """The store's connections: `write()` for transactions that change data, `read()` for queries."""

    def __init__(self, url: str, *, pool_size: int = 10, inline_transactions: bool = False) -> None:
        """`inline_transactions`: on SQLite, `transact` runs on the calling (event loop's) thread
        (sqlite_lanes.LanePool.inline): for the engine's process, not for an API's."""
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        if self.is_sqlite:
            path = make_url(self.url).database
            on_disk = bool(path) and path != ":memory:"
            self._lane_writer = LanePool(sync_engine(self.url, immediate=True), 1, "relaybox-writer",
                                         inline=inline_transactions, gate=WriteGate(path) if on_disk else None)
            self._lane_readers = LanePool(
                sync_engine(self.url, immediate=False), pool_size, "relaybox-reader", commit=False
            )
            self._checkpointer = Checkpointer(path) if on_disk else None
        else:
            self._writer = create_async_engine(self.url, pool_size=pool_size, max_overflow=pool_size)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sql_dialect(self):
        """SQLAlchemy's dialect object of the connections (to convert values ahead of a transaction)."""
        return self._lane_writer.dialect if self.is_sqlite else self._writer.dialect

    @property
    def engine(self) -> AsyncEngine:
        """PostgreSQL's engine (for connections outside the pool's transactions)."""
        if self.is_sqlite:
            raise TypeError("SQLite has no async engine: use write(), read(), transact() or connect()")
        return self._writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits when the block ends and rolls back if it raises."""
        if self.is_sqlite:
            async with self._lane_writer.transaction() as conn:
                yield conn  # type: ignore[misc]  # LaneConnection: the AsyncConnection the store uses
            return
        async with self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose transactions the caller commits (migrations): on SQLite, the writer's."""
        if self.is_sqlite:
            async with self._lane_writer.transaction() as conn:
                yield conn  # type: ignore[misc]
            return
        async with self._writer.connect() as conn:
            yield conn

    async def transact(
        self, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int = 6, inline: bool | None = None
    ) -> T:
        """`work(conn)` in a `write()` transaction, run again if the database aborted it as a
        deadlock victim or a serialization failure (possible with several workers on PostgreSQL).

        On SQLite the whole of `work` runs on the writer's thread, BEGIN to
        COMMIT in one hand-off, so it may await only its own statements.
        `inline` (SQLite): run it on the event loop's thread instead, for a
        short transaction that must hold the write lock as briefly as can be
        (None: as the Database was made, see `inline_transactions`).
        """
        if self.is_sqlite:
            return await self._lane_writer.run(work, inline=inline)  # type: ignore[arg-type]
        for attempt in range(attempts):
            try:
                async with self.write() as conn:
                    return await work(conn)
            except Exception as exc:
                if attempt == attempts - 1 or not retryable(exc):
                    raise
            await asyncio.sleep(random.uniform(0.01, 0.05) * 2**attempt)
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        if self.is_sqlite:
            async with self._lane_readers.transaction() as conn:
                yield conn  # type: ignore[misc]
            return
        async with self._writer.connect() as conn:
            yield conn

    async def dispose(self) -> None:
        if self.is_sqlite:
            if self._checkpointer is not None:
                await asyncio.to_thread(self._checkpointer.stop)
            await asyncio.to_thread(self._lane_writer.dispose)
            await asyncio.to_thread(self._lane_readers.dispose)
        else:
            await self._writer.dispose()
