"""Conformance, sends to contact lists: the official client (`bsg-sdk`) prices and sends an SMS and
an RCS campaign to contact lists with placeholders over real HTTP, then reads the personalised
messages and their prices through its strict models.

The contact book is written straight into the server's store (tests/contact_rows.py): the contacts
API is not part of this module's subject.
"""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import pytest
from bsg_api import ApiClient, AuthApi, CampaignApi, CampaignRCSApi, CampaignSMSApi, Configuration, MessagesSMSApi
from bsg_api.exceptions import UnprocessableEntityException
from bsg_api.models import (
    AlternativeChannel,
    CampaignPrice200Response,
    CampaignPriceRequest,
    CampaignStatus,
    GetMessages200Response,
    LoginRequest,
    MessageStatus,
    Options,
    RcsSendGroups200Response,
    SendRcsCampaignGroups,
    SendRcsCampaignGroupsAlternativeChannel,
    SmsAltChannel,
    SmsCampaignResponse,
    SmsSendGroupsRequest,
    Text,
)

from relaybox.api.app import open_platform
from relaybox.config import Settings
from relaybox.store import keys as keys_store
from tests.contact_rows import add_field, add_list, stop_list
from tests.factories import DELIVERED, NOT_RCS_USER, TEST_JWT_SECRET, UNDELIVERED

SMS_UA, RCS_UA = Decimal("0.035"), Decimal("0.02")
OLENA, BOB, IVAN, STOPPED = DELIVERED, UNDELIVERED, 380971232011, 380971239011


def seed_book(database_url: str, key: str) -> dict[str, int]:
    """Fields `name` and `city`, two overlapping lists, one stop-listed contact: the lists' ids."""

    async def seed():
        platform = await open_platform(Settings(database_url=database_url, jwt_secret=TEST_JWT_SECRET), migrate=False)
        try:
            async with platform.db.read() as conn:
                account_id = (await keys_store.get_key(conn, key=key)).account_id
            await add_field(platform, account_id, "name")
            await add_field(platform, account_id, "city")
            first = await add_list(platform, account_id, "customers", [
                {"phone": OLENA, "name": "Olena", "city": "Kyiv"},
                {"phone": BOB, "name": "Bob"},
                {"phone": STOPPED, "name": "Stopped"},
            ])
            second = await add_list(platform, account_id, "rcs", [
                {"phone": BOB, "name": "Bob"},
                {"phone": IVAN, "name": "Іван", "city": "Львів"},
                {"phone": NOT_RCS_USER, "name": "Nora"},
            ])
            await stop_list(platform, account_id, [STOPPED], ("sms", "rcs"))
            return {"first": first, "second": second}
        finally:
            await platform.db.dispose()

    return asyncio.run(seed())


def wait_for(fetch, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def session(live_server):
    key = live_server.create_account(balance="100")
    lists = seed_book(live_server.database_url, key)
    anonymous = ApiClient(Configuration(host=live_server.base_url))
    token = AuthApi(anonymous).login(LoginRequest(api_key=key)).bearer
    api = ApiClient(Configuration(host=live_server.base_url, access_token=token))
    return lists, api


def campaign_messages(api, campaign_id: int) -> dict[int, object]:
    """An SMS campaign's messages by phone."""
    page = MessagesSMSApi(api).get_messages(filter_campaign_id=campaign_id, page_limit=50)
    assert isinstance(page, GetMessages200Response)
    return {m.phone: m for m in page.data}


def wait_done(api, campaign_id: int):
    def done():
        c = CampaignApi(api).campaign(campaign_id).data
        return c if c.status == CampaignStatus.DONE else None

    return wait_for(done)


def test_sms_send_groups_with_placeholders(session):
    (lists, api) = session
    text = "Hi {name} from {city}! {{promo}} ends soon. #" + str(time.monotonic_ns())
    price = CampaignApi(api).campaign_price(
        CampaignPriceRequest(sender="relaybox", text=text, groups=[lists["first"], lists["second"]])
    )
    assert isinstance(price, CampaignPrice200Response)

    sent = CampaignSMSApi(api).sms_send_groups(
        SmsSendGroupsRequest(groups=[lists["first"], lists["second"]], sender="relaybox", text=text)
    )
    assert isinstance(sent, SmsCampaignResponse)
    campaign = sent.data
    assert campaign.calculated_price == price.price
    wait_done(api, campaign.id)

    found = campaign_messages(api, campaign.id)
    stamp = text.rsplit("#", 1)[1]
    assert {phone: m.text for phone, m in found.items()} == {
        OLENA: f"Hi Olena from Kyiv! {{promo}} ends soon. #{stamp}",
        BOB: f"Hi Bob from ! {{promo}} ends soon. #{stamp}",  # in both lists: one message; no city
        IVAN: f"Hi Іван from Львів! {{promo}} ends soon. #{stamp}",
        NOT_RCS_USER: f"Hi Nora from ! {{promo}} ends soon. #{stamp}",
    }  # STOPPED is on the stop list: no message
    amounts = {phone: Decimal(m.amount.value) for phone, m in found.items()}
    assert amounts == {OLENA: SMS_UA, BOB: SMS_UA, IVAN: SMS_UA, NOT_RCS_USER: SMS_UA}
    assert found[IVAN].parts == 1 and found[OLENA].parts == 1
    assert Decimal(str(campaign.calculated_price)) == sum(amounts.values())
    assert found[OLENA].status == MessageStatus.DELIVERED and found[BOB].status == MessageStatus.UNDELIVERED

    detail = CampaignApi(api).campaign_details(campaign.id).data
    assert (detail.total_phones, detail.total_messages) == (5, 4)


def test_rcs_send_groups_with_placeholders(session):
    (lists, api) = session
    stamp = str(time.monotonic_ns())
    sent = CampaignRCSApi(api).rcs_send_groups(SendRcsCampaignGroups(
        groups=[lists["second"]], sender="rcs_agent", options=Options(Text(text=f"Hello {{name}} {stamp}")),
        alternative_channel=SendRcsCampaignGroupsAlternativeChannel(
            AlternativeChannel(sms=SmsAltChannel(text=f"SMS for {{name}} {stamp}", sender="relaybox"))),
    ))
    assert isinstance(sent, RcsSendGroups200Response)
    assert Decimal(str(sent.data.calculated_price)) == 3 * RCS_UA
    wait_done(api, sent.data.id)  # done: every message final, the SMS fallback included
    page = MessagesSMSApi(api).get_messages(filter_campaign_id=sent.data.id, page_limit=50)
    rcs = {m.phone: m for m in page.data if m.type.value == "rcs"}
    assert {phone: m.text for phone, m in rcs.items()} == {
        BOB: f"Hello Bob {stamp}", IVAN: f"Hello Іван {stamp}", NOT_RCS_USER: f"Hello Nora {stamp}",
    }
    assert rcs[NOT_RCS_USER].status == MessageStatus.NOT_SERVICE_USER
    # the simulator: NOT_RCS_USER has no RCS, BOB's RCS is undelivered: both fall back to SMS
    fallbacks = {m.phone: m for m in page.data if m.type.value == "sms"}
    assert {phone: m.text for phone, m in fallbacks.items()} == {
        NOT_RCS_USER: f"SMS for Nora {stamp}", BOB: f"SMS for Bob {stamp}",
    }
    assert all(Decimal(m.amount.value) == SMS_UA for m in fallbacks.values())


def test_bad_input_through_the_client(session):
    (lists, api) = session
    with pytest.raises(UnprocessableEntityException) as info:
        CampaignSMSApi(api).sms_send_groups(
            SmsSendGroupsRequest(groups=[lists["first"], 999999999], sender="relaybox", text="Hi {surname}")
        )
    body = json.loads(info.value.body)
    assert body["errors"] == {
        "groups.1": ["The contact list 999999999 does not exist."],
        "text": ["The placeholder {surname} names no contact field: create the field, or write {{ and }} for "
                 "literal braces."],
    }
