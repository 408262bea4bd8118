"""The legacy REST error catalogue (CONTRACT.md): every code relaybox produces, as HTTP 200.

Request-level errors answer `{"error": N, "errorDescription": ...}` and write
nothing; a refused recipient of a task gets its own error object; a single
message's own errors (21, 22, 23, 27, 28, 33) come inside `result`.

One app per backend for the module, a new account for every test (tests/shared_app.py).
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from relaybox.api.legacy.errors import DESCRIPTIONS
from relaybox.domain.timefmt import format_time, utcnow
from relaybox.store import accounts as accounts_store
from tests.factories import make_account
from tests.shared_app import account, app, app_platform, client, database_url, headers, settings, settings_overrides  # noqa: F401
from tests.integration.legacy_support import (
    GREENLAND,
    forbid_direction,
    individual_body,
    phone_body,
    phones_body,
    stored,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

SEND_PATHS = ("/rest/sms/create", "/rest/sms/price")
READ_PATHS = ("/rest/common/balance", "/rest/sms/prices", "/rest/sms/prices/1", "/rest/sms/1", "/rest/sms/reference/r1",
              "/rest/sms/task/1", "/v1.0/common/balance", "/v1.0/sms/1")


def is_error(response: httpx.Response, code: int) -> bool:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] == code, body
    assert body["errorDescription"] == DESCRIPTIONS[code]
    return True


def too_many_phones() -> list[dict]:
    return [{"msisdn": str(380971000000 + n), "reference": f"b{n}"} for n in range(10_001)]


def later(**delta) -> str:
    return format_time(utcnow() + timedelta(**delta))


REQUEST_LEVEL = [
    pytest.param(b"{not json", 24, id="24-invalid-json"),
    pytest.param(b"", 24, id="24-empty-body"),
    pytest.param(b"[1, 2]", 24, id="24-not-an-object"),
    pytest.param(phones_body("380971230011"), 24, id="24-phones-not-a-list"),
    pytest.param(phones_body([]), 24, id="24-phones-empty"),
    pytest.param(individual_body([]), 24, id="24-individual-empty"),
    pytest.param(phones_body(["380971230011"]), 24, id="24-phone-item-not-an-object"),
    pytest.param(phone_body(destination=...), 3, id="3-no-destination"),
    pytest.param(phone_body(msisdn=...), 3, id="3-phone-without-msisdn"),
    pytest.param(phone_body(originator=...), 3, id="3-phone-without-originator"),
    pytest.param(phone_body(body=None), 3, id="3-phone-without-body"),
    pytest.param(phones_body(...), 3, id="3-phones-without-phones"),
    pytest.param(phones_body([{"msisdn": "380971230011"}], originator=...), 3, id="3-phones-without-originator"),
    pytest.param(phones_body([{"msisdn": "380971230011"}], body=...), 3, id="3-phones-without-body"),
    pytest.param(phone_body(destination="otp"), 7, id="7-unknown-destination"),
    pytest.param(phone_body(destination=1), 7, id="7-destination-not-a-string"),
    pytest.param(phone_body(callback_url=5), 7, id="7-callback-url-not-a-string"),
    pytest.param(phone_body(callback_url="https://x/" + "a" * 500), 7, id="7-callback-url-too-long"),
    pytest.param(phone_body(transliterate="maybe"), 7, id="7-transliterate-not-a-flag"),
    pytest.param(phone_body(originator="far too long a sender"), 25, id="25-phone-originator"),
    pytest.param(phones_body([{"msisdn": "380971230011"}], originator="ab"), 25, id="25-phones-originator"),
    pytest.param(phone_body(body=""), 26, id="26-phone-empty-body"),
    pytest.param(phones_body([{"msisdn": "380971230011"}], body="x" * 766), 26, id="26-phones-body-too-long"),
    pytest.param({"body": "", "originator": "BSG RESTAPI", "validity": 72}, 26, id="26-official-client-empty-send"),
    pytest.param(phone_body(tariff=9), 6, id="6-unknown-tariff"),
    pytest.param(phone_body(tariff="abc"), 6, id="6-tariff-not-a-number"),
    pytest.param(phones_body([{"msisdn": "380971230011"}], tariff=True), 6, id="6-tariff-boolean"),
    pytest.param(phone_body(send_time="tomorrow"), 10, id="10-send-time-unreadable"),
    pytest.param(phone_body(send_time=True), 10, id="10-send-time-boolean"),
    pytest.param(phone_body(send_time=-5), 10, id="10-send-time-negative"),
    pytest.param(phones_body([{"msisdn": "380971230011"}], send_time=later(days=31)), 10, id="10-send-time-too-far"),
    pytest.param(phones_body([{"msisdn": "380971230011"}], validity=0), 28, id="28-validity-zero"),
    pytest.param(phones_body([{"msisdn": "380971230011"}], validity=73), 28, id="28-validity-too-long"),
    pytest.param(individual_body([{"msisdn": "380971230011"}], validity="abc"), 28, id="28-validity-text"),
    pytest.param(phones_body(too_many_phones()), 12, id="12-more-than-10000-phones"),
]


@pytest.mark.parametrize("path", SEND_PATHS)
@pytest.mark.parametrize("payload, code", REQUEST_LEVEL)
async def test_request_level_errors_write_nothing(client, headers, app_platform, account, path, payload, code):
    kwargs = {"content": payload} if isinstance(payload, bytes) else {"json": payload}
    before = (await client.get("/rest/common/balance", headers=headers)).json()
    response = await client.put(path, headers=headers, **kwargs)
    assert is_error(response, code)
    assert set(response.json()) == {"error", "errorDescription"}
    assert await stored(app_platform, account[0]) == (0, 0)
    assert (await client.get("/rest/common/balance", headers=headers)).json() == before


@pytest.mark.parametrize("shape", ["phone", "phones"])
async def test_8_not_enough_money_writes_nothing(client, app_platform, shape):
    account_id, key = await make_account(app_platform, balance="0.01")
    body = phone_body() if shape == "phone" else phones_body([{"msisdn": "380971230011", "reference": "a"}])
    response = await client.put("/rest/sms/create", json=body, headers={"X-API-KEY": key})
    assert is_error(response, 8)
    assert await stored(app_platform, account_id) == (0, 0)


async def test_8_is_not_raised_for_a_test_key_nor_within_credit(client, app_platform):
    _, test_key = await make_account(app_platform, balance="0", mode="test")
    _, credit_key = await make_account(app_platform, balance="0", credit="1")
    for key, reference in ((test_key, "t1"), (credit_key, "c1")):
        response = await client.put("/rest/sms/create", json=phone_body(reference=reference), headers={"X-API-KEY": key})
        assert response.json()["result"]["error"] == 0


SINGLE_MESSAGE = [
    pytest.param(phone_body(msisdn="12345"), 21, id="21-phone-too-short"),
    pytest.param(phone_body(msisdn="38097123001x"), 21, id="21-phone-not-digits"),
    pytest.param(phone_body(msisdn=3.8e11), 21, id="21-phone-float"),
    pytest.param(phone_body(reference=...), 22, id="22-reference-missing"),
    pytest.param(phone_body(reference=""), 22, id="22-reference-empty"),
    pytest.param(phone_body(reference="__\\||\\/"), 27, id="27-reference-characters"),
    pytest.param(phone_body(reference="r" * 33), 27, id="27-reference-too-long"),
    pytest.param(phone_body(validity="wrong validation time"), 28, id="28-validity"),
    pytest.param(phone_body(msisdn=GREENLAND), 33, id="33-direction"),
]


@pytest.mark.parametrize("payload, code", SINGLE_MESSAGE)
async def test_a_single_message_answers_its_own_errors_inside_result(client, headers, app_platform, account, payload, code):
    forbid_direction(app_platform, "GL")
    response = await client.put("/rest/sms/create", json=payload, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"result"}
    assert body["result"]["error"] == code and body["result"]["errorDescription"] == DESCRIPTIONS[code]
    assert "price" not in body["result"] and "id" not in body["result"]
    assert await stored(app_platform, account[0]) == (0, 0)


async def test_23_reference_already_used(client, headers, app_platform, account):
    first = await client.put("/rest/sms/create", json=phone_body(reference="dup"), headers=headers)
    assert first.json()["result"]["error"] == 0
    again = await client.post("/rest/sms/create", json=phone_body(msisdn="380971230012", reference="dup"), headers=headers)
    assert again.json() == {"result": {"error": 23, "errorDescription": DESCRIPTIONS[23], "reference": "dup"}}
    assert await stored(app_platform, account[0]) == (1, 0)


async def test_per_recipient_errors_do_not_sink_the_others(client, headers, app_platform, account):
    forbid_direction(app_platform, "GL")
    await client.put("/rest/sms/create", json=phone_body(reference="taken"), headers=headers)
    phones = [
        {"msisdn": "380971230011", "reference": "p0"},  # accepted
        {"msisdn": "12345", "reference": "p1"},  # 21
        {"msisdn": "380971230012"},  # 22
        {"msisdn": "380971230013", "reference": "taken"},  # 23, in the store
        {"msisdn": "380971230014", "reference": "p0"},  # 23, earlier in this request
        {"msisdn": "380971230015", "reference": "bad/ref"},  # 27
        {"msisdn": "380971230011", "reference": "p6"},  # 31
        {"msisdn": GREENLAND, "reference": "p7"},  # 33
        {"reference": "p8"},  # 21: no msisdn at all
        {"msisdn": "380971230019", "reference": "p9"},  # accepted
    ]
    response = await client.put("/rest/sms/create", json=phones_body(phones), headers=headers)
    body = response.json()
    assert [r["error"] for r in body["result"]] == [0, 21, 22, 23, 23, 27, 31, 33, 21, 0]
    for r in body["result"]:
        assert r["errorDescription"] == DESCRIPTIONS[r["error"]]
        assert ("id" in r) == (r["error"] == 0) and ("price" in r) == (r["error"] == 0)
    assert body["total_price"] == 0.07 and body["currency"] == "EUR"
    assert await stored(app_platform, account[0]) == (1 + 2, 1)


async def test_individual_errors_25_and_26_are_per_recipient(client, headers):
    phones = [
        {"msisdn": "380971230011", "reference": "i0", "originator": "x", "body": "Hi"},  # 25
        {"msisdn": "380971230012", "reference": "i1", "originator": "relaybox", "body": ""},  # 26
        {"msisdn": "380971230013", "reference": "i2", "body": "Hi"},  # 25: no originator
        {"msisdn": "380971230014", "reference": "i3", "originator": "relaybox"},  # 26: no body
        {"msisdn": "380971230015", "reference": "i4", "originator": "relaybox", "body": "Hi"},
    ]
    body = (await client.put("/rest/sms/create", json=individual_body(phones), headers=headers)).json()
    assert [r["error"] for r in body["result"]] == [25, 26, 25, 26, 0]
    assert body["task_id"].isdigit()


@pytest.mark.parametrize("path", SEND_PATHS)
async def test_an_individual_body_of_the_wrong_json_type_is_26_not_a_crash(client, headers, path):
    # found by schemathesis (bench/openapi_fuzz.py): a list or object as a text was error 5
    phones = [
        {"msisdn": "380971230011", "reference": "j0", "originator": "relaybox", "body": ["Hi"]},
        {"msisdn": "380971230012", "reference": "j1", "originator": "relaybox", "body": {"text": "Hi"}},
        {"msisdn": "380971230013", "reference": "j2", "originator": "relaybox", "body": "Hi"},
    ]
    body = (await client.post(path, json=individual_body(phones), headers=headers)).json()
    assert [r["error"] for r in body["result"]] == [26, 26, 0]


async def test_a_task_whose_every_recipient_is_refused_is_not_created(client, headers, app_platform, account):
    phones = [{"msisdn": "1", "reference": "a"}, {"msisdn": "380971230011"}]
    body = (await client.put("/rest/sms/create", json=phones_body(phones), headers=headers)).json()
    assert body["error"] == 21 and body["errorDescription"] == DESCRIPTIONS[21]
    assert [r["error"] for r in body["result"]] == [21, 22]
    assert "task_id" not in body
    assert await stored(app_platform, account[0]) == (0, 0)


PRICE_ONLY = [
    pytest.param(phone_body(msisdn="12345"), 21, id="21"),
    pytest.param(phone_body(reference="bad ref"), 27, id="27"),
    pytest.param(phone_body(validity=99), 28, id="28"),
    pytest.param(phone_body(msisdn=GREENLAND), 33, id="33"),
]


@pytest.mark.parametrize("payload, code", PRICE_ONLY)
async def test_price_of_a_single_message_answers_its_errors_at_the_top(client, headers, app_platform, payload, code):
    forbid_direction(app_platform, "GL")
    assert is_error(await client.put("/rest/sms/price", json=payload, headers=headers), code)


@pytest.mark.parametrize("path", READ_PATHS + SEND_PATHS)
@pytest.mark.parametrize("key", [None, "", "nonsense", "live_" + "A" * 30, "test_short"])
async def test_1_missing_or_wrong_api_key(client, path, key):
    headers = {} if key is None else {"X-API-KEY": key}
    method = "PUT" if path in SEND_PATHS else "GET"
    assert is_error(await client.request(method, path, json=phone_body(), headers=headers), 1)


async def test_1_a_bearer_token_is_not_a_legacy_key(client, account):
    login = await client.post("/api/auth/login", json={"api_key": account[1]})
    bearer = {"Authorization": f"Bearer {login.json()['bearer']}"}
    assert is_error(await client.get("/rest/common/balance", headers=bearer), 1)


@pytest.mark.parametrize("path", READ_PATHS + SEND_PATHS)
async def test_2_blocked_account(client, app_platform, path):
    account_id, key = await make_account(app_platform)
    async with app_platform.db.write() as conn:
        await accounts_store.set_status(conn, account_id, "blocked")
    method = "PUT" if path in SEND_PATHS else "GET"
    assert is_error(await client.request(method, path, json=phone_body(), headers={"X-API-KEY": key}), 2)
    assert await stored(app_platform, account_id) == (0, 0)


@pytest.mark.parametrize(
    "method, path",
    [
        ("DELETE", "/rest/sms/create"),
        ("GET", "/rest/sms/create"),
        ("PATCH", "/rest/sms/price"),
        ("GET", "/v1.0/sms/price"),
        ("POST", "/rest/common/balance"),
        ("DELETE", "/rest/sms/1"),
        ("PUT", "/rest/sms/prices"),
        ("POST", "/rest/sms/task/1"),
        ("DELETE", "/rest/sms/reference/r1"),
    ],
)
async def test_4_unknown_method_on_a_known_path(client, headers, method, path):
    assert is_error(await client.request(method, path, headers=headers), 4)


@pytest.mark.parametrize("path", ["/rest/sms", "/rest/sms/1/2", "/rest/viber/create", "/rest", "/v1.0/unknown"])
async def test_unknown_paths_are_404(client, headers, path):
    assert (await client.get(path, headers=headers)).status_code == 404


async def test_5_unknown_error_is_still_a_legacy_answer(app, headers, monkeypatch):
    from relaybox.services import accounts

    async def broken(*args, **kwargs):
        raise RuntimeError("the store fell over")

    monkeypatch.setattr(accounts, "get_account", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://relaybox.test") as c:
        assert is_error(await c.get("/rest/common/balance", headers=headers), 5)


async def test_lookup_errors_20_27_29_30(client, headers, app_platform):
    sent = (await client.put("/rest/sms/create", json=phone_body(reference="mine"), headers=headers)).json()
    task = (await client.put("/rest/sms/create", json=phones_body([{"msisdn": "380971230012", "reference": "t"}]),
                             headers=headers)).json()
    _, other = await make_account(app_platform)
    theirs = {"X-API-KEY": other}

    for path in ("/rest/sms/999999", "/rest/sms/abc", "/rest/sms/-1", "/rest/sms/" + "9" * 30,
                 "/rest/sms/reference/nothing", f"/rest/sms/{sent['result']['id']}"):
        assert is_error(await client.get(path, headers=headers if "999999" in path or "abc" in path else theirs), 20)
    assert is_error(await client.get("/rest/sms/reference/mine", headers=theirs), 20)
    for bad in ("x" * 33, "a%20b", "a.b"):
        assert is_error(await client.get(f"/rest/sms/reference/{bad}", headers=headers), 27)
    for bad in ("wrong%20status", "abc", "-1", "1.5", "9" * 19):
        assert is_error(await client.get(f"/rest/sms/task/{bad}", headers=headers), 29)
    assert is_error(await client.get("/rest/sms/task/999999", headers=headers), 30)
    assert is_error(await client.get(f"/rest/sms/task/{task['task_id']}", headers=theirs), 30)


async def test_6_price_list_of_an_unknown_tariff(client, headers):
    for tariff in ("9", "abc", "-1", "99999999999"):
        assert is_error(await client.get(f"/rest/sms/prices/{tariff}", headers=headers), 6)


async def test_24_body_over_the_size_limit(client, headers):
    big = b'{"destination": "phone", "body": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    assert is_error(await client.put("/rest/sms/create", content=big, headers=headers), 24)
