"""Connection hygiene of a live `relaybox serve` (api/connections.py): clients stalled in their
request heads (slowloris) and idle connections are closed within seconds, a cap on open
connections makes room by closing idle ones, and real requests go on being answered meanwhile;
one tenant's flood of requests is refused by its own limit, not by the other tenant's."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.factories import DELIVERED

#: A request head cut off in the middle of its headers.
PARTIAL_HEAD = b"POST /api/messages/send HTTP/1.1\r\nHost: relaybox\r\nContent-Type: application/json\r\nX-API-KEY: test_"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`serve` with its default hygiene settings (head deadline 5 s, keep-alive 5 s, 1,000 connections)."""
    live = start_server(tmp_path_factory.mktemp("hygiene"), "--sim-speed", "0")
    yield live
    stop_server(live)


async def open_stalled(port: int, n: int, head: bytes = PARTIAL_HEAD):
    """`n` connections that each send `head` and then nothing."""
    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if head:
            writer.write(head)
            await writer.drain()
        return reader, writer

    conns = []
    for start in range(0, n, 50):  # in waves: the listen backlog is not what is being tested
        conns += await asyncio.gather(*(one() for _ in range(start, min(n, start + 50))))
    return conns


async def closed_by_server(reader: asyncio.StreamReader, timeout: float) -> float | None:
    """Seconds until the server closed the connection (EOF or reset), None if it did not in `timeout`."""
    start = time.monotonic()
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(4096), timeout=max(0.01, timeout - (time.monotonic() - start)))
            if not chunk:
                return time.monotonic() - start
    except asyncio.TimeoutError:  # first: it is an OSError too
        return None
    except (ConnectionError, OSError):
        return time.monotonic() - start


def close_all(conns) -> None:
    for _, writer in conns:
        writer.close()


def port_of(server) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def send_one(server, key: str, text: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/api/messages/send", headers={"X-API-KEY": key}, timeout=60,
        json={"phone": {"number": DELIVERED}, "channels": ["sms"], "sms": {"text": text, "sender": "relaybox"}},
    )


async def test_stalled_heads_are_closed_and_real_requests_still_answered(server):
    key = server.create_account()
    conns = await open_stalled(port_of(server), 400)
    try:
        # meanwhile, a real client is served, on a fresh connection, while the 400 stall
        answered = await asyncio.to_thread(send_one, server, key, "while stalled")
        assert answered.status_code == 200, answered.text
        times = await asyncio.gather(*(closed_by_server(reader, 20.0) for reader, _ in conns))
    finally:
        close_all(conns)
    still_open = sum(t is None for t in times)
    assert still_open == 0, f"{still_open} of {len(conns)} stalled connections still open after 20 s"
    assert max(times) < 15  # the default head deadline is 5 s; generous margin for a busy machine


async def test_idle_connections_are_closed(server):
    # a connection that never sends anything
    silent = await open_stalled(port_of(server), 20, head=b"")
    # a kept-alive connection after one whole request and its answer
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(server))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: relaybox\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
    assert head.startswith(b"HTTP/1.1 200")
    try:
        times = await asyncio.gather(*(closed_by_server(r, 20.0) for r, _ in [*silent, (reader, writer)]))
    finally:
        close_all([*silent, (reader, writer)])
    assert all(t is not None and t < 15 for t in times), times


async def test_connection_cap_closes_idle_connections_first(tmp_path):
    live = start_server(tmp_path, "--sim-speed", "0", "--max-connections", "50", "--header-timeout", "60")
    try:
        key = live.create_account()
        conns = await open_stalled(port_of(live), 120)
        try:
            # the cap is reached many times over; each new connection pushed out the oldest stalled one
            for i in range(3):
                answered = await asyncio.to_thread(send_one, live, key, f"capped {i}")
                assert answered.status_code == 200, answered.text
            times = await asyncio.gather(*(closed_by_server(reader, 3.0) for reader, _ in conns))
        finally:
            close_all(conns)
        open_now = sum(t is None for t in times)
        assert open_now <= 50, f"{open_now} stalled connections open with a cap of 50"
        assert open_now >= 40  # the newest ones stay: it is a cap, not a purge (head deadline is 60 s)
    finally:
        stop_server(live)


def test_a_flooding_tenant_does_not_get_another_tenants_requests_refused(server):
    """One tenant floods from 6 connections; the other's requests, made meanwhile, are all answered."""
    # the flooder's own limit, set when its account is made: 20 requests a second, 20 at once
    flooder = server.cli("account", "create", "--name", "flood", "--requests-per-second", "20",
                         "--requests-burst", "20").strip().splitlines()[-1]
    other = server.create_account()
    stop_at = time.monotonic() + 3.0
    flood_statuses: list[int] = []

    def flood(n: int) -> None:
        with httpx.Client(base_url=server.base_url, timeout=60) as c:
            i = 0
            while time.monotonic() < stop_at:
                r = c.get("/api/accounts/balance", headers={"X-API-KEY": flooder})
                flood_statuses.append(r.status_code)
                i += 1

    async def run() -> list[int]:
        floods = [asyncio.to_thread(flood, n) for n in range(6)]
        other_statuses: list[int] = []

        async def calm() -> None:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as c:
                for i in range(40):
                    r = await c.post(
                        "/api/messages/send", headers={"X-API-KEY": other},
                        json={"phone": {"number": DELIVERED}, "channels": ["sms"],
                              "sms": {"text": f"calm {i}", "sender": "relaybox"}},
                    )
                    other_statuses.append(r.status_code if r.status_code == 200 else f"{r.status_code} {r.text}")
                    await asyncio.sleep(0.05)

        await asyncio.gather(calm(), *floods)
        return other_statuses

    other_statuses = asyncio.run(run())
    assert other_statuses == [200] * 40
    # the flood went past the flooder's own limit and was refused, and only the flood was
    assert flood_statuses.count(429) > flood_statuses.count(200) > 0, (len(flood_statuses), set(flood_statuses))
    assert flood_statuses.count(200) <= 20 + 20 * 4  # burst + rate × (3 s and a margin)
