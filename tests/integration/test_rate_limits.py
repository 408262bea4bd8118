"""Per-account rate limits (services/rate_limits.py): 429 with Retry-After in both families, nothing
written or charged for a refused request, one account's limits never touching another's, and one
limit held by several API processes on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import math
import time

import httpx
import pytest
from sqlalchemy import func, select

from relaybox.api.app import create_app
from relaybox.store import rate_limits as limits_store
from relaybox.store.tables import accounts, campaigns, messages
from tests.factories import DELIVERED, make_account


async def set_limits(platform, account_id: int, **values) -> None:
    async with platform.db.write() as conn:
        assert await limits_store.set_limits(conn, account_id, {f"rate_{k}": v for k, v in values.items()})


async def stored(platform, account_id: int) -> tuple[int, int, int]:
    """(messages, campaigns, balance units) of the account."""
    async with platform.db.read() as conn:
        n_messages = (await conn.execute(select(func.count()).where(messages.c.account_id == account_id))).scalar()
        n_campaigns = (await conn.execute(select(func.count()).where(campaigns.c.account_id == account_id))).scalar()
        balance = (await conn.execute(select(accounts.c.balance).where(accounts.c.id == account_id))).scalar()
    return n_messages, n_campaigns, balance


def retry_after(response: httpx.Response) -> int:
    value = response.headers["retry-after"]
    assert value.isdigit(), value  # whole seconds (RFC 9110 §10.2.3)
    assert int(value) >= 1
    return int(value)


def single(phone: int = DELIVERED, text: str = "hello") -> dict:
    return {"phone": {"number": phone}, "channels": ["sms"], "sms": {"text": text, "sender": "relaybox"}}


def campaign(n: int, text: str = "hello", first: int = 380971230100) -> dict:
    return {"sender": "relaybox", "text": text, "phones": [{"number": first + i} for i in range(n)]}


async def test_request_limit_one_api(client, app_platform):
    account_id, key = await make_account(app_platform)
    await set_limits(app_platform, account_id, requests_per_second=1, requests_burst=3)
    headers = {"X-API-KEY": key}
    for _ in range(3):
        assert (await client.get("/api/accounts/balance", headers=headers)).status_code == 200
    before = await stored(app_platform, account_id)
    assert before[:2] == (0, 0)

    # the burst is spent: what is sent together now is refused, but for the tokens that came back
    # meanwhile (one a second: a loaded machine may take a second or two over the requests above) —
    # the hot path of POST /api/messages/send (api/hot.py) and a campaign too, nothing written or charged
    answers = await asyncio.gather(
        *(client.get("/api/accounts/balance", headers=headers) for _ in range(3)),
        *(client.post("/api/messages/send", headers=headers, json=single(text=f"hi {i}")) for i in range(3)),
        *(client.post("/api/campaigns/sms/send", headers=headers, json=campaign(3, f"c{i}")) for i in range(3)),
    )
    refused = [r for r in answers if r.status_code == 429]
    assert len(refused) >= len(answers) - 2, [r.status_code for r in answers]
    for r in refused:
        assert r.json() == {"message": "Too Many Attempts."}
        retry_after(r)
    sends, campaigns_sent = (sum(r.status_code == 200 for r in part) for part in (answers[3:6], answers[6:]))
    assert sends < 3 and campaigns_sent < 3
    n_messages, n_campaigns, balance = await stored(app_platform, account_id)
    assert (n_messages, n_campaigns) == (sends + 3 * campaigns_sent, campaigns_sent)
    assert (balance == before[2]) == (sends + campaigns_sent == 0)

    # a JWT's requests count for the same account (login itself is a request)
    await asyncio.sleep(1.5)  # a token back (the shared bucket may count refills up to one exchange late)
    login = await client.post("/api/auth/login", json={"api_key": key})
    assert login.status_code == 200
    bearer = {"Authorization": f"Bearer {login.json()['bearer']}"}
    statuses = [(await client.get("/api/accounts/balance", headers=bearer)).status_code for _ in range(4)]
    assert statuses.count(429) >= 3


async def test_request_limit_legacy(client, app_platform):
    account_id, key = await make_account(app_platform)
    await set_limits(app_platform, account_id, requests_per_second=1, requests_burst=2)
    headers = {"X-API-KEY": key}
    for _ in range(2):
        assert (await client.get("/rest/common/balance", headers=headers)).json()["error"] == 0
    before = await stored(app_platform, account_id)

    # the burst is spent: requests sent together now are refused but for the tokens that came back
    # meanwhile (one a second: a loaded machine may take a second or two over the requests above)
    balances = [client.get("/rest/common/balance", headers=headers) for _ in range(4)]
    creates = [client.post("/rest/sms/create", headers=headers, json={
        "destination": "phone", "msisdn": str(DELIVERED), "reference": f"r{i}", "originator": "relaybox", "body": "hi"})
        for i in range(4)]
    answers = await asyncio.gather(*balances, *creates)
    refused = [r for r in answers if r.status_code == 429]
    assert len(refused) >= len(answers) - 2, [r.status_code for r in answers]
    for r in refused:
        assert r.json() == {"error": 11, "errorDescription": "Too many requests"}
        retry_after(r)
    accepted_creates = sum(r.status_code == 200 for r in answers[len(balances):])
    assert accepted_creates < len(creates)
    # a refused create writes nothing and charges nothing
    n_messages, n_campaigns, balance = await stored(app_platform, account_id)
    assert (n_messages, n_campaigns) == (before[0] + accepted_creates, before[1])
    assert (balance == before[2]) == (accepted_creates == 0)


async def test_message_limit_refuses_campaign_above_allowance(client, app_platform):
    account_id, key = await make_account(app_platform)
    await set_limits(app_platform, account_id, messages_per_second=1, messages_burst=10)
    headers = {"X-API-KEY": key}
    assert (await client.post("/api/campaigns/sms/send", headers=headers, json=campaign(6, "one"))).status_code == 200
    before = await stored(app_platform, account_id)

    # 6 + 6 > 10: the second campaign is refused whole, nothing written, nothing charged
    refused = await client.post("/api/campaigns/sms/send", headers=headers, json=campaign(6, "two", 380971230200))
    assert refused.status_code == 429
    assert refused.json() == {"message": "Too Many Attempts."}
    assert retry_after(refused) >= 2  # 2 messages short at 1 a second
    assert await stored(app_platform, account_id) == before

    # legacy: the same refusal, HTTP 429 and error 11, for phones and for one phone
    legacy = await client.post(
        "/rest/sms/create", headers=headers,
        json={"destination": "phones", "originator": "relaybox", "body": "three",
              "phones": [{"msisdn": str(380971230300 + i), "reference": f"p{i}"} for i in range(6)]},
    )
    assert legacy.status_code == 429 and legacy.json() == {"error": 11, "errorDescription": "Too many requests"}
    assert await stored(app_platform, account_id) == before

    # what remains can still be spent: 4 messages
    assert (await client.post("/api/campaigns/sms/send", headers=headers, json=campaign(4, "four", 380971230400))).status_code == 200
    one = await client.post("/api/messages/send", headers=headers, json=single(text="five"))
    assert one.status_code == 429
    retry_after(one)
    n_messages, _, _ = await stored(app_platform, account_id)
    assert n_messages == 10


async def test_refused_send_gives_its_message_tokens_back(client, app_platform):
    """A send the store refuses (a taken reference, not enough money) spends none of the allowance."""
    account_id, key = await make_account(app_platform)
    await set_limits(app_platform, account_id, messages_per_second=1, messages_burst=6)
    headers = {"X-API-KEY": key}
    first = single()
    first["phone"]["reference_id"] = "taken1"
    assert (await client.post("/api/messages/send", headers=headers, json=first)).status_code == 200
    body = campaign(5, "again")
    body["phones"][0]["reference_id"] = "taken1"
    refused = await client.post("/api/campaigns/sms/send", headers=headers, json=body)
    assert refused.status_code == 422
    again = single(text="dup")
    again["phone"]["reference_id"] = "taken1"
    assert (await client.post("/api/messages/send", headers=headers, json=again)).status_code == 422
    # both refusals gave their tokens back: 5 messages are still allowed
    assert (await client.post("/api/campaigns/sms/send", headers=headers, json=campaign(5, "fine"))).status_code == 200


async def test_a_campaign_larger_than_the_burst_passes_on_a_full_bucket(client, app_platform):
    account_id, key = await make_account(app_platform)
    await set_limits(app_platform, account_id, messages_per_second=2, messages_burst=3)
    headers = {"X-API-KEY": key}
    assert (await client.post("/api/campaigns/sms/send", headers=headers, json=campaign(8))).status_code == 200
    refused = await client.post("/api/messages/send", headers=headers, json=single())
    assert refused.status_code == 429
    assert retry_after(refused) >= 2  # in debt: 5 below zero at 2 a second


async def test_test_keys_are_limited(client, app_platform):
    account_id, key = await make_account(app_platform, mode="test")
    await set_limits(app_platform, account_id, requests_per_second=1, requests_burst=2, messages_per_second=1,
                     messages_burst=2)
    headers = {"X-API-KEY": key}
    assert (await client.post("/api/campaigns/sms/send", headers=headers, json=campaign(2))).status_code == 200
    assert (await client.post("/api/messages/send", headers=headers, json=single())).status_code == 429
    assert (await client.get("/api/accounts/balance", headers=headers)).status_code == 429


async def test_one_accounts_limit_does_not_touch_another(client, app_platform):
    noisy_id, noisy = await make_account(app_platform, name="noisy")
    _, quiet = await make_account(app_platform, name="quiet")
    await set_limits(app_platform, noisy_id, requests_per_second=1, requests_burst=5, messages_per_second=1,
                     messages_burst=5)
    flood = await asyncio.gather(
        *(client.post("/api/messages/send", headers={"X-API-KEY": noisy}, json=single(text=f"n{i}")) for i in range(60))
    )
    statuses = [r.status_code for r in flood]
    assert statuses.count(200) <= 5 and statuses.count(429) >= 55
    # the other account, with the default limits, is not refused anything meanwhile
    calm = await asyncio.gather(
        *(client.post("/api/messages/send", headers={"X-API-KEY": quiet}, json=single(text=f"q{i}")) for i in range(40)),
        *(client.get("/rest/common/balance", headers={"X-API-KEY": quiet}) for _ in range(20)),
    )
    assert [r.status_code for r in calm] == [200] * 60


async def test_defaults_come_from_the_settings(settings):
    settings = settings.model_copy(update={"rate_requests_per_second": 1, "rate_requests_burst": 2})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        _, key = await make_account(app.state.platform)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            statuses = [(await c.get("/api/accounts/balance", headers={"X-API-KEY": key})).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- several API processes on one PostgreSQL database --------------------------------------------


@pytest.fixture
async def two_apps(settings):
    """Two API processes' apps on one database, each with its own limiter (tests run them in one
    process; they share nothing but the database, as two processes would)."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several API processes share one limit on PostgreSQL")
    first, second = create_app(settings), create_app(settings)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://t") for a in (first, second)]
        try:
            yield first, second, clients
        finally:
            for c in clients:
                await c.aclose()


async def test_two_processes_share_one_request_limit(two_apps):
    first, second, (a, b) = two_apps
    account_id, key = await make_account(first.state.platform)
    await set_limits(first.state.platform, account_id, requests_per_second=1, requests_burst=20)
    headers = {"X-API-KEY": key}
    assert [(await a.get("/api/accounts/balance", headers=headers)).status_code for _ in range(20)] == [200] * 20
    await asyncio.sleep(3 * first.state.platform.limiter.interval + 0.1)  # both exchanged with the database
    # the second process knows the bucket is (nearly) empty: at most the second or so refilled since
    statuses = [(await b.get("/api/accounts/balance", headers=headers)).status_code for _ in range(10)]
    assert statuses.count(200) <= 2, statuses
    assert statuses.count(429) >= 8


async def test_two_processes_together_stay_within_the_bound(two_apps):
    """Both processes flood one account at once: what they accept together stays within
    burst + rate × T + (P - 1) × (burst + rate × (interval + round trip)) (docs/architecture.md)."""
    first, second, clients = two_apps
    account_id, key = await make_account(first.state.platform)
    rate, burst = 20, 20
    await set_limits(first.state.platform, account_id, requests_per_second=rate, requests_burst=burst,
                     messages_per_second=100000, messages_burst=100000)
    headers = {"X-API-KEY": key}
    accepted = [0, 0]
    start = time.monotonic()
    seconds = 3.0

    async def flood(i: int, j: int) -> None:
        n = 0
        while time.monotonic() - start < seconds:
            r = await clients[i].post("/api/messages/send", headers=headers, json=single(text=f"f{i}-{j}-{n}"))
            assert r.status_code == 200 or (r.status_code == 429 and "retry-after" in r.headers), r.text
            accepted[i] += r.status_code == 200
            n += 1

    await asyncio.gather(*(flood(i, j) for i in (0, 1) for j in range(4)))
    elapsed = time.monotonic() - start
    interval = first.state.platform.limiter.interval
    bound = burst + rate * elapsed + (burst + rate * (interval + 0.1))
    total = sum(accepted)
    assert total <= bound, (accepted, bound)
    # each process alone would have taken burst + rate × T: sharing is what keeps the sum near one
    assert total < 2 * (burst + rate * seconds) - burst / 2, accepted
    assert total >= burst, accepted  # and the limit does not refuse what it allows


async def test_legacy_partial_send_gives_back_the_tokens_of_refused_recipients(client, app_platform):
    """Legacy phones: a recipient whose reference is taken is refused alone (error 23); its token comes back."""
    account_id, key = await make_account(app_platform)
    await set_limits(app_platform, account_id, messages_per_second=1, messages_burst=4)
    headers = {"X-API-KEY": key}
    started = time.monotonic()
    first = await client.post(
        "/rest/sms/create", headers=headers,
        json={"destination": "phone", "msisdn": str(DELIVERED), "reference": "a1", "originator": "relaybox", "body": "x"},
    )
    assert first.json()["result"]["error"] == 0
    phones = [{"msisdn": str(380971230500 + i), "reference": ref} for i, ref in enumerate(["a1", "b2", "c3"])]
    answer = await client.post(
        "/rest/sms/create", headers=headers,
        json={"destination": "phones", "originator": "relaybox", "body": "y", "phones": phones},
    )
    assert [r["error"] for r in answer.json()["result"]] == [23, 0, 0]
    # 4 - 1 - 2 = 1 left (without the refused recipient's token back: 0), plus the 1 a second the
    # bucket refills while the test runs, which a loaded machine makes more than a second: so many
    # more messages pass, and then one is refused.
    passed = 0
    for n in range(10):
        answer = await client.post("/api/messages/send", headers=headers, json=single(text=f"z{n}"))
        if answer.status_code == 429:
            break
        assert answer.status_code == 200, answer.text
        passed += 1
    refilled = math.floor(time.monotonic() - started)  # whole tokens the bucket can have regained
    assert 1 <= passed <= 1 + refilled, (passed, refilled)
