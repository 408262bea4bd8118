"""Delivers the webhook outbox: at least once, with exponential backoff, each tenant on its own share.

Scheduling.  Attempts do not wait for each other: the sender keeps up to
`webhook_concurrency` attempts in flight, at most `webhook_account_concurrency`
of them for one account, and starts a new one as soon as a slot is free.  The
due query skips the accounts whose slots are all taken, so a tenant whose
receiver is slow or dead holds only its own slots, and other tenants' due items
go out behind nobody.  Items are leased in the database (PostgreSQL: taken with
SKIP LOCKED), so any number of workers share one outbox; the per-account cap is
per worker.

One attempt.  The address connected to is checked after resolution
(engine/webhook_transport.py); the URL's syntax is checked again (rows written
before it was checked at acceptance).  The whole attempt — resolving,
connecting, sending, reading the reply — has one total deadline
(`webhook_timeout_seconds`): a receiver that trickles a byte every few seconds
is cut off.  The reply is asked for uncompressed (`Accept-Encoding: identity`),
read raw (never inflated) and only up to `webhook_reply_max_bytes`; only its
status counts.  A destination that is refused fails at once: trying it ten
times would change nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import httpx

from relaybox.domain.rules import RuleViolation
from relaybox.domain.signatures import ATTEMPT_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER, sign, standard_headers
from relaybox.domain.webhook_urls import check_webhook_url, parse_networks
from relaybox.engine.webhook_transport import RefusedAddress, guarded_client
from relaybox.observability.metrics import instruments
from relaybox.services.platform import Platform
from relaybox.store import outbox
from relaybox.store.webhook_admin import secrets_for
from relaybox.tasks import wait_event

log = logging.getLogger("relaybox.webhooks")

MAX_ATTEMPTS = 10
BASE_DELAY = 2.0  # seconds before the first retry; doubles each time
MAX_DELAY = 3600.0
LEASE = timedelta(seconds=60)  # an item being sent is not picked up again before this (at least)
BATCH = 100  # due items read at once, of which as many are started as there are free slots
IDLE_POLL = 0.25  # seconds between looks for due items when no slot has freed meanwhile


def backoff(attempts: int, base: float = BASE_DELAY, max_attempts: int = MAX_ATTEMPTS) -> timedelta | None:
    """Delay before the next try after `attempts` failed ones, or None to give up."""
    if attempts >= max_attempts:
        return None
    return timedelta(seconds=min(MAX_DELAY, base * 2 ** (attempts - 1)))


class WebhookSender:
    """Sends due outbox items (see the module's docstring).  `client`: an httpx client to use
    instead of the guarded one (tests give a mock transport); `concurrency` overrides
    `webhook_concurrency`."""

    def __init__(self, platform: Platform, client: httpx.AsyncClient | None = None, concurrency: int | None = None):
        self.platform = platform
        settings = platform.settings
        self.concurrency = concurrency or settings.webhook_concurrency
        self.client = client or guarded_client(
            parse_networks(settings.webhook_allow_networks),
            timeout=settings.webhook_timeout_seconds,
            max_connections=self.concurrency,
        )
        self._in_flight: dict[int, int] = {}  # account id -> attempts in flight
        self._tasks: set[asyncio.Task] = set()
        self._freed = asyncio.Event()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()  # its item stays leased and is tried again when the lease ends
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.aclose()

    async def run(self) -> None:
        while True:
            if await self.start_due():
                continue  # more may be due, and slots may still be free
            self._freed.clear()
            await wait_event(self._freed, IDLE_POLL)

    async def send_due(self) -> int:
        """Start what is due and slots allow, and wait for those attempts; how many were made."""
        tasks = await self.start_due()
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    async def start_due(self) -> list[asyncio.Task]:
        """Lease due items for the free slots (global and per account) and start their attempts."""
        free = self.concurrency - len(self._tasks)
        if free <= 0:
            return []
        settings = self.platform.settings
        per_account = settings.webhook_account_concurrency
        busy = [account for account, n in self._in_flight.items() if n >= per_account]
        now = self.platform.clock()
        lease = max(LEASE, timedelta(seconds=2 * settings.webhook_timeout_seconds + 10))
        if self.platform.db.is_sqlite:
            # Look before taking SQLite's one write lock (which the API's sends need too): most
            # looks of a busy platform whose tenants have no webhooks find nothing due.
            async with self.platform.db.read() as conn:
                if not await outbox.any_due(conn, now, exclude_accounts=busy):
                    return []
        async with self.platform.db.write() as conn:
            chosen: list[outbox.OutboxItem] = []
            taken = dict(self._in_flight)
            for item in await outbox.due(conn, now, BATCH, exclude_accounts=busy):
                if taken.get(item.account_id, 0) < per_account:
                    taken[item.account_id] = taken.get(item.account_id, 0) + 1
                    chosen.append(item)
                    if len(chosen) == free:
                        break
            if not chosen:
                return []
            await outbox.lease(conn, [i.id for i in chosen], now + lease)
            keys = await secrets_for(conn, {i.account_id for i in chosen if i.account_id is not None})
        tasks = []
        for item in chosen:
            self._in_flight[item.account_id] = self._in_flight.get(item.account_id, 0) + 1
            task = asyncio.create_task(self._deliver(item, keys.get(item.account_id)), name=f"webhook-{item.id}")
            self._tasks.add(task)
            task.add_done_callback(lambda t, a=item.account_id: self._done(t, a))
            tasks.append(task)
        return tasks

    def _done(self, task: asyncio.Task, account_id: int) -> None:
        self._tasks.discard(task)
        left = self._in_flight.get(account_id, 1) - 1
        if left > 0:
            self._in_flight[account_id] = left
        else:
            self._in_flight.pop(account_id, None)
        self._freed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook %s: recording its result failed", task.get_name(), exc_info=task.exception())

    async def _deliver(self, item: outbox.OutboxItem, secret: str | None) -> None:
        error, permanent = await self._attempt(item, secret)
        now = self.platform.clock()
        settings = self.platform.settings
        retry = None
        async with self.platform.db.write() as conn:
            if error is None:
                await outbox.record_success(conn, item.id, now)
            else:
                retry = None if permanent else backoff(
                    item.attempts + 1, settings.webhook_retry_base_seconds, settings.webhook_max_attempts
                )
                await outbox.record_failure(conn, item.id, error, now, retry)
        if settings.metrics:
            instruments().webhook_attempt("delivered" if error is None else "retry" if retry is not None else "failed")

    async def _attempt(self, item: outbox.OutboxItem, secret: str | None) -> tuple[str | None, bool]:
        """One POST of the item: (None, _) on a 2xx answer, else (what went wrong, whether it is permanent)."""
        settings = self.platform.settings
        try:
            check_webhook_url(item.url, parse_networks(settings.webhook_allow_networks))
        except RuleViolation as exc:
            return f"refused: {exc}", True
        body = item.payload.encode()
        headers = {
            "Content-Type": "application/json",
            "Accept-Encoding": "identity",  # a compressed reply is never asked for, and never inflated
            DELIVERY_HEADER: str(item.id),
            ATTEMPT_HEADER: str(item.attempts + 1),
        }
        if secret is not None:
            headers[SIGNATURE_HEADER] = sign(secret, body)
            headers.update(standard_headers(secret, str(item.id), self.platform.clock(), body))
        deadline = settings.webhook_timeout_seconds
        try:
            async with asyncio.timeout(deadline):
                async with self.client.stream("POST", item.url, content=body, headers=headers) as response:
                    await _read_capped(response, settings.webhook_reply_max_bytes)
        except RefusedAddress as exc:
            return f"refused: {exc}", True
        except TimeoutError:
            return f"deadline: no complete answer within {deadline:g} s", False
        except httpx.UnsupportedProtocol as exc:
            return f"refused: {exc}", True
        except Exception as exc:  # noqa: BLE001 - any other failure to deliver is recorded and retried
            return f"{type(exc).__name__}: {exc}", False
        if not 200 <= response.status_code < 300:
            return f"HTTP {response.status_code}", False
        return None, False


async def _read_capped(response: httpx.Response, cap: int) -> None:
    """Read the raw (still encoded) reply up to `cap` bytes; the rest is never read (the connection
    is then closed rather than reused).  httpcore hands over at most 64 KiB per chunk."""
    if response.is_stream_consumed:  # a reply given whole (httpx.MockTransport in tests): nothing to read
        return
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= cap:
            break
