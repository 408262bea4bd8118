"""Workers in other processes are woken by the API's announcements on PostgreSQL (store/wakeups.py)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from relaybox.api.app import create_app, open_platform
from relaybox.config import Settings
from relaybox.connectors.simulator import SimulatorConnector
from relaybox.engine import Engine
from relaybox.store.tables import messages
from tests import pg
from tests.conftest import wait_until
from tests.factories import TEST_JWT_SECRET, DELIVERED, make_account

HOUR = 3600.0


@pytest.fixture
def postgres_url(postgres_database) -> str:
    pg.reset_database(postgres_database)
    return pg.url_for(postgres_database)


async def test_an_api_without_an_engine_wakes_a_listening_worker(postgres_url):
    settings = Settings(database_url=postgres_url, sim_speed=0, jwt_secret=TEST_JWT_SECRET, engine=False)
    worker_platform = await open_platform(settings)
    # It would look for due work on its own only after an hour: only the announcement can wake it.
    engine = Engine(worker_platform, SimulatorConnector(speed=0), idle_poll=HOUR, listen=True)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        _, key = await make_account(app.state.platform)
        await engine.start()
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://relaybox.test") as client:
                # the engine's first look (at start) has passed once its listener has connected
                await wait_until(lambda: _listening(worker_platform))
                sent = await client.post("/api/messages/send", headers={"X-API-KEY": key}, json={
                    "channels": ["sms"], "phone": {"number": str(DELIVERED)},
                    "sms": {"sender": "relaybox", "text": "wake up"},
                })
                assert sent.status_code == 200, sent.text

                async def delivered():
                    async with worker_platform.db.read() as conn:
                        rows = await conn.execute(select(messages.c.status))
                        return [r.status for r in rows] == ["delivered"]

                await wait_until(delivered)
        finally:
            await engine.stop()
            await worker_platform.db.dispose()


async def _listening(platform) -> bool:
    async with platform.db.read() as conn:
        rows = await conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()"
        )
        return rows.scalar() > 0

