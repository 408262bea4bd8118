"""One tenant's unstorable input, and concurrent duplicates of a reference, over real HTTP against a
live server: on SQLite (one process) and on PostgreSQL (two API processes and a worker).

Single sends of every account share group commits (services/single_sends.py): a request that
cannot be stored must fail alone, never its neighbours of another account.
"""

from __future__ import annotations

import asyncio
import json

import httpx

POISONS = ["\x00", "\ud800", "\udfff"]
PRICE = "0.035"  # one message to +380 97 on the default tariff, EUR
# Every number below ends in 01xx: delivered by the simulator (docs/simulator.md), never refunded.


def poisoned_body(n: int) -> bytes:
    poison = POISONS[n % len(POISONS)]
    body = {"channels": ["sms"], "phone": {"number": 380973000100 + n, "reference_id": f"p{n}"},
            "sms": {"sender": "relaybox", "text": "hello"}, "callback_url": "https://example.com/hook"}
    target = ["text", "sender", "callback_url", "reference_id"][n % 4]
    if target == "callback_url":
        body["callback_url"] += poison
    elif target == "reference_id":
        body["phone"]["reference_id"] += poison
    else:
        body["sms"][target] += poison
    return json.dumps(body, ensure_ascii=True).encode()  # escapes: \u0000, \ud800


def valid_body(n: int) -> dict:
    return {"channels": ["sms"], "phone": {"number": 380974000100 + n, "reference_id": f"v{n}"},
            "sms": {"sender": "relaybox", "text": f"hello {n}"}}


async def _race(base: str, poison_key: str, valid_key: str) -> tuple[list[httpx.Response], list[httpx.Response]]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        async def bad(n: int):
            return await client.post("/api/messages/send", content=poisoned_body(n),
                                     headers={"X-API-KEY": poison_key, "Content-Type": "application/json"})

        async def good(n: int):
            return await client.post("/api/messages/send", json=valid_body(n), headers={"X-API-KEY": valid_key})

        answers = await asyncio.gather(*(f(n) for n in range(100) for f in (bad, good)))
    return list(answers[0::2]), list(answers[1::2])


def test_poisoned_sends_racing_valid_sends_of_another_account(live_server):
    poison_key = live_server.create_account(balance="100")
    valid_key = live_server.create_account(balance="100")
    bad, good = asyncio.run(_race(live_server.base_url, poison_key, valid_key))
    assert [r.status_code for r in good] == [200] * 100, [r.text for r in good if r.status_code != 200][:3]
    assert [r.status_code for r in bad] == [422] * 100, [r.text for r in bad if r.status_code != 422][:3]
    assert all(r.json()["message"] == "The given data was invalid." for r in bad)

    base = live_server.base_url
    listed = httpx.get(f"{base}/api/messages", params={"page[limit]": 500}, headers={"X-API-KEY": valid_key}).json()
    assert sorted(m["reference_id"] for m in listed["data"]) == sorted(f"v{n}" for n in range(100))
    none = httpx.get(f"{base}/api/messages", params={"page[limit]": 500}, headers={"X-API-KEY": poison_key}).json()
    assert none["data"] == []
    balance = httpx.get(f"{base}/api/accounts/balance", headers={"X-API-KEY": poison_key}).json()["data"]
    assert float(balance["balance"]) == 100  # nothing charged for a refused request


async def _same_reference(base: str, key: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        calls = []
        for n in range(10):
            number = 380975000100 + n
            calls += [
                client.post("/api/messages/send", headers={"X-API-KEY": key}, json={
                    "channels": ["sms"], "phone": {"number": number, "reference_id": "one"},
                    "sms": {"sender": "relaybox", "text": "hello"}}),
                client.post("/api/campaigns/sms/send", headers={"X-API-KEY": key}, json={
                    "sender": "relaybox", "text": "hello", "phones": [{"number": number, "reference_id": "two"}]}),
                client.put("/rest/sms/create", headers={"X-API-KEY": key}, json={
                    "destination": "phone", "msisdn": str(number), "reference": "three", "originator": "relaybox",
                    "body": "hello"}),
                client.put("/rest/sms/create", headers={"X-API-KEY": key}, json={
                    "destination": "phones", "originator": "relaybox", "body": "hello",
                    "phones": [{"msisdn": str(number), "reference": "four"}]}),
            ]
        return list(await asyncio.gather(*calls))


def _legacy_code(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    return result["error"] if isinstance(result, dict) else result[0]["error"]


def test_ten_concurrent_sends_of_one_reference(live_server):
    key = live_server.create_account(balance="100")
    answers = asyncio.run(_same_reference(live_server.base_url, key))
    for kind, field in ((0, "phone.reference_id"), (1, "phones.0.reference_id")):  # One API single, campaign
        mine = answers[kind::4]
        assert sorted(r.status_code for r in mine) == [200] + [422] * 9, [r.text for r in mine]
        assert all(list(r.json()["errors"]) == [field] for r in mine if r.status_code == 422)
    for kind in (2, 3):  # legacy phone, phones
        assert sorted(_legacy_code(r) for r in answers[kind::4]) == [0] + [23] * 9, [r.text for r in answers[kind::4]]

    headers = {"X-API-KEY": key}
    base = live_server.base_url
    listed = httpx.get(f"{base}/api/messages", params={"page[limit]": 500}, headers=headers).json()
    assert sorted(m["reference_id"] for m in listed["data"]) == ["four", "one", "three", "two"]
    balance = httpx.get(f"{base}/api/accounts/balance", headers=headers).json()["data"]
    assert round(float(balance["balance"]), 7) == round(100 - 4 * float(PRICE), 7)  # four messages, charged once each
