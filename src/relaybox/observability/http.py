"""The ASGI layer every HTTP request goes through first: its request id and its latency.

- **Request id**: the client's `X-Request-ID` when it is acceptable (logs.CLIENT_ID), else a new
  one; set in logs.request_id for the request's task (every log line carries it) and echoed in the
  response's `X-Request-ID` header.
- **Latency**: the time to the end of the response, observed in the histogram
  `relaybox_http_request_duration_seconds` by method, *route template* (`/api/campaigns/{id}`,
  never the raw path: ids would make a series per campaign and leak tenants' ids) and status.
  Requests no route matched count under the route `unmatched`.

Kept lean (it is on the hot send path): two clock reads, one header scan, one histogram observe.
"""

from __future__ import annotations

import time

from relaybox.observability import logs
from relaybox.observability.metrics import Instruments

_HEADER = b"x-request-id"
#: Served ahead of the router (api/hot.py), so no route template is set in the scope for them.
_UNROUTED = {"/api/messages/send", "/healthz", "/metrics"}
#: Methods counted under their own name; a client may send any token as a method, and each would
#: otherwise become a series of its own.
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def route_of(scope) -> str:
    """The template of the route that served `scope`, from what the router left in it."""
    route = scope.get("route")
    if route is not None:
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
        if path:
            return path
    path = scope.get("path", "")
    if path in _UNROUTED:
        return path
    if path.startswith("/console/static/"):
        return "/console/static"
    return "unmatched"


class Observed:
    """ASGI middleware: request id and latency for each HTTP request; other scopes pass through."""

    def __init__(self, app, instruments: Instruments | None) -> None:
        self.app = app
        self.histogram = instruments.http if instruments is not None else None
        #: (method, route, status) -> the histogram's child: labels() checks and locks on each call
        self._children: dict[tuple[str, str, int], object] = {}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = None
        for key, value in scope["headers"]:
            if key == _HEADER:
                given = value.decode("latin-1")
                break
        rid = logs.accept_request_id(given)
        token = logs.request_id.set(rid)
        raw_id = rid.encode()
        status = 500
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (_HEADER, raw_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.histogram is not None:
                elapsed = time.perf_counter() - started
                method = scope["method"]
                key = (method if method in _METHODS else "other", route_of(scope), status)
                child = self._children.get(key)
                if child is None:
                    child = self._children[key] = self.histogram.labels(key[0], key[1], str(status))
                child.observe(elapsed)
            logs.request_id.reset(token)
