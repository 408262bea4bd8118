"""relaybox.client reads answers shaped as BSG's cloud sends them: the response examples of BSG's
One API spec (tests/data/bsg_one_api_examples.json, copied from the spec) fed through
httpx.MockTransport and parsed into the client's models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from relaybox.client import (
    AsyncClient,
    Client,
    DuplicateRequest,
    Retry,
    ValidationError,
)

EXAMPLES = json.loads((Path(__file__).parent.parent / "data" / "bsg_one_api_examples.json").read_text())

#: (method, path) -> example key: the routes of a pretend BSG cloud.
ROUTES = {
    ("POST", "/api/auth/login"): "login 200",
    ("GET", "/api/accounts/balance"): "account_balance 200",
    ("GET", "/api/accounts/tariff"): "account_tariffs 200",
    ("POST", "/api/campaigns/price"): "campaign_price 200",
    ("GET", "/api/campaigns/53651994/detail"): "campaign_details 200",
    ("GET", "/api/campaigns"): "campaigns 200",
    ("GET", "/api/campaigns/53651994"): "campaign 200",
    ("POST", "/api/campaigns/sms/send"): "sms_send 200",
    ("GET", "/api/messages"): "get_messages 200",
    ("POST", "/api/messages/send"): "send_message 200",
    ("PATCH", "/api/campaigns/53703420/stop"): "campaign_stop 200",
    ("PATCH", "/api/campaigns/53651994/stop"): "campaign_stop 422",
}


def cloud(request: httpx.Request) -> httpx.Response:
    key = ROUTES.get((request.method, request.url.path))
    if key is None:
        return httpx.Response(404, json={"message": "Not found"})
    if request.url.path != "/api/auth/login":
        # the spec's token is what the client must now present
        assert request.headers["Authorization"] == "Bearer " + EXAMPLES["login 200"]["bearer"]
    return httpx.Response(int(key.split()[1]), json=EXAMPLES[key])


@pytest.fixture
def client():
    with Client("https://one-api.example", "live_8JeF1mLckxI4QResuP6X", transport=httpx.MockTransport(cloud)) as c:
        yield c


def test_balance_and_tariffs(client):
    balance = client.balance()
    assert balance.balance == Decimal("-50.25") and balance.credit == Decimal("125") and balance.currency == "USD"
    tariffs = client.tariffs()
    assert [t.code for t in tariffs] == [9, 9] and tariffs[0].name == "Best quality" and not tariffs[0].is_default


def test_the_spec_token_is_kept_with_its_lifetime(client):
    before = client._session.clock()
    client.balance()  # logs in first
    assert client._session.token == EXAMPLES["login 200"]["bearer"]
    # the example JWT lives 30 days (exp - iat): counted from now on the client's clock, whatever the server's says
    assert before + 2592000 <= client._session.token_expires <= client._session.clock() + 2592000


def test_campaign_detail(client):
    d = client.campaign_detail(53651994)
    assert d.status == "done" and d.is_final and d.type == "sms"
    assert d.statistics["delivered"] == 7 and d.statistics["undelivered"] == 3 and d.statistics["not_rcs_user"] == 0
    assert d.total_price == Decimal("0.16") and d.currency == "USD" and d.total_messages == 10
    assert d.started_at == datetime(2024, 4, 3, 12, 14, 49, tzinfo=UTC)
    assert d.actual_start_at == datetime(2024, 4, 3, 12, 15, 6, tzinfo=UTC)
    assert d.alternative_channels == []  # BSG's example: a list; relaybox: an object or null


def test_campaign_get_send_and_list(client):
    c = client.campaign(53651994)
    assert (c.statistics.delivered, c.statistics.sent) == (7, 10)
    assert c.calculated_price == Decimal("0") and c.currency is None
    sent = client.send_sms([380661231231], "test", "Vet klinika")
    assert sent.id == 53703353 and sent.calculated_price == Decimal("0.015") and sent.real_start_at is None
    page = client.campaigns(limit=50)
    assert page.total == 1 and page.limit == 50 and len(page.items) == 2
    # ISO 8601 with an offset, as the list example writes its times
    assert page.items[0].created_at == datetime(2000, 1, 23, 4, 56, 7, tzinfo=UTC)
    assert page.items[0].calculated_price == Decimal("0.0527088")  # exactly, not a binary float's expansion
    assert page.next_offset is None  # total says 1: the walk stops after this page
    assert len(list(client.iter_campaigns())) == 2


def test_messages_and_single_send(client):
    page = client.messages()
    m = page.items[0]
    assert (m.id, m.campaign_id, m.phone, m.status, m.parts, m.country) == (4419393338, 58982653, 380981171206, "delivered", 1, "UA")
    assert m.amount.value == Decimal("0.0100000") and m.amount.currency == "UAH"
    assert m.delivered_at == datetime(2025, 3, 20, 5, 11, 21, tzinfo=UTC)
    assert (page.total, page.offset, page.limit) == (1, 0, 30)
    one = client.send_message(380661231231, "Hello!", "test")
    assert one.id == 3272625619 and one.status == "accepted" and one.amount.value == Decimal("1.2079098")
    assert one.campaign_id is None and one.sent_at is None


def test_price_and_stop(client):
    price = client.price([38267161234], "hello!", "Vet klinika")
    assert price.price == Decimal("0.0527088") and price.currency == "USD"
    stopped = client.stop_campaign(53703420)
    assert stopped.status == "stopped" and stopped.start_at == datetime(2025, 4, 1, tzinfo=UTC)


def test_stop_refused_with_an_empty_error_list(client):
    with pytest.raises(ValidationError) as caught:
        client.stop_campaign(53651994)
    assert caught.value.message == "Invalid campaign status" and caught.value.errors == {}
    assert caught.value.status_code == 422


@pytest.mark.parametrize("key, message, errors", [
    ("campaign_price 422 invalid_tariff", "Tariff was not found", {}),
    ("campaign_price 422 invalid_data", "The given data was invalid.",
     {"messages0phone": ["This value is too long. It should have 15 characters or less."]}),
])
def test_validation_errors_as_the_cloud_sends_them(key, message, errors):
    transport = httpx.MockTransport(lambda r: httpx.Response(422, json=EXAMPLES[key]))
    with Client("https://one-api.example", "live_x" * 4, auth="key", transport=transport) as c:
        with pytest.raises(ValidationError) as caught:
            c.price([38267161234], "hello!", "Vet klinika")
    assert caught.value.message == message and caught.value.errors == errors


def test_the_cloud_duplicate_answer_is_raised_not_retried():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(429, json=EXAMPLES["campaign_price 429"])

    with Client("https://one-api.example", "live_" + "x" * 20, auth="key", transport=httpx.MockTransport(handler),
                retry=Retry(attempts=5)) as c:
        with pytest.raises(DuplicateRequest) as caught:
            c.send_sms([380661231231], "test", "Vet klinika")
    assert len(seen) == 1 and caught.value.retry_after is None


async def test_async_client_reads_the_same_shapes():
    async def handler(request):
        return cloud(request)

    async with AsyncClient("https://one-api.example", "live_8JeF1mLckxI4QResuP6X",
                           transport=httpx.MockTransport(handler)) as c:
        d = await c.campaign_detail(53651994)
        assert d.total_price == Decimal("0.16")
        items = [m async for m in c.iter_messages()]
        assert [m.id for m in items] == [4419393338]
