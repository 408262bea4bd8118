"""GET /api/x-relaybox/inbound: the caller's inbound (mobile-originated) messages.

A relaybox extension, not in BSG's One API: its path is under `/api/x-relaybox/` so that it can
never collide with a path BSG adds.  One API conventions otherwise: the same authentication, the
`{"data": [...], "meta": {"page": {...}}}` envelope, `page[offset]`/`page[limit]` (15-500,
default 50), `sort` (id | date) and `way`, `filter[from]`/`filter[to]` as a date range (the
messages list's rules), and 422 envelopes with the field path.  docs/inbound.md documents it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from relaybox.api.common import json_response
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import present
from relaybox.api.oneapi import responses as r
from relaybox.api.oneapi.queries import InboundListQuery
from relaybox.api.openapi import ONE_API, documented
from relaybox.api.oneapi.params import ListParams
from relaybox.domain.inbound import STOPLISTED, inbound_body
from relaybox.errors import FieldError
from relaybox.services import inbound

router = APIRouter(prefix="/api/x-relaybox/inbound", tags=["inbound (relaybox extension)"])

MAX_FILTER = 64  # characters of a sender, recipient or keyword filter


@router.get("")
@documented(security=ONE_API, query=InboundListQuery, ok=r.InboundPage, errors=r.ERRORS,
            summary="The account's inbound (mobile-originated) messages (relaybox extension)")
async def list_inbound(request: Request, platform: PlatformDep, caller: OneApiCaller):
    params = ListParams(request.query_params, sorts=("id", "date"), min_limit=15)
    texts = {}
    for name in ("sender", "recipient", "keyword"):
        value = params.text(f"filter[{name}]")
        if value is not None and len(value) > MAX_FILTER:
            params.errors.append(FieldError(f"filter.{name}", f"The filter.{name} must be at most {MAX_FILTER} characters."))
            value = None
        texts[name] = value
    action = params.choice("filter[action]", "filter.action", (STOPLISTED,), default=None)
    params.check()
    total, found = await inbound.list_inbound(
        platform, caller, raw_from=params.text("filter[from]"), raw_to=params.text("filter[to]"),
        sender=texts["sender"], recipient=texts["recipient"], keyword=texts["keyword"], action=action,
        sort=params.sort, descending=params.descending, offset=params.offset, limit=params.limit,
    )
    return json_response(present.page([inbound_body(m) for m in found], total, params.offset, params.limit))
