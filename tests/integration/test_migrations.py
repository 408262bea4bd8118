"""The migrations build exactly the schema declared in store/tables.py."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from relaybox.store.db import Database
from relaybox.store.migrate import current_revision, upgrade
from relaybox.store.tables import metadata


async def test_migrations_match_declared_schema(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        await upgrade(db)
        assert await current_revision(db) is not None

        def diff(sync_conn):
            return compare_metadata(MigrationContext.configure(sync_conn), metadata)

        async with db.engine.connect() as conn:
            differences = await conn.run_sync(diff)
        assert differences == []
        await upgrade(db)  # idempotent
    finally:
        await db.dispose()
