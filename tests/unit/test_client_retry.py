"""Retries of relaybox.client (client/flow.py) against scripted answers (httpx.MockTransport):
which calls are repeated, after how long (the delays the client asks to sleep are recorded,
no wall clock), and how many times."""

from __future__ import annotations

from email.utils import format_datetime
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from relaybox.client import AsyncClient, Client, RateLimited, Retry, ServerError, TransportError
from relaybox.client.flow import retry_after_seconds

KEY = "test_" + "k" * 20
BALANCE = {"data": {"balance": 10.5, "currency": "EUR", "credit": 0}}
CAMPAIGN = {"data": {"id": 7, "status": "sending", "statistics": {"delivered": 0, "sent": 0}, "calculated_price": 0.035}}


class Script:
    """Answers in order (a response or an exception to raise); records the requests."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def make(script: Script, retry: Retry | None = None) -> tuple[Client, list[float]]:
    slept: list[float] = []
    client = Client("http://relaybox.test", KEY, auth="key", transport=httpx.MockTransport(script), retry=retry)
    client._sleep = slept.append
    return client, slept


def test_429_waits_the_retry_after_seconds_then_succeeds():
    script = Script(httpx.Response(429, headers={"Retry-After": "3"}, json={"message": "Too Many Attempts."}),
                    httpx.Response(200, json=BALANCE))
    client, slept = make(script)
    assert client.balance().balance == 10.5
    assert slept == [3.0] and len(script.requests) == 2


def test_429_on_a_send_is_retried_too():
    # a rate-limited request was not acted on: repeating even a send is safe
    script = Script(httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json=CAMPAIGN))
    client, slept = make(script)
    assert client.send_sms([380971234567], "hi", "relaybox").id == 7
    assert slept == [1.0] and script.requests[0].content == script.requests[1].content


def test_retry_after_as_an_http_date():
    when = datetime.now(UTC) + timedelta(seconds=30)
    response = httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    assert 25 <= retry_after_seconds(response) <= 30
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_a_retry_after_beyond_max_wait_is_raised_at_once():
    script = Script(httpx.Response(429, headers={"Retry-After": "3600"}, json={"message": "slow down"}))
    client, slept = make(script, Retry(max_wait=60))
    with pytest.raises(RateLimited) as caught:
        client.balance()
    assert caught.value.retry_after == 3600 and slept == [] and len(script.requests) == 1


def test_attempts_are_bounded_and_backoff_grows():
    script = Script(*[httpx.Response(503) for _ in range(4)])
    client, slept = make(script, Retry(attempts=4, backoff=1.0, max_backoff=3.0))
    with pytest.raises(ServerError) as caught:
        client.balance()
    assert caught.value.status_code == 503 and len(script.requests) == 4
    # 1, 2, 4 capped at 3 — each with jitter between half and all of it
    assert len(slept) == 3
    for delay, full in zip(slept, (1.0, 2.0, 3.0)):
        assert full / 2 <= delay <= full


def test_5xx_on_a_read_is_retried():
    script = Script(httpx.Response(502), httpx.Response(200, json=BALANCE))
    client, _ = make(script)
    assert client.balance().currency == "EUR" and len(script.requests) == 2


def test_5xx_on_a_send_is_not_retried():
    # the campaign may have been accepted before the error: repeating could send it twice
    script = Script(httpx.Response(500, json={"message": "Server Error"}), httpx.Response(200, json=CAMPAIGN))
    client, slept = make(script)
    with pytest.raises(ServerError):
        client.send_sms([380971234567], "hi", "relaybox")
    assert len(script.requests) == 1 and slept == []


def test_a_connection_never_made_is_retried_even_for_a_send():
    script = Script(httpx.ConnectError("refused"), httpx.Response(200, json=CAMPAIGN))
    client, slept = make(script)
    assert client.send_sms([380971234567], "hi", "relaybox").id == 7
    assert len(script.requests) == 2 and len(slept) == 1


def test_a_lost_reply_to_a_send_is_not_retried():
    script = Script(httpx.ReadTimeout("no reply"), httpx.Response(200, json=CAMPAIGN))
    client, _ = make(script)
    with pytest.raises(TransportError):
        client.send_sms([380971234567], "hi", "relaybox")
    assert len(script.requests) == 1


def test_a_lost_reply_to_a_read_is_retried():
    script = Script(httpx.ReadTimeout("no reply"), httpx.Response(200, json=BALANCE))
    client, _ = make(script)
    assert client.balance().currency == "EUR"


def test_an_answer_that_is_not_json_is_a_transport_error():
    script = Script(httpx.Response(200, text="<html>proxy</html>"))
    client, _ = make(script)
    with pytest.raises(TransportError, match="not JSON"):
        client.balance()


async def test_async_client_retries_the_same_way():
    script = Script(httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(503),
                    httpx.Response(200, json=BALANCE))
    slept: list[float] = []

    async def handler(request):
        return script(request)

    async def sleep(seconds):
        slept.append(seconds)

    async with AsyncClient("http://relaybox.test", KEY, auth="key", transport=httpx.MockTransport(handler),
                           retry=Retry(backoff=0.5)) as client:
        client._sleep = sleep
        assert (await client.balance()).currency == "EUR"
    assert slept[0] == 2.0 and 0.5 <= slept[1] <= 1.0 and len(script.requests) == 3
