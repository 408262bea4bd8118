"""What the contact-book routers share: request bodies, response shapes and ids (paging and search:
oneapi/listing.py).

Shapes are the spec's (`ContactSchema`, `ContactGroupSchema`, `ContactGroupSearchSchema`,
`ContactFieldSchema`, `StopListCollection`), as the official client's strict models read them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from starlette.datastructures import QueryParams

from relaybox.domain.contacts import (
    DESCRIPTION_LENGTH,
    FIELD_NAME_LENGTH,
    FIELD_TYPES,
    LIST_NAME_LENGTH,
    MAX_VALUE_LENGTH,
    STOPLIST_TYPES,
    Contact,
    ContactField,
    ContactList,
    StopListEntry,
)
from relaybox.domain.timefmt import format_time
from relaybox.errors import FieldError, NotFound, ValidationFailed
from relaybox.services.contacts import FieldInput

#: An id in a body: a positive integer the store can hold.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
PhoneValue = int | str
#: What the document says of a phone in a body (the rule is domain/contacts.py `contact_phone`).
PHONE_SCHEMA = {"anyOf": [{"type": "integer"}, {"type": "string"}],
                "description": "E.164 digits (9 to 15), as a JSON integer or a digit string"}


def _text(lengths: tuple[int, int], description: str, *, nullable: bool = False) -> dict:
    """The JSON Schema of a text the services check (domain/contacts.py), for `WithJsonSchema`."""
    text = {"type": "string", "minLength": lengths[0], "maxLength": lengths[1], "description": description}
    return {"anyOf": [text, {"type": "null"}]} if nullable else text


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FieldPair(_Body):
    """A custom field's value in a contact body; the services check both parts (422 at `fields.N.id|value`)."""

    id: Annotated[object, WithJsonSchema({"type": "integer", "minimum": 1,
                                          "description": "the id of one of your custom fields"})] = None
    value: Annotated[object, WithJsonSchema({
        "anyOf": [{"type": "string", "maxLength": MAX_VALUE_LENGTH}, {"type": "number"}, {"type": "null"}],
        "description": "text: any text; number: a decimal number; date: `YYYY-MM-DD` or a date and time. "
                       "null or an empty string clears the value"})] = None


#: `groups` items of a contact body: a list id, or a list object with an `id`.
_GROUP_REF = {"anyOf": [{"type": "integer", "minimum": 1},
                        {"type": "object", "properties": {"id": {"type": "integer", "minimum": 1}},
                         "required": ["id"]}]}


class StoreContact(_Body):
    """`StoreContact` / `ContactUpdateRequest`: `groups` are list ids (or list objects with an `id`)."""

    phone: Annotated[PhoneValue, WithJsonSchema(PHONE_SCHEMA)]
    fields: Annotated[list[FieldPair], Field(max_length=100)] = []
    groups: Annotated[list[object], Field(max_length=100),
                      WithJsonSchema({"type": "array", "items": _GROUP_REF, "maxItems": 100,
                                      "description": "the lists the contact is in (PUT: replaces them)"})] = []


class ListBody(_Body):
    """`ContactListCreateRequest` / `ContactListUpdateRequest`."""

    name: Annotated[str, WithJsonSchema(_text(LIST_NAME_LENGTH, "unique in the account, not blank"))]
    description: Annotated[str | None, WithJsonSchema(_text(DESCRIPTION_LENGTH, "PUT: absent keeps it, null clears it",
                                                            nullable=True))] = None
    default: bool | None = Field(None, description="true makes it the account's default list")


class FieldBody(_Body):
    """`ContactFieldCreateRequest`."""

    name: Annotated[str, WithJsonSchema(_text(FIELD_NAME_LENGTH, "unique in the account; no braces or control "
                                                                 "characters, not blank"))]
    type: Annotated[str, WithJsonSchema({"type": "string", "enum": list(FIELD_TYPES)})]
    description: Annotated[str | None, WithJsonSchema(_text(DESCRIPTION_LENGTH, "", nullable=True))] = None
    is_visible: bool = True


class FieldUpdateBody(_Body):
    """`ContactFieldUpdateRequest`, for the document only: `PATCH /api/contacts/fields/{id}` reads the
    three keys by hand (an absent key keeps its value) and the services check them as here."""

    name: Annotated[str, WithJsonSchema(_text(FIELD_NAME_LENGTH, "unique in the account; no braces or control "
                                                                 "characters, not blank"))] = None  # type: ignore[assignment]
    description: Annotated[str | None, WithJsonSchema(_text(DESCRIPTION_LENGTH, "null clears it",
                                                            nullable=True))] = None
    is_visible: bool = None  # type: ignore[assignment]


class IdsBody(_Body):
    """`PostContactsFieldsDeleteRequest`."""

    ids: Annotated[list[Id], Field(min_length=1, max_length=30)]


class MembersBody(_Body):
    """`ContactListAttachRequest` / `ContactListDetachRequest`."""

    contacts: Annotated[list[Id], Field(min_length=1, max_length=200)]
    groups: Annotated[list[Id], Field(min_length=1, max_length=100)]


#: The stop-list types, as the document enumerates them (the services check them: 422 at `types.N`).
_TYPES_SCHEMA = {"type": "array", "items": {"type": "string", "enum": list(STOPLIST_TYPES)}, "minItems": 1,
                 "maxItems": 4, "description": "the channels' stop lists"}


class StoplistAddBody(_Body):
    """`StoplistAddRequest`."""

    phones: Annotated[list[PhoneValue], Field(min_length=1, max_length=1000),
                      WithJsonSchema({"type": "array", "items": PHONE_SCHEMA, "minItems": 1, "maxItems": 1000,
                                      "description": "a phone not in the book becomes a contact"})]
    types: Annotated[list[str], Field(max_length=4), WithJsonSchema(_TYPES_SCHEMA)]


class StoplistRemoveBody(_Body):
    """`StoplistRemoveRequest`."""

    ids: Annotated[list[Id], Field(min_length=1, max_length=200, description="contact ids")]
    types: Annotated[list[str], Field(max_length=4), WithJsonSchema(_TYPES_SCHEMA)]


def path_id(raw: str) -> int:
    """An id from the path; anything that cannot be an id is simply not found."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18 or int(raw) == 0:
        raise NotFound()
    return int(raw)


def field_inputs(pairs: list[FieldPair]) -> list[FieldInput]:
    """The request's field values with their paths (`fields.<i>`)."""
    return [FieldInput(f"fields.{i}", p.id, p.value) for i, p in enumerate(pairs)]


def group_ids(items: list[object], path: str = "groups") -> list[int]:
    """List ids of a contact body: integers, or objects with an integer `id` (the spec types
    `groups` as ContactGroupSchema objects, its examples send ids)."""
    ids, errors = [], []
    for i, item in enumerate(items):
        value = item.get("id") if isinstance(item, dict) else item
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
            errors.append(FieldError(f"{path}.{i}", "The list must be given by its id (an integer)."))
        else:
            ids.append(value)
    if errors:
        raise ValidationFailed(errors)
    return ids


def query_ids(query: QueryParams, name: str, path: str, most: int) -> list[int]:
    """Integer ids of a repeated query parameter (`groups[]=1&groups[]=2`; `groups=1` too)."""
    raw = query.getlist(f"{name}[]") + query.getlist(name)
    if len(raw) > most:
        raise ValidationFailed.one(path, f"At most {most} ids may be given.")
    ids, errors = [], []
    for i, value in enumerate(raw):
        if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) == 0:
            errors.append(FieldError(f"{path}.{i}", "The id must be a positive integer."))
        else:
            ids.append(int(value))
    if errors:
        raise ValidationFailed(errors)
    return ids


# -- response shapes -----------------------------------------------------------------------------


def contact_list(g: ContactList) -> dict:
    """A contact list as the One API shows it (BSG's ContactGroup): counts of contacts and stop-listed ones."""
    return {"id": g.id, "name": g.name, "description": g.description, "default": g.is_default,
            "created_at": format_time(g.created_at), "items": g.items, "stop_list_count": g.stop_list_count}


def contact_list_found(g: ContactList) -> dict:
    """`ContactGroupSearchSchema`: `is_default`, no stop-list count."""
    return {"id": g.id, "name": g.name, "description": g.description, "is_default": g.is_default,
            "items": g.items, "created_at": format_time(g.created_at)}


def contact(c: Contact) -> dict:
    """`ContactSchema`: `fields` is a list of one-entry objects, field id (a string) → value, as the
    spec types it (an array of string maps)."""
    return {
        "id": c.id,
        "phone": c.phone,
        "fields": [{str(field_id): value} for field_id, value in c.fields.items()],
        "groups": [contact_list(g) for g in c.groups],
        "hlr_status": c.hlr_status,
        "hlr_last_check": None,
        "created_at": format_time(c.created_at),
    }


def contact_field(f: ContactField) -> dict:
    """A custom field as the One API shows it."""
    return {"id": f.id, "name": f.name, "type": f.type, "description": f.description, "is_visible": f.is_visible}


def stop_entry(e: StopListEntry) -> dict:
    """A stop-list entry as the One API shows it: the phone and whether it is on each channel's list."""
    return {"id": e.id, "phone": e.phone, "created_at": format_time(e.created_at), "sms_stoplist": e.sms,
            "viber_stoplist": e.viber, "rcs_stoplist": e.rcs, "whatsapp_stoplist": e.whatsapp}
