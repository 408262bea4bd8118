"""The API documentation in a real browser, offline: Swagger UI at /docs lists every operation of
the OpenAPI document and "Try it out" sends an authenticated request that succeeds; ReDoc at
/redoc renders the same operations; every link of the landing page at / works.  The page may
reach nothing but this machine (conftest.py's `page` aborts and records anything else), so what
passes here works on an air-gapped install.

`RELAYBOX_DOCS_SCREENSHOT=docs/images/api-docs.png pytest tests/browser` also saves the rendered
docs, with the answer of "Try it out", as that picture (docs/api-docs.md shows it).
"""

from __future__ import annotations

import json
import os

import httpx
from playwright.sync_api import expect

BALANCE_OPERATION = "#operations-accounts-account_balance"  # Swagger UI: #operations-<tag>-<operationId>


def operations(base_url: str) -> list[tuple[str, str]]:
    """(method, path) of every operation of the server's OpenAPI document."""
    document = httpx.get(f"{base_url}/openapi.json", timeout=10).json()
    return [(method.upper(), path) for path, item in document["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


def test_swagger_ui_lists_every_operation_and_try_it_out_sends_the_key(page, live_server, api_key, outside_requests):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.base_url}/docs")

    expected = operations(live_server.base_url)
    assert len(expected) > 20
    blocks = page.locator(".opblock")
    expect(blocks).to_have_count(len(expected))
    shown = {(block.locator(".opblock-summary-method").inner_text().strip(),
              block.locator(".opblock-summary-path").get_attribute("data-path")) for block in blocks.all()}
    assert shown == set(expected)

    # Authorize: the API key scheme of the document
    page.locator("button.authorize").first.click()
    dialog = page.locator(".dialog-ux .modal-ux")
    key_form = dialog.locator(".auth-container", has_text="X-API-KEY")
    key_form.locator("input").fill(api_key)
    key_form.locator("button.authorize").click()
    expect(key_form.locator("button", has_text="Logout")).to_be_visible()
    key_form.locator("button.btn-done").click()
    expect(dialog).to_have_count(0)

    # Try it out on GET /api/accounts/balance
    balance = page.locator(BALANCE_OPERATION)
    balance.locator(".opblock-summary").click()
    balance.locator("button.try-out__btn").click()
    balance.locator("button.execute").click()
    status = balance.locator(".live-responses-table .response .response-col_status")
    expect(status).to_have_text("200")
    assert f"X-API-KEY: {api_key}" in balance.locator(".curl-command").inner_text()
    body = balance.locator(".live-responses-table .response-col_description pre").first.inner_text()
    assert json.loads(body)["data"] == {"balance": 100, "currency": "EUR", "credit": 0}, body  # the account's

    if os.environ.get("RELAYBOX_DOCS_SCREENSHOT"):
        page.set_viewport_size({"width": 1280, "height": 1560})  # down to the answer of "Try it out"
        page.screenshot(path=os.environ["RELAYBOX_DOCS_SCREENSHOT"])
    assert outside_requests == []
    assert errors == []


def test_redoc_renders_every_operation(page, live_server, outside_requests):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.base_url}/redoc")
    expected = operations(live_server.base_url)
    sections = page.locator("[data-section-id^='operation/']")
    expect(sections).to_have_count(len(expected))
    expect(page.locator("h1").first).to_contain_text("relaybox")
    assert outside_requests == []
    assert errors == []


def test_the_landing_page_links_work(page, live_server, outside_requests):
    page.goto(f"{live_server.base_url}/")
    expect(page.locator("h1")).to_have_text("relaybox")
    links = page.locator("a[href]")
    hrefs = [link.get_attribute("href") for link in links.all()]
    assert {"/docs", "/redoc", "/openapi.json", "/healthz", "/console"} <= set(hrefs), hrefs
    for href in hrefs:
        answer = page.request.get(f"{live_server.base_url}{href}")
        assert answer.status == 200, (href, answer.status)
    page.locator("#link-docs").click()
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.url == f"{live_server.base_url}/docs"
    assert outside_requests == []
