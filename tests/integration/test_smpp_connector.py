"""The SMPP connector against the SMSC simulator over real TCP on 127.0.0.1 (no store)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from relaybox.connectors.base import Receipt, Submission
from relaybox.connectors.smpp import SmppConnector, SmppSettings
from relaybox.connectors.smpp.message_ids import submit_key
from relaybox.domain.segments import analyze
from relaybox.domain.status import MessageStatus
from relaybox.smsc import SmscSimulator
from tests.factories import DELIVERED, EXPIRED, FAILED, UNDELIVERED, UNKNOWN

LONG_GSM = "Your parcel {42} is ready: " + "abcdefghij" * 30  # 327 septets with two extension characters
UNICODE = "Привіт! Ваше замовлення готове 🚚 " * 3


def settings(port: int, **overrides) -> SmppSettings:
    base = dict(name="op", host="127.0.0.1", port=port, system_id="relaybox", password="secret", tps=0, window=50,
                reconnect_min=0.05, reconnect_max=0.2, throttle_backoff=0.02, response_timeout=2.0,
                receipt_ack_timeout=0.5)
    return SmppSettings(**{**base, **overrides})


def sub(message_id: int, phone: int = DELIVERED, text: str = "hello", sender: str = "relaybox") -> Submission:
    info = analyze(text)
    return Submission(message_id, phone, "UA", sender, text, info.encoding.value, info.parts, "sms")


@pytest.fixture
async def smsc():
    server = SmscSimulator(port=0, speed=0, system_id="relaybox", password="secret")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def connector(smsc):
    c = SmppConnector(settings(smsc.port))
    await c.start()
    await asyncio.wait_for(c.wait_bound(), 5)
    yield c
    await c.stop()


async def collect_receipts(connector: SmppConnector, n: int, timeout: float = 10) -> list[Receipt]:
    got: list[Receipt] = []

    async def run():
        while len(got) < n:
            batch = await connector.receipts()
            await connector.acknowledge(batch)
            got.extend(batch)

    await asyncio.wait_for(run(), timeout)
    return got


async def test_long_and_unicode_messages_arrive_with_their_encoding_and_udh(smsc, connector):
    results = await connector.submit([sub(1, text="short"), sub(2, text=LONG_GSM), sub(3, text=UNICODE)])
    assert all(r.accepted for r in results)
    by_message: dict[int, list] = {}
    for part in smsc.received:
        by_message.setdefault(part.relaybox_id, []).append(part)
    short, long_gsm, unicode = by_message[1], by_message[2], by_message[3]

    assert len(short) == 1 and short[0].data_coding == 0 and short[0].esm_class == 0 and short[0].text == "short"
    assert len(long_gsm) == analyze(LONG_GSM).parts == 3
    assert {p.data_coding for p in long_gsm} == {0} and {p.esm_class for p in long_gsm} == {0x40}
    assert [p.number for p in long_gsm] == [1, 2, 3] and {p.total for p in long_gsm} == {3}
    assert len({p.reference for p in long_gsm}) == 1
    assert "".join(p.text for p in long_gsm) == LONG_GSM
    assert len(unicode) == analyze(UNICODE).parts and {p.data_coding for p in unicode} == {8}
    assert "".join(p.text for p in unicode) == UNICODE
    # one receipt per message: only the last part asks for it, and its id is the operator id
    assert [p.registered_delivery for p in long_gsm] == [0, 0, 1]
    assert results[1].operator_id == submit_key(long_gsm[-1].message_id)  # 0000000006 is stored as 6
    receipts = await collect_receipts(connector, 3)
    assert sorted(r.operator_id for r in receipts) == sorted(r.operator_id for r in results)


async def test_outcomes_follow_the_simulator_rules(smsc, connector):
    phones = {10: DELIVERED, 11: UNDELIVERED, 12: EXPIRED, 13: UNKNOWN, 14: FAILED}
    results = {r.message_id: r for r in await connector.submit([sub(i, p) for i, p in phones.items()])}
    assert not results[14].accepted and "ESME_RSUBMITFAIL" in results[14].error
    receipts = {r.operator_id: r.status for r in await collect_receipts(connector, 4)}
    assert {i: receipts[results[i].operator_id] for i in (10, 11, 12, 13)} == {
        10: MessageStatus.DELIVERED,
        11: MessageStatus.UNDELIVERED,
        12: MessageStatus.EXPIRED,
        13: MessageStatus.UNKNOWN,
    }


async def test_throttling_is_retried_not_failed(smsc, connector):
    smsc.throttle_tps = 20
    results = await connector.submit([sub(100 + i) for i in range(60)])
    assert all(r.accepted for r in results)
    assert smsc.throttled > 0 and connector.throttled == smsc.throttled
    assert len(smsc.received) == 60


async def test_link_killed_mid_window_loses_nothing_and_sends_nothing_twice(smsc, connector):
    batch = [sub(1000 + i, text=LONG_GSM if i % 7 == 0 else f"message {i}") for i in range(400)]
    smsc.speed = 0.02  # answers take 1 ms: the window is full when the link goes
    task = asyncio.create_task(connector.submit(batch))
    while len(smsc.received) < 100:
        await asyncio.sleep(0.005)
    smsc.kill_links()
    results = await asyncio.wait_for(task, 30)
    assert all(r.accepted for r in results)
    parts = Counter((p.relaybox_id, p.number) for p in smsc.received)
    assert all(n == 1 for n in parts.values())  # each part taken once; resubmissions were dropped
    assert {m for m, _ in parts} == {s.message_id for s in batch}
    assert 0 < connector.resubmitted and smsc.duplicates <= connector.resubmitted
    # every message gets exactly one receipt, for the id its submit was answered with
    receipts = await collect_receipts(connector, len(batch), timeout=20)
    assert Counter(r.operator_id for r in receipts) == Counter(r.operator_id for r in results)


async def test_wrong_credentials_keep_retrying_and_messages_wait(smsc):
    connector = SmppConnector(settings(smsc.port, password="wrong"))
    await connector.start()
    try:
        submit = asyncio.create_task(connector.submit([sub(7)]))
        await asyncio.sleep(0.5)
        assert not connector.bound and not submit.done()
        assert "ESME_RINVPASWD" in connector.last_error
        assert smsc.binds_refused >= 2  # it keeps trying
        assert connector.status()["bound"] is False and connector.status()["queue"] == 1
        smsc.password = "wrong"  # the operator fixes its side: the next attempt binds
        results = await asyncio.wait_for(submit, 5)
        assert results[0].accepted and connector.bound
    finally:
        await connector.stop()


async def test_unacknowledged_receipts_come_again(smsc, connector):
    smsc.redeliver_after = 0.2
    (result,) = await connector.submit([sub(55)])
    first = await asyncio.wait_for(connector.receipts(), 5)
    assert [r.operator_id for r in first] == [result.operator_id]
    connector._unacked.clear()  # the process "died" holding it
    again = await asyncio.wait_for(connector.receipts(), 5)
    assert [r.operator_id for r in again] == [result.operator_id]
    await connector.acknowledge(again)
    await asyncio.sleep(0.1)
    assert smsc.pending_receipts() == 0


async def test_transmitter_receiver_binding(smsc):
    connector = SmppConnector(settings(smsc.port, bind="transmitter_receiver"))
    await connector.start()
    try:
        await asyncio.wait_for(connector.wait_bound(), 5)
        assert smsc.bound_links == 2
        (result,) = await connector.submit([sub(77)])
        receipts = await collect_receipts(connector, 1)
        assert receipts[0].operator_id == result.operator_id
    finally:
        await connector.stop()


async def test_enquire_link_keeps_a_quiet_link_and_finds_a_dead_one(smsc):
    connector = SmppConnector(settings(smsc.port, enquire_link_interval=0.1))
    await connector.start()
    try:
        await asyncio.wait_for(connector.wait_bound(), 5)
        await asyncio.sleep(0.5)
        assert smsc.enquire_links >= 3 and connector.bound and smsc.binds == 1
    finally:
        await connector.stop()

    # an SMSC that binds and then never answers again (a hung peer, a silent network cut)
    binds = 0

    async def hung(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal binds
        from relaybox.connectors.smpp import pdu

        header, _ = await pdu.read_pdu(reader)
        binds += 1
        writer.write(pdu.bind_resp(pdu.Command(header.command_id), header.sequence, 0, "HUNG"))
        try:
            while await reader.read(1024):
                pass
        finally:
            writer.close()

    server = await asyncio.start_server(hung, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connector = SmppConnector(settings(port, enquire_link_interval=0.1, response_timeout=0.2))
    await connector.start()
    try:
        await asyncio.sleep(1.0)
        assert binds >= 2  # the unanswered enquire_link dropped the link, and it bound again
        assert "no response within 0.2 s" in (connector.last_error or "")
    finally:
        await connector.stop()
        server.close()
