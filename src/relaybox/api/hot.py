"""The hottest endpoint, served ahead of the framework's routing.

`POST /api/messages/send` is the one request a busy sender makes hundreds of
times a second.  Through FastAPI it costs about a third more CPU than its own
work: matching the path against every route of both API families, solving
the dependency graph, building a `Request`.  This ASGI middleware answers
exactly that method and path itself, with the same functions the route uses
(`oneapi_caller_from`, `json_object`, `messages.send`) and the same error
envelopes, and passes every other request on untouched.  The FastAPI route
stays: it documents the endpoint in the OpenAPI schema.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers

from relaybox.api.common import json_object
from relaybox.api.deps import oneapi_caller_from
from relaybox.api.limits import TOO_LARGE, error_headers, send_json
from relaybox.api.oneapi import errors as oneapi_errors
from relaybox.api.oneapi import messages
from relaybox.errors import RelayboxError

log = logging.getLogger("relaybox")

SEND_PATH = "/api/messages/send"


class HotRoutes:
    """ASGI middleware that serves `POST /api/messages/send` without FastAPI's routing (the hot path); a body over
    `max_bytes` is answered 422, other requests pass through.
    """
    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != SEND_PATH or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        body = await self._body(scope, receive)
        if body is None:  # the client went away
            return
        if body is False:
            return await send_json(send, 422, TOO_LARGE)
        state = scope["app"].state
        try:
            caller = await oneapi_caller_from(state.authenticator, Headers(raw=scope["headers"]))
            answer = await messages.send(state.platform, state.single_sends, caller, SEND_PATH, body, json_object(body))
        except RelayboxError as exc:
            status, payload = oneapi_errors.envelope(exc)
            return await send_json(send, status, payload, error_headers(exc))
        except Exception:
            log.exception("unhandled error on POST %s", SEND_PATH)
            return await send_json(send, 500, {"message": "Server Error"})
        await send_json(send, 200, answer)

    async def _body(self, scope, receive) -> bytes | bool | None:
        """The whole body; False when it is over the limit, None when the client disconnected."""
        for key, value in scope["headers"]:
            if key == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                return False
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return False
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
