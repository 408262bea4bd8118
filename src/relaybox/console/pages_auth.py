"""Sign in with an API key, sign out, and the console's front door."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse

from relaybox.console import session
from relaybox.console.templating import render
from relaybox.errors import AccountBlocked, Unauthenticated

router = APIRouter(prefix="/console")


@router.get("")
@router.get("/")
async def front(request: Request):
    """`GET /console`: to the campaigns when a session cookie is present, else to the login page (303)."""
    target = "/console/campaigns" if request.cookies.get(session.SESSION_COOKIE) else "/console/login"
    return RedirectResponse(target, status_code=303)


@router.get("/login")
async def login_page(request: Request):
    """`GET /console/login`: the API key form."""
    return render(request, "login.html")


@router.post("/login")
async def login(request: Request):
    """`POST /console/login`: sign in with an API key (303 to the campaigns); 401 for an unknown or revoked key, 403 for a
    blocked account.
    """
    form = await session.check_csrf(request)
    key = (form.get("api_key") or "").strip()
    try:
        caller = await request.app.state.authenticator.caller_for_key(key)
    except Unauthenticated:
        return render(request, "login.html", {"error": "That API key is not valid, or it was revoked."}, 401)
    except AccountBlocked:
        return render(request, "login.html", {"error": "This account is blocked."}, 403)
    response = RedirectResponse("/console/campaigns", status_code=303)
    session.start_session(request, response, caller)
    return response


@router.post("/logout")
async def logout(request: Request):
    """`POST /console/logout`: end the session (CSRF-checked), then 303 to the login page."""
    await session.check_csrf(request)
    response = RedirectResponse("/console/login", status_code=303)
    session.end_session(request, response)
    return response
