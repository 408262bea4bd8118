"""SQLite connections that each live on a thread of their own ("lanes").

SQLAlchemy's async engine over aiosqlite hands every statement back and forth
between the event loop and the driver's thread about eight times (cursor,
execute, description, fetch, close, …): roughly 1 ms of event-loop time for a
one-row transaction, more than the statement itself costs by two orders of
magnitude.  A lane instead runs the whole of a statement (compile, execute,
fetch every row) in one call on its thread, so a statement is one hand-off;
and a transaction written as a function (`Database.transact`) runs on the
lane's thread from BEGIN to COMMIT in a single hand-off.

The statements are SQLAlchemy Core on a plain synchronous `sqlite3`
connection, so the store's code and its SQL are the same on both backends:
`LaneConnection` offers the part of `AsyncConnection` the store uses.
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

T = TypeVar("T")


class _BufferedCursor(sqlite3.Cursor):
    """A cursor that has read all of its rows by the time `execute` returns.

    The rows are then read by the event loop's thread without touching the
    connection, which only its own thread uses.
    """

    def execute(self, sql, parameters=(), /):
        super().execute(sql, parameters)
        self._rows = collections.deque(super().fetchall()) if self.description else collections.deque()
        return self

    def executemany(self, sql, seq_of_parameters, /):
        super().executemany(sql, seq_of_parameters)
        self._rows = collections.deque()
        return self

    def fetchone(self):
        rows = getattr(self, "_rows", None)
        return rows.popleft() if rows else None

    def fetchmany(self, size=None):
        rows = getattr(self, "_rows", None) or collections.deque()
        size = self.arraysize if size is None else size
        return [rows.popleft() for _ in range(min(size, len(rows)))]

    def fetchall(self):
        rows = getattr(self, "_rows", None) or collections.deque()
        out = list(rows)
        rows.clear()
        return out


BUSY_TIMEOUT_MS = 30_000
FALLBACK_CHECKPOINT_PAGES = 20_000  # 80 MB of WAL with 4 KiB pages
CHECKPOINT_EVERY = 0.5  # seconds


def _poll(attempt: Callable[[], bool], what: str) -> None:
    """Call `attempt` until it succeeds, every 0.05 ms growing to every 0.5 ms, for up to
    SQLite's busy timeout; then "database is locked"."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.00005
    while not attempt():
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"database is locked (waited for {what})")
        time.sleep(pause)
        pause = min(pause * 1.5, 0.0005)


def _try_begin_immediate(dbapi_connection: sqlite3.Connection) -> bool:
    """BEGIN IMMEDIATE if the write lock is free; False if another connection holds it."""
    try:
        dbapi_connection.execute("BEGIN IMMEDIATE")
        return True
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False


def _begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, trying again every fraction of a millisecond while the lock is taken.

    relaybox's own writers have queued on the `WriteGate` before they get here,
    so this waits only for writers that are not relaybox (the `sqlite3`
    shell).  Not SQLite's busy handler: it sleeps 1, 2, 5, 10, … up to 100 ms
    between tries, far longer than a lock is usually held.
    """
    _poll(lambda: _try_begin_immediate(dbapi_connection), "the write lock")


async def _begin_immediate_async(dbapi_connection: sqlite3.Connection) -> None:
    """`_begin_immediate` for the event loop's thread: it waits for the lock without blocking the loop."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while not _try_begin_immediate(dbapi_connection):
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError("database is locked (waited for the write lock)")
        await asyncio.sleep(0.0005)


class _Connection(sqlite3.Connection):
    def cursor(self, factory=_BufferedCursor):  # type: ignore[override]
        return super().cursor(factory)


def sync_engine(url: str, *, immediate: bool) -> Engine:
    """A synchronous SQLAlchemy engine on `url` (plain `sqlite:///…`), with relaybox's pragmas.

    `immediate`: transactions start with BEGIN IMMEDIATE (the writer), taking
    the database's write lock up front instead of failing on a lock upgrade.
    """
    engine = create_engine(url, poolclass=NullPool, connect_args={"factory": _Connection, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        # Let SQLAlchemy's "begin" event, not the driver, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
        # The writer waits for the write lock itself (`_begin_immediate`); readers
        # in WAL mode only meet a lock while the WAL is reset, and wait for it.
        cursor.execute(f"PRAGMA busy_timeout={0 if immediate else BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA mmap_size=268435456")
        # Checkpoints run on a thread of their own (`Checkpointer`), not in the commit that
        # happens to cross the threshold; this higher threshold only bounds the WAL if that
        # thread falls behind.
        cursor.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):  # pragma: no cover
        if immediate:
            dbapi_connection = conn.connection.driver_connection
            if not dbapi_connection.in_transaction:  # else Lane.run_here took the lock already
                _begin_immediate(dbapi_connection)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


class WriteGate:
    """An advisory lock (`flock`) on a file beside the database, taken by every relaybox writer
    before `BEGIN IMMEDIATE` and let go after its `COMMIT` or `ROLLBACK`.

    SQLite tells a writer only that the lock is taken, not when it is free, so
    waiting for it means trying again and again, and each try of
    `BEGIN IMMEDIATE` costs SQLite real work: measured, the API's tries while
    the engine's process wrote cost a seventh of the API's CPU.  A try of the
    gate is one system call, made by a thread of its own while the event loop
    goes on.  Writers that are not relaybox (the `sqlite3` shell) do not take
    the gate; `_begin_immediate` still waits for them.
    """

    def __init__(self, database_path: str) -> None:
        self._fd = os.open(f"{database_path}-writer", os.O_RDWR | os.O_CREAT, 0o644)
        self._waiter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relaybox-gate")

    def _try(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def acquire(self) -> None:
        """Wait for the gate (as long as SQLite's busy timeout, then "database is locked")."""
        _poll(self._try, "relaybox's write gate")

    async def acquire_async(self) -> None:
        """`acquire` without blocking the event loop (a thread waits, if anything must)."""
        if self._try():
            return
        waiting = asyncio.get_running_loop().run_in_executor(self._waiter, self.acquire)
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # the thread may take the gate after all: let it go then
            waiting.add_done_callback(lambda done: done.exception() is None and self.release())
            raise

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._waiter.shutdown(wait=False)
        os.close(self._fd)


class Lane:
    """One connection and the one thread that uses it."""

    def __init__(self, engine: Engine, name: str, gate: WriteGate | None = None) -> None:
        self._engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._thread_id: int | None = None
        self.conn: Connection | None = None
        self._gate = gate
        self._gate_held = False
        self._last: asyncio.Future | None = None  # the latest `call` handed to the thread

    def _open(self) -> Connection:
        self._thread_id = threading.get_ident()
        if self.conn is None or self.conn.closed:
            self.conn = self._engine.connect()
        return self.conn

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the lane's thread (at once when already on it)."""
        if threading.get_ident() == self._thread_id:
            return fn(*args)
        self._last = asyncio.get_running_loop().run_in_executor(self._executor, partial(fn, *args))
        return await self._last

    async def settle(self) -> None:
        """Wait until the lane's thread is done with what it was given: a caller that was
        cancelled while it waited for a `call` leaves the thread still at it."""
        if self._last is not None and not self._last.done():
            await asyncio.wait([self._last])

    # -- transactions ---------------------------------------------------------

    def begin(self) -> Connection:
        conn = self._open()
        if self._gate is not None and not self._gate_held:
            self._gate.acquire()
            self._gate_held = True
        try:
            conn.begin()
        except BaseException:
            self._let_go()
            raise
        return conn

    def finish(self, commit: bool) -> None:
        conn = self.conn
        try:
            if conn is None or conn.closed:
                return
            try:
                if conn.in_transaction():
                    (conn.commit if commit else conn.rollback)()
            except BaseException:
                # a connection that failed to commit or roll back is not reused
                conn.invalidate()
                conn.close()
                raise
        finally:
            self._let_go()

    def _let_go(self) -> None:
        if self._gate_held:
            self._gate_held = False
            self._gate.release()

    def run(self, work: Callable[[LaneConnection], Coroutine[Any, Any, T]]) -> T:
        """On the lane's thread: BEGIN, `work`, COMMIT (ROLLBACK if it raises)."""
        conn = self.begin()
        try:
            result = drive(work(LaneConnection(self, conn)))
        except BaseException:
            self.finish(commit=False)
            raise
        self.finish(commit=True)
        return result

    async def run_here(self, work: Callable[[LaneConnection], Coroutine[Any, Any, T]]) -> T:
        """`run` on the calling thread (the event loop's) instead of the lane's (see LanePool.inline).

        The write lock is waited for first, without blocking the loop; then the
        transaction runs to its end in one go, `begin` adopting the open one.
        """
        await self.settle()
        lane_thread = self._thread_id
        try:
            dbapi_connection = self._open().connection.driver_connection  # the calling thread is the lane's now
            try:
                if self._gate is not None:
                    await self._gate.acquire_async()
                    self._gate_held = True
                await _begin_immediate_async(dbapi_connection)
            except BaseException:
                if dbapi_connection.in_transaction:  # cancelled just as it took the lock
                    dbapi_connection.execute("ROLLBACK")
                self._let_go()
                raise
            return self.run(work)
        finally:
            self._thread_id = lane_thread

    def close(self) -> None:
        def shut() -> None:
            if self.conn is not None and not self.conn.closed:
                self.conn.close()

        self._executor.submit(shut).result()
        self._executor.shutdown(wait=True)


def drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (its awaits are statements on this lane) to its end."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a transaction run on a lane awaited something other than its own statements")


class LaneConnection:
    """What the store's functions use of `AsyncConnection`, on a lane's connection."""

    def __init__(self, lane: Lane, conn: Connection) -> None:
        self._lane = lane
        self._conn = conn
        self.dialect = conn.dialect

    @property
    def sync_connection(self) -> Connection:
        return self._conn

    async def execute(self, statement, parameters=None, *, execution_options=None):
        return await self._lane.call(_execute, self._conn, statement, parameters, execution_options)

    async def scalar(self, statement, parameters=None):
        return (await self.execute(statement, parameters)).scalar()

    async def exec_driver_sql(self, statement: str, parameters=None):
        """SQL text with `?` marks, straight to the `sqlite3` connection (`_exec_driver_sql`)."""
        return await self._lane.call(_exec_driver_sql, self._conn, statement, parameters)

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await self._lane.call(partial(fn, self._conn, *args, **kwargs))

    async def commit(self) -> None:
        await self._lane.call(self._conn.commit)

    async def rollback(self) -> None:
        await self._lane.call(self._conn.rollback)

    async def get_raw_connection(self):  # pragma: no cover - PostgreSQL's driver() only
        raise NotImplementedError("SQLite connections have no asyncpg driver")


class DriverResult:
    """The rows of a driver statement (tuples) and its rowcount: what the store reads of a result."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[tuple], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self):
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def scalar(self):
        return self._rows[0][0] if self._rows else None


def _exec_driver_sql(conn: Connection, statement: str, parameters) -> DriverResult:
    """`conn.exec_driver_sql(statement, parameters)` without SQLAlchemy's execution context.

    A list of parameter tuples is an `executemany`, a tuple (or None) one `execute`, as
    SQLAlchemy reads them.  The statement joins the connection's transaction (begun here if
    SQLAlchemy has not yet, as its autobegin would), and a driver error is raised as the
    `sqlalchemy.exc` error SQLAlchemy would raise (IntegrityError, OperationalError…).  The
    context (a cursor wrapper, a result object, events) costs about 20 µs a statement, more
    than most of these statements themselves, and the single-send group commit and the engine
    run several per transaction while they hold SQLite's only write lock.
    """
    if not conn.in_transaction():
        conn.begin()
    cursor = conn.connection.driver_connection.cursor()
    try:
        if isinstance(parameters, list):
            cursor.executemany(statement, parameters)
        else:
            cursor.execute(statement, parameters if parameters is not None else ())
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, parameters, exc, sqlite3.Error, dialect=conn.dialect) from exc
    return DriverResult(cursor.fetchall(), cursor.rowcount)


def _execute(conn: Connection, statement, parameters, execution_options):
    if execution_options:
        return conn.execute(statement, parameters, execution_options=execution_options)
    return conn.execute(statement, parameters)


class LanePool:
    """A fixed set of lanes handed out one transaction at a time, first come first served."""

    def __init__(self, engine: Engine, size: int, name: str, *, commit: bool = True, inline: bool = False,
                 gate: WriteGate | None = None) -> None:
        self._engine = engine
        self._gate = gate
        #: `run` on the event loop's own thread: for a process whose loop has nothing that cannot
        #: wait (the engine), so that a transaction, which holds SQLite's only write lock, never
        #: waits for the GIL between its statements while the loop's thread runs Python.
        self.inline = inline
        self._commit = commit  # False for readers: their transactions end with ROLLBACK
        self._lanes = [Lane(engine, f"{name}-{i}", gate) for i in range(size)]
        self._free = list(reversed(self._lanes))
        self._waiters: collections.deque[asyncio.Future] = collections.deque()

    @property
    def dialect(self):
        return self._engine.dialect

    async def _acquire(self) -> Lane:
        if self._free and not self._waiters:
            return self._free.pop()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())  # handed a lane just as it was cancelled: pass it on
            elif waiter in self._waiters:  # (`_release` drops cancelled waiters it comes across)
                self._waiters.remove(waiter)
            raise

    def _release(self, lane: Lane) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(lane)
                return
        self._free.append(lane)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[LaneConnection]:
        """A transaction that commits when the block ends and rolls back if it raises.

        Each statement is one hand-off to the lane's thread.
        """
        lane = await self._acquire()
        handed_on = False
        try:
            try:
                conn = await lane.call(lane.begin)
            except BaseException:
                # Cancelled while the lane's thread waits for the lock: it goes on and begins. End
                # that transaction there (its queue keeps the order), and hand the lane on only
                # then; the cancelled caller does not wait for it (the lock may be held for long).
                ending = asyncio.ensure_future(lane.call(lane.finish, False))
                ending.add_done_callback(lambda done: (done.cancelled() or done.exception(), self._release(lane)))
                handed_on = True
                raise
            try:
                yield LaneConnection(lane, conn)
            except BaseException:
                await asyncio.shield(lane.call(lane.finish, False))
                raise
            await lane.call(lane.finish, self._commit)
        finally:
            if not handed_on:
                self._release(lane)

    async def run(self, work: Callable[[LaneConnection], Awaitable[T]], *, inline: bool | None = None) -> T:
        """`work(conn)` as one transaction, BEGIN to COMMIT in one hand-off to a lane's thread.

        `work` may await only its statements: anything else (a sleep, another
        task, a network call) would need the event loop, which the lane's
        thread does not run; `drive` refuses it.  `inline`: run it on the
        calling thread instead (None: the pool's `inline`).
        """
        lane = await self._acquire()
        try:
            if self.inline if inline is None else inline:
                return await lane.run_here(work)
            return await lane.call(lane.run, work)
        finally:
            self._release(lane)

    def dispose(self) -> None:
        for lane in self._lanes:
            lane.close()
        self._engine.dispose()
        if self._gate is not None:
            self._gate.close()


class Checkpointer:
    """Copies the WAL back into the database file every CHECKPOINT_EVERY seconds, on its own thread.

    With SQLite's automatic checkpoints, the commit that takes the WAL past
    1,000 pages copies them back (and syncs the file) before it returns: at a
    thousand messages a second that is a pause of several milliseconds every
    fraction of a second, taken while the writer's transaction is still
    counted as running.  A passive checkpoint needs no lock that writers or
    readers hold, so here it runs beside them; its I/O releases the GIL.
    """

    def __init__(self, path: str, interval: float = CHECKPOINT_EVERY) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relaybox-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            while not self._stop.wait(self._interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # e.g. the file was removed under a test: try again later
                    continue
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
