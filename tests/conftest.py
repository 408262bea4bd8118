"""Fixtures: a platform on a fresh store (a SQLite file, or a PostgreSQL database), the ASGI app
with its engine, accounts."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from relaybox.api.app import create_app, open_platform
from relaybox.config import Settings
from relaybox.services.platform import Platform
from tests import pg
from tests.factories import TEST_JWT_SECRET, make_account

BACKENDS = ["sqlite", "postgresql"]

# Four test processes (pytest-xdist), each with its stores and its e2e servers (three processes each
# on PostgreSQL), share one PostgreSQL server and its 100 connections: small pools, for this process
# and every relaybox process it starts (they inherit the environment).
os.environ.setdefault("RELAYBOX_DATABASE_POOL_SIZE", "3")
#: Networks the tests' webhooks may reach (RELAYBOX_WEBHOOK_ALLOW_NETWORKS): their receivers' loopback.
TEST_ALLOW_NETWORKS = "127.0.0.0/8,::1/128"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A migrated PostgreSQL database for this session, emptied before each test (tests/pg.py)."""
    reason = pg.unavailable_reason()
    if reason:
        if pg.REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    name = pg.migrated_database()
    yield name
    pg.drop_database(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite store migrated and seeded once per test process; tests get copies of it.

    Copying the file costs ~1 ms against ~200 ms for running the migrations and seeding the
    price list on a new file, and the copy is the very store those steps make: `open_platform`
    still runs them on it, and finds nothing to do.
    """
    path = tmp_path_factory.mktemp("sqlite-template") / "relaybox.db"

    async def build() -> None:
        platform = await open_platform(Settings(database_url=f"sqlite:///{path}", jwt_secret=TEST_JWT_SECRET))
        await platform.db.dispose()

    asyncio.run(build())
    for suffix in ("-wal", "-shm"):
        assert not Path(f"{path}{suffix}").exists(), "the template must be one self-contained file"
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """Every store, service, API and engine test runs once per backend, each time on an empty store."""
    if request.param == "sqlite":
        path = tmp_path / "relaybox.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    name = request.getfixturevalue("postgres_database")
    pg.reset_database(name)
    return pg.url_for(name)


@pytest.fixture
def settings(database_url) -> Settings:
    # The tests' webhook receivers listen on the loopback interface, which deliveries refuse by default.
    return Settings(database_url=database_url, sim_speed=0, jwt_secret=TEST_JWT_SECRET, duplicate_window_seconds=10,
                    webhook_allow_networks=TEST_ALLOW_NETWORKS)


@pytest.fixture
async def platform(settings) -> AsyncIterator[Platform]:
    platform = await open_platform(settings)
    yield platform
    await platform.db.dispose()


@pytest.fixture
async def app(settings):
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relaybox.test") as c:
        yield c


@pytest.fixture
def app_platform(app) -> Platform:
    return app.state.platform


@pytest.fixture
async def account(app_platform) -> tuple[int, str]:
    """A live account with 100 EUR: (account id, key)."""
    return await make_account(app_platform)


@pytest.fixture
def headers(account) -> dict[str, str]:
    return {"X-API-KEY": account[1]}


async def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05):
    """Poll an async predicate until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)
