"""Callback URLs are checked when they are given: every send path of both API families, and the
account's default URL in the CLI.  A bad URL is 422 at `callback_url` (legacy: error 7) and
nothing is written or charged."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import func, select

from relaybox.store import accounts as accounts_store
from relaybox.store.tables import messages
from tests.cli import run_cli
from tests.factories import DELIVERED

INVALID = "The given data was invalid."

BAD_URLS = [
    "javascript:alert(1)",
    "file:///etc/passwd",
    "ftp://hooks.example.com/x",
    "http://hooks.example.com/a\r\nX-Injected: 1",
    "http://hooks.example.com/\n",
    "http://hooks.example.com/\x00",
    "http://hooks.example.com/\x85",
    "http://exa mple.com/",
    "http://user:secret@hooks.example.com/",
    "https://hooks.example.com/" + "x" * 600,
    "//hooks.example.com/",
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fd00::1]/",
    "http://10.0.0.1/",
    "http://0.0.0.0:8000/",
]
GOOD_URL = "https://hooks.example.com/relaybox?tenant=1"

CARD = {"title": "Hi", "text": "Hello", "suggestions": [{"text": "Go", "url": "https://example.com/"}]}


def one_api_bodies(url: str) -> dict[str, dict]:
    return {
        "/api/campaigns/sms/send": {"sender": "relaybox", "text": "Hi", "phones": [{"number": DELIVERED}],
                                    "callback_url": url},
        "/api/campaigns/sms/send-individual": {"messages": [{"phone": DELIVERED, "text": "Hi", "sender": "relaybox"}],
                                               "callback_url": url},
        "/api/messages/send": {"channels": ["sms"], "phone": {"number": DELIVERED},
                               "sms": {"sender": "relaybox", "text": "Hi"}, "callback_url": url},
        "/api/messages/send#rcs": {"channels": ["rcs", "sms"], "phone": {"number": DELIVERED},
                                   "rcs": {"sender": "rcs_agent", "cards": [CARD]},
                                   "sms": {"sender": "relaybox", "text": "Hi"}, "callback_url": url},
        "/api/campaigns/rcs/send": {"sender": "rcs_agent", "options": {"cards": [CARD]},
                                    "phones": [{"number": str(DELIVERED)}], "callback_url": url},
        "/api/messages/rcs/send": {"sender": "rcs_agent", "options": {"cards": [CARD]},
                                   "phone": {"number": str(DELIVERED)}, "callback_url": url},
    }


def legacy_bodies(url: str) -> dict[str, dict]:
    return {
        "phone": {"destination": "phone", "msisdn": str(DELIVERED), "originator": "relaybox", "body": "Hi",
                  "reference": "r1", "callback_url": url},
        "phones": {"destination": "phones", "originator": "relaybox", "body": "Hi",
                   "phones": [{"msisdn": str(DELIVERED), "reference": "r2"}], "callback_url": url},
        "individual": {"destination": "individual", "callback_url": url,
                       "phones": [{"msisdn": str(DELIVERED), "reference": "r3", "originator": "relaybox", "body": "Hi"}]},
    }


async def written(platform, account_id: int) -> tuple[int, int]:
    async with platform.db.read() as conn:
        count = (await conn.execute(select(func.count()).select_from(messages).where(
            messages.c.account_id == account_id))).scalar()
        return count, (await accounts_store.get_account(conn, account_id)).balance


@pytest.mark.parametrize("url", BAD_URLS)
async def test_one_api_refuses_a_bad_callback_url_on_every_send(client, app_platform, account, headers, url):
    before = await written(app_platform, account[0])
    for path, body in one_api_bodies(url).items():
        r = await client.post(path.split("#")[0], json=body, headers=headers)
        assert r.status_code == 422, (path, r.text)
        payload = r.json()
        assert payload["message"] == INVALID
        assert list(payload["errors"]) == ["callback_url"], (path, payload)
    assert await written(app_platform, account[0]) == before


@pytest.mark.parametrize("url", BAD_URLS)
async def test_legacy_refuses_a_bad_callback_url_with_code_7(client, app_platform, account, headers, url):
    before = await written(app_platform, account[0])
    for destination, body in legacy_bodies(url).items():
        for path in ("/rest/sms/create", "/rest/sms/price"):
            r = await client.post(path, json=body, headers=headers)
            assert r.status_code == 200, r.text
            assert r.json()["error"] == 7, (destination, path, r.json())
    assert await written(app_platform, account[0]) == before


async def test_good_callback_urls_are_accepted_everywhere(client, app_platform, account, headers):
    for path, body in one_api_bodies(GOOD_URL).items():
        r = await client.post(path.split("#")[0], json=body, headers=headers)
        assert r.status_code == 200, (path, r.text)
    for destination, body in legacy_bodies(GOOD_URL).items():
        r = await client.post("/rest/sms/create", json=body, headers=headers)
        assert r.status_code == 200 and r.json().get("error", 0) == 0, r.json()
    async with app_platform.db.read() as conn:
        urls = set((await conn.execute(select(messages.c.callback_url).where(
            messages.c.account_id == account[0]))).scalars())
    assert urls == {GOOD_URL}


async def test_the_operators_allowed_networks_let_literal_addresses_in(client, app_platform, account, headers):
    body = one_api_bodies("http://10.1.2.3:8080/hook")["/api/messages/send"]
    r = await client.post("/api/messages/send", json=body, headers=headers)
    assert r.status_code == 422 and list(r.json()["errors"]) == ["callback_url"]
    app_platform.settings = app_platform.settings.model_copy(update={"webhook_allow_networks": "10.1.0.0/16"})
    r = await client.post("/api/messages/send", json=body, headers=headers)
    assert r.status_code == 200, r.text


def cli(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=tmp_path, env={"RELAYBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
                                             "RELAYBOX_WEBHOOK_ALLOW_NETWORKS": ""})


def test_the_cli_refuses_a_bad_account_webhook_url(tmp_path):
    assert cli(tmp_path, "migrate").returncode == 0
    for url in ["javascript:alert(1)", "file:///etc/passwd", "http://hooks.example.com/\r\nX: 1",
                "http://user:pw@hooks.example.com/", "http://169.254.169.254/", "http://[::ffff:127.0.0.1]/"]:
        created = cli(tmp_path, "account", "create", "--name", "t", "--webhook-url", url)
        assert created.returncode != 0, (url, created.stdout)
    created = cli(tmp_path, "account", "create", "--name", "t")
    assert created.returncode == 0, created.stderr
    listed = cli(tmp_path, "account", "webhook", "1")
    assert listed.returncode == 0, listed.stderr
    for url in ["javascript:alert(1)", "http://hooks.example.com/\x85", "http://2130706433/", "gopher://x/"]:
        refused = cli(tmp_path, "account", "webhook", "1", "--url", url)
        assert refused.returncode != 0, (url, refused.stdout)
        assert "webhook_url: (none)" in cli(tmp_path, "account", "webhook", "1").stdout
    accepted = cli(tmp_path, "account", "webhook", "1", "--url", GOOD_URL)
    assert accepted.returncode == 0 and f"webhook_url: {GOOD_URL}" in accepted.stdout
