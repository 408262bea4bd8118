"""The simulator with its network state in the database: one simulated network for every worker.

`SimulatorConnector` keeps what the network has seen in its process's memory,
which is right for a test that wants no database work for the network.  As a
platform's network it is wrong: with several `relaybox worker` processes each
would have a network of its own, and any process killed with `kill -9` (the
engine child of `relaybox serve` included) takes with it the messages it had
handed over and the delivery reports still to come, leaving them `sent` until
their validity ends.  A real operator's SMSC is not like that: it outlives any
client, drops a resubmitted message id, and redelivers a delivery report until
the client acknowledges it.

This connector is that SMSC, and the default (`--sim-network database`,
`RELAYBOX_SIM_NETWORK=database`; `memory` picks the other), kept in two tables
of its own in the same database:

- `simulator_submissions`: one row per message id ever submitted, with the
  answer given (accepted with an operator id, or rejected) and how many times
  the id was submitted.  A resubmission (`INSERT … ON CONFLICT`) gets the
  first answer again and schedules nothing: the duplicate is dropped by id.
- `simulator_reports`: the delivery reports (and RCS read receipts and clicks)
  scheduled at the first submission, in the same transaction.  Any worker's
  connector may take due ones; taking one leases it for `REPORT_LEASE`, and
  `acknowledge` (called by the engine once the report is recorded) deletes it.
  A worker killed between taking and recording leaves it to be taken again
  when the lease ends, or sooner: as an SMSC redelivers a dropped session's
  unacknowledged reports on another session, each connector holds a session
  (a worker lease of its own, store/workers.py, gone the moment its process
  dies), marks what it takes with it, and the reports of dead sessions are
  offered again within `DEAD_SESSIONS_EVERY`.  Recording a report twice
  changes nothing.

These tables are the simulated network's, not relaybox's: they are created by
the connector on start and are not in relaybox's schema or migrations
(`store/migrations/env.py` leaves `simulator_*` tables alone).  This module
writes SQL outside `store/` for that reason: it plays the outside world.
"""

from __future__ import annotations

import asyncio
import heapq
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from relaybox.connectors.base import Click, Inbound, Receipt, Report, Submission, SubmitResult
from relaybox.connectors.simulator import (
    CLICK_LATENCY,
    READ_LATENCY,
    REPLY_LATENCY,
    REPORT_LATENCY,
    SUBMIT_LATENCY,
    SimulatorConnector,
    magic_reply,
)
from relaybox.domain.status import MessageStatus
from relaybox.domain.timefmt import utcnow
from relaybox.store import workers
from relaybox.store.db import Database
from relaybox.store.types import BigIntId, UTCDateTime

REPORT_LEASE = timedelta(seconds=10)  # a taken, unacknowledged report is offered again after this
DEAD_SESSIONS_EVERY = 1.0  # seconds between looks for reports taken by connectors that died
POLL = (0.02, 0.25)  # seconds between looks for due reports: doubling from the first while none are due
TAKE = 1000  # reports taken at once
_CHUNK = 500  # rows per multi-row statement

network = MetaData()

simulator_submissions = Table(
    "simulator_submissions",
    network,
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),  # relaybox's message id
    Column("accepted", Boolean, nullable=False),
    Column("operator_id", String(64)),  # the network's id, when accepted
    Column("submissions", Integer, nullable=False),  # times this id was submitted; all after the first were dropped
    Column("first_at", UTCDateTime, nullable=False),
)

simulator_reports = Table(
    "simulator_reports",
    network,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("operator_id", String(64), nullable=False),
    Column("status", String(20)),  # a delivery report or read receipt; NULL for a click
    Column("click_text", String(200)),
    Column("click_postback", String(2000)),
    Column("at", UTCDateTime, nullable=False),  # when it happened on the network
    Column("offer_at", UTCDateTime, nullable=False),  # when it is next handed to a taker
    Column("taker", BigInteger),  # the session token of the connector that took it last (store/workers.py)
    # A subscriber's answer (an MO, docs/inbound.md) instead of a report: from, to, text.
    Column("mo_from", String(21)),
    Column("mo_to", String(40)),
    Column("mo_text", String(200)),
    Index("ix_simulator_reports_offer_at", "offer_at"),
)


@dataclass
class SharedSimulatorConnector(SimulatorConnector):
    db: Database | None = None
    _taken: dict[Report, list[int]] = field(default_factory=dict)  # report -> its row ids, until acknowledged
    #: When the reports this process scheduled fall due (event-loop time, a heap): the receipt intake
    #: looks for them then, instead of on its next poll (up to POLL[1] later). Others' it finds by polling.
    _dues: list[float] = field(default_factory=list)
    _scheduled: asyncio.Event = field(default_factory=asyncio.Event)  # a submit scheduled new reports
    _session: workers.WorkerLease | None = None  # this connector's session: marks the reports it takes
    _dead_checked: float = 0.0  # event-loop time of the last look for dead sessions' reports

    async def start(self) -> None:
        from relaybox.store.migrate import exclusive

        assert self.db is not None, "SharedSimulatorConnector needs the database"
        async with exclusive(self.db):
            async with self.db.write() as conn:
                await conn.run_sync(_create_or_extend)
        if self._session is None:
            self._session = await workers.acquire(self.db)

    async def stop(self) -> None:
        self._taken.clear()
        if self._session is not None:
            session, self._session = self._session, None
            try:
                await session.release()
            except Exception:  # noqa: BLE001 - the store may be gone: the lock went with its connection
                pass

    def _upsert(self):
        return pg_insert if not self.db.is_sqlite else sqlite_insert

    async def submit(self, batch: list[Submission]) -> list[SubmitResult]:
        self.submit_count += len(batch)
        # Half the latency on the way there, half for the answer on the way back: a client
        # that dies in the second half leaves messages the network has and it does not know.
        if self.speed:
            await asyncio.sleep(SUBMIT_LATENCY * self.speed / 2)
        delays: list[float] = []  # (the transaction may run on another thread: no event loop there)
        results = await self.db.transact(lambda conn: self._submit(conn, batch, delays))
        if delays:
            now = asyncio.get_running_loop().time()
            for delay in delays:
                heapq.heappush(self._dues, now + delay)
            self._scheduled.set()
        if self.speed:
            await asyncio.sleep(SUBMIT_LATENCY * self.speed / 2)
        return results

    async def _submit(self, conn, batch: list[Submission], delays: list[float]) -> list[SubmitResult]:
        """Record the batch; put in `delays` the seconds from now to each newly scheduled report."""
        now = utcnow()
        delays.clear()  # a transaction run again after a retryable failure starts afresh
        outcomes = {sub.message_id: self.outcome(sub) for sub in batch}
        by_id = {sub.message_id: sub for sub in batch}
        results: list[SubmitResult] = []
        fresh: list[Submission] = []
        t = simulator_submissions
        ids = sorted(by_id)  # lock order
        for start in range(0, len(ids), _CHUNK):
            part = ids[start : start + _CHUNK]
            stmt = self._upsert()(t).values(
                [
                    {
                        "message_id": i,
                        "accepted": outcomes[i] is not MessageStatus.FAILED,
                        "operator_id": f"sim-{i}" if outcomes[i] is not MessageStatus.FAILED else None,
                        "submissions": 1,
                        "first_at": now,
                    }
                    for i in part
                ]
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[t.c.message_id], set_={"submissions": t.c.submissions + 1}
            ).returning(t.c.message_id, t.c.accepted, t.c.operator_id, t.c.submissions)
            for row in await conn.execute(stmt):
                if row.accepted:
                    results.append(SubmitResult(row.message_id, True, row.operator_id))
                else:
                    results.append(SubmitResult(row.message_id, False, error="rejected by the network"))
                if row.submissions == 1 and row.accepted:
                    fresh.append(by_id[row.message_id])
        reports = [r for sub in fresh for r in self._reports(sub, outcomes[sub.message_id], now)]
        for start in range(0, len(reports), _CHUNK):
            await conn.execute(simulator_reports.insert(), reports[start : start + _CHUNK])
        delays.extend((r["offer_at"] - now).total_seconds() for r in reports)
        return results

    def _reports(self, sub: Submission, outcome: MessageStatus, now) -> list[dict]:
        """The network's future reports of a newly accepted message, as rows."""
        operator_id = f"sim-{sub.message_id}"
        due = now + timedelta(seconds=self._latency(REPORT_LATENCY, "report", sub.message_id))
        rows = [_report_row(operator_id, due, status=outcome.value)]
        reply = magic_reply(sub, outcome)
        if reply is not None:
            at = due + timedelta(seconds=self._latency(REPLY_LATENCY, "reply", sub.message_id))
            rows.append({**_report_row(operator_id, at), "mo_from": str(sub.phone), "mo_to": sub.sender,
                         "mo_text": reply})
        if sub.channel == "rcs" and outcome is MessageStatus.DELIVERED and self.reads(sub):
            due += timedelta(seconds=self._latency(READ_LATENCY, "read", sub.message_id))
            rows.append(_report_row(operator_id, due, status=MessageStatus.READ.value))
            button = self.click(sub)
            if button is not None:
                due += timedelta(seconds=self._latency(CLICK_LATENCY, "click", sub.message_id))
                rows.append(_report_row(operator_id, due, click=(button["text"], button.get("postback_data"))))
        return rows

    async def receipts(self) -> list[Report]:
        loop = asyncio.get_running_loop()
        wait = POLL[0]
        while True:
            self._scheduled.clear()
            if loop.time() - self._dead_checked >= DEAD_SESSIONS_EVERY:
                self._dead_checked = loop.time()
                await self.db.transact(self._free_dead_sessions)
            rows = await self.db.transact(self._take)
            now = loop.time()
            while self._dues and self._dues[0] <= now:
                heapq.heappop(self._dues)
            if rows:
                break
            # the next poll, or sooner when one of this process's own reports falls due or is scheduled
            timeout = min(wait, self._dues[0] - now) if self._dues else wait
            try:
                await asyncio.wait_for(self._scheduled.wait(), timeout)
            except TimeoutError:
                pass
            wait = min(wait * 2, POLL[1])
        reports: list[Report] = []
        for row in sorted(rows, key=lambda r: (r.at, r.id)):
            if row.mo_text is not None:
                report: Report = Inbound(row.mo_from, row.mo_to, row.mo_text, "gsm7", row.at,
                                         network_id=f"sim-mo-{row.operator_id}")
            elif row.status is None:
                report = Click(row.operator_id, row.click_text, row.click_postback, row.at)
            else:
                report = Receipt(row.operator_id, MessageStatus(row.status), row.at)
            self._taken.setdefault(report, []).append(row.id)
            reports.append(report)
        return reports

    async def _take(self, conn):
        now = utcnow()
        r = simulator_reports
        pick = select(r.c.id).where(r.c.offer_at <= now).order_by(r.c.offer_at).limit(TAKE)
        if not self.db.is_sqlite:
            pick = pick.with_for_update(skip_locked=True)
        result = await conn.execute(
            update(r)
            .where(r.c.id.in_(pick.scalar_subquery()))
            .values(offer_at=now + REPORT_LEASE, taker=self._session.token if self._session else None)
            .returning(r.c.id, r.c.operator_id, r.c.status, r.c.click_text, r.c.click_postback, r.c.at,
                       r.c.mo_from, r.c.mo_to, r.c.mo_text)
        )
        return result.all()

    async def _free_dead_sessions(self, conn) -> None:
        """Offer again at once the reports taken by connectors whose process died (their lease is gone)."""
        now = utcnow()
        r = simulator_reports
        takers = {
            t for (t,) in await conn.execute(select(r.c.taker).where(r.c.offer_at > now, r.c.taker.is_not(None)).distinct())
        }
        dead = takers - await workers.live_tokens(self.db, conn, takers)
        if dead:
            await conn.execute(
                update(r).where(r.c.taker.in_(sorted(dead)), r.c.offer_at > now).values(offer_at=now, taker=None)
            )

    async def acknowledge(self, reports: list[Report]) -> None:
        """The engine recorded these: the network forgets them."""
        ids = sorted(i for report in reports for i in self._taken.pop(report, []))
        if not ids:
            return

        async def forget(conn) -> None:
            for start in range(0, len(ids), _CHUNK):
                await conn.execute(delete(simulator_reports).where(simulator_reports.c.id.in_(ids[start : start + _CHUNK])))

        await self.db.transact(forget)

    def pending_receipts(self) -> int:  # pragma: no cover - the in-memory simulator's test aid
        return 0


def _create_or_extend(sync_conn) -> None:
    """Create the network's tables; add `taker` and `mo_*` to a `simulator_reports` made before them."""
    network.create_all(sync_conn)
    columns = {c["name"] for c in inspect(sync_conn).get_columns("simulator_reports")}
    if "taker" not in columns:
        sync_conn.execute(text("ALTER TABLE simulator_reports ADD COLUMN taker BIGINT"))
    for name, kind in (("mo_from", "VARCHAR(21)"), ("mo_to", "VARCHAR(40)"), ("mo_text", "VARCHAR(200)")):
        if name not in columns:
            sync_conn.execute(text(f"ALTER TABLE simulator_reports ADD COLUMN {name} {kind}"))


def _report_row(operator_id: str, at, *, status: str | None = None, click: tuple[str, str | None] | None = None) -> dict:
    return {
        "operator_id": operator_id,
        "status": status,
        "click_text": click[0] if click else None,
        "click_postback": click[1] if click else None,
        "at": at,
        "offer_at": at,
        "mo_from": None,
        "mo_to": None,
        "mo_text": None,
    }

