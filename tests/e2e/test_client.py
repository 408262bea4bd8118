"""relaybox.client against a real server over HTTP (both backends): tokens, sending, statuses,
page walks, both API families, and every error mapped."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from relaybox.client import (
    AsyncClient,
    AuthError,
    Client,
    DuplicateRequest,
    LegacyAuthError,
    LegacyError,
    LegacyNotFound,
    NotFound,
    ValidationError,
)


@pytest.fixture(scope="module")
def key(live_server):
    return live_server.create_account(balance="1000")


@pytest.fixture
def client(live_server, key):
    with Client(live_server.base_url, key) as c:
        yield c


def paths_seen(client: Client) -> list[str]:
    """The paths the client requests from now on (an httpx event hook)."""
    seen: list[str] = []
    client._http.event_hooks["request"].append(lambda request: seen.append(f"{request.method} {request.url.path}"))
    return seen


def wait_done(client: Client, campaign_id: int):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        detail = client.campaign_detail(campaign_id)
        if detail.is_final:
            return detail
        time.sleep(0.1)
    raise AssertionError(f"campaign {campaign_id} not done: {detail}")


def test_login_on_first_use_then_the_token(client):
    seen = paths_seen(client)
    client.balance()
    client.balance()
    assert seen == ["POST /api/auth/login", "GET /api/accounts/balance", "GET /api/accounts/balance"]
    token = client._session.token
    assert token and token.count(".") == 2


def test_refresh_when_the_token_nears_its_end(client):
    client.balance()
    seen = paths_seen(client)
    client._session.refresh_margin = 10**9  # every token now counts as about to expire
    client.balance()
    assert seen == ["POST /api/auth/refresh", "GET /api/accounts/balance"]
    assert client.refresh().count(".") == 2


def test_a_refused_token_means_a_new_login_and_the_call_again(client):
    client.balance()
    client._session.token = client._session.token[:-4] + "AAAA"  # a forged signature: 401
    seen = paths_seen(client)
    assert client.balance().currency == "EUR"
    assert seen == ["GET /api/accounts/balance", "POST /api/auth/login", "GET /api/accounts/balance"]


def test_bad_key_is_auth_error_in_both_families(live_server):
    with Client(live_server.base_url, "test_" + "n" * 24) as c:
        with pytest.raises(AuthError) as caught:
            c.balance()
        assert caught.value.status_code == 401
        with pytest.raises(LegacyAuthError) as legacy:
            c.legacy.balance()
        assert legacy.value.code == 1 and isinstance(legacy.value, AuthError)


def test_send_detail_and_status(client):
    campaign = client.send_sms([380971230011, "+380 97 123 0012", (380971230013, "clientref1")], "hello", "relaybox")
    assert campaign.status in ("accepted", "sending", "done") and campaign.calculated_price > 0
    detail = wait_done(client, campaign.id)
    assert detail.total_messages == 3 and detail.statistics["delivered"] == 3 and detail.total_price > 0
    by_ref = client.message_by_reference("clientref1")
    assert by_ref.phone == 380971230013 and by_ref.campaign_id == campaign.id and by_ref.status == "delivered"
    assert client.message(by_ref.id) == by_ref
    one = client.send_message(380971230014, "single", "relaybox", reference_id="clientref2")
    assert one.status == "accepted" and one.amount.value > 0


def test_page_walk_over_several_pages(client):
    phones = [380972000000 + i for i in range(40)]
    campaign = client.send_sms(phones, "pages", "relaybox")
    seen = paths_seen(client)
    walked = list(client.iter_messages(campaign_id=campaign.id, limit=15))
    assert sorted(m.phone for m in walked) == phones
    assert len({m.id for m in walked}) == 40
    assert seen.count("GET /api/messages") == 3  # 15 + 15 + 10
    first = client.messages(campaign_id=campaign.id, limit=15)
    assert first.total == 40 and first.next_offset == 15


async def test_async_client(live_server, key):
    async with AsyncClient(live_server.base_url, key) as c:
        campaign = await c.send_sms([380973000000 + i for i in range(20)], "async", "relaybox")
        walked = [m async for m in c.iter_messages(campaign_id=campaign.id, limit=15)]
        assert len(walked) == 20
        assert (await c.campaign(campaign.id)).id == campaign.id


def test_legacy_create_and_status(client):
    created = client.legacy.create_sms("380971230021", "legacy one", "legref1", "relaybox")
    assert created.ok and created.id and created.price > 0
    status = client.legacy.sms_status(created.id)
    assert status.msisdn == "380971230021" and status.reference == "legref1"
    assert client.legacy.sms_status_by_reference("legref1").id == created.id
    task = client.legacy.create_task([("380971230022", "legref2"), ("12", "legref3")], "legacy task", "relaybox")
    assert [r.error for r in task.result] == [0, 21] and task.task_id
    deadline = time.monotonic() + 30
    while (t := client.legacy.task_status(task.task_id)).delivered < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert t.delivered == 1 and t.originator == "relaybox"
    assert client.legacy.balance().currency == "EUR" and client.legacy.prices()


def test_legacy_codes(client):
    with pytest.raises(LegacyError) as bad_phone:
        client.legacy.create_sms("12", "x", "legref9", "relaybox")
    assert bad_phone.value.code == 21
    with pytest.raises(LegacyError) as empty_text:
        client.legacy.create_sms("380971230029", "", "legref10", "relaybox")
    assert empty_text.value.code == 26
    with pytest.raises(LegacyNotFound) as missing:
        client.legacy.sms_status(987654321)
    assert missing.value.code == 20 and isinstance(missing.value, NotFound)
    with pytest.raises(LegacyNotFound) as no_task:
        client.legacy.task_status(987654321)
    assert no_task.value.code == 30


def test_one_api_errors(client):
    with pytest.raises(NotFound) as missing:
        client.campaign_detail(987654321)
    assert missing.value.status_code == 404
    with pytest.raises(ValidationError) as invalid:
        client.send_sms([380971230031, "12"], "", "relaybox")
    assert invalid.value.status_code == 422
    assert "phones.1.number" in invalid.value.errors and "text" in invalid.value.errors
    with pytest.raises(ValidationError) as bad_filter:
        client.messages(limit=5)
    assert "page.limit" in bad_filter.value.errors
    done = client.send_sms([380971230032], "to stop", "relaybox")
    wait_done(client, done.id)
    with pytest.raises(ValidationError) as late:
        client.stop_campaign(done.id)
    assert late.value.message == "Invalid campaign status" and late.value.errors == {}


def test_duplicate_send_is_raised_once_and_never_repeated(client):
    client.send_sms([380971230041], "twice", "relaybox")
    seen = paths_seen(client)
    with pytest.raises(DuplicateRequest) as caught:
        client.send_sms([380971230041], "twice", "relaybox")
    assert caught.value.status_code == 429
    assert seen == ["POST /api/campaigns/sms/send"]  # no retry: it would send twice after the window


def test_stop_a_scheduled_campaign(client):
    start = datetime.now(UTC) + timedelta(days=2)
    scheduled = client.send_sms([380971230051, 380971230052], "later", "relaybox", start_at=start)
    assert scheduled.status == "scheduled"
    stopped = client.stop_campaign(scheduled.id)
    assert stopped.status == "stopped"
    assert client.campaign_detail(scheduled.id).is_final


def test_unreachable_server_is_a_transport_error():
    from relaybox.client import Retry, TransportError

    with Client("http://127.0.0.1:9", "test_" + "k" * 20, retry=Retry(attempts=2, backoff=0.01)) as c:
        with pytest.raises(TransportError):
            c.balance()


def test_individual_price_and_tariffs(client):
    quote = client.price([380971230061, 380971230062], "two of these", "relaybox")
    campaign = client.send_individual([
        {"phone": 380971230061, "text": "two of these", "sender": "relaybox"},
        {"phone": "+380971230062", "text": "two of these", "sender": "relaybox", "reference_id": "indiv1"},
    ])
    assert campaign.calculated_price == quote.price and quote.currency == "EUR"
    assert client.message_by_reference("indiv1").campaign_id == campaign.id
    assert any(t.is_default for t in client.tariffs(limit=15))
