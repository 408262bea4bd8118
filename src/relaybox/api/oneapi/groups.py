"""/api/groups*: contact lists (One API; "groups" in BSG's paths)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from relaybox.api.common import json_response, parse_model, read_json
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import contact_book as shapes
from relaybox.api.oneapi.contact_book import ListBody, MembersBody, path_id
from relaybox.api.oneapi.params import ListParams
from relaybox.services import contacts
from relaybox.services.dedup import check_duplicate

router = APIRouter(prefix="/api/groups", tags=["contact lists"])


@router.get("")
async def list_lists(request: Request, platform: PlatformDep, caller: OneApiCaller):
    params = ListParams(request.query_params, sorts=("id",), min_limit=15)
    params.check()
    total, found = await contacts.find_lists(platform, caller.account_id, offset=params.offset, limit=params.limit)
    return json_response({"data": [shapes.contact_list(g) for g in found], "total": total})


@router.get("/search")
async def search_lists(request: Request, platform: PlatformDep, caller: OneApiCaller):
    params = ListParams(request.query_params, sorts=("id", "items", "name", "description", "created_at", "date"),
                        min_limit=15)
    params.check()
    raw = shapes.raw_criteria(request.query_params)
    criteria = contacts.check_criteria(raw, contacts.LIST_SEARCH)
    total, found = await contacts.find_lists(platform, caller.account_id, raw, sort=params.sort,
                                             descending=params.descending, offset=params.offset, limit=params.limit)
    return json_response({"data": [shapes.contact_list_found(g) for g in found],
                          "meta": shapes.page_meta(total, params.offset, params.limit, criteria)})


@router.post("")
async def create_list(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(ListBody, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    made = await contacts.create_list(platform, caller.account_id, name=body.name, description=body.description,
                                      default=body.default)
    return json_response({"data": shapes.contact_list(made)}, 201)


@router.post("/attach")
async def attach(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(MembersBody, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    await contacts.attach(platform, caller.account_id, body.contacts, body.groups)
    return json_response({})


@router.post("/detach")
async def detach(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(MembersBody, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    await contacts.detach(platform, caller.account_id, body.contacts, body.groups)
    return json_response({})


@router.get("/{list_id}")
async def get_list(list_id: str, platform: PlatformDep, caller: OneApiCaller):
    found = await contacts.get_list(platform, caller.account_id, path_id(list_id))
    return json_response({"data": shapes.contact_list(found)})


@router.put("/{list_id}")
async def update_list(list_id: str, request: Request, platform: PlatformDep, caller: OneApiCaller):
    number = path_id(list_id)
    _, data = await read_json(request)
    body = parse_model(ListBody, data)
    found = await contacts.update_list(platform, caller.account_id, number, name=body.name,
                                       description=body.description, default=body.default,
                                       description_given="description" in data)
    return json_response({"data": shapes.contact_list(found)})


@router.delete("/{list_id}")
async def delete_list(list_id: str, platform: PlatformDep, caller: OneApiCaller):
    await contacts.delete_list(platform, caller.account_id, path_id(list_id))
    return Response(status_code=204)
