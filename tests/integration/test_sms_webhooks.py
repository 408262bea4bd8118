"""SMS status webhooks: signed, retried after failures (500, timeout, refused), one success per change."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from dataclasses import dataclass, field

import orjson
from sqlalchemy import select

from relaybox.connectors.simulator import SimulatorConnector
from relaybox.domain.models import Caller
from relaybox.domain.signatures import verify
from relaybox.engine import Engine
from relaybox.services import sending
from relaybox.services.recipients import Recipient
from relaybox.store.tables import webhook_outbox
from relaybox.store.webhook_admin import configure, deliveries
from tests.conftest import wait_until
from tests.factories import DELIVERED, FAILED, UNDELIVERED, make_account


@dataclass
class Receiver:
    """A tiny HTTP/1.1 receiver on 127.0.0.1: answers each request per `script`, then 200."""

    script: list[str] = field(default_factory=list)  # "500" | "slow" | "ok", consumed in order
    seen: list[tuple[dict, bytes, int | None]] = field(default_factory=list)  # headers, body, status sent
    port: int = 0
    server: asyncio.AbstractServer | None = None

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                action = self.script.pop(0) if self.script else "ok"
                if action == "slow":
                    self.seen.append((headers, body, None))
                    await asyncio.sleep(3.0)  # past the sender's timeout
                    writer.close()
                    return
                status = 500 if action == "500" else 200
                self.seen.append((headers, body, status))
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def successes(self) -> list[tuple[dict, bytes]]:
        return [(h, b) for h, b, status in self.seen if status == 200]


def fast_retries(platform) -> None:
    platform.settings = platform.settings.model_copy(
        # a timeout long enough that a loaded machine's answer in time is not taken for a slow one (which
        # the sender would retry, and the receiver would count twice)
        update={"webhook_retry_base_seconds": 0.05, "webhook_timeout_seconds": 1.0, "webhook_max_attempts": 10}
    )


async def send_two(platform, account_id: int, callback_url: str | None = None):
    recipients = [
        Recipient(path="phones.0", phone=DELIVERED, text="hi", sender="relaybox"),
        Recipient(path="phones.1", phone=UNDELIVERED, text="hi", sender="relaybox"),
        Recipient(path="phones.2", phone=FAILED, text="hi", sender="relaybox"),
    ]
    return await sending.send(platform, Caller(account_id, False), recipients, sending.SendOptions(callback_url=callback_url))


async def outbox_rows(platform):
    async with platform.db.read() as conn:
        return (await conn.execute(select(webhook_outbox))).all()


def expected_changes(outcome) -> Counter:
    return Counter({"sending": 3, "sent": 2, "delivered": 1, "undelivered": 1, "failed": 1})


async def test_every_change_is_delivered_once_signed_after_500_and_timeout(platform):
    fast_retries(platform)
    receiver = Receiver(script=["500", "slow", "500"])
    await receiver.start()
    account_id, _ = await make_account(platform)
    async with platform.db.write() as conn:  # the account's default URL (what `relaybox account webhook` sets)
        _, secret = await configure(conn, account_id, url=f"http://127.0.0.1:{receiver.port}/hook", clear_url=False, rotate=False)
    outcome = await send_two(platform, account_id)
    engine = Engine(platform, SimulatorConnector(speed=0))
    await engine.start()
    try:
        async def all_delivered():
            rows = await outbox_rows(platform)
            return len(rows) == 8 and all(r.status == "delivered" for r in rows) and rows

        rows = await wait_until(all_delivered)
    finally:
        await engine.stop()
        await receiver.stop()

    successes = receiver.successes()
    # exactly one successful delivery per status change, whatever failed before it
    assert Counter(h["x-relaybox-delivery"] for h, _ in successes) == Counter({str(r.id): 1 for r in rows})
    bodies = [orjson.loads(b) for _, b in successes]
    assert Counter(b["status"] for b in bodies) == expected_changes(outcome)
    assert set(bodies[0]) == {"error", "errorDescription", "id", "msisdn", "reference", "time_in", "time_sent",
                              "time_dr", "status", "price", "currency"}
    # every request, failed or not, carries a signature that the receiver can check
    assert all(verify(secret, body, headers.get("x-relaybox-signature")) for headers, body, _ in receiver.seen)
    assert not verify("another secret", successes[0][1], successes[0][0]["x-relaybox-signature"])
    # the failures were retried: one request more per failure (500, timeout, 500), all counted
    assert len(receiver.seen) == len(rows) + 3
    assert sum(r.attempts for r in rows) == len(rows) + 3
    assert sorted(int(h["x-relaybox-attempt"]) for h, _ in successes)[-1] >= 2


async def test_refused_connections_are_retried_and_recorded(platform):
    fast_retries(platform)
    with socket.socket() as s:  # a port nobody listens on (yet)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    account_id, _ = await make_account(platform)
    await send_two(platform, account_id, callback_url=f"http://127.0.0.1:{port}/status")
    engine = Engine(platform, SimulatorConnector(speed=0))
    await engine.start()
    receiver = Receiver()
    try:
        async def failing_and_recorded():
            async with platform.db.read() as conn:
                log = await deliveries(conn, account_id=account_id, status="pending", message_id=None, limit=50)
            return len(log) == 8 and all(d.attempts >= 2 and "Connect" in (d.last_error or "") for d in log)

        await wait_until(failing_and_recorded)
        await receiver.start(port)  # the receiver comes up: the retries now get through

        async def all_delivered():
            rows = await outbox_rows(platform)
            return all(r.status == "delivered" for r in rows) and rows

        rows = await wait_until(all_delivered)
    finally:
        await engine.stop()
        await receiver.stop()
    assert len(receiver.successes()) == len(rows) == 8
    assert all(r.last_error is None and r.attempts >= 3 for r in rows)


async def test_a_receiver_that_never_answers_is_given_up_after_the_maximum(platform):
    platform.settings = platform.settings.model_copy(
        # the receiver answers 500 at once: a generous timeout costs nothing, and a loaded machine's
        # answer is not taken for no answer
        update={"webhook_retry_base_seconds": 0.02, "webhook_timeout_seconds": 2.0, "webhook_max_attempts": 3}
    )
    receiver = Receiver(script=["500"] * 100)
    await receiver.start()
    account_id, _ = await make_account(platform)
    await send_two(platform, account_id, callback_url=f"http://127.0.0.1:{receiver.port}/x")
    engine = Engine(platform, SimulatorConnector(speed=0))
    await engine.start()
    try:
        async def all_failed():
            rows = await outbox_rows(platform)
            return len(rows) == 8 and all(r.status == "failed" for r in rows) and rows

        rows = await wait_until(all_failed)
    finally:
        await engine.stop()
        await receiver.stop()
    assert {r.attempts for r in rows} == {3} and {r.last_error for r in rows} == {"HTTP 500"}
