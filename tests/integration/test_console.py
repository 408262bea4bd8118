"""The web console over the ASGI app: sign-in, CSRF, pages, tenant isolation, keys and webhook."""

from __future__ import annotations

import re

import httpx

from relaybox.console import session
from relaybox.store import accounts as accounts_store
from tests.conftest import wait_until
from tests.factories import make_account

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(page: httpx.Response) -> str:
    found = TOKEN.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    page = await client.get("/console/login")
    return await client.post("/console/login", data={"api_key": key, "csrf_token": token_of(page)})


async def send_campaign(client, key: str, phones: list[int]) -> int:
    body = {"sender": "relaybox", "text": "Hello", "phones": [{"number": n} for n in phones]}
    sent = await client.post("/api/campaigns/sms/send", json=body, headers={"X-API-KEY": key})
    assert sent.status_code == 200, sent.text
    return sent.json()["data"]["id"]


async def test_sign_in_sets_a_strict_httponly_session_naming_no_key(client, account):
    _, key = account
    assert (await client.get("/console/campaigns")).status_code == 303  # not signed in: to the sign-in page
    bad = await sign_in(client, "live_" + "x" * 30)
    assert bad.status_code == 401 and "not valid" in bad.text
    good = await sign_in(client, key)
    assert good.status_code == 303 and good.headers["location"] == "/console/campaigns"
    cookies = [v for k, v in good.headers.multi_items() if k == "set-cookie"]
    session_cookie = next(c for c in cookies if c.startswith(session.SESSION_COOKIE + "="))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie and "Path=/console" in session_cookie
    assert key not in " ".join(cookies)
    page = await client.get("/console/campaigns")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    # sign out ends it
    out = await client.post("/console/logout", data={"csrf_token": token_of(page)})
    assert out.status_code == 303
    assert (await client.get("/console/campaigns")).status_code == 303


async def test_posts_without_a_valid_csrf_token_are_refused(client, account, app_platform):
    _, key = account
    await sign_in(client, key)
    page = await client.get("/console/account")
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token_of(page) + "x"}):
        refused = await client.post("/console/account/keys", data={"mode": "test", **data})
        assert refused.status_code == 403, data
    # a token made for another browser's cookie does not fit this one
    other = httpx.AsyncClient(transport=client._transport, base_url="http://relaybox.test")
    async with other:
        foreign = token_of(await other.get("/console/login"))
    assert (await client.post("/console/account/keys", data={"mode": "test", "csrf_token": foreign})).status_code == 403
    # sign-in needs one too
    fresh = httpx.AsyncClient(transport=client._transport, base_url="http://relaybox.test")
    async with fresh:
        assert (await fresh.post("/console/login", data={"api_key": key})).status_code == 403
    from relaybox.services import admin

    assert len(await admin.list_keys(app_platform, account_id=account[0])) == 1  # nothing was created


async def test_campaign_pages_and_another_accounts_campaign(client, account, app_platform):
    _, key = account
    campaign_id = await send_campaign(client, key, [491700000011, 491700000001])  # delivered, undelivered
    _, other_key = await make_account(app_platform)
    others = await send_campaign(client, other_key, [491700000021])
    await sign_in(client, key)

    async def done():
        page = await client.get(f"/console/campaigns/{campaign_id}/progress")
        return page if "status-done" in page.text else None

    progress = await wait_until(done)
    assert "hx-trigger" not in progress.text  # a finished campaign is not polled
    listing = await client.get("/console/campaigns")
    assert f"/console/campaigns/{campaign_id}" in listing.text and f"/console/campaigns/{others}" not in listing.text
    page = await client.get(f"/console/campaigns/{campaign_id}")
    assert page.status_code == 200
    assert 'data-status="delivered">1<' in page.text and 'data-status="undelivered">1<' in page.text
    assert "Not available" in page.text  # the breakdown blocks, until their services exist
    for path in (f"/console/campaigns/{others}", f"/console/campaigns/{others}/progress", "/console/campaigns/999999",
                 "/console/campaigns/99999999999999999999999", "/console/campaigns/-1", "/console/campaigns/%C2%B2"):
        missing = await client.get(path)
        assert missing.status_code == 404 and "Not found" in missing.text, path


async def test_message_search_uses_the_api_filters_and_rules(client, account, app_platform):
    _, key = account
    campaign_id = await send_campaign(client, key, [491700000011, 491700000012])
    _, other_key = await make_account(app_platform)
    await send_campaign(client, other_key, [491700000013])
    await sign_in(client, key)
    found = await client.get("/console/messages", params={"filter[campaign_id]": campaign_id})
    assert "+491700000011" in found.text and "+491700000012" in found.text and "+491700000013" not in found.text
    everything = await client.get("/console/messages", params={"sort": "phone"})
    assert "+491700000013" not in everything.text
    bad = await client.get("/console/messages", params={"filter[id]": "abc", "page[limit]": "5"})
    assert bad.status_code == 200 and "filter.id" in bad.text and "page.limit" in bad.text
    wide = await client.get("/console/messages", params={"filter[from]": "2020-01-01", "filter[to]": "2020-12-31"})
    assert "3 months" in wide.text


async def test_keys_are_created_and_revoked_only_in_ones_own_account(client, account, app_platform):
    account_id, key = account
    other_id, other_key = await make_account(app_platform)
    await sign_in(client, key)
    page = await client.get("/console/account")
    created = await client.post("/console/account/keys", data={"mode": "test", "label": "ci", "csrf_token": token_of(page)})
    assert created.status_code == 201
    new_key = re.search(r'id="new-key" class="mono" readonly value="(test_[A-Za-z0-9]+)"', created.text).group(1)
    assert (await client.get("/api/accounts/balance", headers={"X-API-KEY": new_key})).status_code == 200
    from relaybox.services import admin

    keys = {k.label: k for k in await admin.list_keys(app_platform, account_id=account_id)}
    other = (await admin.list_keys(app_platform, account_id=other_id))[0]
    token = token_of(created)
    refused = await client.post(f"/console/account/keys/{other.id}/revoke", data={"csrf_token": token})
    assert refused.status_code == 404
    for hostile in ("99999999999999999999999", "x1", "%C2%B2"):
        assert (await client.post(f"/console/account/keys/{hostile}/revoke", data={"csrf_token": token})).status_code == 404
    assert (await admin.find_key(app_platform, str(other.id))).revoked_at is None
    revoked = await client.post(f"/console/account/keys/{keys['ci'].id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert len(await admin.list_keys(app_platform, account_id=account_id)) == 1
    bad = await client.post("/console/account/keys", data={"mode": "root", "csrf_token": token})
    assert bad.status_code == 422 and "live or test" in bad.text
    for label in ("x" * 101, "nul\x00", "line\nbreak"):
        assert (await client.post("/console/account/keys", data={"mode": "test", "label": label, "csrf_token": token})).status_code == 422
    # revoking the session's own key ends the session
    own = next(k for k in await admin.list_keys(app_platform, account_id=account_id))
    await client.post(f"/console/account/keys/{own.id}/revoke", data={"csrf_token": token})
    app_platform_auth = client._transport.app.state.authenticator
    app_platform_auth._key_ids.clear()
    assert (await client.get("/console/account")).status_code == 303


async def test_webhook_url_gets_the_apis_safety_checks(client, account, app_platform):
    account_id, key = account
    await sign_in(client, key)
    token = token_of(await client.get("/console/account"))
    for hostile in ("http://169.254.169.254/latest", "ftp://example.com/x", "not a url", "https://a.example/\x00",
                    "https://" + "a" * 600 + ".example/"):
        refused = await client.post("/console/account/webhook", data={"webhook_url": hostile, "csrf_token": token})
        assert refused.status_code == 422, hostile
    # bytes that are not UTF-8 (a lone surrogate's encoding), as a hostile client may send them
    raw = b"webhook_url=https%3A%2F%2Fa.example%2F%ED%A0%80&csrf_token=" + token.encode()
    odd = await client.post("/console/account/webhook", content=raw,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert odd.status_code in (303, 422)
    async with app_platform.db.read() as conn:
        stored = (await accounts_store.get_account(conn, account_id)).webhook_url
    assert stored is None or stored.isprintable()
    saved = await client.post("/console/account/webhook",
                              data={"webhook_url": "https://hooks.example.com/relaybox", "csrf_token": token})
    assert saved.status_code == 303
    async with app_platform.db.read() as conn:
        assert (await accounts_store.get_account(conn, account_id)).webhook_url == "https://hooks.example.com/relaybox"
    await client.post("/console/account/webhook", data={"webhook_url": "", "csrf_token": token})
    async with app_platform.db.read() as conn:
        assert (await accounts_store.get_account(conn, account_id)).webhook_url is None


async def test_static_assets_are_served_from_the_package(client):
    for path in ("/console/static/vendor/htmx-2.0.11.min.js", "/console/static/vendor/chart-4.6.1.umd.min.js",
                 "/console/static/console.css", "/console/static/console.js"):
        assert (await client.get(path)).status_code == 200, path


async def test_tenant_text_is_escaped_in_pages(client, account):
    _, key = account
    body = {"sender": "relaybox", "text": '<img src=x onerror="alert(1)">', "phones": [{"number": 491700000031}]}
    sent = await client.post("/api/campaigns/sms/send", json=body, headers={"X-API-KEY": key})
    campaign_id = sent.json()["data"]["id"]
    await sign_in(client, key)
    page = await client.get(f"/console/campaigns/{campaign_id}")
    assert "&lt;img src=x onerror=" in page.text and "<img src=x" not in page.text
