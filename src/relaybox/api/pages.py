"""The pages a person opens in a browser: the landing page at `/`, Swagger UI at `/docs`, ReDoc at
`/redoc`, all working on a machine with no Internet access.

Swagger UI and ReDoc are served from the JavaScript and CSS files that the `fastapi-offline`
package ships (under `/docs-assets/`; Swagger UI 5, ReDoc 2, their licences: docs/api-docs.md),
never from a CDN.  ReDoc's bundle still names one outside image (its vendor's logo), so these
pages carry a Content-Security-Policy that lets the browser load nothing but this server's own
files: an air-gapped browser makes no request that could hang or leak, and none is attempted.

The landing page is a Jinja2 template (api/templates/index.html) linking the docs, the OpenAPI
document, the health check and, when the app has one, the web console at `/console`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from relaybox import __version__

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
#: Where the Swagger UI and ReDoc files are mounted (fastapi-offline's static folder).
ASSETS_URL = "/docs-assets"
CONSOLE_URL = "/console"

#: Swagger UI's settings: no online validator badge (it would call validator.swagger.io), the
#: request's duration shown, and the API key kept across reloads of the page (in the browser's
#: local storage, like any Swagger UI; clear it with "Logout" in the Authorize dialog).
SWAGGER_UI_PARAMETERS = {
    "validatorUrl": None,
    "displayRequestDuration": True,
    "persistAuthorization": True,
}

#: Nothing but this server's own files: scripts and styles from it (Swagger UI's and ReDoc's
#: pages start them with an inline script), images from it or inline, requests only to it;
#: ReDoc runs its search in a worker made from a blob.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
)
PAGE_PATHS = frozenset({"/", DOCS_URL, REDOC_URL})

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def app_options() -> dict:
    """The keyword arguments of `fastapi_offline.FastAPIOffline` for relaybox's docs pages."""
    return {
        "docs_url": DOCS_URL,
        "redoc_url": REDOC_URL,
        "static_url": ASSETS_URL,
        "swagger_ui_parameters": SWAGGER_UI_PARAMETERS,
    }


class PagePolicy:
    """ASGI middleware: the Content-Security-Policy header on the pages (`/`, `/docs`, `/redoc`)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] not in PAGE_PATHS:
            return await self.app(scope, receive, send)

        async def with_policy(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())]
            await send(message)

        await self.app(scope, receive, with_policy)


def include(app: FastAPI) -> None:
    """Add the landing page `GET /` (HTML) and the policy header of the pages to `app` (the OpenAPI
    document's security schemes are api/openapi.py's)."""
    app.add_middleware(PagePolicy)

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def landing(request: Request):
        return templates.TemplateResponse(request, "index.html", {
            "title": app.title,
            "version": __version__,
            "docs_url": DOCS_URL,
            "redoc_url": REDOC_URL,
            "openapi_url": app.openapi_url,
            "assets_url": ASSETS_URL,
            # set by console.install (FastAPI includes routers lazily: app.routes does not list their paths)
            "console_url": getattr(request.app.state, "console_url", None),
        })
