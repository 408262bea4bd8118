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


async def test_concurrent_requests_share_transactions_but_not_fates(client, app_platform):
    _, key = await make_account(app_platform, balance="0.1")  # enough for two messages at 0.035
    headers = {"X-API-KEY": key}
    requests = [body(1, reference="dup"), body(2, reference="dup"), body(3), body(3), body(4), body(5)]
    answers = await asyncio.gather(*(client.post("/api/messages/send", json=b, headers=headers) for b in requests))
    codes = [a.status_code for a in answers]
    assert codes.count(200) == 2, [a.text for a in answers]
    assert 429 in codes  # the identical body
    assert any(a.status_code == 422 and "phone.reference_id" in a.json()["errors"] for a in answers)
    assert any(a.status_code == 422 and a.json()["message"] == "Not enough money" for a in answers)

    async with app_platform.db.read() as conn:
        account = await accounts_store.caller_for_key(conn, key)
        balance = (await accounts_store.get_account(conn, account.account_id)).balance
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
