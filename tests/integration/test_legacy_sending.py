"""PUT/POST /rest/sms/create and /rest/sms/price: shapes, tasks, types old clients send, scheduling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from relaybox.domain.status import MessageStatus
from relaybox.domain.timefmt import format_time, utcnow
from relaybox.store.tables import campaigns, messages
from relaybox.store.transitions import StatusChange, apply_changes
from tests.factories import make_account
from tests.integration.legacy_support import individual_body, phone_body, phones_body, stored


async def rows(platform, table, **where):
    async with platform.db.read() as conn:
        query = select(table).where(*[table.c[k] == v for k, v in where.items()]).order_by(table.c.id)
        return [r._mapping for r in await conn.execute(query)]


@pytest.mark.parametrize("method", ["PUT", "POST"])
@pytest.mark.parametrize("prefix", ["/rest", "/v1.0"])
async def test_a_single_message_has_no_task(client, headers, app_platform, method, prefix):
    response = await client.request(method, f"{prefix}/sms/create", json=phone_body(), headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "result": {
            "error": 0,
            "errorDescription": "No errors",
            "id": response.json()["result"]["id"],
            "reference": "ref1",
            "price": 0.035,
            "currency": "EUR",
        }
    }
    (row,) = await rows(app_platform, messages)
    assert str(row["id"]) == response.json()["result"]["id"]
    assert row["campaign_id"] is None and row["source"] == "rest" and row["reference_id"] == "ref1"
    assert await stored(app_platform) == (1, 0)


async def test_a_task_is_a_rest_campaign_visible_in_the_one_api(client, headers, app_platform):
    phones = [{"msisdn": "380971230011", "reference": "a"}, {"msisdn": "380971230012", "reference": "b"}]
    body = (await client.put("/rest/sms/create", json=phones_body(phones, body="Same text"), headers=headers)).json()
    assert set(body) == {"task_id", "result", "total_price", "currency"}
    assert body["total_price"] == 0.07 and body["currency"] == "EUR"
    (campaign,) = await rows(app_platform, campaigns)
    assert str(campaign["id"]) == body["task_id"]
    assert campaign["source"] == "rest" and campaign["text"] == "Same text" and campaign["total_messages"] == 2

    listed = (await client.get("/api/messages", params={"filter[campaign_id]": body["task_id"]}, headers=headers)).json()
    by_reference = {m["reference_id"]: m for m in listed["data"]}
    for item in body["result"]:
        message = by_reference[item["reference"]]
        assert str(message["id"]) == item["id"] and message["source"] == "rest"
        assert message["amount"]["value"] == "0.0350000"
    campaign_list = (await client.get("/api/campaigns", headers=headers)).json()["data"]
    assert [c["id"] for c in campaign_list] == [int(body["task_id"])]


async def test_individual_messages_keep_their_own_sender_and_text(client, headers, app_platform):
    phones = [
        {"msisdn": "380971230011", "reference": "a", "originator": "Shop", "body": "One"},
        {"msisdn": "380971230012", "reference": "b", "originator": "Bank", "body": "x" * 200},
    ]
    body = (await client.put("/rest/sms/create", json=individual_body(phones), headers=headers)).json()
    assert [r["price"] for r in body["result"]] == [0.035, 0.07]  # 200 GSM characters: 2 parts
    assert body["total_price"] == 0.105
    (campaign,) = await rows(app_platform, campaigns)
    assert campaign["text"] is None and campaign["source"] == "rest"
    saved = await rows(app_platform, messages)
    assert [(m["sender"], m["text"][:3], m["parts"]) for m in saved] == [("Shop", "One", 1), ("Bank", "xxx", 2)]


async def test_values_of_the_wrong_json_type_are_read_as_meant(client, headers, app_platform):
    body = phones_body(
        [
            {"msisdn": 380971230011, "reference": 1001},
            {"msisdn": "+380971230012", "reference": "1002"},
        ],
        originator=12345,
        body=4321,
        validity="24",
        tariff="1",
        transliterate="1",
    )
    answer = (await client.put("/rest/sms/create", json=body, headers=headers)).json()
    assert [r["error"] for r in answer["result"]] == [0, 0]
    assert answer["result"][0]["reference"] == "1001"
    assert answer["result"][0]["price"] == 0.04375  # tariff 1
    saved = await rows(app_platform, messages)
    assert {m["validity"] for m in saved} == {24} and {m["tariff_code"] for m in saved} == {1}
    assert {m["sender"] for m in saved} == {"12345"} and {m["text"] for m in saved} == {"4321"}
    single = await client.put("/rest/sms/create", json=phone_body(msisdn=380971230013, reference=77, validity=1.0,
                                                                   tariff=2.0), headers=headers)
    assert single.json()["result"]["error"] == 0 and single.json()["result"]["reference"] == "77"


async def test_transliterate_turns_text_into_gsm_before_counting(client, headers, app_platform):
    text = "Привіт " * 20  # 140 characters: UCS-2 would take 3 parts, Latin 1
    answer = await client.put("/rest/sms/create", json=phone_body(body=text, transliterate=True), headers=headers)
    assert answer.json()["result"]["price"] == 0.035
    (row,) = await rows(app_platform, messages)
    assert row["encoding"] == "gsm7" and row["parts"] == 1


@pytest.mark.parametrize("as_unix", [False, True])
async def test_send_time_schedules_the_message(client, headers, app_platform, as_unix):
    at = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    send_time = int(at.timestamp()) if as_unix else format_time(at)
    sent = (await client.put("/rest/sms/create", json=phone_body(send_time=send_time), headers=headers)).json()
    status = (await client.get(f"/rest/sms/{sent['result']['id']}", headers=headers)).json()
    assert status["status"] == "scheduled"
    assert status["time_sent"] == format_time(at) and status["time_dr"] is None

    iso = (at + timedelta(hours=1)).isoformat()
    task = (await client.put("/rest/sms/create", json=phones_body([{"msisdn": "380971230012", "reference": "t"}],
                                                                   send_time=iso), headers=headers)).json()
    campaign = (await client.get(f"/api/campaigns/{task['task_id']}", headers=headers)).json()["data"]
    assert campaign["status"] == "scheduled" and campaign["start_at"] == format_time(at + timedelta(hours=1))


async def test_a_send_time_in_the_past_means_now(client, headers):
    past = format_time(utcnow() - timedelta(hours=1))
    sent = (await client.put("/rest/sms/create", json=phone_body(send_time=past), headers=headers)).json()
    status = (await client.get(f"/rest/sms/{sent['result']['id']}", headers=headers)).json()
    assert status["status"] != "scheduled"


async def test_callback_url_is_kept_for_status_webhooks(client, headers, app_platform):
    await client.put("/rest/sms/create", json=phone_body(callback_url="https://example.test/hook"), headers=headers)
    (row,) = await rows(app_platform, messages)
    assert row["callback_url"] == "https://example.test/hook"


async def test_accepted_messages_are_charged_and_test_keys_are_not(client, headers, app_platform):
    phones = [{"msisdn": f"38097123001{n}", "reference": f"r{n}"} for n in range(3)] + [{"msisdn": "1", "reference": "x"}]
    await client.put("/rest/sms/create", json=phones_body(phones), headers=headers)
    balance = (await client.get("/rest/common/balance", headers=headers)).json()
    assert balance["amount"] == "99.8950000"  # three accepted, the refused one free

    _, test_key = await make_account(app_platform, mode="test")
    answer = (await client.put("/rest/sms/create", json=phones_body(phones[:2]), headers={"X-API-KEY": test_key})).json()
    assert answer["total_price"] == 0.07  # shown, not charged
    assert (await client.get("/rest/common/balance", headers={"X-API-KEY": test_key})).json()["amount"] == "100.0000000"


async def test_price_shapes_and_nothing_is_written(client, headers, app_platform):
    await client.put("/rest/sms/create", json=phone_body(reference="used"), headers=headers)
    before = await stored(app_platform), (await client.get("/rest/common/balance", headers=headers)).json()

    one = await client.post("/rest/sms/price", json=phone_body(reference=..., body="x" * 161), headers=headers)
    assert one.json() == {"error": 0, "errorDescription": "No errors", "totalprice": 0.07, "currency": "EUR"}
    # a reference is optional here, and one already used is no reason to refuse a quote
    reused = await client.put("/rest/sms/price", json=phone_body(reference="used"), headers=headers)
    assert reused.json()["totalprice"] == 0.035

    many = await client.put(
        "/rest/sms/price",
        json=phones_body([{"msisdn": "380971230011"}, {"msisdn": "12", "reference": "q"}, {"msisdn": "380971230013"}],
                         tariff=1),
        headers=headers,
    )
    assert many.json() == {
        "error": 0,
        "errorDescription": "No errors",
        "totalprice": 0.0875,
        "currency": "EUR",
        "result": [
            {"error": 0, "errorDescription": "No errors", "price": 0.04375, "currency": "EUR"},
            {"error": 21, "errorDescription": "Invalid phone number", "reference": "q"},
            {"error": 0, "errorDescription": "No errors", "price": 0.04375, "currency": "EUR"},
        ],
    }
    individual = await client.put(
        "/v1.0/sms/price",
        json=individual_body([{"msisdn": "380971230011", "originator": "Shop", "body": "Hi"},
                              {"msisdn": "380971230012", "originator": "Shop", "body": "я" * 71}]),
        headers=headers,
    )
    assert individual.json()["totalprice"] == 0.105  # 1 part + 2 UCS-2 parts
    nobody = await client.put("/rest/sms/price", json=phones_body([{"msisdn": "1"}]), headers=headers)
    assert nobody.json()["error"] == 21 and nobody.json()["result"] == [{"error": 21, "errorDescription": "Invalid phone number"}]

    assert (await stored(app_platform), (await client.get("/rest/common/balance", headers=headers)).json()) == before


async def test_price_of_the_largest_batch(client, headers):
    phones = [{"msisdn": str(380971000000 + n)} for n in range(10_000)]
    answer = (await client.put("/rest/sms/price", json=phones_body(phones), headers=headers)).json()
    assert answer["error"] == 0 and answer["totalprice"] == pytest.approx(350.0)


async def test_single_and_task_messages_in_one_dispatch_batch(client, headers, app_platform):
    """Regression: a batch of status changes mixing single and campaign messages must not fail."""
    later = format_time(utcnow() + timedelta(days=1))
    single = (await client.put("/rest/sms/create", json=phone_body(send_time=later), headers=headers)).json()
    task = (await client.put("/rest/sms/create", json=phones_body([{"msisdn": "380971230012", "reference": "t"}],
                                                                   send_time=later), headers=headers)).json()
    ids = [int(single["result"]["id"]), int(task["result"][0]["id"])]
    now = utcnow()
    async with app_platform.db.write() as conn:
        applied = await apply_changes(conn, [StatusChange(i, MessageStatus.SENDING, now) for i in ids], now)
    assert len(applied) == 2
    campaign = (await client.get(f"/api/campaigns/{task['task_id']}", headers=headers)).json()["data"]
    assert campaign["status"] == "sending" and campaign["real_start_at"] is not None
