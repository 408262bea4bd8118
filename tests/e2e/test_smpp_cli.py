"""The real commands: `relaybox smsc` and `relaybox serve --config relaybox.toml` as separate processes
over TCP on 127.0.0.1; `relaybox connectors`, `relaybox account webhook`, `relaybox webhooks` on
their store, in the test process (tests/cli.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from relaybox.domain.signatures import standard_secret
from tests.cli import run_cli
from tests.conftest import BACKENDS
from tests.e2e.conftest import TEST_ENV, free_port, start_server, stop_server
from tests.factories import DELIVERED, FAILED, UNDELIVERED

CONFIG = """
[connectors.local-smsc]
type = "smpp"
host = "127.0.0.1"
port = {port}
system_id = "relaybox"
password = "secret"
tps = 500
window = 20
reconnect_min = 0.1
reconnect_max = 0.5

[routes]
default = "local-smsc"
"""


def start_smsc() -> tuple[subprocess.Popen, int]:
    """`relaybox smsc` in its own process (one per store: it drops resubmissions by relaybox message id)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "relaybox.cli", "smsc", "--port", str(port), "--system-id", "relaybox",
         "--password", "secret", "--sim-speed", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    line = process.stdout.readline()
    assert "listening on 127.0.0.1" in line, line
    return process, port


@pytest.fixture(scope="module", params=BACKENDS)
def smpp_server(request, tmp_path_factory):
    if request.param == "postgresql":
        request.getfixturevalue("postgres_database")
    smsc, port = start_smsc()
    workdir = tmp_path_factory.mktemp("smpp")
    config = workdir / "relaybox.toml"
    config.write_text(CONFIG.format(port=port))
    try:
        server = start_server(workdir, "--sim-speed", "0", env={"RELAYBOX_CONFIG": str(config)}, backend=request.param)
        server.config = str(config)
        yield server
        stop_server(server)
    finally:
        smsc.terminate()
        smsc.wait(timeout=10)


def cli(server, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=server.workdir, check=check,
                   env={**TEST_ENV, "RELAYBOX_DATABASE_URL": server.database_url, "RELAYBOX_CONFIG": server.config})


def test_a_campaign_goes_through_the_smsc_and_the_cli_shows_it(smpp_server):
    key = smpp_server.create_account()
    phones = [DELIVERED, UNDELIVERED, FAILED, 380971230042]
    sent = httpx.post(f"{smpp_server.base_url}/api/campaigns/sms/send", headers={"X-API-KEY": key}, timeout=10,
                      json={"sender": "relaybox", "text": "Привіт from SMPP", "phones": [{"number": p} for p in phones]})
    assert sent.status_code == 200, sent.text
    campaign_id = sent.json()["data"]["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        detail = httpx.get(f"{smpp_server.base_url}/api/campaigns/{campaign_id}/detail", headers={"X-API-KEY": key}).json()
        stats = detail["data"]["statistics"]
        if stats["delivered"] == 2 and stats["undelivered"] == 1 and stats["failed"] == 1:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"campaign not finished: {stats}")

    deadline = time.monotonic() + 20  # the engine publishes its connectors' state every 2 s
    while True:
        rows = [json.loads(line) for line in cli(smpp_server, "connectors", "--json").stdout.splitlines()]
        smpp = [r for r in rows if r["connector"] == "local-smsc"]
        if sum(r.get("receipts", 0) for r in smpp) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert smpp and all(r["bound"] is True and r["type"] == "smpp" for r in smpp)
    assert sum(r["submitted"] for r in smpp) >= 3 and sum(r["receipts"] for r in smpp) >= 3
    assert any(r["connector"] == "simulator" for r in rows)
    table = cli(smpp_server, "connectors").stdout
    assert "local-smsc" in table and "bound" in table


def test_account_webhook_and_the_delivery_log(smpp_server):
    out = cli(smpp_server, "account", "webhook", "1", "--url", "http://127.0.0.1:9/none").stdout
    assert "webhook_url: http://127.0.0.1:9/none" in out
    shown = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    secret = shown["webhook_secret"]
    assert len(secret) == 64
    assert shown["standard_webhooks_secret"] == standard_secret(secret)
    refused = cli(smpp_server, "account", "webhook", "1", "--url", "http://169.254.169.254/", check=False)
    assert refused.returncode == 2 and "--url" in refused.stderr
    rotated = cli(smpp_server, "account", "webhook", "1", "--rotate-secret").stdout
    assert secret not in rotated
    assert cli(smpp_server, "account", "webhook", "999999", check=False).returncode == 1
    log = cli(smpp_server, "webhooks", "--limit", "5").stdout
    assert "webhook deliveries" in log


def test_an_invalid_configuration_is_refused_at_start(tmp_path):
    bad = tmp_path / "relaybox.toml"
    bad.write_text('[connectors.op]\ntype = "smpp"\nhost = "h"\nsystem_id = "s"\nport = 99999\n[routes]\ndefault = "nope"\n')
    for command in (["serve", "--port", str(free_port())], ["worker"]):
        result = subprocess.run(
            [sys.executable, "-m", "relaybox.cli", *command, "--config", str(bad),
             "--database-url", f"sqlite:///{tmp_path / 'x.db'}"],
            capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 2
        assert "relaybox.toml is invalid" in result.stderr and "connectors.op.port" in result.stderr
