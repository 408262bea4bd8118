"""GET /rest/sms/{id}, /reference/{reference}, /task/{task_id}, /rest/sms/prices and /rest/common/balance."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from relaybox.domain.money import to_units
from relaybox.store.tables import campaigns
from tests.conftest import wait_until
from tests.factories import DELIVERED, EXPIRED, FAILED, UNDELIVERED, UNKNOWN, make_account
from tests.integration.legacy_support import forbid_direction, phone_body, phones_body


async def test_status_of_a_delivered_message(client, headers):
    sent = (await client.put("/rest/sms/create", json=phone_body(reference="s1"), headers=headers)).json()["result"]

    async def delivered():
        body = (await client.get(f"/rest/sms/{sent['id']}", headers=headers)).json()
        return body if body["status"] == "delivered" else None

    status = await wait_until(delivered)
    assert list(status) == ["error", "errorDescription", "id", "msisdn", "reference", "time_in", "time_sent", "time_dr",
                            "status", "price", "currency"]
    assert status["error"] == 0 and status["errorDescription"] == "No errors"
    assert status["id"] == sent["id"] and status["msisdn"] == "380971230011" and status["reference"] == "s1"
    assert status["price"] == 0.035 and status["currency"] == "EUR"
    assert all(len(status[t]) == 19 for t in ("time_in", "time_sent", "time_dr"))
    assert status["time_in"] <= status["time_sent"] <= status["time_dr"]
    assert (await client.get("/rest/sms/reference/s1", headers=headers)).json() == status
    assert (await client.get(f"/v1.0/sms/{sent['id']}", headers=headers)).json() == status


async def test_one_api_messages_and_campaigns_answer_in_the_legacy_api(client, headers):
    single = await client.post(
        "/api/messages/send",
        json={"channels": ["sms"], "phone": {"number": 380971230011, "reference_id": "web1"},
              "sms": {"sender": "relaybox", "text": "Hi"}},
        headers=headers,
    )
    message_id = single.json()["data"]["id"]
    status = (await client.get(f"/rest/sms/{message_id}", headers=headers)).json()
    assert status["id"] == str(message_id) and status["reference"] == "web1"
    assert (await client.get("/rest/sms/reference/web1", headers=headers)).json()["id"] == str(message_id)

    campaign = await client.post(
        "/api/campaigns/sms/send",
        json={"sender": "relaybox", "text": "From the One API", "phones": [{"number": 380971230012}]},
        headers=headers,
    )
    task = (await client.get(f"/rest/sms/task/{campaign.json()['data']['id']}", headers=headers)).json()
    assert task["originator"] == "relaybox" and task["body"] == "From the One API" and task["totalprice"] == 0.035


async def test_task_counts_follow_the_simulated_outcomes(client, headers):
    numbers = [DELIVERED, UNDELIVERED, EXPIRED, FAILED, UNKNOWN]
    phones = [{"msisdn": str(n), "reference": f"m{i}"} for i, n in enumerate(numbers)]
    sent = (await client.put("/rest/sms/create", json=phones_body(phones, validity=12), headers=headers)).json()

    async def done():
        campaign = (await client.get(f"/api/campaigns/{sent['task_id']}", headers=headers)).json()["data"]
        return campaign["status"] == "done"

    await wait_until(done)
    task = (await client.get(f"/rest/sms/task/{sent['task_id']}", headers=headers)).json()
    assert task == {
        "error": 0,
        "errorDescription": "No errors",
        "originator": "relaybox",
        "body": "Hello",
        "validity": 12,
        "totalprice": 0.175,  # as reserved; the failed message's refund shows in the balance
        "currency": "EUR",
        "sent": 4,  # reached an operator: all but the failed one
        "delivered": 1,
        "expired": 1,
        "undeliverable": 1,
        "unknown": 1,
    }


async def test_task_counts_come_from_the_campaign_counters(client, headers, app_platform):
    task_id = (await client.put("/rest/sms/create", json=phones_body([{"msisdn": "380971230011", "reference": "c"}]),
                                headers=headers)).json()["task_id"]
    await wait_until(lambda: _delivered(client, headers, task_id))
    async with app_platform.db.write() as conn:
        await conn.execute(
            update(campaigns).where(campaigns.c.id == int(task_id)).values(
                n_delivered=1000, n_read=5, n_sent=7, n_undelivered=30, n_expired=20, n_unknown=10, n_failed=3
            )
        )
    task = (await client.get(f"/rest/sms/task/{task_id}", headers=headers)).json()
    assert (task["sent"], task["delivered"], task["expired"], task["undeliverable"], task["unknown"]) == (
        1072, 1005, 20, 30, 10,
    )


async def _delivered(client, headers, task_id):
    return (await client.get(f"/rest/sms/task/{task_id}", headers=headers)).json()["delivered"] == 1


async def test_price_list_of_the_account_tariff_and_currency(client, headers, app_platform):
    listed = (await client.get("/rest/sms/prices", headers=headers)).json()
    assert listed["error"] == 0 and listed["errorDescription"] == "No errors"
    prices = {p["country"]: p for p in listed["prices"]}
    assert len(prices) == len(listed["prices"]) > 200
    assert prices["UA"] == {"type": "sms", "country": "UA", "country_name": "Ukraine", "mcc": "255", "mnc": "0",
                            "price": "0.0350000", "currency": "EUR"}
    tariff = {p["country"]: p["price"] for p in (await client.get("/rest/sms/prices/1", headers=headers)).json()["prices"]}
    assert tariff["UA"] == "0.0437500"

    _, usd_key = await make_account(app_platform, currency="USD")
    usd = {p["country"]: p for p in (await client.get("/v1.0/sms/prices", headers={"X-API-KEY": usd_key})).json()["prices"]}
    assert usd["UA"]["currency"] == "USD" and usd["UA"]["price"] == "0.0378000"

    forbid_direction(app_platform, "GL")
    after = {p["country"] for p in (await client.get("/rest/sms/prices", headers=headers)).json()["prices"]}
    assert "GL" in prices and "GL" not in after


async def test_balance_amount_and_limit_are_decimal_strings(client, app_platform):
    _, key = await make_account(app_platform, balance="12.5", credit="3", currency="UAH")
    headers = {"X-API-KEY": key}
    assert (await client.get("/rest/common/balance", headers=headers)).json() == {
        "error": 0,
        "errorDescription": "No errors",
        "amount": "12.5000000",
        "currency": "UAH",
        "limit": "3.0000000",
    }
    sent = (await client.put("/rest/sms/create", json=phone_body(), headers=headers)).json()["result"]
    assert sent["currency"] == "UAH"
    left = (await client.get("/rest/common/balance", headers=headers)).json()["amount"]
    assert Decimal(left) == Decimal("12.5") - Decimal(str(sent["price"]))
    assert to_units(Decimal(left)) == to_units(Decimal("12.5")) - to_units(Decimal(str(sent["price"])))
