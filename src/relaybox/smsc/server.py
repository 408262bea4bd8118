"""The SMSC simulator: an SMPP 3.4 server that behaves like the built-in network simulator.

`relaybox smsc --port 2775` runs it; the tests and `bench/smpp_submit.py` run it
in-process.  It accepts binds (any credentials, or only the configured
system_id/password: others get ESME_RINVSYSID / ESME_RINVPASWD), answers each
`submit_sm`, and sends delivery receipts by `deliver_sm`, with the outcome rules
of `connectors/simulator.py` (imported, not copied): the magic numbers (or the
realistic profile) decide each message's fate, a `…0003` number is refused at
submit (ESME_RSUBMITFAIL), and a receipt follows 2-5 s × speed after the submit,
keyed by relaybox's message id as in the built-in simulator.

- **Resubmissions are dropped.**  A `submit_sm` carrying the relaybox message id
  TLV (0x1501) for a (system_id, message id, part number) it already has is
  answered with the first answer's message id and schedules no second receipt.
- **Receipts are kept until acknowledged.**  A receipt goes to a bound session
  of the same system_id that can receive (transceiver or receiver); one not
  answered by `deliver_sm_resp` within `redeliver_after`, or whose session
  closed first, is sent again (on a new session after a rebind).
- **Receipts in the coding they declare**: GSM 03.38 (data_coding 0) when the
  echoed text allows, else UCS-2 (data_coding 8); the text of a message that
  came in `message_payload` is echoed like any other.
- **Test aids**: `kill_links()` drops every connection at once (a network cut
  mid-window), `throttle_tps` answers ESME_RTHROTTLED above a rate, and
  `received` / `duplicates` / `binds_refused` record what arrived.
- **Subscribers answer** (docs/inbound.md): a delivered message to a number ending `0008` or
  `0009` is answered with a mobile-originated `deliver_sm` (`Yes, thanks!`, `STOP`) to its
  originator, after its receipt; `send_mo` and `send_deliver_sm` send any other MO.

docs/connectors.md ("The SMSC simulator") documents it for users.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone

from relaybox.connectors.base import Submission
from relaybox.connectors.simulator import REPLIES, REPORT_LATENCY, magic_outcome, realistic_outcome
from relaybox.connectors.smpp import pdu
from relaybox.connectors.smpp.encoding import decode_part
from relaybox.connectors.smpp.pdu import BINDS, Command, Status
from relaybox.connectors.smpp.receipts import STATE_OF_STAT, encode_receipt_text, receipt_text
from relaybox.domain.phone import InvalidPhone, parse_phone
from relaybox.domain.segments import Encoding, analyze, encode_gsm7, split_parts
from relaybox.domain.status import MessageStatus

log = logging.getLogger("relaybox.smsc")

#: Seconds from submit_sm to its response at speed 1.  The built-in simulator's 1 s is per
#: batch of up to 1,000 messages; an SMSC answers each PDU, and 50 ms is a usual answer time.
SUBMIT_LATENCY = 0.05

#: Parts remembered for dropping resubmissions (the oldest are forgotten first).
SEEN_LIMIT = 1_000_000

STAT_OF_OUTCOME = {
    MessageStatus.DELIVERED: "DELIVRD",
    MessageStatus.UNDELIVERED: "UNDELIV",
    MessageStatus.EXPIRED: "EXPIRED",
    MessageStatus.UNKNOWN: "UNKNOWN",
    MessageStatus.FAILED: "REJECTD",
}


@dataclass(frozen=True, slots=True)
class ReceivedPart:
    """One accepted submit_sm, as the SMSC understood it (for tests and the log)."""

    message_id: str  # the SMSC's
    relaybox_id: int | None
    system_id: str
    source: str
    destination: str
    data_coding: int
    esm_class: int
    registered_delivery: int
    reference: int | None
    number: int
    total: int
    text: str


@dataclass
class _Link:
    system_id: str
    mode: Command
    writer: asyncio.StreamWriter
    sequences: itertools.count = field(default_factory=lambda: itertools.count(1))
    unacked: dict[int, "_Receipt"] = field(default_factory=dict)  # deliver_sm sequence -> receipt
    closed: bool = False
    submits_this_second: tuple[int, int] = (0, 0)  # (second, count), for throttle_tps

    @property
    def can_receive(self) -> bool:
        return self.mode in (Command.BIND_TRANSCEIVER, Command.BIND_RECEIVER)

    @property
    def can_transmit(self) -> bool:
        return self.mode in (Command.BIND_TRANSCEIVER, Command.BIND_TRANSMITTER)


@dataclass
class _Receipt:
    system_id: str
    message_id: str
    stat: str
    source: str  # the handset (the submit's destination)
    destination: str  # the submit's originator
    submitted: datetime
    text: str
    sent_at: float | None = None  # loop time of the last deliver_sm, None while queued
    acknowledged: bool = False
    #: A mobile-originated message instead of a receipt: (short_message, esm_class, data_coding, tlvs).
    mo: tuple[bytes, int, int, list[tuple[int, bytes]]] | None = None


@dataclass
class SmscSimulator:
    host: str = "127.0.0.1"
    port: int = 2775  # 0: any free port (read `port` after start)
    system_id: str | None = None  # None: any system_id and password bind
    password: str | None = None
    speed: float = 1.0
    profile: str = "magic"
    seed: int = 0
    throttle_tps: float = 0.0  # > 0: submits beyond this many per second per session get ESME_RTHROTTLED
    redeliver_after: float = 10.0
    smsc_name: str = "RELAYBOXSIM"
    # what happened, for the tests and the log
    received: list[ReceivedPart] = field(default_factory=list)
    duplicates: int = 0
    rejected: int = 0
    throttled: int = 0
    binds_refused: int = 0
    binds: int = 0
    receipts_sent: int = 0
    enquire_links: int = 0
    mo_sent: int = 0  # mobile-originated deliver_sm sent (redeliveries included)
    _seen: dict[tuple, str] = field(default_factory=dict)  # (system_id, relaybox id, part) -> SMSC id
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _links: list[_Link] = field(default_factory=list)
    _due: list = field(default_factory=list)  # heap of (loop time, seq, receipt)
    _queued: list[_Receipt] = field(default_factory=list)  # due, waiting for a session that can receive
    _seq: itertools.count = field(default_factory=itertools.count)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.AbstractServer | None = None
    _tasks: set[asyncio.Task] = field(default_factory=set)
    keep_received: bool = True  # the benchmark turns the record off

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._spawn(self._receipt_loop())

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.kill_links()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def kill_links(self) -> None:
        """Drop every connection now, without unbind (a cut cable, a crashed SMSC)."""
        for link in list(self._links):
            link.writer.transport.abort()
            self._forget(link)

    @property
    def bound_links(self) -> int:
        return sum(1 for link in self._links if not link.closed)

    # -- a connection -------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link: _Link | None = None
        try:
            async with asyncio.timeout(30):
                header, raw = await pdu.read_pdu(reader)
            link = self._bind(header, raw, writer)
            if link is None:  # refused: the response goes out, then a clean close
                writer.close()
                await writer.wait_closed()
                return
            while True:
                header, raw = await pdu.read_pdu(reader)
                self._dispatch(link, header, raw)
                if header.command_id == Command.UNBIND:
                    await writer.drain()
                    return
                if writer.transport.get_write_buffer_size() > 1 << 20:
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError, TimeoutError, pdu.ProtocolError):
            pass
        finally:
            if link is not None:
                self._forget(link)
            writer.transport.abort()

    def _bind(self, header: pdu.Header, raw: bytes, writer: asyncio.StreamWriter) -> _Link | None:
        if header.command_id not in BINDS:
            writer.write(pdu.empty(Command.GENERIC_NACK, header.sequence, Status.ESME_RINVBNDSTS))
            return None
        request = pdu.parse_bind(raw)
        status = Status.ESME_ROK
        if self.system_id is not None and request.system_id != self.system_id:
            status = Status.ESME_RINVSYSID
        elif self.password is not None and request.password != self.password:
            status = Status.ESME_RINVPASWD
        command = Command(header.command_id)
        writer.write(pdu.bind_resp(command, header.sequence, status, self.smsc_name))
        if status != Status.ESME_ROK:
            self.binds_refused += 1
            log.info("bind of %r refused: %s", request.system_id, pdu.status_name(status))
            return None
        self.binds += 1
        link = _Link(request.system_id, command, writer)
        self._links.append(link)
        if link.can_receive:
            self._wake.set()  # receipts may be waiting for this system_id
        return link

    def _forget(self, link: _Link) -> None:
        if link.closed:
            return
        link.closed = True
        with contextlib.suppress(ValueError):
            self._links.remove(link)
        for receipt in link.unacked.values():  # not acknowledged: send again on another session
            if not receipt.acknowledged:
                receipt.sent_at = None
                self._queued.append(receipt)
        link.unacked.clear()
        self._wake.set()

    def _dispatch(self, link: _Link, header: pdu.Header, raw: bytes) -> None:
        command = header.command_id
        if command == Command.SUBMIT_SM:
            if not link.can_transmit:
                link.writer.write(pdu.submit_sm_resp(header.sequence, Status.ESME_RINVBNDSTS))
            else:
                self._submit(link, header, raw)
        elif command == Command.DELIVER_SM_RESP:
            receipt = link.unacked.pop(header.sequence, None)
            if receipt is not None and header.status == Status.ESME_ROK:
                receipt.acknowledged = True
            elif receipt is not None:  # refused: try again later
                receipt.sent_at = None
                self._queued.append(receipt)
        elif command == Command.ENQUIRE_LINK:
            self.enquire_links += 1
            link.writer.write(pdu.empty(Command.ENQUIRE_LINK_RESP, header.sequence))
        elif command == Command.UNBIND:
            link.writer.write(pdu.empty(Command.UNBIND_RESP, header.sequence))
        elif command & pdu.RESPONSE:
            pass  # enquire_link_resp and the like
        else:
            link.writer.write(pdu.empty(Command.GENERIC_NACK, header.sequence, Status.ESME_RINVCMDID))

    # -- submit_sm -----------------------------------------------------------------------------

    def _answer(self, link: _Link, sequence: int, status: int, message_id: str = "") -> None:
        data = pdu.submit_sm_resp(sequence, status, message_id)
        if self.speed and not link.closed:
            asyncio.get_running_loop().call_later(SUBMIT_LATENCY * self.speed, self._write, link, data)
        else:
            link.writer.write(data)

    @staticmethod
    def _write(link: _Link, data: bytes) -> None:
        if not link.closed:
            link.writer.write(data)

    def _throttled(self, link: _Link) -> bool:
        if not self.throttle_tps:
            return False
        second = int(asyncio.get_running_loop().time())
        current, count = link.submits_this_second
        count = count + 1 if current == second else 1
        link.submits_this_second = (second, count)
        return count > self.throttle_tps

    def _submit(self, link: _Link, header: pdu.Header, raw: bytes) -> None:
        try:
            message = pdu.decode(raw)
            # a text too long for short_message comes in message_payload (SMPP 3.4 §5.3.2.32)
            octets = message.short_message or pdu.tlv(message, pdu.TLV_MESSAGE_PAYLOAD) or b""
            part = decode_part(octets, message.data_coding, message.esm_class)
        except (pdu.ProtocolError, ValueError):
            link.writer.write(pdu.submit_sm_resp(header.sequence, Status.ESME_RINVMSGLEN))
            return
        if self._throttled(link):
            self.throttled += 1
            link.writer.write(pdu.submit_sm_resp(header.sequence, Status.ESME_RTHROTTLED))
            return
        id_value = pdu.tlv(message, pdu.TLV_RELAYBOX_MESSAGE_ID)
        relaybox_id = int(id_value) if id_value and id_value.isdigit() else None
        key = (link.system_id, relaybox_id, part.number) if relaybox_id is not None else None
        if key is not None and key in self._seen:
            self.duplicates += 1  # a resubmission: the first answer again, no second receipt
            self._answer(link, header.sequence, Status.ESME_ROK, self._seen[key])
            return
        outcome = self._outcome(message.destination_addr, relaybox_id, message.source_addr, part)
        if outcome is MessageStatus.FAILED:
            self.rejected += 1
            self._answer(link, header.sequence, Status.ESME_RSUBMITFAIL)
            return
        message_id = f"{next(self._ids):010X}"
        if key is not None:
            self._seen[key] = message_id
            if len(self._seen) > SEEN_LIMIT:  # forget the oldest: a resubmission comes within minutes
                del self._seen[next(iter(self._seen))]
        if self.keep_received:
            self.received.append(
                ReceivedPart(
                    message_id, relaybox_id, link.system_id, message.source_addr, message.destination_addr,
                    message.data_coding, message.esm_class, message.registered_delivery,
                    part.reference, part.number, part.total, part.text,
                )
            )
        self._answer(link, header.sequence, Status.ESME_ROK, message_id)
        if message.registered_delivery & 0x03:  # a final receipt was asked for
            receipt = _Receipt(
                link.system_id, message_id, STAT_OF_OUTCOME.get(outcome, "DELIVRD"),
                source=message.destination_addr, destination=message.source_addr,
                submitted=datetime.now(timezone.utc), text=part.text,
            )
            low, high = REPORT_LATENCY
            # keyed like the built-in simulator's: the same message id waits the same time
            draw = random.Random(relaybox_id if relaybox_id is not None else message_id).random()
            due = asyncio.get_running_loop().time() + (low + (high - low) * draw) * self.speed
            heapq.heappush(self._due, (due, next(self._seq), receipt))
            reply = REPLIES.get(message.destination_addr[-4:]) if outcome is MessageStatus.DELIVERED else None
            if reply is not None:  # the subscriber answers (docs/inbound.md), after the receipt
                for short_message, esm_class, data_coding, tlvs in mo_parts(reply):
                    answer = _Receipt(
                        link.system_id, f"mo-{message_id}", "", message.destination_addr, message.source_addr,
                        datetime.now(timezone.utc), "", mo=(short_message, esm_class, data_coding, tlvs),
                    )
                    heapq.heappush(self._due, (due, next(self._seq), answer))
            self._wake.set()

    def _outcome(self, destination: str, relaybox_id: int | None, source: str, part) -> MessageStatus:
        try:
            country = parse_phone(destination).country
        except InvalidPhone:
            country = ""
        sub = Submission(
            message_id=relaybox_id or 0, phone=int(destination) if destination.isdigit() else 0, country=country,
            sender=source, text=part.text, encoding="", parts=part.total, channel="sms",
        )
        if self.profile == "realistic":
            return realistic_outcome(sub, self.seed)
        return magic_outcome(sub)

    # -- receipts ----------------------------------------------------------------------------------

    async def _receipt_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._due and self._due[0][0] <= now:
                self._queued.append(heapq.heappop(self._due)[2])
            self._redeliver_overdue(now)
            self._send_queued()
            timeout = min(self._due[0][0] - now, 1.0) if self._due else 1.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(timeout, 0.001)):  # not wait_for: 3.11's can lose a cancel
                    await self._wake.wait()

    def _redeliver_overdue(self, now: float) -> None:
        for link in self._links:
            overdue = [seq for seq, r in link.unacked.items() if r.sent_at is not None and now - r.sent_at > self.redeliver_after]
            for seq in overdue:
                receipt = link.unacked.pop(seq)
                receipt.sent_at = None
                self._queued.append(receipt)

    def _send_queued(self) -> None:
        if not self._queued:
            return
        waiting: list[_Receipt] = []
        now = asyncio.get_running_loop().time()
        receivers: dict[str, list[_Link]] = {}
        for link in self._links:
            if link.can_receive and not link.closed:
                receivers.setdefault(link.system_id, []).append(link)
        for receipt in self._queued:
            links = receivers.get(receipt.system_id)
            if receipt.acknowledged:
                continue
            if not links:
                waiting.append(receipt)
                continue
            link = links[hash(receipt.message_id) % len(links)]
            sequence = next(link.sequences)
            if receipt.mo is not None:
                short_message, esm_class, data_coding, tlvs = receipt.mo
                link.writer.write(
                    pdu.deliver_sm(
                        sequence, source=receipt.source, destination=receipt.destination,
                        short_message=short_message, esm_class=esm_class, data_coding=data_coding, tlvs=tlvs,
                    )
                )
                receipt.sent_at = now
                link.unacked[sequence] = receipt
                self.mo_sent += 1
                continue
            done = datetime.now(timezone.utc)
            # In the coding it declares: GSM 03.38 when the echoed text allows, else UCS-2.
            data_coding, octets = encode_receipt_text(
                receipt_text(
                    receipt.message_id, receipt.stat, submitted=receipt.submitted.strftime("%y%m%d%H%M"),
                    done=done.strftime("%y%m%d%H%M"), text=receipt.text,
                )
            )
            tlvs = [
                (pdu.TLV_RECEIPTED_MESSAGE_ID, receipt.message_id.encode() + b"\0"),
                (pdu.TLV_MESSAGE_STATE, bytes((STATE_OF_STAT[receipt.stat],))),
            ]
            if len(octets) > 254:  # short_message holds 254 octets at most (SMPP 3.4 §5.2.21)
                tlvs.append((pdu.TLV_MESSAGE_PAYLOAD, octets))
                octets = b""
            link.writer.write(
                pdu.deliver_sm(
                    sequence,
                    source=receipt.source,
                    destination=receipt.destination,
                    short_message=octets,
                    esm_class=0x04,  # SMSC delivery receipt
                    data_coding=data_coding,
                    tlvs=tlvs,
                )
            )
            receipt.sent_at = now
            link.unacked[sequence] = receipt
            self.receipts_sent += 1
        self._queued = waiting

    # -- mobile-originated messages -------------------------------------------------------------

    def send_deliver_sm(
        self, system_id: str, source: str, destination: str, short_message: bytes, *, esm_class: int = 0,
        data_coding: int = 0, tlvs: list[tuple[int, bytes]] = (),
    ) -> None:
        """Queue one mobile-originated deliver_sm for a bound receiving session of `system_id`; kept
        and redelivered until acknowledged, as receipts are."""
        receipt = _Receipt(
            system_id, f"mo-{next(self._ids)}", "", source, destination, datetime.now(timezone.utc), "",
            mo=(short_message, esm_class, data_coding, list(tlvs)),
        )
        self._queued.append(receipt)
        self._wake.set()

    def send_mo(
        self, system_id: str, source: str, destination: str, text: str, *, concat: str = "udh8",
        reference: int = 1, order: list[int] | None = None,
    ) -> int:
        """Queue a subscriber's message `text` (GSM 03.38 when it fits, else UCS-2), split into parts
        as a phone would (153 septets / 67 UCS-2 units with a header).  `concat`: udh8 | udh16 | sar,
        how the parts are tied together; `order`: the part numbers in the order they are sent (all
        of them, 1-based).  Returns the number of parts."""
        for short_message, esm_class, data_coding, tlvs in mo_parts(text, concat=concat, reference=reference,
                                                                    order=order):
            self.send_deliver_sm(system_id, source, destination, short_message, esm_class=esm_class,
                                 data_coding=data_coding, tlvs=tlvs)
        return len(split_parts(text))

    def pending_receipts(self) -> int:
        """Receipts not yet acknowledged by an ESME (scheduled, queued or sent)."""
        return len(self._due) + len(self._queued) + sum(len(link.unacked) for link in self._links)


def mo_parts(
    text: str, *, concat: str = "udh8", reference: int = 1, order: list[int] | None = None
) -> list[tuple[bytes, int, int, list[tuple[int, bytes]]]]:
    """(short_message, esm_class, data_coding, tlvs) of each deliver_sm carrying `text` as a phone
    sends it (see `SmscSimulator.send_mo`)."""
    info = analyze(text)
    ucs2 = info.encoding is Encoding.UCS2
    encode = (lambda s: s.encode("utf-16-be")) if ucs2 else encode_gsm7
    data_coding = 0x08 if ucs2 else 0x00
    pieces = split_parts(text)
    total = len(pieces)
    out = []
    for number in order or range(1, total + 1):
        octets = encode(pieces[number - 1])
        if total == 1:
            out.append((octets, 0x00, data_coding, []))
        elif concat == "sar":
            tlvs = [(0x020C, reference.to_bytes(2, "big")), (0x020E, bytes((total,))), (0x020F, bytes((number,)))]
            out.append((octets, 0x00, data_coding, tlvs))
        elif concat == "udh16":
            header = bytes((6, 0x08, 4)) + reference.to_bytes(2, "big") + bytes((total, number))
            out.append((header + octets, 0x40, data_coding, []))
        else:
            out.append((bytes((5, 0x00, 3, reference & 0xFF, total, number)) + octets, 0x40, data_coding, []))
    return out
