"""Runs the engine's loops as asyncio tasks beside (or without) the API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Set
from dataclasses import dataclass, field
from datetime import timedelta

from relaybox.connectors.base import Click, Connector, Inbound, Receipt, Report, Submission, SubmitResult
from relaybox.connectors.routing import Router, is_up
from relaybox.domain.models import Message
from relaybox.domain.status import MessageStatus
from relaybox.engine import connector_status
from relaybox.engine import stat_jobs
from relaybox.engine.overtaken import OvertakenReports
from relaybox.engine.webhooks import WebhookSender
from relaybox.services import inbound as inbound_service
from relaybox.observability.metrics import Instruments, instruments
from relaybox.services.platform import Platform
from relaybox.store import fingerprints
from relaybox.store import work
from relaybox.store import wakeups
from relaybox.store import workers
from relaybox.store.clicks import record_clicks
from relaybox.store.transitions import StatusChange, apply_changes
from relaybox.tasks import acquire_within, wait_event

log = logging.getLogger("relaybox.engine")

IDLE_POLL = 0.25  # seconds between looks for due work when nothing woke us
EXPIRY_EVERY = 5.0
HOUSEKEEPING_EVERY = 30.0
MAX_IN_FLIGHT = 8
STOP_GRACE = 5.0  # seconds stop() waits for submit batches in flight before cancelling them
#: A down connector's messages beyond its submit slots go back to the queue for this long
#: (seconds), instead of holding up the dispatcher and with it every other route.
PARK_FOR = 5.0
ROUTE_CHECK = 0.5  # seconds between looks at a busy connector's state while waiting for a slot
RECOVER_EVERY = 2.0  # seconds between looks for messages whose claimer died
SUBMIT_RETRY = 1.0  # seconds before a batch whose submit or result failed is tried again
ORPHAN_RETRY = 0.2  # seconds between retries of receipts whose message is not yet known
ORPHAN_PATIENCE = 120.0  # how long such a receipt is kept before it is dropped
#: Seconds a receipt's id must have found nothing in its own form before its converted forms
#: (the id read in its other base: connectors/smpp/message_ids.py) are tried.  By then a
#: submit result that overtook it has been recorded, so a digit-only id that names its own
#: message is never taken for another message's id in the other base.
CONVERTED_AFTER = 2.0
#: After a claim that found less than a full batch, the dispatcher waits this long before the
#: next one.  Under a steady stream of single messages (hundreds a second, each waking it) it
#: would otherwise claim, submit and record them a few at a time: three transactions for every
#: handful of messages.  Waiting a little lets them gather into batches; it adds at most this
#: much to the time a message waits before its hand-off.  The receipt intake does the same
#: after a partial batch of reports.
GATHER = 0.02
#: Seconds after the last claim or receipt batch during which the engine counts as busy (busy()).
BUSY_WINDOW = 0.5


def submission(message: Message) -> Submission:
    """What the connector gets of a message."""
    return Submission(
        message_id=message.id,
        phone=message.phone,
        country=message.country,
        sender=message.sender,
        text=message.text,
        encoding=message.encoding,
        parts=message.parts,
        channel=message.type,
        rcs_options=message.rcs_options,
    )


@dataclass
class Engine:
    """The delivery engine: claims due messages, hands them to connectors in batches, applies receipts, expires
    messages and sends webhooks, as asyncio tasks; times in seconds.
    """
    platform: Platform
    connector: Connector
    batch_size: int = 1000
    webhooks: WebhookSender | None = None
    max_in_flight: int = MAX_IN_FLIGHT  # submit batches waiting for each connector at once
    idle_poll: float = IDLE_POLL
    gather: float = GATHER  # pause after a partial batch (see GATHER)
    lease: workers.WorkerLease | None = None  # this worker's claim tag, live while the engine runs
    #: Several connectors and the routes to them (relaybox.toml); None: `connector` takes everything.
    router: Router | None = None
    #: PostgreSQL: also wake up when an API process in another process announces due messages
    #: (store/wakeups.py); for `relaybox worker`.
    listen: bool = False
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)  # submit slots by connector name (_hand_over)
    _submits: set[asyncio.Task] = field(default_factory=set)
    _overtaken: dict[str, OvertakenReports] = field(default_factory=dict)  # by connector name
    #: Counters of status changes and submit results (observability/metrics.py); None: metrics off.
    metrics: Instruments | None = None
    _busy_at: float = 0.0  # loop time of the last claim or receipt batch that found messages (busy())

    def __post_init__(self) -> None:
        if self.metrics is None and self.platform.settings.metrics:
            self.metrics = instruments()

    def _count(self, applied) -> None:
        """Count committed status changes (after the transaction: a rolled-back one counts nothing)."""
        if self.metrics is not None and applied:
            self.metrics.status_changes((a.message.status, a.message.connector) for a in applied)

    async def start(self) -> None:
        if self.router is None:
            self.router = Router.single(self.connector)
        for connector in self.router.all():
            await connector.start()
        if self.webhooks is None:
            self.webhooks = WebhookSender(self.platform)
        self.lease = await workers.acquire(self.platform.db)  # before the first claim
        # Recovery runs at once, in its own task: a connector that is not bound yet (an SMPP
        # link still connecting) makes it wait there, and must not keep start() from returning.
        self._spawn(self._periodic(self._recover, RECOVER_EVERY), "recovery")
        self._spawn(self._dispatch_loop, "dispatcher")
        if self.listen and not self.platform.db.is_sqlite:
            self._spawn(lambda: wakeups.listen(self.platform.db, self.notify), "due-listener")
        for connector in self.router.all():  # each connector's receipts resolve by its own name
            self._spawn(lambda c=connector: self._receipt_loop(c), f"receipts-{connector.name}")
        self._spawn(self._periodic(self._publish_status, connector_status.PUBLISH_EVERY), "connector-status")
        self._spawn(self._periodic(self._expire, EXPIRY_EVERY), "expiry")
        self._spawn(self._periodic(self._housekeeping, HOUSEKEEPING_EVERY), "housekeeping")
        self._spawn(self.webhooks.run, "webhooks")
        self._spawn(lambda: stat_jobs.run_forever(self.platform, lambda: self.lease.tag, self.busy), "stat-jobs")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._submits:
            # Let batches in flight finish; one waiting on a connector that cannot deliver (an
            # unbound SMPP link) is cancelled after STOP_GRACE: its messages stay `sending` under
            # this worker's lease, released below, and are resubmitted by the next engine's recovery.
            _, waiting = await asyncio.wait(set(self._submits), timeout=STOP_GRACE)
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
        if self.webhooks is not None:
            await self.webhooks.close()
        for connector in self.router.all() if self.router else [self.connector]:
            await connector.stop()
        if self.lease is not None:
            try:
                await connector_status.withdraw(self.platform, self.lease.tag)
            except Exception:  # the store may be gone already; the rows go stale and are cleared later
                log.warning("could not withdraw the connector status rows", exc_info=True)
        if self.lease is not None:
            await self.lease.release()

    def busy(self) -> bool:
        """Whether messages are moving: submits in flight, or a claim or receipt batch that found
        some in the last BUSY_WINDOW seconds.  Background work (statistics jobs) waits while so."""
        return bool(self._submits) or asyncio.get_running_loop().time() - self._busy_at < BUSY_WINDOW

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
        """Resubmit the in-doubt messages of dead workers: left in `sending`, result never recorded.

        Runs on start and every few seconds, so a worker killed mid-batch has
        its messages taken over by a live one.  Only messages whose claimer's
        lease is gone are taken (store/workers.py): a live worker's in-flight
        batches are left alone.  The connector gets the same message ids, so
        one that already has a message drops the duplicate and answers with
        its original operator id.
        """
        db = self.platform.db
        if not await self.lease.alive():
            # The connection holding the lock was cut: to the others this worker is dead and its
            # in-flight messages theirs to resubmit (same ids: dropped by the connector). Go on
            # under a new lease, so that what it claims from now on is not taken from it too.
            log.error("worker lease %s lost with its database connection; taking a new one", self.lease.tag)
            old, self.lease = self.lease, await workers.acquire(db)
            try:
                await old.release()
            except Exception:  # noqa: BLE001 - its connection is gone already
                pass
        tag = self.lease.tag

        async def take(conn) -> list[Message]:
            claimers = await work.sending_claimers(conn)
            tokens = {t for t in map(workers.token_of, claimers) if t is not None}
            alive = await workers.live_tokens(db, conn, tokens)
            dead = [c for c in claimers if workers.token_of(c) not in alive]
            return await work.take_over(conn, dead, tag, self.batch_size) if dead else []

        while True:
            orphans = await db.transact(take)
            if not orphans:
                return
            log.warning("resubmitting %d in-doubt messages of a dead worker", len(orphans))
            await self._hand_over(orphans)

    async def _dispatch_loop(self) -> None:
        while True:
            claimed = await self.platform.db.transact(
                lambda conn: work.claim_due(conn, self.platform.clock(), self.batch_size, self.lease.tag)
            )
            if not claimed:
                self._wake.clear()
                await wait_event(self._wake, self.idle_poll)
                continue
            self._busy_at = asyncio.get_running_loop().time()
            await self._hand_over(claimed)
            if len(claimed) < self.batch_size:
                await asyncio.sleep(self.gather)

    async def _hand_over(self, claimed: list[Message]) -> None:
        """Start the submission of each connector's share of a claimed batch in a slot of that connector.

        Each connector has `max_in_flight` slots.  A healthy connector whose
        slots are all taken makes the dispatcher wait (backpressure).  A
        connector that is down (an SMPP link not bound) with all its slots
        waiting for the link gets no more: its share goes back to the queue for
        PARK_FOR seconds, and the dispatcher goes on claiming for the other
        routes.  (With one set of slots for all connectors, a down route filled
        them all and stalled every route.)
        """
        router = self.router or Router.single(self.connector)
        for connector, group in router.split(claimed):
            slots = self._slots.setdefault(connector.name, asyncio.Semaphore(self.max_in_flight))
            if not await self._take_slot(connector, slots):
                await self._park(connector, group)
                continue
            task = asyncio.create_task(self._submit_and_release(connector, group, slots))
            self._submits.add(task)
            task.add_done_callback(self._submits.discard)

    async def _take_slot(self, connector: Connector, slots: asyncio.Semaphore) -> bool:
        """Take one of the connector's submit slots, waiting while it is busy but up; False if it is down and full."""
        while True:
            if not slots.locked():
                await slots.acquire()  # free: does not wait
                return True
            if not is_up(connector):
                return False
            if await acquire_within(slots, ROUTE_CHECK):
                return True
            # still busy: look at its state again

    async def _park(self, connector: Connector, group: list[Message]) -> None:
        until = self.platform.clock() + timedelta(seconds=PARK_FOR)
        tag = self.lease.tag
        parked = await self.platform.db.transact(lambda conn: work.release_claims(conn, group, tag, until))
        log.warning("connector %s is down and its %d submit slots are waiting: %d messages back in the queue "
                    "for %g s", connector.name, self.max_in_flight, parked, PARK_FOR)

    async def _submit_and_release(self, connector: Connector, group: list[Message], slots: asyncio.Semaphore) -> None:
        try:
            while True:
                try:
                    await self._submit_to(connector, group)
                    return
                except Exception:
                    # Still ours (tagged with our live lease): nobody else will take them,
                    # so try again; the connector drops what it already has by message id.
                    log.exception("submit of %d messages to %s failed; trying again", len(group), connector.name)
                    await asyncio.sleep(SUBMIT_RETRY)
        finally:
            slots.release()

    async def _submit_to(self, connector: Connector, group: list[Message]) -> None:
        results = await connector.submit([submission(m) for m in group])
        await self._record_results(results, connector)

    async def _record_results(self, results: list[SubmitResult], connector: Connector | None = None) -> None:
        connector = connector or self.connector
        now = self.platform.clock()
        # A network kept in this database records what it was handed in the same transaction
        # (connectors/base.py: TransactionalNetwork): no write transaction of its own.
        network = getattr(connector, "record_submitted", None)

        async def record(conn) -> tuple[list[SubmitResult], Callable[[], None] | None, list]:
            recorded, committed = await network(conn, results) if network is not None else (results, None)
            changes = [
                StatusChange(
                    r.message_id,
                    MessageStatus.SENT if r.accepted else MessageStatus.FAILED,
                    now,
                    connector=connector.name,
                    operator_id=r.operator_id,
                )
                for r in recorded
            ]
            applied = await apply_changes(conn, changes, now)
            return recorded, committed, applied

        results, committed, applied = await self.platform.db.transact(record)
        if committed is not None:
            committed()
        self._count(applied)
        if self.metrics is not None:
            accepted = sum(1 for r in results if r.accepted)
            self.metrics.submit_results(connector.name, accepted, len(results) - accepted)
        overtaken = self._overtaken.get(connector.name)
        if overtaken is not None:
            overtaken.results_recorded(r.operator_id for r in results if r.accepted)

    # -- receipts -------------------------------------------------------------

    async def _receipt_loop(self, connector: Connector | None = None) -> None:
        connector = connector or self.connector
        overtaken = self._overtaken.setdefault(connector.name, OvertakenReports(ORPHAN_RETRY, ORPHAN_PATIENCE))
        loop = asyncio.get_running_loop()
        # The connector's receipts() call is kept across turns, never cancelled half-way
        # (a shared simulator's would lose the reports it had just taken, for a lease).
        pending: asyncio.Future | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(connector.receipts())
                # Reports that overtook their submit result are tried again as soon as this engine
                # records that result, else after ORPHAN_RETRY (engine/overtaken.py).
                matched = asyncio.ensure_future(overtaken.matched.wait()) if len(overtaken) else None
                try:
                    await asyncio.wait(
                        {pending} | ({matched} if matched else set()),
                        timeout=overtaken.wait_time(loop.time()),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    if matched is not None:
                        matched.cancel()
                fresh: list[Report] = []
                if pending.done():
                    fresh, pending = pending.result(), None
                mobile_originated = [r for r in fresh if isinstance(r, Inbound)]
                if mobile_originated:
                    fresh = [r for r in fresh if not isinstance(r, Inbound)]
                    await self.apply_inbound(mobile_originated, connector)
                now = loop.time()
                if fresh:
                    self._busy_at = now
                retry, dropped = overtaken.take(now)
                if dropped:
                    log.warning("%d receipts for unknown operator ids dropped", dropped)
                deadlines = {id(r): d for d, r in retry}
                batch = [r for _, r in retry] + fresh
                overtaken.trying(batch)
                patient = ORPHAN_PATIENCE - CONVERTED_AFTER  # kept at least CONVERTED_AFTER seconds
                converting = {id(r) for d, r in retry if getattr(r, "converted", ()) and d - now <= patient}
                unmatched = await self.apply_receipts(batch, connector, converting)
                overtaken.keep(((deadlines.get(id(r)), r) for r in unmatched), loop.time())
                if 0 < len(fresh) < self.batch_size:
                    # As the dispatcher does after a partial claim (GATHER): a network that
                    # reports one message at a time would otherwise get one transaction each.
                    await asyncio.sleep(self.gather)
        finally:
            if pending is not None:
                pending.cancel()

    async def apply_receipts(
        self, receipts: list[Report], connector: Connector | None = None, converting: Set[int] = frozenset()
    ) -> list[Report]:
        """Apply receipts (and RCS clicks); return those whose operator id is not (yet) known.

        A receipt can overtake the submit result that records its operator id
        (the connector answered, the result's transaction has not committed);
        such receipts are kept and tried again for a while.  A receipt's
        `alternatives` are looked up with its id, in the same query; its
        `converted` forms too when `id(receipt)` is in `converting`, and they
        only match a message that is still `sent`.
        """
        connector = connector or self.connector
        forget = getattr(connector, "forget_reports", None)
        now = self.platform.clock()
        unmatched: list[Report] = []
        moved: list = []  # this batch's applied changes, of its last (committed) try
        for start in range(0, len(receipts), self.batch_size):
            batch = receipts[start : start + self.batch_size]

            async def apply(conn, batch=batch) -> dict[int, int]:
                wanted: dict[str, None] = {}
                for r in batch:
                    wanted[r.operator_id] = None
                    wanted.update(dict.fromkeys(getattr(r, "alternatives", ())))
                    if id(r) in converting:
                        wanted.update(dict.fromkeys(r.converted))
                found = await work.lock_by_operator_ids(conn, connector.name, list(wanted))
                owners = {id(r): m.id for r in batch if (m := _owner(r, found, id(r) in converting)) is not None}
                changes = [
                    StatusChange(owners[id(r)], r.status, r.at)
                    for r in batch
                    if id(r) in owners and isinstance(r, Receipt)
                ]
                moved[:] = await apply_changes(conn, changes, now, loaded={m.id: m for m in found.values()})
                clicks = [
                    (owners[id(r)], r.text, r.postback, r.at)
                    for r in batch
                    if id(r) in owners and isinstance(r, Click)
                ]
                if clicks:
                    await record_clicks(conn, clicks, now)
                if forget is not None:  # a network kept in this database forgets them in this transaction
                    await forget(conn, [r for r in batch if id(r) in owners])
                return owners

            owners = await self.platform.db.transact(apply)
            self._count(moved)
            await self._acknowledge([r for r in batch if id(r) in owners], connector)
            unmatched.extend(r for r in batch if id(r) not in owners)
        return unmatched

    async def apply_inbound(self, reports: list[Inbound], connector: Connector | None = None) -> None:
        """Store mobile-originated messages (services/inbound.py), then let the connector acknowledge
        them (SMPP: their deliver_sm_resp): acknowledged only once stored, so never lost."""
        connector = connector or self.connector
        forget = getattr(connector, "forget_reports", None)  # a network kept in this database
        for start in range(0, len(reports), self.batch_size):
            batch = reports[start : start + self.batch_size]
            also = (lambda conn, batch=batch: forget(conn, batch)) if forget is not None else None
            while True:
                try:
                    await inbound_service.receive(self.platform, connector.name, batch, in_transaction=also)
                    break
                except Exception:
                    # Not acknowledged, so not lost: keep them and try again (a lost database
                    # connection); meanwhile the SMSC keeps them unanswered.
                    log.exception("storing %d inbound messages failed; trying again", len(batch))
                    await asyncio.sleep(SUBMIT_RETRY)
            await self._acknowledge(batch, connector)

    async def _acknowledge(self, reports: list[Report], connector: Connector | None = None) -> None:
        """Tell a connector that keeps reports until told (the shared simulator, SMPP) that these are recorded."""
        acknowledge = getattr(connector or self.connector, "acknowledge", None)
        if acknowledge is not None and reports:
            await acknowledge(reports)

    # -- expiry and housekeeping ---------------------------------------------

    async def _publish_status(self) -> None:
        await connector_status.publish(self.platform, self.lease.tag, self.router.all())

    async def _expire(self) -> None:
        while True:
            expired = await self.platform.db.transact(
                lambda conn: work.expire_due(conn, self.platform.clock(), self.batch_size)
            )
            if self.metrics is not None and expired:
                self.metrics.status_changes([("expired", None)] * expired)
            if expired < self.batch_size:
                return

    async def _housekeeping(self) -> None:
        cutoff = self.platform.clock() - timedelta(seconds=self.platform.settings.duplicate_window_seconds * 2)
        async with self.platform.db.write() as conn:
            await fingerprints.forget_older_than(conn, cutoff)
        dropped = await inbound_service.expire_parts(self.platform)
        if dropped:
            log.warning("%d parts of concatenated inbound messages dropped: their sets stayed incomplete", dropped)


def _owner(report: Report, found: dict[str, Message], converting: bool) -> Message | None:
    """The message a report is about: by its id, then its alternatives, then (when `converting`)
    its converted forms, which only name a message still waiting for its receipt."""
    for key in (report.operator_id, *getattr(report, "alternatives", ())):
        if key in found:
            return found[key]
    if converting:
        for key in report.converted:
            message = found.get(key)
            if message is not None and message.status == MessageStatus.SENT:
                return message
    return None
