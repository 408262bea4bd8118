"""Worker leases: only the messages of a dead worker are taken over and resubmitted (both backends)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from sqlalchemy import select

from relaybox.connectors.simulator import SimulatorConnector
from relaybox.domain.models import Caller
from relaybox.domain.timefmt import utcnow
from relaybox.engine import Engine
from relaybox.services import sending
from relaybox.store import work, workers
from relaybox.store.tables import messages
from tests.conftest import wait_until
from tests.factories import DELIVERED, make_account
from tests.integration.test_engine import recipients, statuses

HOLD_A_LEASE = """
import asyncio, sys
from relaybox.store.db import Database
from relaybox.store import workers

async def main():
    lease = await workers.acquire(Database(sys.argv[1]))
    print(lease.token, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_a_lease_lives_until_released(platform):
    lease = await workers.acquire(platform.db)
    async with platform.db.read() as conn:
        assert await workers.live_tokens(platform.db, conn, {lease.token, 12345}) == {lease.token}
    assert await lease.alive()
    await lease.release()
    async with platform.db.read() as conn:
        assert await workers.live_tokens(platform.db, conn, {lease.token}) == set()


async def test_a_killed_workers_lease_is_gone(platform, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_LEASE, platform.settings.database_url],
        cwd=tmp_path, stdout=subprocess.PIPE, env={**os.environ},
    )
    try:
        token = int(holder.stdout.readline())

        async def alive():
            async with platform.db.read() as conn:
                return await workers.live_tokens(platform.db, conn, {token})

        assert await alive() == {token}
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        await wait_until(lambda: _negate(alive), timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()


async def _negate(predicate):
    return not await predicate()


async def test_only_a_dead_claimers_messages_are_taken_over(platform):
    account_id, _ = await make_account(platform)
    outcome = await sending.send(platform, Caller(account_id, False), recipients(DELIVERED, DELIVERED + 1), sending.SendOptions())
    other = await workers.acquire(platform.db)  # another worker, alive, with the messages in flight
    async with platform.db.write() as conn:
        claimed = await work.claim_due(conn, utcnow(), 10, other.tag)
    assert len(claimed) == 2

    connector = SimulatorConnector(speed=0)
    engine = Engine(platform, connector)
    await engine.start()  # recovery runs on start: the live worker's messages are left alone
    try:
        async with platform.db.read() as conn:
            tags = set((await conn.execute(select(messages.c.connector).where(messages.c.campaign_id == outcome.campaign.id))).scalars())
        assert tags == {other.tag} and connector.submit_count == 0

        await other.release()  # the claimer dies: its in-doubt messages go to the live engine

        async def delivered():
            return set((await statuses(platform, outcome.campaign.id)).values()) == {"delivered"}

        await wait_until(delivered, timeout=15)
    finally:
        await engine.stop()
    assert connector.submit_count == 2
