"""Connection hygiene for `relaybox serve`: uvicorn's HTTP protocol with a deadline for request
heads and a cap on open connections.

uvicorn closes a keep-alive connection that stays idle after a response
(`timeout_keep_alive`), but nothing else: a client that connects and sends
nothing, or sends part of a request line or of its headers and then stalls
(slowloris), holds its connection — a file descriptor and a protocol object —
for as long as it likes, and a few thousand of them exhaust the process.  And
uvicorn's own `limit_concurrency` counts those connections too: once it is
reached, real requests get 503 while the stalled ones stay.

`GuardedHttpToolsProtocol` (the httptools protocol `serve` uses, with its
parser callbacks) adds:

- a **head deadline**: from the moment a connection is made, and from the
  first byte of each further request on a kept-alive connection, the whole
  request line and headers must arrive within `header_timeout` seconds, or the
  connection is closed (RFC 9112 §9.5 allows closing an idle or incomplete
  connection at any time);
- a **cap** on open connections per process: past `max_connections`, the
  connection that has waited longest without a request in progress (stalled in
  its head, or idle between requests) is closed to make room — so stalled
  clients cannot lock out working ones — and a new connection is refused only
  when every open one is busy with a request.

Body uploads and the answers themselves are not under the head deadline: the
request-size limit (`max_body_bytes`) bounds the one, and the application's own
timeouts the other.
"""

from __future__ import annotations

import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("relaybox.connections")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a request-head deadline and a per-process connection cap."""

    #: Seconds a connection has to send a whole request head (request line and headers).
    header_timeout: float = 5.0
    #: Open connections per process; past it the longest-waiting idle one is closed.
    max_connections: int = 1000

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer = None
        waiting = getattr(self.server_state, "relaybox_waiting", None)
        if waiting is None:  # connections without a request in progress, oldest first (dicts keep order)
            waiting = self.server_state.relaybox_waiting = {}
        self._waiting: dict[GuardedHttpToolsProtocol, None] = waiting
        self._wait_for_head()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def data_received(self, data: bytes) -> None:
        # The first bytes of a further request on a kept-alive connection: its head's deadline starts,
        # but only if these bytes did not hold the whole head (the usual case: a timer armed and
        # cancelled at once for every request cost a few per cent of a busy process's time).
        first = self._head_timer is None and self in self._waiting
        super().data_received(data)
        if first and self in self._waiting and self._head_timer is None and not self.transport.is_closing():
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        self._waiting.pop(self, None)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        idle = not self.pipeline  # no pipelined request to start: the connection waits for the next one
        super().on_response_complete()
        if idle and not self.transport.is_closing():
            self._waiting[self] = None  # uvicorn's keep-alive timer closes it if nothing comes

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._waiting.pop(self, None)
        super().connection_lost(exc)

    def _wait_for_head(self) -> None:
        self._waiting[self] = None
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        log.debug("closing %s: no complete request head within %.1f s", self.client, self.header_timeout)
        self._drop()

    def _make_room(self) -> None:
        for other in self._waiting:  # oldest first
            if other is not self:
                log.debug("connection cap %d reached: closing idle %s", self.max_connections, other.client)
                other._drop()
                return
        log.warning("connection cap %d reached with every connection busy: refusing %s", self.max_connections, self.client)
        self._drop()

    def _drop(self) -> None:
        self._cancel_head_timer()
        self._waiting.pop(self, None)
        # uvicorn counts a connection until connection_lost, which the transport calls later
        self.connections.discard(self)
        if not self.transport.is_closing():
            self.transport.close()


def configure(settings) -> None:
    """Apply the hygiene settings (config.Settings) to every connection this process accepts."""
    GuardedHttpToolsProtocol.header_timeout = settings.header_timeout_seconds
    GuardedHttpToolsProtocol.max_connections = settings.max_connections


def uvicorn_options(settings) -> dict:
    """uvicorn's options for `serve`: the guarded protocol and the keep-alive timeout."""
    configure(settings)
    return {"http": GuardedHttpToolsProtocol, "timeout_keep_alive": settings.keep_alive_seconds}
