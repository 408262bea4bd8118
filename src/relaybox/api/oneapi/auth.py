"""POST /api/auth/login and /api/auth/refresh."""

from __future__ import annotations

from fastapi import APIRouter, Request

from relaybox.api.common import json_response, parse_model, read_json
from relaybox.api.deps import OneApiCaller, admit_request
from relaybox.api.oneapi.schemas import LoginRequest
from relaybox.errors import Unauthenticated, ValidationFailed

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login")
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
async def refresh(request: Request, caller: OneApiCaller):
    return json_response({"bearer": request.app.state.authenticator.issue_token(caller)})
