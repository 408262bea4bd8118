"""The database-backed simulated network (the default): its rows ride in the engine's transactions,
and what a dead holder leaves is adopted at once."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from relaybox.connectors.base import Submission
from relaybox.connectors.shared_simulator import REPORT_LEASE, SharedSimulatorConnector, simulator_reports


def submissions(n: int) -> list[Submission]:
    return [
        Submission(message_id=i, phone=380971230000 + 10 + i, country="UA", sender="relaybox", text="hi",
                   encoding="gsm", parts=1, channel="sms", rcs_options=None)
        for i in range(1, n + 1)
    ]


async def submit_and_record(platform, connector: SharedSimulatorConnector, batch: list[Submission]):
    """As the engine does: submit, then record the network's side in the transaction of the results."""
    results = await connector.submit(batch)
    recorded, committed = await platform.db.transact(lambda conn: connector.record_submitted(conn, results))
    committed()
    return recorded


async def stored_reports(platform) -> int:
    async with platform.db.read() as conn:
        return await conn.scalar(select(func.count()).select_from(simulator_reports))


async def nothing_within(connector: SharedSimulatorConnector, seconds: float, why: str) -> None:
    try:
        got = await asyncio.wait_for(connector.receipts(), seconds)
    except TimeoutError:
        return
    raise AssertionError(f"{why}: {got}")


async def test_reports_of_a_dead_holder_are_adopted_before_their_lease_ends(platform):
    first = SharedSimulatorConnector(speed=0, db=platform.db)
    second = SharedSimulatorConnector(speed=0, db=platform.db)
    await first.start()
    await second.start()
    try:
        # answered but not recorded (the engine's transaction never committed): the network keeps nothing
        await first.submit(submissions(3))
        assert await stored_reports(platform) == 0
        await nothing_within(first, 0.5, "reports of a submission whose record never committed")

        results = await submit_and_record(platform, first, submissions(3))
        assert [r.accepted for r in results] == [True, True, True]
        assert await stored_reports(platform) == 3
        taken = await asyncio.wait_for(first.receipts(), 5)
        assert sorted(r.operator_id for r in taken) == ["sim-1", "sim-2", "sim-3"]

        # held by the first connector's session while it lives: the second gets nothing
        await nothing_within(second, 1.5, "a live holder's reports were handed to another")

        # its session ends as its process's death would end it: adopted well before REPORT_LEASE
        await first._session.release()
        started = time.monotonic()
        again = await asyncio.wait_for(second.receipts(), REPORT_LEASE.total_seconds() - 2)
        assert sorted(r.operator_id for r in again) == ["sim-1", "sim-2", "sim-3"]
        assert time.monotonic() - started < 5

        # recorded: the rows go in the same transaction
        await platform.db.transact(lambda conn: second.forget_reports(conn, again))
        assert await stored_reports(platform) == 0

        # resubmitted ids: the first answer again, nothing scheduled twice
        assert [r.operator_id for r in await submit_and_record(platform, second, submissions(3))] == [
            "sim-1", "sim-2", "sim-3"]
        assert await stored_reports(platform) == 0
        await nothing_within(second, 1.5, "a resubmission scheduled its reports again")
    finally:
        await first.stop()
        await second.stop()


async def test_a_rejected_id_resubmitted_keeps_its_first_answer(platform):
    connector = SharedSimulatorConnector(speed=0, db=platform.db)
    await connector.start()
    try:
        rejected = [Submission(message_id=7, phone=380971230003, country="UA", sender="relaybox", text="hi",
                               encoding="gsm", parts=1, channel="sms", rcs_options=None)]  # ...0003: rejected
        first = await submit_and_record(platform, connector, rejected)
        again = await submit_and_record(platform, connector, rejected)
        assert [(r.accepted, r.error) for r in first] == [(False, "rejected by the network")]
        assert [(r.accepted, r.error) for r in again] == [(False, "rejected by the network")]
        assert await stored_reports(platform) == 0
    finally:
        await connector.stop()


async def test_reports_overdue_with_a_live_holder_are_adopted_again(platform):
    """A holder that lost its reports (its engine failed to record them) gets them again after the lease."""
    connector = SharedSimulatorConnector(speed=0, db=platform.db)
    await connector.start()
    try:
        await submit_and_record(platform, connector, submissions(2))
        lost = await asyncio.wait_for(connector.receipts(), 5)
        assert len(lost) == 2  # ... and never recorded
        assert await connector.adopt() == 0  # not overdue yet
        # as if REPORT_LEASE had passed: the rows' offer time is now
        async with platform.db.write() as conn:
            await conn.execute(simulator_reports.update().values(offer_at=simulator_reports.c.at))
        assert await connector.adopt() == 2
        again = await asyncio.wait_for(connector.receipts(), 5)
        assert sorted(r.operator_id for r in again) == ["sim-1", "sim-2"]
    finally:
        await connector.stop()


async def test_the_engine_writes_the_networks_rows_in_its_own_transactions(platform):
    """Through the engine: every message final, one submission row each, no report row left, and the
    network opened no write transaction of its own (each one queues for SQLite's write lock)."""
    from relaybox.domain.models import Caller
    from relaybox.domain.status import FINAL
    from relaybox.engine import Engine
    from relaybox.services import sending
    from relaybox.services.recipients import Recipient
    from relaybox.connectors.shared_simulator import simulator_submissions
    from relaybox.store.tables import messages
    from tests.conftest import wait_until
    from tests.factories import DELIVERED, FAILED, UNDELIVERED, make_account

    account_id, _ = await make_account(platform)
    phones = [DELIVERED, UNDELIVERED, FAILED] + [380971240000 + i for i in range(40)]  # magic endings among them
    outcome = await sending.send(
        platform, Caller(account_id, False),
        [Recipient(path=f"phones.{i}", phone=n, text="hi", sender="relaybox") for i, n in enumerate(phones)],
        sending.SendOptions(),
    )
    connector = SharedSimulatorConnector(speed=0, db=platform.db)
    engine = Engine(platform, connector)
    own_transactions: list[str] = []
    transact = platform.db.transact

    async def watched(work, **kw):
        frames = {getattr(work, "__qualname__", "")}
        if any("SharedSimulatorConnector" in f for f in frames):
            own_transactions.append(next(iter(frames)))
        return await transact(work, **kw)

    platform.db.transact = watched
    await engine.start()
    try:
        async def final():
            async with platform.db.read() as conn:
                rows = await conn.execute(select(messages.c.status).where(messages.c.campaign_id == outcome.campaign.id))
                return {s for (s,) in rows} <= {s.value for s in FINAL}

        await wait_until(final)
        await wait_until(lambda: _none_left(platform))
    finally:
        await engine.stop()
        del platform.db.transact
    assert own_transactions == []
    async with platform.db.read() as conn:
        rows = (await conn.execute(select(simulator_submissions.c.message_id, simulator_submissions.c.submissions))).all()
    assert len(rows) == len(phones) and {n for _, n in rows} == {1}


async def _none_left(platform) -> bool:
    return await stored_reports(platform) == 0
