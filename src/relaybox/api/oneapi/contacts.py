"""/api/contacts*: the contact book's contacts and custom fields (One API)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from relaybox.api.common import json_response, parse_model, read_json
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import contact_book as shapes
from relaybox.api.oneapi import contact_book_openapi as doc
from relaybox.api.oneapi import responses as r
from relaybox.api.oneapi.contact_book import FieldBody, FieldUpdateBody, IdsBody, StoreContact, path_id
from relaybox.api.oneapi.listing import Listing
from relaybox.api.openapi import ONE_API, documented
from relaybox.errors import ValidationFailed
from relaybox.services import contacts
from relaybox.services.dedup import check_duplicate

router = APIRouter(prefix="/api/contacts", tags=["contacts"])

#: `POST /api/contacts/delete`: most contact ids one request may name (the spec's "up to 5000").
MAX_DELETE = 5000


def no_content() -> Response:
    """An empty 204 response."""
    return Response(status_code=204)


# -- custom fields (before /{id}, which would take "fields" for an id) ------------------------------


@router.get("/fields")
@documented(security=ONE_API, ok=doc.ContactFieldCollection, errors=r.ERRORS, operation_id="contact_fields",
            summary="The account's custom fields")
async def list_fields(platform: PlatformDep, caller: OneApiCaller):
    found = await contacts.list_fields(platform, caller.account_id)
    return json_response({"data": [shapes.contact_field(f) for f in found]})


@router.post("/fields")
@documented(security=ONE_API, body=FieldBody, ok=doc.ContactFieldResponse, status=201, errors=r.ERRORS,
            operation_id="contact_field_create", summary="Add a custom field")
async def create_field(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(FieldBody, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    made = await contacts.create_field(platform, caller.account_id, name=body.name, kind=body.type,
                                       description=body.description, is_visible=body.is_visible)
    return json_response({"data": shapes.contact_field(made)}, 201)


@router.post("/fields/delete")
@documented(security=ONE_API, body=IdsBody, ok=None, status=204, errors=r.ERRORS,
            operation_id="post_contactsFieldsDelete",
            summary="Delete custom fields and their values; an unknown id refuses all")
async def delete_fields(request: Request, platform: PlatformDep, caller: OneApiCaller):
    _, data = await read_json(request)
    body = parse_model(IdsBody, data)
    await contacts.delete_fields(platform, caller.account_id, body.ids)
    return no_content()


@router.patch("/fields/{field_id}")
@documented(security=ONE_API, body=FieldUpdateBody, ok=doc.ContactFieldResponse, errors=r.ERRORS_BY_ID,
            operation_id="contact_field_update",
            summary="Rename, describe, show or hide a custom field (its type stays)")
async def update_field(field_id: str, request: Request, platform: PlatformDep, caller: OneApiCaller):
    _, data = await read_json(request)
    changes = {k: data[k] for k in ("name", "description", "is_visible") if k in data}
    found = await contacts.update_field(platform, caller.account_id, path_id(field_id), changes)
    return json_response({"data": shapes.contact_field(found)})


# -- contacts --------------------------------------------------------------------------------------


@router.get("")
@documented(security=ONE_API, query=doc.ContactListQuery, ok=doc.ContactPage, errors=r.ERRORS,
            operation_id="contacts", summary="The contacts, optionally of some lists")
async def list_contacts(request: Request, platform: PlatformDep, caller: OneApiCaller):
    listing = Listing(request, default_limit=20)
    listing.check()
    list_ids = shapes.query_ids(request.query_params, "groups", "groups", 1000)
    total, found, _ = await contacts.find_contacts(platform, caller.account_id, list_ids=list_ids, **listing.window)
    return listing.page(found, total, shapes.contact)


@router.get("/search")
@documented(security=ONE_API, query=doc.ContactSearchQuery, ok=doc.ContactSearchPage, errors=r.ERRORS,
            operation_id="contacts_search", summary="Contacts matching criteria")
async def search_contacts(request: Request, platform: PlatformDep, caller: OneApiCaller):
    listing = Listing(request, sorts=("id", "phone"))
    listing.check()
    total, found, criteria = await contacts.find_contacts(platform, caller.account_id, raw=listing.criteria,
                                                          **listing.ordered_window)
    return listing.search_page(found, total, criteria, shapes.contact)


@router.post("")
@documented(security=ONE_API, body=StoreContact, ok=doc.ContactResponse, status=201, errors=r.ERRORS,
            operation_id="contact_create", summary="Add a contact")
async def create_contact(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(StoreContact, data)
    await check_duplicate(platform, caller, request.url.path, raw)
    made = await contacts.create_contact(platform, caller.account_id, phone=body.phone,
                                         fields=shapes.field_inputs(body.fields), groups=shapes.group_ids(body.groups))
    return json_response({"data": shapes.contact(made)}, 201)


@router.post("/delete")
@documented(security=ONE_API, query=doc.ContactsDeleteQuery, ok=None, status=204, errors=r.ERRORS,
            operation_id="contacts_delete", summary="Delete contacts by id or by list")
async def delete_contacts(request: Request, platform: PlatformDep, caller: OneApiCaller):
    query = request.query_params
    contact_ids = shapes.query_ids(query, "contact_ids", "contact_ids", MAX_DELETE)
    list_ids = shapes.query_ids(query, "group_ids", "group_ids", 100)
    if not contact_ids and not list_ids:
        raise ValidationFailed.one("contact_ids", "Give the contacts to delete: contact_ids[] or group_ids[].")
    await contacts.delete_contacts(platform, caller.account_id, contact_ids, list_ids)
    return no_content()


@router.get("/{contact_id}")
@documented(security=ONE_API, ok=doc.ContactResponse, errors=r.ERRORS_BY_ID, operation_id="contact",
            summary="One contact")
async def get_contact(contact_id: str, platform: PlatformDep, caller: OneApiCaller):
    found = await contacts.get_contact(platform, caller.account_id, path_id(contact_id))
    return json_response({"data": shapes.contact(found)})


@router.put("/{contact_id}")
@documented(security=ONE_API, body=StoreContact, ok=doc.ContactResponse, errors=r.ERRORS_BY_ID,
            operation_id="contact_update", summary="Replace a contact's phone, field values and lists")
async def update_contact(contact_id: str, request: Request, platform: PlatformDep, caller: OneApiCaller):
    number = path_id(contact_id)
    _, data = await read_json(request)
    body = parse_model(StoreContact, data)
    found = await contacts.update_contact(platform, caller.account_id, number, phone=body.phone,
                                          fields=shapes.field_inputs(body.fields), groups=shapes.group_ids(body.groups))
    return json_response({"data": shapes.contact(found)})


@router.delete("/{contact_id}")
@documented(security=ONE_API, ok=None, status=204, errors=r.ERRORS_BY_ID, operation_id="contact_delete",
            summary="Delete a contact")
async def delete_contact(contact_id: str, platform: PlatformDep, caller: OneApiCaller):
    await contacts.delete_contact(platform, caller.account_id, path_id(contact_id))
    return no_content()
