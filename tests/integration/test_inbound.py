"""Inbound (two-way) SMS on both stores: routing, storage, STOP keywords, redeliveries, reassembly,
the webhook outbox, the simulator's answering subscribers, the listing endpoint and legacy 35/36."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select

from relaybox.connectors.base import Inbound
from relaybox.connectors.shared_simulator import SharedSimulatorConnector
from relaybox.connectors.simulator import SimulatorConnector
from relaybox.domain.models import Caller
from relaybox.domain.timefmt import utcnow
from relaybox.engine import Engine
from relaybox.errors import NotFound, ValidationFailed
from relaybox.services import inbound, sending
from relaybox.services.recipients import Recipient
from relaybox.store import inbound as inbound_store
from relaybox.store.stoplist import stoplisted_phones
from relaybox.store.tables import contacts, inbound_messages, inbound_parts, webhook_outbox
from tests.conftest import wait_until
from tests.factories import make_account

SUBSCRIBER = 380971234567
ANSWERS = 380971230008  # the simulated subscriber answers "Yes, thanks!" (docs/inbound.md)
SAYS_STOP = 380971230009  # ... answers "STOP"


async def send_one(platform, account_id: int, phone: int, sender: str, text: str = "Your code is 1234"):
    recipients = [Recipient(path="phones.0", phone=phone, text=text, sender=sender)]
    return await sending.send(platform, Caller(account_id, False), recipients, sending.SendOptions())


def mo(sender: str, recipient: str, text: str, **kw) -> Inbound:
    return Inbound(sender, recipient, text, "gsm7", utcnow(), **kw)


async def rows(platform, table=inbound_messages):
    async with platform.db.read() as conn:
        return (await conn.execute(select(table).order_by(table.c.id))).all()


# -- routing -----------------------------------------------------------------------------------------


async def test_routed_by_two_way_number_then_by_last_sender_else_unroutable(platform):
    a, _ = await make_account(platform, name="A")
    b, _ = await make_account(platform, name="B")
    await inbound.add_number(platform, a, "+447700900123")
    # B sent last to the subscriber from "Shop"; A earlier from "Shop" too: the latest wins.
    await send_one(platform, a, SUBSCRIBER, "Shop")
    await send_one(platform, b, SUBSCRIBER, "Shop")
    await send_one(platform, a, SUBSCRIBER, "12345")

    stored = await inbound.receive(platform, "operator", [
        mo(str(SUBSCRIBER), "447700900123", "to the number"),
        mo(f"+{SUBSCRIBER}", "Shop", "to the alphanumeric sender"),
        mo(str(SUBSCRIBER), "+12345", "to the short code"),
        mo(str(SUBSCRIBER), "Nobody", "never sent from"),
        mo("380500000000", "Shop", "from a phone never messaged"),
    ])
    assert [(m.account_id, m.route) for m in stored] == [
        (a, "number"), (b, "last_sender"), (a, "last_sender"), (None, "none"), (None, "none"),
    ]
    assert stored[1].sender == str(SUBSCRIBER) and stored[2].recipient == "12345"
    assert stored[1].reply_to is not None and stored[0].reply_to is None
    async with platform.db.read() as conn:
        assert await inbound_store.stats(conn) == {"routed": 3, "unroutable": 2, "stoplisted": 0, "parts_waiting": 0}


async def test_two_way_numbers_belong_to_one_account(platform):
    a, _ = await make_account(platform)
    b, _ = await make_account(platform)
    assert await inbound.add_number(platform, a, "447700900123") == "447700900123"
    assert await inbound.add_number(platform, a, "+447700900123") == "447700900123"  # again: nothing changes
    with pytest.raises(ValidationFailed) as exc:
        await inbound.add_number(platform, b, "447700900123")
    assert exc.value.errors[0].path == "number"
    for bad in ("12", "1234567890123456", "44 77", "abc", "", None, 3.5):
        with pytest.raises(ValidationFailed):
            await inbound.add_number(platform, a, bad)
    with pytest.raises(NotFound):
        await inbound.add_number(platform, 999999, "447700900999")
    assert await inbound.two_way_numbers(platform, a) == {"447700900123"}
    assert await inbound.remove_number(platform, b, "447700900123") is False
    assert await inbound.remove_number(platform, a, "447700900123") is True


# -- STOP keywords ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["STOP", " stop ", "Stop!", "unsubscribe", "СТОП", "Stopp", "arrêt", "BAJA."])
async def test_stop_keywords_put_the_sender_on_the_stop_list(platform, text):
    a, _ = await make_account(platform)
    await inbound.add_number(platform, a, "447700900123")
    [m] = await inbound.receive(platform, "operator", [mo(str(SUBSCRIBER), "447700900123", text)])
    assert m.action == "stoplisted"
    async with platform.db.read() as conn:
        assert await stoplisted_phones(conn, a, "sms", [SUBSCRIBER]) == {SUBSCRIBER}
        row = (await conn.execute(select(contacts).where(contacts.c.account_id == a))).one()
    assert row.stoplist_source == "reply" and not row.rcs_stoplist


async def test_text_that_only_contains_a_keyword_or_is_unroutable_stop_lists_nobody(platform):
    a, _ = await make_account(platform)
    await inbound.add_number(platform, a, "447700900123")
    stored = await inbound.receive(platform, "operator", [
        mo(str(SUBSCRIBER), "447700900123", "Please stop sending"),
        mo(str(SUBSCRIBER), "447700900123", "STOPPING"),
        mo("380971111111", "447700900999", "STOP"),  # no account: nobody's stop list
    ])
    assert [m.action for m in stored] == [None, None, None]
    async with platform.db.read() as conn:
        assert (await conn.execute(select(contacts))).all() == []


async def test_the_keyword_list_is_configurable(platform):
    a, _ = await make_account(platform)
    await inbound.add_number(platform, a, "447700900123")
    platform.settings.inbound_stop_keywords = "NEIN, halt"
    stored = await inbound.receive(platform, "operator", [
        mo(str(SUBSCRIBER), "447700900123", "STOP"),
        mo("380971111112", "447700900123", "Halt"),
    ])
    assert [m.action for m in stored] == [None, "stoplisted"]


# -- redeliveries and concatenation -----------------------------------------------------------------


async def test_redelivered_messages_are_stored_once(platform):
    a, _ = await make_account(platform)
    await inbound.add_number(platform, a, "447700900123")
    first = await inbound.receive(platform, "operator", [mo(str(SUBSCRIBER), "447700900123", "Yes")] * 2)
    again = await inbound.receive(platform, "operator", [mo(str(SUBSCRIBER), "447700900123", "Yes")])
    assert len(first) == 1 and again == []
    # the network's own ids tell two messages with one text apart
    same_text = await inbound.receive(platform, "simulator", [
        mo(str(SUBSCRIBER), "447700900123", "Yes", network_id="n1"),
        mo(str(SUBSCRIBER), "447700900123", "Yes", network_id="n2"),
        mo(str(SUBSCRIBER), "447700900123", "Yes", network_id="n1"),
    ])
    assert len(same_text) == 2
    # after the window the same text is a new message
    platform.settings.inbound_dedupe_seconds = 0
    later = platform.clock() + timedelta(seconds=1)
    platform.clock = lambda: later
    assert len(await inbound.receive(platform, "operator", [mo(str(SUBSCRIBER), "447700900123", "Yes")])) == 1


async def test_parts_out_of_order_are_reassembled_once(platform):
    a, _ = await make_account(platform)
    await inbound.add_number(platform, a, "447700900123")
    texts = {1: "Привет, это первая часть; ", 2: "вторая часть; ", 3: "и третья 🙂"}

    def part(n: int, reference: int = 77) -> Inbound:
        return Inbound(str(SUBSCRIBER), "447700900123", texts[n], "ucs2", utcnow(), reference=reference, total=3,
                       number=n)

    assert await inbound.receive(platform, "operator", [part(3), part(1)]) == []
    assert await inbound.receive(platform, "operator", [part(1)]) == []  # a redelivered part
    [m] = await inbound.receive(platform, "operator", [part(2)])
    assert m.text == texts[1] + texts[2] + texts[3] and m.parts == 3 and m.encoding == "ucs2"
    assert await rows(platform, inbound_parts) == []
    # the whole set again (an SMSC redelivering every part): a redelivery, stored once
    assert await inbound.receive(platform, "operator", [part(2), part(1), part(3)]) == []
    # another set with the same reference from another subscriber is its own
    other = [Inbound("380971111113", "447700900123", t, "ucs2", utcnow(), reference=77, total=3, number=n)
             for n, t in texts.items()]
    assert len(await inbound.receive(platform, "operator", other)) == 1


async def test_incomplete_sets_expire(platform):
    a, _ = await make_account(platform)
    part = Inbound(str(SUBSCRIBER), "447700900123", "half", "gsm7", utcnow(), reference=5, total=2, number=1)
    assert await inbound.receive(platform, "operator", [part]) == []
    assert await inbound.expire_parts(platform) == 0
    later = platform.clock() + timedelta(seconds=platform.settings.inbound_parts_ttl_seconds + 1)
    platform.clock = lambda: later
    assert await inbound.expire_parts(platform) == 1
    assert await rows(platform, inbound_parts) == []


# -- the webhook outbox -------------------------------------------------------------------------------


async def test_one_outbox_row_per_message_for_the_inbound_webhook(platform):
    a, _ = await make_account(platform)
    b, _ = await make_account(platform)
    await inbound.add_number(platform, a, "447700900123")
    await inbound.add_number(platform, b, "447700900124")
    await inbound.set_webhook(platform, a, "http://127.0.0.1:9/inbound")
    with pytest.raises(ValidationFailed) as exc:
        await inbound.set_webhook(platform, a, "http://169.254.169.254/latest")  # never allowed
    assert exc.value.errors[0].path == "webhook_url"
    await inbound.receive(platform, "operator", [
        mo(str(SUBSCRIBER), "447700900123", "STOP"),
        mo(str(SUBSCRIBER), "447700900123", "STOP"),  # redelivery
        mo(str(SUBSCRIBER), "447700900124", "hello B"),  # B has no inbound webhook
    ])
    [row] = await rows(platform, webhook_outbox)
    body = orjson.loads(row.payload)
    assert row.account_id == a and row.url == "http://127.0.0.1:9/inbound" and row.message_id is None
    assert body["event"] == "sms.inbound" and body["from"] == str(SUBSCRIBER) and body["to"] == "447700900123"
    assert body["text"] == "STOP" and body["action"] == "stoplisted" and body["route"] == "number"


# -- the simulator's answering subscribers --------------------------------------------------------------


@pytest.mark.parametrize("network", ["memory", "database"])
async def test_simulated_subscribers_answer_through_the_engine(platform, network):
    a, _ = await make_account(platform)
    connector = SimulatorConnector(speed=0) if network == "memory" else SharedSimulatorConnector(speed=0, db=platform.db)
    engine = Engine(platform, connector)
    await send_one(platform, a, ANSWERS, "Shop")
    await send_one(platform, a, SAYS_STOP, "Shop")
    await engine.start()
    try:
        stored = await wait_until(lambda: _n_rows(platform, 2))
    finally:
        await engine.stop()
    by_sender = {r.sender: r for r in stored}
    assert by_sender[str(ANSWERS)].text == "Yes, thanks!" and by_sender[str(ANSWERS)].action is None
    assert by_sender[str(SAYS_STOP)].text == "STOP" and by_sender[str(SAYS_STOP)].action == "stoplisted"
    assert {r.account_id for r in stored} == {a} and {r.route for r in stored} == {"last_sender"}
    async with platform.db.read() as conn:
        assert await stoplisted_phones(conn, a, "sms", [ANSWERS, SAYS_STOP]) == {SAYS_STOP}


async def _n_rows(platform, n: int):
    found = await rows(platform)
    return found if len(found) >= n else None


async def test_inject_validates_and_routes(platform):
    a, _ = await make_account(platform)
    await send_one(platform, a, SUBSCRIBER, "Shop")
    [m] = await inbound.inject(platform, sender=f"+{SUBSCRIBER}", recipient="Shop", text="Hi there")
    assert (m.account_id, m.route, m.connector) == (a, "last_sender", "simulator")
    # two injections of one text are two messages (each gets its own network id)
    assert len(await inbound.inject(platform, sender=SUBSCRIBER, recipient="Shop", text="Hi there")) == 1
    with pytest.raises(ValidationFailed) as exc:
        await inbound.inject(platform, sender="not a phone", recipient="", text="")
    assert [e.path for e in exc.value.errors] == ["from", "to", "text"]


# -- GET /api/x-relaybox/inbound -------------------------------------------------------------------------


async def test_listing_is_per_account_filtered_and_paged(client, app_platform, account, headers):
    platform = app_platform
    a = account[0]
    b, key_b = await make_account(platform, name="B")
    await inbound.add_number(platform, a, "447700900123")
    await inbound.add_number(platform, b, "447700900124")
    for i in range(20):
        await inbound.inject(platform, sender=380971000000 + i, recipient="447700900123", text=f"reply {i} 50%_off")
    await inbound.inject(platform, sender=SUBSCRIBER, recipient="447700900123", text="STOP")
    await inbound.inject(platform, sender=SUBSCRIBER, recipient="447700900124", text="for B only")

    r = await client.get("/api/x-relaybox/inbound", headers=headers, params={"page[limit]": 15})
    assert r.status_code == 200
    page = r.json()
    assert page["meta"]["page"] == {"total": 21, "offset": 0, "limit": 15} and len(page["data"]) == 15
    assert "for B only" not in {m["text"] for m in page["data"]}
    first = page["data"][0]
    assert set(first) == {"id", "from", "to", "text", "encoding", "parts", "received_at", "route",
                          "reply_to_message_id", "action"}

    async def listed(**params) -> list[dict]:
        r = await client.get("/api/x-relaybox/inbound", headers=headers, params=params)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    assert [m["text"] for m in await listed(**{"filter[action]": "stoplisted"})] == ["STOP"]
    assert [m["text"] for m in await listed(**{"filter[sender]": f"+{SUBSCRIBER}"})] == ["STOP"]
    assert len(await listed(**{"filter[keyword]": "REPLY 1"})) == 11  # 1, 10-19: case-insensitive
    assert len(await listed(**{"filter[keyword]": "%_"})) == 20  # LIKE wildcards are literal
    assert await listed(**{"filter[keyword]": "9%"}) == []  # as a LIKE pattern it would match "reply 9 …"
    assert len(await listed(**{"filter[recipient]": "+447700900123"})) == 21
    assert await listed(**{"filter[sender]": "   "}) == []  # a blank filter matches nothing, not everything
    assert await listed(**{"filter[from]": "2001-01-01 00:00:00", "filter[to]": "2001-02-01 00:00:00"}) == []
    newest = await listed(sort="date", way="desc", **{"page[limit]": 15})
    assert newest[0]["text"] == "STOP"
    assert len(await listed(**{"page[offset]": 15, "page[limit]": 15})) == 6

    b_rows = (await client.get("/api/x-relaybox/inbound", headers={"X-API-KEY": key_b})).json()["data"]
    assert [m["text"] for m in b_rows] == ["for B only"]

    for params, path in (
        ({"page[limit]": 5}, "page.limit"),
        ({"filter[action]": "deleted"}, "filter.action"),
        ({"filter[keyword]": "x" * 65}, "filter.keyword"),
        ({"filter[from]": "yesterday"}, "filter.from"),
        ({"sort": "text"}, "sort"),
    ):
        r = await client.get("/api/x-relaybox/inbound", headers=headers, params=params)
        assert r.status_code == 422 and path in r.json()["errors"], (params, r.text)
    assert (await client.get("/api/x-relaybox/inbound")).status_code == 401


# -- legacy 35 / 36 --------------------------------------------------------------------------------------


async def test_legacy_two_way_errors(client, app_platform, account, headers):
    a = account[0]
    body = {"destination": "phone", "msisdn": str(SUBSCRIBER), "reference": "r1", "originator": "447700900123",
            "body": "Reply YES", "2way": 1}
    r = await client.post("/rest/sms/create", headers=headers, json=body)
    assert r.status_code == 200 and r.json()["error"] == 35
    await inbound.add_number(app_platform, a, "447700900123")
    r = await client.post("/rest/sms/create", headers=headers, json={**body, "originator": "Shop"})
    assert r.json()["error"] == 36
    r = await client.post("/rest/sms/price", headers=headers, json={**body, "originator": "Shop"})
    assert r.json()["error"] == 36
    r = await client.post("/rest/sms/create", headers=headers, json=body)
    assert r.json()["result"]["error"] == 0
    # without 2way the originator is free, as before
    r = await client.post("/rest/sms/create", headers=headers, json={**body, "2way": 0, "reference": "r2",
                                                                    "originator": "Shop"})
    assert r.json()["result"]["error"] == 0

    individual = {"destination": "individual", "2way": "1", "phones": [
        {"msisdn": str(SUBSCRIBER + 1), "reference": "i1", "originator": "447700900123", "body": "ok"},
        {"msisdn": str(SUBSCRIBER + 2), "reference": "i2", "originator": "Shop", "body": "refused"},
    ]}
    r = await client.post("/rest/sms/create", headers=headers, json=individual)
    result = r.json()["result"]
    assert [x["error"] for x in result] == [0, 36] and r.json()["task_id"]
    r = await client.post("/rest/sms/create", headers=headers, json={**individual, "phones": individual["phones"][1:]})
    assert r.json()["error"] == 36 and "task_id" not in r.json()
    r = await client.post("/rest/sms/create", headers=headers, json={**body, "2way": "maybe"})
    assert r.json()["error"] == 7


async def test_parts_and_redeliveries_taken_at_once_by_several_workers(platform):
    """Each part (and each copy of one MO) in its own concurrent transaction, as several engine
    processes receiving from one SMSC take them: the set completes once, the MO is stored once."""
    import asyncio

    a, _ = await make_account(platform)
    await inbound.add_number(platform, a, "447700900123")
    for round_ in range(5):
        parts = [Inbound(str(SUBSCRIBER), "447700900123", f"<{round_}:{n}>", "gsm7", utcnow(), reference=round_,
                         total=4, number=n) for n in (1, 2, 3, 4)]
        copies = [mo(str(SUBSCRIBER), "447700900123", f"copy {round_}") for _ in range(4)]
        results = await asyncio.gather(*(inbound.receive(platform, "operator", [r]) for r in parts + copies))
        assert sum(len(r) for r in results) == 2, round_
    stored = await rows(platform)
    assert len(stored) == 10 and await rows(platform, inbound_parts) == []
    assert {r.text for r in stored if r.parts == 4} == {"".join(f"<{i}:{n}>" for n in (1, 2, 3, 4)) for i in range(5)}
