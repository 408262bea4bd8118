"""The web console at /console: server-rendered pages (Jinja2 + htmx + Chart.js, all shipped in
the package) over the same services as the API.  docs/console.md describes it for users.

Modules: session.py (sign-in cookie, CSRF), templating.py (rendering, security headers),
present.py (pure shaping of figures), errors.py (HTML error pages), breakdowns.py (the campaign
page's delivery-time histogram and per-country/operator table, from services/breakdowns.py),
stat_job_forms.py (the statistics-jobs form and list, over services/stat_jobs.py), and one
`pages_*.py` router per area.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from relaybox.console import pages_account, pages_auth, pages_campaigns, pages_messages, pages_stats
from relaybox.console.errors import csrf_page, sign_in_redirect
from relaybox.console.session import CsrfRejected, SignInRequired
from relaybox.console.templating import HERE


def install(app: FastAPI) -> None:
    """Mount the console's pages, its static files and its two exception handlers on `app`."""
    for module in (pages_auth, pages_campaigns, pages_messages, pages_account, pages_stats):
        app.include_router(module.router, include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    app.state.console_url = "/console"  # the landing page links it (api/pages.py)
    app.add_exception_handler(SignInRequired, lambda request, exc: sign_in_redirect(request))
    app.add_exception_handler(CsrfRejected, lambda request, exc: csrf_page(request))
