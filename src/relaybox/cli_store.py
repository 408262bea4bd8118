"""The store as the operator's commands open it (`key`, `account`, `webhooks`, `connectors`):
only an existing store at the newest migration, never one created or upgraded on the way.

A missing file, an unreachable server, an empty or older database is one line on stderr that
says what to run (`relaybox migrate`, or another --database-url) and exit status 1, and nothing
is written (store/readiness.py).
"""

from __future__ import annotations

import typer

from relaybox.config import Settings
from relaybox.services.platform import Platform


async def open_store(settings: Settings) -> Platform:
    """The platform on `settings.database_url`, not migrated: raises typer.Exit(1) after one line
    on stderr when the store is not ready (store/readiness.py)."""
    from relaybox.services.platform import open_platform
    from relaybox.store.readiness import StoreNotReady, require_ready

    try:
        await require_ready(settings.database_url)
    except StoreNotReady as exc:
        typer.echo(f"relaybox: {exc}", err=True)
        raise typer.Exit(1) from None
    return await open_platform(settings, migrate=False)
