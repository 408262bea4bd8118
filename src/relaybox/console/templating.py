"""The console's Jinja2 environment (autoescaping on) and the one way pages are rendered."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from relaybox.console import present, session

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(
    amount=present.amount, when=present.when, number=present.number, percent=present.percent,
    phone=present.phone,
)

#: Headers of every console page: scripts and styles only from the console itself (the vendored
#: files: no inline script, no eval), no framing, nothing cached, no referrer to other sites.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> HTMLResponse:
    """Render template `name` with the CSRF token, the signed-in caller (if any) and `context`."""
    values = {
        "csrf_token": session.csrf_token(request),
        "caller": getattr(request.state, "console_caller", None),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    session.keep_csrf_cookie(request, response)
    session.renew_session(request, response)
    return response
