"""POST /api/campaigns/sms/send-groups and rcs/send-groups, and /api/campaigns/price with `groups`:
personalised texts, the union of lists, and bad input (nothing written, nothing charged)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from relaybox.store import accounts as accounts_store
from relaybox.store.tables import campaigns, messages
from tests.contact_rows import add_field, add_list
from tests.factories import make_account

A, B, C = 380971230011, 380971231011, 380971232011
SMS_UA = 350000  # units per part to Ukraine


async def balance(platform, account_id: int) -> int:
    async with platform.db.read() as conn:
        return (await accounts_store.get_account(conn, account_id)).balance


async def stored_messages(platform, account_id: int) -> list:
    async with platform.db.read() as conn:
        return (await conn.execute(select(messages).where(messages.c.account_id == account_id)
                                   .order_by(messages.c.phone))).all()


async def n_campaigns(platform) -> int:
    async with platform.db.read() as conn:
        return (await conn.execute(select(func.count()).select_from(campaigns))).scalar_one()


@pytest.fixture
async def book(app_platform, account):
    """Two overlapping lists with fields `name` and `city`: {"l1": id, "l2": id, "empty": id}."""
    account_id = account[0]
    await add_field(app_platform, account_id, "name")
    await add_field(app_platform, account_id, "city")
    l1 = await add_list(app_platform, account_id, "one", [{"phone": A, "name": "Olena", "city": "Kyiv"},
                                                           {"phone": B, "name": "Bob"}])
    l2 = await add_list(app_platform, account_id, "two", [{"phone": B}, {"phone": C, "name": "Ім'я"}])
    empty = await add_list(app_platform, account_id, "empty")
    return {"l1": l1, "l2": l2, "empty": empty}


async def test_one_campaign_to_the_union_with_personalised_texts(client, headers, account, app_platform, book):
    before = await balance(app_platform, account[0])
    body = {"groups": [book["l1"], book["l2"]], "sender": "relaybox", "text": "Hi {name} from {city}! {{ok}}"}
    price = await client.post("/api/campaigns/price", json={k: body[k] for k in ("groups", "sender", "text")},
                              headers=headers)
    assert price.status_code == 200, price.text
    r = await client.post("/api/campaigns/sms/send-groups", json=body, headers=headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert set(data) == {"id", "name", "sender", "status", "message_type", "start_at", "real_start_at", "finished_at",
                         "created_at", "statistics", "calculated_price", "currency"}
    assert "skipped" not in r.json()
    rows = await stored_messages(app_platform, account[0])
    assert [(m.phone, m.text) for m in rows] == [
        (A, "Hi Olena from Kyiv! {ok}"),
        (B, "Hi Bob from ! {ok}"),  # B is in both lists: one message; no city: the empty string
        (C, "Hi Ім'я from ! {ok}"),  # UCS-2 for this one only
    ]
    assert [(m.encoding, m.parts, m.price) for m in rows] == [("gsm7", 1, SMS_UA), ("gsm7", 1, SMS_UA),
                                                             ("ucs2", 1, SMS_UA)]
    assert all(m.campaign_id == data["id"] for m in rows)
    assert data["calculated_price"] == price.json()["price"] == 0.105
    assert await balance(app_platform, account[0]) == before - 3 * SMS_UA
    async with app_platform.db.read() as conn:
        campaign = (await conn.execute(select(campaigns).where(campaigns.c.id == data["id"]))).one()
    assert campaign.text is None and campaign.total_messages == 3  # an individual-text campaign


async def test_segments_and_price_follow_each_personalised_text(client, headers, account, app_platform):
    await add_field(app_platform, account[0], "note")
    group = await add_list(app_platform, account[0], "l", [{"phone": A, "note": "x" * 160}, {"phone": B, "note": "y"}])
    price = await client.post("/api/campaigns/price", json={"groups": [group], "sender": "relaybox",
                                                            "text": "Note: {note}"}, headers=headers)
    assert price.json() == {"price": 0.105, "currency": "EUR"}  # 2 parts + 1 part
    r = await client.post("/api/campaigns/sms/send-groups",
                          json={"groups": [group], "sender": "relaybox", "text": "Note: {note}"}, headers=headers)
    assert r.json()["data"]["calculated_price"] == 0.105
    assert [m.parts for m in await stored_messages(app_platform, account[0])] == [2, 1]


async def test_price_with_messages_and_groups_counts_a_phone_once(client, headers, app_platform, account, book):
    r = await client.post("/api/campaigns/price", json={"sender": "relaybox", "text": "Hi", "groups": [book["l1"]],
                                                        "messages": [{"phone": A}, {"phone": 380971239999}]},
                          headers=headers)
    assert r.json() == {"price": 0.105, "currency": "EUR"}  # A, 380971239999, B


async def test_rcs_send_groups_personalises_content_and_fallback(client, headers, account, app_platform, book):
    body = {"groups": [book["l1"]], "sender": "rcs_agent",
            "options": {"cards": [{"title": "For {name}", "text": "Hello {name}"}]},
            "alternative_channel": {"sms": {"text": "SMS for {name}", "sender": "relaybox"}}}
    r = await client.post("/api/campaigns/rcs/send-groups", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["message_type"] == "rcs"
    rows = await stored_messages(app_platform, account[0])
    assert [(m.phone, m.text, m.rcs_options["cards"][0]["title"], m.alternative_sms["text"]) for m in rows] == [
        (A, "Hello Olena", "For Olena", "SMS for Olena"),
        (B, "Hello Bob", "For Bob", "SMS for Bob"),
    ]


# -- bad input: the documented 422 with the field path; nothing written, nothing charged ----------


async def test_bad_input(client, headers, account, app_platform, book):
    other_id, other_key = await make_account(app_platform, name="Other")
    theirs = await add_list(app_platform, other_id, "theirs", [{"phone": A}])
    before = await balance(app_platform, account[0])
    ok = {"groups": [book["l1"]], "sender": "relaybox", "text": "Hi {name}"}
    cases = [
        ({"groups": [theirs]}, {f"groups.0": [f"The contact list {theirs} does not exist."]}),
        ({"groups": [book["l1"], 987654321]}, {"groups.1": ["The contact list 987654321 does not exist."]}),
        ({"groups": [book["l1"], book["l1"]]}, {"groups.1": ["The contact list is given twice."]}),
        ({"groups": [book["empty"]]}, {"groups": ["The contact lists have no contacts."]}),
        ({"groups": []}, None),
        ({"groups": [True]}, None),
        ({"groups": ["1"]}, None),
        ({"groups": [2**64]}, None),
        ({"groups": list(range(1, 1002))}, None),
        ({"text": "Hi {surname}"}, {"text": ["The placeholder {surname} names no contact field: create the field, "
                                             "or write {{ and }} for literal braces."]}),
        ({"text": "Hi {name"}, {"text": ["Unmatched '{' at character 4: write '{{' for a literal brace."]}),
        ({"text": "50% off}"}, {"text": ["Unmatched '}' at character 8: write '}}' for a literal brace."]}),
        ({"text": ""}, {"contacts.380971230011.text": ["The text field is required."],
                        "contacts.380971231011.text": ["The text field is required."]}),
        ({"sender": "x"}, {"sender": ["The sender must be 3-11 Latin letters, digits, spaces or .-_& characters, "
                                      "or 3-15 digits."]}),
        ({"tariff_code": 99}, {"tariff_code": ["The tariff is invalid."]}),
        ({"validity": 0}, {"validity": ["The validity must be an integer number of hours from 1 to 72."]}),
    ]
    for change, errors in cases:
        r = await client.post("/api/campaigns/sms/send-groups", json=ok | change, headers=headers)
        assert r.status_code == 422, (change, r.text)
        assert r.json()["message"] == "The given data was invalid."
        if errors is not None:
            assert r.json()["errors"] == errors, change
        else:
            assert list(r.json()["errors"])[0].startswith("groups"), r.json()
    # a personalised text too long for one contact only: that contact's path
    await add_field(app_platform, account[0], "long")
    long_list = await add_list(app_platform, account[0], "long", [{"phone": A, "long": "x" * 800}, {"phone": C}])
    r = await client.post("/api/campaigns/sms/send-groups", json=ok | {"groups": [long_list], "text": "{long}!"},
                          headers=headers)
    assert r.status_code == 422 and list(r.json()["errors"]) == [f"contacts.{A}.text"]
    # RCS: unknown list, unknown field in a card, in the fallback
    rcs = {"groups": [book["l1"]], "sender": "rcs_agent", "options": {"cards": [{"title": "{nope}"}]},
           "alternative_channel": {"sms": {"text": "{nada} {", "sender": "relaybox"}}}
    r = await client.post("/api/campaigns/rcs/send-groups", json=rcs, headers=headers)
    assert r.status_code == 422 and list(r.json()["errors"]) == ["alternative_channel.sms.text"]
    r = await client.post("/api/campaigns/rcs/send-groups", json=rcs | {"alternative_channel": None}, headers=headers)
    assert r.status_code == 422 and list(r.json()["errors"]) == ["options.cards.0.title"]
    rcs["alternative_channel"]["sms"]["text"] = "{nada}"
    r = await client.post("/api/campaigns/rcs/send-groups", json=rcs | {"groups": [theirs]}, headers=headers)
    assert r.status_code == 422 and list(r.json()["errors"]) == ["groups.0", "options.cards.0.title",
                                                                 "alternative_channel.sms.text"]
    r = await client.post("/api/campaigns/rcs/send-groups", json=rcs | {"sender": " "}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"] == {
        "sender": ["The sender (RCS agent) must be 1-40 printable characters."]}
    # the price refuses the same way
    r = await client.post("/api/campaigns/price", json={"groups": [theirs], "sender": "relaybox", "text": "Hi"},
                          headers=headers)
    assert r.status_code == 422 and list(r.json()["errors"]) == ["groups.0"]
    # another account sees its own list only
    r = await client.post("/api/campaigns/sms/send-groups", json=ok | {"groups": [theirs], "text": "Hi"},
                          headers={"X-API-KEY": other_key})
    assert r.status_code == 200, r.text

    assert await stored_messages(app_platform, account[0]) == []
    assert await n_campaigns(app_platform) == 1  # the other account's
    assert await balance(app_platform, account[0]) == before


async def test_not_enough_money_for_the_personalised_campaign(client, app_platform):
    account_id, key = await make_account(app_platform, balance="0.05")
    await add_field(app_platform, account_id, "note")
    group = await add_list(app_platform, account_id, "l", [{"phone": A, "note": "x" * 170}])  # 2 parts: 0.07
    r = await client.post("/api/campaigns/sms/send-groups",
                          json={"groups": [group], "sender": "relaybox", "text": "{note}"}, headers={"X-API-KEY": key})
    assert r.status_code == 422 and r.json()["message"] == "Not enough money"
    assert await stored_messages(app_platform, account_id) == [] and await n_campaigns(app_platform) == 0
