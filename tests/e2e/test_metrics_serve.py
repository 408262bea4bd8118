"""`relaybox serve` as users run it (API process + engine child): the engine child's counters reach
the scrape (prometheus-client multiprocess mode), on a metrics listener of its own."""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import free_port, start_server, stop_server


def test_serve_exports_every_process_figures_on_its_metrics_listener(tmp_path):
    metrics_port = free_port()
    server = start_server(tmp_path, "--sim-speed", "0", "--metrics-listen", f"127.0.0.1:{metrics_port}",
                          env={"RELAYBOX_METRICS_DIR": str(tmp_path / "metrics")})
    try:
        key = server.create_account()
        headers = {"X-API-KEY": key, "X-Request-ID": "e2e-metrics-1"}
        body = {"sender": "relaybox", "text": "Hi", "phones": [{"number": 491700000011}, {"number": 491700000012}]}
        sent = httpx.post(f"{server.base_url}/api/campaigns/sms/send", json=body, headers=headers, timeout=10)
        assert sent.status_code == 200 and sent.headers["x-request-id"] == "e2e-metrics-1"
        assert httpx.get(f"{server.base_url}/metrics", timeout=5).status_code == 404  # moved off the API's port
        deadline = time.monotonic() + 60
        delivered = 0.0
        while time.monotonic() < deadline and delivered < 2:
            text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
            found = [s for f in text_string_to_metric_families(text) for s in f.samples]
            # counted in the engine child process, scraped from the API process's listener
            delivered = sum(s.value for s in found if s.name == "relaybox_messages_total"
                            and s.labels["status"] == "delivered")
            time.sleep(0.2)
        assert delivered >= 2
        routes = {s.labels["route"] for s in found if s.name == "relaybox_http_request_duration_seconds_count"}
        assert "/api/campaigns/sms/send" in routes
        assert (tmp_path / "metrics").is_dir() and any((tmp_path / "metrics").iterdir())
    finally:
        stop_server(server)
