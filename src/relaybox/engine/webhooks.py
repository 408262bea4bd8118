"""Delivers the webhook outbox: at least once, with exponential backoff."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import httpx

from relaybox.domain.signatures import ATTEMPT_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER, sign
from relaybox.services.platform import Platform
from relaybox.store import outbox
from relaybox.store.webhook_admin import secrets_for

log = logging.getLogger("relaybox.webhooks")

MAX_ATTEMPTS = 10
BASE_DELAY = 2.0  # seconds before the first retry; doubles each time
MAX_DELAY = 3600.0
LEASE = timedelta(seconds=60)  # an item being sent is not picked up again before this
BATCH = 100
IDLE_POLL = 0.5


def backoff(attempts: int, base: float = BASE_DELAY, max_attempts: int = MAX_ATTEMPTS) -> timedelta | None:
    """Delay before the next try after `attempts` failed ones, or None to give up."""
    if attempts >= max_attempts:
        return None
    return timedelta(seconds=min(MAX_DELAY, base * 2 ** (attempts - 1)))


class WebhookSender:
    def __init__(self, platform: Platform, client: httpx.AsyncClient | None = None, concurrency: int = 20):
        self.platform = platform
        settings = platform.settings
        self.base_delay = getattr(settings, "webhook_retry_base_seconds", BASE_DELAY)
        self.max_attempts = getattr(settings, "webhook_max_attempts", MAX_ATTEMPTS)
        self.client = client or httpx.AsyncClient(timeout=getattr(settings, "webhook_timeout_seconds", 10.0))
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
            keys = await secrets_for(conn, {i.account_id for i in items if i.account_id is not None})
        await asyncio.gather(*(self._deliver(item, keys.get(item.account_id)) for item in items))
        return len(items)

    async def _deliver(self, item: outbox.OutboxItem, secret: str | None = None) -> None:
        async with self.limit:
            error = None
            body = item.payload.encode()
            headers = {
                "Content-Type": "application/json",
                DELIVERY_HEADER: str(item.id),
                ATTEMPT_HEADER: str(item.attempts + 1),
            }
            if secret is not None:
                headers[SIGNATURE_HEADER] = sign(secret, body)
            try:
                response = await self.client.post(item.url, content=body, headers=headers)
                if not 200 <= response.status_code < 300:
                    error = f"HTTP {response.status_code}"
            except Exception as exc:  # noqa: BLE001 - any failure to deliver is recorded and retried
                error = f"{type(exc).__name__}: {exc}"
        now = self.platform.clock()
        async with self.platform.db.write() as conn:
            if error is None:
                await outbox.record_success(conn, item.id, now)
            else:
                await outbox.record_failure(
                    conn, item.id, error, now, backoff(item.attempts + 1, self.base_delay, self.max_attempts)
                )
