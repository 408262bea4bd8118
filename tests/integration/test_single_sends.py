"""POST /api/messages/send through the group commit: each request stands or falls alone."""

from __future__ import annotations

import asyncio

from relaybox.store import accounts as accounts_store
from tests.factories import make_account


def body(n: int, text: str = "hello", reference: str | None = None) -> dict:
    phone = {"number": str(380971000000 + n)}
    if reference:
        phone["reference_id"] = reference
    return {"channels": ["sms"], "phone": phone, "sms": {"sender": "relaybox", "text": text}}


async def test_concurrent_duplicates_and_reference_conflicts(client, app_platform):
    _, key = await make_account(app_platform, balance="100")
    headers = {"X-API-KEY": key}
    requests = [body(1, reference="dup"), body(2, reference="dup"), body(3), body(3), body(4)]
    answers = await asyncio.gather(*(client.post("/api/messages/send", json=b, headers=headers) for b in requests))
    codes = [a.status_code for a in answers]
    assert codes.count(200) == 3, [a.text for a in answers]  # one of the "dup" pair, one twin, body 4
    assert sorted(codes[:2]) == [200, 422]
    refused = answers[codes[:2].index(422)].json()
    assert "phone.reference_id" in refused["errors"]
    assert sorted(codes[2:4]) == [200, 429]
    assert codes[4] == 200


async def test_concurrent_requests_are_covered_by_the_balance_one_by_one(client, app_platform):
    account_id, key = await make_account(app_platform, balance="0.1")  # enough for two messages at 0.035
    headers = {"X-API-KEY": key}
    answers = await asyncio.gather(
        *(client.post("/api/messages/send", json=body(10 + n), headers=headers) for n in range(5))
    )
    codes = [a.status_code for a in answers]
    assert codes.count(200) == 2, [a.text for a in answers]
    assert all(a.json()["message"] == "Not enough money" for a in answers if a.status_code == 422)
    async with app_platform.db.read() as conn:
        balance = (await accounts_store.get_account(conn, account_id)).balance
    assert balance == 10**6 - 2 * 350000


async def test_a_refused_body_is_not_a_duplicate(client, app_platform):
    account_id, key = await make_account(app_platform, balance="0")
    headers = {"X-API-KEY": key}
    first = await client.post("/api/messages/send", json=body(7), headers=headers)
    assert first.status_code == 422 and first.json()["message"] == "Not enough money"
    async with app_platform.db.write() as conn:
        await accounts_store.refund(conn, {account_id: 10**7})
    again = await client.post("/api/messages/send", json=body(7), headers=headers)
    assert again.status_code == 200, again.text
    third = await client.post("/api/messages/send", json=body(7), headers=headers)
    assert third.status_code == 429
