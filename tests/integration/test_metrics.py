"""Prometheus metrics, request ids and JSON logs, over the ASGI app (one process, in-process engine)."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from relaybox.api.app import create_app
from relaybox.observability import logs
from relaybox.observability.endpoint import start_listener
from relaybox.observability.http import Observed
from tests.conftest import wait_until
from tests.e2e.conftest import free_port


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


async def test_metrics_show_platform_figures_by_route_template_and_no_tenant(client, headers, account):
    body = {"sender": "relaybox", "text": "Hello", "phones": [{"number": 491700000011}, {"number": 491700000003}]}
    sent = await client.post("/api/campaigns/sms/send", json=body, headers=headers)
    campaign_id = sent.json()["data"]["id"]

    async def done():
        r = await client.get(f"/api/campaigns/{campaign_id}", headers=headers)
        return r.json()["data"]["status"] == "done"

    await wait_until(done)
    scraped = await client.get("/metrics")  # unauthenticated
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    found = samples(scraped.text)
    names = {s.name for s in found}
    for name in ("relaybox_messages_total", "relaybox_submitted_total", "relaybox_http_request_duration_seconds_bucket",
                 "relaybox_engine_lag_seconds", "relaybox_messages_due", "relaybox_webhook_backlog",
                 "relaybox_connector_up"):
        assert name in names, name
    delivered = [s for s in found if s.name == "relaybox_messages_total" and s.labels["status"] == "delivered"]
    assert delivered and delivered[0].labels["connector"] and delivered[0].value >= 1
    stored = [s for s in found if s.name == "relaybox_messages_total" and s.labels["status"] == "accepted"]
    assert stored and stored[0].labels["connector"] == "none" and stored[0].value >= 2
    single = await client.post("/api/messages/send", headers=headers,
                               json={"phone": {"number": 491700000021}, "channels": ["sms"],
                                     "sms": {"text": "one", "sender": "relaybox"}})
    assert single.status_code == 200, single.text
    again = samples((await client.get("/metrics")).text)
    after = [s for s in again if s.name == "relaybox_messages_total" and s.labels["status"] == "accepted"]
    assert after[0].value == stored[0].value + 1  # the hot path's group commit counts too
    rejected = [s for s in found if s.name == "relaybox_submitted_total" and s.labels["result"] == "rejected"]
    assert rejected and rejected[0].value >= 1  # the 0003 number is refused at submit
    routes = {s.labels["route"] for s in found if s.name.startswith("relaybox_http_request_duration_seconds")}
    assert "/api/campaigns/{campaign_id}" in routes and "/api/campaigns/sms/send" in routes
    # no tenant's data in any label: no ids in routes, no account label, no key
    assert {k for s in found for k in s.labels} <= {"status", "connector", "state", "result", "method", "route", "le"}
    label_values = {v for s in found for v in s.labels.values()}
    assert f"/{campaign_id}" not in " ".join(routes) and headers["X-API-KEY"] not in " ".join(label_values)
    up = [s for s in found if s.name == "relaybox_connector_up"]
    assert up and all(s.value in (0, 1) for s in up)
    states = [s for s in found if s.name == "relaybox_connector_state"]
    assert states and {s.labels["state"] for s in states if s.value == 1} <= {"bound", "stale"}


async def test_unknown_paths_and_methods_add_no_series_of_their_own(client):
    await client.get("/api/no/such/path/12345")
    await client.request("BREW", "/api/campaigns")
    found = samples((await client.get("/metrics")).text)
    counted = [s for s in found if s.name == "relaybox_http_request_duration_seconds_count"]
    routes = {s.labels["route"] for s in counted}
    assert "unmatched" in routes and not any("12345" in r for r in routes)
    assert "BREW" not in {s.labels["method"] for s in counted} and "other" in {s.labels["method"] for s in counted}


async def test_request_id_is_echoed_or_made(client):
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123.def"})
    assert given.headers["x-request-id"] == "abc-123.def"
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    for hostile in ("has space", "x" * 129, "new\\nline", "<script>"):
        replaced = await client.get("/healthz", headers={"X-Request-ID": hostile})
        assert replaced.headers["x-request-id"] != hostile and len(replaced.headers["x-request-id"]) == 32


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_metrics_can_be_turned_off_or_moved(settings):
    for changed in ({"metrics": False}, {"metrics_listen": "127.0.0.1:1"}):
        app = create_app(settings.model_copy(update=changed))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                assert (await c.get("/metrics")).status_code == 404, changed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_metrics_listener_serves_on_its_own_address(settings):
    from relaybox.api.app import open_platform

    platform = await open_platform(settings)  # a migrated store
    await platform.db.dispose()
    port = free_port()
    server = start_listener(settings.model_copy(update={"metrics_listen": f"127.0.0.1:{port}"}))
    try:
        async def up():
            try:
                async with httpx.AsyncClient() as c:
                    r = await c.get(f"http://127.0.0.1:{port}/metrics")
                return r if r.status_code == 200 else None
            except httpx.TransportError:
                return None

        answer = await wait_until(up)
        assert "relaybox_engine_lag_seconds" in answer.text
    finally:
        server.should_exit = True
        server.thread.join(10)


def test_json_logs_carry_the_request_id_of_their_request():
    log = logging.getLogger("relaybox.test")

    async def page(request):
        log.warning("inside the request", extra={"answer": 42})
        return PlainTextResponse("ok")

    app = Observed(Starlette(routes=[Route("/p", page)]), None)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logs.JsonFormatter())
    log.addHandler(handler)
    try:
        import asyncio

        async def call():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                return await c.get("/p", headers={"X-Request-ID": "req-7"})

        response = asyncio.run(call())
        log.warning("outside any request")
    finally:
        log.removeHandler(handler)
    inside, outside = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert response.headers["x-request-id"] == "req-7"
    assert inside["request_id"] == "req-7" and inside["message"] == "inside the request" and inside["answer"] == 42
    assert inside["level"] == "warning" and inside["logger"] == "relaybox.test" and inside["time"].endswith("+00:00")
    assert "request_id" not in outside


def test_text_logs_show_the_request_id_or_a_dash():
    record = logging.LogRecord("relaybox", logging.INFO, __file__, 1, "hello", (), None)
    logs.RequestIdFilter().filter(record)
    assert "[-]: hello" in logs.TextFormatter().format(record)
    token = logs.request_id.set("r1")
    try:
        record = logging.LogRecord("relaybox", logging.INFO, __file__, 1, "hello", (), None)
        logs.RequestIdFilter().filter(record)
        assert "[r1]: hello" in logs.TextFormatter().format(record)
    finally:
        logs.request_id.reset(token)


def test_connector_states_map_onto_a_fixed_set():
    from relaybox.observability.figures import state_name

    assert state_name("ready", True, True) == "bound"
    assert state_name("not bound; retrying in 4 s", False, True) == "retrying"
    assert state_name("connecting", False, True) == "connecting"
    assert state_name("bind refused: ESME_RINVPASWD at 10.0.0.1", False, True) == "other"
    assert state_name("bound", True, False) == "stale"
