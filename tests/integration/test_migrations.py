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
