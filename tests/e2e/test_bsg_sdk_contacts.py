"""The contact book through the official BSG client (`bsg-sdk`) against a real server, both backends:
fields → lists → contacts → attach → search → stop list attach / list / search / detach, and the
deletions, each response parsed by the client's strict models."""

from __future__ import annotations

import pytest
from bsg_api import (
    ApiClient,
    AuthApi,
    Configuration,
    ContactApi,
    ContactFieldApi,
    ContactListApi,
    StopListApi,
)
from bsg_api.exceptions import NotFoundException, UnprocessableEntityException
from bsg_api.models import (
    Contact200Response,
    ContactCreate201Response,
    ContactFieldCollectionSchema,
    ContactFieldCreate201Response,
    ContactFieldCreateRequest,
    ContactFieldType,
    ContactFieldUpdate200Response,
    ContactFieldUpdateRequest,
    ContactFieldUpdateRequestOptionName,
    ContactFieldValuePair,
    ContactGroupSchema,
    ContactGroupSearchField,
    ContactList200Response,
    ContactListAttachRequest,
    ContactListCreate201Response,
    ContactListCreateRequest,
    ContactListDetachRequest,
    ContactLists200Response,
    ContactListSearch200Response,
    ContactListUpdate200Response,
    ContactListUpdateRequest,
    Contacts200Response,
    ContactsSearch200Response,
    ContactUpdate200Response,
    ContactUpdateRequest,
    LoginRequest,
    PostContactsFieldsDeleteRequest,
    SearchOperator,
    SortWay,
    StoplistAdd200Response,
    StoplistAddRequest,
    StoplistItems200Response,
    StoplistRemoveRequest,
    StoplistSearch200Response,
    StoplistSearchField,
    StoreContact,
)


class Book:
    """The official client's contact-book API classes, logged in with one key."""

    def __init__(self, base_url: str, key: str):
        token = AuthApi(ApiClient(Configuration(host=base_url))).login(LoginRequest(api_key=key)).bearer
        api = ApiClient(Configuration(host=base_url, access_token=token))
        self.contacts = ContactApi(api)
        self.fields = ContactFieldApi(api)
        self.lists = ContactListApi(api)
        self.stoplist = StopListApi(api)


@pytest.fixture(scope="module")
def book(live_server) -> Book:
    return Book(live_server.base_url, live_server.create_account(balance="10"))


def test_contacts_fields_lists_search_and_stop_list(book, live_server):
    # fields
    name = book.fields.contact_field_create(ContactFieldCreateRequest(name="name", type=ContactFieldType.TEXT))
    assert isinstance(name, ContactFieldCreate201Response) and name.data.type == ContactFieldType.TEXT
    age = book.fields.contact_field_create(ContactFieldCreateRequest(
        name="age", type=ContactFieldType.NUMBER, description="in years", is_visible=False)).data
    assert (age.name, age.description, age.is_visible) == ("age", "in years", False)
    renamed = book.fields.contact_field_update(name.data.id, ContactFieldUpdateRequest(
        ContactFieldUpdateRequestOptionName(name="first_name")))
    assert isinstance(renamed, ContactFieldUpdate200Response) and renamed.data.name == "first_name"
    fields = book.fields.contact_fields()
    assert isinstance(fields, ContactFieldCollectionSchema)
    assert [f.name for f in fields.data] == ["first_name", "age"]
    name_id = name.data.id

    # lists: the default one is there from the start
    lists = book.lists.contact_lists(page_limit=15)
    assert isinstance(lists, ContactLists200Response) and lists.total == 1 and lists.data[0].default is True
    vip = book.lists.contact_list_create(ContactListCreateRequest(name="VIP", description="best customers"))
    assert isinstance(vip, ContactListCreate201Response) and vip.data.items == 0 and vip.data.default is False
    leads = book.lists.contact_list_create(ContactListCreateRequest(name="Leads")).data
    with pytest.raises(UnprocessableEntityException) as refused:
        book.lists.contact_list_create(ContactListCreateRequest(name="VIP"))
    assert "Contact group is already exists" in refused.value.body
    updated = book.lists.contact_list_update(leads.id, ContactListUpdateRequest(name="Leads 2025", description="crm"))
    assert isinstance(updated, ContactListUpdate200Response) and updated.data.name == "Leads 2025"

    # contacts, with values and lists (the client sends lists as objects)
    made = []
    for phone, first, years in ((380971234501, "Ann", "31"), (380971234502, "Bob", "45"), (447700900123, "Cy", "7")):
        created = book.contacts.contact_create(StoreContact(
            phone=phone, fields=[ContactFieldValuePair(id=name_id, value=first), ContactFieldValuePair(id=age.id,
                                                                                                       value=years)],
            groups=[ContactGroupSchema(id=vip.data.id)]))
        assert isinstance(created, ContactCreate201Response)
        assert created.data.phone == phone and created.data.fields == [{str(name_id): first}, {str(age.id): years}]
        assert [g.id for g in created.data.groups] == [vip.data.id]
        made.append(created.data)
    with pytest.raises(UnprocessableEntityException) as refused:
        book.contacts.contact_create(StoreContact(phone=380971234501))
    assert "Phone number is already exist in contact book" in refused.value.body
    got = book.contacts.contact(made[0].id)
    assert isinstance(got, Contact200Response) and got.data.groups[0].items == 3 and got.data.hlr_status == "unknown"
    changed = book.contacts.contact_update(made[2].id, ContactUpdateRequest(
        phone=447700900124, fields=[ContactFieldValuePair(id=name_id, value="Cyril")]))
    assert isinstance(changed, ContactUpdate200Response) and changed.data.phone == 447700900124
    assert changed.data.fields == [{str(name_id): "Cyril"}, {str(age.id): "7"}]

    # attach in bulk, list by list
    assert book.lists.contact_list_attach(ContactListAttachRequest(
        contacts=[c.id for c in made[:2]], groups=[leads.id])) == {}
    in_leads = book.contacts.contacts(groups=[leads.id], page_limit=15)
    assert isinstance(in_leads, Contacts200Response) and in_leads.total == 2
    assert [c.phone for c in in_leads.data] == [380971234501, 380971234502]
    assert book.contacts.contacts(page_limit=15).total == 3
    one = book.lists.contact_list(leads.id)
    assert isinstance(one, ContactList200Response) and one.data.items == 2

    # search
    found = book.contacts.contacts_search(search_field=str(age.id), search_operator=SearchOperator.GREATER_THAN,
                                          search_value="30", sort="phone", way=SortWay.DESC)
    assert isinstance(found, ContactsSearch200Response)
    assert [c.phone for c in found.data] == [380971234502, 380971234501] and found.meta.page.total == 2
    assert found.meta.search.var_field == str(age.id) and found.meta.search.operator == SearchOperator.GREATER_THAN
    found = book.contacts.contacts_search(search_field="phone", search_operator=SearchOperator.LIKE,
                                          search_value="7700900", page_limit=15)
    assert [c.phone for c in found.data] == [447700900124]
    listed = book.lists.contact_list_search(search_field=ContactGroupSearchField.ITEMS,
                                            search_operator=SearchOperator.GREATER_THAN_EQUAL, search_value="2",
                                            sort="items", way=SortWay.DESC)
    assert isinstance(listed, ContactListSearch200Response)
    assert [(g.name, g.items, g.is_default) for g in listed.data] == [("VIP", 3, False), ("Leads 2025", 2, False)]
    with pytest.raises(UnprocessableEntityException):
        book.contacts.contacts_search(search_field="phone", search_operator=SearchOperator.GREATER_THAN,
                                      search_value="1")

    # the stop list
    added = book.stoplist.stoplist_add(StoplistAddRequest(phones=[380971234501, 380971239999], types=["sms", "viber"]))
    assert isinstance(added, StoplistAdd200Response)
    assert [(e.phone, e.sms_stoplist, e.viber_stoplist, e.rcs_stoplist) for e in added.data] == [
        (380971234501, True, True, False), (380971239999, True, True, False)]
    assert added.data[0].id == made[0].id
    book.stoplist.stoplist_add(StoplistAddRequest(phones=[380971234502], types=["rcs"]))
    items = book.stoplist.stoplist_items(type="sms", page_limit=15)
    assert isinstance(items, StoplistItems200Response) and items.total == 2
    assert book.stoplist.stoplist_items().total == 3
    searched = book.stoplist.stoplist_search(contact_group_id=vip.data.id, search_field=StoplistSearchField.TYPE,
                                             search_operator=SearchOperator.EQUAL, search_value="rcs")
    assert isinstance(searched, StoplistSearch200Response)
    assert [e.phone for e in searched.data] == [380971234502] and searched.meta.page.total == 1
    assert book.lists.contact_list(vip.data.id).data.stop_list_count == 2
    assert book.stoplist.stoplist_remove(StoplistRemoveRequest(ids=[made[0].id], types=["sms", "viber"])) == {}
    assert book.stoplist.stoplist_items(type="sms", page_limit=15).total == 1
    assert book.lists.contact_list(vip.data.id).data.stop_list_count == 1

    # deletions: detach, a field, a list (contacts stay), contacts in bulk and one by one
    book.lists.contact_list_detach(ContactListDetachRequest(contacts=[made[0].id], groups=[leads.id]))
    assert book.lists.contact_list(leads.id).data.items == 1
    book.fields.post_contacts_fields_delete(PostContactsFieldsDeleteRequest(ids=[age.id]))
    assert book.contacts.contact(made[1].id).data.fields == [{str(name_id): "Bob"}]
    book.lists.contact_list_delete(leads.id)
    with pytest.raises(NotFoundException):
        book.lists.contact_list(leads.id)
    book.contacts.contacts_delete(contact_ids=[made[1].id])
    book.contacts.contact_delete(made[2].id)
    with pytest.raises(NotFoundException):
        book.contacts.contact(made[2].id)
    left = book.contacts.contacts(page_limit=15)
    assert sorted(c.phone for c in left.data) == [380971234501, 380971239999] and left.total == 2

    # another account sees none of it
    other = Book(live_server.base_url, live_server.create_account(balance="1"))
    with pytest.raises(NotFoundException):
        other.contacts.contact(made[0].id)
    with pytest.raises(NotFoundException):
        other.lists.contact_list(vip.data.id)
    assert other.contacts.contacts().total == 0 and other.stoplist.stoplist_items().total == 0
