"""Bad RCS input: a 422 with the field path of every problem; nothing written, nothing charged.

One app per backend for the module, a new account for every test (tests/shared_app.py)."""

from __future__ import annotations

import pytest
from relaybox.store.tables import rates
from tests.factories import DELIVERED, NOT_RCS_USER, make_account
from tests.integration.test_oneapi_validation import post_rejected, snapshot
from tests.shared_app import account, app, app_platform, client, database_url, headers, rates_removed, settings, settings_overrides  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")

CAMPAIGN = "/api/campaigns/rcs/send"
SINGLE_RCS = "/api/messages/rcs/send"
SINGLE = "/api/messages/send"

LINK = {"text": "Go", "url": "https://example.com/"}
CARD = {"text": "Hello", "suggestions": [LINK]}


def campaign(phones=(DELIVERED,), *, options=None, fallback=None, **extra) -> dict:
    body = {"phones": [{"number": n} for n in phones], "sender": "rcs_agent",
            "options": {"cards": [CARD]} if options is None else options}
    if fallback is not None:
        body["alternative_channel"] = {"sms": fallback}
    return body | extra


def sms(**extra) -> dict:
    return {"text": "Hello by SMS", "sender": "relaybox"} | extra


def single_rcs(number=str(DELIVERED), **extra) -> dict:
    return {"phone": {"number": number}, "sender": "rcs_agent", "options": {"text": "Hello"}} | extra


def universal(channels=("rcs", "sms"), **extra) -> dict:
    return {
        "channels": list(channels),
        "phone": {"number": str(DELIVERED)},
        "rcs": {"sender": "rcs_agent", "text": "Hello", "cards": [CARD]},
        "sms": sms(),
    } | extra


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        # content: missing both text and cards, or not an object
        (campaign(options={}), ["options"]),
        (campaign(options={"text": None}), ["options"]),
        ({k: v for k, v in campaign().items() if k != "options"}, ["options"]),
        (campaign(options="Hello"), ["options"]),
        (campaign(options={"text": "x" * 161}), ["options.text"]),
        # cards and suggestions
        (campaign(options={"cards": [CARD] * 6}), ["options.cards"]),
        (campaign(options={"cards": []}), ["options.cards"]),
        (campaign(options={"cards": [{"title": "no body"}]}), ["options.cards.0"]),
        (campaign(options={"cards": [CARD, {"text": "Hi", "suggestions": [LINK] * 3}]}), ["options.cards.1.suggestions"]),
        (campaign(options={"cards": [{"text": "Hi", "suggestions": [LINK | {"type": "reply"}]}]}),
         ["options.cards.0.suggestions.0.type"]),
        (campaign(options={"cards": [{"text": "Hi", "suggestions": [{"text": "Hm"}]}]}),
         ["options.cards.0.suggestions.0.type"]),
        (campaign(options={"cards": [{"text": "Hi", "media": {"url": "ftp://example.com/a.png"}}]}),
         ["options.cards.0.media.url"]),
        (campaign(options={"cards": [{"media": {"url": "/relative/a.png"}}]}), ["options.cards.0.media.url"]),
        (campaign(options={"cards": [{"text": "Hi", "suggestions": [LINK | {"url": "javascript:x()"}]}]}),
         ["options.cards.0.suggestions.0.url"]),
        (campaign(options={"cards": [{"text": "Hi", "suggestions": [{"text": "Call", "phone": "123"}]}]}),
         ["options.cards.0.suggestions.0.phone"]),
        (campaign(options={"cards": [{"text": "Hi", "suggestions": [LINK | {"text": "b" * 26}]}]}),
         ["options.cards.0.suggestions.0.text"]),
        # the fallback SMS, by the SMS rules
        (campaign(fallback=sms(text="x" * 766)), ["alternative_channel.sms.text"]),
        (campaign(fallback=sms(text="Ж" * 356)), ["alternative_channel.sms.text"]),
        (campaign(fallback=sms(text="")), ["alternative_channel.sms.text"]),
        (campaign(fallback={"sender": "relaybox"}), ["alternative_channel.sms.text"]),
        (campaign(fallback=sms(sender="x")), ["alternative_channel.sms.sender"]),
        (campaign(fallback=sms(validity=73)), ["alternative_channel.sms.validity"]),
        # the request
        (campaign(sender=""), ["sender"]),
        (campaign(sender="a" * 41), ["sender"]),
        (campaign(validity=0), ["validity"]),
        (campaign(tariff_code=9), ["tariff_code"]),
        (campaign([DELIVERED, str(DELIVERED)]), ["phones.1.number"]),
        (campaign([DELIVERED + 10**4 * i for i in range(5001)]), ["phones"]),
        (campaign([]), ["phones"]),
        # every problem at once
        (
            campaign([38097123, DELIVERED], sender="", validity=99,
                     options={"text": "", "cards": [{"text": "Hi", "media": {"url": "x"}}]},
                     fallback=sms(text="x" * 766, sender="?")),
            ["phones.0.number", "sender", "validity", "options.text", "options.cards.0.media.url",
             "alternative_channel.sms.text", "alternative_channel.sms.sender"],
        ),
    ],
)
async def test_bad_rcs_campaign(client, app_platform, account, headers, body, fields):
    await post_rejected(client, app_platform, account[0], CAMPAIGN, body, headers, fields=fields)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (single_rcs(options={}), ["options"]),
        (single_rcs(options={"text": "x" * 161}), ["options.text"]),
        (single_rcs(options={"cards": [{"text": "Hi", "suggestions": [LINK | {"type": "share"}]}]}),
         ["options.cards.0.suggestions.0.type"]),
        (single_rcs("38097123"), ["phone.number"]),
        (single_rcs(alternative_channel={"sms": sms(text="x" * 766)}), ["alternative_channel.sms.text"]),
        (single_rcs(sender="a" * 41, validity=0), ["sender", "validity"]),
    ],
)
async def test_bad_single_rcs_message(client, app_platform, account, headers, body, fields):
    await post_rejected(client, app_platform, account[0], SINGLE_RCS, body, headers, fields=fields)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({k: v for k, v in universal(["rcs"]).items() if k != "rcs"}, ["rcs"]),
        ({k: v for k, v in universal().items() if k != "sms"}, ["sms"]),
        (universal(["sms", "rcs"]), ["channels"]),
        (universal(["rcs", "rcs"]), ["channels"]),
        (universal(["rcs", "viber"]), ["channels"]),
        (universal(rcs="Hello"), ["rcs"]),
        (universal(rcs={"sender": "rcs_agent"}), ["rcs"]),
        (universal(rcs={"text": "Hello"}), ["rcs.sender"]),
        (universal(rcs={"sender": "rcs_agent", "cards": [{"text": "Hi", "media": {"url": "x"}}]}),
         ["rcs.cards.0.media.url"]),
        (universal(sms=sms(text="x" * 766)), ["sms.text"]),
        (universal(sms=sms(sender="x", validity=0)), ["sms.sender", "sms.validity"]),
        (universal(dry_run=True, rcs={"sender": "rcs_agent", "text": ""}), ["rcs.text"]),
    ],
)
async def test_bad_rcs_on_messages_send(client, app_platform, account, headers, body, fields):
    await post_rejected(client, app_platform, account[0], SINGLE, body, headers, fields=fields)


async def test_rcs_not_enough_money(client, app_platform):
    account_id, key = await make_account(app_platform, balance="0.03")
    h = {"X-API-KEY": key}
    before = await snapshot(app_platform, account_id)
    r = await client.post(CAMPAIGN, json=campaign([DELIVERED, NOT_RCS_USER]), headers=h)  # 2 × 0.02 > 0.03
    assert r.status_code == 422 and r.json()["message"] == "Not enough money", r.text
    assert await snapshot(app_platform, account_id) == before
    # the RCS price is what is reserved, not the fallback's: one message fits
    r = await client.post(SINGLE_RCS, json=single_rcs(alternative_channel={"sms": sms()}), headers=h)
    assert r.status_code == 200, r.text
    before = await snapshot(app_platform, account_id)
    r = await client.post(SINGLE_RCS, json=single_rcs(str(NOT_RCS_USER)), headers=h)  # 0.02 > 0.01 left
    assert r.status_code == 422 and r.json()["message"] == "Not enough money", r.text
    assert await snapshot(app_platform, account_id) == before


async def test_rcs_direction_not_allowed(client, app_platform, account, headers):
    # Every region of the shipped price list has an RCS price: take Ukraine's away.
    async with rates_removed(app_platform, rates.c.country == "UA", rates.c.channel == "rcs"):
        await post_rejected(client, app_platform, account[0], CAMPAIGN, campaign([4915123456789, DELIVERED]), headers,
                            fields=["phones.1.number"])
        await post_rejected(client, app_platform, account[0], SINGLE_RCS, single_rcs(), headers, fields=["phone.number"])
        await post_rejected(client, app_platform, account[0], SINGLE, universal(), headers, fields=["phone.number"])
        # the SMS channel still goes there
        r = await client.post(SINGLE, json=universal(["sms"]), headers=headers)
        assert r.status_code == 200, r.text


async def test_fallback_direction_not_allowed(client, app_platform, account, headers):
    async with rates_removed(app_platform, rates.c.country == "UA", rates.c.channel == "sms"):
        await post_rejected(client, app_platform, account[0], CAMPAIGN, campaign(fallback=sms()), headers,
                            fields=["phones.0.number"])
        r = await client.post(CAMPAIGN, json=campaign(), headers=headers)  # without a fallback it is allowed
        assert r.status_code == 200, r.text


async def test_ignored_and_unknown_fields_are_accepted(client, headers):
    body = campaign(
        fallback=sms(validity_seconds=30, check_stop_list=True, whatever=1),
        validity_seconds=30, add_to_contact_book=True, check_stop_list=False, start_at=None, unknown={"a": 1},
        options={"cards": [CARD | {"unknown": 1}], "whatever": True},
    )
    r = await client.post(CAMPAIGN, json=body, headers=headers)
    assert r.status_code == 200, r.text
    r = await client.post(CAMPAIGN, json=body, headers=headers)
    assert r.status_code == 429  # the same body again within 10 seconds
