"""The web console over the ASGI app: sign-in, CSRF, pages, tenant isolation, keys and webhook."""

from __future__ import annotations

import csv
import gzip
import io
import re
from datetime import timedelta

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
    campaign_id = await send_campaign(client, key, [380971230011, 380971230001])  # delivered, undelivered
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
    # the breakdown blocks: per network (both numbers are Kyivstar's range) and the delivery time
    assert 'data-network="UA/Kyivstar"' in page.text
    assert 'data-col="messages">2<' in page.text and 'data-col="not-delivered">1<' in page.text
    assert 'id="delivery-chart"' in page.text and 'id="timed">1<' in page.text
    assert "Not available" not in page.text
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


async def test_statistics_jobs_are_created_run_downloaded_and_deleted(client, account, app_platform):
    from relaybox.engine import stat_jobs as job_runner

    _, key = account
    campaign_id = await send_campaign(client, key, [380971230011, 380501230011, 380971230003])
    _, other_key = await make_account(app_platform)
    await send_campaign(client, other_key, [380971230021])
    await sign_in(client, key)
    page = await client.get("/console/stat-jobs")
    assert page.status_code == 200 and "No export jobs yet" in page.text and 'name="time_in_from"' in page.text
    token = token_of(page)
    window = {"time_in_from": "2020-01-01T00:00:00", "time_in_to": "2099-01-01T00:00:00"}
    assert (await client.post("/console/stat-jobs", data=window)).status_code == 403  # no CSRF token
    # the service's checks, by field
    refused = await client.post("/console/stat-jobs", data={**window, "country": "Atlantis", "campaign_id": "x",
                                                             "phones": "12ab", "csrf_token": token})
    assert refused.status_code == 422
    for path in ("time_in_from", "country", "campaign_id", "phones.0"):
        assert f"<code>{path}</code>" in refused.text, path
    assert 'value="Atlantis"' in refused.text  # the form keeps what was typed
    for hostile in ({"phones": " ".join(["380971230011"] * 10001)}, {"country": "U\x00A"}, {"operator_id": "２５５０１"},
                    {"status": "<script>"}, {"time_in_to": "2019-01-01T00:00:00"}):
        answer = await client.post("/console/stat-jobs", data={**window, **hostile, "csrf_token": token})
        assert answer.status_code == 422 and "<script>" not in answer.text, hostile
    now = app_platform.clock()
    created = await client.post("/console/stat-jobs", data={
        "time_in_from": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        "time_in_to": (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"), "csrf_token": token})
    assert created.status_code == 303 and created.headers["location"] == "/console/stat-jobs?done=created"
    listed = await client.get("/console/stat-jobs?done=created")
    job_key = re.search(r'<tr data-key="([0-9a-f]{18})">', listed.text).group(1)
    await job_runner.run_one(app_platform, "console-test")  # unless the app's own engine claimed it first

    async def finished():
        table = await client.get("/console/stat-jobs/list")
        return table if 'data-col="status">Done<' in table.text else None

    table = await wait_until(finished)
    assert "hx-trigger" not in table.text  # nothing left to follow
    download = await client.get(f"/console/stat-jobs/{job_key}/download")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert f'filename="stat-job-{job_key}.csv"' in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    api = await client.get("/api/messages", params={"filter[campaign_id]": campaign_id}, headers={"X-API-KEY": key})
    expected = {(str(m["id"]), str(m["phone"])) for m in api.json()["data"]}
    assert {(r["message_id"], r["msisdn"]) for r in rows} == expected  # the other account's message is not there
    assert {r["country_name"] for r in rows} == {"Ukraine"}
    packed = await client.get(f"/console/stat-jobs/{job_key}/download", params={"format": "csv.gz"})
    assert packed.headers["content-type"] == "application/gzip"
    assert gzip.decompress(packed.content).decode() == download.text
    assert (await client.get(f"/console/stat-jobs/{job_key}/download", params={"format": "xml"})).status_code == 400
    # another account's job, and keys no job has, are not found
    other = httpx.AsyncClient(transport=client._transport, base_url="http://relaybox.test")
    async with other:
        await sign_in(other, other_key)
        other_token = token_of(await other.get("/console/stat-jobs"))
        assert (await other.get(f"/console/stat-jobs/{job_key}/download")).status_code == 404
        assert (await other.post(f"/console/stat-jobs/{job_key}/delete", data={"csrf_token": other_token})).status_code == 404
        assert job_key not in (await other.get("/console/stat-jobs")).text
    for hostile in ("%C2%B2", "x" * 40, "..%2F..", "0"):
        assert (await client.get(f"/console/stat-jobs/{hostile}/download")).status_code == 404, hostile
    assert (await client.post(f"/console/stat-jobs/{job_key}/delete", data={})).status_code == 403
    deleted = await client.post(f"/console/stat-jobs/{job_key}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert job_key not in (await client.get("/console/stat-jobs")).text
    assert (await client.get(f"/console/stat-jobs/{job_key}/download")).status_code == 404


async def test_a_running_job_is_followed_and_a_failed_one_says_so(client, account, app_platform):
    from relaybox.store import stat_jobs as store

    account_id, key = account
    await sign_in(client, key)
    now = app_platform.clock()

    async def create_and_claim(conn):  # one transaction: the app's own engine never sees it pending
        job = await store.create_job(conn, account_id, "0123456789abcdef01", '{"type":"params"}', now, 3)
        return job, await store.claim_job(conn, "console-test", now, now - timedelta(minutes=1))

    job, claimed = await app_platform.db.transact(create_and_claim)
    assert claimed.id == job.id
    table = await client.get("/console/stat-jobs/list")
    assert 'hx-trigger="every 2s"' in table.text and 'data-col="status">Processing<' in table.text
    assert f"/console/stat-jobs/{job.key}/download" not in table.text
    waiting = await client.get(f"/console/stat-jobs/{job.key}/download")
    assert waiting.status_code == 409 and "Not finished yet" in waiting.text
    await app_platform.db.transact(lambda conn: store.finish_job(conn, job.id, "console-test", "failed", 0, now, "x"))
    table = await client.get("/console/stat-jobs/list")
    assert "hx-trigger" not in table.text and 'data-col="status">Failed<' in table.text
    failed = await client.get(f"/console/stat-jobs/{job.key}/download")
    assert failed.status_code == 409 and "The job failed" in failed.text
