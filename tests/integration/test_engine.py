"""The engine against a real SQLite store: dispatch, receipts, expiry, recovery, stop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from relaybox.connectors.base import Receipt
from relaybox.connectors.simulator import SimulatorConnector
from relaybox.domain.models import Caller
from relaybox.domain.status import MessageStatus
from relaybox.domain.timefmt import utcnow
from relaybox.engine import Engine, runner
from relaybox.services import campaigns as campaign_service
from relaybox.services import queries, sending
from relaybox.services.recipients import Recipient
from relaybox.store import accounts as accounts_store
from relaybox.store import work
from relaybox.store.tables import campaigns, messages
from tests.conftest import wait_until
from tests.factories import DELIVERED, FAILED, UNDELIVERED, make_account


def recipients(*numbers: int, text: str = "hello") -> list[Recipient]:
    return [Recipient(path=f"phones.{i}", phone=n, text=text, sender="relaybox") for i, n in enumerate(numbers)]


async def statuses(platform, campaign_id: int) -> dict[int, str]:
    async with platform.db.read() as conn:
        rows = await conn.execute(select(messages.c.phone, messages.c.status).where(messages.c.campaign_id == campaign_id))
        return dict(rows.all())


async def balance(platform, account_id: int) -> int:
    async with platform.db.read() as conn:
        return (await accounts_store.get_account(conn, account_id)).balance


async def test_expiry_refunds_unsent_and_finishes_campaign(platform):
    account_id, _ = await make_account(platform)
    caller = Caller(account_id, False)
    before = await balance(platform, account_id)
    outcome = await sending.send(platform, caller, recipients(DELIVERED, UNDELIVERED), sending.SendOptions(validity=1))
    assert await balance(platform, account_id) == before - outcome.campaign.total_price

    async with platform.db.write() as conn:
        expired = await work.expire_due(conn, utcnow() + timedelta(hours=2), 100)
    assert expired == 2
    assert set((await statuses(platform, outcome.campaign.id)).values()) == {"expired"}
    assert await balance(platform, account_id) == before  # never sent: refunded
    campaign = await queries.get_campaign(platform, caller, outcome.campaign.id)
    assert campaign.status == "done" and campaign.finished_at is not None
    assert campaign.counts["expired"] == 2 and campaign.counts["accepted"] == 0


async def test_scheduled_campaign_waits_for_its_start(platform):
    account_id, _ = await make_account(platform)
    caller = Caller(account_id, False)
    start = utcnow() + timedelta(hours=1)
    outcome = await sending.send(
        platform, caller, recipients(DELIVERED), sending.SendOptions(start_at=start.isoformat())
    )
    assert outcome.campaign.status == "scheduled"
    async with platform.db.write() as conn:
        assert await work.claim_due(conn, utcnow(), 10) == []
        claimed = await work.claim_due(conn, start + timedelta(seconds=1), 10)
    assert [m.status for m in claimed] == ["sending"]
    campaign = await queries.get_campaign(platform, caller, outcome.campaign.id)
    assert campaign.status == "sending" and campaign.real_start_at is not None
    assert campaign.counts["sending"] == 1 and campaign.counts["scheduled"] == 0


async def test_stop_fails_and_refunds_unsent_messages(platform):
    account_id, _ = await make_account(platform)
    caller = Caller(account_id, False)
    before = await balance(platform, account_id)
    start = utcnow() + timedelta(hours=1)
    outcome = await sending.send(
        platform, caller, recipients(DELIVERED, UNDELIVERED), sending.SendOptions(start_at=start.isoformat())
    )
    stopped = await campaign_service.stop_campaign(platform, caller, outcome.campaign.id)
    assert stopped.status == "stopped" and stopped.counts["failed"] == 2
    assert await balance(platform, account_id) == before


async def test_engine_recovers_messages_left_in_sending(platform):
    account_id, _ = await make_account(platform)
    caller = Caller(account_id, False)
    outcome = await sending.send(platform, caller, recipients(DELIVERED, UNDELIVERED, FAILED), sending.SendOptions())
    async with platform.db.write() as conn:  # a "previous run" claimed them and died
        claimed = await work.claim_due(conn, utcnow(), 10)
    assert len(claimed) == 3

    connector = SimulatorConnector(speed=0)
    engine = Engine(platform, connector)
    await engine.start()
    try:
        async def finished():
            return set((await statuses(platform, outcome.campaign.id)).values()) == {"delivered", "undelivered", "failed"}

        await wait_until(finished)
    finally:
        await engine.stop()
    assert connector.submit_count == 3
    campaign = await queries.get_campaign(platform, caller, outcome.campaign.id)
    assert campaign.status == "done"


async def test_resubmission_is_dropped_by_the_simulator():
    from relaybox.connectors.base import Submission

    connector = SimulatorConnector(speed=0)
    await connector.start()
    try:
        sub = Submission(7, DELIVERED, "UA", "relaybox", "hi", "gsm7", 1, "sms")
        first = await connector.submit([sub])
        again = await connector.submit([sub])
        assert first[0].operator_id == again[0].operator_id
        receipts = await connector.receipts()
        assert len(receipts) == 1 and connector.pending_receipts() == 0
    finally:
        await connector.stop()


async def test_receipts_for_unknown_operator_ids_are_returned_for_retry(platform):
    engine = Engine(platform, SimulatorConnector(speed=0))
    unmatched = await engine.apply_receipts([Receipt("sim-does-not-exist", MessageStatus.DELIVERED, utcnow())])
    assert [r.operator_id for r in unmatched] == ["sim-does-not-exist"]


async def test_late_and_duplicate_receipts_never_move_backwards(platform):
    account_id, _ = await make_account(platform)
    caller = Caller(account_id, False)
    outcome = await sending.send(platform, caller, recipients(DELIVERED), sending.SendOptions())
    connector = SimulatorConnector(speed=0)
    engine = Engine(platform, connector)
    await engine.start()
    try:
        async def delivered():
            return (await statuses(platform, outcome.campaign.id))[DELIVERED] == "delivered"

        await wait_until(delivered)
        operator_id = f"sim-{(await queries.list_messages(platform, caller, raw_from=None, raw_to=None, message_id=None, campaign_id=outcome.campaign.id, reference_id=None, sort='id', descending=False, offset=0, limit=50))[1][0].id}"
        await engine.apply_receipts(
            [Receipt(operator_id, MessageStatus.SENT, utcnow()), Receipt(operator_id, MessageStatus.DELIVERED, utcnow())]
        )
    finally:
        await engine.stop()
    campaign = await queries.get_campaign(platform, caller, outcome.campaign.id)
    assert campaign.counts["delivered"] == 1 and campaign.counts["sent"] == 0
    async with platform.db.read() as conn:
        n_pending = (await conn.execute(select(campaigns.c.n_pending).where(campaigns.c.id == campaign.id))).scalar()
        total = (await conn.execute(select(func.count()).select_from(messages))).scalar()
    assert n_pending == 0 and total == 1


class OvertakingSimulator(SimulatorConnector):
    """Answers a submit only after the engine tried (and failed) to apply its delivery reports."""

    tried: asyncio.Event | None = None

    async def submit(self, batch):
        results = await super().submit(batch)
        await self.tried.wait()  # the intake looked before the result is recorded
        return results


async def test_a_report_that_overtook_its_result_is_applied_once_the_result_is_recorded(platform, monkeypatch):
    # With the periodic retry an hour away, only the recorded result can release the report.
    monkeypatch.setattr(runner, "ORPHAN_RETRY", 3600.0)
    account_id, _ = await make_account(platform)
    outcome = await sending.send(platform, Caller(account_id, False), recipients(DELIVERED), sending.SendOptions())
    connector = OvertakingSimulator(speed=0)
    connector.tried = asyncio.Event()
    engine = Engine(platform, connector)
    apply_receipts = engine.apply_receipts

    async def observed(receipts, via=None, *rest):
        unmatched = await apply_receipts(receipts, via, *rest)
        if unmatched:
            connector.tried.set()
        return unmatched

    engine.apply_receipts = observed
    await engine.start()
    try:
        async def delivered():
            return (await statuses(platform, outcome.campaign.id))[DELIVERED] == "delivered"

        await wait_until(delivered)
    finally:
        await engine.stop()
    assert connector.tried.is_set()  # the report did overtake the result


async def test_released_claims_go_back_to_the_queue_with_their_counters(platform):
    account_id, _ = await make_account(platform)
    caller = Caller(account_id, False)
    outcome = await sending.send(platform, caller, recipients(DELIVERED, UNDELIVERED), sending.SendOptions())
    now = utcnow()
    async with platform.db.write() as conn:
        claimed = await work.claim_due(conn, now, 10, "worker:1")
    later = now + timedelta(seconds=5)
    async with platform.db.write() as conn:
        assert await work.release_claims(conn, claimed, "worker:2", later) == 0  # not its claim
        assert await work.release_claims(conn, claimed, "worker:1", later) == 2
    campaign = await queries.get_campaign(platform, caller, outcome.campaign.id)
    assert campaign.counts["accepted"] == 2 and campaign.counts["sending"] == 0
    async with platform.db.write() as conn:
        assert await work.claim_due(conn, now + timedelta(seconds=1), 10) == []  # parked until `later`
        again = await work.claim_due(conn, later, 10)
    assert sorted(m.id for m in again) == sorted(m.id for m in claimed)
