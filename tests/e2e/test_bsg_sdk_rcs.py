"""Conformance, RCS: the official client's RCS APIs against a real server, and a real webhook receiver.

The server (simulator at full speed) sends the campaign to the simulator's
magic numbers (docs/simulator.md); the client reads the messages, their
`rcs_options` and `alternative_channels`, and the campaign detail through its
strict models.  A small HTTP server on 127.0.0.1 in this test receives the
status and click callbacks, which must match the client's callback models and
arrive once per status change.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from bsg_api import ApiClient, AuthApi, BalanceApi, CampaignApi, CampaignRCSApi, Configuration, MessageRCSApi, MessagesApi, MessagesSMSApi
from bsg_api.models import (
    AlternativeChannel,
    Card,
    Cards,
    CampaignDetails200Response,
    CampaignStatus,
    GetMessages200Response,
    LoginRequest,
    Media,
    MessageApiSchemaAlternativeChannelsSms,
    MessageResponse,
    MessageStatus,
    MessageType,
    MessageUniversal,
    Options,
    Phone,
    Rcs,
    RcsClickCallback,
    RcsMessage,
    RcsSend200Response,
    RcsStatusCallback,
    SendRcsCampaign,
    Sms,
    SmsAltChannel,
    Suggestion,
    SuggestionCall,
    SuggestionLink,
    Text,
)

from tests.factories import (
    EXPIRED,
    FAILED,
    NOT_RCS_USER,
    RCS_CLICK,
    RCS_DELIVERED_READ,
    RCS_DELIVERED_UNREAD,
    RCS_READ,
    UNDELIVERED,
)

RCS_UA, SMS_UA = Decimal("0.02"), Decimal("0.035")  # EUR per message / part to Ukraine, default tariff

#: Final status of the RCS message to each number, and of its SMS fallback (None: no fallback).
MAGIC = {
    RCS_DELIVERED_READ: (MessageStatus.READ, None),
    RCS_DELIVERED_UNREAD: (MessageStatus.DELIVERED, None),
    NOT_RCS_USER: (MessageStatus.NOT_SERVICE_USER, MessageStatus.DELIVERED),
    RCS_READ: (MessageStatus.READ, None),
    RCS_CLICK: (MessageStatus.READ, None),
    UNDELIVERED: (MessageStatus.UNDELIVERED, MessageStatus.UNDELIVERED),
    EXPIRED: (MessageStatus.EXPIRED, MessageStatus.EXPIRED),
    FAILED: (MessageStatus.FAILED, None),
}
#: The status changes a message goes through to reach its final status: one callback each.
PATHS = {
    "read": ["sending", "sent", "delivered", "read"],
    "failed": ["sending", "failed"],
}

_texts = itertools.count(1)


def path_to(final: str) -> list[str]:
    return PATHS.get(final, ["sending", "sent", final])


def wait_for(fetch, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(interval)


class Receiver:
    """A webhook endpoint on 127.0.0.1: records every POST (path, JSON body), answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def at(self, path: str) -> list[dict]:
        with self.lock:
            return [body for p, body in self.received if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver(live_server):  # one per live server (backend): message ids repeat across them
    r = Receiver()
    yield r
    r.close()


class Client:
    def __init__(self, base_url: str, key: str):
        token = AuthApi(ApiClient(Configuration(host=base_url))).login(LoginRequest(api_key=key)).bearer
        api = ApiClient(Configuration(host=base_url, access_token=token))
        self.balance = BalanceApi(api)
        self.campaigns = CampaignApi(api)
        self.rcs_campaigns = CampaignRCSApi(api)
        self.rcs_messages = MessageRCSApi(api)
        self.messages = MessagesApi(api)
        self.sms_messages = MessagesSMSApi(api)

    def balance_now(self) -> Decimal:
        return Decimal(str(self.balance.account_balance().data.balance))

    def message(self, message_id: int):
        (found,) = self.sms_messages.get_messages(filter_id=message_id).data
        return found


def card() -> Card:
    return Card(
        title="The message",
        text=f"Hello! ☺️ #{next(_texts)}",
        media=Media(url="https://domain.com/video.mp4"),
        suggestions=[
            Suggestion(SuggestionLink(type="link", text="Go to site", url="https://domain.com/", postback_data="site")),
            Suggestion(SuggestionCall(type="call", text="Call us", phone="380991112233", postback_data="call")),
        ],
    )


def status_callbacks(bodies: list[dict]) -> list[RcsStatusCallback]:
    return [RcsStatusCallback.from_dict(b) for b in bodies if "status" in b]


def test_rcs_campaign_with_sms_fallback(live_server, receiver):
    hook = "/campaign"
    c = Client(live_server.base_url, live_server.create_account(balance="100", webhook_url=receiver.url + hook))
    the_card = card()
    sent = c.rcs_campaigns.rcs_send(
        SendRcsCampaign(
            phones=[Phone(number=str(n), reference_id=f"rcs{n}") for n in MAGIC],
            sender="rcs_agent",
            options=Options(Cards(cards=[the_card])),
            alternative_channel=AlternativeChannel(sms=SmsAltChannel(text="Hello by SMS", sender="relaybox")),
        )
    )
    assert isinstance(sent, RcsSend200Response)
    campaign = sent.data
    assert (campaign.message_type, campaign.status, campaign.sender) == (MessageType.RCS, CampaignStatus.SENDING, "rcs_agent")
    assert Decimal(str(campaign.calculated_price)) == RCS_UA * len(MAGIC)
    # The RCS price is reserved on acceptance; fallbacks cost when sent. The server's engine runs at
    # simulator speed 0 and may already have settled some before this read: the refused RCS message
    # refunded, an undeliverable one refunded and its SMS fallback charged (exact final balance below).
    settling = {
        100 - RCS_UA * len(MAGIC) + RCS_UA * refunded - SMS_UA * fallbacks
        for refunded in range(5)
        for fallbacks in range(min(refunded, 3) + 1)
    }
    assert c.balance_now() in settling

    def finished():
        if c.campaigns.campaign(campaign.id).data.status != CampaignStatus.DONE:
            return None
        page = c.sms_messages.get_messages(filter_campaign_id=campaign.id, page_limit=15)
        reads = sum(m.status == MessageStatus.READ for m in page.data)
        return page if reads == 3 else None

    page = wait_for(finished)
    assert isinstance(page, GetMessages200Response) and page.meta.page.total == len(MAGIC) + 3
    rcs = {m.phone: m for m in page.data if m.type == MessageType.RCS}
    fallbacks = {m.id: m for m in page.data if m.type == MessageType.SMS}
    assert {p: m.status for p, m in rcs.items()} == {p: s for p, (s, _) in MAGIC.items()}

    for phone, (_, fallback_status) in MAGIC.items():
        m = rcs[phone]
        assert (m.campaign_id, m.reference_id, m.sender, m.amount.value) == (campaign.id, f"rcs{phone}", "rcs_agent", "0.0200000")
        # the content comes back through the client's Options / Cards / Suggestion models
        cards = m.rcs_options.actual_instance
        assert isinstance(cards, Cards) and cards.cards == [the_card]
        assert isinstance(cards.cards[0].suggestions[1].actual_instance, SuggestionCall)
        if fallback_status is None:
            assert m.alternative_channels is None
            continue
        alternative = m.alternative_channels.actual_instance
        assert isinstance(alternative, MessageApiSchemaAlternativeChannelsSms)
        assert alternative.sms.parts == 1
        (fallback_id,) = alternative.sms.id
        sms = fallbacks[fallback_id]
        assert (sms.phone, sms.status, sms.text, sms.sender, sms.campaign_id) == (
            phone, fallback_status, "Hello by SMS", "relaybox", campaign.id
        )
        assert sms.amount.value == "0.0350000" and sms.rcs_options is None and sms.reference_id is None
    assert c.message(fallback_id).id == fallback_id  # a fallback is a message of its own

    detail = c.campaigns.campaign_details(campaign.id)
    assert isinstance(detail, CampaignDetails200Response)
    d = detail.data
    assert (d.type, d.status, d.total_messages, d.total_price) == (MessageType.RCS, CampaignStatus.DONE, 8, "0.1600000")
    stats = d.statistics
    assert (stats.read, stats.delivered, stats.undelivered, stats.expired, stats.failed) == (3, 1, 1, 1, 1)
    assert (stats.not_rcs_user, stats.not_viber_user, stats.sent) == (1, 0, 0)
    alt = d.alternative_channels.sms.statistics
    assert (alt.delivered, alt.undelivered, alt.expired, alt.failed, alt.not_rcs_user) == (1, 1, 1, 0, 0)
    assert [x.id for x in c.campaigns.campaigns(filter_type="rcs").data] == [campaign.id]

    # charged: the delivered and read RCS messages, and the fallbacks that reached an operator
    assert c.balance_now() == 100 - RCS_UA * 4 - SMS_UA * 3

    # the receiver got each status change once, in the client's callback shape, and the click
    expected = Counter()
    for phone, (final, fallback_status) in MAGIC.items():
        expected.update((rcs[phone].id, s) for s in path_to(final.value))
    for fallback_id, sms in fallbacks.items():
        expected.update((fallback_id, s) for s in path_to(sms.status.value))

    def all_callbacks():
        bodies = receiver.at(hook)
        clicked = any("postback" in b for b in bodies)
        return clicked and len(status_callbacks(bodies)) >= sum(expected.values())

    wait_for(all_callbacks)
    time.sleep(1.0)  # anything sent twice would arrive by now
    got = status_callbacks(receiver.at(hook))
    assert Counter((cb.id, cb.status.value) for cb in got) == expected
    for cb in got:
        if cb.id in fallbacks:
            assert cb.msisdn == str(fallbacks[cb.id].phone) and cb.price == "0.0350000"
        else:
            phone = next(p for p, m in rcs.items() if m.id == cb.id)
            assert (cb.msisdn, cb.reference, cb.price, cb.currency) == (str(phone), f"rcs{phone}", "0.0200000", "EUR")
            assert cb.error == 0 and cb.error_description == "No errors" and cb.time_in is not None
    clicks = [RcsClickCallback.from_dict(b) for b in receiver.at(hook) if "postback" in b]
    assert [(x.id, x.reference, x.msisdn, x.text, x.postback) for x in clicks] == [
        (rcs[RCS_CLICK].id, f"rcs{RCS_CLICK}", str(RCS_CLICK), "Go to site", "site")
    ]
    assert clicks[0].time_click is not None


def test_single_rcs_messages(live_server, receiver):
    c = Client(live_server.base_url, live_server.create_account(balance="100"))
    hook = "/single"
    sent = c.rcs_messages.rcs_single(
        RcsMessage(
            phone=Phone(number=str(NOT_RCS_USER), reference_id="single1"),
            sender="rcs_agent",
            options=Options(Text(text=f"Hello! ☺️ #{next(_texts)}")),
            alternative_channel=AlternativeChannel(sms=SmsAltChannel(text="Hello by SMS", sender="relaybox", validity=12)),
            callback_url=receiver.url + hook,
        )
    )
    assert isinstance(sent, MessageResponse)
    info = sent.data
    assert (info.type, info.status, info.phone, info.reference_id) == (MessageType.RCS, MessageStatus.ACCEPTED, NOT_RCS_USER, "single1")
    assert info.amount.value == "0.0200000"

    def with_fallback():
        m = c.message(info.id)
        return m if m.alternative_channels is not None else None

    m = wait_for(with_fallback)
    assert m.status == MessageStatus.NOT_SERVICE_USER and m.campaign_id is None
    assert isinstance(m.rcs_options.actual_instance, Text)
    (fallback_id,) = m.alternative_channels.actual_instance.sms.id
    sms = wait_for(lambda: (f := c.message(fallback_id)).status == MessageStatus.DELIVERED and f)
    assert (sms.type, sms.validity, sms.text) == (MessageType.SMS, 12, "Hello by SMS")

    # the universal endpoint: RCS first, SMS as the fallback (the client's Rcs model needs text and cards)
    universal = c.messages.send_message(
        MessageUniversal(
            channels=["rcs", "sms"],
            phone=Phone(number=str(RCS_CLICK)),
            rcs=Rcs(sender="rcs_agent", text=f"Hi #{next(_texts)}", cards=[card()]),
            sms=Sms(sender="relaybox", text="Hello by SMS"),
            callback_url=receiver.url + hook,
        )
    )
    assert isinstance(universal, MessageResponse) and universal.data.type == MessageType.RCS
    read = wait_for(lambda: (x := c.message(universal.data.id)).status == MessageStatus.READ and x)
    assert read.alternative_channels is None  # delivered: no fallback
    assert isinstance(read.rcs_options.actual_instance, Cards)

    def done():
        bodies = receiver.at(hook)
        clicks = [b for b in bodies if "postback" in b]
        return bodies if len(status_callbacks(bodies)) >= 3 + 3 + 4 and clicks else None

    wait_for(done)
    time.sleep(1.0)
    got = Counter((cb.id, cb.status.value) for cb in status_callbacks(receiver.at(hook)))
    assert got == Counter(
        [(info.id, s) for s in path_to("not_service_user")]
        + [(fallback_id, s) for s in path_to("delivered")]
        + [(universal.data.id, s) for s in path_to("read")]
    )
    (click,) = [RcsClickCallback.from_dict(b) for b in receiver.at(hook) if "postback" in b]
    assert (click.id, click.reference, click.postback) == (universal.data.id, None, "site")
    assert c.balance_now() == 100 - SMS_UA - RCS_UA  # the fallback SMS and the read RCS message
