"""GET /api/accounts/balance and /api/accounts/tariff."""

from __future__ import annotations

from fastapi import APIRouter, Request

from relaybox.api.common import json_response
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import present
from relaybox.api.oneapi import responses as r
from relaybox.api.oneapi.params import ListParams
from relaybox.api.oneapi.queries import TariffListQuery
from relaybox.api.openapi import ONE_API, documented
from relaybox.services import accounts

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


@router.get("/balance")
@documented(security=ONE_API, ok=r.BalanceResponse, errors=r.ERRORS, operation_id="account_balance")
async def balance(platform: PlatformDep, caller: OneApiCaller):
    return json_response(present.balance(await accounts.get_account(platform, caller)))


@router.get("/tariff")
@documented(security=ONE_API, query=TariffListQuery, ok=r.TariffPage, errors=r.ERRORS, operation_id="account_tariffs")
async def tariffs(request: Request, platform: PlatformDep, caller: OneApiCaller):
    params = ListParams(request.query_params, sorts=("id",), min_limit=15)
    params.check()
    active = [t for t in sorted(platform.prices.tariffs.values(), key=lambda t: t.code) if t.is_active]
    chosen = params.offset, params.offset + params.limit
    return json_response({"data": [present.tariff(t) for t in active[chosen[0]:chosen[1]]], "total": len(active)})
