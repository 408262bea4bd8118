"""Inbound SMS through a live `relaybox serve` over real HTTP: a campaign to the simulator's answering
subscribers (…0008 answers, …0009 says STOP) and a reply injected with `relaybox inbound inject`
appear in `GET /api/x-relaybox/inbound` and reach a signed inbound webhook exactly once each."""

from __future__ import annotations

import asyncio
import re

import httpx
import orjson
import pytest
from standardwebhooks import Webhook

from tests.e2e.conftest import start_server, stop_server
from tests.integration.webhook_receivers import Receiver

ANSWERS, SAYS_STOP = 380971230008, 380971230009


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = start_server(tmp_path_factory.mktemp("inbound"), "--sim-speed", "0")
    yield live
    stop_server(live)


async def test_replies_are_listed_and_pushed_once_each(server):
    receiver = await Receiver().start()
    try:
        # (the CLI runs in a thread: the receiver on this event loop keeps answering meanwhile)
        out = await asyncio.to_thread(server.cli, "account", "create", "--name", "two-way", "--balance", "100")
        account = re.search(r"account (\d+) created", out).group(1)
        key = out.strip().splitlines()[-1]
        await asyncio.to_thread(server.cli, "inbound", "webhook", "--account", account, "--url", receiver.url)
        shown = await asyncio.to_thread(server.cli, "account", "webhook", account)
        whsec = re.search(r"standard_webhooks_secret: (\S+)", shown).group(1)
        headers = {"X-API-KEY": key, "Content-Type": "application/json"}
        body = {"sender": "ShopBot", "text": "Your order shipped. Reply STOP to opt out.",
                "phones": [{"number": ANSWERS}, {"number": SAYS_STOP}]}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=120) as client:
            assert (await client.post("/api/campaigns/sms/send", content=orjson.dumps(body))).status_code == 200
            listed = await _eventually(client, 2)
            out = await asyncio.to_thread(server.cli, "inbound", "inject", "--from", f"+{ANSWERS}", "--to", "ShopBot",
                                          "--text", "When?")
            assert f"account {account} (last_sender)" in out
            listed = await _eventually(client, 3)
            for _ in range(1200):
                if len(receiver.requests) >= 3:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # anything more would come now: there must be nothing more
        assert sorted((m["from"], m["text"], m["action"]) for m in listed) == [
            (str(ANSWERS), "When?", None), (str(ANSWERS), "Yes, thanks!", None),
            (str(SAYS_STOP), "STOP", "stoplisted"),
        ]
        pushed = [Webhook(whsec).verify(b, h) for h, b, _ in receiver.requests]
        assert sorted(p["id"] for p in pushed) == sorted(m["id"] for m in listed)
        assert {p["event"] for p in pushed} == {"sms.inbound"} and {p["to"] for p in pushed} == {"ShopBot"}
    finally:
        await receiver.stop()


async def _eventually(client: httpx.AsyncClient, n: int) -> list[dict]:
    for _ in range(1200):  # up to two minutes on a loaded machine
        r = await client.get("/api/x-relaybox/inbound")
        assert r.status_code == 200, r.text
        if len(r.json()["data"]) >= n:
            return r.json()["data"]
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {n} inbound messages listed")
