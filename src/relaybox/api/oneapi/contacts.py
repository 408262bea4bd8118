"""/api/contacts*: the contact book's contacts and custom fields (One API)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from relaybox.api.common import json_response, parse_model, read_json
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import contact_book as shapes
from relaybox.api.oneapi.contact_book import FieldBody, IdsBody, StoreContact, path_id
from relaybox.api.oneapi.params import ListParams
from relaybox.errors import ValidationFailed
from relaybox.services import contacts
from relaybox.services.dedup import check_duplicate

router = APIRouter(prefix="/api/contacts", tags=["contacts"])

#: `POST /api/contacts/delete`: most contact ids one request may name (the spec's "up to 5000").
MAX_DELETE = 5000


def no_content() -> Response:
    return Response(status_code=204)


# -- custom fields (before /{id}, which would take "fields" for an id) ------------------------------


@router.get("/fields")
async def list_fields(platform: PlatformDep, caller: OneApiCaller):
    found = await contacts.list_fields(platform, caller.account_id)
    return json_response({"data": [shapes.contact_field(f) for f in found]})


@router.post("/fields")
async def create_field(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(FieldBody, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    made = await contacts.create_field(platform, caller.account_id, name=body.name, kind=body.type,
                                       description=body.description, is_visible=body.is_visible)
    return json_response({"data": shapes.contact_field(made)}, 201)


@router.post("/fields/delete")
async def delete_fields(request: Request, platform: PlatformDep, caller: OneApiCaller):
    _, data = await read_json(request)
    body = parse_model(IdsBody, data)
    await contacts.delete_fields(platform, caller.account_id, body.ids)
    return no_content()


@router.patch("/fields/{field_id}")
async def update_field(field_id: str, request: Request, platform: PlatformDep, caller: OneApiCaller):
    _, data = await read_json(request)
    changes = {k: data[k] for k in ("name", "description", "is_visible") if k in data}
    found = await contacts.update_field(platform, caller.account_id, path_id(field_id), changes)
    return json_response({"data": shapes.contact_field(found)})


# -- contacts --------------------------------------------------------------------------------------


@router.get("")
async def list_contacts(request: Request, platform: PlatformDep, caller: OneApiCaller):
    params = ListParams(request.query_params, sorts=("id",), min_limit=15, default_limit=20)
    params.check()
    list_ids = shapes.query_ids(request.query_params, "groups", "groups", 1000)
    total, found, _ = await contacts.find_contacts(platform, caller.account_id, list_ids=list_ids,
                                                   offset=params.offset, limit=params.limit)
    return json_response({"data": [shapes.contact(c) for c in found], "total": total})


@router.get("/search")
async def search_contacts(request: Request, platform: PlatformDep, caller: OneApiCaller):
    params = ListParams(request.query_params, sorts=("id", "phone"), min_limit=15)
    params.check()
    total, found, criteria = await contacts.find_contacts(
        platform, caller.account_id, raw=shapes.raw_criteria(request.query_params), sort=params.sort,
        descending=params.descending, offset=params.offset, limit=params.limit,
    )
    return json_response({"data": [shapes.contact(c) for c in found],
                          "meta": shapes.page_meta(total, params.offset, params.limit, criteria)})


@router.post("")
async def create_contact(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(StoreContact, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    made = await contacts.create_contact(platform, caller.account_id, phone=body.phone,
                                         fields=shapes.field_inputs(body.fields), groups=shapes.group_ids(body.groups))
    return json_response({"data": shapes.contact(made)}, 201)


@router.post("/delete")
async def delete_contacts(request: Request, platform: PlatformDep, caller: OneApiCaller):
    query = request.query_params
    contact_ids = shapes.query_ids(query, "contact_ids", "contact_ids", MAX_DELETE)
    list_ids = shapes.query_ids(query, "group_ids", "group_ids", 100)
    if not contact_ids and not list_ids:
        raise ValidationFailed.one("contact_ids", "Give the contacts to delete: contact_ids[] or group_ids[].")
    await contacts.delete_contacts(platform, caller.account_id, contact_ids, list_ids)
    return no_content()


@router.get("/{contact_id}")
async def get_contact(contact_id: str, platform: PlatformDep, caller: OneApiCaller):
    found = await contacts.get_contact(platform, caller.account_id, path_id(contact_id))
    return json_response({"data": shapes.contact(found)})


@router.put("/{contact_id}")
async def update_contact(contact_id: str, request: Request, platform: PlatformDep, caller: OneApiCaller):
    number = path_id(contact_id)
    _, data = await read_json(request)
    body = parse_model(StoreContact, data)
    found = await contacts.update_contact(platform, caller.account_id, number, phone=body.phone,
                                          fields=shapes.field_inputs(body.fields), groups=shapes.group_ids(body.groups))
    return json_response({"data": shapes.contact(found)})


@router.delete("/{contact_id}")
async def delete_contact(contact_id: str, platform: PlatformDep, caller: OneApiCaller):
    await contacts.delete_contact(platform, caller.account_id, path_id(contact_id))
    return no_content()
