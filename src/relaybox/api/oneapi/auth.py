"""POST /api/auth/login and /api/auth/refresh."""

from __future__ import annotations

from fastapi import APIRouter, Request

from relaybox.api.common import json_response, parse_model, read_json
from relaybox.api.deps import OneApiCaller, admit_request
from relaybox.api.oneapi import responses as r
from relaybox.api.openapi import NO_AUTH, ONE_API, documented
from relaybox.api.oneapi.schemas import LoginRequest
from relaybox.errors import Unauthenticated, ValidationFailed

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login")
@documented(security=NO_AUTH, body=LoginRequest, ok=r.Token, operation_id="login",
            errors={401: r.Unauthenticated, 403: r.Forbidden, 422: r.ValidationErrors, 429: r.TooManyRequests},
            summary="A JWT for an API key (401 for an unknown key or an unreadable body)")
async def login(request: Request):
    try:
        _, data = await read_json(request)
        body = parse_model(LoginRequest, data)
    except ValidationFailed:
        raise Unauthenticated() from None
    auth = request.app.state.authenticator
    caller = await auth.caller_for_key(body.api_key)
    await admit_request(auth.platform, caller)
    return json_response({"bearer": auth.issue_token(caller)})


@router.post("/refresh")
@documented(security=ONE_API, ok=r.Token, errors=r.ERRORS, operation_id="refresh_token", summary="A fresh JWT")
async def refresh(request: Request, caller: OneApiCaller):
    return json_response({"bearer": request.app.state.authenticator.issue_token(caller)})
