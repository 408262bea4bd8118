"""Refuse query and path parameters that no backend can store.

A query string or path is percent-decoded as UTF-8 with U+FFFD for what is not
UTF-8 (Starlette, uvicorn), so the one character that can arrive and that no
backend stores is NUL (`%00`; domain/storable.py).  It is refused in any query
parameter (name or value) of any request by an ASGI middleware ahead of every
route (the hot path of api/hot.py included), and in any path parameter by a
dependency of both families' routers, each with the family's envelope: One API
422 naming the parameter (`filter[reference_id]` as `filter.reference_id`),
legacy HTTP 200 with the parameter's code.  Request bodies are checked where
they are parsed (`api/common.json_object`).

Per request the middleware costs two substring tests of the raw query string;
it is decoded only for a request that is refused.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Depends, Request

from relaybox.api.common import is_legacy_path, unstorable_error
from relaybox.api.legacy import errors as legacy_errors
from relaybox.api.limits import send_json
from relaybox.api.oneapi import errors as oneapi_errors
from relaybox.domain.storable import bracket_path, field_code, is_storable


class UnstorableParams:
    """ASGI middleware that refuses a query string with a NUL (`%00`) in a field's value, in the family's error envelope."""
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"")
            if b"%00" in query or b"\x00" in query:
                fields = _query_fields(query)
                if fields:
                    family = legacy_errors if is_legacy_path(scope["path"]) else oneapi_errors
                    status, body = family.envelope(unstorable_error(fields))
                    return await send_json(send, status, body)
        await self.app(scope, receive, send)


def _query_fields(query: bytes) -> list[tuple[str, int]]:
    fields = []
    # decoded as Starlette's QueryParams decodes it
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if not (is_storable(name) and is_storable(value)):
            path = bracket_path(name)
            fields.append((path, field_code(path)))
    return fields


async def refuse_unstorable_path(request: Request) -> None:
    """Router dependency of both families: a path parameter holding a NUL is refused with its
    name (`/rest/sms/reference/{reference}`: legacy 27), before authentication and the endpoint."""
    fields = [(name, field_code(name)) for name, value in request.path_params.items()
              if isinstance(value, str) and not is_storable(value)]
    if fields:
        raise unstorable_error(fields)


#: `dependencies=` of each family's routers (api/app.py, api/legacy/routes.py).
UNSTORABLE_PATH = [Depends(refuse_unstorable_path)]
