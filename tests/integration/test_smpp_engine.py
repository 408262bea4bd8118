"""The engine with an SMPP route, end to end over real TCP to the SMSC simulator, on both stores."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from relaybox.connectors.routing import Router
from relaybox.connectors.simulator import SimulatorConnector
from relaybox.connectors.smpp import SmppConnector, SmppSettings
from relaybox.domain.models import Caller
from relaybox.domain.segments import analyze
from relaybox.engine import Engine
from relaybox.services import queries, sending
from relaybox.services.recipients import Recipient
from relaybox.smsc import SmscSimulator
from relaybox.store import connector_status
from relaybox.store.tables import messages
from tests.conftest import wait_until
from tests.factories import DELIVERED, EXPIRED, FAILED, UNDELIVERED, UNKNOWN, make_account

LONG = "Relaybox long message test with [brackets] and ~tilde~ " * 5
UNICODE = "Доставка завтра з 9:00 до 18:00 🙂 " * 3


def smpp_settings(port: int, **overrides) -> SmppSettings:
    base = dict(name="operator", host="127.0.0.1", port=port, system_id="relaybox", password="secret", tps=0,
                window=50, reconnect_min=0.05, reconnect_max=0.2, response_timeout=2.0, receipt_ack_timeout=1.0)
    return SmppSettings(**{**base, **overrides})


@pytest.fixture
async def smsc():
    server = SmscSimulator(port=0, speed=0, system_id="relaybox", password="secret")
    await server.start()
    yield server
    await server.stop()


def routed_engine(platform, smsc: SmscSimulator, **overrides) -> tuple[Engine, SmppConnector, SimulatorConnector]:
    builtin = SimulatorConnector(speed=0)
    smpp = SmppConnector(smpp_settings(smsc.port, **overrides))
    router = Router(builtin, {"operator": smpp}, default="operator")
    return Engine(platform, builtin, router=router), smpp, builtin


async def send(platform, caller: Caller, texts_by_phone: dict[int, str]):
    recipients = [
        Recipient(path=f"messages.{i}", phone=phone, text=text, sender="relaybox")
        for i, (phone, text) in enumerate(texts_by_phone.items())
    ]
    return await sending.send(platform, caller, recipients, sending.SendOptions())


async def message_rows(platform, campaign_id: int) -> list:
    async with platform.db.read() as conn:
        return (await conn.execute(select(messages).where(messages.c.campaign_id == campaign_id))).all()


async def all_final(platform, campaign_id: int, n: int):
    rows = await message_rows(platform, campaign_id)
    return len(rows) == n and all(r.status not in ("accepted", "sending", "sent") for r in rows) and rows


async def test_campaign_routed_to_smpp_reaches_every_final_status(platform, smsc):
    account_id, _ = await make_account(platform)
    texts = {DELIVERED: "hello", UNDELIVERED: "hi", EXPIRED: "hey", UNKNOWN: "yo", FAILED: "no",
             380971230021: LONG, 380971230022: UNICODE}
    outcome = await send(platform, Caller(account_id, False), texts)
    test_outcome = await send(platform, Caller(account_id, True), {380971230023: "test key"})
    engine, smpp, builtin = routed_engine(platform, smsc)
    await engine.start()
    try:
        rows = await wait_until(lambda: all_final(platform, outcome.campaign.id, len(texts)))
        await wait_until(lambda: all_final(platform, test_outcome.campaign.id, 1))
        published = await wait_until(lambda: _published(platform))
    finally:
        await engine.stop()
    by_phone = {r.phone: r for r in rows}
    assert {p: r.status for p, r in by_phone.items()} == {
        DELIVERED: "delivered", UNDELIVERED: "undelivered", EXPIRED: "expired", UNKNOWN: "unknown",
        FAILED: "failed", 380971230021: "delivered", 380971230022: "delivered",
    }
    assert {r.connector for r in rows if r.status != "failed"} == {"operator"}
    assert all(r.delivered_at is not None for r in rows if r.status != "failed")
    # the long and the Unicode message went out in their parts, with their encoding
    parts = Counter((p.relaybox_id, p.data_coding) for p in smsc.received)
    assert parts[(by_phone[380971230021].id, 0)] == analyze(LONG).parts > 1
    assert parts[(by_phone[380971230022].id, 8)] == analyze(UNICODE).parts > 1
    # the test key's message never reached the operator
    assert builtin.submit_count == 1
    assert not any(p.destination == "380971230023" for p in smsc.received)
    assert {s.connector for s in published} >= {"operator", "simulator"}


async def _published(platform):
    async with platform.db.read() as conn:
        states = await connector_status.read_all(conn)
    return [s for s in states if s.connector == "operator" and s.bound] and states


async def test_link_killed_mid_campaign_loses_nothing_and_sends_nothing_twice(platform, smsc):
    account_id, _ = await make_account(platform, balance="1000")
    phones = {380971241000 + i: f"message number {i}" for i in range(300)}  # no magic endings
    outcome = await send(platform, Caller(account_id, False), phones)
    smsc.speed = 0.02  # 1 ms answers, receipts within 0.1 s: the window is busy when the link goes
    engine, smpp, _ = routed_engine(platform, smsc)
    await engine.start()
    try:
        await wait_until(lambda: _received_at_least(smsc, 100), timeout=20, interval=0.005)
        smsc.kill_links()
        rows = await wait_until(lambda: all_final(platform, outcome.campaign.id, len(phones)), timeout=30)
    finally:
        await engine.stop()
    assert Counter(r.status for r in rows) == {"delivered": 300}
    taken = Counter(p.relaybox_id for p in smsc.received)
    assert set(taken) == {r.id for r in rows} and set(taken.values()) == {1}  # each message taken exactly once
    assert smsc.binds >= 2  # it did relink


async def _received_at_least(smsc: SmscSimulator, n: int) -> bool:
    return len(smsc.received) >= n


async def test_wrong_credentials_leave_messages_waiting_not_failed(platform, smsc):
    account_id, _ = await make_account(platform)
    outcome = await send(platform, Caller(account_id, False), {DELIVERED: "waiting", 380971230031: "also waiting"})
    engine, smpp, _ = routed_engine(platform, smsc, password="wrong")
    await engine.start()
    try:
        async def shown_not_bound():
            async with platform.db.read() as conn:
                states = {s.connector: s for s in await connector_status.read_all(conn)}
            state = states.get("operator")
            return state is not None and not state.bound and "ESME_RINVPASWD" in (state.details.get("last_error") or "")

        await wait_until(shown_not_bound)
        await asyncio.sleep(0.5)
        rows = await message_rows(platform, outcome.campaign.id)
        assert {r.status for r in rows} == {"sending"}  # waiting for the link, not failed
        assert smsc.binds_refused >= 2 and smsc.received == []
        smsc.password = "wrong"  # the credentials now match: the next retry binds
        rows = await wait_until(lambda: all_final(platform, outcome.campaign.id, 2))
    finally:
        await engine.stop()
    assert {r.status for r in rows} == {"delivered"}


async def test_an_engine_stopped_while_unbound_leaves_its_messages_to_the_next(platform, smsc, monkeypatch):
    monkeypatch.setattr("relaybox.engine.runner.STOP_GRACE", 0.2)
    account_id, _ = await make_account(platform)
    outcome = await send(platform, Caller(account_id, False), {DELIVERED: "first", 380971230032: "second"})
    engine, _, _ = routed_engine(platform, smsc, password="wrong")
    await engine.start()
    try:
        async def claimed():
            return {r.status for r in await message_rows(platform, outcome.campaign.id)} == {"sending"}

        await wait_until(claimed)
    finally:
        await asyncio.wait_for(engine.stop(), 5)  # does not wait for a link that will not come
    assert {r.status for r in await message_rows(platform, outcome.campaign.id)} == {"sending"}

    engine, _, _ = routed_engine(platform, smsc)  # restarted with the right password
    await engine.start()
    try:
        rows = await wait_until(lambda: all_final(platform, outcome.campaign.id, 2))
    finally:
        await engine.stop()
    assert {r.status for r in rows} == {"delivered"}
    assert Counter(p.relaybox_id for p in smsc.received) == {r.id: 1 for r in rows}


async def test_a_down_route_does_not_hold_up_the_others(platform, smsc, monkeypatch):
    """One submit slot per connector: the SMPP route's first batch waits in its slot for the link,
    its later batches go back to the queue, and the simulator's messages are delivered meanwhile."""
    monkeypatch.setattr("relaybox.engine.runner.PARK_FOR", 0.2)
    account_id, _ = await make_account(platform)
    caller = Caller(account_id, False)
    to_smpp = [380971240011 + 100 * i for i in range(6)]  # 3809712400xx.. by the prefix below: SMPP
    to_sim = [380971230011 + 100 * i for i in range(6)]  # the rest: the built-in simulator
    outcome = await send(platform, caller, {n: "hello" for pair in zip(to_smpp, to_sim) for n in pair})
    builtin = SimulatorConnector(speed=0)
    smpp = SmppConnector(smpp_settings(smsc.port, password="wrong"))
    router = Router(builtin, {"operator": smpp}, default="simulator", prefixes=[("38097124", "operator")])
    engine = Engine(platform, builtin, router=router, batch_size=2, max_in_flight=1)
    await engine.start()
    try:
        async def simulator_share_delivered():
            rows = await message_rows(platform, outcome.campaign.id)
            return all(r.status == "delivered" for r in rows if r.phone in to_sim) and rows

        await wait_until(simulator_share_delivered)

        async def one_batch_in_the_slot():
            # A batch the engine has just claimed shows as sending until it is put back (a moment
            # on a loaded machine): the SMPP share settles to one batch held in the one slot.
            waiting = Counter(r.status for r in await message_rows(platform, outcome.campaign.id) if r.phone in to_smpp)
            assert set(waiting) <= {"sending", "accepted"}, waiting
            return waiting["sending"] <= 2

        await wait_until(one_batch_in_the_slot)

        async def counters_agree():
            # the engine parks and claims the SMPP share meanwhile: read both until one moment agrees
            campaign = await queries.get_campaign(platform, caller, outcome.campaign.id)
            by_status = Counter(r.status for r in await message_rows(platform, outcome.campaign.id))
            again = await queries.get_campaign(platform, caller, outcome.campaign.id)
            return campaign.counts == again.counts and {s: n for s, n in campaign.counts.items() if n} == dict(by_status)

        await wait_until(counters_agree)

        smsc.password = "wrong"  # the link comes up: the waiting batch goes, the parked ones follow
        rows = await wait_until(lambda: all_final(platform, outcome.campaign.id, 12))
    finally:
        await engine.stop()
    assert {r.status for r in rows} == {"delivered"}
    campaign = await queries.get_campaign(platform, caller, outcome.campaign.id)
    assert campaign.status == "done" and campaign.counts["delivered"] == 12
    assert campaign.counts["sending"] == 0 and campaign.counts["accepted"] == 0
