"""Bad input on the One API gets its documented answer (CONTRACT.md), never a 500,
and a refused request writes nothing and charges nothing.

ASGI, no network: one app per backend for the module, a new account for every test
(tests/shared_app.py); what a test checks is its own account's.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import orjson
import pytest
from sqlalchemy import and_, delete, func, select

from relaybox.config import Settings
from relaybox.store.pricing import load_price_book
from relaybox.store.tables import accounts, campaigns, messages, rates
from tests.factories import TEST_JWT_SECRET, DELIVERED, extra_key, make_account
from tests.shared_app import account, app, app_platform, client, database_url, headers, rates_removed, settings  # noqa: F401

#: The body limit of this module's app: small enough to test cheaply, large
#: enough for a 10,001-phone body to reach the schema check.
MAX_BODY = 1024 * 1024

SEND = "/api/campaigns/sms/send"
INDIVIDUAL = "/api/campaigns/sms/send-individual"
PRICE = "/api/campaigns/price"
SINGLE = "/api/messages/send"
INVALID = "The given data was invalid."



pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def settings_overrides() -> dict:
    return {"max_body_bytes": MAX_BODY}


# -- helpers -------------------------------------------------------------------


async def snapshot(platform, account_id: int) -> tuple[int, int, int]:
    """(campaigns, messages, balance units) of one account."""
    async with platform.db.read() as conn:
        n_campaigns = (
            await conn.execute(select(func.count()).select_from(campaigns).where(campaigns.c.account_id == account_id))
        ).scalar_one()
        n_messages = (
            await conn.execute(select(func.count()).select_from(messages).where(messages.c.account_id == account_id))
        ).scalar_one()
        balance = (await conn.execute(select(accounts.c.balance).where(accounts.c.id == account_id))).scalar_one()
    return n_campaigns, n_messages, balance


async def post_rejected(client, platform, account_id, path, body, headers, *, status=422, fields=None, raw=None):
    """POST a request that must be refused; check the envelope and that nothing changed."""
    before = await snapshot(platform, account_id)
    if raw is not None:
        r = await client.post(path, content=raw, headers={**headers, "Content-Type": "application/json"})
    else:
        r = await client.post(path, json=body, headers=headers)
    assert r.status_code == status, r.text
    payload = r.json()
    if status == 422:
        assert payload["message"] == INVALID
        assert isinstance(payload["errors"], dict)
        assert all(isinstance(v, list) and v and all(isinstance(s, str) for s in v) for v in payload["errors"].values())
        if fields is not None:
            assert set(payload["errors"]) == set(fields), payload
    assert await snapshot(platform, account_id) == before
    return payload


def sms(phones, *, text="Hello", sender="relaybox", **extra) -> dict:
    return {"sender": sender, "text": text, "phones": [p if isinstance(p, dict) else {"number": p} for p in phones], **extra}


def individual(*items, **extra) -> dict:
    messages_ = [{"phone": DELIVERED, "text": "Hello", "sender": "relaybox", **item} for item in items]
    return {"messages": messages_, **extra}


def single(number=str(DELIVERED), *, text="Hello", sender="relaybox", **extra) -> dict:
    return {"channels": ["sms"], "phone": {"number": number}, "sms": {"sender": sender, "text": text}, **extra}


def fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


# -- phones --------------------------------------------------------------------


@pytest.mark.parametrize(
    "phones, fields",
    [
        ([38097123], ["phones.0.number"]),  # 8 digits: too short
        ([DELIVERED, 3809712300111234], ["phones.1.number"]),  # 16 digits: too long
        (["38097abc0011"], ["phones.0.number"]),  # letters
        (["+38097123 0011"], ["phones.0.number"]),  # a space
        ([3809712300], ["phones.0.number"]),  # 10 digits: not a possible Ukrainian number
        ([999123456789], ["phones.0.number"]),  # +999 is no country calling code
        ([0], ["phones.0.number"]),
        ([-380971230011], ["phones.0.number"]),
        ([True], ["phones.0.number"]),
        ([DELIVERED, 380971230012, DELIVERED], ["phones.2.number"]),  # repeated
        ([DELIVERED, str(DELIVERED)], ["phones.1.number"]),  # repeated, once as a string
        ([DELIVERED, "+380971230011"], ["phones.1.number"]),  # repeated, with a plus
    ],
)
async def test_invalid_phone(client, app_platform, account, headers, phones, fields):
    await post_rejected(client, app_platform, account[0], SEND, sms(phones), headers, fields=fields)


async def test_every_bad_phone_is_reported_at_once(client, app_platform, account, headers):
    body = sms([DELIVERED, 123, 380971230012, "x", DELIVERED])
    payload = await post_rejected(client, app_platform, account[0], SEND, body, headers)
    assert set(payload["errors"]) == {"phones.1.number", "phones.3.number", "phones.4.number"}


async def test_phone_as_digit_string_and_with_plus_is_accepted(client, headers):
    r = await client.post(SEND, json=sms(["380971230011", "+380971230012"]), headers=headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "path, body, fields",
    [
        (INDIVIDUAL, individual({"phone": 12345}), ["messages.0.phone"]),
        (INDIVIDUAL, individual({}, {"phone": DELIVERED, "text": "Other"}), ["messages.1.phone"]),
        (PRICE, {"sender": "relaybox", "text": "Hi", "messages": [{"phone": 12345}]}, ["messages.0.phone"]),
        (SINGLE, single("12345"), ["phone.number"]),
        (SINGLE, single("38097123001a"), ["phone.number"]),
    ],
)
async def test_invalid_phone_on_other_endpoints(client, app_platform, account, headers, path, body, fields):
    await post_rejected(client, app_platform, account[0], path, body, headers, fields=fields)


# -- sender --------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        "ABCDEFGHIJKL",  # 12 characters: alphanumeric senders end at 11
        "AB",  # too short
        "Sen!der",  # "!" is not allowed
        "Отправитель",  # not Latin
        "1234567890123456",  # numeric senders end at 15 digits
        "12",
        "",
        123456,  # a number, not a string
        None,
    ],
)
async def test_bad_sender(client, app_platform, account, headers, sender):
    await post_rejected(client, app_platform, account[0], SEND, sms([DELIVERED], sender=sender), headers, fields=["sender"])


@pytest.mark.parametrize("sender", ["ABCDEFGHIJK", "A b.c-d_e&f", "abc", "123456789012345", "123"])
async def test_good_sender(client, headers, sender):
    r = await client.post(SEND, json=sms([DELIVERED], sender=sender), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["sender"] == sender


async def test_bad_sender_paths(client, app_platform, account, headers):
    await post_rejected(
        client, app_platform, account[0], INDIVIDUAL, individual({}, {"phone": 380971230012, "sender": "x!"}), headers,
        fields=["messages.1.sender"],
    )
    await post_rejected(client, app_platform, account[0], SINGLE, single(sender="ABCDEFGHIJKL"), headers, fields=["sms.sender"])
    await post_rejected(
        client, app_platform, account[0], PRICE, {"sender": "x", "text": "Hi", "messages": [{"phone": DELIVERED}]}, headers,
        fields=["sender"],
    )


# -- text ----------------------------------------------------------------------

GSM_MAX = "a" * 765
GSM_EXT_MAX = ("a" + "€" * 76) * 5  # 5 parts of 1 + 76 × 2 = 153 septets: 765
UCS2_MAX = "я" * 355
EMOJI_MAX = "😀" * 177 + "я"  # 177 × 2 + 1 = 355 UTF-16 units


@pytest.mark.parametrize(
    "text, parts",
    [(GSM_MAX, 5), (GSM_EXT_MAX, 5), (UCS2_MAX, 6), (EMOJI_MAX, 6),
     # 765 septets, but a two-septet character is never split between parts: 6 parts
     ("€" * 382 + "a", 6), ("a" * 160, 1), ("a" * 161, 2), ("я" * 70, 1), ("я" * 71, 2)],
)
async def test_text_at_the_limit_is_accepted(client, headers, text, parts):
    r = await client.post(SEND, json=sms([DELIVERED], text=text), headers=headers)
    assert r.status_code == 200, r.text
    # 0.035 EUR a part to Ukraine on the default tariff
    assert r.json()["data"]["calculated_price"] == pytest.approx(0.035 * parts)


@pytest.mark.parametrize(
    "text",
    [
        "",
        GSM_MAX + "a",  # 766 septets
        "€" * 383,  # 766 septets from 383 characters
        UCS2_MAX + "я",  # 356 units
        "😀" * 178,  # 356 UTF-16 units from 178 characters
        "a" * 700 + "я",  # one Cyrillic letter makes the whole text UCS-2: 701 units
        None,
        123,
        ["Hello"],
    ],
)
async def test_bad_text(client, app_platform, account, headers, text):
    await post_rejected(client, app_platform, account[0], SEND, sms([DELIVERED], text=text), headers, fields=["text"])


async def test_bad_text_paths(client, app_platform, account, headers):
    await post_rejected(
        client, app_platform, account[0], INDIVIDUAL, individual({}, {"phone": 380971230012, "text": ""}), headers,
        fields=["messages.1.text"],
    )
    await post_rejected(client, app_platform, account[0], SINGLE, single(text="я" * 356), headers, fields=["sms.text"])
    await post_rejected(
        client, app_platform, account[0], PRICE, {"sender": "relaybox", "text": "", "messages": [{"phone": DELIVERED}]},
        headers, fields=["text"],
    )


async def test_transliterate_makes_a_long_cyrillic_text_fit(client, app_platform, account, headers):
    text = "Привет мир " * 40  # 440 characters: 440 UCS-2 units, too long as it is
    await post_rejected(client, app_platform, account[0], SEND, sms([DELIVERED], text=text), headers, fields=["text"])
    r = await client.post(SEND, json=sms([DELIVERED], text=text, transliterate=True), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["calculated_price"] == pytest.approx(0.035 * 3)  # 440 septets: 3 parts
    listed = (await client.get("/api/messages", headers=headers)).json()["data"]
    assert listed[0]["text"].startswith("Privet mir Privet mir")
    assert listed[0]["parts"] == 3

    r = await client.post(
        INDIVIDUAL, json=individual({"phone": 380971230012, "text": text, "transliterate": True}), headers=headers
    )
    assert r.status_code == 200, r.text
    r = await client.post(SINGLE, json={**single(text=text), "sms": {"sender": "relaybox", "text": text, "transliterate": True}},
                          headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["amount"]["value"] == "0.1050000"


# -- reference -----------------------------------------------------------------


@pytest.mark.parametrize("reference", ["bad ref", "ref!", "référence", "a" * 33, "", 12345])
async def test_bad_reference(client, app_platform, account, headers, reference):
    body = sms([{"number": DELIVERED, "reference_id": reference}])
    if reference == "":
        # An empty reference is no reference (BSG sends "" for "none").
        r = await client.post(SEND, json=body, headers=headers)
        assert r.status_code == 200, r.text
        return
    await post_rejected(client, app_platform, account[0], SEND, body, headers, fields=["phones.0.reference_id"])


@pytest.mark.parametrize("reference", ["a" * 32, "A1", "with_under-score", "f2d37bf77f6242daa83f23b0cc84b627"])
async def test_good_reference(client, headers, reference):
    r = await client.post(SEND, json=sms([{"number": DELIVERED, "reference_id": reference}]), headers=headers)
    assert r.status_code == 200, r.text
    found = await client.get("/api/messages", params={"filter[reference_id]": reference}, headers=headers)
    assert [m["reference_id"] for m in found.json()["data"]] == [reference]


async def test_duplicate_reference_in_one_request(client, app_platform, account, headers):
    body = sms([{"number": DELIVERED, "reference_id": "ref1"}, {"number": 380971230012, "reference_id": "ref1"}])
    await post_rejected(client, app_platform, account[0], SEND, body, headers, fields=["phones.1.reference_id"])
    body = individual({"reference_id": "ref2"}, {"phone": 380971230012, "reference_id": "ref2"})
    await post_rejected(client, app_platform, account[0], INDIVIDUAL, body, headers, fields=["messages.1.reference_id"])


async def test_duplicate_reference_against_an_existing_message(client, app_platform, account, headers):
    r = await client.post(SEND, json=sms([{"number": DELIVERED, "reference_id": "taken"}]), headers=headers)
    assert r.status_code == 200, r.text
    body = sms([{"number": 380971230012, "reference_id": "free"}, {"number": 380971230013, "reference_id": "taken"}],
               text="Again")
    await post_rejected(client, app_platform, account[0], SEND, body, headers, fields=["phones.1.reference_id"])
    await post_rejected(
        client, app_platform, account[0], INDIVIDUAL, individual({"reference_id": "taken"}), headers,
        fields=["messages.0.reference_id"],
    )
    body = {"channels": ["sms"], "phone": {"number": "380971230014", "reference_id": "taken"},
            "sms": {"sender": "relaybox", "text": "Hi"}}
    await post_rejected(client, app_platform, account[0], SINGLE, body, headers, fields=["phone.reference_id"])
    # "free" was not taken by the refused request
    r = await client.post(SEND, json=sms([{"number": 380971230012, "reference_id": "free"}], text="Third"), headers=headers)
    assert r.status_code == 200, r.text


async def test_references_are_per_account(client, app_platform, headers):
    other_id, other_key = await make_account(app_platform, name="other")
    for h in (headers, {"X-API-KEY": other_key}):
        r = await client.post(SEND, json=sms([{"number": DELIVERED, "reference_id": "same"}]), headers=h)
        assert r.status_code == 200, r.text


# -- validity, start_at, tariff ------------------------------------------------


@pytest.mark.parametrize("validity", [0, 73, -1, "x", "", 1.5, [1], {"h": 1}])
async def test_bad_validity(client, app_platform, account, headers, validity):
    await post_rejected(client, app_platform, account[0], SEND, sms([DELIVERED], validity=validity), headers,
                        fields=["validity"])


@pytest.mark.parametrize("validity", [1, 72, "24"])
async def test_good_validity(client, headers, validity):
    r = await client.post(SEND, json=sms([DELIVERED], validity=validity), headers=headers)
    assert r.status_code == 200, r.text
    listed = (await client.get("/api/messages", headers=headers)).json()["data"]
    assert listed[0]["validity"] == int(validity)


async def test_bad_validity_on_other_endpoints(client, app_platform, account, headers):
    await post_rejected(client, app_platform, account[0], INDIVIDUAL, individual({}, validity=0), headers, fields=["validity"])
    await post_rejected(client, app_platform, account[0], SINGLE, single(validity=73), headers, fields=["validity"])


@pytest.mark.parametrize(
    "start_at",
    [
        "garbage", "2025-13-01 00:00:00", "2025-02-30 10:00:00", "tomorrow", 12345, ["2030-01-01 00:00:00"],
        # the ends of the calendar: converting the offset would overflow
        "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
    ],
)
async def test_bad_start_at(client, app_platform, account, headers, start_at):
    await post_rejected(client, app_platform, account[0], SEND, sms([DELIVERED], start_at=start_at), headers,
                        fields=["start_at"])


async def test_start_at_more_than_30_days_ahead(client, app_platform, account, headers):
    now = datetime.now(UTC)
    late = now + timedelta(days=31)
    await post_rejected(client, app_platform, account[0], SEND, sms([DELIVERED], start_at=fmt(late)), headers,
                        fields=["start_at"])
    await post_rejected(client, app_platform, account[0], INDIVIDUAL, individual({}, start_at=int(late.timestamp())),
                        headers, fields=["start_at"])
    await post_rejected(client, app_platform, account[0], INDIVIDUAL, individual({}, start_at=-5), headers,
                        fields=["start_at"])
    # 29 days is fine, in either format, and the campaign waits
    r = await client.post(SEND, json=sms([DELIVERED], start_at=(now + timedelta(days=29)).isoformat()), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "scheduled"


async def test_start_at_formats(client, headers):
    now = datetime.now(UTC).replace(microsecond=0)
    at = now + timedelta(days=2)
    # The official client sends isoformat(); BSG shows "YYYY-MM-DD HH:MM:SS"; an offset is converted to UTC.
    for i, value in enumerate([fmt(at), at.isoformat(), at.strftime("%Y-%m-%dT%H:%M:%S.%f+0000"),
                               (at + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"), fmt(at) + "Z"]):
        r = await client.post(SEND, json=sms([DELIVERED], text=f"format {i}", start_at=value), headers=headers)
        assert r.status_code == 200, (value, r.text)
        assert r.json()["data"]["start_at"] == fmt(at), value
        assert r.json()["data"]["status"] == "scheduled"
    # An integer start_at on send-individual (the spec types it so) is a Unix time.
    r = await client.post(INDIVIDUAL, json=individual({}, start_at=int(at.timestamp())), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["start_at"] == fmt(at)
    assert r.json()["data"]["status"] == "scheduled"
    # A time in the past means "now"; the official client sends start_at=72 (its default) on send-individual.
    r = await client.post(INDIVIDUAL, json=individual({"phone": 380971230012}, start_at=72), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "sending"


@pytest.mark.parametrize("tariff", [99, -1, 10, "x", 1.5])
async def test_invalid_tariff_code(client, app_platform, account, headers, tariff):
    await post_rejected(client, app_platform, account[0], SEND, sms([DELIVERED], tariff_code=tariff), headers,
                        fields=["tariff_code"])


async def test_invalid_tariff_code_paths(client, app_platform, account, headers):
    await post_rejected(client, app_platform, account[0], INDIVIDUAL, individual({"tariff_code": 99}), headers,
                        fields=["messages.0.tariff_code"])
    await post_rejected(client, app_platform, account[0], INDIVIDUAL, individual({}, tariff_code=99), headers,
                        fields=["tariff_code"])
    await post_rejected(client, app_platform, account[0], SINGLE, single(tariff_code=99), headers, fields=["tariff_code"])
    await post_rejected(
        client, app_platform, account[0], PRICE,
        {"sender": "relaybox", "text": "Hi", "messages": [{"phone": DELIVERED}], "tariff_code": 99}, headers,
        fields=["tariff_code"],
    )


async def test_other_tariff_changes_the_price(client, headers):
    r = await client.post(PRICE, json={"sender": "relaybox", "text": "Hi", "messages": [{"phone": DELIVERED}],
                                       "tariff_code": 1}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"price": pytest.approx(0.035 * 1.25), "currency": "EUR"}


async def test_direction_not_allowed(client, app_platform, account, headers):
    # Every region of the shipped price list has a price: take Ukraine's away.
    async with rates_removed(app_platform, rates.c.country == "UA", rates.c.channel == "sms", rates.c.tariff_code == 0):
        await post_rejected(client, app_platform, account[0], SEND, sms([4915123456789, DELIVERED]), headers,
                            fields=["phones.1.number"])
        await post_rejected(client, app_platform, account[0], SINGLE, single(), headers, fields=["phone.number"])
        await post_rejected(client, app_platform, account[0], PRICE,
                            {"sender": "relaybox", "text": "Hi", "messages": [{"phone": DELIVERED}]}, headers,
                            fields=["messages.0.phone"])
        # another tariff still has a price for it
        r = await client.post(SEND, json=sms([DELIVERED], tariff_code=1), headers=headers)
        assert r.status_code == 200, r.text


# -- money ---------------------------------------------------------------------


async def test_not_enough_money(client, app_platform):
    account_id, key = await make_account(app_platform, balance="0.06")
    h = {"X-API-KEY": key}
    body = sms([DELIVERED, 380971230012])  # 2 × 0.035 > 0.06
    before = await snapshot(app_platform, account_id)
    r = await client.post(SEND, json=body, headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["message"] == "Not enough money"
    assert await snapshot(app_platform, account_id) == before
    r = await client.post(INDIVIDUAL, json=individual({}, {"phone": 380971230012}), headers=h)
    assert r.status_code == 422 and r.json()["message"] == "Not enough money"
    assert await snapshot(app_platform, account_id) == before
    balance = (await client.get("/api/accounts/balance", headers=h)).json()["data"]
    assert balance == {"balance": 0.06, "currency": "EUR", "credit": 0.0}
    # one message fits
    r = await client.post(SEND, json=sms([DELIVERED], text="one"), headers=h)
    assert r.status_code == 200, r.text
    assert (await snapshot(app_platform, account_id))[2] == 250_000  # 0.025 left


async def test_credit_limit_lets_the_balance_go_negative(client, app_platform):
    account_id, key = await make_account(app_platform, balance="0", credit="0.05")
    r = await client.post(SEND, json=sms([DELIVERED]), headers={"X-API-KEY": key})
    assert r.status_code == 200, r.text
    assert (await snapshot(app_platform, account_id))[2] == -350_000
    r = await client.post(SEND, json=sms([DELIVERED], text="second"), headers={"X-API-KEY": key})
    assert r.status_code == 422 and r.json()["message"] == "Not enough money"


async def test_test_keys_are_never_charged(client, app_platform):
    account_id, _ = await make_account(app_platform, balance="0")
    h = {"X-API-KEY": await extra_key(app_platform, account_id, "test")}
    r = await client.post(SEND, json=sms([DELIVERED, 380971230012]), headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["calculated_price"] == pytest.approx(0.07)  # prices are still shown
    r = await client.post(SINGLE, json=single("380971230013"), headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["amount"] == {"value": "0.0350000", "currency": "EUR"}
    n_campaigns, n_messages, balance = await snapshot(app_platform, account_id)
    assert (n_campaigns, n_messages, balance) == (1, 3, 0)
    # via a JWT issued for the test key as well
    token = (await client.post("/api/auth/login", json={"api_key": h["X-API-KEY"]})).json()["bearer"]
    r = await client.post(SEND, json=sms([DELIVERED], text="jwt"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert (await snapshot(app_platform, account_id))[2] == 0
    async with app_platform.db.read() as conn:
        flags = (await conn.execute(select(messages.c.is_test).where(messages.c.account_id == account_id))).scalars().all()
    assert flags and all(flags)


# -- malformed bodies ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b"", b"   ", b"[]", b"[1, 2]", b"null", b"42", b'"text"', b'{"phones": [1,]}',
"{\"text\": \"\xff\"}".encode("latin-1")],
)
async def test_malformed_json(client, app_platform, account, headers, raw):
    for path in (SEND, INDIVIDUAL, PRICE, SINGLE):
        await post_rejected(client, app_platform, account[0], path, None, headers, raw=raw, fields=["body"])


@pytest.mark.parametrize(
    "body, fields",
    [
        (sms([DELIVERED]) | {"phones": "380971230011"}, ["phones"]),
        (sms([DELIVERED]) | {"phones": {"number": DELIVERED}}, ["phones"]),
        (sms([DELIVERED]) | {"phones": []}, ["phones"]),
        (sms([DELIVERED]) | {"phones": [None]}, ["phones.0"]),
        (sms([DELIVERED]) | {"phones": [DELIVERED]}, ["phones.0"]),
        (sms([{"number": None}]), ["phones.0.number"]),
        (sms([{"number": [DELIVERED]}]), ["phones.0.number"]),
        (sms([{"number": 380971230011.5}]), ["phones.0.number"]),
        (sms([{"number": 123456789012345678901234567890}]), ["phones.0.number"]),
        (sms([{"reference_id": "x"}]), ["phones.0.number"]),
        ({"text": "Hello", "phones": [{"number": DELIVERED}]}, ["sender"]),
        ({"sender": "relaybox", "phones": [{"number": DELIVERED}]}, ["text"]),
        ({"sender": "relaybox", "text": "Hello"}, ["phones"]),
        (sms([DELIVERED], transliterate="maybe"), ["transliterate"]),
        (sms([DELIVERED], callback_url=123), ["callback_url"]),
        (sms([DELIVERED], callback_url="https://example.com/" + "x" * 500), ["callback_url"]),
    ],
)
async def test_wrong_types(client, app_platform, account, headers, body, fields):
    await post_rejected(client, app_platform, account[0], SEND, body, headers, fields=fields)


@pytest.mark.parametrize(
    "path, body, fields",
    [
        (INDIVIDUAL, {"messages": []}, ["messages"]),
        (INDIVIDUAL, {"messages": "x"}, ["messages"]),
        (INDIVIDUAL, {}, ["messages"]),
        (INDIVIDUAL, individual({"phone": None}), ["messages.0.phone"]),
        (INDIVIDUAL, individual({"transliterate": "x"}), ["messages.0.transliterate"]),
        (INDIVIDUAL, individual({}, start_at=[1]), ["start_at"]),
        (PRICE, {"text": "Hi", "messages": [{"phone": DELIVERED}]}, ["sender"]),
        (PRICE, {"sender": "relaybox", "text": "Hi", "messages": "x"}, ["messages"]),
        (SINGLE, {"phone": {"number": str(DELIVERED)}, "sms": {"sender": "relaybox", "text": "Hi"}}, ["channels"]),
        (SINGLE, single() | {"channels": []}, ["channels"]),
        (SINGLE, single() | {"channels": ["viber"]}, ["channels"]),
        (SINGLE, single() | {"channels": ["sms", "rcs"]}, ["channels"]),
        (SINGLE, single() | {"channels": "sms"}, ["channels"]),
        (SINGLE, single() | {"sms": None}, ["sms"]),
        (SINGLE, single() | {"phone": str(DELIVERED)}, ["phone"]),
    ],
)
async def test_wrong_types_on_other_endpoints(client, app_platform, account, headers, path, body, fields):
    await post_rejected(client, app_platform, account[0], path, body, headers, fields=fields)


async def test_unknown_fields_are_ignored(client, headers):
    body = sms([{"number": DELIVERED, "extra": 1}]) | {"foo": "bar", "nested": {"a": [1, 2]}, "check_stop_list": False,
                                                      "add_to_contact_book": True}
    r = await client.post(SEND, json=body, headers=headers)
    assert r.status_code == 200, r.text
    body = individual({"whatever": True}) | {"groups": [1, 2], "callback_url": None}
    r = await client.post(INDIVIDUAL, json=body, headers=headers)
    assert r.status_code == 200, r.text
    body = single("380971230012") | {"respect_curfew": True, "validity_seconds": 300, "check_stop_list": False,
                                     "add_to_contact_book": False, "viber": {"text": "x"}, "start_at": "x"}
    body["sms"] |= {"unsubscribe_caption": "Stop: ", "short_links": [{"link": "https://example.com"}]}
    r = await client.post(SINGLE, json=body, headers=headers)
    assert r.status_code == 200, r.text
    r = await client.post(PRICE, json={"sender": "relaybox", "text": "Hi", "messages": [{"phone": DELIVERED, "x": 1}],
                                       "y": 2}, headers=headers)
    assert r.status_code == 200, r.text


async def test_body_over_the_size_limit(client, app_platform, account, headers):
    big = orjson.dumps(sms([DELIVERED]) | {"padding": "x" * MAX_BODY})
    payload = await post_rejected(client, app_platform, account[0], SEND, None, headers, raw=big, fields=["body"])
    assert payload["errors"]["body"] == ["The request body is too large."]

    # the same without a Content-Length: the body arrives in chunks
    async def chunks():
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    before = await snapshot(app_platform, account[0])
    r = await client.post(SEND, content=chunks(), headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == {"body": ["The request body is too large."]}
    assert await snapshot(app_platform, account[0]) == before


async def test_too_many_phones(client, app_platform, account, headers):
    phones = [{"number": 380970000000 + i} for i in range(10_001)]
    body = {"sender": "relaybox", "text": "Hi", "phones": phones}
    assert len(orjson.dumps(body)) < MAX_BODY
    await post_rejected(client, app_platform, account[0], SEND, body, headers, fields=["phones"])
    body = {"messages": [{"phone": 380970000000 + i, "text": "Hi", "sender": "relaybox"} for i in range(10_001)]}
    await post_rejected(client, app_platform, account[0], INDIVIDUAL, body, headers, fields=["messages"])
    body = {"sender": "relaybox", "text": "Hi", "messages": [{"phone": 380970000000 + i} for i in range(10_001)]}
    await post_rejected(client, app_platform, account[0], PRICE, body, headers, fields=["messages"])
    # 10,000 is the limit, not over it: price them (nothing is written)
    body["messages"] = body["messages"][:10_000]
    r = await client.post(PRICE, json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["price"] == pytest.approx(350.0)


# -- other accounts' ids -------------------------------------------------------


async def test_another_accounts_campaign_and_message_are_not_found(client, app_platform, headers):
    other_id, other_key = await make_account(app_platform, name="other")
    other = {"X-API-KEY": other_key}
    start_at = fmt(datetime.now(UTC) + timedelta(days=1))
    r = await client.post(SEND, json=sms([DELIVERED], start_at=start_at), headers=other)
    assert r.status_code == 200, r.text
    campaign_id = r.json()["data"]["id"]
    message_id = (await client.get("/api/messages", headers=other)).json()["data"][0]["id"]

    for path in (f"/api/campaigns/{campaign_id}", f"/api/campaigns/{campaign_id}/detail"):
        r = await client.get(path, headers=headers)
        assert (r.status_code, r.json()) == (404, {"message": "Not found"})
    r = await client.patch(f"/api/campaigns/{campaign_id}/stop", headers=headers)
    assert (r.status_code, r.json()) == (404, {"message": "Not found"})
    # still scheduled for its owner
    assert (await client.get(f"/api/campaigns/{campaign_id}", headers=other)).json()["data"]["status"] == "scheduled"

    for params in ({"filter[id]": message_id}, {"filter[campaign_id]": campaign_id}, {"filter[reference_id]": "x"}):
        r = await client.get("/api/messages", params=params, headers=headers)
        assert r.status_code == 200
        assert r.json() == {"data": [], "meta": {"page": {"total": 0, "offset": 0, "limit": 50}}}
    assert (await client.get("/api/campaigns", headers=headers)).json()["data"] == []

    for path in ("/api/campaigns/0", "/api/campaigns/999999", "/api/campaigns/abc/detail",
                 "/api/campaigns/99999999999999999999999", "/api/campaigns/-1"):
        r = await client.get(path, headers=headers)
        assert (r.status_code, r.json()) == (404, {"message": "Not found"}), path
    r = await client.patch("/api/campaigns/999999/stop", headers=headers)
    assert r.status_code == 404


# -- list filters --------------------------------------------------------------


@pytest.mark.parametrize(
    "params, fields",
    [
        ({"filter[to]": "future"}, ["filter.to"]),
        ({"filter[from]": "2025-02-30 00:00:00"}, ["filter.from"]),
        ({"page[limit]": 14}, ["page.limit"]),
        ({"page[limit]": 501}, ["page.limit"]),
        ({"page[limit]": "x"}, ["page.limit"]),
        ({"page[offset]": -1}, ["page.offset"]),
        ({"page[offset]": "x"}, ["page.offset"]),
        ({"sort": "created"}, ["sort"]),
        ({"sort": "sender"}, ["sort"]),
        ({"way": "up"}, ["way"]),
        ({"filter[id]": 0}, ["filter.id"]),
        ({"filter[id]": "x"}, ["filter.id"]),
        ({"filter[campaign_id]": "x"}, ["filter.campaign_id"]),
        ({"filter[id]": str(10**20)}, ["filter.id"]),  # beyond 64 bits
        ({"page[offset]": str(10**20)}, ["page.offset"]),
        ({"filter[to]": "0001-01-01 00:00:00"}, ["filter.to"]),  # `from` would be 3 months before year 1
        ({"filter[from]": "0001-01-01T00:00:00+01:00"}, ["filter.from"]),
        ({"page[limit]": 501, "sort": "x", "way": "x"}, ["page.limit", "sort", "way"]),
    ],
)
async def test_messages_list_bad_parameters(client, headers, params, fields):
    r = await client.get("/api/messages", params=params, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["message"] == INVALID
    assert set(r.json()["errors"]) == set(fields)


async def test_messages_list_date_rules(client, headers):
    now = datetime.now(UTC)
    bad = [
        ({"filter[to]": fmt(now + timedelta(hours=1))}, "filter.to"),  # no future `to`
        ({"filter[from]": fmt(now - timedelta(days=100)), "filter[to]": fmt(now)}, "filter.from"),  # over 3 months
        ({"filter[from]": fmt(now - timedelta(days=100))}, "filter.from"),  # `to` defaults to now
        ({"filter[from]": fmt(now), "filter[to]": fmt(now - timedelta(days=1))}, "filter.from"),  # from after to
    ]
    for params, field in bad:
        r = await client.get("/api/messages", params=params, headers=headers)
        assert r.status_code == 422, (params, r.text)
        assert list(r.json()["errors"]) == [field], params
    good = [
        {},
        {"filter[from]": fmt(now - timedelta(days=89)), "filter[to]": fmt(now)},
        {"filter[to]": fmt(now - timedelta(days=200))},  # from defaults to `to` − 3 months
        {"filter[from]": (now - timedelta(days=1)).isoformat(), "filter[to]": now.isoformat()},
        {"filter[to]": now.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},  # what the official client sends
        {"page[limit]": 15}, {"page[limit]": 500}, {"sort": "phone", "way": "desc"}, {"sort": "delivered"},
        {"filter[reference_id]": "x" * 100},
    ]
    for params in good:
        r = await client.get("/api/messages", params=params, headers=headers)
        assert r.status_code == 200, (params, r.text)


@pytest.mark.parametrize(
    "params, fields",
    [
        ({"page[limit]": 29}, ["page.limit"]),
        ({"page[limit]": 501}, ["page.limit"]),
        ({"page[limit]": 15}, ["page.limit"]),
        ({"sort": "phone"}, ["sort"]),
        ({"way": "sideways"}, ["way"]),
        ({"filter[type]": "fax"}, ["filter.type"]),
        ({"search[field]": "text", "search[value]": "x"}, ["search.field"]),
        ({"filter[from]": "nope"}, ["filter.from"]),
        ({"filter[to]": "9999-12-31T23:59:59-01:00"}, ["filter.to"]),
        ({"page[offset]": str(10**20)}, ["page.offset"]),
    ],
)
async def test_campaign_list_bad_parameters(client, headers, params, fields):
    r = await client.get("/api/campaigns", params=params, headers=headers)
    assert r.status_code == 422, r.text
    assert set(r.json()["errors"]) == set(fields)


async def test_campaign_list_limits_and_dates(client, headers):
    now = datetime.now(UTC)
    for limit in (30, 50, 500):
        r = await client.get("/api/campaigns", params={"page[limit]": limit}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["meta"]["page"]["limit"] == limit
    # `to` may be up to 30 days ahead (scheduled campaigns), not further
    r = await client.get("/api/campaigns", params={"filter[to]": fmt(now + timedelta(days=29))}, headers=headers)
    assert r.status_code == 200, r.text
    r = await client.get("/api/campaigns", params={"filter[to]": fmt(now + timedelta(days=31))}, headers=headers)
    assert r.status_code == 422 and list(r.json()["errors"]) == ["filter.to"]
    r = await client.get("/api/campaigns", params={"filter[from]": fmt(now - timedelta(days=120))}, headers=headers)
    assert r.status_code == 422 and list(r.json()["errors"]) == ["filter.from"]
    for sort in ("id", "sender", "type", "date", "status"):
        for way in ("asc", "desc"):
            r = await client.get("/api/campaigns", params={"sort": sort, "way": way}, headers=headers)
            assert r.status_code == 200, r.text


async def test_tariff_list_limits(client, headers):
    r = await client.get("/api/accounts/tariff", params={"page[limit]": 14}, headers=headers)
    assert r.status_code == 422 and list(r.json()["errors"]) == ["page.limit"]
    r = await client.get("/api/accounts/tariff", params={"page[limit]": 15, "page[offset]": 1}, headers=headers)
    assert r.status_code == 200
    assert [t["code"] for t in r.json()["data"]] == [1, 2] and r.json()["total"] == 3


# -- duplicate requests --------------------------------------------------------


async def test_same_body_within_10_seconds_is_429(client, app_platform, account, headers):
    body = sms([DELIVERED])
    r = await client.post(SEND, json=body, headers=headers)
    assert r.status_code == 200, r.text
    before = await snapshot(app_platform, account[0])
    r = await client.post(SEND, json=body, headers=headers)
    assert (r.status_code, r.json()) == (429, {"message": "Too many duplicate request detected"})
    assert await snapshot(app_platform, account[0]) == before
    # a different body is fine
    r = await client.post(SEND, json=sms([DELIVERED], text="Hello again"), headers=headers)
    assert r.status_code == 200, r.text
    # the same body on another endpoint, or by another account, is not a duplicate
    other_id, other_key = await make_account(app_platform, name="other")
    r = await client.post(SEND, json=body, headers={"X-API-KEY": other_key})
    assert r.status_code == 200, r.text
    price = {"sender": "relaybox", "text": "Hi", "messages": [{"phone": DELIVERED}]}
    assert (await client.post(PRICE, json=price, headers=headers)).status_code == 200
    assert (await client.post(PRICE, json=price, headers=headers)).status_code == 429
    one = single()
    assert (await client.post(SINGLE, json=one, headers=headers)).status_code == 200
    assert (await client.post(SINGLE, json=one, headers=headers)).status_code == 429
    ind = individual({"phone": 380971230012})
    assert (await client.post(INDIVIDUAL, json=ind, headers=headers)).status_code == 200
    assert (await client.post(INDIVIDUAL, json=ind, headers=headers)).status_code == 429


async def test_same_body_after_the_window_is_accepted(client, app_platform, headers):
    body = sms([DELIVERED])
    assert (await client.post(SEND, json=body, headers=headers)).status_code == 200
    real_clock = app_platform.clock
    app_platform.clock = lambda: real_clock() + timedelta(seconds=11)
    try:
        r = await client.post(SEND, json=body, headers=headers)
    finally:
        app_platform.clock = real_clock
    assert r.status_code == 200, r.text


# -- authentication ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"api_key": "live_" + "A" * 32},  # well-formed, unknown
        {"api_key": "test_" + "A" * 32},
        {"api_key": "nonsense"},
        {"api_key": ""},
        {"api_key": 123},
        {},
        {"key": "x"},
    ],
)
async def test_login_with_a_bad_key(client, body):
    r = await client.post("/api/auth/login", json=body)
    assert (r.status_code, r.json()) == (401, {"message": "Unauthenticated."})


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"null"])
async def test_login_with_a_malformed_body(client, raw):
    r = await client.post("/api/auth/login", content=raw, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()) == (401, {"message": "Unauthenticated."})


async def test_login_and_refresh(client, account):
    r = await client.post("/api/auth/login", json={"api_key": account[1]})
    assert r.status_code == 200 and set(r.json()) == {"bearer"}
    auth = {"Authorization": f"Bearer {r.json()['bearer']}"}
    assert (await client.get("/api/accounts/balance", headers=auth)).status_code == 200
    r = await client.post("/api/auth/refresh", headers=auth)
    assert r.status_code == 200
    assert (await client.get("/api/accounts/balance", headers={"Authorization": f"Bearer {r.json()['bearer']}"})).status_code == 200
    r = await client.post("/api/auth/refresh")
    assert (r.status_code, r.json()) == (401, {"message": "Unauthenticated."})


def _token(secret: str, **claims) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + 3600, **claims}, secret, algorithm="HS256")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer garbage",
        "Bearer ",
        "Bearer a.b.c",
        "Basic dXNlcjpwYXNz",
        "garbage",
        "Bearer live_" + "A" * 32,  # an unknown key as a bearer
    ],
)
async def test_bad_authorization_header(client, account, authorization):
    for method, path in (("GET", "/api/accounts/balance"), ("GET", "/api/messages"), ("POST", SEND),
                         ("GET", "/api/campaigns/1"), ("PATCH", "/api/campaigns/1/stop")):
        r = await client.request(method, path, headers={"Authorization": authorization},
                                 json=sms([DELIVERED]) if method == "POST" else None)
        assert (r.status_code, r.json()) == (401, {"message": "Unauthenticated."}), (method, path)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 forgery
async def test_expired_forged_and_foreign_tokens(app, client, app_platform, account):
    account_id = account[0]
    other_id, other_key = await make_account(app_platform)
    login = await client.post("/api/auth/login", json={"api_key": account[1]})
    real = jwt.decode(login.json()["bearer"], options={"verify_signature": False})
    kid, aud = real["kid"], real["aud"]
    other_kid = jwt.decode((await client.post("/api/auth/login", json={"api_key": other_key})).json()["bearer"],
                           options={"verify_signature": False})["kid"]
    assert aud == app.state.authenticator.audience and kid != other_kid
    now = int(time.time())
    mine = {"sub": str(account_id), "kid": kid, "aud": aud}
    tokens = [
        _token(TEST_JWT_SECRET, **mine, exp=now - 1),  # expired
        _token("another-secret-of-32-bytes-or-more-0000", **mine),  # not signed by us
        jwt.encode(mine, TEST_JWT_SECRET, algorithm="HS256"),  # no expiry
        _token(TEST_JWT_SECRET, **{**mine, "sub": "not-a-number"}),
        _token(TEST_JWT_SECRET, kid=kid, aud=aud),  # no subject
        _token(TEST_JWT_SECRET, sub=str(account_id)),  # issued by older code: no key id (nor audience)
        _token(TEST_JWT_SECRET, sub=str(account_id), aud=aud),  # no key id
        _token(TEST_JWT_SECRET, **{**mine, "kid": other_kid}),  # another account's key
        _token(TEST_JWT_SECRET, **{**mine, "kid": str(kid)}),  # key id of the wrong type
        _token(TEST_JWT_SECRET, **{**mine, "kid": True}),
        _token(TEST_JWT_SECRET, **{**mine, "kid": 2**70}),  # no such BIGINT
        _token(TEST_JWT_SECRET, **{**mine, "kid": -1}),
        _token(TEST_JWT_SECRET, **{**mine, "aud": "another-deployment"}),  # another deployment's token
        _token(TEST_JWT_SECRET, sub=str(account_id), kid=kid),  # no audience
        jwt.encode({**mine, "exp": now + 60}, TEST_JWT_SECRET, algorithm="HS512"),  # other algorithm
        jwt.encode({**mine, "exp": now + 60}, None, algorithm="none"),  # unsigned
    ]
    for token in tokens:
        r = await client.get("/api/accounts/balance", headers={"Authorization": f"Bearer {token}"})
        assert (r.status_code, r.json()) == (401, {"message": "Unauthenticated."}), token
        r = await client.post(SEND, json=sms([DELIVERED]), headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        r = await client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
    # a valid token still works
    good = _token(TEST_JWT_SECRET, **mine)
    assert (await client.get("/api/accounts/balance", headers={"Authorization": f"Bearer {good}"})).status_code == 200
    assert (await snapshot(app_platform, account_id))[:2] == (0, 0)


async def test_missing_or_bad_api_key_header(client, app_platform, account):
    for h in ({}, {"X-API-KEY": "live_" + "B" * 32}, {"X-API-KEY": "x"}, {"X-API-KEY": ""}):
        r = await client.post(SEND, json=sms([DELIVERED]), headers=h)
        assert (r.status_code, r.json()) == (401, {"message": "Unauthenticated."}), h
        r = await client.get("/api/campaigns", headers=h)
        assert r.status_code == 401
    assert await snapshot(app_platform, account[0]) == (0, 0, 100 * 10**7)


# -- a refused request writes nothing, whatever the reason ----------------------


async def test_mixed_errors_in_one_request_write_nothing(client, app_platform, account, headers):
    await client.post(SEND, json=sms([{"number": 380971230099, "reference_id": "old"}], text="first"), headers=headers)
    body = sms(
        [
            {"number": DELIVERED, "reference_id": "ok1"},
            {"number": 12, "reference_id": "ok2"},
            {"number": 380971230012, "reference_id": "old"},
        ],
        sender="x",
        validity=99,
    )
    payload = await post_rejected(client, app_platform, account[0], SEND, body, headers)
    assert set(payload["errors"]) == {"phones.1.number", "sender", "validity"}
    # the reference clash is found once the rest is valid
    body = sms([{"number": DELIVERED, "reference_id": "ok1"}, {"number": 380971230012, "reference_id": "old"}], text="x2")
    await post_rejected(client, app_platform, account[0], SEND, body, headers, fields=["phones.1.reference_id"])
    async with app_platform.db.read() as conn:
        refs = (await conn.execute(select(messages.c.reference_id).where(messages.c.account_id == account[0]))).scalars().all()
    assert refs == ["old"]


async def test_dry_run_writes_nothing(client, app_platform, account, headers):
    before = await snapshot(app_platform, account[0])
    r = await client.post(SINGLE, json=single(dry_run=True), headers=headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["amount"] == {"value": "0.0350000", "currency": "EUR"} and "id" not in data
    assert await snapshot(app_platform, account[0]) == before
    await post_rejected(client, app_platform, account[0], SINGLE, single(text="", dry_run=True), headers, fields=["sms.text"])
