"""What every service needs: the store, the price book, the settings and a clock; and how a
process opens them (`open_platform`), without importing the API (the operator's commands use it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from relaybox.config import Settings
from relaybox.domain.models import Account
from relaybox.domain.pricing import PriceBook
from relaybox.domain.timefmt import utcnow
from relaybox.store import accounts as accounts_store
from relaybox.store.db import Database
from relaybox.tasks import SingleFlight


@dataclass
class Platform:
    """What every service needs: the database, the price book, the settings and the clock (UTC), with
    per-process caches.
    """
    db: Database
    prices: PriceBook
    settings: Settings
    clock: Callable[[], datetime] = field(default=utcnow)
    #: account id -> (expiry on the monotonic clock, Account): see sending.load_account
    account_cache: dict = field(default_factory=dict)
    #: Store reads shared by concurrent requests that need the same row (tasks.SingleFlight).
    flights: SingleFlight = field(default_factory=SingleFlight)
    #: The per-account rate limits (services/rate_limits.py) of an API process; None: not limited
    #: (the engine's processes, and services called directly).
    limiter: object | None = None


async def open_platform(settings: Settings, *, migrate: bool = True, engine_only: bool = False) -> Platform:
    """Connect to the store, migrate it, seed the price list, and load the price book.

    `engine_only`: for a process that runs the engine and no API (`relaybox worker`, the engine
    child of `serve`): its SQLite transactions run on the event loop's thread (store/db.py).
    """
    from relaybox.store.pricing import load_price_book  # here: the operator's commands import this module

    db = Database(settings.database_url, pool_size=settings.database_pool_size, inline_transactions=engine_only)
    if migrate:
        await migrate_store(db)
    async with db.read() as conn:
        prices = await load_price_book(conn)
    return Platform(db=db, prices=prices, settings=settings)


async def migrate_store(db: Database) -> tuple[str | None, str]:
    """Upgrade the store to the newest migration and load the default price list into an empty one,
    one process at a time (several may start at once).  Returns the revision before (None: no
    relaybox tables yet) and after (`relaybox migrate` reports them)."""
    from relaybox.store.migrate import current_revision, exclusive, head_revision, upgrade
    from relaybox.store.pricing import seed_price_list

    async with exclusive(db):
        before = await current_revision(db)
        if before != head_revision():  # at the head already (every start but the first): Alembic has nothing to do
            await upgrade(db)
        async with db.write() as conn:
            await seed_price_list(conn)
        return before, await current_revision(db)


async def read_account(platform: Platform, account_id: int) -> Account | None:
    """The account as stored now, or None if there is none: the one read behind the caches of
    authentication and of the send path, and `accounts.get_account`."""
    async with platform.db.read() as conn:
        return await accounts_store.get_account(conn, account_id)
