"""Every send path of both API families reads a number in its E.164 form before anything else.

`+380 0 97 123 0011` (Ukraine's trunk prefix written after the country code) is the subscriber
of `380971230011`: one request naming both is a repeat (legacy 31, One API 422 on the later
item's path), and a number written either way is stored, listed, priced, charged and submitted
as `380971230011`.  Whole numbers of 7 and 8 digits (Cook Islands `68271234`) are real numbers:
sent and priced at their country's rate.

ASGI in process, the engine running at simulator speed 0, on both backends.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from relaybox.store import accounts as accounts_store
from relaybox.store.tables import messages
from tests.conftest import wait_until
from tests.factories import DELIVERED, NOT_RCS_USER
from tests.integration.legacy_support import forbid_direction, individual_body, phone_body, phones_body

SEND = "/api/campaigns/sms/send"
INDIVIDUAL = "/api/campaigns/sms/send-individual"
PRICE = "/api/campaigns/price"
SINGLE = "/api/messages/send"
RCS_CAMPAIGN = "/api/campaigns/rcs/send"
RCS_SINGLE = "/api/messages/rcs/send"
LEGACY_CREATE = "/rest/sms/create"
LEGACY_PRICE = "/rest/sms/price"

#: DELIVERED (380971230011) and NOT_RCS_USER (380971230005) as written with Ukraine's trunk prefix.
TRUNK = "+3800971230011"
TRUNK_INT = 3800971230011
TRUNK_NOT_RCS = "+3800971230005"
#: The same subscriber in France, written both ways (`+33 06…` is `33 6…`).
FR_TRUNK, FR = "+330612345678", 33612345678
#: A whole E.164 number of 8 digits (Cook Islands mobile).
COOK = 68271234
SMS_UA = 350_000  # units (10^-7 EUR) per part to Ukraine, default tariff
RCS_UA = 200_000


def sms(*numbers, **extra) -> dict:
    return {"sender": "relaybox", "text": "Hello", "phones": [{"number": n} for n in numbers], **extra}


def individual(*numbers) -> dict:
    return {"messages": [{"phone": n, "text": "Hello", "sender": "relaybox"} for n in numbers]}


def price(*numbers) -> dict:
    return {"sender": "relaybox", "text": "Hello", "messages": [{"phone": n} for n in numbers]}


def single(number) -> dict:
    return {"channels": ["sms"], "phone": {"number": number}, "sms": {"sender": "relaybox", "text": "Hello"}}


def rcs_fallback_single(number) -> dict:
    return {
        "channels": ["rcs", "sms"],
        "phone": {"number": number},
        "rcs": {"sender": "rcs_agent", "text": "Hello"},
        "sms": {"sender": "relaybox", "text": "Hello by SMS"},
    }


def rcs_campaign(*numbers) -> dict:
    return {
        "phones": [{"number": n} for n in numbers],
        "sender": "rcs_agent",
        "options": {"text": "Hello"},
        "alternative_channel": {"sms": {"text": "Hello by SMS", "sender": "relaybox"}},
    }


def rcs_single(number) -> dict:
    return {
        "phone": {"number": number},
        "sender": "rcs_agent",
        "options": {"text": "Hello"},
        "alternative_channel": {"sms": {"text": "Hello by SMS", "sender": "relaybox"}},
    }


async def balance(platform, account_id: int) -> int:
    async with platform.db.read() as conn:
        return (await accounts_store.get_account(conn, account_id)).balance


async def rows_of(platform, account_id: int) -> list:
    async with platform.db.read() as conn:
        return (await conn.execute(select(messages).where(messages.c.account_id == account_id).order_by(messages.c.id))).all()


async def _async(value):
    """An awaitable of `value`: wait_until() polls a coroutine function."""
    return value


@pytest.fixture
def submitted(app, monkeypatch) -> list:
    """Every Submission the engine hands to its connector (the simulator still answers them)."""
    connector = app.state.engine.connector
    seen: list = []
    submit = connector.submit

    async def recording(batch):
        seen.extend(batch)
        return await submit(batch)

    monkeypatch.setattr(connector, "submit", recording)
    return seen


# -- the same subscriber twice in one request: a repeat -------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param(SEND, sms(DELIVERED, TRUNK), "phones.1.number", id="sms-send"),
        pytest.param(SEND, sms(TRUNK, DELIVERED), "phones.1.number", id="sms-send-trunk-first"),
        pytest.param(SEND, sms(DELIVERED, TRUNK_INT), "phones.1.number", id="sms-send-integer"),
        pytest.param(SEND, sms(FR, FR_TRUNK), "phones.1.number", id="sms-send-france"),
        pytest.param(INDIVIDUAL, individual(DELIVERED, TRUNK), "messages.1.phone", id="send-individual"),
        pytest.param(PRICE, price(DELIVERED, TRUNK), "messages.1.phone", id="price"),
        pytest.param(RCS_CAMPAIGN, rcs_campaign(str(DELIVERED), TRUNK), "phones.1.number", id="rcs-campaign"),
    ],
)
async def test_one_api_refuses_the_same_subscriber_twice(client, headers, account, app_platform, path, body, field):
    before = await balance(app_platform, account[0])
    r = await client.post(path, json=body, headers=headers)
    assert r.status_code == 422, r.text
    assert set(r.json()["errors"]) == {field}
    assert r.json()["errors"][field] == ["The phone is already in the messaging list."]
    assert await rows_of(app_platform, account[0]) == []
    assert await balance(app_platform, account[0]) == before


@pytest.mark.parametrize("destination", ["phones", "individual"])
async def test_legacy_create_answers_31_for_the_same_subscriber_and_charges_once(
    client, headers, account, app_platform, submitted, destination
):
    before = await balance(app_platform, account[0])
    items = [{"msisdn": str(DELIVERED), "reference": "first"}, {"msisdn": TRUNK, "reference": "second"}]
    if destination == "phones":
        body = phones_body(items)
    else:
        body = individual_body([{**item, "originator": "relaybox", "body": "Hello"} for item in items])
    r = (await client.post(LEGACY_CREATE, json=body, headers=headers)).json()
    assert [item["error"] for item in r["result"]] == [0, 31]
    assert r["total_price"] == 0.035
    rows = await rows_of(app_platform, account[0])
    assert [(row.phone, row.country, row.reference_id) for row in rows] == [(DELIVERED, "UA", "first")]
    assert await balance(app_platform, account[0]) == before - SMS_UA
    await wait_until(lambda: _async([s.phone for s in submitted] == [DELIVERED]))


@pytest.mark.parametrize("destination", ["phones", "individual"])
async def test_legacy_price_answers_31_for_the_same_subscriber(client, headers, destination):
    items = [{"msisdn": TRUNK, "reference": "first"}, {"msisdn": "380971230011", "reference": "second"}]
    if destination == "phones":
        body = phones_body(items)
    else:
        body = individual_body([{**item, "originator": "relaybox", "body": "Hello"} for item in items])
    r = (await client.post(LEGACY_PRICE, json=body, headers=headers)).json()
    assert [item["error"] for item in r["result"]] == [0, 31]
    assert r["totalprice"] == 0.035


# -- written with a trunk prefix: stored, listed, charged and submitted in E.164 ------------------


async def _listed_phone(client, headers, message_id: int) -> int:
    listed = (await client.get("/api/messages", params={"filter[id]": message_id}, headers=headers)).json()["data"]
    return listed[0]["phone"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param(SEND, sms(TRUNK), id="sms-send"),
        pytest.param(SEND, sms(TRUNK_INT), id="sms-send-integer"),
        pytest.param(INDIVIDUAL, individual(TRUNK), id="send-individual"),
        pytest.param(SINGLE, single(TRUNK), id="messages-send-hot-path"),
        pytest.param(SINGLE, single(TRUNK_INT), id="messages-send-integer"),
    ],
)
async def test_one_api_sms_is_stored_listed_charged_and_submitted_in_e164(
    client, headers, account, app_platform, submitted, path, body
):
    before = await balance(app_platform, account[0])
    r = await client.post(path, json=body, headers=headers)
    assert r.status_code == 200, r.text
    if path == SINGLE:
        assert r.json()["data"]["phone"] == DELIVERED
    (row,) = await rows_of(app_platform, account[0])
    assert (row.phone, row.country, row.price) == (DELIVERED, "UA", SMS_UA)
    assert await _listed_phone(client, headers, row.id) == DELIVERED
    assert await balance(app_platform, account[0]) == before - SMS_UA
    await wait_until(lambda: _async([s.phone for s in submitted] == [DELIVERED]))
    assert submitted[0].country == "UA"


async def test_messages_send_dry_run_answers_the_e164_number(client, headers, account, app_platform):
    r = await client.post(SINGLE, json=single(TRUNK) | {"dry_run": True}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["phone"] == DELIVERED
    assert r.json()["data"]["amount"]["value"] == "0.0350000"
    assert await rows_of(app_platform, account[0]) == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param(SINGLE, rcs_fallback_single(TRUNK_NOT_RCS), id="messages-send-rcs-sms"),
        pytest.param(RCS_SINGLE, rcs_single(TRUNK_NOT_RCS), id="messages-rcs-send"),
        pytest.param(RCS_CAMPAIGN, rcs_campaign(TRUNK_NOT_RCS), id="rcs-campaign"),
    ],
)
async def test_rcs_and_its_sms_fallback_go_to_the_e164_number(
    client, headers, account, app_platform, submitted, path, body
):
    before = await balance(app_platform, account[0])
    r = await client.post(path, json=body, headers=headers)
    assert r.status_code == 200, r.text

    async def fallback_sent():
        rows = await rows_of(app_platform, account[0])
        return rows if len(rows) == 2 and rows[1].status == "delivered" else None

    rcs, fallback = await wait_until(fallback_sent)
    assert (rcs.type, rcs.phone, rcs.country, rcs.status) == ("rcs", NOT_RCS_USER, "UA", "not_service_user")
    assert (fallback.type, fallback.phone, fallback.country) == ("sms", NOT_RCS_USER, "UA")
    assert await _listed_phone(client, headers, rcs.id) == NOT_RCS_USER
    assert await _listed_phone(client, headers, fallback.id) == NOT_RCS_USER
    assert [(s.channel, s.phone) for s in submitted] == [("rcs", NOT_RCS_USER), ("sms", NOT_RCS_USER)]
    assert await balance(app_platform, account[0]) == before - SMS_UA  # the RCS refunded, the SMS charged


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(phone_body(msisdn=TRUNK), id="phone"),
        pytest.param(phones_body([{"msisdn": TRUNK, "reference": "ref1"}]), id="phones"),
        pytest.param(
            individual_body([{"msisdn": TRUNK, "reference": "ref1", "originator": "relaybox", "body": "Hello"}]),
            id="individual",
        ),
        pytest.param(phone_body(msisdn=TRUNK_INT), id="phone-as-number"),
    ],
)
async def test_legacy_create_stores_lists_charges_and_submits_e164(
    client, headers, account, app_platform, submitted, body
):
    before = await balance(app_platform, account[0])
    r = (await client.post(LEGACY_CREATE, json=body, headers=headers)).json()
    result = r["result"] if isinstance(r["result"], dict) else r["result"][0]
    assert result["error"] == 0, r
    (row,) = await rows_of(app_platform, account[0])
    assert (row.phone, row.country, row.price) == (DELIVERED, "UA", SMS_UA)
    assert (await client.get(f"/rest/sms/{row.id}", headers=headers)).json()["msisdn"] == str(DELIVERED)
    assert (await client.get("/rest/sms/reference/ref1", headers=headers)).json()["msisdn"] == str(DELIVERED)
    assert await _listed_phone(client, headers, row.id) == DELIVERED
    assert await balance(app_platform, account[0]) == before - SMS_UA
    await wait_until(lambda: _async([s.phone for s in submitted] == [DELIVERED]))


# -- price calls ---------------------------------------------------------------------------------


async def test_price_calls_price_the_e164_number(client, headers, app_platform):
    cook = app_platform.prices.rate(0, "CK", "sms", "EUR")
    one_api = await client.post(PRICE, json=price(TRUNK, COOK), headers=headers)
    assert one_api.status_code == 200, one_api.text
    assert one_api.json()["price"] == pytest.approx((SMS_UA + cook) / 10**7)

    legacy = (await client.post(LEGACY_PRICE, json=phone_body(msisdn=TRUNK), headers=headers)).json()
    assert (legacy["error"], legacy["totalprice"]) == (0, 0.035)
    legacy = (await client.post(LEGACY_PRICE, json=phone_body(msisdn=str(COOK)), headers=headers)).json()
    assert (legacy["error"], legacy["totalprice"]) == (0, cook / 10**7)


# -- short numbers --------------------------------------------------------------------------------


async def test_short_numbers_are_sent_and_priced_in_their_country(client, headers, account, app_platform, submitted):
    cook = app_platform.prices.rate(0, "CK", "sms", "EUR")
    tokelau = app_platform.prices.rate(0, "TK", "sms", "EUR")
    r = await client.post(SEND, json=sms(COOK, "+6907290"), headers=headers)
    assert r.status_code == 200, r.text
    legacy = (await client.post(LEGACY_CREATE, json=phone_body(msisdn="50051234"), headers=headers)).json()
    assert legacy["result"]["error"] == 0, legacy
    rows = await rows_of(app_platform, account[0])
    assert [(row.phone, row.country, row.price) for row in rows] == [
        (COOK, "CK", cook),
        (6907290, "TK", tokelau),
        (50051234, "FK", app_platform.prices.rate(0, "FK", "sms", "EUR")),
    ]
    await wait_until(lambda: _async(sorted(s.phone for s in submitted) == [6907290, 50051234, COOK]))


async def test_a_short_number_without_a_price_is_direction_not_allowed(client, headers, account, app_platform):
    forbid_direction(app_platform, "CK")
    r = await client.post(SEND, json=sms(DELIVERED, COOK), headers=headers)
    assert r.status_code == 422, r.text
    assert set(r.json()["errors"]) == {"phones.1.number"}
    legacy = (await client.post(LEGACY_CREATE, json=phone_body(msisdn=str(COOK)), headers=headers)).json()
    assert legacy["result"]["error"] == 33
    assert await rows_of(app_platform, account[0]) == []


@pytest.mark.parametrize(
    "number",
    [
        "+3800971230011999",  # trunk prefix dropped: 13 digits, too long for Ukraine
        "6827123",  # Cook Islands, a digit short
        "+0380971230011",  # no calling code starts with 0
        "80012345678",  # +800: in no country
    ],
)
async def test_impossible_numbers_are_invalid_in_both_families(client, headers, account, app_platform, number):
    r = await client.post(SEND, json=sms(number), headers=headers)
    assert r.status_code == 422 and set(r.json()["errors"]) == {"phones.0.number"}, r.text
    r = await client.post(SINGLE, json=single(number), headers=headers)
    assert r.status_code == 422 and set(r.json()["errors"]) == {"phone.number"}, r.text
    legacy = (await client.post(LEGACY_CREATE, json=phone_body(msisdn=number), headers=headers)).json()
    assert legacy["result"]["error"] == 21
    assert await rows_of(app_platform, account[0]) == []
