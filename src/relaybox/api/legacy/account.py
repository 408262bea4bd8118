"""GET /rest/sms/prices[/{tariff}] and /rest/common/balance."""

from __future__ import annotations

from fastapi import APIRouter

from relaybox.api.common import json_response
from relaybox.api.deps import LegacyCaller, PlatformDep
from relaybox.api.legacy import present, responses, schemas
from relaybox.api.openapi import LEGACY, documented
from relaybox.services import accounts, prices

router = APIRouter(tags=["legacy"])


@router.get("/sms/prices")
@documented(security=LEGACY, ok=responses.PriceListResponse, errors=responses.ERRORS, operation_id="legacy_prices")
async def price_list(platform: PlatformDep, caller: LegacyCaller):
    return json_response(present.price_list(*await prices.sms_price_list(platform, caller)))


@router.get("/sms/prices/{tariff}")
@documented(security=LEGACY, ok=responses.PriceListResponse, errors=responses.ERRORS, operation_id="legacy_tariff_prices")
async def tariff_price_list(tariff: str, platform: PlatformDep, caller: LegacyCaller):
    code = schemas.tariff_code_value(tariff)
    return json_response(present.price_list(*await prices.sms_price_list(platform, caller, code)))


@router.get("/common/balance")
@documented(security=LEGACY, ok=responses.LegacyBalanceResponse, errors=responses.ERRORS, operation_id="legacy_balance")
async def balance(platform: PlatformDep, caller: LegacyCaller):
    return json_response(present.balance(await accounts.get_account(platform, caller)))
