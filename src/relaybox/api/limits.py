"""Refuse request bodies above a size limit before reading them whole."""

from __future__ import annotations

import orjson

from relaybox.api.legacy.errors import error_body
from relaybox.errors import LegacyCode, RateLimited


class BodySizeLimit:
    """ASGI middleware: a body over `max_bytes` gets the family's invalid-payload error."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(scope, send)

        seen = 0
        refused = False

        async def limited_receive():
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope, send) -> None:
        path = scope.get("path", "")
        if path.startswith(("/rest/", "/v1.0/")):
            await send_json(send, 200, error_body(LegacyCode.INVALID_PAYLOAD))
        else:
            await send_json(send, 422, TOO_LARGE)


#: The One API's answer to a body over the limit.
TOO_LARGE = {"message": "The given data was invalid.", "errors": {"body": ["The request body is too large."]}}


async def send_json(send, status: int, content: object, headers: dict[str, str] | None = None) -> None:
    """A whole JSON response, straight on the ASGI `send` channel (`headers`: extra ones)."""
    payload = orjson.dumps(content)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def error_headers(exc: Exception) -> dict[str, str] | None:
    """The headers an error's answer carries besides its body: `Retry-After` of a rate limit's 429."""
    return exc.headers() if isinstance(exc, RateLimited) else None


class _TooLarge(Exception):
    pass
