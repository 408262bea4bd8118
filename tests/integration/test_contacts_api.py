"""The contact book through the One API (ASGI, both backends): contacts, custom fields, lists, the
stop list, search, and their rules and refusals — a refused request writes nothing, another
account's ids are never found, every bad value is a 422 naming its field."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from relaybox.store.tables import contact_field_values, contact_fields, contact_group_members, contact_groups, contacts
from tests.factories import make_account

INVALID = "The given data was invalid."


async def post(client, headers, path, body, status=200):
    r = await client.post(path, json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def get(client, headers, path, status=200):
    r = await client.get(path, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def counts(platform, account_id: int) -> tuple[int, ...]:
    """(contacts, fields, lists, memberships, values) of an account: what a refused request must not change."""
    async with platform.db.read() as conn:
        def n(table, where):
            return select(func.count()).select_from(table).where(where)
        mine_contacts = select(contacts.c.id).where(contacts.c.account_id == account_id)
        return tuple([
            (await conn.execute(n(contacts, contacts.c.account_id == account_id))).scalar_one(),
            (await conn.execute(n(contact_fields, contact_fields.c.account_id == account_id))).scalar_one(),
            (await conn.execute(n(contact_groups, contact_groups.c.account_id == account_id))).scalar_one(),
            (await conn.execute(n(contact_group_members, contact_group_members.c.contact_id.in_(mine_contacts)))).scalar_one(),
            (await conn.execute(n(contact_field_values, contact_field_values.c.contact_id.in_(mine_contacts)))).scalar_one(),
        ])


async def refused(client, headers, platform, account_id, method, path, body=None, *, fields=None, status=422,
                  message=INVALID):
    before = await counts(platform, account_id)
    r = await client.request(method, path, json=body, headers=headers)
    assert r.status_code == status, r.text
    payload = r.json()
    if status == 422:
        assert payload["message"] == message, payload
        if fields is not None:
            assert set(payload["errors"]) == set(fields), payload
    else:
        assert payload == {"message": "Not found"}
    assert await counts(platform, account_id) == before
    return payload


@pytest.fixture
async def book(client, headers):
    """Two fields (text `name`, number `age`, date `birthday`), a list, three contacts."""
    name = (await post(client, headers, "/api/contacts/fields", {"name": "name", "type": "text"}, 201))["data"]
    age = (await post(client, headers, "/api/contacts/fields", {"name": "age", "type": "number",
                                                                 "description": "years"}, 201))["data"]
    born = (await post(client, headers, "/api/contacts/fields", {"name": "birthday", "type": "date",
                                                                  "is_visible": False}, 201))["data"]
    vip = (await post(client, headers, "/api/groups", {"name": "VIP", "description": "best customers"}, 201))["data"]
    people = []
    for phone, who, years, day in ((380971234501, "Ann", "31", "1994-05-01"), (380971234502, "Bob", "45", "1980-01-02"),
                                   (447700900123, "Cy", "7", "2018-12-24 10:00:00")):
        body = {"phone": phone, "fields": [{"id": name["id"], "value": who}, {"id": age["id"], "value": years},
                                           {"id": born["id"], "value": day}], "groups": [vip["id"]]}
        people.append((await post(client, headers, "/api/contacts", body, 201))["data"])
    return {"name": name, "age": age, "birthday": born, "vip": vip, "people": people}


async def test_contacts_fields_and_lists_round_trip(client, headers, book):
    name, age, vip = book["name"], book["age"], book["vip"]
    assert name == {"id": name["id"], "name": "name", "type": "text", "description": None, "is_visible": True}
    assert book["birthday"]["is_visible"] is False and age["description"] == "years"
    ann = book["people"][0]
    assert ann["phone"] == 380971234501 and ann["hlr_status"] == "unknown" and ann["hlr_last_check"] is None
    assert ann["fields"] == [{str(name["id"]): "Ann"}, {str(age["id"]): "31"}, {str(book["birthday"]["id"]): "1994-05-01"}]
    assert [g["id"] for g in ann["groups"]] == [vip["id"]] and ann["groups"][0]["default"] is False
    cy = book["people"][2]
    assert cy["fields"][2] == {str(book["birthday"]["id"]): "2018-12-24 10:00:00"}

    # the default list exists from the first request on, and the counts are exact
    lists = await get(client, headers, "/api/groups")
    assert lists["total"] == 2 and [g["name"] for g in lists["data"]] == ["Default list", "VIP"]
    assert lists["data"][0]["default"] is True and lists["data"][1]["items"] == 3
    assert lists["data"][1]["stop_list_count"] == 0

    # an E.164 phone as a string, with a trunk prefix after the country code: stored normalised
    made = await post(client, headers, "/api/contacts", {"phone": "+33 0612345678".replace(" ", "")}, 201)
    assert made["data"]["phone"] == 33612345678 and made["data"]["groups"] == [] and made["data"]["fields"] == []
    page = await get(client, headers, "/api/contacts?page[limit]=15")
    assert page["total"] == 4 and [c["phone"] for c in page["data"]][-1] == 33612345678
    in_vip = await get(client, headers, f"/api/contacts?groups[]={vip['id']}&page[limit]=15&page[offset]=1")
    assert in_vip["total"] == 3 and [c["id"] for c in in_vip["data"]] == [book["people"][1]["id"], book["people"][2]["id"]]

    # update: a new phone, one value changed, one removed, another list added
    other = (await post(client, headers, "/api/groups", {"name": "Others", "default": True}, 201))["data"]
    changed = await client.put(f"/api/contacts/{ann['id']}", headers=headers, json={
        "phone": 380971234599, "fields": [{"id": name["id"], "value": "Anna"}, {"id": age["id"], "value": ""}],
        "groups": [other["id"]]})
    assert changed.status_code == 200, changed.text
    data = changed.json()["data"]
    assert data["phone"] == 380971234599
    assert data["fields"] == [{str(name["id"]): "Anna"}, {str(book["birthday"]["id"]): "1994-05-01"}]
    assert [g["id"] for g in data["groups"]] == [vip["id"], other["id"]]
    # the default moved to the new list
    assert [g["default"] for g in (await get(client, headers, "/api/groups"))["data"]] == [False, False, True]

    # fields: rename, hide; delete takes every contact's value with it
    renamed = await client.patch(f"/api/contacts/fields/{name['id']}", headers=headers,
                                 json={"name": "first_name", "is_visible": False})
    assert renamed.status_code == 200 and renamed.json()["data"]["name"] == "first_name"
    assert renamed.json()["data"]["type"] == "text" and renamed.json()["data"]["is_visible"] is False
    r = await client.post("/api/contacts/fields/delete", headers=headers, json={"ids": [age["id"]]})
    assert r.status_code == 204 and r.content == b""
    fields = (await get(client, headers, "/api/contacts/fields"))["data"]
    assert [f["name"] for f in fields] == ["first_name", "birthday"]
    bob = (await get(client, headers, f"/api/contacts/{book['people'][1]['id']}"))["data"]
    assert bob["fields"] == [{str(name["id"]): "Bob"}, {str(book["birthday"]["id"]): "1980-01-02"}]

    # detach, delete a list (its contacts stay), delete contacts
    await post(client, headers, "/api/groups/detach", {"contacts": [bob["id"]], "groups": [vip["id"]]})
    assert (await get(client, headers, f"/api/groups/{vip['id']}"))["data"]["items"] == 2
    r = await client.delete(f"/api/groups/{vip['id']}", headers=headers)
    assert r.status_code == 204
    assert (await get(client, headers, "/api/contacts"))["total"] == 4
    r = await client.delete(f"/api/contacts/{bob['id']}", headers=headers)
    assert r.status_code == 204
    await get(client, headers, f"/api/contacts/{bob['id']}", 404)
    r = await client.post(f"/api/contacts/delete?group_ids[]={other['id']}", headers=headers)
    assert r.status_code == 204
    assert [c["phone"] for c in (await get(client, headers, "/api/contacts"))["data"]] == [447700900123, 33612345678]


async def test_default_list_rules(client, headers):
    # the first requests race to create the default list: one wins, the others find it
    answers = await asyncio.gather(*[client.get("/api/groups", headers=headers) for _ in range(6)],
                                   client.post("/api/groups", headers=headers, json={"name": "Raced"}))
    assert [r.status_code for r in answers] == [200] * 6 + [201]
    assert all(r.json()["data"][0]["name"] == "Default list" for r in answers[:6])
    r = await client.delete(f"/api/groups/{answers[-1].json()['data']['id']}", headers=headers)
    assert r.status_code == 204
    default = (await get(client, headers, "/api/groups"))["data"][0]
    assert default["default"] is True and default["name"] == "Default list"
    r = await client.delete(f"/api/groups/{default['id']}", headers=headers)
    assert r.status_code == 422 and set(r.json()["errors"]) == {"id"}
    r = await client.put(f"/api/groups/{default['id']}", headers=headers, json={"name": "Mine", "default": False})
    assert r.status_code == 422 and set(r.json()["errors"]) == {"default"}
    r = await client.put(f"/api/groups/{default['id']}", headers=headers, json={"name": "Mine"})
    assert r.status_code == 200 and r.json()["data"]["name"] == "Mine" and r.json()["data"]["default"] is True
    # still one default list, whatever order requests come in
    await get(client, headers, "/api/groups")
    assert (await get(client, headers, "/api/groups"))["total"] == 1


async def test_other_accounts_ids_are_not_found(client, headers, account, app_platform, book):
    _, other_key = await make_account(app_platform, name="Other")
    them = {"X-API-KEY": other_key}
    their_list = (await post(client, them, "/api/groups", {"name": "Theirs"}, 201))["data"]
    their_field = (await post(client, them, "/api/contacts/fields", {"name": "secret", "type": "text"}, 201))["data"]
    theirs = (await post(client, them, "/api/contacts", {"phone": 380971230077, "fields": [
        {"id": their_field["id"], "value": "hidden"}], "groups": [their_list["id"]]}, 201))["data"]
    me = account[0]
    for method, path in (("GET", f"/api/contacts/{theirs['id']}"), ("DELETE", f"/api/contacts/{theirs['id']}"),
                         ("GET", f"/api/groups/{their_list['id']}"), ("DELETE", f"/api/groups/{their_list['id']}")):
        await refused(client, headers, app_platform, me, method, path, status=404)
    await refused(client, headers, app_platform, me, "PUT", f"/api/contacts/{theirs['id']}", {"phone": 380971230078},
                  status=404)
    await refused(client, headers, app_platform, me, "PUT", f"/api/groups/{their_list['id']}", {"name": "Mine now"},
                  status=404)
    await refused(client, headers, app_platform, me, "PATCH", f"/api/contacts/fields/{their_field['id']}",
                  {"name": "x"}, status=404)
    mine = book["people"][0]["id"]
    await refused(client, headers, app_platform, me, "POST", "/api/groups/attach",
                  {"contacts": [mine, theirs["id"]], "groups": [their_list["id"]]}, fields={"contacts.1", "groups.0"})
    await refused(client, headers, app_platform, me, "POST", "/api/contacts",
                  {"phone": 380971230079, "fields": [{"id": their_field["id"], "value": "x"}],
                   "groups": [their_list["id"]]}, fields={"fields.0.id", "groups.0"})
    await refused(client, headers, app_platform, me, "POST", f"/api/contacts/delete?contact_ids[]={theirs['id']}",
                  fields={"contact_ids.0"})
    await refused(client, headers, app_platform, me, "POST", "/api/contacts/fields/delete", {"ids": [their_field["id"]]},
                  fields={"ids.0"})
    await refused(client, headers, app_platform, me, "POST", "/api/stoplist/detach",
                  {"ids": [theirs["id"]], "types": ["sms"]}, fields={"ids.0"})
    r = await client.get(f"/api/contacts?groups[]={their_list['id']}", headers=headers)
    assert r.status_code == 422 and set(r.json()["errors"]) == {"groups.0"}
    # the same phone is a different contact in each account; nothing of theirs is listed
    await post(client, headers, "/api/contacts", {"phone": 380971230077}, 201)
    found = await get(client, headers, "/api/contacts/search?search[field]=phone&search[value]=380971230077")
    assert found["meta"]["page"]["total"] == 1 and found["data"][0]["fields"] == []
    assert all(g["name"] != "Theirs" for g in (await get(client, headers, "/api/groups"))["data"])
    assert (await get(client, them, f"/api/contacts/{theirs['id']}"))["data"]["fields"] == [
        {str(their_field["id"]): "hidden"}]


async def test_bad_input_is_refused_with_its_field(client, headers, account, app_platform, book):
    me = account[0]
    name, age, born = book["name"]["id"], book["age"]["id"], book["birthday"]["id"]
    bad_phones = [12, "38097abc4567", 38097123, 9999999999999999999, "", True, 1234567, -380971234567]
    for phone in bad_phones:
        await refused(client, headers, app_platform, me, "POST", "/api/contacts", {"phone": phone}, fields={"phone"})
    # duplicates: the spec's message, with the field
    payload = await refused(client, headers, app_platform, me, "POST", "/api/contacts", {"phone": "+380971234501"},
                            message="Phone number is already exist in contact book", fields={"phone"})
    assert payload["errors"]["phone"]
    await refused(client, headers, app_platform, me, "PUT", f"/api/contacts/{book['people'][1]['id']}",
                  {"phone": 380971234501}, message="Phone number is already exist in contact book", fields={"phone"})
    await refused(client, headers, app_platform, me, "POST", "/api/groups", {"name": "VIP"},
                  message="Contact group is already exists", fields={"name"})
    await refused(client, headers, app_platform, me, "POST", "/api/contacts/fields", {"name": "age", "type": "text"},
                  fields={"name"})
    # values of the wrong type, huge ones, NUL bytes, unknown fields, a field twice: nothing written
    await refused(client, headers, app_platform, me, "POST", "/api/contacts", {"phone": 380971234560, "fields": [
        {"id": age, "value": "forty"}, {"id": born, "value": "1994-13-45"}, {"id": name, "value": "x" * 256},
        {"id": 10**12, "value": "x"}, {"id": age, "value": "1"}, {"id": "1", "value": "x"}]},
        fields={"fields.0.value", "fields.1.value", "fields.2.value", "fields.3.id", "fields.4.id", "fields.5.id"})
    await refused(client, headers, app_platform, me, "POST", "/api/contacts",
                  {"phone": 380971234560, "fields": [{"id": name, "value": "a\u0000b"}]}, fields={"fields.0.value"})
    await refused(client, headers, app_platform, me, "POST", "/api/contacts", {"phone": 380971234560,
                  "groups": ["x", {"id": 0}, 2**70]}, fields={"groups.0", "groups.1", "groups.2"})
    await refused(client, headers, app_platform, me, "POST", "/api/contacts", {"phone": 380971234560,
                  "groups": list(range(1, 102))}, fields={"groups"})
    # lists and fields: names and types
    for body, paths in (({"name": "ab"}, {"name"}), ({"name": "x" * 51}, {"name"}), ({"name": "   "}, {"name"}),
                        ({"name": "Fine", "description": ""}, {"description"}), ({}, {"name"}),
                        ({"name": 123}, {"name"})):
        await refused(client, headers, app_platform, me, "POST", "/api/groups", body, fields=paths)
    for body, paths in (({"name": "x", "type": "colour"}, {"type"}), ({"name": "{x}", "type": "text"}, {"name"}),
                        ({"name": "y" * 31, "type": "text"}, {"name"}), ({"type": "text"}, {"name"})):
        await refused(client, headers, app_platform, me, "POST", "/api/contacts/fields", body, fields=paths)
    # bulk bodies: sizes and ids
    await refused(client, headers, app_platform, me, "POST", "/api/groups/attach", {"contacts": [], "groups": [1]},
                  fields={"contacts"})
    await refused(client, headers, app_platform, me, "POST", "/api/groups/attach",
                  {"contacts": list(range(1, 202)), "groups": [1]}, fields={"contacts"})
    await refused(client, headers, app_platform, me, "POST", "/api/groups/attach",
                  {"contacts": [2**64], "groups": [1]}, fields={"contacts.0"})
    await refused(client, headers, app_platform, me, "POST", "/api/stoplist/attach",
                  {"phones": [380971234501, 123, "abc"], "types": ["sms", "fax"]},
                  fields={"phones.1", "phones.2", "types.1"})
    await refused(client, headers, app_platform, me, "POST", "/api/stoplist/attach",
                  {"phones": [380971234501], "types": []}, fields={"types"})
    await refused(client, headers, app_platform, me, "POST", "/api/contacts/delete", fields={"contact_ids"})
    await refused(client, headers, app_platform, me, "POST", "/api/contacts/delete?contact_ids[]=abc",
                  fields={"contact_ids.0"})
    # not JSON, NUL in a key
    r = await client.post("/api/contacts", content=b"{nope", headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 422 and set(r.json()["errors"]) == {"body"}
    r = await client.post("/api/groups", content=b'{"name": "ok list", "a\\u0000": 1}',
                          headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 422
    # ids in the path that cannot be ids
    for path in ("/api/contacts/abc", "/api/contacts/0", "/api/contacts/99999999999999999999", "/api/groups/-1"):
        assert (await client.get(path, headers=headers)).status_code == 404


@pytest.mark.parametrize("query, fields", [
    ("search[field]=colour&search[value]=x", {"search.field"}),
    ("search[field]=phone&search[operator]=>&search[value]=1", {"search.operator"}),
    ("search[field]=id&search[operator]=like&search[value]=1", {"search.operator"}),
    ("search[field]=id&search[operator]=!=&search[value]=1", {"search.operator"}),
    ("search[field]=id&search[value]=abc", {"search.value"}),
    ("search[field]=created_at&search[operator]=>&search[value]=yesterday", {"search.value"}),
    ("search[field]=999999&search[value]=x", {"search.field"}),
    ("search[field]=id", {"search.value"}),
    ("search[value]=x", {"search.field"}),
    ("search_fields[3][field]=phone&search_fields[3][operator]=<&search_fields[3][value]=1", {"search_fields.3.operator"}),
    ("page[limit]=14", {"page.limit"}),
    ("page[limit]=501", {"page.limit"}),
    ("page[offset]=-1", {"page.offset"}),
    ("sort=name", {"sort"}),
    ("way=up", {"way"}),
])
async def test_bad_contact_search_is_refused(client, headers, query, fields):
    r = await client.get(f"/api/contacts/search?{query}", headers=headers)
    assert r.status_code == 422, r.text
    assert set(r.json()["errors"]) == fields


async def test_search(client, headers, book):
    people = book["people"]
    name, age, born = (str(book[k]["id"]) for k in ("name", "age", "birthday"))

    async def phones(path: str) -> list[int]:
        found = await get(client, headers, path)
        assert found["meta"]["page"]["total"] == len(found["data"])
        return [c["phone"] for c in found["data"]]

    base = "/api/contacts/search?"
    assert await phones(f"{base}search[field]=id&search[operator]=>&search[value]={people[0]['id']}") == [
        380971234502, 447700900123]
    assert await phones(f"{base}search[field]=phone&search[operator]=like&search[value]=7700") == [447700900123]
    assert await phones(f"{base}search[field]=phone&search[operator]==&search[value]=%2B380971234502") == [380971234502]
    assert await phones(f"{base}search[field]={name}&search[operator]=like&search[value]=b") == [380971234502]
    assert await phones(f"{base}search[field]={name}&search[operator]=like&search[value]=%25") == []
    assert await phones(f"{base}search[field]={age}&search[operator]=>=&search[value]=31&sort=phone&way=desc") == [
        380971234502, 380971234501]
    # numbers compare as numbers, not as text ("7" < "31")
    assert await phones(f"{base}search[field]={age}&search[operator]=<&search[value]=10") == [447700900123]
    assert await phones(f"{base}search[field]={born}&search[operator]=<=&search[value]=1994-05-01") == [
        380971234501, 380971234502]
    assert await phones(f"{base}search[field]=group_id&search[value]={book['vip']['id']}"
                        f"&search_fields[0][field]={age}&search_fields[0][operator]=>&search_fields[0][value]=40") == [
        380971234502]
    assert await phones(f"{base}search[field]=created_at&search[operator]=>=&search[value]=2000-01-01") == [
        380971234501, 380971234502, 447700900123]
    found = await get(client, headers, f"{base}search[field]={age}&search[value]=45")
    assert found["meta"]["search"] == {"field": age, "operator": "=", "value": "45"}
    assert found["meta"]["page"] == {"total": 1, "offset": 0, "limit": 50}

    # lists
    await post(client, headers, "/api/groups", {"name": "Empty one", "description": "nobody"}, 201)
    lists = await get(client, headers, "/api/groups/search?search[field]=items&search[operator]=>=&search[value]=1")
    assert [g["name"] for g in lists["data"]] == ["VIP"] and lists["data"][0]["is_default"] is False
    assert lists["data"][0]["items"] == 3 and "stop_list_count" not in lists["data"][0]
    lists = await get(client, headers, "/api/groups/search?search[field]=phone&search[value]=447700900123")
    assert [g["name"] for g in lists["data"]] == ["VIP"]
    lists = await get(client, headers, "/api/groups/search?search[field]=name&search[operator]=like&search[value]=e"
                                       "&sort=name&way=desc")
    assert [g["name"] for g in lists["data"]] == ["Empty one", "Default list"]
    lists = await get(client, headers, "/api/groups/search?sort=items&way=desc")
    assert [g["name"] for g in lists["data"]][0] == "VIP" and lists["meta"]["page"]["total"] == 3
    r = await client.get("/api/groups/search?search[field]=items&search[operator]=like&search[value]=1", headers=headers)
    assert r.status_code == 422 and set(r.json()["errors"]) == {"search.operator"}


async def test_stop_list(client, headers, book):
    vip = book["vip"]["id"]
    added = await post(client, headers, "/api/stoplist/attach",
                       {"phones": [380971234501, "+447700900123", 380971239876, 380971239876], "types": ["sms", "viber"]})
    entries = added["data"]
    assert [e["phone"] for e in entries] == [380971234501, 447700900123, 380971239876]
    assert all(e["sms_stoplist"] and e["viber_stoplist"] and not e["rcs_stoplist"] for e in entries)
    assert entries[0]["id"] == book["people"][0]["id"]  # the contact itself
    await post(client, headers, "/api/stoplist/attach", {"phones": [380971234502], "types": ["rcs"]})

    every = await get(client, headers, "/api/stoplist")
    assert every["total"] == 4 and len(every["data"]) == 4
    sms = await get(client, headers, "/api/stoplist?type=sms&page[limit]=15")
    assert sms["total"] == 3
    rcs = await get(client, headers, "/api/stoplist?type=rcs")
    assert [e["phone"] for e in rcs["data"]] == [380971234502]
    r = await client.get("/api/stoplist?type=fax", headers=headers)
    assert r.status_code == 422 and set(r.json()["errors"]) == {"type"}
    # lists count their stop-listed contacts; a stop-listed phone not in the book became a contact
    assert (await get(client, headers, f"/api/groups/{vip}"))["data"]["stop_list_count"] == 3
    assert (await get(client, headers, "/api/contacts"))["total"] == 4

    found = await get(client, headers, f"/api/stoplist/search?contact_group_id={vip}&search[field]=type"
                                       "&search[value]=viber&sort=phone&way=desc")
    assert [e["phone"] for e in found["data"]] == [447700900123, 380971234501]
    assert found["meta"]["search"] == {"field": "type", "operator": "=", "value": "viber"}
    found = await get(client, headers, "/api/stoplist/search?search[field]=phone&search[operator]=like&search[value]=9876")
    assert [e["phone"] for e in found["data"]] == [380971239876]
    r = await client.get("/api/stoplist/search?search[field]=type&search[value]=fax", headers=headers)
    assert r.status_code == 422 and set(r.json()["errors"]) == {"search.value"}
    r = await client.get("/api/stoplist/search?contact_group_id=999999", headers=headers)
    assert r.status_code == 422 and set(r.json()["errors"]) == {"contact_group_id"}

    # off one channel: still on the other; off both: off the stop list, still in the book
    ann = book["people"][0]["id"]
    await post(client, headers, "/api/stoplist/detach", {"ids": [ann], "types": ["sms"]})
    assert (await get(client, headers, "/api/stoplist?type=sms"))["total"] == 2
    await post(client, headers, "/api/stoplist/detach", {"ids": [ann], "types": ["viber", "sms"]})
    assert (await get(client, headers, "/api/stoplist"))["total"] == 3
    assert (await get(client, headers, f"/api/groups/{vip}"))["data"]["stop_list_count"] == 2
    assert (await get(client, headers, f"/api/contacts/{ann}"))["data"]["phone"] == 380971234501


async def test_add_to_contact_book_on_the_send_paths(client, headers, book):
    async def phones() -> set[int]:
        found = await get(client, headers, "/api/contacts?page[limit]=500")
        return {c["phone"] for c in found["data"]}

    before = await phones()
    # sms/send: off unless asked (not in the spec's request); asked, the new phones join the book, in no list
    r = await client.post("/api/campaigns/sms/send", headers=headers, json={
        "sender": "relaybox", "text": "no book", "phones": [{"number": 380971230101}]})
    assert r.status_code == 200, r.text
    assert await phones() == before
    r = await client.post("/api/campaigns/sms/send", headers=headers, json={
        "sender": "relaybox", "text": "to the book", "add_to_contact_book": True,
        "phones": [{"number": 380971230102}, {"number": 380971234501}, {"number": "+380 0971230103".replace(" ", "")}]})
    assert r.status_code == 200, r.text
    assert await phones() == before | {380971230102, 380971230103}
    ann = (await get(client, headers, f"/api/contacts/{book['people'][0]['id']}"))["data"]
    assert ann == book["people"][0] | {"groups": ann["groups"]}  # an existing contact is left as it was
    new = (await get(client, headers, "/api/contacts/search?search[field]=phone&search[value]=380971230102"))["data"]
    assert new[0]["groups"] == [] and new[0]["fields"] == []

    r = await client.post("/api/campaigns/sms/send-individual", headers=headers, json={
        "add_to_contact_book": True, "messages": [{"phone": 380971230104, "text": "hi", "sender": "relaybox"}]})
    assert r.status_code == 200, r.text
    # messages/send: on by default (the spec's default), off when false
    for phone, extra in ((380971230105, {}), (380971230106, {"add_to_contact_book": False})):
        r = await client.post("/api/messages/send", headers=headers, json={
            "channels": ["sms"], "phone": {"number": phone}, "sms": {"sender": "relaybox", "text": f"hi {phone}"},
            **extra})
        assert r.status_code == 200, r.text
    r = await client.post("/api/campaigns/rcs/send", headers=headers, json={
        "sender": "relaybox", "phones": [{"number": "380971230107"}], "options": {"text": "rcs hello"}})
    assert r.status_code == 200, r.text
    r = await client.post("/api/messages/rcs/send", headers=headers, json={
        "sender": "relaybox", "phone": {"number": "380971230108"}, "options": {"text": "rcs single"}})
    assert r.status_code == 200, r.text
    assert await phones() == before | {380971230102, 380971230103, 380971230104, 380971230105, 380971230107,
                                       380971230108}
    # a refused send adds nobody
    r = await client.post("/api/campaigns/sms/send", headers=headers, json={
        "sender": "relaybox", "text": "refused", "add_to_contact_book": True,
        "phones": [{"number": 380971230109}, {"number": 12}]})
    assert r.status_code == 422
    assert 380971230109 not in await phones()
