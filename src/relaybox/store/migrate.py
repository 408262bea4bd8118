"""Apply the Alembic migrations (`relaybox migrate`, and `serve` on start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from relaybox.store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    config = alembic_config()

    def run(sync_conn) -> None:
        config.attributes["connection"] = sync_conn
        command.upgrade(config, revision)

    async with db.engine.connect() as conn:
        await conn.run_sync(run)
        await conn.commit()


async def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
