"""The OpenAPI document is complete: every operation has its contract (api/openapi.py)."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from relaybox.api import openapi
from relaybox.api.app import create_app
from relaybox.config import Settings
from tests.factories import TEST_JWT_SECRET

#: POST/PUT operations that take no body (every other POST/PUT must document one).
WITHOUT_BODY = {"POST /api/auth/refresh", "POST /api/contacts/delete"}  # the latter: ids in the query
#: Operations that take a JSON body (at least these).
WITH_BODY = {
    "POST /api/auth/login", "POST /api/campaigns/sms/send", "POST /api/campaigns/sms/send-individual",
    "POST /api/campaigns/price", "POST /api/messages/send", "POST /api/campaigns/rcs/send",
    "POST /api/messages/rcs/send", "POST /rest/sms/create", "PUT /rest/sms/create", "POST /rest/sms/price",
    "PUT /rest/sms/price", "PATCH /api/contacts/fields/{field_id}",
}
#: Operations whose success is not 200: creates answer 201, deletes 204 without a body.
SUCCESS = {
    "POST /api/contacts": "201", "POST /api/contacts/fields": "201", "POST /api/groups": "201",
    "POST /api/contacts/fields/delete": "204", "POST /api/contacts/delete": "204",
    "DELETE /api/contacts/{contact_id}": "204", "DELETE /api/groups/{list_id}": "204",
}

#: Stat job routes: an unknown or another account's key is BSG's error 90 in a 200 body, not a 404.
JOB_KEY_ROUTES = {"GET /api/stat/jobs/{key}", "DELETE /api/stat/jobs/{key}", "GET /api/x-relaybox/stat/jobs/{key}/csv"}
#: Routes that take an id in the query, answered 404 when it is not the account's.
BY_QUERY_ID = {"GET /api/x-relaybox/timeseries"}
#: Downloads whose 200 is a file (errors stay JSON) and its media types.
CSV_DOWNLOADS = {"GET /api/x-relaybox/stat/jobs/{key}/csv"}
CSV = {"text/csv", "application/gzip"}


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> FastAPI:
    db = tmp_path_factory.mktemp("doc") / "relaybox.db"
    return create_app(Settings(database_url=f"sqlite:///{db}", jwt_secret=TEST_JWT_SECRET))


@pytest.fixture(scope="module")
def document(app) -> dict:
    return app.openapi()


def operations(document: dict):
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            yield f"{method.upper()} {path}", operation


def test_every_route_is_documented(app):
    assert openapi.undocumented(app) == []


def test_a_route_without_a_contract_is_found():
    app = FastAPI()

    class Ok(BaseModel):
        ok: bool

    @app.get("/documented")
    @openapi.documented(security=openapi.NO_AUTH, ok=Ok)
    async def documented():
        return {"ok": True}

    @app.get("/forgotten")
    async def forgotten():
        return {}

    openapi.install(app)
    assert openapi.undocumented(app) == ["GET /forgotten"]
    assert app.openapi()["paths"]["/documented"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] \
        == {"$ref": "#/components/schemas/Ok"}


def test_both_families_and_health_are_in_the_document(document):
    names = {name for name, _ in operations(document)}
    assert {"GET /healthz", "POST /api/auth/login", "POST /api/messages/send", "GET /api/messages",
            "POST /rest/sms/create", "GET /rest/sms/{sms_id}", "GET /rest/common/balance"} <= names
    assert not any("/v1.0/" in n for n in names)  # the legacy alias takes the same requests: left out


def test_security_schemes_apply_per_operation(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {**schemes["ApiKeyAuth"], "type": "apiKey", "in": "header", "name": "X-API-KEY"}
    assert schemes["ExternalAuth"]["scheme"] == "bearer" and schemes["ExternalAuth"]["bearerFormat"] == "JWT"
    assert "security" not in document  # no global default: each operation says
    for name, operation in operations(document):
        if name in ("POST /api/auth/login", "GET /healthz"):
            assert operation["security"] == [], name
        elif " /rest/" in name:
            assert operation["security"] == [{"ApiKeyAuth": []}], name
        else:
            assert operation["security"] == [{"ExternalAuth": []}, {"ApiKeyAuth": []}], name


def test_bodies_and_answers(document):
    for name, operation in operations(document):
        takes_body = name in WITH_BODY or (name.split()[0] in ("POST", "PUT") and name not in WITHOUT_BODY)
        assert ("requestBody" in operation) == takes_body, name
        if takes_body:
            assert operation["requestBody"]["required"] is True
        for status, response in operation["responses"].items():
            if status == "204":
                assert "content" not in response, name
                continue
            assert response["content"]["application/json"]["schema"]["$ref"], (name, status)
            others = set(response["content"]) - {"application/json"}
            assert others <= (CSV if name in CSV_DOWNLOADS and status == "200" else set()), (name, status)
        expected = {SUCCESS.get(name, "200")} | ({"429"} if name != "GET /healthz" else {"503"})
        if name.split()[1].startswith("/api/"):
            expected |= {"401", "403", "422"}
        if ("{" in name and name.split()[1].startswith("/api/") and name not in JOB_KEY_ROUTES) or name in BY_QUERY_ID:
            expected |= {"404"}  # an id of another account is 404 (responses.ERRORS_BY_ID)
        assert set(operation["responses"]) == expected, name


def test_error_envelopes(document):
    schemas = document["components"]["schemas"]
    assert schemas["ValidationErrors"]["required"] == ["message", "errors"]
    assert schemas["ValidationErrors"]["properties"]["errors"]["additionalProperties"]["type"] == "array"
    assert schemas["Unauthenticated"]["properties"]["message"]["const"] == "Unauthenticated."
    assert schemas["NotFound"]["properties"]["message"]["const"] == "Not found"
    assert set(schemas["TooManyRequests"]["properties"]["message"]["enum"]) == {
        "Too Many Attempts.", "Too many duplicate request detected"}
    assert schemas["ErrorBody"]["required"] == ["error", "errorDescription"]


def param(document, path: str, name: str) -> dict:
    (found,) = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name]
    assert found["in"] == "query"
    return found["schema"]


def test_bracketed_query_parameters(document):
    assert param(document, "/api/campaigns", "page[limit]") == {"type": "integer", "minimum": 30, "maximum": 500,
                                                                "default": 50}
    assert param(document, "/api/messages", "page[limit]") == {"type": "integer", "minimum": 15, "maximum": 500,
                                                               "default": 50}
    assert param(document, "/api/campaigns", "page[offset]")["minimum"] == 0
    assert param(document, "/api/campaigns", "search[field]")["anyOf"][0]["enum"] == ["sender", "taskname"]
    assert param(document, "/api/campaigns", "sort")["enum"] == ["id", "sender", "type", "date", "status"]
    assert param(document, "/api/messages", "way") == {"type": "string", "enum": ["asc", "desc"], "default": "asc"}
    for name in ("filter[id]", "filter[campaign_id]", "filter[reference_id]", "filter[from]", "filter[to]"):
        param(document, "/api/messages", name)
    for name in ("filter[type]", "filter[from]", "filter[to]", "search[value]"):
        param(document, "/api/campaigns", name)


def test_every_reference_resolves(document):
    text = str(document)
    refs = set(re.findall(r"#/components/schemas/([A-Za-z0-9_.\-]+)", text))
    assert refs and refs <= set(document["components"]["schemas"])


def test_request_rules_are_in_the_schema(document):
    schemas = document["components"]["schemas"]
    sms = schemas["SmsSendRequest"]
    assert sms["required"] == ["phones", "sender", "text"]
    assert sms["properties"]["validity"]["minimum"] == 1 and sms["properties"]["validity"]["maximum"] == 72
    assert sms["properties"]["phones"]["maxItems"] == 10000
    assert schemas["LoginRequest"]["required"] == ["api_key"]
    legacy = schemas["SmsRequest"]
    assert set(legacy["discriminator"]["mapping"]) == {"phone", "phones", "individual"}


def test_report_and_inbound_routes(document):
    """The extensions' bracketed parameters, and the CSV download's media types."""
    assert param(document, "/api/x-relaybox/inbound", "page[limit]") == {"type": "integer", "minimum": 15,
                                                                        "maximum": 500, "default": 50}
    assert param(document, "/api/x-relaybox/inbound", "sort")["enum"] == ["id", "date"]
    assert param(document, "/api/x-relaybox/inbound", "filter[keyword]")["anyOf"][0]["maxLength"] == 64
    assert param(document, "/api/x-relaybox/timeseries", "interval") == {
        "type": "string", "enum": ["minute", "hour", "day"], "default": "hour"}
    job = document["paths"]["/api/stat/jobs/{key}"]["get"]
    (limit,) = [p for p in job["parameters"] if p["name"] == "page[limit]"]
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}
    csv = document["paths"]["/api/x-relaybox/stat/jobs/{key}/csv"]["get"]["responses"]["200"]["content"]
    assert set(csv) == {"application/json", *CSV}
    schemas = document["components"]["schemas"]
    assert set(schemas["SmsSendGroupsRequest"]["required"]) == {"groups", "sender", "text"}
    assert set(schemas["RcsGroupsRequest"]["required"]) == {"groups", "sender", "options"}
