"""A real server in its default configuration (no allowed networks): webhooks aimed at the machine
itself — relaybox's own API, a receiver on the loopback interface — are refused, at acceptance when
the URL is a literal address and at delivery when it is a name that resolves to one."""

from __future__ import annotations

import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.factories import DELIVERED


class CountingReceiver:
    def __init__(self) -> None:
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                receiver.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def default_server(tmp_path):
    server = start_server(tmp_path, "--sim-speed", "0", env={"RELAYBOX_WEBHOOK_ALLOW_NETWORKS": ""})
    yield server
    stop_server(server)


def outbox(server) -> list[tuple]:
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute("SELECT url, status, attempts, last_error FROM webhook_outbox").fetchall()


def test_webhooks_cannot_reach_the_platform_itself(default_server):
    receiver = CountingReceiver()
    try:
        port = int(default_server.base_url.rsplit(":", 1)[1])
        key = default_server.create_account(webhook_url=f"http://localhost:{receiver.port}/default")
        headers = {"X-API-KEY": key}

        def single(callback_url: str | None) -> httpx.Response:
            body = {"channels": ["sms"], "phone": {"number": DELIVERED}, "sms": {"sender": "relaybox", "text": "Hi"}}
            if callback_url is not None:
                body["callback_url"] = callback_url
            return httpx.post(f"{default_server.base_url}/api/messages/send", json=body, headers=headers, timeout=10)

        # literal addresses of this machine: refused when given, in both families
        for url in (f"http://127.0.0.1:{port}/api/auth/login", f"http://[::1]:{port}/", f"http://2130706433:{port}/",
                    f"http://127.0.0.1:{receiver.port}/hook"):
            r = single(url)
            assert r.status_code == 422 and list(r.json()["errors"]) == ["callback_url"], r.text
            legacy = httpx.post(f"{default_server.base_url}/rest/sms/create", headers=headers, timeout=10, json={
                "destination": "phone", "msisdn": str(DELIVERED), "originator": "relaybox", "body": "Hi",
                "reference": f"r{abs(hash(url)) % 10**8}", "callback_url": url})
            assert legacy.json()["error"] == 7, legacy.text

        # names that resolve to it: accepted, then refused at delivery, once, with the reason
        own_api = f"http://localhost:{port}/api/auth/login"
        assert single(own_api).status_code == 200
        assert single(None).status_code == 200  # to the account's default URL, a localhost name too
        expected = {own_api, f"http://localhost:{receiver.port}/default"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rows = outbox(default_server)
            if {url for url, *_ in rows} == expected and all(status == "failed" for _, status, _, _ in rows):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"webhooks not refused: {outbox(default_server)}")
        for url, status, attempts, error in rows:
            assert attempts == 1 and error.startswith("refused: localhost resolves to "), (url, error)
        assert receiver.requests == 0
    finally:
        receiver.close()
