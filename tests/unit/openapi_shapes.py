"""Field-by-field comparison of relaybox's OpenAPI document with BSG's published spec.

BSG's spec is read through the official client generated from it (`bsg_api`, installed by the
`test` extra), so the suite reads no file outside the repository: each API class's
`<operation>_with_http_info` method names its body model and its `_<operation>_serialize`
method its HTTP method, path and query parameters; its `_response_types_map` names the model of
each status.  Both sides are reduced to `Shape`s (JSON types without null, enum, array items,
object fields) and compared; every difference is one line `"<METHOD> <path> <part> <field>
<kind>"`, e.g. `"POST /api/campaigns/sms/send request phones[].number type"`.

Rules: null is not a type (both sides make absent fields nullable); BSG's `Any` and its oneOf/anyOf
wrapper models (those with `actual_instance`) match anything; BSG's `datetime` is a string; a
response that relaybox types `integer` where BSG says `number` fits the client (it accepts both)
and is no difference; required-ness is compared in requests only, because the generated client
makes every response field optional while relaybox's document marks those it always sends.
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import re
import types
import typing
from dataclasses import dataclass, field

from pydantic import BaseModel

ANY = "any"


@dataclass
class Shape:
    types: frozenset[str]
    enum: frozenset | None = None
    items: Shape | None = None
    fields: dict[str, Shape] | None = None  # None: no declared fields (free-form, or not an object)
    required: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_any(self) -> bool:
        return ANY in self.types


def _merge(shapes: list[Shape]) -> Shape:
    if not shapes:
        return Shape(frozenset({ANY}))
    if len(shapes) == 1:
        return shapes[0]
    kinds = frozenset().union(*(s.types for s in shapes))
    enums = [s.enum for s in shapes if s.enum is not None]
    items = next((s.items for s in shapes if s.items is not None), None)
    fields = next((s.fields for s in shapes if s.fields is not None), None)
    required = next((s.required for s in shapes if s.fields is not None), frozenset())
    return Shape(_normal(kinds), frozenset().union(*enums) if enums and len(enums) == len(shapes) else None,
                 items, fields, required)


def _normal(kinds: frozenset[str]) -> frozenset[str]:
    return kinds - {"integer"} if "number" in kinds else kinds


# -- BSG's side: pydantic annotations of the generated client


def bsg_shape(annotation: object) -> Shape:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return bsg_shape(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return _merge([bsg_shape(a) for a in typing.get_args(annotation) if a is not type(None)])
    if origin in (list, typing.List, set, frozenset):  # noqa: UP006
        args = typing.get_args(annotation)
        return Shape(frozenset({"array"}), items=bsg_shape(args[0]) if args else Shape(frozenset({ANY})))
    if origin in (dict, typing.Dict):  # noqa: UP006
        return Shape(frozenset({"object"}))
    if annotation is typing.Any or annotation is None:
        return Shape(frozenset({ANY}))
    if inspect.isclass(annotation):
        if issubclass(annotation, bool):
            return Shape(frozenset({"boolean"}))
        if issubclass(annotation, enum.Enum):
            values = [m.value for m in annotation]
            return Shape(_normal(frozenset(_json_type(v) for v in values)), frozenset(values))
        if issubclass(annotation, int):
            return Shape(frozenset({"integer"}))
        if issubclass(annotation, float):
            return Shape(frozenset({"number"}))
        if issubclass(annotation, (str, dt.date, dt.datetime)):
            return Shape(frozenset({"string"}))
        if issubclass(annotation, BaseModel):
            if "actual_instance" in annotation.model_fields:  # a oneOf/anyOf wrapper: not comparable here
                return Shape(frozenset({ANY}))
            fields = {(f.alias or n): bsg_shape(f.annotation) for n, f in annotation.model_fields.items()}
            required = frozenset((f.alias or n) for n, f in annotation.model_fields.items() if f.is_required())
            return Shape(frozenset({"object"}), fields=fields, required=required)
        if issubclass(annotation, dict):
            return Shape(frozenset({"object"}))
    raise AssertionError(f"no JSON shape for {annotation!r}")


def _json_type(value: object) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(value), ANY)


@dataclass
class BsgOperation:
    method: str
    path: str
    body: type[BaseModel] | None
    query: dict[str, object]  # wire name -> annotation
    responses: dict[str, type[BaseModel]]


def bsg_operations() -> dict[tuple[str, str], BsgOperation]:
    """Every operation of the official client: {(METHOD, path with `{}` for parameters): ...}."""
    import bsg_api.api as apis
    import bsg_api.models as models

    found: dict[tuple[str, str], BsgOperation] = {}
    for _, api in inspect.getmembers(apis, inspect.isclass):
        for name, function in inspect.getmembers(api, inspect.isfunction):
            if not name.endswith("_with_http_info"):
                continue
            base = name.removesuffix("_with_http_info")
            serialize = inspect.getsource(getattr(api, f"_{base}_serialize"))
            method = re.search(r"method='(\w+)'", serialize).group(1)
            path = re.search(r"resource_path='([^']+)'", serialize).group(1)
            signature = inspect.signature(function)
            query = {wire: signature.parameters[arg].annotation
                     for wire, arg in re.findall(r"_query_params.append\(\('([^']+)', (\w+)", serialize)}
            body_arg = re.search(r"_body_params = (\w+)", serialize)
            body = signature.parameters[body_arg.group(1)].annotation if body_arg else None
            responses = {status: getattr(models, model) for status, model in
                         re.findall(r"'(\d{3})': \"(\w+)\"", inspect.getsource(function)) if hasattr(models, model)}
            found[(method, normal_path(path))] = BsgOperation(method, path, body, query, responses)
    return found


def normal_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


# -- relaybox's side: JSON Schema in its OpenAPI document


def doc_shape(schema: dict, document: dict) -> Shape:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = {**document["components"]["schemas"][name], **{k: v for k, v in schema.items() if k != "$ref"}}
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return _merge([doc_shape(b, document) for b in branches if b.get("type") != "null"])
    if "const" in schema:
        return Shape(frozenset({_json_type(schema["const"])}), frozenset({schema["const"]}))
    kind = schema.get("type")
    kinds = frozenset(kind if isinstance(kind, list) else [kind] if kind else [ANY]) - {"null"}
    enum_values = frozenset(schema["enum"]) if "enum" in schema else None
    if "array" in kinds:
        return Shape(kinds, enum_values, items=doc_shape(schema.get("items", {}), document))
    if "object" in kinds and "properties" in schema:
        fields = {n: doc_shape(s, document) for n, s in schema["properties"].items()}
        return Shape(kinds, fields=fields, required=frozenset(schema.get("required", ())))
    return Shape(_normal(kinds), enum_values)


# -- the comparison


def compare(where: str, ours: Shape, theirs: Shape, *, request: bool) -> list[str]:
    """The differences between relaybox's shape and BSG's at `where` ("<op> <part> <field path>")."""
    if ours.is_any or theirs.is_any:
        return []
    out: list[str] = []
    ours_types, theirs_types = ours.types, theirs.types
    if not request and ours_types == {"integer"} and theirs_types == {"number"}:
        theirs_types = ours_types  # relaybox sends a subset of what the client takes
    if ours_types != theirs_types:
        return [f"{where} type"]
    if (ours.enum or theirs.enum) and ours.enum != theirs.enum:
        out.append(f"{where} enum")
    if ours.items is not None and theirs.items is not None:
        out += compare(f"{where}[]", ours.items, theirs.items, request=request)
    if ours.fields is None and theirs.fields is not None:
        out.append(f"{where} fields")  # free-form in relaybox, described by BSG
    elif ours.fields is not None and theirs.fields is not None:
        prefix = f"{where}." if not where.endswith((" request", " response", " query")) else f"{where} "
        for name in sorted(ours.fields.keys() | theirs.fields.keys()):
            if name not in theirs.fields:
                out.append(f"{prefix}{name} only-relaybox")
            elif name not in ours.fields:
                out.append(f"{prefix}{name} only-bsg")
            else:
                if request and (name in ours.required) != (name in theirs.required):
                    out.append(f"{prefix}{name} required")
                out += compare(f"{prefix}{name}", ours.fields[name], theirs.fields[name], request=request)
    return out


def differences(document: dict) -> tuple[list[str], list[str]]:
    """(every difference, the operations compared) between `document` and BSG's spec."""
    theirs = bsg_operations()
    out: list[str] = []
    compared: list[str] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            bsg = theirs.get((method.upper(), normal_path(path)))
            if bsg is None:
                continue
            name = f"{method.upper()} {bsg.path}"
            compared.append(name)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if bsg.body is not None or body is not None:
                if body is None or bsg.body is None:
                    out.append(f"{name} request body {'only-bsg' if body is None else 'only-relaybox'}")
                else:
                    out += compare(f"{name} request", doc_shape(body, document), bsg_shape(bsg.body), request=True)
            ours_query = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
            for wire in sorted(ours_query.keys() | bsg.query.keys()):
                if wire not in bsg.query:
                    out.append(f"{name} query {wire} only-relaybox")
                elif wire not in ours_query:
                    out.append(f"{name} query {wire} only-bsg")
                else:
                    out += compare(f"{name} query {wire}", doc_shape(ours_query[wire]["schema"], document),
                                   bsg_shape(bsg.query[wire]), request=True)
            for status in ("200", "201"):  # the success answer: 201 for the creates
                ok = operation["responses"].get(status, {}).get("content", {}).get("application/json", {}).get("schema")
                if status in bsg.responses and ok is not None:
                    out += compare(f"{name} response", doc_shape(ok, document), bsg_shape(bsg.responses[status]),
                                   request=False)
    return out, compared
