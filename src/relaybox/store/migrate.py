"""Apply the Alembic migrations (`relaybox migrate`, and `serve` on start)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from relaybox.store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """Alembic's configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


#: Advisory lock key (two-int form, beside store/workers.py's worker tokens) held while migrating.
_MIGRATION_LOCK = (0x52424F58, 0)


@asynccontextmanager
async def exclusive(db: Database) -> AsyncIterator[None]:
    """One process at a time in the block, across processes and machines on PostgreSQL.

    `serve --workers N` and several `relaybox worker`s start together, and each
    migrates and seeds the store on start: the second one in finds it done.
    (SQLite: one machine, and its writes are serialised by the file lock already.)
    """
    if db.is_sqlite:
        yield
        return
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:a, :b)"), dict(zip("ab", _MIGRATION_LOCK)))
        await conn.commit()
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), dict(zip("ab", _MIGRATION_LOCK)))
            await conn.commit()


async def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate the database to `revision` (default the head) and commit."""
    config = alembic_config()

    def run(sync_conn) -> None:
        config.attributes["connection"] = sync_conn
        command.upgrade(config, revision)

    async with db.connect() as conn:
        await conn.run_sync(run)
        await conn.commit()


@cache
def head_revision() -> str:
    """The newest migration shipped with this relaybox (read from the scripts once per process:
    they do not change while it runs)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(db: Database) -> str | None:
    """The database's Alembic revision, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    async with db.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
