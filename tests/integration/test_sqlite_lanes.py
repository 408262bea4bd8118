"""SQLite connections on threads of their own (store/sqlite_lanes.py)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import text

from relaybox.store.db import Database


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'lanes.db'}", pool_size=2)
    async with database.write() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield database
    await database.dispose()


async def test_a_transaction_function_runs_in_one_go_and_commits(db):
    async def work(conn):
        await conn.execute(text("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')"))
        rows = (await conn.execute(text("SELECT v FROM t ORDER BY id"))).all()
        return [r.v for r in rows]

    assert await db.transact(work) == ["a", "b", "c"]
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 3


async def test_a_failing_transaction_function_writes_nothing(db):
    async def work(conn):
        await conn.execute(text("INSERT INTO t (v) VALUES ('x')"))
        raise ValueError("refused")

    with pytest.raises(ValueError):
        await db.transact(work)
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_a_transaction_function_may_not_wait_for_anything_but_its_statements(db):
    async def work(conn):
        await conn.execute(text("INSERT INTO t (v) VALUES ('x')"))
        await asyncio.sleep(0)  # needs the event loop, which the writer's thread does not run

    with pytest.raises(RuntimeError, match="awaited something other than its own statements"):
        await db.transact(work)
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_rows_are_read_whole_on_the_connection_thread(db):
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')"))
    async with db.read() as conn:
        result = await conn.execute(text("SELECT v FROM t ORDER BY id"))
        assert result.fetchone().v == "a"
        assert [r.v for r in result.fetchmany(5)] == ["b", "c"]
        assert result.fetchall() == []


async def test_writers_queue_and_cancelled_waiters_do_not_wedge_the_pool(db):
    """One writer at a time; a task cancelled while it waits for the writer gives up its place."""
    started, release = asyncio.Event(), asyncio.Event()

    async def holder():
        async with db.write() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('held')"))
            started.set()
            await release.wait()

    async def waiter(v):
        async with db.write() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": v})

    first = asyncio.create_task(holder())
    await started.wait()
    cancelled = asyncio.create_task(waiter("cancelled"))
    queued = asyncio.create_task(waiter("queued"))
    await asyncio.sleep(0.05)
    cancelled.cancel()
    release.set()
    await asyncio.wait_for(asyncio.gather(first, queued), 10)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    async with db.read() as conn:
        assert [r.v for r in await conn.execute(text("SELECT v FROM t ORDER BY id"))] == ["held", "queued"]


async def test_the_writer_waits_for_a_write_lock_held_by_another_process(db, tmp_path):
    """Another process (here: another connection) holding the write lock delays the writer, briefly."""
    other = sqlite3.connect(tmp_path / "lanes.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (v) VALUES ('other')")

    async def work(conn):
        await conn.execute(text("INSERT INTO t (v) VALUES ('mine')"))

    write = asyncio.ensure_future(db.transact(work))
    await asyncio.sleep(0.3)
    assert not write.done()  # waiting for the lock, not failed with "database is locked"
    await asyncio.to_thread(other.execute, "COMMIT")
    other.close()
    await asyncio.wait_for(write, 5)
    async with db.read() as conn:
        assert [r.v for r in await conn.execute(text("SELECT v FROM t ORDER BY id"))] == ["other", "mine"]


async def test_the_wal_is_copied_back_without_a_commit_doing_it(db, tmp_path):
    """The checkpointer thread moves committed pages into the database file; commits don't."""
    path = tmp_path / "lanes.db"
    async with db.write() as conn:
        await conn.execute(text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
            "INSERT INTO t (v) SELECT printf('%0500d', i) FROM n"
        ))
    # ~1 MB: far below any automatic checkpoint's threshold, so only the checkpointer moves it
    deadline = asyncio.get_running_loop().time() + 5
    while path.stat().st_size < 500 * 2000 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    assert path.stat().st_size > 500 * 2000


async def test_inline_transactions_run_on_the_loop_and_wait_for_the_lock_without_blocking_it(tmp_path):
    """The engine's mode (inline_transactions): the transaction runs on the event loop's thread;
    while another connection holds the write lock, the loop goes on with other work."""
    import threading

    db = Database(f"sqlite:///{tmp_path / 'inline.db'}", pool_size=1, inline_transactions=True)
    try:
        async with db.write() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        threads = []

        async def work(conn):
            threads.append(threading.get_ident())
            await conn.execute(text("INSERT INTO t (v) VALUES ('mine')"))
            return (await conn.execute(text("SELECT count(*) FROM t"))).scalar()

        write = asyncio.ensure_future(db.transact(work))
        ticks = 0
        for _ in range(20):  # the loop keeps running while the write waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not write.done()
        other.execute("ROLLBACK")
        other.close()
        assert await asyncio.wait_for(write, 5) == 1
        assert threads == [threading.get_ident()]
        async with db.write() as conn:  # the lane's own thread takes the connection back
            await conn.execute(text("INSERT INTO t (v) VALUES ('block')"))
        async with db.read() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 2
    finally:
        await db.dispose()


async def test_writers_of_two_databases_take_turns_through_the_gate(tmp_path):
    """Two relaybox processes' writers (here: two Database objects on one file) wait on the write
    gate, not on SQLite's lock; a writer cancelled while it waits leaves the gate free."""
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    first, second = Database(url, pool_size=1), Database(url, pool_size=1, inline_transactions=True)
    try:
        async with first.write() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))

        async def work(conn):
            await conn.execute(text("INSERT INTO t (v) VALUES ('second')"))

        async with first.write() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('first')"))
            waiting = asyncio.ensure_future(second.transact(work))
            await asyncio.sleep(0.2)
            assert not waiting.done()
        await asyncio.wait_for(waiting, 5)

        async with first.write() as conn:
            cancelled = asyncio.ensure_future(second.transact(work))
            await asyncio.sleep(0.1)
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
        await asyncio.sleep(0.1)  # the waiting thread takes the gate, then lets it go
        async with first.write() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('after')"))
        await asyncio.wait_for(second.transact(work), 5)
        async with first.read() as conn:
            assert [r.v for r in await conn.execute(text("SELECT v FROM t ORDER BY id"))] == [
                "first", "second", "after", "second"]
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_writer_cancelled_while_it_waits_leaves_the_connection_clean(tmp_path):
    """A `write()` cancelled while its BEGIN waits for the lock: the cancelled caller does not wait
    for the lock (up to the 30 s busy timeout); the lane's thread still begins, and that
    transaction is ended before the lane serves anyone else (inline or not)."""
    url = f"sqlite:///{tmp_path / 'cancel.db'}"
    db = Database(url, pool_size=1, inline_transactions=True)
    try:
        async with db.write() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        other = sqlite3.connect(tmp_path / "cancel.db", isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")

        async def block():
            async with db.write() as conn:
                await conn.execute(text("INSERT INTO t (v) VALUES ('never')"))

        waiting = asyncio.ensure_future(block())
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(waiting, 10)  # while the other connection still holds the lock
        other.execute("COMMIT")
        other.close()

        async def work(conn):
            await conn.execute(text("INSERT INTO t (v) VALUES ('inline')"))

        await asyncio.wait_for(db.transact(work), 5)
        async with db.write() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('block')"))
        async with db.read() as conn:
            assert [r.v for r in await conn.execute(text("SELECT v FROM t ORDER BY id"))] == ["inline", "block"]
    finally:
        await db.dispose()


async def test_driver_statements_join_the_transaction_and_fail_as_sqlalchemy_does(db):
    """`exec_driver_sql` goes to the sqlite3 connection itself: a list of tuples is one
    executemany, a tuple one execute; the rows and scalar read back; a constraint refusal is
    SQLAlchemy's IntegrityError; and a failed transaction leaves none of its statements."""
    from sqlalchemy.exc import IntegrityError

    async def work(conn):
        await conn.exec_driver_sql("INSERT INTO t (id, v) VALUES (?, ?)", [(1, "a"), (2, "b")])
        rows = list(await conn.exec_driver_sql("SELECT id, v FROM t WHERE id >= ? ORDER BY id", (1,)))
        top = (await conn.exec_driver_sql("SELECT max(id) FROM t")).scalar()
        return rows, top

    assert await db.transact(work) == ([(1, "a"), (2, "b")], 2)

    async def clash(conn):
        await conn.exec_driver_sql("INSERT INTO t (id, v) VALUES (?, ?)", (3, "c"))
        await conn.exec_driver_sql("INSERT INTO t (id, v) VALUES (?, ?)", (1, "again"))

    with pytest.raises(IntegrityError):
        await db.transact(clash)
    async with db.read() as conn:
        assert list(await conn.exec_driver_sql("SELECT id FROM t ORDER BY id")) == [(1,), (2,)]
