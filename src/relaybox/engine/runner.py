"""Runs the engine's loops as asyncio tasks beside (or without) the API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from relaybox.connectors.base import Connector, Receipt, Submission, SubmitResult
from relaybox.domain.models import Message
from relaybox.domain.status import MessageStatus
from relaybox.engine.webhooks import WebhookSender
from relaybox.services.platform import Platform
from relaybox.store import fingerprints
from relaybox.store import work
from relaybox.store.transitions import StatusChange, apply_changes

log = logging.getLogger("relaybox.engine")

IDLE_POLL = 0.25  # seconds between looks for due work when nothing woke us
EXPIRY_EVERY = 5.0
HOUSEKEEPING_EVERY = 30.0
MAX_IN_FLIGHT = 8
ORPHAN_RETRY = 0.2  # seconds between retries of receipts whose message is not yet known
ORPHAN_PATIENCE = 120.0  # how long such a receipt is kept before it is dropped  # submit batches waiting for a connector at once


def submission(message: Message) -> Submission:
    return Submission(
        message_id=message.id,
        phone=message.phone,
        country=message.country,
        sender=message.sender,
        text=message.text,
        encoding=message.encoding,
        parts=message.parts,
        channel=message.type,
    )


@dataclass
class Engine:
    platform: Platform
    connector: Connector
    batch_size: int = 1000
    webhooks: WebhookSender | None = None
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_IN_FLIGHT))
    _submits: set[asyncio.Task] = field(default_factory=set)

    async def start(self) -> None:
        await self.connector.start()
        if self.webhooks is None:
            self.webhooks = WebhookSender(self.platform)
        await self._recover()
        self._spawn(self._dispatch_loop, "dispatcher")
        self._spawn(self._receipt_loop, "receipts")
        self._spawn(self._periodic(self._expire, EXPIRY_EVERY), "expiry")
        self._spawn(self._periodic(self._housekeeping, HOUSEKEEPING_EVERY), "housekeeping")
        self._spawn(self.webhooks.run, "webhooks")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._submits:
            await asyncio.gather(*self._submits, return_exceptions=True)
        if self.webhooks is not None:
            await self.webhooks.close()
        await self.connector.stop()

    def notify(self) -> None:
        """New work may be due now (called after a send is accepted)."""
        self._wake.set()

    def _spawn(self, fn: Callable[[], Awaitable[None]], name: str) -> None:
        self._tasks.append(asyncio.create_task(self._guard(fn, name), name=f"engine-{name}"))

    async def _guard(self, fn: Callable[[], Awaitable[None]], name: str) -> None:
        # A loop that hits an unexpected error (a lost database connection, say)
        # logs it and starts again after a pause instead of dying silently.
        while True:
            try:
                await fn()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("engine loop %s failed; restarting", name)
                await asyncio.sleep(1.0)

    def _periodic(self, fn: Callable[[], Awaitable[object]], every: float) -> Callable[[], Awaitable[None]]:
        async def loop() -> None:
            while True:
                await fn()
                await asyncio.sleep(every)

        return loop

    # -- dispatch -------------------------------------------------------------

    async def _recover(self) -> None:
        """Resubmit messages left in `sending` by a previous run.

        The connector gets the same message ids, so one that already has a
        message drops the duplicate and answers with its original operator id.
        """
        while True:
            async with self.platform.db.read() as conn:
                stuck = await work.in_doubt(conn, self.batch_size)
            if not stuck:
                return
            await self._submit(stuck)

    async def _dispatch_loop(self) -> None:
        while True:
            await self._in_flight.acquire()
            try:
                async with self.platform.db.write() as conn:
                    claimed = await work.claim_due(conn, self.platform.clock(), self.batch_size)
            except BaseException:
                self._in_flight.release()
                raise
            if not claimed:
                self._in_flight.release()
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL)
                except TimeoutError:
                    pass
                continue
            task = asyncio.create_task(self._submit_and_release(claimed))
            self._submits.add(task)
            task.add_done_callback(self._submits.discard)

    async def _submit_and_release(self, claimed: list[Message]) -> None:
        try:
            await self._submit(claimed)
        except Exception:
            log.exception("submit of %d messages failed; they stay in sending until recovery", len(claimed))
        finally:
            self._in_flight.release()

    async def _submit(self, claimed: list[Message]) -> None:
        results = await self.connector.submit([submission(m) for m in claimed])
        await self._record_results(results)

    async def _record_results(self, results: list[SubmitResult]) -> None:
        now = self.platform.clock()
        changes = [
            StatusChange(
                r.message_id,
                MessageStatus.SENT if r.accepted else MessageStatus.FAILED,
                now,
                connector=self.connector.name,
                operator_id=r.operator_id,
            )
            for r in results
        ]
        async with self.platform.db.write() as conn:
            await apply_changes(conn, changes, now)

    # -- receipts -------------------------------------------------------------

    async def _receipt_loop(self) -> None:
        orphans: list[tuple[float, Receipt]] = []
        loop = asyncio.get_running_loop()
        while True:
            if orphans:
                try:
                    fresh = await asyncio.wait_for(self.connector.receipts(), ORPHAN_RETRY)
                except TimeoutError:
                    fresh = []
            else:
                fresh = await self.connector.receipts()
            now = loop.time()
            retry = [r for deadline, r in orphans if deadline > now]
            if len(retry) < len(orphans):
                log.warning("%d receipts for unknown operator ids dropped", len(orphans) - len(retry))
            deadlines = {id(r): d for d, r in orphans}
            unmatched = await self.apply_receipts(retry + fresh)
            orphans = [(deadlines.get(id(r), now + ORPHAN_PATIENCE), r) for r in unmatched]

    async def apply_receipts(self, receipts: list[Receipt]) -> list[Receipt]:
        """Apply receipts; return those whose operator id is not (yet) known.

        A receipt can overtake the submit result that records its operator id
        (the connector answered, the result's transaction has not committed);
        such receipts are kept and tried again for a while.
        """
        now = self.platform.clock()
        unmatched: list[Receipt] = []
        for start in range(0, len(receipts), self.batch_size):
            batch = receipts[start : start + self.batch_size]
            async with self.platform.db.write() as conn:
                owners = await work.resolve_operator_ids(conn, self.connector.name, [r.operator_id for r in batch])
                changes = [
                    StatusChange(owners[r.operator_id], r.status, r.at)
                    for r in batch
                    if r.operator_id in owners
                ]
                await apply_changes(conn, changes, now)
            unmatched.extend(r for r in batch if r.operator_id not in owners)
        return unmatched

    # -- expiry and housekeeping ---------------------------------------------

    async def _expire(self) -> None:
        while True:
            async with self.platform.db.write() as conn:
                expired = await work.expire_due(conn, self.platform.clock(), self.batch_size)
            if expired < self.batch_size:
                return

    async def _housekeeping(self) -> None:
        cutoff = self.platform.clock() - timedelta(seconds=self.platform.settings.duplicate_window_seconds * 2)
        async with self.platform.db.write() as conn:
            await fingerprints.forget_older_than(conn, cutoff)
