"""Delivers the webhook outbox: at least once, with exponential backoff."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import httpx

from relaybox.services.platform import Platform
from relaybox.store import outbox

log = logging.getLogger("relaybox.webhooks")

MAX_ATTEMPTS = 10
BASE_DELAY = 2.0  # seconds before the first retry; doubles each time
MAX_DELAY = 3600.0
LEASE = timedelta(seconds=60)  # an item being sent is not picked up again before this
BATCH = 100
IDLE_POLL = 0.5


def backoff(attempts: int) -> timedelta | None:
    """Delay before the next try after `attempts` failed ones, or None to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return timedelta(seconds=min(MAX_DELAY, BASE_DELAY * 2 ** (attempts - 1)))


class WebhookSender:
    def __init__(self, platform: Platform, client: httpx.AsyncClient | None = None, concurrency: int = 20):
        self.platform = platform
        self.client = client or httpx.AsyncClient(timeout=10.0)
        self.limit = asyncio.Semaphore(concurrency)

    async def close(self) -> None:
        await self.client.aclose()

    async def run(self) -> None:
        while True:
            sent = await self.send_due()
            if not sent:
                await asyncio.sleep(IDLE_POLL)

    async def send_due(self) -> int:
        now = self.platform.clock()
        async with self.platform.db.write() as conn:
            items = await outbox.due(conn, now, BATCH)
            await outbox.lease(conn, [i.id for i in items], now + LEASE)
        await asyncio.gather(*(self._deliver(item) for item in items))
        return len(items)

    async def _deliver(self, item: outbox.OutboxItem) -> None:
        async with self.limit:
            error = None
            try:
                response = await self.client.post(
                    item.url, content=item.payload, headers={"Content-Type": "application/json"}
                )
                if not 200 <= response.status_code < 300:
                    error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        now = self.platform.clock()
        async with self.platform.db.write() as conn:
            if error is None:
                await outbox.record_success(conn, item.id, now)
            else:
                await outbox.record_failure(conn, item.id, error, now, backoff(item.attempts + 1))
