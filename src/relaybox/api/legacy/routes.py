"""The legacy REST family (BSG `/rest/...`), mounted under `/rest` and its alias `/v1.0`.

Every application error is HTTP 200 with `{"error": N, "errorDescription": ...}`
(api/legacy/errors.py, mapped in api/app.py for these paths); unknown paths are
404 and a known path with the wrong method is error 4.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from relaybox.api.legacy import account, messages, status
from relaybox.api.unstorable import UNSTORABLE_PATH

PREFIX = "/rest"
#: The same routes again, as the official PHP client calls them; left out of the OpenAPI document.
ALIAS = "/v1.0"

router = APIRouter()
# Order matters: /sms/{id} comes last, after every fixed /sms/... path.
for module in (messages, account, status):
    router.include_router(module.router)


def include(app: FastAPI) -> None:
    """Mount the legacy API at `/rest` and, outside the OpenAPI document, at `/v1.0`."""
    app.include_router(router, prefix=PREFIX, dependencies=UNSTORABLE_PATH)
    app.include_router(router, prefix=ALIAS, include_in_schema=False, dependencies=UNSTORABLE_PATH)
