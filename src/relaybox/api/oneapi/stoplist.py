"""/api/stoplist*: the stop list, per channel (One API)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from relaybox.api.common import json_response, parse_model, read_json
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import contact_book as shapes
from relaybox.api.oneapi import contact_book_openapi as doc
from relaybox.api.oneapi import responses as r
from relaybox.api.oneapi.contact_book import StoplistAddBody, StoplistRemoveBody
from relaybox.api.oneapi.listing import Listing
from relaybox.api.openapi import ONE_API, documented
from relaybox.domain.contacts import STOPLIST_TYPES
from relaybox.services import contacts
from relaybox.services.dedup import check_duplicate

router = APIRouter(prefix="/api/stoplist", tags=["stop list"])


@router.get("")
@documented(security=ONE_API, query=doc.StoplistQuery, ok=doc.StoplistPage, errors=r.ERRORS,
            operation_id="stoplist_items", summary="The phones on stop lists")
async def stoplist_items(request: Request, platform: PlatformDep, caller: OneApiCaller):
    listing = Listing(request, default_limit=20)
    channel = listing.choice("type", "type", STOPLIST_TYPES, default=None)
    listing.check()
    total, found, _ = await contacts.find_stoplisted(platform, caller.account_id, channel=channel, **listing.window)
    return listing.page(found, total, shapes.stop_entry)


@router.get("/search")
@documented(security=ONE_API, query=doc.StoplistSearchQuery, ok=doc.StoplistSearchPage, errors=r.ERRORS,
            operation_id="stoplist_search", summary="Stop-listed phones matching criteria")
async def stoplist_search(request: Request, platform: PlatformDep, caller: OneApiCaller):
    listing = Listing(request, sorts=("id", "phone"))
    list_id = listing.integer("contact_group_id", "contact_group_id", minimum=1)
    listing.check()
    total, found, criteria = await contacts.find_stoplisted(platform, caller.account_id, list_id=list_id,
                                                            raw=listing.criteria, **listing.ordered_window)
    return listing.search_page(found, total, criteria, shapes.stop_entry)


@router.post("/attach")
@documented(security=ONE_API, body=StoplistAddBody, ok=doc.StoplistEntries, errors=r.ERRORS,
            operation_id="stoplist_add", summary="Put phones on stop lists")
async def stoplist_attach(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(StoplistAddBody, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    entries = await contacts.stoplist_attach(platform, caller.account_id, body.phones, body.types)
    return json_response({"data": [shapes.stop_entry(e) for e in entries]})


@router.post("/detach")
@documented(security=ONE_API, body=StoplistRemoveBody, ok=doc.Done, errors=r.ERRORS, operation_id="stoplist_remove",
            summary="Take contacts off stop lists")
async def stoplist_detach(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(StoplistRemoveBody, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    await contacts.stoplist_detach(platform, caller.account_id, body.ids, body.types)
    return json_response({})
