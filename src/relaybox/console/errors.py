"""What the console answers when something goes wrong: HTML pages, not the API's JSON envelopes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from relaybox.errors import NotFound, RateLimited, RelayboxError

PREFIX = "/console"


def is_console(request: Request) -> bool:
    """Whether the request is for the console (`/console` and below)."""
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def message_page(request: Request, status: int, title: str, detail: str) -> Response:
    """An HTML page with a title and a sentence, answered with `status`."""
    from relaybox.console.templating import render

    return render(request, "error.html", {"title": title, "detail": detail}, status_code=status)


def console_error(request: Request, exc: RelayboxError) -> Response:
    """A service error raised while serving a console page."""
    if isinstance(exc, NotFound):
        return message_page(request, 404, "Not found", "There is nothing here, or it belongs to another account.")
    if isinstance(exc, RateLimited):
        return message_page(request, 429, "Too many requests", "Your account's request limit was reached; try again shortly.")
    return message_page(request, 400, "Request refused", str(exc) or type(exc).__name__)


def console_http_error(request: Request, exc) -> Response:
    """An HTTP error (404, 405, other) as a console page."""
    if exc.status_code == 404:
        return message_page(request, 404, "Not found", "There is no such page.")
    if exc.status_code == 405:
        return message_page(request, 405, "Method not allowed", "This page does not take that kind of request.")
    return message_page(request, exc.status_code, "Error", str(exc.detail))


def sign_in_redirect(request: Request) -> Response:
    """To the sign-in page: a redirect, or for an htmx request the header htmx follows."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": f"{PREFIX}/login"})
    return RedirectResponse(f"{PREFIX}/login", status_code=303)


def csrf_page(request: Request) -> Response:
    """The 403 page for a form without a valid CSRF token."""
    return message_page(request, 403, "Form expired or forged",
                        "The form was not sent from this console's page (missing or invalid CSRF token). "
                        "Reload the page and try again.")


def path_id(raw: str) -> int:
    """A record id from the URL path: 1-18 digits (every BIGINT id), else NotFound (404) — as the
    API answers, never a 422 or a store error for an id no record can have."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound("Not found")
    return int(raw)
