"""The contact book's query parameters and answers, as the OpenAPI document describes them.

`/api/contacts*`, `/api/groups*` and `/api/stoplist*` read their lists' parameters by hand
(`oneapi/listing.py:Listing` and `raw_criteria`, `contact_book.query_ids`) and build their
answers as dicts (`contact_book.contact`, `contact_list`, `contact_list_found`, `contact_field`,
`stop_entry`, `listing.page_meta`); these models only describe them.  Shapes are BSG's
(`ContactSchema`, `ContactGroupSchema`, `ContactGroupSearchSchema`, `ContactFieldSchema`,
`StopListCollection`); where relaybox differs, docs/compatibility.md ("OpenAPI differences")
says so.  `tests/integration/test_openapi_contact_answers.py` validates real answers against them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from relaybox.api.oneapi.queries import OFFSET_MAX
from relaybox.api.oneapi.responses import PageMeta, Time

Operator = Literal["like", "=", ">=", ">", "<", "<="]  # domain/contacts.py OPERATORS
FieldType = Literal["text", "number", "date"]  # domain/contacts.py FIELD_TYPES
StoplistType = Literal["sms", "viber", "rcs", "whatsapp"]  # domain/contacts.py STOPLIST_TYPES
ListSearchField = Literal["id", "name", "description", "items", "created_at", "phone"]  # LIST_SEARCH
StoplistSearchField = Literal["id", "phone", "created_at", "type"]  # STOPLIST_SEARCH
_OPERATOR = ("absent: `like` for text fields, `=` otherwise; each field takes only some operators "
             "(id, numbers, dates: = >= > < <=; texts and phone: like =)")
#: An id in the query (`contact_book.query_ids`: 1 to 18 digits).
QueryId = Annotated[int, Field(ge=1, le=10**18 - 1)]
_CONTACT_FIELD = "id, phone, group_id, created_at, or the id of one of your custom fields"

# -- query parameters


class _Page(BaseModel):
    page_offset: int = Field(0, alias="page[offset]", ge=0, le=OFFSET_MAX, description="items to skip")


def _limit(default: int) -> object:
    return Field(default, alias="page[limit]", ge=15, le=500, description="items per page")


class _Sorted(_Page):
    way: Literal["asc", "desc"] = Field("asc", description="sort direction")


def _criteria(field_type: object, field_description: str | None = None) -> type[BaseModel]:
    """`search[field|operator|value]` and `search_fields[0][...]` (see `_Criteria`)."""

    class Criteria(BaseModel):
        search_field: field_type | None = Field(None, alias="search[field]", description=field_description)  # type: ignore[valid-type]
        search_operator: Operator | None = Field(None, alias="search[operator]", description=_OPERATOR)
        search_value: str | None = Field(None, alias="search[value]",
                                         description="required with a field; dates as `YYYY-MM-DD[ HH:MM:SS]`")
        fields_field: field_type | None = Field(  # type: ignore[valid-type]
            None, alias="search_fields[0][field]",
            description="a further criterion (all must hold); `search_fields[1]` ... `search_fields[9]` are "
                        "read the same way")
        fields_operator: Operator | None = Field(None, alias="search_fields[0][operator]", description=_OPERATOR)
        fields_value: str | None = Field(None, alias="search_fields[0][value]")

    return Criteria


class ContactListQuery(_Page):
    """GET /api/contacts."""

    page_limit: int = _limit(20)
    groups: list[QueryId] = Field([], alias="groups[]", max_length=1000,
                                  description="only contacts in these lists (`groups[]=1&groups[]=2`; "
                                              "`groups=1` is read too); an unknown list is 422")


class ContactSearchQuery(_criteria(str, _CONTACT_FIELD), _Sorted):  # type: ignore[misc]
    """GET /api/contacts/search."""

    page_limit: int = _limit(50)
    sort: Literal["id", "phone"] = "id"


#: The HTTP server's bound on a request line (uvicorn: 64 KiB): a longer one is a plain-text 400 before
#: relaybox sees it, so fewer ids than the 5,000 relaybox takes fit in one request.
_LINE = ("; the request line must stay within 64 KiB (a longer one is refused by the HTTP server with a "
         "plain-text 400): with 9-digit ids, about 2,300 as `contact_ids%5B%5D=…`, 2,900 as `contact_ids=…`")


class ContactsDeleteQuery(BaseModel):
    """POST /api/contacts/delete: at least one of the two."""

    contact_ids: list[QueryId] = Field([], alias="contact_ids[]", max_length=5000,
                                       description="contacts to delete (`contact_ids=1` is read too); an "
                                                   "unknown id is 422" + _LINE)
    group_ids: list[QueryId] = Field([], alias="group_ids[]", max_length=100,
                                     description="delete every contact of these lists (`group_ids=1` too); an unknown list is 422")


class ListListQuery(_Page):
    """GET /api/groups."""

    page_limit: int = _limit(50)


class ListSearchQuery(_criteria(ListSearchField), _Sorted):  # type: ignore[misc]
    """GET /api/groups/search."""

    page_limit: int = _limit(50)
    sort: Literal["id", "items", "name", "description", "created_at", "date"] = "id"


class StoplistQuery(_Page):
    """GET /api/stoplist."""

    page_limit: int = _limit(20)
    type: StoplistType | None = Field(None, description="only phones on this channel's stop list")


class StoplistSearchQuery(_criteria(StoplistSearchField), _Sorted):  # type: ignore[misc]
    """GET /api/stoplist/search."""

    page_limit: int = _limit(50)
    sort: Literal["id", "phone"] = "id"
    contact_group_id: int | None = Field(None, ge=1, le=OFFSET_MAX, description="only contacts of this list")


# -- answers


class _Out(BaseModel):
    """A field without a default is always sent; one with a default may be absent."""


class ContactList(_Out):
    """`ContactGroupSchema`."""

    id: int
    name: str
    description: str | None
    default: bool
    created_at: Time
    items: int = Field(description="contacts in the list")
    stop_list_count: int = Field(description="of them, on a stop list")


class ContactListFound(_Out):
    """`ContactGroupSearchSchema`."""

    id: int
    name: str
    description: str | None
    is_default: bool
    items: int
    created_at: Time


class Contact(_Out):
    """`ContactSchema`."""

    id: int
    phone: int = Field(description="E.164 digits")
    fields: list[dict[str, str]] = Field(description="one object per value: {field id: value}")
    groups: list[ContactList]
    hlr_status: str = Field(description="`unknown`: relaybox does no HLR lookups")
    hlr_last_check: str | None = Field(description="always null")
    created_at: Time


class ContactField(_Out):
    """`ContactFieldSchema`."""

    id: int
    name: str
    type: FieldType
    description: str | None
    is_visible: bool


class StopEntry(_Out):
    """An entry of `StopListCollection`: a contact, with the stop lists it is on."""

    id: int = Field(description="the contact's id")
    phone: int = Field(description="E.164 digits")
    created_at: Time = Field(description="when it was last put on a stop list")
    sms_stoplist: bool
    viber_stoplist: bool
    rcs_stoplist: bool
    whatsapp_stoplist: bool


class _Echo(_Out):
    operator: Operator
    value: str


class ContactSearchEcho(_Echo):
    """The first criterion of the request, as given."""

    field: str


class ListSearchEcho(_Echo):
    field: ListSearchField


class StoplistSearchEcho(_Echo):
    field: StoplistSearchField


class ContactSearchMeta(_Out):
    page: PageMeta
    search: ContactSearchEcho | None = Field(None, description="absent without criteria")


class ListSearchMeta(_Out):
    page: PageMeta
    search: ListSearchEcho | None = Field(None, description="absent without criteria")


class StoplistSearchMeta(_Out):
    page: PageMeta
    search: StoplistSearchEcho | None = Field(None, description="absent without criteria")


class ContactPage(_Out):
    data: list[Contact]
    total: int


class ContactSearchPage(_Out):
    data: list[Contact]
    meta: ContactSearchMeta


class ContactResponse(_Out):
    data: Contact


class ContactFieldCollection(_Out):
    data: list[ContactField]


class ContactFieldResponse(_Out):
    data: ContactField


class ContactListPage(_Out):
    data: list[ContactList]
    total: int


class ContactListSearchPage(_Out):
    data: list[ContactListFound]
    meta: ListSearchMeta


class ContactListResponse(_Out):
    data: ContactList


class StoplistPage(_Out):
    data: list[StopEntry]
    total: int


class StoplistSearchPage(_Out):
    data: list[StopEntry]
    meta: StoplistSearchMeta


class StoplistEntries(_Out):
    """`POST /api/stoplist/attach`: one entry per distinct phone, in the order given."""

    data: list[StopEntry]


class Done(_Out):
    """An empty object: the change was made."""
