"""A campaign through the API and the engine to final statuses, on SQLite."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from relaybox.store.tables import messages
from tests.conftest import wait_until
from tests.factories import DELIVERED, EXPIRED, FAILED, UNDELIVERED, UNKNOWN

MAGIC = {
    DELIVERED: "delivered",
    UNDELIVERED: "undelivered",
    EXPIRED: "expired",
    FAILED: "failed",
    UNKNOWN: "unknown",
}


async def test_campaign_reaches_documented_final_statuses(client, headers, app_platform):
    body = {"sender": "relaybox", "text": "Hello", "phones": [{"number": n} for n in MAGIC]}
    sent = await client.post("/api/campaigns/sms/send", json=body, headers=headers)
    assert sent.status_code == 200, sent.text
    campaign = sent.json()["data"]
    assert campaign["status"] == "sending"
    assert campaign["calculated_price"] == 0.175

    async def done():
        r = await client.get(f"/api/campaigns/{campaign['id']}/detail", headers=headers)
        return r.json()["data"] if r.json()["data"]["status"] == "done" else None

    detail = await wait_until(done)
    listed = await client.get("/api/messages", params={"filter[campaign_id]": campaign["id"]}, headers=headers)
    statuses = {m["phone"]: m["status"] for m in listed.json()["data"]}
    assert statuses == MAGIC

    # counters equal a count of the campaign's messages by status
    async with app_platform.db.read() as conn:
        rows = await conn.execute(
            select(messages.c.status, func.count()).where(messages.c.campaign_id == campaign["id"]).group_by(messages.c.status)
        )
        counted = Counter(dict(rows.all()))
    for status, n in detail["statistics"].items():
        if status in ("not_viber_user", "not_rcs_user"):
            continue
        assert n == counted.get(status, 0), status

    # the failed message (rejected at submit) was refunded: 4 charged × 0.035
    balance = (await client.get("/api/accounts/balance", headers=headers)).json()["data"]
    assert balance["balance"] == 100 - 4 * 0.035
