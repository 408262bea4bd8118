"""PostgreSQL for the tests: throwaway databases on the server at RELAYBOX_TEST_POSTGRES_URL.

The URL names a database the tests may connect to in order to create and drop
others (default `postgresql://postgres@127.0.0.1:5432/test`).  A test session
builds one database (migrated and seeded once; the seeded price tables are copied
aside into a schema `rb_seed`) and empties it before each test that needs a store:
one round trip on a kept connection empties every table but Alembic's
(sequences restarted, as in a new database) and copies the price list back.
That costs ~20 ms, against ~200 ms for `CREATE DATABASE … TEMPLATE` with fsync
on, and no test sees another's rows.

Without a reachable server the PostgreSQL variants are skipped, unless
RELAYBOX_TEST_POSTGRES_REQUIRED=1 (as in `.ci/run`), which turns that into a failure.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import uuid

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_URL = os.environ.get("RELAYBOX_TEST_POSTGRES_URL", DEFAULT_URL)
REQUIRED = os.environ.get("RELAYBOX_TEST_POSTGRES_REQUIRED", "") not in ("", "0", "false")

_PREFIX = f"rbt_{os.getpid()}_{uuid.uuid4().hex[:6]}"
_counter = itertools.count()


class _Loop:
    """An event loop on a thread of its own: sync code (fixtures) runs coroutines on it, whether or
    not a loop runs in the caller's thread, and connections opened on it stay usable."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None

    def run(self, coro):
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            threading.Thread(target=self.loop.run_forever, name="tests-pg", daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()


_loop = _Loop()
_run = _loop.run
_kept: dict[str, asyncpg.Connection] = {}  # database -> a connection for resets


def url_for(database: str) -> str:
    return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(_plain(ADMIN_URL), timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def unavailable_reason() -> str | None:
    """None when the server answers, else why not."""
    try:
        _run(_admin("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        return f"PostgreSQL at {ADMIN_URL} is not reachable: {exc!r}"
    return None


def create_database(template: str | None = None) -> str:
    """A new empty (or template-copied) database; returns its name."""
    name = f"{_PREFIX}_{next(_counter)}"
    _run(_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    return name


def drop_database(name: str) -> None:
    kept = _kept.pop(name, None)
    if kept is not None:
        _run(kept.close())
    _run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


#: Tables the price-list seeding fills (store/pricing.py:seed_price_list).
SEEDED = ("tariffs", "countries", "rates", "currency_rates")


def migrated_database() -> str:
    """A new database with the migrations applied and the price list seeded; returns its name."""
    from relaybox.connectors.shared_simulator import network as simulator_network
    from relaybox.store.db import Database
    from relaybox.store.migrate import upgrade
    from relaybox.store.pricing import seed_price_list

    name = create_database()

    async def prepare() -> None:
        db = Database(url_for(name))
        try:
            await upgrade(db)
            async with db.write() as conn:
                # the simulated network's own tables (made by the connector on start), so that resets empty
                # them too: message ids restart at 1, and the network would take them for resubmissions
                await conn.run_sync(simulator_network.create_all)
                await seed_price_list(conn)
                await conn.exec_driver_sql("CREATE SCHEMA rb_seed")
                for table in SEEDED:
                    await conn.exec_driver_sql(f'CREATE TABLE rb_seed."{table}" AS TABLE public."{table}"')
        finally:
            await db.dispose()

    _run(prepare())
    return name


def reset_database(name: str) -> None:
    """Empty every table but Alembic's, restart every sequence, and put the seeded price list back.

    DELETE, not TRUNCATE: a test leaves a few rows in a few of some thirty tables, and TRUNCATE
    makes new files for every table and index it names (~100 ms a reset here, against ~20 ms).
    """
    from relaybox.connectors.shared_simulator import network as simulator_network
    from relaybox.store.tables import metadata

    # children before parents, so that no foreign key is in the way
    ordered = [*reversed(metadata.sorted_tables), *reversed(simulator_network.sorted_tables)]
    empty = "; ".join(f'DELETE FROM public."{t.name}"' for t in ordered)
    refill = "; ".join(f'INSERT INTO public."{t}" SELECT * FROM rb_seed."{t}"' for t in SEEDED)

    async def reset() -> None:
        conn = _kept.get(name)
        if conn is None or conn.is_closed():
            conn = _kept[name] = await asyncpg.connect(_plain(url_for(name)))
            _restarts[name] = "; ".join(
                f"ALTER SEQUENCE public.{r[0]} RESTART" for r in await conn.fetch(
                    "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'"))
        # one simple-protocol round trip, one transaction
        await conn.execute(f"BEGIN; {empty}; {_restarts[name]}; {refill}; COMMIT")

    _run(reset())


_restarts: dict[str, str] = {}  # database -> its ALTER SEQUENCE … RESTART statements
