"""/api/groups*: contact lists (One API; "groups" in BSG's paths)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from relaybox.api.common import json_response, parse_model, read_json
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import contact_book as shapes
from relaybox.api.oneapi import contact_book_openapi as doc
from relaybox.api.oneapi import responses as r
from relaybox.api.oneapi.contact_book import ListBody, MembersBody, path_id
from relaybox.api.oneapi.listing import Listing
from relaybox.api.openapi import ONE_API, documented
from relaybox.services import contacts
from relaybox.services.dedup import check_duplicate

router = APIRouter(prefix="/api/groups", tags=["contact lists"])


@router.get("")
@documented(security=ONE_API, query=doc.ListListQuery, ok=doc.ContactListPage, errors=r.ERRORS,
            operation_id="contact_lists", summary="The contact lists")
async def list_lists(request: Request, platform: PlatformDep, caller: OneApiCaller):
    listing = Listing(request)
    listing.check()
    total, found, _ = await contacts.find_lists(platform, caller.account_id, **listing.window)
    return listing.page(found, total, shapes.contact_list)


@router.get("/search")
@documented(security=ONE_API, query=doc.ListSearchQuery, ok=doc.ContactListSearchPage, errors=r.ERRORS,
            operation_id="contact_list_search", summary="Contact lists matching criteria")
async def search_lists(request: Request, platform: PlatformDep, caller: OneApiCaller):
    listing = Listing(request, sorts=("id", "items", "name", "description", "created_at", "date"))
    listing.check()
    total, found, criteria = await contacts.find_lists(platform, caller.account_id, raw=listing.criteria,
                                                       **listing.ordered_window)
    return listing.search_page(found, total, criteria, shapes.contact_list_found)


@router.post("")
@documented(security=ONE_API, body=ListBody, ok=doc.ContactListResponse, status=201, errors=r.ERRORS,
            operation_id="contact_list_create", summary="Add a contact list")
async def create_list(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(ListBody, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    made = await contacts.create_list(platform, caller.account_id, name=body.name, description=body.description,
                                      default=body.default)
    return json_response({"data": shapes.contact_list(made)}, 201)


@router.post("/attach")
@documented(security=ONE_API, body=MembersBody, ok=doc.Done, errors=r.ERRORS, operation_id="contact_list_attach",
            summary="Put contacts into lists")
async def attach(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(MembersBody, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    await contacts.attach(platform, caller.account_id, body.contacts, body.groups)
    return json_response({})


@router.post("/detach")
@documented(security=ONE_API, body=MembersBody, ok=doc.Done, errors=r.ERRORS, operation_id="contact_list_detach",
            summary="Take contacts out of lists")
async def detach(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(MembersBody, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    await contacts.detach(platform, caller.account_id, body.contacts, body.groups)
    return json_response({})


@router.get("/{list_id}")
@documented(security=ONE_API, ok=doc.ContactListResponse, errors=r.ERRORS_BY_ID, operation_id="contact_list",
            summary="One contact list")
async def get_list(list_id: str, platform: PlatformDep, caller: OneApiCaller):
    found = await contacts.get_list(platform, caller.account_id, path_id(list_id))
    return json_response({"data": shapes.contact_list(found)})


@router.put("/{list_id}")
@documented(security=ONE_API, body=ListBody, ok=doc.ContactListResponse, errors=r.ERRORS_BY_ID,
            operation_id="contact_list_update", summary="Rename, describe or make default a contact list")
async def update_list(list_id: str, request: Request, platform: PlatformDep, caller: OneApiCaller):
    number = path_id(list_id)
    _, data = await read_json(request)
    body = parse_model(ListBody, data)
    found = await contacts.update_list(platform, caller.account_id, number, name=body.name,
                                       description=body.description, default=body.default,
                                       description_given="description" in data)
    return json_response({"data": shapes.contact_list(found)})


@router.delete("/{list_id}")
@documented(security=ONE_API, ok=None, status=204, errors=r.ERRORS_BY_ID, operation_id="contact_list_delete",
            summary="Delete a contact list (its contacts stay)")
async def delete_list(list_id: str, platform: PlatformDep, caller: OneApiCaller):
    await contacts.delete_list(platform, caller.account_id, path_id(list_id))
    return Response(status_code=204)
