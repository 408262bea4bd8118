"""One app per module and backend, and a new account for every test: for the modules of many small
bad-input tests (test_oneapi_validation and its kin).

An app on a new store costs ~0.2 s to start and stop (~0.6 s with the suite's four processes on
two cores), more than most of these tests take; hundreds of them spent a fifth of the suite's time
in set-up.  Here each test still gets an account of its own, and what a test may check — what was
written, what was charged, what another account's id answers — is its own account's: tenant
isolation, which these tests lean on as every tenant does.  A test that changes something
platform-wide puts it back (`rates_removed`, and the price book reloaded after every test).

A module opts in with

    from tests.shared_app import account, app, app_platform, client, database_url, headers, settings, settings_overrides  # noqa: F401
    pytestmark = pytest.mark.asyncio(loop_scope="module")

and may define its own `settings_overrides` (module-scoped, returning Settings fields) in place of the import.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete, insert, select

from relaybox.api.app import create_app
from relaybox.config import Settings
from relaybox.services.platform import Platform
from relaybox.store.pricing import load_price_book
from relaybox.store.tables import rates
from tests import pg
from tests.conftest import BACKENDS, TEST_ALLOW_NETWORKS
from tests.factories import TEST_JWT_SECRET, make_account


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    """This module's store: a copy of the SQLite template, or the test process's PostgreSQL database
    emptied once for the module (xdist's loadfile runs a module's tests together, in one process)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("shared-app") / "relaybox.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    name = request.getfixturevalue("postgres_database")
    pg.reset_database(name)
    return pg.url_for(name)


@pytest.fixture(scope="module")
def settings_overrides() -> dict:
    return {}


@pytest.fixture(scope="module")
def settings(database_url, settings_overrides) -> Settings:
    return Settings(**{"database_url": database_url, "sim_speed": 0, "jwt_secret": TEST_JWT_SECRET,
                       "duplicate_window_seconds": 10, "webhook_allow_networks": TEST_ALLOW_NETWORKS,
                       **settings_overrides})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(settings):
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
def app_platform(app) -> Platform:
    return app.state.platform


@pytest_asyncio.fixture(loop_scope="module")
async def client(app, app_platform) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relaybox.test") as c:
        yield c
    # a test may have changed the running price book (legacy_support.forbid_direction): the store's is the truth
    async with app_platform.db.read() as conn:
        app_platform.prices = await load_price_book(conn)


@pytest_asyncio.fixture(loop_scope="module")
async def account(app_platform) -> tuple[int, str]:
    """A new live account with 100 EUR: (account id, key)."""
    return await make_account(app_platform)


@pytest.fixture
def headers(account) -> dict[str, str]:
    return {"X-API-KEY": account[1]}


@asynccontextmanager
async def rates_removed(platform: Platform, *where) -> AsyncIterator[None]:
    """The price list without the rates matching `where` (SQLAlchemy conditions on `rates`) for the
    block: deleted from the store and the running price book, and put back after it."""
    async with platform.db.write() as conn:
        removed = [dict(row._mapping) for row in await conn.execute(select(rates).where(*where))]
        await conn.execute(delete(rates).where(*where))
        platform.prices = await load_price_book(conn)
    try:
        yield
    finally:
        async with platform.db.write() as conn:
            if removed:
                await conn.execute(insert(rates), removed)
            platform.prices = await load_price_book(conn)
