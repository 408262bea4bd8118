"""One bound SMPP session on asyncio streams: bind, requests and their responses, keep-alive.

A `Session` is one TCP connection after a successful bind.  It reads PDUs in
one task, matches responses to requests by sequence number, answers the
SMSC's `enquire_link` and `unbind`, hands `deliver_sm` to a callback (the
connector decides when to acknowledge), and sends `enquire_link` when the link
has been quiet for `enquire_link_interval`.  Anything wrong with the link — a
read error, a protocol error, a request left unanswered past
`response_timeout` — closes the whole session: requests still waiting fail
with `LinkLost`, and the connector binds a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable

from relaybox.connectors.smpp import pdu
from relaybox.connectors.smpp.pdu import Command, Header, Status

log = logging.getLogger("relaybox.smpp")


class LinkLost(Exception):
    """The session ended before the request was answered: its outcome is unknown."""


class BindRefused(Exception):
    """The SMSC answered the bind with an error command_status (`status`)."""
    def __init__(self, status: int):
        super().__init__(f"bind refused: {pdu.status_name(status)}")
        self.status = status


DeliverHandler = Callable[["Session", Header, bytes], None]


class Session:
    """One bound SMPP session over a TCP connection (module docstring): requests matched to responses by sequence
    number, enquire_link keep-alive, deliver_sm handed to `on_deliver`; timeouts in seconds.
    """
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        label: str,
        response_timeout: float,
        enquire_link_interval: float,
        on_deliver: DeliverHandler | None = None,
    ) -> None:
        self.label = label
        self._reader = reader
        self._writer = writer
        self._response_timeout = response_timeout
        self._enquire_link_interval = enquire_link_interval
        self._on_deliver = on_deliver
        self._sequences = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._last_heard = asyncio.get_running_loop().time()
        self.closed = asyncio.Event()
        self.close_reason: str | None = None
        self._tasks: list[asyncio.Task] = []

    # -- opening ----------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        mode: Command,
        system_id: str,
        password: str,
        system_type: str = "",
        connect_timeout: float = 10.0,
        response_timeout: float = 10.0,
        enquire_link_interval: float = 30.0,
        on_deliver: DeliverHandler | None = None,
    ) -> Session:
        """Connect and bind; BindRefused, OSError or TimeoutError when that fails."""
        async with asyncio.timeout(connect_timeout):
            reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(pdu.bind(mode, 1, system_id, password, system_type))
            async with asyncio.timeout(response_timeout):
                header, _ = await pdu.read_pdu(reader)
            if header.command_id == Command.GENERIC_NACK:
                raise BindRefused(header.status or Status.ESME_RBINDFAIL)
            if header.command_id != mode | pdu.RESPONSE:
                raise pdu.ProtocolError(f"expected the bind response, got command 0x{header.command_id:08X}")
            if header.status != Status.ESME_ROK:
                raise BindRefused(header.status)
        except BaseException:
            writer.transport.abort()
            raise
        session = cls(
            reader,
            writer,
            label=f"{host}:{port} {mode.name.lower()}",
            response_timeout=response_timeout,
            enquire_link_interval=enquire_link_interval,
            on_deliver=on_deliver,
        )
        next(session._sequences)  # 1 went to the bind
        session._tasks = [
            asyncio.create_task(session._read_loop(), name=f"smpp-read {session.label}"),
            asyncio.create_task(session._keep_alive(), name=f"smpp-keepalive {session.label}"),
        ]
        return session

    # -- requests -----------------------------------------------------------------

    def _next_sequence(self) -> int:
        sequence = next(self._sequences)
        if sequence > 0x7FFFFFFF:
            self._sequences = itertools.count(2)
            sequence = 1
        return sequence

    async def request(self, build: Callable[[int], bytes]) -> tuple[Header, bytes]:
        """Send the PDU `build(sequence)` and wait for its response (or a generic_nack)."""
        if self.closed.is_set():
            raise LinkLost(self.close_reason or "closed")
        sequence = self._next_sequence()
        future = asyncio.get_running_loop().create_future()
        self._pending[sequence] = future
        try:
            self._writer.write(build(sequence))
            await self._writer.drain()
            async with asyncio.timeout(self._response_timeout):
                return await future
        except TimeoutError:
            self.close(f"no response within {self._response_timeout:g} s")
            raise LinkLost(self.close_reason) from None
        except (ConnectionError, OSError) as exc:
            self.close(f"write failed: {exc}")
            raise LinkLost(self.close_reason) from None
        finally:
            self._pending.pop(sequence, None)
            if future.done() and not future.cancelled():
                future.exception()  # failed while we were still writing: retrieved here, not logged as lost

    def send(self, data: bytes) -> None:
        """Write a response (no answer expected); silently nothing on a closed session."""
        if not self.closed.is_set():
            self._writer.write(data)

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    # -- reading ---------------------------------------------------------------------

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                header, raw = await pdu.read_pdu(self._reader)
                self._last_heard = loop.time()
                command = header.command_id
                if command & pdu.RESPONSE:  # a response, or generic_nack (0x80000000)
                    future = self._pending.get(header.sequence)
                    if future is not None and not future.done():
                        future.set_result((header, raw))
                    elif command == Command.GENERIC_NACK:
                        log.warning("%s: generic_nack %s", self.label, pdu.status_name(header.status))
                elif command == Command.DELIVER_SM:
                    if self._on_deliver is None:
                        self.send(pdu.empty(Command.DELIVER_SM_RESP, header.sequence, Status.ESME_RX_T_APPN))
                    else:
                        self._on_deliver(self, header, raw)
                elif command == Command.ENQUIRE_LINK:
                    self.send(pdu.empty(Command.ENQUIRE_LINK_RESP, header.sequence))
                elif command == Command.UNBIND:
                    self.send(pdu.empty(Command.UNBIND_RESP, header.sequence))
                    with contextlib.suppress(ConnectionError, OSError):
                        await self._writer.drain()
                    self.close("unbound by the SMSC")
                    return
                else:
                    self.send(pdu.empty(Command.GENERIC_NACK, header.sequence, Status.ESME_RINVCMDID))
        except asyncio.CancelledError:
            raise
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            self.close(f"connection lost: {type(exc).__name__}")
        except pdu.ProtocolError as exc:
            self.close(f"protocol error: {exc}")
        except Exception as exc:  # a bug must not leave a half-alive session behind
            log.exception("%s: reader failed", self.label)
            self.close(f"reader failed: {exc!r}")

    async def _keep_alive(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._enquire_link_interval
        while not self.closed.is_set():
            quiet = loop.time() - self._last_heard
            if quiet < interval:
                await asyncio.sleep(interval - quiet)
                continue
            try:
                await self.request(lambda seq: pdu.empty(Command.ENQUIRE_LINK, seq))
            except LinkLost:
                return

    # -- closing -------------------------------------------------------------------------

    def close(self, reason: str) -> None:
        """Drop the link now; requests still waiting fail with LinkLost."""
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        self._writer.transport.abort()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(LinkLost(reason))
        self._pending.clear()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()

    async def unbind(self, timeout: float = 1.0) -> None:
        """Say goodbye politely (bounded in time), then close."""
        if self.closed.is_set():
            return
        with contextlib.suppress(LinkLost, TimeoutError):
            async with asyncio.timeout(timeout):
                await self.request(lambda seq: pdu.empty(Command.UNBIND, seq))
        self.close("unbound")
        await asyncio.gather(*self._tasks, return_exceptions=True)
