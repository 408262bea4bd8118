"""The OpenAPI document (`GET /openapi.json`): what every operation takes and answers, exactly.

Most routes read their requests by hand (fast parsing: `api/hot.py`, `oneapi/params.py`,
`legacy/schemas.py`), so FastAPI alone sees operations that take nothing.  Each route therefore
declares its contract with `@documented(...)`, placed *under* its `@router.<method>(...)`
decorator, and `openapi_document(app)` — installed as `app.openapi` by `create_app` — writes it
into the document FastAPI generates:

    @router.get("/api/things")
    @documented(
        security=ONE_API,                 # or LEGACY, or NO_AUTH (login, /healthz)
        query=ThingListQuery,             # a pydantic model: one field per query parameter, alias =
                                          # its wire name (`page[limit]`), with ge/le, Literal, default
        body=ThingCreateRequest,          # the request body model (the one `parse_model` uses, or a
                                          # schema-only model that a test proves equal to the parser)
        ok=ThingResponse,                 # the success body (None with status=204: no body)
        status=200,                       # the success status: 201 for a create, 204 for a delete
        errors=ONE_API_ERRORS,            # {status: model} for the error envelopes it can answer
        operation_id="things",            # BSG's operationId when BSG has the operation
    )
    async def list_things(request: Request, ...): ...

A route without `@documented` fails `tests/unit/test_openapi_document.py`, so a new route is
documented the same way or not at all.  Models are turned into JSON Schema by pydantic
(`models_json_schema`, requests in validation mode, responses in serialization mode) and put
under `components/schemas` by class name.  What JSON Schema cannot say (a phone number must be a
possible number for its country, a text's length counts GSM 7-bit septets or UCS-2 units) is in
the field's `description`; ranges, enums, lengths and patterns are in the schema itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

#: The security schemes of the document (components/securitySchemes).
SECURITY_SCHEMES = {
    "ApiKeyAuth": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-KEY",
        "description": "An API key (`live_…` or `test_…`). Both API families take it in this header.",
    },
    "ExternalAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "One API only: the token of `POST /api/auth/login` (the API key itself is accepted "
        "here too).",
    },
}
#: One API operations: a bearer JWT, or the API key in X-API-KEY.
ONE_API: list[dict] = [{"ExternalAuth": []}, {"ApiKeyAuth": []}]
#: Legacy REST operations: the API key in X-API-KEY.
LEGACY: list[dict] = [{"ApiKeyAuth": []}]
#: No credentials (login, health).
NO_AUTH: list[dict] = []

_ATTRIBUTE = "__relaybox_openapi__"

_DESCRIPTIONS = {
    200: "Success",
    201: "Created",
    204: "Done: no body",
    401: "No or unknown credentials",
    403: "The account is blocked",
    404: "Not found (also another account's id)",
    405: "Method not allowed",
    422: "Validation failed: each field path with what is wrong",
    429: "Rate limited (with Retry-After), or the same body repeated within 10 seconds",
    503: "Not ready",
}


@dataclass(frozen=True)
class Contract:
    """What one operation takes and answers; see the module's docstring."""

    security: list[dict]
    ok: type[BaseModel] | None
    errors: Mapping[int, type[BaseModel]] = field(default_factory=dict)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    operation_id: str | None = None
    summary: str | None = None
    #: extra statuses whose body is not an error envelope (e.g. /healthz's 503)
    other: Mapping[int, type[BaseModel]] = field(default_factory=dict)
    #: other media types the 200 may come as, beside `ok`'s JSON: {media type: JSON Schema} (a CSV download)
    ok_media: Mapping[str, dict] = field(default_factory=dict)
    #: the success status (`ok` is its body; 204 has none)
    status: int = 200


def documented(
    *,
    security: list[dict],
    ok: type[BaseModel] | None,
    errors: Mapping[int, type[BaseModel]] | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    operation_id: str | None = None,
    summary: str | None = None,
    other: Mapping[int, type[BaseModel]] | None = None,
    ok_media: Mapping[str, dict] | None = None,
    status: int = 200,
) -> Callable:
    """Attach an operation's contract to its endpoint function (the function is returned unchanged).

    Raises ValueError for a 204 with a body (`ok`).
    """
    if status == 204 and ok is not None:
        raise ValueError("a 204 answer has no body: ok=None")
    contract = Contract(security, ok, dict(errors or {}), body, query, operation_id, summary, dict(other or {}),
                        dict(ok_media or {}), status)

    def attach(endpoint: Callable) -> Callable:
        setattr(endpoint, _ATTRIBUTE, contract)
        return endpoint

    return attach


def contract_of(route: Any) -> Contract | None:
    """The contract `@documented` attached to a route's endpoint, or None."""
    return getattr(route.endpoint, _ATTRIBUTE, None)


def documented_routes(app: FastAPI) -> list[Any]:
    """The API routes that appear in the document (each with `path_format`, `methods`, `endpoint`).

    FastAPI 0.13x+ keeps included routers as they are and walks them with `iter_route_contexts`;
    older releases copy their routes into `app.routes`.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI
        contexts: Any = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    return [c for c in contexts
            if isinstance(getattr(c, "original_route", c), APIRoute) and c.include_in_schema]


def undocumented(app: FastAPI) -> list[str]:
    """`"METHOD path"` of each route in the document that has no `@documented` contract."""
    return sorted(f"{m} {r.path_format}" for r in documented_routes(app) if contract_of(r) is None for m in r.methods)


def _components(contracts: list[Contract]) -> tuple[dict[str, dict], dict[tuple[type, str], str]]:
    """(components/schemas, {(model, mode): its $ref})."""
    requests = {m for c in contracts for m in (c.body,) if m is not None}
    responses = {m for c in contracts for m in (c.ok, *c.errors.values(), *c.other.values()) if m is not None}
    pairs = [(m, "validation") for m in sorted(requests, key=lambda m: m.__name__)]
    pairs += [(m, "serialization") for m in sorted(responses, key=lambda m: m.__name__)]
    keys, schema = models_json_schema(pairs, ref_template="#/components/schemas/{model}")
    return schema.get("$defs", {}), {k: v["$ref"] for k, v in keys.items()}


def _parameters(query: type[BaseModel]) -> list[dict]:
    """One `in: query` parameter per field of `query`, named by its alias (`page[limit]`)."""
    schema = query.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
    parameters = []
    required = set(schema.get("required", ()))
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _content(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": ref}}}


def _apply(operation: dict, contract: Contract, refs: dict, method: str) -> None:
    operation["security"] = contract.security
    if contract.operation_id:
        operation["operationId"] = contract.operation_id
    if contract.summary:
        operation["summary"] = contract.summary
    if contract.body is not None:
        operation["requestBody"] = {"required": True, "content": _content(refs[(contract.body, "validation")])}
    if contract.query is not None:
        keep = [p for p in operation.get("parameters", []) if p.get("in") != "query"]
        operation["parameters"] = keep + _parameters(contract.query)
    responses: dict[str, dict] = {}
    if contract.ok is not None:
        responses[str(contract.status)] = {"description": _DESCRIPTIONS[contract.status],
                                           "content": _content(refs[(contract.ok, "serialization")])}
        responses[str(contract.status)]["content"].update(
            {media: {"schema": schema} for media, schema in contract.ok_media.items()})
    elif contract.status == 204:
        responses["204"] = {"description": _DESCRIPTIONS[204]}
    for status, model in sorted({**contract.errors, **contract.other}.items()):
        entry = responses.setdefault(str(status), {"description": _DESCRIPTIONS.get(status, "Error")})
        entry["content"] = _content(refs[(model, "serialization")])
    operation["responses"] = responses


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document: FastAPI's, with each route's `Contract` written in (cached)."""
    if app.openapi_schema:
        return app.openapi_schema
    routes = documented_routes(app)
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=routes,
                           tags=app.openapi_tags)
    contracts = [c for c in map(contract_of, routes) if c is not None]
    defs, keyed = _components(contracts)
    refs = keyed
    paths = document.setdefault("paths", {})
    for route in routes:
        contract = contract_of(route)
        if contract is None:
            continue
        methods = sorted(m.lower() for m in route.methods)
        for method in methods:
            operation = paths[route.path_format][method]
            _apply(operation, contract, refs, method)
            if contract.operation_id and len(methods) > 1 and method != methods[0]:
                operation["operationId"] = f"{contract.operation_id}_{method}"
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's own 422, never answered
        schemas.pop(unused, None)
    schemas.update(defs)
    if not schemas:
        components.pop("schemas")
    components["securitySchemes"] = SECURITY_SCHEMES
    app.openapi_schema = document
    return document


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and so `/openapi.json`, `/docs`) serve `openapi_document(app)`."""
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
