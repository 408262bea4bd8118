"""Message search with the One API's filters (the same parameter names as GET /api/messages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from relaybox.api.oneapi.params import ListParams
from relaybox.console.session import caller_of
from relaybox.console.templating import render
from relaybox.domain.models import Caller
from relaybox.errors import ValidationFailed
from relaybox.services import queries

router = APIRouter(prefix="/console")
Signed = Annotated[Caller, Depends(caller_of)]


@router.get("/messages")
async def message_search(request: Request, caller: Signed):
    """Filters filter[id], filter[campaign_id], filter[reference_id], filter[from], filter[to]
    (created_at; default the last 3 months), sort (id, phone, delivered), way, page[offset],
    page[limit] (15-500), checked by the same rules as the API; errors are shown by field."""
    query = request.query_params
    params = ListParams(query, sorts=("id", "phone", "delivered"), min_limit=15)
    message_id = params.integer("filter[id]", "filter.id", minimum=1)
    campaign_id = params.integer("filter[campaign_id]", "filter.campaign_id")
    total, found, errors = 0, [], []
    try:
        params.check()
        total, found = await queries.list_messages(
            request.app.state.platform, caller, raw_from=params.text("filter[from]"), raw_to=params.text("filter[to]"),
            message_id=message_id, campaign_id=campaign_id, reference_id=params.text("filter[reference_id]"),
            sort=params.sort, descending=params.descending, offset=params.offset, limit=params.limit,
        )
    except ValidationFailed as exc:
        errors = exc.errors
    return render(request, "messages.html", {
        "messages": found, "total": total, "params": params, "query": query, "errors": errors,
        "searched": bool(query),
        "prev_offset": max(0, params.offset - params.limit) if params.offset else None,
        "next_offset": params.offset + params.limit if params.offset + params.limit < total else None,
    })
