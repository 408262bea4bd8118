"""The real server over real HTTP: start, authenticate, send, read back."""

from __future__ import annotations

import time

import httpx


def test_login_send_and_list(live_server):
    key = live_server.create_account()
    base = live_server.base_url
    token = httpx.post(f"{base}/api/auth/login", json={"api_key": key}).json()["bearer"]
    auth = {"Authorization": f"Bearer {token}"}
    sent = httpx.post(
        f"{base}/api/campaigns/sms/send",
        json={"sender": "relaybox", "text": "smoke", "phones": [{"number": 380971230011}]},
        headers=auth,
    )
    assert sent.status_code == 200, sent.text
    campaign_id = sent.json()["data"]["id"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = httpx.get(f"{base}/api/messages", params={"filter[campaign_id]": campaign_id}, headers=auth).json()
        if listed["data"] and listed["data"][0]["status"] == "delivered":
            break
        time.sleep(0.1)
    assert listed["data"][0]["status"] == "delivered"
