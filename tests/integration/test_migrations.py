"""The migrations build exactly the schema declared in store/tables.py, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from relaybox.store.db import Database
from relaybox.store.migrate import current_revision, upgrade
from relaybox.store.tables import metadata
from tests import pg
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path):
    """A store with nothing in it, not even the migrations."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    request.getfixturevalue("postgres_database")  # skips (or fails) without a server
    name = pg.create_database()
    yield pg.url_for(name)
    pg.drop_database(name)


async def test_migrations_match_declared_schema(empty_database_url):
    db = Database(empty_database_url)
    try:
        await upgrade(db)
        assert await current_revision(db) is not None

        def diff(sync_conn):
            return compare_metadata(MigrationContext.configure(sync_conn), metadata)

        async with db.connect() as conn:
            differences = await conn.run_sync(diff)
        assert differences == []
        await upgrade(db)  # idempotent
    finally:
        await db.dispose()


async def test_postgres_types_are_the_declared_ones(empty_database_url):
    """BIGINT ids, timestamptz times, integer money, JSONB documents: what the docs promise."""
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL types")
    db = Database(empty_database_url)
    try:
        await upgrade(db)
        async with db.read() as conn:
            rows = await conn.exec_driver_sql(
                "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"
            )
            types = {(r[0], r[1]): r[2] for r in rows}
    finally:
        await db.dispose()
    assert types[("messages", "id")] == "bigint"
    assert types[("messages", "campaign_id")] == "bigint"
    assert types[("messages", "created_at")] == "timestamp with time zone"
    assert types[("messages", "price")] == "bigint"
    assert types[("accounts", "balance")] == "bigint"
    json_columns = [k for k, t in types.items() if t in ("json", "jsonb")]
    assert all(types[k] == "jsonb" for k in json_columns), json_columns


async def test_0011_rolls_up_the_messages_already_stored(empty_database_url):
    """Breakdowns of traffic from before migration 0011 count it, charged as the refund rules say."""
    from sqlalchemy import text

    db = Database(empty_database_url)
    try:
        await upgrade(db, "0010")
        async with db.connect() as conn:
            await conn.execute(text("INSERT INTO accounts (id, name, currency, created_at) VALUES (1, 'a', 'EUR', :t)"),
                               {"t": _when("2026-11-01 10:00:00+00:00", db)})
            rows = [(1, "delivered", False, "2026-11-01 10:05:00+00:00", "2026-11-01 10:05:02+00:00"),
                    (2, "delivered", False, "2026-11-01 10:55:00+00:00", "2026-11-01 10:55:02+00:00"),
                    (3, "failed", False, "2026-11-01 10:15:00+00:00", None),  # refunded
                    (4, "delivered", True, "2026-11-01 11:15:00+00:00", "2026-11-01 11:15:02+00:00")]  # test key
            for i, status, is_test, created, sent in rows:
                await conn.execute(text(
                    "INSERT INTO messages (id, account_id, type, source, phone, country, sender, text, encoding, "
                    "parts, validity, tariff_code, price, currency, status, is_test, created_at, due_at, expires_at, "
                    "sent_at) VALUES (:i, 1, 'sms', 'rest', 380971230011, 'UA', 's', 't', 'gsm7', 1, 72, 0, 350000, "
                    "'EUR', :s, :x, :c, :c, :c, :sent)"),
                    {"i": i, "s": status, "x": is_test, "c": _when(created, db), "sent": _when(sent, db)})
            await conn.commit()
        await upgrade(db)
        async with db.connect() as conn:
            for scope in (0, -1):  # messages of no campaign; the whole account
                got = (await conn.execute(text(
                    "SELECT status, sum(n), sum(cost), count(DISTINCT hour) FROM traffic_rollups "
                    "WHERE campaign_id = :c GROUP BY status ORDER BY status"), {"c": scope})).all()
                assert [tuple(r) for r in got] == [("delivered", 3, 700000, 2), ("failed", 1, 0, 1)]
    finally:
        await db.dispose()


def _when(value, db):
    from datetime import datetime

    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    # SQLite keeps naive UTC text (store/types.py); PostgreSQL takes the aware time
    return moment.replace(tzinfo=None) if db.is_sqlite else moment
