"""The console in a real browser (chromium): sign in, watch a running campaign, a campaign's
delivery-time histogram and per-country/operator table, create and download a statistics job,
search messages, revoke a key, sign out; CSRF and tenant isolation; screenshots of each page,
desktop and phone."""

from __future__ import annotations

import csv
import gzip
import io
import re
from pathlib import Path

import httpx
import pytest

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DELIVERED_PHONES = [491700100000 + i for i in range(10, 50)]  # magic numbers: delivered
FAILED_PHONES = [491700200001, 491700200003]  # undelivered, failed at submit


def send_campaign(server, key: str, phones: list[int]) -> int:
    body = {"sender": "relaybox", "text": "Your code is 1234", "phones": [{"number": n} for n in phones]}
    sent = httpx.post(f"{server.base_url}/api/campaigns/sms/send", json=body, headers={"X-API-KEY": key}, timeout=10)
    assert sent.status_code == 200, sent.text
    return sent.json()["data"]["id"]


@pytest.fixture(scope="module")
def tenant(console_server):
    return console_server.create_account(balance="1000")


@pytest.fixture
def page(browser, console_server):
    context = browser.new_context(viewport=DESKTOP, base_url=console_server.base_url)
    page = context.new_page()
    page.set_default_timeout(20000)
    yield page
    context.close()


def sign_in(page, key: str) -> None:
    page.goto("/console/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/campaigns")


def shoot(page, screenshots, name: str) -> None:
    """The page at desktop size, then phone size (full page), as docs/images/console-<name>-*.png."""
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(screenshots / f"console-{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    # nothing wider than the phone's screen but the tables' own scrolling boxes (once the charts
    # have followed the new size: Chart.js resizes on its ResizeObserver's next turn)
    page.wait_for_function("w => document.documentElement.scrollWidth <= w", arg=PHONE["width"], timeout=5000)
    page.screenshot(path=str(screenshots / f"console-{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def every_field_has_a_label(page) -> bool:
    return page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden]), select')].every(e => e.labels.length > 0)"
    )


def test_sign_in_and_watch_a_running_campaign(page, console_server, tenant, screenshots):
    page.goto("/console/login")
    assert every_field_has_a_label(page)
    shoot(page, screenshots, "login")
    page.get_by_label("API key").fill("live_" + "x" * 30)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That API key is not valid")

    campaign_id = send_campaign(console_server, tenant, DELIVERED_PHONES + FAILED_PHONES)
    sign_in(page, tenant)
    page.get_by_role("link", name=re.compile(f"#{campaign_id} ")).click()
    page.wait_for_url(f"**/console/campaigns/{campaign_id}")
    delivered = page.locator('.funnel-count[data-step="2"]')
    first = delivered.inner_text()
    # the counters move without a reload (htmx polls the progress while the campaign runs)
    page.wait_for_function(
        "first => document.querySelector('.funnel-count[data-step=\"2\"]').textContent.trim() !== first", arg=first
    )
    seen = {first, delivered.inner_text()}
    assert len(seen) == 2
    page.locator("#campaign-status").filter(has_text="done").wait_for(timeout=60000)
    assert delivered.inner_text() == str(len(DELIVERED_PHONES))
    assert page.locator('#status-table td[data-status="failed"]').inner_text() == "1"
    page.wait_for_function("() => Chart.getChart('status-chart') !== undefined")  # Chart.js drew it
    page.goto("/console/campaigns")
    assert every_field_has_a_label(page)
    shoot(page, screenshots, "campaigns")


def test_search_messages(page, console_server, tenant, screenshots):
    campaign_id = send_campaign(console_server, tenant, [491700300011, 491700300012, 491700300013])
    sign_in(page, tenant)
    page.get_by_role("link", name="Messages").click()
    assert every_field_has_a_label(page)
    page.get_by_label("Campaign id").fill(str(campaign_id))
    page.get_by_label("Sort by").select_option("phone")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#message-results tbody tr")
    assert rows.count() == 3
    assert "+491700300011" in rows.first.inner_text()
    assert page.locator("#result-count").inner_text() == "3 messages found."
    shoot(page, screenshots, "messages")
    page.get_by_label("Message id").fill("not-a-number")
    page.get_by_role("button", name="Search").click()
    assert "filter.id" in page.get_by_role("alert").inner_text()


def test_create_and_revoke_a_key_then_sign_out(page, console_server, tenant, screenshots):
    sign_in(page, tenant)
    page.get_by_role("link", name="Account").click()
    assert every_field_has_a_label(page)
    page.get_by_label("Mode").select_option("test")
    page.get_by_label("Label (optional)").fill("browser")
    page.get_by_role("button", name="Create key").click()
    new_key = page.get_by_label("New key").input_value()
    assert new_key.startswith("test_")
    shown = page.locator("#keys tbody tr", has_text="browser")
    assert shown.count() == 1
    shoot(page, screenshots, "account")
    works = httpx.get(f"{console_server.base_url}/api/accounts/balance", headers={"X-API-KEY": new_key}, timeout=10)
    assert works.status_code == 200
    shown.get_by_role("button", name=re.compile("Revoke key")).click()
    assert page.get_by_role("status").inner_text() == "The key was revoked."
    assert page.locator("#keys tbody tr", has_text="browser").count() == 0
    # the revoked key stops working (within the auth cache's few seconds)
    page.wait_for_timeout(100)
    deadline_ok = False
    for _ in range(100):
        r = httpx.get(f"{console_server.base_url}/api/accounts/balance", headers={"X-API-KEY": new_key}, timeout=10)
        if r.status_code == 401:
            deadline_ok = True
            break
        page.wait_for_timeout(100)
    assert deadline_ok
    # keyboard: the skip link is the first stop and leads to the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login")
    page.goto("/console/account")
    page.wait_for_url("**/console/login")


def test_a_post_without_the_csrf_token_is_refused(page, tenant):
    sign_in(page, tenant)
    page.goto("/console/account")
    status = page.evaluate(
        """async () => (await fetch('/console/account/keys', {method: 'POST',
             headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'mode=test&label=forged'})).status"""
    )
    assert status == 403
    page.reload()
    assert page.locator("#keys tbody tr", has_text="forged").count() == 0


def test_another_accounts_campaign_is_not_found(page, console_server, tenant, screenshots):
    other = console_server.create_account()
    theirs = send_campaign(console_server, other, [491700400011])
    sign_in(page, tenant)
    response = page.goto(f"/console/campaigns/{theirs}")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    page.goto("/console/campaigns")
    assert page.locator(f'a[href="/console/campaigns/{theirs}"]').count() == 0


#: A campaign to numbers of known countries and operators (libphonenumber's carrier data, the
#: mcc-mnc-p1 table): (country, operator, MCC, MNC) → (messages, delivered, not delivered).
KYIVSTAR = [380671230011, 380671230012, 380671230001]  # the last: undelivered
VODAFONE_UA = [380501230011, 380501230012]
SFR = [33612340011]
O2_DE = [4917612340011]
T_MOBILE_DE = [491700200003]  # failed at submit (refunded); no MCC/MNC in the table for this brand name
NETWORKS = {
    "UA/Kyivstar": ("Ukraine", "Kyivstar", "255", "02", 3, 2, 1),
    "UA/Vodafone": ("Ukraine", "Vodafone", "255", "01", 2, 2, 0),
    "FR/SFR": ("France", "SFR", "208", "08", 1, 1, 0),
    "DE/O2": ("Germany", "O2", "262", "03", 1, 1, 0),
    "DE/T-Mobile": ("Germany", "T-Mobile", "–", "–", 1, 0, 1),
}


def cells(row) -> dict[str, str]:
    return {name: row.locator(f'[data-col="{name}"]').inner_text() for name in ("messages", "delivered", "not-delivered",
                                                                              "cost")}


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_campaign_breakdown_then_create_and_download_a_statistics_job(page, console_server, screenshots):
    key = console_server.create_account(balance="1000")  # its own account: the job's rows are exactly its messages
    campaign_id = send_campaign(console_server, key, KYIVSTAR + VODAFONE_UA + SFR + O2_DE + T_MOBILE_DE)
    sign_in(page, key)
    page.goto(f"/console/campaigns/{campaign_id}")
    page.locator("#campaign-status").filter(has_text="done").wait_for(timeout=60000)

    # per country and operator: the right rows and figures
    rows = page.locator("#network-table tbody tr")
    assert rows.count() == len(NETWORKS)
    for network, (country, operator, mcc, mnc, messages, delivered, missed) in NETWORKS.items():
        row = page.locator(f'#network-table tbody tr[data-network="{network}"]')
        texts = [c.inner_text() for c in row.locator("th, td").all()]
        assert texts[0].startswith(country) and texts[1:4] == [operator, mcc, mnc], texts
        figures = cells(row)
        assert (figures["messages"], figures["delivered"], figures["not-delivered"]) == (
            str(messages), str(delivered), str(missed)), network
    total = cells(page.locator("#network-total"))
    assert (total["messages"], total["delivered"], total["not-delivered"]) == ("8", "6", "2")
    # the roll-ups' cost and the campaign's charged cost (from its messages) agree; the failed one is refunded
    assert total["cost"] == page.locator("#cost-charged").inner_text()
    assert cells(page.locator('#network-table tbody tr[data-network="DE/T-Mobile"]'))["cost"] == "0.00 EUR"
    assert cells(page.locator('#network-table tbody tr[data-network="FR/SFR"]'))["cost"] != "0.00 EUR"

    # the delivery-time histogram: drawn by Chart.js, its bars hold every delivered message
    page.wait_for_function("() => Chart.getChart('delivery-chart') !== undefined")
    drawn = page.evaluate("() => Chart.getChart('delivery-chart').data.datasets[0].data.reduce((a, b) => a + b, 0)")
    assert drawn == 6
    assert page.locator("#timed").inner_text() == "6"
    assert page.evaluate("() => document.getElementById('delivery-chart').width") > 0
    assert sum(int(c.inner_text()) for c in page.locator("#delivery-table td[data-bucket]").all()) == 6
    assert re.fullmatch(r"≤ [0-9.]+ (s|min)", page.locator("#p50").inner_text())
    shoot(page, screenshots, "campaign")

    # a job over the campaign's time range: the campaign page's link fills in the form
    page.locator("#export-campaign").click()
    page.wait_for_url("**/console/stat-jobs?*")
    assert every_field_has_a_label(page)
    assert page.get_by_label("Campaign id (optional)").input_value() == str(campaign_id)
    page.get_by_label("Campaign id (optional)").fill("")  # the time range alone
    # keyboard: Enter in a field submits the form
    page.get_by_label("Country (optional)").press("Enter")
    page.wait_for_url("**/console/stat-jobs?done=created")
    assert page.get_by_role("status").inner_text().startswith("The job was created")
    job = page.locator("#job-table tbody tr").first
    job_key = job.get_attribute("data-key")
    # the page follows the job (htmx polling) until the engine has finished it: no reload
    job.locator('[data-col="status"]').filter(has_text="Done").wait_for(timeout=60000)
    job = page.locator(f'#job-table tbody tr[data-key="{job_key}"]')
    assert job.locator('[data-col="rows"]').inner_text() == "8"
    assert page.locator("#jobs[hx-trigger]").count() == 0  # polling stopped
    assert page.locator("#jobs-announce").text_content() == "Every job has finished."  # for screen readers

    with page.expect_download() as info:
        job.get_by_role("link", name=f"Download job {job_key} as CSV").click()
    download = info.value
    assert download.suggested_filename == f"stat-job-{job_key}.csv"
    rows = read_csv(Path(download.path()).read_text(encoding="utf-8"))
    listed = httpx.get(f"{console_server.base_url}/api/messages", params={"page[limit]": 500},
                       headers={"X-API-KEY": key}, timeout=10).json()["data"]
    assert len(listed) == 8
    assert sorted((r["message_id"], r["msisdn"]) for r in rows) == sorted((str(m["id"]), str(m["phone"])) for m in listed)
    by_phone = {int(r["msisdn"]): r for r in rows}
    assert (by_phone[KYIVSTAR[0]]["brand"], by_phone[KYIVSTAR[0]]["mcc"], by_phone[KYIVSTAR[0]]["status"]) == (
        "Kyivstar", "255", "Delivered")
    assert by_phone[KYIVSTAR[2]]["status"] == "Undelivered" and by_phone[SFR[0]]["country_name"] == "France"
    with page.expect_download() as info:
        job.get_by_role("link", name=f"Download job {job_key} as gzip-compressed CSV").click()
    packed = gzip.decompress(Path(info.value.path()).read_bytes()).decode("utf-8")
    assert read_csv(packed) == rows
    shoot(page, screenshots, "statistics")

    job.get_by_role("button", name=f"Delete job {job_key}").click()
    assert page.get_by_role("status").inner_text() == "The job was deleted."
    assert page.locator(f'#job-table tbody tr[data-key="{job_key}"]').count() == 0
