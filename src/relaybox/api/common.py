"""HTTP helpers shared by both API families: JSON bodies, responses, query parameters."""

from __future__ import annotations

import json
from typing import TypeVar

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from relaybox.domain.storable import MESSAGE, unstorable_fields
from relaybox.errors import FieldError, LegacyCode, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def json_response(content: object, status_code: int = 200) -> Response:
    """`content` serialised with orjson as an application/json Response."""
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def is_legacy_path(path: str) -> bool:
    """Whether a path is the legacy REST API's (`/rest`, `/v1.0`)."""
    return path.startswith(("/rest/", "/v1.0/")) or path in ("/rest", "/v1.0")


def is_legacy(request: Request) -> bool:
    """Whether the request is to the legacy REST API (`is_legacy_path`)."""
    return is_legacy_path(request.url.path)


async def read_json(request: Request) -> tuple[bytes, dict]:
    """The raw body and it as a JSON object. Raises ValidationFailed (legacy 24) or UnstorableInput (`json_object`)."""
    body = await request.body()
    return body, json_object(body)


def json_object(body: bytes) -> dict:
    """The request body as a JSON object, or the invalid-payload error.

    A value or key that no backend can store (NUL, a lone surrogate: domain/storable.py) is
    refused here, for every request body of both families, with each such field's path and
    legacy code (`UnstorableInput`).  The cost on an ordinary body is one scan of its bytes:
    orjson already refuses lone surrogates and raw control characters, so a body it accepts
    can hold a NUL only as the escape `\u0000`, and only then are the values walked.
    """
    if not body.strip():
        raise ValidationFailed.one("body", "The request body must be a JSON object.", LegacyCode.INVALID_PAYLOAD)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        refuse_unstorable(_lenient_json(body))  # name the field when that is why it was refused
        raise ValidationFailed.one("body", "The request body is not valid JSON.", LegacyCode.INVALID_PAYLOAD) from None
    if not isinstance(data, dict):
        raise ValidationFailed.one("body", "The request body must be a JSON object.", LegacyCode.INVALID_PAYLOAD)
    if b"\\u0000" in body:
        refuse_unstorable(data)
    return data


class UnstorableInput(ValidationFailed):
    """Values no backend can store, refused before any other rule (docs/compatibility.md)."""


def unstorable_error(fields: list[tuple[str, int]]) -> UnstorableInput:
    """The UnstorableInput error for these (field path, legacy code) pairs."""
    return UnstorableInput(
        [FieldError(path, MESSAGE.format(name=path.rsplit(".", 1)[-1]), code) for path, code in fields]
    )


def refuse_unstorable(data: object) -> None:
    """Raise `UnstorableInput` naming every field of `data` that cannot be stored; else nothing."""
    fields = unstorable_fields(data)
    if fields:
        raise unstorable_error(fields)


def _lenient_json(body: bytes) -> object:
    """`body` decoded leniently, to find an unstorable field in a body orjson refused: raw control
    characters in strings and lone surrogate escapes are kept.  None when it is not JSON even so,
    or not UTF-8 (a malformed payload, answered as such on `body`)."""
    try:
        return json.loads(body.decode("utf-8"), strict=False)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


def _field_message(err: dict, path: str) -> str:
    name = path.rsplit(".", 1)[-1] if path else "body"
    kind = err.get("type", "")
    if kind == "missing":
        return f"The {name} field is required."
    return f"The {name} field is invalid: {err.get('msg', 'invalid value')}."


def validation_failed(exc: ValidationError, legacy_codes: dict[str, int] | None = None) -> ValidationFailed:
    """A pydantic ValidationError as ValidationFailed: one FieldError per field path, with the legacy code
    `legacy_codes` gives its top-level field (`"<field>:missing"` for a missing one; else 7, or 3 when missing).
    """
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err.get("loc", ()) if not str(p).startswith(("function-", "union["))]
        # pydantic reports which union member failed ("int", "str"): not part of the field path
        loc = [p for p in loc if p not in ("int", "str", "float", "bool", "constrained-str")]
        path = ".".join(loc)
        top = loc[0] if loc else ""
        code = (legacy_codes or {}).get(top, LegacyCode.INVALID_PARAMETERS)
        if err.get("type") == "missing":
            code = (legacy_codes or {}).get(f"{top}:missing", LegacyCode.NOT_ENOUGH_PARAMETERS)
        errors.append(FieldError(path or "body", _field_message(err, path), code))
    # one message per path is enough; pydantic reports every union branch
    seen: set[str] = set()
    unique = [e for e in errors if not (e.path in seen or seen.add(e.path))]
    return ValidationFailed(unique)


def parse_model(model: type[M], data: object, legacy_codes: dict[str, int] | None = None) -> M:
    """`data` validated as `model`. Raises ValidationFailed (`validation_failed`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(exc, legacy_codes) from None
