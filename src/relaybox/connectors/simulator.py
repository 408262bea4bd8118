"""The built-in network simulator: the default connector, the demo and the tests' fake.

Outcomes are deterministic by the last four digits of the number (the
"magic numbers", docs/simulator.md), or drawn from per-country probabilities
with a seed in the `realistic` profile.  Delivered RCS messages may later be
read, and an RCS message with suggestion buttons may get a click.  Latencies
are realistic and scaled by `speed` (0 = as fast as possible).
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import random
from dataclasses import dataclass, field

from relaybox.connectors.base import Click, Inbound, Receipt, Report, Submission, SubmitResult
from relaybox.domain.rcs import first_suggestion
from relaybox.domain.status import MessageStatus
from relaybox.domain.timefmt import utcnow
from relaybox.tasks import wait_event

#: Last four digits → outcome (see docs/simulator.md).
MAGIC = {
    "0001": MessageStatus.UNDELIVERED,
    "0002": MessageStatus.EXPIRED,
    "0003": MessageStatus.FAILED,  # rejected at submit
    "0004": MessageStatus.UNKNOWN,
    "0005": MessageStatus.NOT_SERVICE_USER,  # RCS only; an SMS to it is delivered
}

#: RCS, last four digits: every delivered RCS message is read (0006), or read and
#: then its first suggestion button is clicked (0007).
ALWAYS_READ = "0006"
CLICKS = "0007"
#: Share of the other delivered RCS messages that are read.  In the magic profile
#: the draw is keyed by the phone number, so a number always behaves the same.
READ_SHARE = 0.5
#: Realistic profile: share of read RCS messages whose first button is clicked.
CLICK_SHARE = 0.1

#: SMS, last four digits: the simulated subscriber answers every delivered SMS with this text
#: (a mobile-originated message to the SMS's sender: docs/inbound.md).
REPLIES = {"0008": "Yes, thanks!", "0009": "STOP"}
REPLY_LATENCY = (1.0, 3.0)  # seconds from delivery to the subscriber's answer at speed 1

SUBMIT_LATENCY = 1.0  # seconds from submit to "sent" at speed 1
REPORT_LATENCY = (2.0, 5.0)  # seconds from "sent" to the delivery report at speed 1
READ_LATENCY = (1.0, 4.0)  # seconds from delivery to the read receipt at speed 1
CLICK_LATENCY = (1.0, 3.0)  # seconds from the read receipt to the click at speed 1
#: With latencies on (speed > 0), reports are released at most this often: each at its own
#: moment would wake the event loop once per report, a thousand times a second under load.
RELEASE_TICK = 0.01

#: Realistic profile: probability of each outcome by country; "*" for the rest.
REALISTIC = {
    "*": {"delivered": 0.93, "undelivered": 0.03, "expired": 0.02, "unknown": 0.01, "failed": 0.01},
    "US": {"delivered": 0.96, "undelivered": 0.02, "expired": 0.01, "unknown": 0.005, "failed": 0.005},
    "GB": {"delivered": 0.96, "undelivered": 0.02, "expired": 0.01, "unknown": 0.005, "failed": 0.005},
    "DE": {"delivered": 0.97, "undelivered": 0.015, "expired": 0.01, "unknown": 0.004, "failed": 0.001},
    "UA": {"delivered": 0.92, "undelivered": 0.04, "expired": 0.025, "unknown": 0.01, "failed": 0.005},
    "IN": {"delivered": 0.85, "undelivered": 0.07, "expired": 0.04, "unknown": 0.03, "failed": 0.01},
    "NG": {"delivered": 0.80, "undelivered": 0.09, "expired": 0.05, "unknown": 0.05, "failed": 0.01},
}


def magic_outcome(sub: Submission) -> MessageStatus:
    """The outcome the number's last four digits ask for (MAGIC, docs/simulator.md), else delivered; not_service_user
    only for RCS.
    """
    outcome = MAGIC.get(str(sub.phone)[-4:], MessageStatus.DELIVERED)
    if outcome is MessageStatus.NOT_SERVICE_USER and sub.channel != "rcs":
        return MessageStatus.DELIVERED
    return outcome


def magic_reads(sub: Submission) -> bool:
    """Whether a delivered RCS message is read, in the magic profile."""
    if str(sub.phone)[-4:] in (ALWAYS_READ, CLICKS):
        return True
    return random.Random(f"read:{sub.phone}").random() < READ_SHARE


def magic_click(sub: Submission) -> dict | None:
    """The suggestion a read RCS message's recipient clicks, in the magic profile (0007 only)."""
    return first_suggestion(sub.rcs_options) if str(sub.phone)[-4:] == CLICKS else None


def magic_reply(sub: Submission, outcome: MessageStatus) -> str | None:
    """The subscriber's answer to a delivered SMS (numbers ending 0008 and 0009), in every profile."""
    if sub.channel != "sms" or outcome is not MessageStatus.DELIVERED:
        return None
    return REPLIES.get(str(sub.phone)[-4:])


def reply_report(sub: Submission, text: str, at) -> Inbound:
    """The subscriber's answer as the network reports it: from the phone to the SMS's sender."""
    return Inbound(str(sub.phone), sub.sender, text, "gsm7", at, network_id=f"sim-mo-{sub.message_id}")


def uniform_of(key: str) -> float:
    """A number in [0, 1) that depends only on `key`, spread evenly over keys (BLAKE2b of the key):
    what `random.Random(key).random()` gives for such uses, in a tenth of the time (seeding a
    Random hashes the key with SHA-512 and fills a Mersenne Twister state), once per message."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") / 2**64


def realistic_outcome(sub: Submission, seed: int) -> MessageStatus:
    """An outcome drawn from the country's probabilities (REALISTIC), repeatable for a (seed, message id)."""
    table = REALISTIC.get(sub.country, REALISTIC["*"])
    draw = random.Random(f"{seed}:{sub.message_id}").random()
    cumulative = 0.0
    for status, p in table.items():
        cumulative += p
        if draw < cumulative:
            return MessageStatus(status)
    return MessageStatus.DELIVERED


@dataclass
class SimulatorConnector:
    """The in-process network simulator (docs/simulator.md); `speed` scales latencies (0 = as fast as possible)."""
    name: str = "simulator"
    speed: float = 1.0
    profile: str = "magic"
    seed: int = 0
    submitted: dict[int, str] = field(default_factory=dict)  # message id -> operator id
    submit_count: int = 0  # submissions received, resubmissions included
    _pending: list = field(default_factory=list)  # heap of (due, seq, operator id, status, click)
    _ready: list[Report] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)  # new receipts scheduled
    _has_ready: asyncio.Event = field(default_factory=asyncio.Event)  # receipts due for intake
    _seq: itertools.count = field(default_factory=itertools.count)
    _timer: asyncio.Task | None = None

    async def start(self) -> None:
        if self._timer is None:
            self._timer = asyncio.create_task(self._release_due(), name="simulator-receipts")

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            try:
                await self._timer
            except asyncio.CancelledError:
                pass
            self._timer = None

    def outcome(self, sub: Submission) -> MessageStatus:
        if self.profile == "realistic":
            return realistic_outcome(sub, self.seed)
        return magic_outcome(sub)

    def reads(self, sub: Submission) -> bool:
        if self.profile == "realistic":
            return random.Random(f"{self.seed}:read:{sub.message_id}").random() < READ_SHARE
        return magic_reads(sub)

    def click(self, sub: Submission) -> dict | None:
        if self.profile == "realistic":
            clicks = random.Random(f"{self.seed}:click:{sub.message_id}").random() < CLICK_SHARE
            return first_suggestion(sub.rcs_options) if clicks else None
        return magic_click(sub)

    def _latency(self, bounds: tuple[float, float], kind: str, message_id: int) -> float:
        """Seconds from `bounds`, the same for a message each time it is asked (a restart included)."""
        low, high = bounds
        return (low + (high - low) * uniform_of(f"{kind}:{message_id}")) * self.speed

    async def submit(self, batch: list[Submission]) -> list[SubmitResult]:
        self.submit_count += len(batch)
        if self.speed:
            await asyncio.sleep(SUBMIT_LATENCY * self.speed)
        loop = asyncio.get_running_loop()
        results: list[SubmitResult] = []
        for sub in batch:
            if sub.message_id in self.submitted:  # a resubmission: same answer, no second receipt
                results.append(SubmitResult(sub.message_id, True, self.submitted[sub.message_id]))
                continue
            outcome = self.outcome(sub)
            if outcome is MessageStatus.FAILED:
                results.append(SubmitResult(sub.message_id, False, error="rejected by the network"))
                continue
            operator_id = f"sim-{sub.message_id}"
            self.submitted[sub.message_id] = operator_id
            results.append(SubmitResult(sub.message_id, True, operator_id))
            low, high = REPORT_LATENCY
            # (at speed 0 every delay is 0: skip seeding a Random per message, a hot spot at 10k msgs/s)
            delay = (low + (high - low) * random.Random(sub.message_id).random()) * self.speed if self.speed else 0.0
            due = loop.time() + delay
            self._schedule(due, operator_id, outcome)
            reply = magic_reply(sub, outcome)
            if reply is not None:
                self._schedule(due + self._latency(REPLY_LATENCY, "reply", sub.message_id), operator_id, None, reply_report(sub, reply, None))
            if sub.channel == "rcs" and outcome is MessageStatus.DELIVERED and self.reads(sub):
                due += self._latency(READ_LATENCY, "read", sub.message_id)
                self._schedule(due, operator_id, MessageStatus.READ)
                button = self.click(sub)
                if button is not None:
                    due += self._latency(CLICK_LATENCY, "click", sub.message_id)
                    self._schedule(due, operator_id, None, (button["text"], button.get("postback_data")))
        self._wake.set()
        return results

    def _schedule(
        self, due: float, operator_id: str, status: MessageStatus | None,
        click: tuple[str, str | None] | Inbound | None = None,
    ) -> None:
        # the sequence number keeps a message's events in order when they fall due together
        heapq.heappush(self._pending, (due, next(self._seq), operator_id, status, click))

    async def _release_due(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            released = False
            while self._pending and self._pending[0][0] <= now:
                _, _, operator_id, status, click = heapq.heappop(self._pending)
                if isinstance(click, Inbound):
                    self._ready.append(Inbound(click.sender, click.recipient, click.text, click.encoding, utcnow(),
                                               network_id=click.network_id))
                elif click is not None:
                    self._ready.append(Click(operator_id, click[0], click[1], utcnow()))
                else:
                    self._ready.append(Receipt(operator_id, status, utcnow()))
                released = True
            if released:
                self._has_ready.set()
            timeout = (self._pending[0][0] - now) if self._pending else None
            if timeout is not None and self.speed:
                timeout = max(timeout, RELEASE_TICK)
            self._wake.clear()
            await wait_event(self._wake, timeout)

    async def receipts(self) -> list[Report]:
        while not self._ready:
            self._has_ready.clear()
            await self._has_ready.wait()
        ready, self._ready = self._ready, []
        return ready

    def pending_receipts(self) -> int:
        return len(self._pending) + len(self._ready)
