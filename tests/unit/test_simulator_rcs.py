"""The simulator's RCS behaviour (docs/simulator.md): no-RCS numbers, read receipts, clicks."""

from __future__ import annotations

import asyncio

import pytest

from relaybox.connectors.base import Click, Receipt, Submission
from relaybox.connectors.simulator import READ_SHARE, SimulatorConnector, magic_reads
from relaybox.domain.status import MessageStatus
from tests.factories import (
    DELIVERED,
    NOT_RCS_USER,
    RCS_CLICK,
    RCS_DELIVERED_READ,
    RCS_DELIVERED_UNREAD,
    RCS_READ,
    UNDELIVERED,
)

CARDS = {
    "cards": [
        {"text": "Hello", "suggestions": [{"type": "link", "text": "Go", "url": "https://x.test/", "postback_data": "site"}]}
    ]
}


def sub(message_id: int, phone: int, channel: str = "rcs", options: dict | None = CARDS) -> Submission:
    return Submission(message_id, phone, "UA", "agent", "Hello", "utf8", 1, channel, options if channel == "rcs" else None)


async def events(connector: SimulatorConnector, submissions: list[Submission]) -> list:
    """Every receipt and click the simulator reports for `submissions` (at speed 0: at once)."""
    await connector.start()
    try:
        await connector.submit(submissions)
        got: list = []
        while connector.pending_receipts():
            got += await asyncio.wait_for(connector.receipts(), 2)
        return got
    finally:
        await connector.stop()


def by_operator(got: list) -> dict[str, list]:
    found: dict[str, list] = {}
    for event in got:
        found.setdefault(event.operator_id, []).append(
            event.status if isinstance(event, Receipt) else ("click", event.text, event.postback)
        )
    return found


async def test_magic_rcs_numbers():
    connector = SimulatorConnector(speed=0)
    got = await events(
        connector,
        [sub(1, NOT_RCS_USER), sub(2, RCS_READ), sub(3, RCS_CLICK), sub(4, RCS_DELIVERED_UNREAD), sub(5, UNDELIVERED),
         sub(6, RCS_DELIVERED_READ)],
    )
    assert by_operator(got) == {
        "sim-1": [MessageStatus.NOT_SERVICE_USER],
        "sim-2": [MessageStatus.DELIVERED, MessageStatus.READ],
        "sim-3": [MessageStatus.DELIVERED, MessageStatus.READ, ("click", "Go", "site")],
        "sim-4": [MessageStatus.DELIVERED],
        "sim-5": [MessageStatus.UNDELIVERED],
        "sim-6": [MessageStatus.DELIVERED, MessageStatus.READ],
    }
    assert all(isinstance(e, (Receipt, Click)) and e.at is not None for e in got)


async def test_sms_to_rcs_numbers_is_plain_sms():
    connector = SimulatorConnector(speed=0)
    got = await events(connector, [sub(1, NOT_RCS_USER, "sms"), sub(2, RCS_READ, "sms"), sub(3, RCS_CLICK, "sms")])
    assert by_operator(got) == {f"sim-{i}": [MessageStatus.DELIVERED] for i in (1, 2, 3)}


async def test_click_needs_a_suggestion():
    connector = SimulatorConnector(speed=0)
    got = await events(connector, [sub(1, RCS_CLICK, options={"text": "Hi"})])
    assert by_operator(got) == {"sim-1": [MessageStatus.DELIVERED, MessageStatus.READ]}


def test_read_share_is_about_half_and_fixed_per_number():
    numbers = range(380971240000, 380971242000)
    share = sum(magic_reads(sub(0, n)) for n in numbers) / len(numbers)
    assert abs(share - READ_SHARE) < 0.05
    assert magic_reads(sub(1, RCS_DELIVERED_READ)) and not magic_reads(sub(1, RCS_DELIVERED_UNREAD))
    assert magic_reads(sub(1, DELIVERED)) == magic_reads(sub(99, DELIVERED))


@pytest.mark.parametrize("seed", [0, 7])
async def test_realistic_profile_reads_a_share_reproducibly(seed):
    def run() -> SimulatorConnector:
        return SimulatorConnector(speed=0, profile="realistic", seed=seed)

    submissions = [sub(i, 380971240000 + i) for i in range(1, 201)]
    first = by_operator(await events(run(), submissions))
    reads = sum(MessageStatus.READ in v for v in first.values())
    delivered = sum(MessageStatus.DELIVERED in v for v in first.values())
    assert 0.3 < reads / delivered < 0.7
    assert by_operator(await events(run(), submissions)) == first
