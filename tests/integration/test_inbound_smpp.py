"""Inbound SMS over SMPP on real TCP: relaybox's SMSC simulator sends mobile-originated deliver_sm
to the engine's SMPP connector; each message is stored once, listed once, and reaches a signed
inbound webhook receiver once.  Both stores."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from relaybox.connectors.routing import Router
from relaybox.connectors.simulator import SimulatorConnector
from relaybox.connectors.smpp import SmppConnector
from relaybox.domain.models import Caller
from relaybox.domain.signatures import standard_secret
from relaybox.engine import Engine
from relaybox.services import inbound, sending
from relaybox.services.recipients import Recipient
from relaybox.smsc import SmscSimulator
from relaybox.smsc.server import mo_parts
from relaybox.store.stoplist import stoplisted_phones
from relaybox.store.tables import inbound_messages, messages
from relaybox.store.webhook_admin import configure
from tests.conftest import wait_until
from tests.factories import make_account
from tests.integration.test_smpp_engine import smpp_settings
from tests.integration.webhook_receivers import Receiver

TWO_WAY = "447700900123"
SUBSCRIBER = "380971234567"
#: 150 UCS-2 units: three parts of at most 67 (a header in each).
UCS2_LONG = ("Доброго дня! Підтверджую замовлення №4521 на завтра, 10:00. Дякую 🙂 " * 3)[:150]


@pytest.fixture
async def smsc():
    server = SmscSimulator(port=0, speed=0, system_id="relaybox", password="secret", redeliver_after=1.0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def receiver():
    r = await Receiver().start()
    yield r
    await r.stop()


@pytest.fixture
async def running(platform, smsc):
    builtin = SimulatorConnector(speed=0)
    smpp = SmppConnector(smpp_settings(smsc.port))
    engine = Engine(platform, builtin, router=Router(builtin, {"operator": smpp}, default="operator"))
    await engine.start()
    await smpp.wait_bound()
    yield engine, smpp
    await engine.stop()


async def stored(platform, n: int):
    async with platform.db.read() as conn:
        rows = (await conn.execute(select(inbound_messages).order_by(inbound_messages.c.id))).all()
    return rows if len(rows) >= n else None


async def listing(platform, account_id: int) -> list:
    _, found = await inbound.list_inbound(
        platform, Caller(account_id, False), raw_from=None, raw_to=None, sender=None, recipient=None, keyword=None,
        action=None, sort="id", descending=False, offset=0, limit=500,
    )
    return found


async def test_single_concatenated_and_stop_messages_arrive_once_each(platform, smsc, receiver, running):
    engine, smpp = running
    account_id, _ = await make_account(platform)
    await inbound.add_number(platform, account_id, TWO_WAY)
    await inbound.set_webhook(platform, account_id, receiver.url)
    async with platform.db.write() as conn:
        _, secret = await configure(conn, account_id, url=None, clear_url=False, rotate=False)

    smsc.send_mo("relaybox", SUBSCRIBER, TWO_WAY, "Yes, see you at 10")
    assert smsc.send_mo("relaybox", "380971234568", TWO_WAY, UCS2_LONG, concat="udh8", reference=0xA7,
                        order=[3, 1, 2]) == 3
    smsc.send_mo("relaybox", "380971234569", TWO_WAY, "Hello with a 16-bit reference " * 6, concat="udh16",
                 reference=0x1234, order=[2, 1])
    smsc.send_mo("relaybox", "380971234570", TWO_WAY, "Bonjour, réponse en trois parties SAR. " * 8, concat="sar",
                 reference=9, order=[2, 3, 1])
    # a redelivery: the same deliver_sm again, as an SMSC sends one whose response it never got
    smsc.send_mo("relaybox", SUBSCRIBER, TWO_WAY, "Yes, see you at 10")
    smsc.send_mo("relaybox", "380971234571", f"+{TWO_WAY}", " stop ")

    rows = await wait_until(lambda: stored(platform, 5))
    await wait_until(lambda: _delivered(receiver, 5))
    await wait_until(lambda: _settled(smsc))  # every deliver_sm answered, none left to redeliver
    rows = await stored(platform, 5)
    assert len(rows) == 5
    by_sender = {r.sender: r for r in rows}
    assert by_sender[SUBSCRIBER].text == "Yes, see you at 10" and by_sender[SUBSCRIBER].parts == 1
    long = by_sender["380971234568"]
    assert (long.text, long.parts, long.encoding) == (UCS2_LONG, 3, "ucs2")
    assert by_sender["380971234569"].text == "Hello with a 16-bit reference " * 6
    assert by_sender["380971234570"].text == "Bonjour, réponse en trois parties SAR. " * 8
    assert by_sender["380971234570"].encoding == "gsm7" and by_sender["380971234570"].parts == 3  # é is GSM 03.38
    stop = by_sender["380971234571"]
    assert stop.action == "stoplisted" and stop.recipient == TWO_WAY
    assert {r.account_id for r in rows} == {account_id} and {r.connector for r in rows} == {"operator"}

    listed = await listing(platform, account_id)
    assert sorted(m.id for m in listed) == sorted(r.id for r in rows)

    whsec = standard_secret(secret)
    bodies = [Webhook(whsec).verify(body, headers) for headers, body, _ in receiver.requests]
    assert sorted(b["id"] for b in bodies) == sorted(r.id for r in rows)  # each once, each signed
    assert {b["event"] for b in bodies} == {"sms.inbound"}
    assert next(b for b in bodies if b["from"] == "380971234568")["text"] == UCS2_LONG

    async with platform.db.read() as conn:
        assert await stoplisted_phones(conn, account_id, "sms", [380971234571, int(SUBSCRIBER)]) == {380971234571}
    assert smpp.status()["inbound"] >= 10  # parts and the redelivery counted as received


async def _delivered(receiver: Receiver, n: int):
    return len(receiver.requests) >= n


async def _settled(smsc: SmscSimulator):
    return smsc.pending_receipts() == 0


async def test_mo_routed_to_the_sender_of_the_last_message(platform, smsc, running):
    account_id, _ = await make_account(platform)
    other_id, _ = await make_account(platform)
    outcome = await sending.send(
        platform, Caller(account_id, False),
        [Recipient(path="phones.0", phone=int(SUBSCRIBER), text="Reply to confirm", sender="ClinicBot")],
        sending.SendOptions(),
    )
    smsc.send_mo("relaybox", f"+{SUBSCRIBER}", "ClinicBot", "Confirmed")
    smsc.send_mo("relaybox", SUBSCRIBER, "UnknownBot", "Who is this?")
    rows = await wait_until(lambda: stored(platform, 2))
    by_text = {r.text: r for r in rows}
    async with platform.db.read() as conn:
        message_id = (await conn.execute(select(messages.c.id).where(messages.c.campaign_id == outcome.campaign.id))).scalar()
    assert (by_text["Confirmed"].account_id, by_text["Confirmed"].reply_to) == (account_id, message_id)
    assert by_text["Who is this?"].account_id is None  # unroutable: kept, no tenant sees it
    assert [m.text for m in await listing(platform, account_id)] == ["Confirmed"]
    assert await listing(platform, other_id) == []


async def test_a_stop_reply_keeps_the_number_out_of_the_next_campaign(platform, smsc, running):
    """The stop-list flag is set by the STOP reply; the skip itself is the send paths' (see below)."""
    account_id, _ = await make_account(platform)
    await inbound.add_number(platform, account_id, TWO_WAY)
    smsc.send_mo("relaybox", SUBSCRIBER, TWO_WAY, "STOP")
    await wait_until(lambda: stored(platform, 1))
    async with platform.db.read() as conn:
        assert await stoplisted_phones(conn, account_id, "sms", [int(SUBSCRIBER), 380971234999]) == {int(SUBSCRIBER)}


async def test_the_next_campaign_skips_a_number_that_replied_stop(platform, smsc, running):
    account_id, _ = await make_account(platform)
    await inbound.add_number(platform, account_id, TWO_WAY)
    smsc.send_mo("relaybox", SUBSCRIBER, TWO_WAY, "STOP")
    await wait_until(lambda: stored(platform, 1))
    outcome = await sending.send(
        platform, Caller(account_id, False),
        [Recipient(path=f"phones.{i}", phone=p, text="Sale!", sender=TWO_WAY)
         for i, p in enumerate((int(SUBSCRIBER), 380971234998))],
        sending.SendOptions(stop_list="sms"),  # as every One API and legacy send asks by default
    )
    async with platform.db.read() as conn:
        phones = {r.phone for r in await conn.execute(select(messages.c.phone).where(
            messages.c.campaign_id == outcome.campaign.id))}
    assert phones == {380971234998}


def test_mo_parts_are_what_a_phone_sends():
    parts = mo_parts(UCS2_LONG, order=[3, 1, 2], reference=0xA7)
    assert [(p[1], p[2]) for p in parts] == [(0x40, 0x08)] * 3
    assert [p[0][:6] for p in parts] == [bytes((5, 0, 3, 0xA7, 3, n)) for n in (3, 1, 2)]
    assert all(len(p[0]) - 6 <= 134 for p in parts)  # 67 UCS-2 units at most per part
    [(single, esm, dc, tlvs)] = mo_parts("STOP")
    assert (single, esm, dc, tlvs) == (b"STOP", 0, 0, [])
    assert orjson.dumps(mo_parts("x" * 200, concat="sar")[1][3][2][1].hex()) == b'"02"'


async def test_the_smsc_simulators_subscribers_answer(platform, smsc, running):
    account_id, _ = await make_account(platform)
    await sending.send(
        platform, Caller(account_id, False),
        [Recipient(path=f"phones.{i}", phone=p, text="Your order shipped", sender="ShopBot")
         for i, p in enumerate((380971230008, 380971230009, 380971230011))],
        sending.SendOptions(),
    )
    rows = await wait_until(lambda: stored(platform, 2))
    assert sorted((r.sender, r.text, r.recipient, r.action) for r in rows) == [
        ("380971230008", "Yes, thanks!", "ShopBot", None), ("380971230009", "STOP", "ShopBot", "stoplisted"),
    ]
