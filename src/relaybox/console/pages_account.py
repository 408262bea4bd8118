"""Account page: balance, API keys (create, revoke) and the default webhook URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse

from relaybox.console.errors import path_id
from relaybox.console.session import caller_of, check_csrf
from relaybox.console.templating import render
from relaybox.domain.models import Caller
from relaybox.errors import ValidationFailed
from relaybox.services import accounts, self_service

router = APIRouter(prefix="/console")
Signed = Annotated[Caller, Depends(caller_of)]


async def _page(request: Request, caller: Caller, status: int = 200, **extra):
    platform = request.app.state.platform
    account = await accounts.get_account(platform, caller)
    keys = await self_service.own_keys(platform, caller)
    return render(request, "account.html", {"account": account, "keys": keys, **extra}, status)


@router.get("/account")
async def account_page(request: Request, caller: Signed):
    """`GET /console/account`: keys and webhook, with a notice after a revoke or a save."""
    notice = {"revoked": "The key was revoked.", "webhook": "The webhook URL was saved."}.get(
        request.query_params.get("done", ""))
    return await _page(request, caller, notice=notice)


@router.post("/account/keys")
async def create_key(request: Request, caller: Signed):
    """`POST /console/account/keys`: create one of the caller's keys and show it once (201), or the form errors (422)."""
    form = await check_csrf(request)
    try:
        record, key = await self_service.create_own_key(
            request.app.state.platform, caller, mode=form.get("mode", "test"), label=form.get("label", "").strip()
        )
    except ValidationFailed as exc:
        return await _page(request, caller, 422, key_errors=exc.errors)
    # shown once, on this answer only (not a redirect: the key must never be in a URL)
    return await _page(request, caller, 201, new_key=key, new_key_record=record)


@router.post("/account/keys/{key_id}/revoke")
async def revoke_key(request: Request, caller: Signed, key_id: str):
    """`POST /console/account/keys/{key_id}/revoke`: revoke one of the caller's keys (NotFound for another's), then 303."""
    await check_csrf(request)
    await self_service.revoke_own_key(request.app.state.platform, caller, path_id(key_id))  # NotFound: not the caller's
    return RedirectResponse("/console/account?done=revoked", status_code=303)


@router.post("/account/webhook")
async def set_webhook(request: Request, caller: Signed):
    """`POST /console/account/webhook`: save the status webhook URL, then 303; errors shown with 422."""
    form = await check_csrf(request)
    try:
        await self_service.set_webhook_url(request.app.state.platform, caller, form.get("webhook_url"))
    except ValidationFailed as exc:
        return await _page(request, caller, 422, webhook_errors=exc.errors, webhook_value=form.get("webhook_url", ""))
    return RedirectResponse("/console/account?done=webhook", status_code=303)
