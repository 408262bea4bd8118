"""Input no backend can store (NUL, lone UTF-16 surrogates) is refused with the field's error,
on every body field, query parameter and path parameter of both API families, on both backends.

PostgreSQL refuses NUL in text and in JSONB and cannot encode a lone surrogate as UTF-8;
SQLite would store a NUL: the rule is the same on both so that nothing depends on the backend.
A refused request stores nothing and charges nothing (docs/compatibility.md, "Input no backend
can store").  One app per backend for the module, a new account for every test (tests/shared_app.py).
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from relaybox.api.legacy.errors import DESCRIPTIONS
from relaybox.domain.timefmt import format_time, utcnow
from tests.factories import DELIVERED
from tests.integration.legacy_support import individual_body, phone_body, phones_body
from tests.integration.test_oneapi_validation import snapshot
from tests.shared_app import account, app, app_platform, client, database_url, headers, settings, settings_overrides  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")

INVALID = "The given data was invalid."
TOMORROW = format_time(utcnow() + timedelta(days=1))

#: The poison values: NUL, and a lone surrogate (a JSON escape no UTF-8 can carry; a lone low
#: surrogate and undecodable bytes are in `test_raw_bytes_and_keys`).
POISONS = {"nul": "\x00", "lone-surrogate": "\ud800"}


def poisoned(body: dict, path: str, poison: str) -> bytes:
    """`body` as JSON bytes with `poison` put into the value at `path` (dotted, list indexes as numbers)."""
    data = copy.deepcopy(body)
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key = int(leaf) if isinstance(node, list) else leaf
    value = node[key] if (isinstance(node, list) or key in node) else "x"
    text = str(value)
    node[key] = text[: len(text) // 2] + poison + text[len(text) // 2 :]
    return json.dumps(data, ensure_ascii=True).encode()  # \u0000 and \ud800 as JSON escapes


# -- One API bodies -------------------------------------------------------------------------

SINGLE = {"channels": ["sms"], "phone": {"number": str(DELIVERED), "reference_id": "ref1"},
          "sms": {"sender": "relaybox", "text": "Hello"}, "callback_url": "https://example.com/hook"}
CAMPAIGN = {"sender": "relaybox", "text": "Hello", "phones": [{"number": DELIVERED, "reference_id": "ref1"}],
            "callback_url": "https://example.com/hook", "start_at": TOMORROW}
INDIVIDUAL = {"messages": [{"phone": DELIVERED, "text": "Hello", "sender": "relaybox", "reference_id": "ref1"}],
              "callback_url": "https://example.com/hook"}
PRICE = {"sender": "relaybox", "text": "Hello", "messages": [{"phone": DELIVERED}]}
RCS_CAMPAIGN = {"phones": [{"number": DELIVERED, "reference_id": "ref1"}], "sender": "rcs_agent",
                "options": {"text": "Hello"}, "alternative_channel": {"sms": {"sender": "relaybox", "text": "Hi"}}}
RCS_SINGLE = {"phone": {"number": str(DELIVERED), "reference_id": "ref1"}, "sender": "rcs_agent",
              "options": {"text": "Hello"}}

ONEAPI_BODIES = [
    ("/api/messages/send", SINGLE, "sms.text"),
    ("/api/messages/send", SINGLE, "sms.sender"),
    ("/api/messages/send", SINGLE, "phone.number"),
    ("/api/messages/send", SINGLE, "phone.reference_id"),
    ("/api/messages/send", SINGLE, "callback_url"),
    ("/api/messages/send", SINGLE, "channels.0"),
    ("/api/messages/send", SINGLE, "sms.unsubscribe_caption"),  # accepted, not acted on
    ("/api/messages/send", SINGLE, "note"),  # unknown: ignored, but not when it cannot be stored
    ("/api/campaigns/sms/send", CAMPAIGN, "text"),
    ("/api/campaigns/sms/send", CAMPAIGN, "sender"),
    ("/api/campaigns/sms/send", CAMPAIGN, "phones.0.number"),
    ("/api/campaigns/sms/send", CAMPAIGN, "phones.0.reference_id"),
    ("/api/campaigns/sms/send", CAMPAIGN, "callback_url"),
    ("/api/campaigns/sms/send", CAMPAIGN, "start_at"),
    ("/api/campaigns/sms/send-individual", INDIVIDUAL, "messages.0.text"),
    ("/api/campaigns/sms/send-individual", INDIVIDUAL, "messages.0.sender"),
    ("/api/campaigns/sms/send-individual", INDIVIDUAL, "messages.0.reference_id"),
    ("/api/campaigns/sms/send-individual", INDIVIDUAL, "callback_url"),
    ("/api/campaigns/price", PRICE, "text"),
    ("/api/campaigns/price", PRICE, "sender"),
    ("/api/campaigns/rcs/send", RCS_CAMPAIGN, "options.text"),
    ("/api/campaigns/rcs/send", RCS_CAMPAIGN, "sender"),
    ("/api/campaigns/rcs/send", RCS_CAMPAIGN, "alternative_channel.sms.text"),
    ("/api/messages/rcs/send", RCS_SINGLE, "options.text"),
    ("/api/messages/rcs/send", RCS_SINGLE, "phone.reference_id"),
]


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
@pytest.mark.parametrize("path, body, field", ONEAPI_BODIES, ids=[f"{p}:{f}" for p, _, f in ONEAPI_BODIES])
async def test_oneapi_body_field(client, app_platform, account, headers, path, body, field, poison):
    before = await snapshot(app_platform, account[0])
    r = await client.post(path, content=poisoned(body, field, poison),
                          headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["message"] == INVALID
    assert field in r.json()["errors"], r.json()
    assert await snapshot(app_platform, account[0]) == before


async def test_the_clean_bodies_of_the_table_are_accepted(client, headers):
    """The table's bodies without poison are accepted: the refusals above are the poison's."""
    for n, (path, body) in enumerate({p: b for p, b, _ in ONEAPI_BODIES}.items()):
        body = copy.deepcopy(body)
        for ref in [body.get("phone"), *body.get("phones", []), *body.get("messages", [])]:
            if isinstance(ref, dict) and "reference_id" in ref:
                ref["reference_id"] = f"clean{n}"
        r = await client.post(path, json=body, headers=headers)
        assert r.status_code == 200, (path, r.text)


async def test_every_poisoned_field_is_named(client, headers):
    body = poisoned(json.loads(poisoned(SINGLE, "sms.text", "\x00")), "phone.reference_id", "\ud800")
    r = await client.post("/api/messages/send", content=body, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"sms.text", "phone.reference_id"}


@pytest.mark.parametrize(
    "raw, field",
    [
        (b'{"channels": ["sms"], "phone": {"number": "380971230011"}, "sms": {"sender": "relaybox", "text": "a\x00b"}}',
         "sms.text"),  # a raw NUL byte (not even valid JSON)
        (b'{"channels": ["sms"], "phone": {"number": "380971230011"}, "sms": {"sender": "relaybox", "text": "a\xed\xa0\x80"}}',
         "body"),  # a surrogate encoded as UTF-8 bytes: not UTF-8, a malformed payload
        (b'{"channels": ["sms"], "phone": {"number": "380971230011"}, "sms": {"sender": "relaybox", "text": "a\\udfff"}}',
         "sms.text"),  # a lone low surrogate
        (b'{"channels": ["sms"], "phone": {"number": "380971230011"}, "sms": {"sender": "relaybox", "text": "a\xffb"}}',
         "body"),  # a byte that is no UTF-8 at all: a malformed payload
        (b'{"channels": ["sms"], "phone": {"number": "380971230011"}, "sms": {"sender": "relaybox", "text": "Hi"},'
         b' "x\\u0000y": 1}', "x\\u0000y"),  # in a key: named with the character escaped
    ],
)
async def test_raw_bytes_and_keys(client, app_platform, account, headers, raw, field):
    before = await snapshot(app_platform, account[0])
    r = await client.post("/api/messages/send", content=raw, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert field in r.json()["errors"], r.json()
    assert await snapshot(app_platform, account[0]) == before


async def test_an_escaped_backslash_before_u0000_is_plain_text(client, headers):
    """`\\\\u0000` in JSON is a backslash and "u0000": storable, accepted."""
    raw = b'{"channels": ["sms"], "phone": {"number": "380971230011"}, "sms": {"sender": "relaybox", "text": "a\\\\u0000"}}'
    r = await client.post("/api/messages/send", content=raw, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 200, r.text


async def test_surrogate_pairs_are_characters_not_poison(client, headers):
    raw = b'{"channels": ["sms"], "phone": {"number": "380971230011"}, "sms": {"sender": "relaybox", "text": "\\ud83d\\ude00"}}'
    r = await client.post("/api/messages/send", content=raw, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 200, r.text


# -- legacy bodies --------------------------------------------------------------------------

LEGACY_PHONE = phone_body(callback_url="https://example.com/hook", send_time=TOMORROW, validity="24")
LEGACY_PHONES = phones_body([{"msisdn": "380971230011", "reference": "ref1"}])
LEGACY_INDIVIDUAL = individual_body([{"msisdn": "380971230011", "reference": "ref1", "originator": "relaybox",
                                      "body": "Hello"}])

LEGACY_BODIES = [
    (LEGACY_PHONE, "body", 26),
    (LEGACY_PHONE, "originator", 25),
    (LEGACY_PHONE, "reference", 27),
    (LEGACY_PHONE, "msisdn", 21),
    (LEGACY_PHONE, "callback_url", 7),
    (LEGACY_PHONE, "send_time", 10),
    (LEGACY_PHONE, "validity", 28),
    (LEGACY_PHONE, "destination", 7),
    (LEGACY_PHONES, "body", 26),
    (LEGACY_PHONES, "phones.0.reference", 27),
    (LEGACY_PHONES, "phones.0.msisdn", 21),
    (LEGACY_INDIVIDUAL, "phones.0.body", 26),
    (LEGACY_INDIVIDUAL, "phones.0.originator", 25),
    (LEGACY_INDIVIDUAL, "phones.0.reference", 27),
]


LEGACY_CASES = [("/rest/sms/create", *case) for case in LEGACY_BODIES] + [
    ("/rest/sms/price", *case) for case in LEGACY_BODIES if case[1] in ("body", "msisdn", "phones.0.reference")]


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
@pytest.mark.parametrize("route, body, field, code", LEGACY_CASES,
                         ids=[f"{r}:{b['destination']}:{f}" for r, b, f, _ in LEGACY_CASES])
async def test_legacy_body_field(client, app_platform, account, headers, route, body, field, code, poison):
    before = await snapshot(app_platform, account[0])
    r = await client.put(route, content=poisoned(body, field, poison),
                         headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json() == {"error": code, "errorDescription": DESCRIPTIONS[code]}
    assert await snapshot(app_platform, account[0]) == before


# -- query and path parameters --------------------------------------------------------------

QUERIES = [
    ("GET", "/api/messages?filter[reference_id]=ab%00c", "filter.reference_id"),
    ("GET", "/api/messages?filter[from]=2024-01-01%00", "filter.from"),
    ("GET", "/api/messages?sort=id&page[limit]=20%00", "page.limit"),
    ("GET", "/api/campaigns?search[field]=sender&search[value]=re%00lay", "search.value"),
    ("GET", "/api/campaigns?filter[type]=sms%00", "filter.type"),
    ("GET", "/api/accounts/tariff?page[offset]=%00", "page.offset"),
    ("GET", "/api/accounts/balance?anything=%00", "anything"),
    ("GET", "/api/campaigns/1%00", "campaign_id"),
    ("GET", "/api/campaigns/1%00/detail", "campaign_id"),
    ("PATCH", "/api/campaigns/1%00/stop", "campaign_id"),
]


@pytest.mark.parametrize("method, url, field", QUERIES, ids=[u for _, u, _ in QUERIES])
async def test_oneapi_query_and_path(client, headers, method, url, field):
    r = await client.request(method, url, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["message"] == INVALID
    assert field in r.json()["errors"], r.json()


async def test_the_hot_path_refuses_a_poisoned_query_too(client, app_platform, account, headers):
    before = await snapshot(app_platform, account[0])
    body = json.dumps(SINGLE).encode()
    r = await client.post("/api/messages/send?note=%00", content=body,
                          headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert "note" in r.json()["errors"]
    assert await snapshot(app_platform, account[0]) == before


LEGACY_URLS = [
    ("/rest/sms/reference/ab%00c", 27),
    ("/v1.0/sms/reference/ab%00c", 27),
    ("/rest/sms/task/1%00", 29),
    ("/rest/sms/prices/1%00", 6),
    ("/rest/sms/1%00", 7),
    ("/rest/common/balance?x=%00", 7),
    ("/rest/sms/prices?reference=%00", 27),
]


@pytest.mark.parametrize("url, code", LEGACY_URLS, ids=[u for u, _ in LEGACY_URLS])
async def test_legacy_query_and_path(client, headers, url, code):
    r = await client.get(url, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"error": code, "errorDescription": DESCRIPTIONS[code]}


@pytest.mark.parametrize("value", ["%ED%A0%80", "%FF", "%C3%28"])
async def test_undecodable_query_bytes_are_replaced_not_stored(client, headers, value):
    """Query strings are decoded with U+FFFD for what is not UTF-8: storable, so no error and no 500."""
    r = await client.get(f"/api/messages?filter[reference_id]={value}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == []
