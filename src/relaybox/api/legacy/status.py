"""GET /rest/sms/{id}, /rest/sms/reference/{reference} and /rest/sms/task/{task_id}.

Any message or campaign of the account answers, whichever API family sent it.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.exceptions import HTTPException

from relaybox.api.common import json_response
from relaybox.api.deps import LegacyCaller, PlatformDep
from relaybox.api.legacy import present, responses, schemas
from relaybox.api.openapi import LEGACY, documented
from relaybox.errors import LegacyCode, NotFound
from relaybox.services import queries

router = APIRouter(tags=["legacy"])

#: Paths of /rest/sms/... that take a body: a GET there is a wrong method (4),
#: not a lookup of a message with that id.
_WRITE_ONLY = frozenset({"create", "price"})


@router.get("/sms/reference/{reference}")
@documented(security=LEGACY, ok=responses.StatusResponse, errors=responses.ERRORS, operation_id="legacy_sms_by_reference")
async def status_by_reference(reference: str, platform: PlatformDep, caller: LegacyCaller):
    return json_response(present.status(await queries.get_message_by_reference(platform, caller, reference)))


@router.get("/sms/task/{task_id}")
@documented(security=LEGACY, ok=responses.TaskResponse, errors=responses.ERRORS, operation_id="legacy_task_status")
async def task_status(task_id: str, platform: PlatformDep, caller: LegacyCaller):
    campaign = await queries.get_campaign(platform, caller, schemas.task_id_value(task_id), LegacyCode.TASK_NOT_FOUND)
    return json_response(present.task(campaign))


@router.get("/sms/{sms_id}")
@documented(security=LEGACY, ok=responses.StatusResponse, errors=responses.ERRORS, operation_id="legacy_sms_status")
async def status(sms_id: str, platform: PlatformDep, caller: LegacyCaller):
    if sms_id in _WRITE_ONLY:
        raise HTTPException(405)
    if not sms_id.isascii() or not sms_id.isdigit() or len(sms_id) > 18:
        raise NotFound("Not found", LegacyCode.SMS_NOT_FOUND)
    return json_response(present.status(await queries.get_message(platform, caller, int(sms_id))))
