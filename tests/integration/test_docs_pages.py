"""The documentation pages as HTML (api/pages.py), without a browser: every script, style and image
they name is served by relaybox itself, under a policy that lets the browser load nothing else, and
the OpenAPI document offers the two ways to authenticate. tests/browser/ renders them for real."""

from __future__ import annotations

import re

import httpx
import pytest

from relaybox.api.app import create_app
from relaybox.api.pages import CONTENT_SECURITY_POLICY
from relaybox.config import Settings
from tests.factories import TEST_JWT_SECRET

RESOURCE = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
#: `url: '/openapi.json'` in Swagger UI's page, `spec-url="/openapi.json"` in ReDoc's.
SPEC = re.compile(r"""(?:url:\s*|spec-url=)["']([^"']+)["']""")


@pytest.fixture
async def client(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'relaybox.db'}", jwt_secret=TEST_JWT_SECRET))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://relaybox.test") as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc"])
async def test_a_page_loads_only_relaybox_files(client, path):
    page = await client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY and "img-src 'self' data:" in CONTENT_SECURITY_POLICY
    named = RESOURCE.findall(page.text) + SPEC.findall(page.text)
    assert named, page.text
    for url in named:
        assert url.startswith("/") and not url.startswith("//"), f"{path} names {url}"
        answer = await client.get(url)
        # (no lifespan here, so no engine: /healthz says 503 "starting"; the browser test sees 200;
        # the console sends a visitor who is not signed in to its sign-in page)
        expected = {"/healthz": 503, "/console": 303}.get(url, 200)
        assert answer.status_code == expected, url
    if path != "/":
        assert any(u.endswith((".js",)) for u in named)  # the bundle, from /docs-assets/


async def test_the_landing_page_links_the_docs_the_console_and_health(client):
    links = RESOURCE.findall((await client.get("/")).text)
    assert {"/docs", "/redoc", "/openapi.json", "/healthz", "/console"} <= set(links)


async def test_the_document_offers_the_key_and_the_jwt(client):
    document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {**schemes["ApiKeyAuth"], "type": "apiKey", "in": "header", "name": "X-API-KEY"}
    assert schemes["ExternalAuth"]["scheme"] == "bearer"
    paths = document["paths"]
    assert paths["/api/auth/login"]["post"].get("security", []) == []  # no credentials
    assert {"ApiKeyAuth": []} in paths["/api/accounts/balance"]["get"]["security"]
    assert {"ExternalAuth": []} in paths["/api/accounts/balance"]["get"]["security"]
    assert paths["/rest/common/balance"]["get"]["security"] == [{"ApiKeyAuth": []}]
