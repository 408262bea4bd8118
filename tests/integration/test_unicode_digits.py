"""Characters that are digits to `str.isdigit` but not to `int()` ("¹", "²") are refused as invalid
input, never a crash (found by schemathesis, bench/openapi_fuzz.py: `GET /api/campaigns/¹/detail` was 500)."""

from __future__ import annotations

import pytest

from tests.integration.legacy_support import phone_body


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'relaybox.db'}"  # parsing only: one backend covers it


@pytest.mark.parametrize("path", ["/api/campaigns/¹", "/api/campaigns/¹/detail"])
async def test_one_api_campaign_id(client, headers, path):
    r = await client.get(path, headers=headers)
    assert (r.status_code, r.json()) == (404, {"message": "Not found"})


async def test_one_api_campaign_stop(client, headers):
    r = await client.patch("/api/campaigns/²/stop", headers=headers)
    assert r.status_code == 404


@pytest.mark.parametrize(("field", "value", "code"), [("tariff", "¹", 6), ("validity", "²", 28), ("send_time", "³", 10)])
async def test_legacy_fields(client, headers, field, value, code):
    r = await client.post("/rest/sms/create", json={**phone_body(), field: value}, headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert (body.get("result") or body)["error"] == code, body
