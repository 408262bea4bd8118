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

- `simulator_submissions`: one row per message id ever recorded as submitted,
  with the answer given (accepted with an operator id, or rejected) and how
  many times the id was submitted.  A resubmission gets the first answer again
  and schedules nothing: the duplicate is dropped by id.
- `simulator_reports`: the delivery reports (and RCS read receipts and clicks, and
  the answers of the subscribers who reply, docs/inbound.md) still owed, one
  row each, keyed by `message id × 4 + kind` so that the
  engine can name the rows of the reports it recorded without reading them.

It writes no transaction of its own in the steady state.  On SQLite every
write transaction queues for the file's one write lock, which the API's sends
need too: three more per batch (record the submission, lease the due reports,
delete the recorded ones) cost single sends a third of their rate.  So the
network's writes ride in the engine's own transactions (connectors/base.py,
`TransactionalNetwork`): the submission and its future reports are written in
the transaction that marks the messages `sent` (`record_submitted`), and a
report's row is deleted in the transaction that records the report
(`forget_reports`).  Because each pair commits together, a crash can leave
neither a `sent` message whose report is not stored nor a stored report that
was already recorded; a message whose result never committed is in `sending`
and is resubmitted by the engine's recovery, and the network, which recorded
nothing of it either, takes it as new.

The connector that wrote a report's row holds it in memory and hands it to the
engine when it falls due (the in-memory simulator's timer), so the table is not
polled.  Each row names its holder (`taker`: a session token, store/workers.py,
whose lock dies with the holder's process).  Once a second every connector
reads which holders the rows have; the rows of dead holders (a `kill -9`), and
rows still there `REPORT_LEASE` after they fell due (a holder that lost them:
its engine failed to record them), are adopted, with one write, and handed
over when due.  Recording a report twice changes nothing.

These tables are the simulated network's, not relaybox's: they are created by
the connector on start and are not in relaybox's schema or migrations
(`store/migrations/env.py` leaves `simulator_*` tables alone).  This module
writes SQL outside `store/` for that reason: it plays the outside world.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)

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
from relaybox.store.bulk import insert_rows
from relaybox.store.db import Database
from relaybox.store.types import BigIntId, UTCDateTime

REPORT_LEASE = timedelta(seconds=10)  # a report not recorded this long after it fell due is adopted by anyone
ADOPT_EVERY = 1.0  # seconds between looks for reports of dead holders (and overdue ones)
TAKE = 1000  # reports adopted at once
_CHUNK = 500  # rows per multi-row statement
#: A report's row id is its message id × _KINDS + its kind: no id needs reading back after an insert.
#: (Rows written before this scheme had small sequential ids: at most three reports per message, so
#: they stay below 4 × any message id submitted since, and cannot collide.)
_KINDS = 4
_REPORT, _READ, _CLICK, _REPLY = 0, 1, 2, 3

log = logging.getLogger("relaybox.simulator")

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
    Column("taker", BigInteger),  # the session token of the connector that holds it (store/workers.py)
    # A subscriber's answer (an MO, docs/inbound.md) instead of a report: from, to, text.
    Column("mo_from", String(21)),
    Column("mo_to", String(40)),
    Column("mo_text", String(200)),
    # No index besides the key: the rows are found by key (forget_reports) or by a look at all of
    # them once a second (adopt), and every index is one more write per report under SQLite's lock.
)


# Built once: statements run in the engine's transactions with a new set of ids each time (a new
# `IN (…)` statement per batch costs several times what the look-up does).
_KNOWN = select(simulator_submissions.c.message_id, simulator_submissions.c.accepted,
                simulator_submissions.c.operator_id).where(
    simulator_submissions.c.message_id.in_(bindparam("ids", expanding=True)))
_FORGET = delete(simulator_reports).where(simulator_reports.c.id.in_(bindparam("ids", expanding=True)))

@dataclass
class SharedSimulatorConnector(SimulatorConnector):
    """The simulator with its network state in the database, shared by every worker (module docstring)."""
    db: Database | None = None
    _handed: dict[int, Submission] = field(default_factory=dict)  # answered by submit, until recorded
    _session: workers.WorkerLease | None = None  # this connector's session: names the reports it holds
    _adopter: asyncio.Task | None = None

    async def start(self) -> None:
        from relaybox.store.migrate import exclusive

        assert self.db is not None, "SharedSimulatorConnector needs the database"
        async with exclusive(self.db):
            async with self.db.write() as conn:
                await conn.run_sync(_create_or_extend)
        if self._session is None:
            self._session = await workers.acquire(self.db)
        await super().start()
        if self._adopter is None:
            self._adopter = asyncio.create_task(self._adopt_loop(), name="simulator-adopt")

    async def stop(self) -> None:
        if self._adopter is not None:
            self._adopter.cancel()
            try:
                await self._adopter
            except asyncio.CancelledError:
                pass
            self._adopter = None
        await super().stop()
        self._pending.clear()
        self._ready.clear()
        if self._session is not None:
            session, self._session = self._session, None
            try:
                await session.release()
            except Exception:  # noqa: BLE001 - the store may be gone: the lock went with its connection
                pass

    async def submit(self, batch: list[Submission]) -> list[SubmitResult]:
        """The network's answers; nothing is kept until `record_submitted` (the answers are
        deterministic by message id, so a resubmission is answered the same)."""
        self.submit_count += len(batch)
        if self.speed:
            await asyncio.sleep(SUBMIT_LATENCY * self.speed)
        results: list[SubmitResult] = []
        for sub in batch:
            if self.outcome(sub) is MessageStatus.FAILED:
                results.append(SubmitResult(sub.message_id, False, error="rejected by the network"))
            else:
                results.append(SubmitResult(sub.message_id, True, f"sim-{sub.message_id}"))
            self._handed[sub.message_id] = sub
        return results

    async def record_submitted(self, conn, results: list[SubmitResult]) -> tuple[list[SubmitResult], Callable[[], None]]:
        """In the engine's transaction that records `results`: the submissions and the reports they
        schedule.  An id recorded before gets its first answer and schedules nothing."""
        now = utcnow()
        t = simulator_submissions
        ids = sorted({r.message_id for r in results})
        known: dict[int, tuple[bool, str | None]] = {}
        for start in range(0, len(ids), _CHUNK):  # normally none: only a resubmission after a crash
            part = ids[start : start + _CHUNK]
            rows = await conn.execute(_KNOWN, {"ids": part})
            known.update((row.message_id, (row.accepted, row.operator_id)) for row in rows)
        if known:
            again = sorted(known)
            for start in range(0, len(again), _CHUNK):
                await conn.execute(
                    update(t).where(t.c.message_id.in_(again[start : start + _CHUNK])).values(submissions=t.c.submissions + 1)
                )
        recorded: list[SubmitResult] = []
        fresh: list[SubmitResult] = []
        for r in results:
            if r.message_id in known:
                accepted, operator_id = known[r.message_id]
                recorded.append(SubmitResult(r.message_id, True, operator_id) if accepted
                                else SubmitResult(r.message_id, False, error="rejected by the network"))
            else:
                recorded.append(r)
                fresh.append(r)
        await insert_rows(conn, t, [
            {"message_id": r.message_id, "accepted": r.accepted, "operator_id": r.operator_id, "submissions": 1,
             "first_at": now}
            for r in fresh
        ])
        token = self._session.token if self._session else None
        reports: list[dict] = []
        for r in fresh:
            sub = self._handed.get(r.message_id)
            if r.accepted and sub is not None:
                reports.extend(self._reports(sub, self.outcome(sub), now, token))
        await insert_rows(conn, simulator_reports, reports)

        def committed() -> None:
            for r in results:
                self._handed.pop(r.message_id, None)
            self._hold(reports, now)

        return recorded, committed

    def _reports(self, sub: Submission, outcome: MessageStatus, now, token: int | None) -> list[dict]:
        """The network's future reports of a newly accepted message, as rows."""
        operator_id = f"sim-{sub.message_id}"
        key = sub.message_id * _KINDS
        due = now + timedelta(seconds=self._latency(REPORT_LATENCY, "report", sub.message_id))
        rows = [_report_row(key + _REPORT, operator_id, due, token, status=outcome.value)]
        reply = magic_reply(sub, outcome)
        if reply is not None:
            at = due + timedelta(seconds=self._latency(REPLY_LATENCY, "reply", sub.message_id))
            rows.append({**_report_row(key + _REPLY, operator_id, at, token), "mo_from": str(sub.phone),
                         "mo_to": sub.sender, "mo_text": reply})
        if sub.channel == "rcs" and outcome is MessageStatus.DELIVERED and self.reads(sub):
            due += timedelta(seconds=self._latency(READ_LATENCY, "read", sub.message_id))
            rows.append(_report_row(key + _READ, operator_id, due, token, status=MessageStatus.READ.value))
            button = self.click(sub)
            if button is not None:
                due += timedelta(seconds=self._latency(CLICK_LATENCY, "click", sub.message_id))
                rows.append(_report_row(key + _CLICK, operator_id, due, token,
                                        click=(button["text"], button.get("postback_data"))))
        return rows

    def _hold(self, rows: list[dict], now) -> None:
        """Hand these rows' reports to the engine when each falls due (the in-memory simulator's timer)."""
        if not rows:
            return
        loop_now = asyncio.get_running_loop().time()
        for row in rows:
            due = loop_now + max((row["at"] - now).total_seconds(), 0.0)
            if row.get("mo_text") is not None:  # a subscriber's answer: an MO, not a report
                mo = Inbound(row["mo_from"], row["mo_to"], row["mo_text"], "gsm7", row["at"],
                             network_id=f"sim-mo-{row['operator_id'].removeprefix('sim-')}")
                self._schedule(due, row["operator_id"], None, mo)
                continue
            click = (row["click_text"], row["click_postback"]) if row["status"] is None else None
            status = MessageStatus(row["status"]) if row["status"] is not None else None
            self._schedule(due, row["operator_id"], status, click)
        self._wake.set()

    async def forget_reports(self, conn, reports: list[Report]) -> None:
        """In the engine's transaction that records `reports` (or stores the subscribers' answers
        among them, services/inbound.py): their rows go."""
        ids = sorted({k for report in reports if (k := _key_of(report)) is not None})
        for start in range(0, len(ids), _CHUNK):
            await conn.execute(_FORGET, {"ids": ids[start : start + _CHUNK]})

    async def _adopt_loop(self) -> None:
        while True:
            try:
                await self.adopt()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the store may be down for a moment: look again later
                log.warning("could not look for the simulated network's orphaned reports", exc_info=True)
            await asyncio.sleep(ADOPT_EVERY)

    async def adopt(self) -> int:
        """Take over the reports of dead holders and those overdue by `REPORT_LEASE`; returns how many.

        The look is a read; only when there is something to adopt is there a write.
        """
        now = utcnow()
        r = simulator_reports
        async with self.db.read() as conn:
            holders = {
                row.taker: row.first
                for row in await conn.execute(select(r.c.taker, func.min(r.c.offer_at).label("first")).group_by(r.c.taker))
            }
            tokens = {t for t in holders if t is not None}
            alive = await workers.live_tokens(self.db, conn, tokens)
        if not holders:
            return 0
        dead = sorted(t for t in tokens if t not in alive)
        overdue = any(first <= now for t, first in holders.items() if t in alive)
        if not dead and None not in holders and not overdue:
            return 0
        me = self._session.token if self._session else None

        async def take(conn) -> list:
            cond = r.c.offer_at <= now
            if dead:
                cond = or_(cond, r.c.taker.in_(dead))
            if None in holders:
                cond = or_(cond, r.c.taker.is_(None))
            pick = select(r.c.id, r.c.operator_id, r.c.status, r.c.click_text, r.c.click_postback, r.c.at,
                          r.c.mo_from, r.c.mo_to, r.c.mo_text).where(cond)
            if not self.db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            rows = (await conn.execute(pick.order_by(r.c.at).limit(TAKE))).all()
            if rows:
                await conn.execute(
                    update(r).where(r.c.id == bindparam("b_id")).values(taker=me, offer_at=bindparam("b_offer")),
                    [{"b_id": row.id, "b_offer": max(row.at, now) + REPORT_LEASE} for row in rows],
                )
            return rows

        rows = await self.db.transact(take)
        self._hold([row._asdict() for row in rows], now)
        return len(rows)
def _create_or_extend(sync_conn) -> None:
    """Create the network's tables; bring a `simulator_reports` made by an earlier version up to date."""
    network.create_all(sync_conn)
    columns = {c["name"] for c in inspect(sync_conn).get_columns("simulator_reports")}
    if "taker" not in columns:
        sync_conn.execute(text("ALTER TABLE simulator_reports ADD COLUMN taker BIGINT"))
    for name, kind in (("mo_from", "VARCHAR(21)"), ("mo_to", "VARCHAR(40)"), ("mo_text", "VARCHAR(200)")):
        if name not in columns:
            sync_conn.execute(text(f"ALTER TABLE simulator_reports ADD COLUMN {name} {kind}"))
    sync_conn.execute(text("DROP INDEX IF EXISTS ix_simulator_reports_offer_at"))  # made by earlier versions


def _report_row(key: int, operator_id: str, at, token: int | None, *, status: str | None = None,
                click: tuple[str, str | None] | None = None) -> dict:
    return {
        "id": key,
        "operator_id": operator_id,
        "status": status,
        "click_text": click[0] if click else None,
        "click_postback": click[1] if click else None,
        "at": at,
        "offer_at": at + REPORT_LEASE,  # anyone may adopt it from then on (see `adopt`)
        "taker": token,
        "mo_from": None,
        "mo_to": None,
        "mo_text": None,
    }


def _key_of(report: Report) -> int | None:
    """The row id of a report this network made: `message id × 4 + kind`."""
    if isinstance(report, Inbound):
        digits = (report.network_id or "").removeprefix("sim-mo-")
        return int(digits) * _KINDS + _REPLY if digits.isdigit() else None
    operator_id = report.operator_id
    if not operator_id.startswith("sim-") or not operator_id[4:].isdigit():
        return None
    if isinstance(report, Click):
        kind = _CLICK
    else:
        kind = _READ if report.status is MessageStatus.READ else _REPORT
    return int(operator_id[4:]) * _KINDS + kind

