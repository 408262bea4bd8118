"""Single messages, written in group commits.

SQLite has one writer, and every write transaction costs several round trips
to the database thread.  One transaction per single-message request caps a
server at a few hundred requests per second.  Instead, requests that arrive
while a transaction is being written wait in a queue and the next transaction
takes them all: one duplicate-request upsert, one balance check, one
multi-row insert.  Under light load a batch is one request and nothing waits;
under heavy load batches grow and the cost per request falls.

Each request still succeeds or fails on its own: a duplicate body, a taken
reference or an empty balance refuses that request only, and a refused
request writes nothing, its fingerprint included.  A transaction that fails
is written again in halves, down to the request that fails alone
(`_write_isolated`; docs/architecture.md, "Group commit isolation").
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from relaybox.domain.models import Caller, Message
from relaybox.errors import (
    DuplicateRequest,
    FieldError,
    InsufficientFunds,
    LegacyCode,
    RelayboxError,
    ValidationFailed,
)
from relaybox.services import contacts
from relaybox.services.platform import Platform
from relaybox.observability.metrics import count_stored
from relaybox.store import accounts as accounts_store
from relaybox.store import bulk
from relaybox.store import fingerprints
from relaybox.store import messages as messages_store
from relaybox.store import stoplist
from relaybox.store import tables
from relaybox.tasks import cancel_and_wait

log = logging.getLogger("relaybox.single_sends")

MAX_BATCH = 500


@dataclass(slots=True)
class PendingSend:
    """One single-message request waiting for the next group commit; `future` gets its Message or its error."""
    caller: Caller
    row: dict  # the message row to insert (account_id, price, reference_id, …)
    digest: str | None  # request fingerprint, None when duplicates are not checked
    reference_path: str = "reference_id"
    add_to_contact_book: bool = False  # One API `add_to_contact_book`: the phone goes to the contact book
    #: The stop list to check for this message's phone ("sms" | "rcs"), or None; `phone_path`
    #: names the phone in the refusal.
    stop_list: str | None = None
    phone_path: str = "phone"
    future: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class SingleSendQueue:
    """The group-commit queue of single sends (module docstring): `submit` a PendingSend and await its Message.

    Batches hold at most MAX_BATCH requests; `stop` fails the waiting ones with RuntimeError.
    """
    def __init__(self, platform: Platform, on_written=lambda: None):
        self.platform = platform
        self.on_written = on_written
        self._pending: list[PendingSend] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="single-sends")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        for job in self._pending:
            if not job.future.done():
                job.future.set_exception(RuntimeError("server shutting down"))
        self._pending.clear()

    async def submit(self, job: PendingSend) -> Message:
        self._pending.append(job)
        self._wake.set()
        return await job.future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                if await self._write_isolated(batch):
                    self.on_written()

    async def _write_isolated(self, batch: list[PendingSend]) -> bool:
        """Write `batch`; if its transaction fails, write its halves again, down to the
        request(s) that fail on their own: a request never fails because of a neighbour.

        Nothing of a failed transaction stays (fingerprints, charges and rows roll back
        together), so the halves are judged afresh: a reference another process took
        meanwhile (the unique index refused it) is then found by the check and answered
        as taken (legacy 23), like any other.  True when anything was written.
        """
        try:
            await self._write(batch)
            return True
        except Exception as exc:  # noqa: BLE001 - whatever it was, it is answered below
            if len(batch) == 1:
                return await self._fail_alone(batch[0], exc)
            if _lost_database(exc):  # not any request's doing: halves would only fail again
                log.error("group commit of %d single messages failed: the database is unreachable", len(batch))
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
                return False
            log.warning("group commit of %d single messages failed (%r): writing its halves apart", len(batch), exc)
        half = len(batch) // 2
        first = await self._write_isolated(batch[:half])
        second = await self._write_isolated(batch[half:])
        return first or second

    async def _fail_alone(self, job: PendingSend, exc: Exception, attempts: int = 3) -> bool:
        """A request whose own transaction failed: a reference taken by a concurrent
        transaction is tried again (the check now sees the winner's row); any other
        failure is that request's error."""
        for _ in range(attempts):
            if not messages_store.is_reference_conflict(exc):
                break
            try:
                await self._write([job])
                return True
            except Exception as again:  # noqa: BLE001
                exc = again
        if messages_store.is_reference_conflict(exc):
            exc = ValidationFailed.one(
                job.reference_path, "The reference is already used by another message.", LegacyCode.REFERENCE_EXISTS
            )
        else:
            log.error("a single message could not be written", exc_info=exc)
        if not job.future.done():
            job.future.set_exception(exc)
        return False

    async def _write(self, batch: list[PendingSend]) -> None:
        now = self.platform.clock()
        window = timedelta(seconds=self.platform.settings.duplicate_window_seconds)
        db = self.platform.db
        # SQLite: the rows converted for the driver before the write lock is taken (store/bulk.py),
        # and the transaction run on the event loop's thread (inline): a few milliseconds that
        # block the loop, instead of a transaction stretched 2-4 times by waiting for the GIL
        # between its statements while it holds the write lock the engine's process needs too.
        # PostgreSQL: run again if it lost a deadlock.
        converted = bulk.driver_rows(db.sql_dialect, tables.messages, [job.row for job in batch])
        accepted, ids, refused = await db.transact(
            lambda conn: self._decide(conn, batch, now, window, converted), inline=True
        )
        # Committed: from here on nothing may raise to the caller, which would write the batch again.
        if self.platform.settings.metrics and accepted:
            try:
                count_stored(True, list(Counter(job.row["status"] for _, job in accepted).items()))
            except Exception:  # noqa: BLE001 - a metric must never turn a written batch into an error
                log.exception("counting stored messages failed")
        for (_, job), message_id in zip(accepted, ids):
            _settle(job, lambda: job.future.set_result(messages_store.message_from_values(message_id, job.row)))
        for i, exc in refused.items():
            _settle(batch[i], lambda: batch[i].future.set_exception(exc))

    @staticmethod
    async def _decide(
        conn, batch: list[PendingSend], now, window: timedelta, converted: bulk.DriverRows | None = None
    ) -> tuple[list[tuple[int, PendingSend]], list[int], dict[int, RelayboxError]]:
        """Judge each request of the batch and write the accepted ones (awaits only statements)."""
        refused: dict[int, RelayboxError] = {}
        # 1. duplicate bodies: in this batch, then against the store
        firsts: dict[tuple[int, str], int] = {}
        for i, job in enumerate(batch):
            if job.digest is None:
                continue
            key = (job.caller.account_id, job.digest)
            if key in firsts:
                refused[i] = DuplicateRequest()
            else:
                firsts[key] = i
        fresh = await fingerprints.remember_many(conn, list(firsts), now, window)
        for key, i in firsts.items():
            if key not in fresh:
                refused[i] = DuplicateRequest()

        # 2. references: unique per account, in this batch and in the store
        wanted: dict[int, list[str]] = defaultdict(list)
        for i, job in enumerate(batch):
            if i not in refused and job.row.get("reference_id"):
                wanted[job.caller.account_id].append(job.row["reference_id"])
        taken = {
            (account_id, ref)
            for account_id, refs in wanted.items()
            for ref in await messages_store.existing_references(conn, account_id, refs)
        }
        for i, job in enumerate(batch):
            ref = job.row.get("reference_id")
            if i in refused or not ref:
                continue
            key = (job.caller.account_id, ref)
            if key in taken:
                refused[i] = ValidationFailed.one(
                    job.reference_path, "The reference is already used by another message.", LegacyCode.REFERENCE_EXISTS
                )
            taken.add(key)

        # 3. the stop list: one lookup per account and channel for the whole batch
        wanted_phones: dict[tuple[int, str], list[int]] = defaultdict(list)
        for i, job in enumerate(batch):
            if i not in refused and job.stop_list:
                wanted_phones[(job.caller.account_id, job.stop_list)].append(job.row["phone"])
        listed = {
            (account_id, channel, phone)
            for (account_id, channel), phones in wanted_phones.items()
            for phone in await stoplist.stoplisted_phones(conn, account_id, channel, phones)
        }
        if listed:
            for i, job in enumerate(batch):
                if i not in refused and job.stop_list and (job.caller.account_id, job.stop_list, job.row["phone"]) in listed:
                    refused[i] = ValidationFailed([stop_listed_error(job.phone_path, job.stop_list)])

        # 4. money, in arrival order: each request is covered or refused on its own
        live = [job.caller.account_id for i, job in enumerate(batch) if i not in refused and not job.caller.is_test]
        available = await accounts_store.spendable(conn, sorted(set(live))) if live else {}
        charged: dict[int, int] = defaultdict(int)
        for i, job in enumerate(batch):
            if i in refused or job.caller.is_test:
                continue
            account_id, price = job.caller.account_id, job.row["price"]
            if available.get(account_id, 0) - charged[account_id] >= price:
                charged[account_id] += price
            else:
                refused[i] = InsufficientFunds()
        await accounts_store.charge(conn, charged)

        # a request refused after its fingerprint was taken is not a duplicate of anything
        unfingerprint = [
            (job.caller.account_id, job.digest)
            for i, job in enumerate(batch)
            if job.digest is not None
            and isinstance(refused.get(i), (ValidationFailed,))
            and firsts.get((job.caller.account_id, job.digest)) == i
        ]
        await fingerprints.forget(conn, unfingerprint)

        # 5. the accepted messages, in one insert
        accepted = [(i, job) for i, job in enumerate(batch) if i not in refused]
        ids = await messages_store.insert_messages(
            conn, [job.row for _, job in accepted], converted.pick([i for i, _ in accepted]) if converted else None
        )
        await _add_to_contact_books(conn, [job for _, job in accepted if job.add_to_contact_book], now)
        return accepted, ids, refused


async def _add_to_contact_books(conn, jobs: list[PendingSend], now) -> None:
    """The batch's phones asked to go to their accounts' contact books: one statement per account."""
    phones: dict[int, list[int]] = defaultdict(list)
    for job in jobs:
        phones[job.caller.account_id].append(job.row["phone"])
    for account_id, numbers in phones.items():
        await contacts.add_to_contact_book(conn, account_id, numbers, now)


def stop_listed_error(path: str, channel: str) -> FieldError:
    """How a stop-listed recipient is reported: its phone's path, legacy code 33 (docs/sending-to-lists.md)."""
    return FieldError(path, f"The phone is on the {channel.upper()} stop list: not sent.", LegacyCode.STOP_LISTED)


def _settle(job: PendingSend, answer) -> None:
    """Answer one request of a committed batch; a failure to do so is that request's alone."""
    if job.future.done():  # its client went away (cancelled)
        return
    try:
        answer()
    except Exception as exc:  # noqa: BLE001
        log.exception("answering a written single message failed")
        job.future.set_exception(exc)


def _lost_database(exc: BaseException) -> bool:
    """The connection to the database broke (it is down or restarting): every request fails alike."""
    return bool(getattr(exc, "connection_invalidated", False)) or isinstance(exc, (ConnectionError, OSError))
