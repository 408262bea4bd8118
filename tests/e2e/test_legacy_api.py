"""The legacy REST API over real HTTP, through a client written the way the official ones are.

The server's price list has no price for Greenland (GL), so that sending there
is "direction not allowed" (33); everything else is the shipped price list.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time

import httpx
import pytest

from tests.cli import run_cli
from tests.e2e.conftest import LiveServer, start_server, stop_server
from tests.e2e.legacy_client import LegacyClient, TransportError
from tests.factories import DELIVERED, EXPIRED, FAILED, UNDELIVERED, UNKNOWN

GREENLAND = "299123456"  # a possible number in a country without a price
FINAL = {"delivered", "undelivered", "expired", "failed", "unknown"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("legacy")
    database = workdir / "relaybox.db"
    run_cli("migrate", "--database-url", f"sqlite:///{database}", cwd=workdir, check=True)
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM rates WHERE country = 'GL'")
    conn.close()
    live = start_server(workdir, "--sim-speed", "0")
    yield live
    stop_server(live)


@pytest.fixture(scope="module")
def key(server) -> str:
    return server.create_account(balance="100")


@pytest.fixture
def client(server, key):
    with LegacyClient(server.base_url, key) as c:
        yield c


def block(server: LiveServer, key: str) -> None:
    """Block the key's account in the store (relaybox has no API for it)."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    conn = sqlite3.connect(server.database_url.removeprefix("sqlite:///"), timeout=30)
    try:
        with conn:
            conn.execute(
                "UPDATE accounts SET status = 'blocked' WHERE id = (SELECT account_id FROM api_keys WHERE key_hash = ?)",
                (digest,),
            )
    finally:
        conn.close()


def poll(fetch, done, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in time: {value}")
        time.sleep(0.1)


def test_single_message_is_sent_and_tracked(client, server, key):
    before = client.balance()
    sent = client.send_sms("380971230011", "Hello from a legacy client", "e2e-single-1")
    result = sent["result"]
    assert result["error"] == 0 and result["errorDescription"] == "No errors"
    assert result["id"].isdigit() and result["reference"] == "e2e-single-1"
    assert result["price"] == 0.035 and result["currency"] == "EUR"
    assert "task_id" not in sent  # a single message has no task

    status = poll(lambda: client.status(result["id"]), lambda s: s["status"] == "delivered")
    assert status["error"] == 0 and status["msisdn"] == "380971230011" and status["reference"] == "e2e-single-1"
    assert status["time_in"] and status["time_sent"] and status["time_dr"]
    assert client.status_by_reference("e2e-single-1") == status
    assert client.call("GET", f"/sms/{result['id']}") == status  # path with a leading slash, as some clients build it

    after = client.balance()
    assert float(before["amount"]) - float(after["amount"]) == pytest.approx(0.035)

    # The same message through the One API, by id: source "rest", no campaign.
    listed = httpx.get(f"{server.base_url}/api/messages", params={"filter[id]": result["id"]}, headers={"X-API-KEY": key})
    message = listed.json()["data"][0]
    assert message["source"] == "rest" and message["campaign_id"] is None and message["reference_id"] == "e2e-single-1"


def test_task_answers_per_recipient_and_counts_statuses(client, server, key):
    phones = [
        {"msisdn": str(DELIVERED), "reference": "e2e-t1"},
        {"msisdn": str(UNDELIVERED), "reference": "e2e-t2"},
        {"msisdn": str(EXPIRED), "reference": "e2e-t3"},
        {"msisdn": str(FAILED), "reference": "e2e-t4"},
        {"msisdn": UNKNOWN, "reference": "e2e-t5"},  # a number, as old clients send it
        {"msisdn": "12345", "reference": "e2e-t6"},  # 21
        {"msisdn": str(DELIVERED), "reference": "e2e-t7"},  # 31
        {"msisdn": "380971239991"},  # 22
        {"msisdn": "380971239992", "reference": "bad ref!"},  # 27
        {"msisdn": "380971239993", "reference": "e2e-t1"},  # 23
        {"msisdn": GREENLAND, "reference": "e2e-t11"},  # 33
    ]
    sent = client.send_task(phones, "Campaign text")
    codes = [r["error"] for r in sent["result"]]
    assert codes == [0, 0, 0, 0, 0, 21, 31, 22, 27, 23, 33]
    assert sent["task_id"].isdigit()
    assert sent["total_price"] == pytest.approx(5 * 0.035) and sent["currency"] == "EUR"
    assert all(r["id"].isdigit() and r["price"] == 0.035 for r in sent["result"][:5])

    task = poll(
        lambda: client.task_status(sent["task_id"]),
        lambda t: t["sent"] == 4 and t["delivered"] + t["expired"] + t["undeliverable"] + t["unknown"] == 4,
    )
    assert task["error"] == 0 and task["originator"] == "relaybox" and task["body"] == "Campaign text"
    assert task["validity"] == 72 and task["totalprice"] == pytest.approx(0.175) and task["currency"] == "EUR"
    assert (task["sent"], task["delivered"], task["expired"], task["undeliverable"], task["unknown"]) == (4, 1, 1, 1, 1)
    failed = client.status(sent["result"][3]["id"])
    assert failed["status"] == "failed"

    # The task is a campaign of the One API, and its messages carry source "rest".
    auth = {"X-API-KEY": key}
    campaign = httpx.get(f"{server.base_url}/api/campaigns/{sent['task_id']}", headers=auth).json()["data"]
    assert campaign["sender"] == "relaybox"
    listed = httpx.get(f"{server.base_url}/api/messages", params={"filter[campaign_id]": sent["task_id"]}, headers=auth)
    assert {m["source"] for m in listed.json()["data"]} == {"rest"} and len(listed.json()["data"]) == 5


def test_individual_messages_and_lenient_types(client):
    sent = client.send_individual(
        [
            {"msisdn": 380971231011, "reference": 77001, "originator": "Shop", "body": "Your order"},
            {"msisdn": "380971231012", "reference": "e2e-i2", "originator": "x", "body": "Hi"},  # 25
            {"msisdn": "380971231013", "reference": "e2e-i3", "originator": "Shop", "body": ""},  # 26
            {"msisdn": "380971231014", "reference": "e2e-i4", "originator": 12345, "body": 4321},
        ],
        validity="24",
        tariff="1",
    )
    assert [r["error"] for r in sent["result"]] == [0, 25, 26, 0]
    assert sent["result"][0]["reference"] == "77001"
    assert sent["result"][0]["price"] == pytest.approx(0.035 * 1.25)  # tariff 1
    task = client.task_status(sent["task_id"])
    assert task["validity"] == 24 and task["body"] is None and task["originator"] == "Shop"


def test_prices_of_messages_without_sending(client):
    before = client.balance()
    one = client.price({"destination": "phone", "msisdn": "380971232011", "originator": "relaybox", "body": "x" * 161})
    assert one == {"error": 0, "errorDescription": "No errors", "totalprice": 0.07, "currency": "EUR"}
    many = client.price(
        {"destination": "phones", "originator": "relaybox", "body": "Hi",
         "phones": [{"msisdn": "380971232012"}, {"msisdn": "1"}, {"msisdn": GREENLAND}]}
    )
    assert many["error"] == 0 and many["totalprice"] == 0.035
    assert [r["error"] for r in many["result"]] == [0, 21, 33]
    assert client.price({"destination": "phone", "msisdn": GREENLAND, "originator": "relaybox", "body": "Hi"})["error"] == 33
    assert client.balance() == before


def test_price_list_and_balance(client):
    default = client.prices()["prices"]
    ukraine = next(p for p in default if p["country"] == "UA")
    assert ukraine == {"type": "sms", "country": "UA", "country_name": "Ukraine", "mcc": "255", "mnc": "0",
                       "price": "0.0350000", "currency": "EUR"}
    assert all(p["country"] != "GL" for p in default)  # no price: direction not allowed
    premium = {p["country"]: p["price"] for p in client.prices(1)["prices"]}
    assert premium["UA"] == "0.0437500"
    assert client.prices(9)["error"] == 6
    assert client.prices("abc")["error"] == 6

    balance = client.balance()
    assert balance["error"] == 0 and balance["errorDescription"] == "No errors" and balance["currency"] == "EUR"
    assert isinstance(balance["amount"], str) and balance["limit"] == "0.0000000"


def test_the_v1_alias_serves_the_same_api(server, key):
    with LegacyClient(server.base_url, key, prefix="/v1.0") as alias:
        sent = alias.send_sms("380971233011", "via the alias", "e2e-alias-1")
        assert sent["result"]["error"] == 0
        assert alias.status(sent["result"]["id"])["reference"] == "e2e-alias-1"
        assert alias.balance()["error"] == 0


def test_request_level_errors(client, server, key):
    # 1: no key, a malformed key, an unknown key
    for api_key in (None, "nonsense", "live_" + "x" * 30):
        with LegacyClient(server.base_url, api_key) as anonymous:
            assert anonymous.balance()["error"] == 1
            assert anonymous.send_sms("380971234011", "Hi", "e2e-anon")["error"] == 1

    # 2: a blocked account
    blocked_key = server.create_account()
    block(server, blocked_key)
    with LegacyClient(server.base_url, blocked_key) as blocked:
        assert blocked.balance() == {"error": 2, "errorDescription": "Account is blocked"}

    # 8: not enough money; nothing is written
    poor_key = server.create_account(balance="0")
    with LegacyClient(server.base_url, poor_key) as poor:
        assert poor.send_sms("380971234012", "Hi", "e2e-poor")["error"] == 8
        assert poor.send_task([{"msisdn": "380971234013", "reference": "e2e-poor2"}], "Hi")["error"] == 8
        assert poor.status_by_reference("e2e-poor")["error"] == 20

    phone = {"destination": "phone", "msisdn": "380971234014", "originator": "relaybox", "body": "Hi", "reference": "e2e-r"}
    assert client.call("PUT", "sms/create", content=b"{not json")["error"] == 24
    assert client.call("PUT", "sms/create", content=b"[1, 2]")["error"] == 24
    assert client.call("PUT", "sms/create", {k: v for k, v in phone.items() if k != "destination"})["error"] == 3
    assert client.call("PUT", "sms/create", {k: v for k, v in phone.items() if k != "body"})["error"] == 3
    assert client.call("PUT", "sms/create", {**phone, "destination": "viber"})["error"] == 7
    assert client.call("PUT", "sms/create", {**phone, "originator": "this sender is far too long"})["error"] == 25
    assert client.call("PUT", "sms/create", {**phone, "body": ""})["error"] == 26
    assert client.call("PUT", "sms/create", {"body": "", "originator": "BSG RESTAPI", "validity": 72})["error"] == 26
    assert client.call("PUT", "sms/create", {**phone, "tariff": 9})["error"] == 6
    assert client.call("PUT", "sms/create", {**phone, "send_time": "tomorrow"})["error"] == 10
    assert client.send_sms("380971234015", "Hi", "e2e-r2", validity=100)["result"]["error"] == 28
    assert client.send_task([{"msisdn": "380971234016", "reference": "e2e-r3"}], "Hi", validity="long")["error"] == 28
    assert client.send_individual([])["error"] == 24
    too_many = [{"msisdn": str(380971000000 + n), "reference": f"b{n}"} for n in range(10_001)]
    assert client.send_task(too_many, "Hi")["error"] == 12
    assert client.status_by_reference("e2e-r")["error"] == 20  # none of the above wrote anything

    # per-message errors of a single message come inside "result"
    assert client.send_sms("12", "Hi", "e2e-r4")["result"]["error"] == 21
    assert client.send_sms("380971234017", "Hi", None)["result"]["error"] == 22
    assert client.send_sms("380971234018", "Hi", "e2e-single-1")["result"]["error"] == 23
    assert client.send_sms("380971234019", "Hi", "__\\||\\/")["result"]["error"] == 27
    assert client.send_sms(GREENLAND, "Hi", "e2e-r5")["result"]["error"] == 33

    # lookups
    assert client.status(999999)["error"] == 20
    assert client.status_by_reference("no-such-reference")["error"] == 20
    assert client.status_by_reference("x" * 40)["error"] == 27
    assert client.task_status("wrong status")["error"] == 29
    assert client.task_status(999999)["error"] == 30

    # 4: a known path with the wrong method; an unknown path is a plain 404
    assert client.call("DELETE", "sms/create")["error"] == 4
    assert client.call("GET", "sms/create")["error"] == 4
    assert client.call("POST", "common/balance")["error"] == 4
    with pytest.raises(TransportError) as missing:
        client.call("GET", "sms/unknown/route")
    assert missing.value.status_code == 404
