"""Webhook deliveries cannot be turned against the platform: the address actually connected to is
checked (every internal family and spelling refused unless the operator allows its network), a
reply cannot grow the sender's memory, an attempt has a total deadline, one tenant's slow receiver
does not delay another's webhooks, and signatures follow Standard Webhooks (id and time signed)."""

from __future__ import annotations

import asyncio
import gc
import socket
import time
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from relaybox.domain.signatures import verify
from relaybox.engine.webhooks import WebhookSender
from relaybox.store import outbox
from relaybox.store.tables import webhook_outbox
from relaybox.store.webhook_admin import configure
from tests.conftest import wait_until
from tests.factories import make_account
from tests.integration.webhook_receivers import MB, Receiver, gzip_bomb, vm, vm_peak_reset


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def configure_webhooks(platform, **values) -> None:
    platform.settings = platform.settings.model_copy(update=values)


async def enqueue(platform, account_id: int, urls: list[str], body: dict | None = None) -> list[int]:
    async with platform.db.write() as conn:
        await outbox.enqueue(conn, [(account_id, None, url, body or {"n": i}) for i, url in enumerate(urls)],
                             platform.clock())
    async with platform.db.read() as conn:
        rows = await conn.execute(select(webhook_outbox.c.id).where(webhook_outbox.c.url.in_(urls)))
        return sorted(rows.scalars())


async def rows_for(platform, urls: list[str]) -> dict[str, object]:
    async with platform.db.read() as conn:
        rows = (await conn.execute(select(webhook_outbox).where(webhook_outbox.c.url.in_(urls)))).all()
    return {r.url: r for r in rows}


def loopback_urls(v4: int, v6: int | None) -> list[str]:
    """Ways of writing an address on this machine where a receiver listens (IPv4 port `v4`)."""
    urls = [
        f"http://127.0.0.1:{v4}/a",
        f"http://localhost:{v4}/b",
        f"http://2130706433:{v4}/c",  # 127.0.0.1 as one integer
        f"http://0x7f.1:{v4}/d",  # hexadecimal, two parts
        f"http://127.1:{v4}/e",
        f"http://[::ffff:127.0.0.1]:{v4}/f",  # IPv4-mapped IPv6
    ]
    if v6 is not None:
        urls.append(f"http://[::1]:{v6}/g")
    return urls


#: Internal destinations with nothing listening: refused before any connection is tried.
INTERNAL_URLS = [
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",  # metadata over IPv6 (unique-local)
    "http://0.0.0.0:9/h",  # "this host": Linux connects it to the loopback interface
    "http://10.0.0.1/h", "http://172.16.0.1/h", "http://192.168.0.1/h",  # RFC 1918
    "http://100.64.0.1/h",  # CGNAT
    "http://169.254.1.1/h", "http://[fe80::1]/h",  # link-local
    "http://[fc00::1]/h", "http://[fd12:3456::1]/h",  # unique-local
    "http://224.0.0.1/h", "http://[ff02::1]/h",  # multicast
    "http://240.0.0.1/h", "http://255.255.255.255/h", "http://192.0.2.1/h", "http://198.18.0.1/h",  # reserved
    "http://[::]/h",  # unspecified
    "http://[::127.0.0.1]/h",  # IPv4-compatible IPv6
    "http://[64:ff9b::a9fe:a9fe]/h",  # NAT64 of 169.254.169.254
    "http://[2002:a9fe:a9fe::1]/h",  # 6to4 of 169.254.169.254
]


async def test_every_internal_address_is_refused_at_delivery(platform):
    configure_webhooks(platform, webhook_allow_networks="", webhook_timeout_seconds=2.0)
    v4 = await Receiver().start()
    v6 = await Receiver(host="::1").start() if has_ipv6_loopback() else None
    account_id, _ = await make_account(platform)
    urls = loopback_urls(v4.port, v6.port if v6 else None) + INTERNAL_URLS
    await enqueue(platform, account_id, urls)
    sender = WebhookSender(platform)
    try:
        while await sender.send_due():
            pass
    finally:
        await sender.close()
        await v4.stop()
        if v6:
            await v6.stop()
    # nothing reached the receivers: not a request, not even a connection
    assert v4.connections == 0 and not v4.requests
    assert v6 is None or (v6.connections == 0 and not v6.requests)
    rows = await rows_for(platform, urls)
    assert set(rows) == set(urls)
    for url, row in rows.items():
        # refused at once, with the reason: a permanently bad destination is not retried ten times
        assert (row.status, row.attempts) == ("failed", 1), (url, row.status, row.attempts, row.last_error)
        assert row.last_error.startswith("refused: "), (url, row.last_error)


async def test_an_allowed_network_is_delivered_to(platform):
    configure_webhooks(platform, webhook_allow_networks="127.0.0.0/8, ::1/128", webhook_timeout_seconds=5.0)
    v4 = await Receiver().start()
    v6 = await Receiver(host="::1").start() if has_ipv6_loopback() else None
    account_id, _ = await make_account(platform)
    urls = loopback_urls(v4.port, v6.port if v6 else None)
    await enqueue(platform, account_id, urls + ["http://169.254.169.254/still-refused"])
    sender = WebhookSender(platform)
    try:
        while await sender.send_due():
            pass
    finally:
        await sender.close()
        await v4.stop()
        if v6:
            await v6.stop()
    rows = await rows_for(platform, urls + ["http://169.254.169.254/still-refused"])
    assert {u: r.status for u, r in rows.items() if u in urls} == {u: "delivered" for u in urls}
    assert rows["http://169.254.169.254/still-refused"].last_error.startswith("refused: ")
    assert len(v4.requests) + (len(v6.requests) if v6 else 0) == len(urls)


async def test_a_name_resolving_to_an_allowed_network_keeps_its_host_header(platform):
    configure_webhooks(platform, webhook_allow_networks="127.0.0.0/8,::1/128")  # localhost may be both
    receiver = await Receiver().start()
    account_id, _ = await make_account(platform)
    await enqueue(platform, account_id, [f"http://localhost:{receiver.port}/named"])
    sender = WebhookSender(platform)
    try:
        assert await sender.send_due() == 1
    finally:
        await sender.close()
        await receiver.stop()
    (headers, _, _), = receiver.requests
    assert headers["host"] == f"localhost:{receiver.port}"
    assert headers["accept-encoding"] == "identity"


@pytest.mark.parametrize("mode", ["big", "bomb"])
async def test_a_huge_or_compressed_reply_does_not_grow_the_senders_memory(platform, mode):
    configure_webhooks(platform, webhook_timeout_seconds=30.0)
    if mode == "bomb":
        assert len(gzip_bomb()) < 300 * 1024  # made before measuring: ~200 KB inflating to 200 MB
    receiver = await Receiver(mode=mode).start()
    account_id, _ = await make_account(platform)
    await enqueue(platform, account_id, [receiver.url])
    sender = WebhookSender(platform)
    try:
        gc.collect()
        before = vm("VmRSS")
        vm_peak_reset()
        assert await sender.send_due() == 1
        peak = vm("VmHWM")
    finally:
        await sender.close()
        await receiver.stop()
    assert len(receiver.requests) == 1
    assert peak - before < 50 * MB, f"{(peak - before) / MB:.0f} MB more at the peak"
    (row,) = (await rows_for(platform, [receiver.url])).values()
    assert row.status == "delivered"  # a 2xx status is what counts; the body is not needed


async def test_a_trickling_receiver_costs_only_its_own_tenant(platform):
    deadline = 3.0
    configure_webhooks(platform, webhook_timeout_seconds=deadline, webhook_account_concurrency=2,
                       webhook_max_attempts=1)
    slow = await Receiver(mode="trickle", interval=2.0, trickle_for=40.0).start()
    fast = await Receiver().start()
    slow_tenant, _ = await make_account(platform)
    other_tenant, _ = await make_account(platform)
    slow_urls = [f"{slow.url}/{i}" for i in range(10)]
    await enqueue(platform, slow_tenant, slow_urls)
    sender = WebhookSender(platform)
    task = asyncio.create_task(sender.run())
    try:
        await wait_until(lambda: _true(len(slow.requests) >= 1), timeout=10)
        await asyncio.sleep(0.5)  # the slow tenant's attempts are now hanging
        latencies = []
        for i in range(3):
            sent_at = time.monotonic()
            await enqueue(platform, other_tenant, [f"{fast.url}/{i}"])
            await wait_until(lambda: _true(len(fast.requests) > i), timeout=15)
            latencies.append(fast.requests[i][2] - sent_at)
            await asyncio.sleep(0.3)
        assert max(latencies) < 1.0, latencies
        # the slow tenant held at most its own share of the senders
        assert len(slow.requests) <= 2 * 2  # at most 2 at once; at most one round finished by now
        # and each of its attempts ended at the total deadline, though a byte came every 2 s
        await wait_until(lambda: _true(len(slow.closed_after) >= 2), timeout=deadline + 10)
        assert all(deadline - 0.5 <= t <= deadline + 2.5 for t in slow.closed_after[:2]), slow.closed_after

        async def failures_recorded():  # before the sender is stopped (a loaded machine records them late)
            return any(r.status == "failed" for r in (await rows_for(platform, slow_urls)).values())

        await wait_until(failures_recorded, timeout=10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sender.close()
        await slow.stop()
        await fast.stop()
    failed = [r for r in (await rows_for(platform, slow_urls)).values() if r.status == "failed"]
    assert failed and all("deadline" in r.last_error for r in failed), [r.last_error for r in failed]


async def _true(value):
    return value


async def test_several_senders_share_one_outbox_and_send_each_item_once(platform):
    """Two workers' senders on one database (PostgreSQL: SKIP LOCKED and leases), many tenants."""
    receiver = await Receiver().start()
    tenants = [(await make_account(platform))[0] for _ in range(5)]
    urls = [f"{receiver.url}/{tenant}/{n}" for tenant in tenants for n in range(12)]
    for tenant in tenants:
        await enqueue(platform, tenant, [u for u in urls if f"/{tenant}/" in u])
    senders = [WebhookSender(platform), WebhookSender(platform)]
    tasks = [asyncio.create_task(s.run()) for s in senders]
    try:
        async def all_delivered():
            rows = await rows_for(platform, urls)
            return len(rows) == len(urls) and all(r.status == "delivered" for r in rows.values())

        await wait_until(all_delivered, timeout=30)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for s in senders:
            await s.close()
        await receiver.stop()
    ids = [headers["webhook-id"] for headers, _, _ in receiver.requests]
    assert len(ids) == len(set(ids)) == len(urls)


async def test_standard_webhooks_signatures_verify_and_replays_are_refused(platform):
    from relaybox.domain.signatures import standard_secret  # new with Standard Webhooks

    configure_webhooks(platform, webhook_retry_base_seconds=0.01)
    receiver = await Receiver().start()
    account_id, _ = await make_account(platform)
    async with platform.db.write() as conn:
        _, secret = await configure(conn, account_id, url=None, clear_url=False, rotate=False)
    whsec = standard_secret(secret)
    assert whsec.startswith("whsec_")
    (row_id,) = await enqueue(platform, account_id, [receiver.url], {"id": 7, "status": "delivered"})
    sender = WebhookSender(platform)
    try:
        assert await sender.send_due() == 1
        (headers, body, _), = receiver.requests
        assert Webhook(whsec).verify(body, headers) == {"id": 7, "status": "delivered"}
        assert headers["webhook-id"] == str(row_id) == headers["x-relaybox-delivery"]
        assert verify(secret, body, headers["x-relaybox-signature"])  # the older header stays
        with pytest.raises(WebhookVerificationError):  # another account's secret
            Webhook(standard_secret("0" * 64)).verify(body, headers)
        with pytest.raises(WebhookVerificationError):  # a tampered body
            Webhook(whsec).verify(body.replace(b"delivered", b"failed"), headers)
        with pytest.raises(WebhookVerificationError):  # replayed as another delivery
            Webhook(whsec).verify(body, {**headers, "webhook-id": str(row_id + 1)})
        with pytest.raises(WebhookVerificationError):  # replayed later with a fresh time
            Webhook(whsec).verify(body, {**headers, "webhook-timestamp": str(int(time.time()) + 60)})

        # a delivery signed ten minutes ago (a captured request sent again) is refused as too old
        real_clock = platform.clock
        platform.clock = lambda: real_clock() - timedelta(minutes=10)
        (old_id,) = await enqueue(platform, account_id, [receiver.url + "/old"], {"id": 8})
        assert await sender.send_due() == 1
        platform.clock = real_clock
        (old_headers, old_body, _) = receiver.requests[1]
        assert old_headers["webhook-id"] == str(old_id)
        with pytest.raises(WebhookVerificationError, match="too old"):
            Webhook(whsec).verify(old_body, old_headers)
    finally:
        await sender.close()
        await receiver.stop()
    assert orjson.loads(body) == {"id": 7, "status": "delivered"}
