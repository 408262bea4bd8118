"""Breakdowns and time series (services/breakdowns.py, read from the roll-ups) against a direct
computation over the messages, on both backends, after real traffic through the API and engine."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

from sqlalchemy import select

from relaybox.domain.delivery_times import bucket_of, percentile
from relaybox.domain.models import Caller
from relaybox.domain.money import from_units
from relaybox.services import breakdowns
from relaybox.store.rows import message_from_row
from relaybox.store.tables import messages
from tests.conftest import wait_until
from tests.factories import DELIVERED, EXPIRED, FAILED, UNDELIVERED, UNKNOWN, extra_key

OUTCOMES = [DELIVERED, DELIVERED, DELIVERED, UNDELIVERED, EXPIRED, FAILED, UNKNOWN]
#: Operators: Kyivstar and Vodafone (Ukraine), Play (Poland); the last four digits pick the outcome.
PREFIXES = ["38097", "38050", "4873"]


def phones(n: int, offset: int = 0) -> list[int]:
    found = []
    for i in range(n):
        prefix = PREFIXES[i % len(PREFIXES)]
        magic = str(OUTCOMES[i % len(OUTCOMES)])[-4:]
        middle = 12 - len(prefix) - 4 if prefix.startswith("380") else 11 - len(prefix) - 4
        found.append(int(f"{prefix}{(i + offset) % 10**middle:0{middle}d}{magic}"))
    return found


async def _all_messages(platform, account_id):
    async with platform.db.read() as conn:
        rows = await conn.execute(select(messages).where(messages.c.account_id == account_id))
        return [message_from_row(r) for r in rows]


def _direct(found):
    by_status = Counter(m.status for m in found)
    by_network = defaultdict(Counter)
    cost = 0
    histogram = Counter()
    for m in found:
        by_network[(m.country, m.brand)][m.status] += 1
        refunded = m.status == "failed" and m.sent_at is None  # an SMS failed before an operator took it
        cost += 0 if (m.is_test or refunded) else m.price
        if m.status in ("delivered", "read") and m.sent_at and m.delivered_at:
            histogram[bucket_of(m.sent_at, m.delivered_at)] += 1
    return by_status, by_network, cost, histogram


async def test_breakdowns_match_the_messages(client, headers, app_platform, account):
    account_id, _ = account
    test_key = await extra_key(app_platform, account_id, mode="test")
    sent = await client.post("/api/campaigns/sms/send", headers=headers,
                             json={"sender": "relaybox", "text": "Breakdown", "phones": [{"number": p} for p in phones(42)]})
    assert sent.status_code == 200, sent.text
    campaign_id = sent.json()["data"]["id"]
    single = await client.post("/api/messages/send", headers={"X-API-KEY": test_key},
                               json={"channels": ["sms"], "phone": {"number": phones(1, 77)[0]},
                                     "sms": {"sender": "relaybox", "text": "Single"}})
    assert single.status_code == 200, single.text

    async def settled():
        found = await _all_messages(app_platform, account_id)
        return found if len(found) == 43 and all(m.status not in ("accepted", "sending", "sent", "scheduled")
                                                 for m in found) else None

    found = await wait_until(settled, timeout=60)
    caller = Caller(account_id=account_id, is_test=False)

    # one campaign
    in_campaign = [m for m in found if m.campaign_id == campaign_id]
    by_status, by_network, cost, histogram = _direct(in_campaign)
    b = await breakdowns.campaign_breakdown(app_platform, caller, campaign_id)
    assert b.total == 42 and {k: v for k, v in b.by_status.items() if v} == dict(by_status)
    assert {(n.country, n.brand): Counter(n.by_status) for n in b.networks} == dict(by_network)
    assert b.cost == from_units(cost) and b.currency == "EUR"
    assert b.delivery_times.count == sum(histogram.values())
    assert b.delivery_times.p50 == percentile(histogram, 50) and b.delivery_times.p99 == percentile(histogram, 99)
    kyivstar = [n for n in b.networks if n.brand == "Kyivstar"][0]
    assert (kyivstar.country_name, kyivstar.mcc, kyivstar.mnc) == ("Ukraine", "255", "02")
    assert {(n.country, n.brand) for n in b.networks} == {("UA", "Kyivstar"), ("UA", "Vodafone"), ("PL", "Play")}

    # the account over a time range: the campaign and the (test, never charged) single message
    now = app_platform.clock()
    by_status, by_network, cost, histogram = _direct(found)
    a = await breakdowns.account_breakdown(app_platform, caller, now - timedelta(hours=1), now)
    assert a.total == 43 and {k: v for k, v in a.by_status.items() if v} == dict(by_status)
    assert a.cost == from_units(cost) and a.delivery_times.count == sum(histogram.values())
    empty = await breakdowns.account_breakdown(app_platform, caller, now - timedelta(days=3), now - timedelta(days=2))
    assert empty.total == 0 and empty.delivery_times.p50 is None

    # time series: per minute, against the messages' own times
    series = await breakdowns.time_series(app_platform, caller, now - timedelta(hours=1), now + timedelta(minutes=1),
                                          "minute")
    expected = defaultdict(Counter)
    for m in found:
        if m.sent_at:
            expected[m.sent_at.replace(second=0, microsecond=0)]["sent"] += 1
        if m.status in ("delivered", "read"):
            expected[m.delivered_at.replace(second=0, microsecond=0)]["delivered"] += 1
        elif m.status in ("failed", "undelivered", "expired", "unknown"):
            # failed before an operator: at the time of the change (no delivered_at)
            at = m.delivered_at or m.created_at
            expected[at.replace(second=0, microsecond=0)]["failed"] += 0 if not m.delivered_at else 1
    got = {p.at: Counter({"sent": p.sent, "delivered": p.delivered, "failed": p.failed}) for p in series.points}
    assert sum(p.sent for p in series.points) == sum(c["sent"] for c in expected.values())
    assert sum(p.delivered for p in series.points) == sum(c["delivered"] for c in expected.values())
    assert sum(p.failed for p in series.points) == sum(1 for m in found if m.status in
                                                       ("failed", "undelivered", "expired", "unknown"))
    for at, counts in expected.items():
        assert got[at]["sent"] == counts["sent"] and got[at]["delivered"] == counts["delivered"]
    campaign_series = await breakdowns.time_series(app_platform, caller, now - timedelta(hours=1), now, "hour",
                                                   campaign_id=campaign_id)
    assert sum(p.sent for p in campaign_series.points) == sum(1 for m in in_campaign if m.sent_at)


async def test_other_accounts_campaign_and_bad_ranges(client, headers, app_platform, account):
    sent = await client.post("/api/campaigns/sms/send", headers=headers,
                             json={"sender": "relaybox", "text": "Mine", "phones": [{"number": DELIVERED}]})
    campaign_id = sent.json()["data"]["id"]
    r = await client.get(f"/api/x-relaybox/campaigns/{campaign_id}/breakdown", headers=headers)
    assert r.status_code == 200 and r.json()["data"]["total"] == 1
    from tests.factories import make_account

    _, other = await make_account(app_platform)
    r = await client.get(f"/api/x-relaybox/campaigns/{campaign_id}/breakdown", headers={"X-API-KEY": other})
    assert r.status_code == 404 and r.json() == {"message": "Not found"}
    r = await client.get("/api/x-relaybox/timeseries", headers={"X-API-KEY": other},
                         params={"campaign_id": campaign_id})
    assert r.status_code == 404
    for params, field in [({"from": "2026-13-01"}, "from"), ({"from": "2026-11-02", "to": "2026-11-01"}, "from"),
                          ({"from": "2026-01-01", "to": "2026-11-01"}, "from"), ({"interval": "week"}, "interval"),
                          ({"interval": "minute", "from": "2026-10-01", "to": "2026-11-01"}, "interval"),
                          ({"campaign_id": "x"}, "campaign_id")]:
        r = await client.get("/api/x-relaybox/timeseries", headers=headers, params=params)
        assert r.status_code == 422 and field in r.json()["errors"], (params, r.text)
    r = await client.get("/api/x-relaybox/breakdown", headers=headers, params={"to": "never"})
    assert r.status_code == 422 and "to" in r.json()["errors"]
    r = await client.get("/api/x-relaybox/breakdown", headers=headers)
    assert r.status_code == 200 and r.json()["data"]["statuses"]["accepted"] + sum(
        v for k, v in r.json()["data"]["statuses"].items() if k != "accepted") == 1
