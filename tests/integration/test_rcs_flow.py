"""RCS through the API and the engine: statuses, read receipts, clicks, the SMS fallback, money, webhooks."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import timedelta

import orjson
from sqlalchemy import func, select

from relaybox.domain.models import Caller
from relaybox.domain.status import MessageStatus
from relaybox.domain.timefmt import utcnow
from relaybox.services import sending
from relaybox.services.rcs import FallbackInput, rcs_send_options
from relaybox.services.recipients import Recipient
from relaybox.store import accounts as accounts_store
from relaybox.store import work
from relaybox.store.tables import campaigns, messages, webhook_outbox
from relaybox.store.transitions import StatusChange, apply_changes
from tests.conftest import wait_until
from tests.factories import (
    EXPIRED,
    FAILED,
    NOT_RCS_USER,
    RCS_CLICK,
    RCS_DELIVERED_READ,
    RCS_DELIVERED_UNREAD,
    RCS_READ,
    UNDELIVERED,
    make_account,
)

RCS_UA, SMS_UA = 200_000, 350_000  # units (10^-7 EUR) per message / part to Ukraine, default tariff
HOOK = "http://127.0.0.1:9/hook"  # nothing listens: the outbox keeps what it would send

#: The final status of an RCS message to each magic number, and of its SMS fallback (if it gets one).
MAGIC = {
    RCS_DELIVERED_READ: ("read", None),
    RCS_DELIVERED_UNREAD: ("delivered", None),
    NOT_RCS_USER: ("not_service_user", "delivered"),
    RCS_READ: ("read", None),
    RCS_CLICK: ("read", None),
    UNDELIVERED: ("undelivered", "undelivered"),
    EXPIRED: ("expired", "expired"),
    FAILED: ("failed", None),
}

CARD = {
    "title": "The message",
    "text": "Hello! ☺️",
    "media": {"url": "https://domain.com/video.mp4"},
    "suggestions": [
        {"text": "Go to site", "url": "https://domain.com/", "postback_data": "site"},
        {"type": "call", "text": "Call us", "phone": "380991112233"},
    ],
}


def campaign_body(phones, **extra) -> dict:
    return {
        "phones": [{"number": str(n), "reference_id": f"r{n}"} for n in phones],
        "sender": "rcs_agent",
        "options": {"cards": [CARD]},
        "alternative_channel": {"sms": {"text": "Hello by SMS", "sender": "relaybox"}},
        "callback_url": HOOK,
        **extra,
    }


async def balance(platform, account_id: int) -> int:
    async with platform.db.read() as conn:
        return (await accounts_store.get_account(conn, account_id)).balance


async def rows_of(platform, account_id: int) -> list:
    async with platform.db.read() as conn:
        return (await conn.execute(select(messages).where(messages.c.account_id == account_id).order_by(messages.c.id))).all()


async def callbacks(platform) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = defaultdict(list)
    async with platform.db.read() as conn:
        for row in await conn.execute(select(webhook_outbox).order_by(webhook_outbox.c.id)):
            assert row.url == HOOK
            found[row.message_id].append(orjson.loads(row.payload))
    return found


async def test_rcs_campaign_to_the_magic_numbers(client, headers, account, app_platform, app, monkeypatch):
    # Nothing reaches the network until the charge at acceptance is checked: at simulator speed 0
    # the engine could otherwise refund a failed message (and its failed fallback) first.
    connector, handed_over = app.state.engine.connector, asyncio.Event()
    submit = connector.submit

    async def submit_once_checked(batch):
        await handed_over.wait()
        return await submit(batch)

    monkeypatch.setattr(connector, "submit", submit_once_checked)
    before = await balance(app_platform, account[0])
    sent = await client.post("/api/campaigns/rcs/send", json=campaign_body(MAGIC), headers=headers)
    assert sent.status_code == 200, sent.text
    campaign = sent.json()["data"]
    assert (campaign["message_type"], campaign["sender"], campaign["status"]) == ("rcs", "rcs_agent", "sending")
    assert campaign["calculated_price"] == 0.16  # 8 RCS messages at 0.02: the fallbacks are charged when sent
    assert campaign["name"].startswith("RCS rcs_agent ")
    assert await balance(app_platform, account[0]) == before - 8 * RCS_UA
    handed_over.set()

    async def finished():
        detail = (await client.get(f"/api/campaigns/{campaign['id']}/detail", headers=headers)).json()["data"]
        listed = (await client.get("/api/messages", params={"filter[campaign_id]": campaign["id"]}, headers=headers)).json()
        reads = sum(m["status"] == "read" for m in listed["data"])
        return (detail, listed["data"]) if detail["status"] == "done" and reads == 3 else None

    detail, listed = await wait_until(finished)
    rcs = {m["phone"]: m for m in listed if m["type"] == "rcs"}
    fallbacks = {m["id"]: m for m in listed if m["type"] == "sms"}
    assert {p: m["status"] for p, m in rcs.items()} == {p: s for p, (s, _) in MAGIC.items()}

    # each undeliverable RCS message has exactly one SMS fallback, linked both ways
    assert len(fallbacks) == 3
    for phone, (_, fallback_status) in MAGIC.items():
        m = rcs[phone]
        assert m["rcs_options"]["cards"][0]["suggestions"][0]["type"] == "link"
        assert m["text"] == "Hello! ☺️" and m["amount"]["value"] == "0.0200000" and m["parts"] == 1
        if fallback_status is None:
            assert m["alternative_channels"] is None
            continue
        assert m["alternative_channels"]["sms"]["parts"] == 1
        (fallback_id,) = m["alternative_channels"]["sms"]["id"]
        sms = fallbacks[fallback_id]
        assert (sms["phone"], sms["status"], sms["text"], sms["sender"]) == (phone, fallback_status, "Hello by SMS", "relaybox")
        assert sms["campaign_id"] == campaign["id"] and sms["reference_id"] is None
        assert sms["amount"]["value"] == "0.0350000" and "rcs_options" not in sms

    # detail: the RCS messages in `statistics`, their fallbacks in `alternative_channels`
    stats = detail["statistics"]
    assert (stats["read"], stats["delivered"], stats["not_rcs_user"], stats["undelivered"]) == (3, 1, 1, 1)
    assert (stats["expired"], stats["failed"], stats["sent"], stats["sending"]) == (1, 1, 0, 0)
    alt = detail["alternative_channels"]["sms"]["statistics"]
    assert {k: v for k, v in alt.items() if v} == {"delivered": 1, "undelivered": 1, "expired": 1}
    assert detail["total_messages"] == 8 and detail["total_price"] == "0.1600000" and detail["type"] == "rcs"
    short = (await client.get(f"/api/campaigns/{campaign['id']}", headers=headers)).json()["data"]["statistics"]
    assert short == {"delivered": 4, "sent": 6}  # CONTRACT: not_service_user is not "sent"

    # counters equal a count of the messages (RCS and fallbacks separately)
    async with app_platform.db.read() as conn:
        rows = await conn.execute(
            select(messages.c.parent_id.is_(None), messages.c.status, func.count())
            .where(messages.c.campaign_id == campaign["id"]).group_by(messages.c.parent_id.is_(None), messages.c.status)
        )
        counted = {(bool(main), status): n for main, status, n in rows}
        row = (await conn.execute(select(campaigns).where(campaigns.c.id == campaign["id"]))).one()._mapping
    for status in MessageStatus:
        assert row[f"n_{status.value}"] == counted.get((True, status.value), 0), status
        assert row[f"n_alt_{status.value}"] == counted.get((False, status.value), 0), status
    assert row["n_pending"] == 0

    # charged: the delivered and read RCS messages, and the three fallbacks (they reached an operator)
    assert await balance(app_platform, account[0]) == before - 4 * RCS_UA - 3 * SMS_UA

    # one status callback per status change, in order, and the click
    sent_callbacks = await callbacks(app_platform)
    ids = {m["phone"]: m["id"] for m in rcs.values()}
    paths = {
        "read": ["sending", "sent", "delivered", "read"],
        "delivered": ["sending", "sent", "delivered"],
        "not_service_user": ["sending", "sent", "not_service_user"],
        "undelivered": ["sending", "sent", "undelivered"],
        "expired": ["sending", "sent", "expired"],
        "failed": ["sending", "failed"],
    }
    for phone, (status, _) in MAGIC.items():
        got = sent_callbacks[ids[phone]]
        statuses = [c["status"] for c in got if "status" in c]
        assert statuses == paths[status], phone
        for c in got:
            if "status" in c:
                assert (c["id"], c["msisdn"], c["reference"], c["currency"]) == (ids[phone], str(phone), f"r{phone}", "EUR")
    clicks = [c for c in sent_callbacks[ids[RCS_CLICK]] if "postback" in c]
    assert clicks == [
        {"id": ids[RCS_CLICK], "reference": f"r{RCS_CLICK}", "msisdn": str(RCS_CLICK), "text": "Go to site",
         "postback": "site", "time_click": clicks[0]["time_click"]}
    ]
    for fallback_id, sms in fallbacks.items():
        assert [c["status"] for c in sent_callbacks[fallback_id]] == ["sending", "sent", sms["status"]]

    listed_rcs = (await client.get("/api/campaigns", params={"filter[type]": "rcs"}, headers=headers)).json()
    assert [c["id"] for c in listed_rcs["data"]] == [campaign["id"]]
    assert (await client.get("/api/campaigns", params={"filter[type]": "sms"}, headers=headers)).json()["data"] == []


async def test_single_rcs_message_with_fallback(client, headers, account, app_platform):
    before = await balance(app_platform, account[0])
    body = {
        "phone": {"number": str(NOT_RCS_USER), "reference_id": "single-rcs"},
        "sender": "rcs_agent",
        "options": {"text": "Hello! ☺️"},
        "alternative_channel": {"sms": {"text": "Привет", "sender": "relaybox", "validity": 12}},
    }
    sent = await client.post("/api/messages/rcs/send", json=body, headers=headers)
    assert sent.status_code == 200, sent.text
    info = sent.json()["data"]
    assert (info["type"], info["status"], info["amount"]["value"], info["sender"]) == ("rcs", "accepted", "0.0200000", "rcs_agent")
    assert "campaign_id" not in info

    async def linked():
        m = (await client.get("/api/messages", params={"filter[id]": info["id"]}, headers=headers)).json()["data"][0]
        return m if m["alternative_channels"] else None

    m = await linked() or await wait_until(linked)
    assert m["status"] == "not_service_user" and m["campaign_id"] is None
    assert m["rcs_options"] == {"text": "Hello! ☺️"}
    (fallback_id,) = m["alternative_channels"]["sms"]["id"]

    async def fallback_delivered():
        f = (await client.get("/api/messages", params={"filter[id]": fallback_id}, headers=headers)).json()["data"][0]
        return f if f["status"] == "delivered" else None

    f = await wait_until(fallback_delivered)
    assert (f["type"], f["text"], f["validity"], f["campaign_id"]) == ("sms", "Привет", 12, None)
    assert await balance(app_platform, account[0]) == before - SMS_UA  # RCS refunded, the UCS-2 SMS charged

    # the legacy family reads both
    legacy = (await client.get("/rest/sms/reference/single-rcs", headers=headers)).json()
    assert (legacy["error"], legacy["id"], legacy["status"]) == (0, str(info["id"]), "not_service_user")
    assert (await client.get(f"/rest/sms/{fallback_id}", headers=headers)).json()["status"] == "delivered"


async def test_messages_send_with_rcs_and_sms_channels(client, headers, account, app_platform):
    before = await balance(app_platform, account[0])
    body = {
        "channels": ["rcs", "sms"],
        "phone": {"number": str(NOT_RCS_USER)},
        # what the official client sends: its model of `rcs` requires sender, text and cards
        "rcs": {"sender": "rcs_agent", "text": "Hello! ☺️", "cards": [CARD]},
        "sms": {"sender": "relaybox", "text": "Hello by SMS " + "x" * 150},  # 2 parts
        "callback_url": HOOK,
    }
    dry = await client.post("/api/messages/send", json=body | {"dry_run": True}, headers=headers)
    assert dry.status_code == 200, dry.text
    assert dry.json()["data"] == {
        "source": "rest", "type": "rcs", "phone": NOT_RCS_USER, "status": "accepted", "validity": 72,
        "amount": {"value": "0.0200000", "currency": "EUR"}, "sender": "rcs_agent",
    }
    sent = await client.post("/api/messages/send", json=body, headers=headers)
    assert sent.status_code == 200, sent.text
    info = sent.json()["data"]
    assert info["type"] == "rcs"

    async def fallback():
        rows = await rows_of(app_platform, account[0])
        done = [r for r in rows if r.parent_id == info["id"] and r.status == "delivered"]
        return (rows, done[0]) if done else None

    rows, sms = await wait_until(fallback)
    assert len(rows) == 2 and sms.parts == 2 and sms.callback_url == HOOK
    parent = next(r for r in rows if r.id == info["id"])
    assert parent.alternative_id == sms.id and parent.rcs_options["text"] == "Hello! ☺️"
    assert await balance(app_platform, account[0]) == before - 2 * SMS_UA

    # ["rcs"] alone: no fallback, even with an `sms` object
    alone = await client.post("/api/messages/send", json=body | {"channels": ["rcs"]}, headers=headers)
    assert alone.status_code == 200, alone.text

    async def final():
        m = (await client.get("/api/messages", params={"filter[id]": alone.json()["data"]["id"]}, headers=headers)).json()
        return m["data"][0] if m["data"][0]["status"] == "not_service_user" else None

    assert (await wait_until(final))["alternative_channels"] is None


# -- the fallback inside the status change's transaction (no engine: the steps by hand) ------


async def rcs_campaign(platform, caller, phones, *, fallback=True):
    options, text = rcs_send_options(
        {"cards": [CARD]},
        fallback=FallbackInput("alternative_channel.sms", "Hello by SMS", "relaybox") if fallback else None,
    )
    recipients = [Recipient(path=f"phones.{i}", phone=n, text=text, sender="rcs_agent") for i, n in enumerate(phones)]
    return await sending.send(platform, caller, recipients, options, common_text=text)


async def claim_and_send(platform, now):
    async with platform.db.write() as conn:
        claimed = await work.claim_due(conn, now, 100)
        await apply_changes(
            conn, [StatusChange(m.id, MessageStatus.SENT, now, "test", f"op-{m.id}") for m in claimed], now
        )
    return claimed


async def test_fallback_is_created_once_with_the_status_change(platform):
    account_id, _ = await make_account(platform)
    caller = Caller(account_id, False)
    outcome = await rcs_campaign(platform, caller, [NOT_RCS_USER])
    now = utcnow()
    (m,) = await claim_and_send(platform, now)

    # a crash before the commit: neither the status nor the fallback is kept
    class Crash(Exception):
        pass

    try:
        async with platform.db.write() as conn:
            await apply_changes(conn, [StatusChange(m.id, MessageStatus.NOT_SERVICE_USER, now)], now)
            raise Crash()
    except Crash:
        pass
    rows = await rows_of(platform, account_id)
    assert [(r.status, r.alternative_id) for r in rows] == [("sent", None)]

    # the report again, twice: one fallback
    for _ in range(2):
        async with platform.db.write() as conn:
            await apply_changes(conn, [StatusChange(m.id, MessageStatus.NOT_SERVICE_USER, now)], now)
    rows = await rows_of(platform, account_id)
    assert [(r.type, r.status) for r in rows] == [("rcs", "not_service_user"), ("sms", "accepted")]
    assert rows[0].alternative_id == rows[1].id and rows[1].parent_id == rows[0].id
    assert rows[1].due_at == now and rows[1].price == SMS_UA
    async with platform.db.read() as conn:
        c = (await conn.execute(select(campaigns).where(campaigns.c.id == outcome.campaign.id))).one()
    assert (c.n_not_service_user, c.n_alt_accepted, c.n_pending, c.status) == (1, 1, 1, "sending")
    assert await balance(platform, account_id) == 100 * 10**7 - SMS_UA

    # the fallback goes out like any SMS, and its end finishes the campaign
    later = now + timedelta(seconds=1)
    await claim_and_send(platform, later)
    async with platform.db.write() as conn:
        await apply_changes(conn, [StatusChange(rows[1].id, MessageStatus.DELIVERED, later)], later)
        c = (await conn.execute(select(campaigns).where(campaigns.c.id == outcome.campaign.id))).one()
    assert (c.n_alt_delivered, c.n_alt_accepted, c.n_pending, c.status) == (1, 0, 0, "done")


async def test_fallback_the_balance_cannot_cover_is_failed_and_free(platform):
    account_id, _ = await make_account(platform, balance="0.02")  # one RCS message, not an SMS
    await rcs_campaign(platform, Caller(account_id, False), [NOT_RCS_USER])
    now = utcnow()
    (m,) = await claim_and_send(platform, now)
    async with platform.db.write() as conn:
        await apply_changes(conn, [StatusChange(m.id, MessageStatus.NOT_SERVICE_USER, now)], now)
    rows = await rows_of(platform, account_id)
    assert [(r.type, r.status) for r in rows] == [("rcs", "not_service_user"), ("sms", "failed")]
    assert rows[0].alternative_id == rows[1].id
    assert await balance(platform, account_id) == RCS_UA  # the RCS price back, nothing taken
    async with platform.db.read() as conn:
        c = (await conn.execute(select(campaigns))).one()
    assert (c.n_alt_failed, c.n_pending, c.status) == (1, 0, "done")


async def test_no_fallback_without_one_or_after_a_stop(platform):
    account_id, _ = await make_account(platform)
    caller = Caller(account_id, False)
    await rcs_campaign(platform, caller, [NOT_RCS_USER], fallback=False)
    stopped = await rcs_campaign(platform, caller, [NOT_RCS_USER + 10**4])  # 380971240005: also no RCS
    now = utcnow()
    claimed = await claim_and_send(platform, now)
    async with platform.db.write() as conn:
        await conn.execute(campaigns.update().where(campaigns.c.id == stopped.campaign.id).values(status="stopped"))
        await apply_changes(conn, [StatusChange(m.id, MessageStatus.NOT_SERVICE_USER, now) for m in claimed], now)
    rows = await rows_of(platform, account_id)
    assert [(r.type, r.status, r.alternative_id) for r in rows] == [("rcs", "not_service_user", None)] * 2
    assert await balance(platform, account_id) == 100 * 10**7  # both refunded, nothing sent instead


async def test_test_keys_are_never_charged_for_rcs_or_fallbacks(platform):
    account_id, _ = await make_account(platform)
    outcome = await rcs_campaign(platform, Caller(account_id, True), [NOT_RCS_USER, RCS_READ])
    assert outcome.campaign.total_price == 2 * RCS_UA  # shown, not taken
    now = utcnow()
    claimed = await claim_and_send(platform, now)
    async with platform.db.write() as conn:
        await apply_changes(conn, [StatusChange(claimed[0].id, MessageStatus.NOT_SERVICE_USER, now)], now)
    rows = await rows_of(platform, account_id)
    assert Counter((r.type, r.status) for r in rows)[("sms", "accepted")] == 1
    assert await balance(platform, account_id) == 100 * 10**7


async def test_click_callback_is_retried_until_delivered(platform):
    import httpx

    from relaybox.engine.webhooks import WebhookSender
    from relaybox.store.clicks import record_clicks

    account_id, _ = await make_account(platform)
    options, text = rcs_send_options({"cards": [CARD]}, callback_url=HOOK)
    outcome = await sending.send(
        platform, Caller(account_id, False),
        [Recipient(path="phones.0", phone=RCS_CLICK, text=text, sender="rcs_agent", reference="ref1")], options,
    )
    async with platform.db.read() as conn:
        (message_id,) = (await conn.execute(select(messages.c.id).where(messages.c.campaign_id == outcome.campaign.id))).scalars()
    now = utcnow()
    platform.clock = lambda: now
    async with platform.db.write() as conn:
        assert await record_clicks(conn, [(message_id, "Go to site", "site", now), (10**9, "Lost", None, now)], now) == 1

    answers = iter([500, 200])
    seen: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(orjson.loads(request.content))
        return httpx.Response(next(answers))

    sender = WebhookSender(platform, httpx.AsyncClient(transport=httpx.MockTransport(answer)))
    try:
        assert await sender.send_due() == 1  # refused by the receiver: kept for a retry
        assert await sender.send_due() == 0  # not before its backoff
        now += timedelta(seconds=2)
        assert await sender.send_due() == 1
        now += timedelta(hours=1)
        assert await sender.send_due() == 0  # delivered: never again
    finally:
        await sender.close()
    assert seen[0] == seen[1] == {
        "id": message_id, "reference": "ref1", "msisdn": str(RCS_CLICK), "text": "Go to site", "postback": "site",
        "time_click": seen[0]["time_click"],
    }
    async with platform.db.read() as conn:
        row = (await conn.execute(select(webhook_outbox))).one()
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, None)
