"""The SMPP 3.4 operator connector: relaybox's connector contract over a bound SMPP link.

- **Link**: one transceiver session, or a transmitter and a receiver
  (`bind = "transmitter_receiver"`), kept up by `_keep_linked`: a refused bind
  or a lost connection is retried with exponential backoff (`reconnect_min`
  doubling to `reconnect_max`; back to the minimum once bound).  While not
  bound, `submit` waits: messages stay in `sending`, they are never failed
  for want of a link.
- **Submit**: every part of every message is one `submit_sm`; at most
  `window` wait for their response at once, and at most `tps` leave per
  second.  `ESME_RTHROTTLED`, `ESME_RMSGQFUL` and `ESME_RX_T_APPN` pause the
  whole connection (`throttle_backoff` doubling to 30 s) and the part is sent
  again; `ESME_RSYSERR` is retried 3 times; any other error status fails the
  message.  A part whose response was lost with the link is *in doubt*: it is
  sent again, with the same relaybox message id TLV, once the link is back.
- **Inbound**: a `deliver_sm` whose esm_class is no receipt is a mobile-originated message
  (inbound.py reads its text and concatenation); it becomes an `Inbound` report, answered only
  once the engine has stored it (never by the timeout), so the SMSC redelivers what a crash
  interrupted and services/inbound.py drops the redelivery.
- **Receipts**: a `deliver_sm` receipt becomes a `Receipt` keyed by the
  SMSC's message id of the message's last part (the only part that asks for
  a receipt), in the normal form of `receipt_id_format` (message_ids.py: the
  same form the submit's id was stored in; ACCEPTD and ENROUTE change nothing,
  receipts.py).  Its `deliver_sm_resp` is sent when the engine has recorded it
  (`acknowledge`), or after `receipt_ack_timeout` if the engine could not yet
  match it — so a receipt the process dies holding is delivered again by the
  SMSC.

See docs/connectors.md for the configuration and the guarantees.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import smpp34

from relaybox.connectors.base import Inbound, Receipt, Report, Submission, SubmitResult
from relaybox.connectors.smpp import pdu
from relaybox.connectors.smpp.encoding import Part, encode_parts
from relaybox.connectors.smpp.inbound import is_mobile_originated, read_mo
from relaybox.connectors.smpp.message_ids import ReceiptIdFormat, receipt_keys, submit_key
from relaybox.connectors.smpp.pdu import Command, Status
from relaybox.connectors.smpp.receipts import is_receipt, parse_receipt
from relaybox.connectors.smpp.session import BindRefused, LinkLost, Session
from relaybox.domain.timefmt import utcnow

log = logging.getLogger("relaybox.smpp")

#: submit_sm_resp statuses that mean "not now": the part is sent again after a pause.
THROTTLING = frozenset({Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL, Status.ESME_RX_T_APPN})
#: Statuses retried a few times before the message is failed.
TRANSIENT = frozenset({Status.ESME_RSYSERR})
TRANSIENT_ATTEMPTS = 3
MAX_THROTTLE_PAUSE = 30.0
RATE_WINDOW = 5  # seconds over which the shown submit rate is averaged

BindMode = Literal["transceiver", "transmitter_receiver"]


@dataclass(frozen=True)
class SmppSettings:
    """One `[connectors.NAME]` of `type = "smpp"` in relaybox.toml (connectors/config.py checks them)."""

    name: str
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    bind: BindMode = "transceiver"
    tps: float = 50.0  # submit_sm per second on the connection; 0 = no limit
    window: int = 10  # submit_sm awaiting their response at once
    enquire_link_interval: float = 30.0
    response_timeout: float = 10.0
    connect_timeout: float = 10.0
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    throttle_backoff: float = 1.0
    receipt_ack_timeout: float = 5.0
    message_id_tlv: bool = True  # send TLV 0x1501 (relaybox's message id); off for SMSCs that refuse unknown TLVs
    source_ton: int | None = None  # None: chosen from the sender (docs/connectors.md)
    source_npi: int | None = None
    service_type: str = ""
    receipt_id_format: ReceiptIdFormat = "auto"  # how submit and receipt ids compare (message_ids.py)


def source_address(sender: str, ton: int | None, npi: int | None) -> tuple[int, int]:
    """TON/NPI of the originator: alphanumeric 5/0, short code (up to 8 digits) 3/0, else international 1/1."""
    if not sender.isdigit():
        auto = (5, 0)
    elif len(sender) <= 8:
        auto = (3, 0)
    else:
        auto = (1, 1)
    return (auto[0] if ton is None else ton, auto[1] if npi is None else npi)


class _Rejected(Exception):
    def __init__(self, status: int):
        super().__init__(pdu.status_name(status))
        self.status = status


@dataclass
class SmppConnector:
    """The SMPP 3.4 connector (module docstring): SMS only, over a transceiver or a transmitter and receiver pair."""
    channels: ClassVar[frozenset[str]] = frozenset({"sms"})
    settings: SmppSettings
    name: str = ""
    # counters shown by `relaybox connectors`
    state: str = "stopped"
    last_error: str | None = None
    submitted: int = 0  # parts accepted by the SMSC
    rejected: int = 0  # messages failed by a submit_sm_resp error
    throttled: int = 0  # throttling answers received
    resubmitted: int = 0  # parts sent again after their link was lost
    receipts_received: int = 0
    inbound_received: int = 0  # mobile-originated deliver_sm (parts) received
    waiting: int = 0  # messages handed to submit() and not answered yet
    _bound: asyncio.Event = field(default_factory=asyncio.Event)
    _tx: Session | None = None
    _rx: Session | None = None
    _window: asyncio.Semaphore | None = None
    _next_slot: float = 0.0
    _paused_until: float = 0.0
    _throttle_pause: float = 0.0
    _ready: list[Report] = field(default_factory=list)
    _has_ready: asyncio.Event = field(default_factory=asyncio.Event)
    _unacked: dict[int, tuple[Report, Session, int, float]] = field(default_factory=dict)
    _per_second: Counter = field(default_factory=Counter)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.name or self.settings.name

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        if self._tasks:
            return
        self._window = asyncio.Semaphore(self.settings.window)
        self.state = "connecting"
        self._tasks = [
            asyncio.create_task(self._keep_linked(), name=f"smpp-link {self.name}"),
            asyncio.create_task(self._ack_overdue(), name=f"smpp-acks {self.name}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._bound.clear()
        for session in (self._tx, self._rx):
            if session is not None:
                with contextlib.suppress(Exception):
                    await session.unbind()
        self._tx = self._rx = None
        self.state = "stopped"

    @property
    def bound(self) -> bool:
        return self._bound.is_set()

    async def wait_bound(self) -> None:
        await self._bound.wait()

    async def _open(self, mode: Command) -> Session:
        s = self.settings
        return await Session.open(
            s.host,
            s.port,
            mode=mode,
            system_id=s.system_id,
            password=s.password,
            system_type=s.system_type,
            connect_timeout=s.connect_timeout,
            response_timeout=s.response_timeout,
            enquire_link_interval=s.enquire_link_interval,
            on_deliver=self._on_deliver,
        )

    async def _keep_linked(self) -> None:
        s = self.settings
        delay = s.reconnect_min
        while True:
            sessions: list[Session] = []
            try:
                self.state = "connecting"
                if s.bind == "transmitter_receiver":
                    sessions.append(await self._open(Command.BIND_TRANSMITTER))
                    sessions.append(await self._open(Command.BIND_RECEIVER))
                else:
                    sessions.append(await self._open(Command.BIND_TRANSCEIVER))
                self._tx, self._rx = sessions[0], sessions[-1]
                self.state = "bound"  # last_error stays: what broke the previous link is worth seeing
                delay = s.reconnect_min
                self._bound.set()
                log.info("%s: bound to %s:%d (%s)", self.name, s.host, s.port, s.bind)
                waits = [asyncio.create_task(session.closed.wait()) for session in sessions]
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waits:
                        w.cancel()
                reason = next(x.close_reason for x in sessions if x.closed.is_set())
                self.last_error = f"link lost: {reason}"
                log.warning("%s: %s", self.name, self.last_error)
            except BindRefused as exc:
                self.last_error = str(exc)
                log.warning("%s: %s", self.name, exc)
            except (OSError, TimeoutError, pdu.ProtocolError) as exc:
                self.last_error = f"cannot connect to {s.host}:{s.port}: {exc or type(exc).__name__}"
                log.warning("%s: %s", self.name, self.last_error)
            except Exception as exc:  # a bug must not end the link manager: report it and try again
                self.last_error = f"unexpected error: {exc!r}"
                log.exception("%s: link manager", self.name)
            finally:
                self._bound.clear()
                for session in sessions:
                    session.close("connector relinking")
            self.state = f"not bound; retrying in {delay:g} s"
            await asyncio.sleep(delay)
            delay = min(delay * 2, s.reconnect_max)

    # -- submit ----------------------------------------------------------------------------

    async def submit(self, batch: list[Submission]) -> list[SubmitResult]:
        return list(await asyncio.gather(*(self._submit_message(sub) for sub in batch)))

    async def _submit_message(self, sub: Submission) -> SubmitResult:
        if sub.channel != "sms":
            return SubmitResult(sub.message_id, False, error="SMPP carries SMS only")
        self.waiting += 1
        try:
            parts = encode_parts(sub.text, sub.message_id)
            operator_id = ""
            for part in parts:
                operator_id = await self._submit_part(sub, part)
            return SubmitResult(sub.message_id, True, submit_key(operator_id, self.settings.receipt_id_format))
        except _Rejected as exc:
            self.rejected += 1
            return SubmitResult(sub.message_id, False, error=f"{exc} (part {part.number}/{part.total})")
        except (ValueError, smpp34.SmppError) as exc:  # a text or address SMPP cannot carry: never will
            self.rejected += 1
            return SubmitResult(sub.message_id, False, error=f"cannot encode as SMPP: {exc}")
        finally:
            self.waiting -= 1

    def _build(self, sub: Submission, part: Part) -> Callable[[int], bytes]:
        s = self.settings
        ton, npi = source_address(sub.sender, s.source_ton, s.source_npi)
        tlvs = [(pdu.TLV_RELAYBOX_MESSAGE_ID, str(sub.message_id).encode())] if s.message_id_tlv else []
        last = part.number == part.total

        def build(sequence: int) -> bytes:
            return pdu.submit_sm(
                sequence,
                source=sub.sender,
                source_ton=ton,
                source_npi=npi,
                destination=str(sub.phone),
                short_message=part.short_message,
                data_coding=part.data_coding,
                esm_class=part.esm_class,
                registered_delivery=0x01 if last else 0x00,  # one final receipt per message
                service_type=s.service_type,
                tlvs=tlvs,
            )

        return build

    async def _submit_part(self, sub: Submission, part: Part) -> str:
        """The SMSC's message id for the part; _Rejected when the SMSC refuses it for good."""
        build = self._build(sub, part)
        transient = 0
        in_doubt = False
        while True:
            session = await self._live_session()
            async with self._window:
                await self._pace()
                if session.closed.is_set():
                    continue
                if in_doubt:
                    self.resubmitted += 1
                try:
                    header, raw = await session.request(build)
                except LinkLost:
                    in_doubt = True  # sent, perhaps taken: again after the relink, with the same id
                    continue
            status = header.status
            if status == Status.ESME_ROK and header.command_id == Command.SUBMIT_SM_RESP:
                self._throttle_pause = 0.0
                self.submitted += 1
                self._per_second[int(asyncio.get_running_loop().time())] += 1
                return pdu.response_message_id(raw)
            if status in THROTTLING:
                self.throttled += 1
                self._throttle()
                continue
            if status in TRANSIENT and transient < TRANSIENT_ATTEMPTS:
                transient += 1
                await asyncio.sleep(self.settings.throttle_backoff * transient)
                continue
            raise _Rejected(status or Status.ESME_RUNKNOWNERR)

    async def _live_session(self) -> Session:
        """The bound transmitting session, once there is one."""
        while True:
            await self._bound.wait()
            session = self._tx
            if session is not None and not session.closed.is_set():
                return session
            await asyncio.sleep(0.01)  # closed, not yet noticed by _keep_linked

    async def _pace(self) -> None:
        """Hold the caller for its slot: at most `tps` submits per second, none while throttled."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        tps = self.settings.tps
        slot = max(now, self._paused_until, self._next_slot if tps else now)
        if tps:
            self._next_slot = slot + 1.0 / tps
        if slot - now > 0.001:
            await asyncio.sleep(slot - now)

    def _throttle(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._paused_until:
            return  # more answers to the same burst: the pause already covers them
        pause = self._throttle_pause * 2 if self._throttle_pause else self.settings.throttle_backoff
        self._throttle_pause = min(pause, MAX_THROTTLE_PAUSE)
        self._paused_until = max(self._paused_until, loop.time() + self._throttle_pause)

    # -- receipts ------------------------------------------------------------------------------

    def _on_deliver(self, session: Session, header: pdu.Header, raw: bytes) -> None:
        ok = pdu.empty(Command.DELIVER_SM_RESP, header.sequence)
        try:
            message = pdu.decode(raw)
        except pdu.ProtocolError as exc:
            log.warning("%s: unreadable deliver_sm (%s)", self.name, exc)
            session.send(pdu.empty(Command.DELIVER_SM_RESP, header.sequence, Status.ESME_RSYSERR))
            return
        if not is_receipt(message.esm_class):
            if not is_mobile_originated(message.esm_class):
                session.send(ok)  # another message type (a user acknowledgement...): nothing to keep
                return
            mo = read_mo(
                bytes(message.short_message or b""), message.esm_class, message.data_coding,
                {item.tag: bytes(item.value) for item in message.tlvs},
            )
            report = Inbound(
                str(message.source_addr), str(message.destination_addr), mo.text, mo.encoding, utcnow(),
                reference=mo.reference, total=mo.total, number=mo.number,
            )
            self.inbound_received += 1
            # answered once stored (acknowledge), never by the timeout: an MO must not be lost
            self._unacked[id(report)] = (report, session, header.sequence, float("inf"))
            self._ready.append(report)
            self._has_ready.set()
            return
        text = message.short_message or (pdu.tlv(message, pdu.TLV_MESSAGE_PAYLOAD) or b"")
        parsed = parse_receipt(
            text,
            pdu.tlv(message, pdu.TLV_RECEIPTED_MESSAGE_ID),
            pdu.tlv(message, pdu.TLV_MESSAGE_STATE),
            message.data_coding,
        )
        if parsed is None or parsed.status is None:
            if parsed is None:
                log.warning("%s: receipt without a message id or known state: %r", self.name, text[:160])
            session.send(ok)
            return
        self.receipts_received += 1
        fmt = self.settings.receipt_id_format
        key, converted = receipt_keys(parsed.message_id, fmt)
        # a message submitted before ids were normalised has the id stored as the SMSC wrote it
        exact = (parsed.message_id,) if fmt != "as-is" and parsed.message_id != key else ()
        receipt = Receipt(key, parsed.status, utcnow(), alternatives=exact, converted=converted)
        deadline = asyncio.get_running_loop().time() + self.settings.receipt_ack_timeout
        self._unacked[id(receipt)] = (receipt, session, header.sequence, deadline)
        self._ready.append(receipt)
        self._has_ready.set()

    async def receipts(self) -> list[Report]:
        while not self._ready:
            self._has_ready.clear()
            await self._has_ready.wait()
        ready, self._ready = self._ready, []
        return ready

    async def acknowledge(self, reports: list[Report]) -> None:
        """The engine recorded these receipts: answer their deliver_sm."""
        for report in reports:
            entry = self._unacked.pop(id(report), None)
            if entry is not None:
                _, session, sequence, _ = entry
                session.send(pdu.empty(Command.DELIVER_SM_RESP, sequence))

    async def _ack_overdue(self) -> None:
        # A receipt the engine could not match yet (its submit result is still being
        # recorded, or it is not ours) is acknowledged after a while all the same: an
        # SMSC does not wait minutes for a deliver_sm_resp.  The engine keeps it.
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, self.settings.receipt_ack_timeout))
            now = loop.time()
            overdue = [key for key, (_, _, _, deadline) in self._unacked.items() if deadline <= now]
            for key in overdue:
                _, session, sequence, _ = self._unacked.pop(key)
                session.send(pdu.empty(Command.DELIVER_SM_RESP, sequence))

    # -- state ---------------------------------------------------------------------------------

    def rate(self) -> float:
        """Parts accepted per second over the last few whole seconds."""
        now = int(asyncio.get_running_loop().time())
        for second in [k for k in self._per_second if k < now - RATE_WINDOW]:
            del self._per_second[second]
        return sum(n for k, n in self._per_second.items() if now - RATE_WINDOW <= k < now) / RATE_WINDOW

    def status(self) -> dict:
        s = self.settings
        return {
            "kind": "smpp",
            "target": f"{s.host}:{s.port} as {s.system_id} ({s.bind})",
            "bound": self.bound,
            "state": self.state,
            "last_error": self.last_error,
            "rate": round(self.rate(), 1),
            "in_flight": self._tx.in_flight if self._tx is not None and self.bound else 0,
            "window": s.window,
            "queue": self.waiting,
            "submitted": self.submitted,
            "rejected": self.rejected,
            "throttled": self.throttled,
            "resubmitted": self.resubmitted,
            "receipts": self.receipts_received,
            "inbound": self.inbound_received,
        }
