"""The contact book's real answers (contacts, custom fields, lists, stop list) fit the OpenAPI document.

Each of the 23 operations under /api/contacts, /api/groups and /api/stoplist is driven through the
ASGI app to its success (200, 201, or 204 without a body) and to error envelopes (401, 404, 422,
429), and every body is validated with JSON Schema against what the document declares for that
operation and status (tests/integration/test_openapi_answers.py does the same for the others).
"""

from __future__ import annotations

from tests.factories import make_account
from tests.integration.test_openapi_answers import Checker
from tests.integration.test_openapi_params import cases

FAMILIES = ("/api/contacts", "/api/groups", "/api/stoplist")


class BookChecker(Checker):
    def __call__(self, method: str, template: str, response) -> dict | None:
        if response.status_code != 204:
            return super().__call__(method, template, response)
        operation = self.document["paths"][template][method.lower()]
        assert "204" in operation["responses"], f"{method} {template} answered 204, not in the document"
        assert "content" not in operation["responses"]["204"] and response.content == b""
        self.seen.add((method.upper(), template, 204))
        return None


async def test_every_contact_book_operation_answers_as_documented(app, client, headers):
    document = app.openapi()
    check = BookChecker(document)
    bad = {"X-API-KEY": "live_" + "x" * 24}
    _, other_key = await make_account(app.state.platform, name="other")
    other = {"X-API-KEY": other_key}

    async def call(method: str, template: str, url: str, *, json=None, auth=headers):
        return check(method, template, await client.request(method, url, json=json, headers=auth))

    # custom fields
    name = (await call("POST", "/api/contacts/fields", "/api/contacts/fields",
                       json={"name": "name", "type": "text", "description": "first name"}))["data"]
    age_body = {"name": "age", "type": "number", "is_visible": False}
    age = (await call("POST", "/api/contacts/fields", "/api/contacts/fields", json=age_body))["data"]
    await call("POST", "/api/contacts/fields", "/api/contacts/fields", json=age_body)  # 429: the same body again
    await call("POST", "/api/contacts/fields", "/api/contacts/fields", json={"name": "x{y}", "type": "colour"})  # 422
    await call("GET", "/api/contacts/fields", "/api/contacts/fields")
    await call("GET", "/api/contacts/fields", "/api/contacts/fields", auth=bad)  # 401
    await call("PATCH", "/api/contacts/fields/{field_id}", f"/api/contacts/fields/{name['id']}",
               json={"description": None, "is_visible": False})
    await call("PATCH", "/api/contacts/fields/{field_id}", f"/api/contacts/fields/{name['id']}",
               json={"is_visible": "yes"})  # 422
    await call("PATCH", "/api/contacts/fields/{field_id}", f"/api/contacts/fields/{name['id']}", json={},
               auth=other)  # 404

    # lists
    vip = (await call("POST", "/api/groups", "/api/groups", json={"name": "VIP", "description": "best"}))["data"]
    spare = (await call("POST", "/api/groups", "/api/groups", json={"name": "Spare", "default": False}))["data"]
    await call("POST", "/api/groups", "/api/groups", json={"name": "x"})  # 422: too short
    await call("GET", "/api/groups", "/api/groups?page[limit]=15")
    await call("GET", "/api/groups", "/api/groups?page[limit]=14")  # 422
    await call("GET", "/api/groups/{list_id}", f"/api/groups/{vip['id']}")
    await call("GET", "/api/groups/{list_id}", f"/api/groups/{vip['id']}", auth=other)  # 404
    await call("PUT", "/api/groups/{list_id}", f"/api/groups/{spare['id']}", json={"name": "Spare 2"})
    await call("PUT", "/api/groups/{list_id}", f"/api/groups/{spare['id']}", json={"name": ""})  # 422

    # contacts
    first = (await call("POST", "/api/contacts", "/api/contacts", json={
        "phone": 380971234501, "fields": [{"id": name["id"], "value": "Ann"}, {"id": age["id"], "value": 31}],
        "groups": [vip["id"]]}))["data"]
    second_body = {"phone": "380971234502", "groups": [{"id": vip["id"]}]}
    second = (await call("POST", "/api/contacts", "/api/contacts", json=second_body))["data"]
    await call("POST", "/api/contacts", "/api/contacts", json=second_body)  # 429: the same body again
    await call("POST", "/api/contacts", "/api/contacts", json={"phone": 380971234502})  # 422: taken
    await call("GET", "/api/contacts", "/api/contacts")
    await call("GET", "/api/contacts", f"/api/contacts?groups[]={vip['id']}&page[limit]=15&page[offset]=1")
    await call("GET", "/api/contacts", "/api/contacts?groups[]=0")  # 422
    await call("GET", "/api/contacts/search", "/api/contacts/search")
    await call("GET", "/api/contacts/search",
               f"/api/contacts/search?search[field]={age['id']}&search[operator]=>=&search[value]=30"
               "&search_fields[0][field]=phone&search_fields[0][value]=38097&sort=phone&way=desc")
    await call("GET", "/api/contacts/search", "/api/contacts/search?search[field]=colour&search[value]=x")  # 422
    await call("GET", "/api/contacts/{contact_id}", f"/api/contacts/{first['id']}")
    await call("GET", "/api/contacts/{contact_id}", f"/api/contacts/{first['id']}", auth=other)  # 404
    await call("PUT", "/api/contacts/{contact_id}", f"/api/contacts/{second['id']}",
               json={"phone": 380971234503, "fields": [{"id": name["id"], "value": None}], "groups": []})
    await call("PUT", "/api/contacts/{contact_id}", f"/api/contacts/{second['id']}", json={"phone": 1})  # 422
    await call("POST", "/api/groups/attach", "/api/groups/attach",
               json={"contacts": [second["id"]], "groups": [spare["id"]]})
    await call("POST", "/api/groups/attach", "/api/groups/attach", json={"contacts": [], "groups": []})  # 422
    await call("POST", "/api/groups/detach", "/api/groups/detach",
               json={"contacts": [second["id"]], "groups": [spare["id"]]})
    await call("GET", "/api/groups/search", "/api/groups/search")
    await call("GET", "/api/groups/search",
               "/api/groups/search?search[field]=name&search[value]=VI&sort=items&way=desc")
    await call("GET", "/api/groups/search", "/api/groups/search?search[field]=colour")  # 422

    # the stop list
    await call("POST", "/api/stoplist/attach", "/api/stoplist/attach",
               json={"phones": [380971234501, "447700900123"], "types": ["sms", "whatsapp"]})
    await call("POST", "/api/stoplist/attach", "/api/stoplist/attach", json={"phones": [1], "types": ["fax"]})  # 422
    await call("GET", "/api/stoplist", "/api/stoplist")
    await call("GET", "/api/stoplist", "/api/stoplist?type=whatsapp&page[limit]=15")
    await call("GET", "/api/stoplist", "/api/stoplist?type=fax")  # 422
    await call("GET", "/api/stoplist/search", "/api/stoplist/search")
    await call("GET", "/api/stoplist/search",
               f"/api/stoplist/search?contact_group_id={vip['id']}&search[field]=type&search[value]=sms&sort=phone")
    await call("GET", "/api/stoplist/search", "/api/stoplist/search?contact_group_id=0")  # 422
    await call("POST", "/api/stoplist/detach", "/api/stoplist/detach", json={"ids": [first["id"]], "types": ["sms"]})
    await call("POST", "/api/stoplist/detach", "/api/stoplist/detach", json={"ids": [first["id"]], "types": []})  # 422

    # deletes: 204 without a body
    await call("DELETE", "/api/contacts/{contact_id}", f"/api/contacts/{second['id']}", auth=other)  # 404
    await call("DELETE", "/api/contacts/{contact_id}", f"/api/contacts/{second['id']}")
    await call("POST", "/api/contacts/delete", "/api/contacts/delete")  # 422: neither ids nor lists
    await call("POST", "/api/contacts/delete", f"/api/contacts/delete?contact_ids[]={first['id']}")
    await call("POST", "/api/contacts/fields/delete", "/api/contacts/fields/delete", json={"ids": [age["id"]]})
    await call("POST", "/api/contacts/fields/delete", "/api/contacts/fields/delete", json={"ids": []})  # 422
    await call("DELETE", "/api/groups/{list_id}", f"/api/groups/{spare['id']}")
    await call("DELETE", "/api/groups/{list_id}", f"/api/groups/{spare['id']}")  # 404: gone

    operations = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops if p.startswith(FAMILIES)}
    assert len(operations) == 23
    succeeded = {(m, p) for m, p, status in check.seen if status in (200, 201, 204)}
    assert operations - succeeded == set()
    assert {200, 201, 204, 401, 404, 422, 429} <= {status for _, _, status in check.seen}


async def test_contact_book_list_parameters_match_the_document(app, client, headers):
    """Each documented bound and enum of the contact-book lists is the one the list enforces
    (the search criteria are checked together, above and in test_contacts_api.py)."""
    document = app.openapi()
    checked = 0
    lists = ["/api/contacts", "/api/contacts/search", "/api/groups", "/api/groups/search", "/api/stoplist",
             "/api/stoplist/search"]
    for path in lists:
        parameters = document["paths"][path]["get"]["parameters"]
        for parameter in parameters:
            name = parameter["name"]
            assert parameter["in"] == "query" and parameter["required"] is False
            if name.startswith("search"):
                continue
            for value, accepted in cases(parameter["schema"]):
                r = await client.get(path, params={name: value}, headers=headers)
                if accepted and name == "contact_group_id" and r.status_code == 422:  # in range, no such list
                    assert "does not exist" in r.json()["errors"][name][0], r.text
                else:
                    assert r.status_code == (200 if accepted else 422), (path, name, value, r.text)
                if not accepted:
                    assert name.replace("[", ".").rstrip("]") in r.json()["errors"], (path, name, r.text)
                checked += 1
        defaults = {p["name"]: p["schema"].get("default") for p in parameters}
        page = (await client.get(path, headers=headers)).json()
        if "meta" in page:
            assert page["meta"]["page"]["limit"] == defaults["page[limit]"] == 50
            assert page["meta"]["page"]["offset"] == defaults["page[offset]"] == 0
    assert checked > 40
    ids = {p["name"]: p["schema"] for p in document["paths"]["/api/contacts"]["get"]["parameters"]}["groups[]"]
    r = await client.get("/api/contacts", params=[("groups[]", "1")] * (ids["maxItems"] + 1), headers=headers)
    assert r.status_code == 422 and "groups" in r.json()["errors"]
