"""Conformance, the whole audience chain through the official BSG client (`bsg-sdk`) alone, against
a real server on both backends: custom fields → a list → contacts with values → attach in bulk →
the stop list → the campaign's price → `sms/send-groups` with placeholders → the messages list.

Nothing is written into the store behind the API's back, and every response goes through
`strict()`: the client's model for the operation parsed it, the status is the one the spec gives,
and no key of the JSON was dropped on the way (the generated models ignore keys they do not know,
and answer `None` for a 2xx status they do not expect, so either would otherwise pass unseen).

The expected texts, parts and prices are worked out here from the documented rules
(docs/sending-to-lists.md: placeholders, `{{`/`}}`, empty values; GSM 03.38 / UCS-2 parts of
160/153 and 70/67 units, extension characters counting two septets), not read from the server.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from bsg_api import (
    ApiClient,
    AuthApi,
    BalanceApi,
    CampaignApi,
    CampaignSMSApi,
    Configuration,
    ContactApi,
    ContactFieldApi,
    ContactListApi,
    MessagesSMSApi,
    StopListApi,
)
from bsg_api.models import (
    AccountBalance200Response,
    CampaignResponse,
    CampaignDetails200Response,
    CampaignPrice200Response,
    CampaignPriceRequest,
    CampaignStatus,
    ContactCreate201Response,
    ContactFieldCreate201Response,
    ContactFieldCreateRequest,
    ContactFieldType,
    ContactFieldValuePair,
    ContactList200Response,
    ContactListAttachRequest,
    ContactListCreate201Response,
    ContactListCreateRequest,
    Contacts200Response,
    GetMessages200Response,
    LoginRequest,
    MessageStatus,
    SmsCampaignResponse,
    SmsSendGroupsRequest,
    StoplistAdd200Response,
    StoplistAddRequest,
    StoreContact,
    TokenSchema,
)
from pydantic import BaseModel

#: EUR per SMS part on the default tariff (the shipped price list, src/relaybox/data/pricelist.json).
RATE = {"UA": Decimal("0.035"), "GB": Decimal("0.042")}

#: The template: two placeholders, a literal `{VIP}` written with the documented escapes, and long
#: enough that a long name pushes its text past one GSM part while a short one stays in one.
TEMPLATE = ("Hi {name}, you have {points} points in your {{VIP}} wallet. Spend them by Friday in any "
            "of our shops or online; reply STOP to opt out. See you soon!")

#: The GSM 03.38 extension table: each of these costs two septets (ESC + code).
GSM_EXTENSION = set("^{}\\[~]|€\f")
#: The GSM 03.38 basic table.
GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")


def personalise(template: str, values: dict[str, str]) -> str:
    """The documented placeholder rules, written out for this test's templates: `{{` and `}}` are
    literal braces, `{field}` is the contact's value ("" when it has none or an empty one)."""
    out, i = [], 0
    while i < len(template):
        if template.startswith(("{{", "}}"), i):
            out.append(template[i])
            i += 2
        elif template[i] == "{":
            end = template.index("}", i)
            out.append(values.get(template[i + 1:end]) or "")
            i = end + 1
        else:
            out.append(template[i])
            i += 1
    return "".join(out)


def parts(text: str) -> int:
    """SMS parts of `text`: GSM 03.38 when every character is in it (160 septets in one part, else
    153 a part), otherwise UCS-2 (70 units, else 67). This test's texts keep their two-septet
    characters and surrogate pairs away from part boundaries, so division is exact for them."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        units, single, multi = sum(2 if c in GSM_EXTENSION else 1 for c in text), 160, 153
    else:
        units, single, multi = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else -(-units // multi)


def unknown_keys(raw, parsed, path: str = "") -> list[str]:
    """Keys of the JSON `raw` that the parsed model `parsed` has no field for (so the client dropped
    them), as paths written the way docs/compatibility.md writes them (`data[].whatsapp_stoplist`);
    fails on a list whose parsed form is not as long as its JSON."""
    if isinstance(parsed, BaseModel) and "actual_instance" in type(parsed).model_fields:  # oneOf/anyOf wrapper
        return unknown_keys(raw, parsed.actual_instance, path)
    if isinstance(parsed, BaseModel):
        assert isinstance(raw, dict), f"{path or 'the body'}: a JSON object was parsed from {raw!r}"
        fields = {(f.alias or name): name for name, f in type(parsed).model_fields.items()}
        lost = []
        for key, value in raw.items():
            if key not in fields:
                lost.append(path + key)
            else:
                lost += unknown_keys(value, getattr(parsed, fields[key]), f"{path}{key}.")
        return lost
    if isinstance(parsed, list):
        assert isinstance(raw, list) and len(raw) == len(parsed), f"{path}: {len(raw)} items, {len(parsed)} parsed"
        return sorted({k for r, p in zip(raw, parsed, strict=True) for k in unknown_keys(r, p, f"{path[:-1]}[].")})
    return []


def strict(call, model: type, *args, status: int = 200, extensions: frozenset[str] = frozenset(), **kwargs):
    """Call an operation's `*_with_http_info` form: the answer's status must be `status`, its body
    must have parsed as `model` (not `None`), and every key of the JSON must be in the parsed model
    but for `extensions`, paths of relaybox's documented additions (docs/compatibility.md).
    Returns (the model, the JSON)."""
    answer = call(*args, **kwargs)
    body = json.loads(answer.raw_data)
    assert answer.status_code == status, (answer.status_code, body)
    assert isinstance(answer.data, model), f"{model.__name__} expected, the client gave {answer.data!r}"
    lost = set(unknown_keys(body, answer.data))
    assert lost <= extensions, f"keys the client's {model.__name__} dropped: {sorted(lost - extensions)}"
    return answer.data, body


#: relaybox's additions to a stop-list entry and to a campaign send's answer (docs/compatibility.md).
STOPLIST_EXTRA = frozenset({"data[].whatsapp_stoplist"})
SEND_EXTRA = frozenset({"skipped"})


class Client:
    """The official client's API classes, logged in with one key."""

    def __init__(self, base_url: str, key: str):
        token, _ = strict(AuthApi(ApiClient(Configuration(host=base_url))).login_with_http_info, TokenSchema,
                          LoginRequest(api_key=key))
        api = ApiClient(Configuration(host=base_url, access_token=token.bearer))
        self.contacts, self.fields, self.lists = ContactApi(api), ContactFieldApi(api), ContactListApi(api)
        self.stoplist, self.balance = StopListApi(api), BalanceApi(api)
        self.campaigns, self.sms, self.messages = CampaignApi(api), CampaignSMSApi(api), MessagesSMSApi(api)


#: The audience: phone → (country, name, points, in the list?, stop lists). Phones ending in 0011,
#: 0021, 0123, 0456 are delivered by the simulator (docs/simulator.md).
AUDIENCE = {
    380971230011: ("UA", "Olena", "120", True, ()),
    380971230021: ("UA", "Maximilian-Alexander Hohenberg", "1500", True, ()),  # two GSM parts
    380971232011: ("UA", "Іван", "7", True, ()),  # UCS-2
    380971231011: ("UA", "Vera", "3", True, ("viber",)),  # stop-listed for Viber only: still gets the SMS
    380971239011: ("UA", "Stopped", "9", True, ("sms",)),  # on the SMS stop list: neither sent nor charged
    380971233011: ("UA", "Outsider", "5", False, ()),  # in the book, not in the list
    447700900123: ("GB", "", " 42 ", True, ()),  # an empty name; a number written with blanks
    447700900456: ("GB", "Bartholomew Fitzgerald-Smythe", "77", True, ()),  # two GSM parts, another rate
}


@pytest.fixture(scope="module")
def client(live_server) -> Client:
    return Client(live_server.base_url, live_server.create_account(balance="50"))


def wait_done(client: Client, campaign_id: int, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        campaign, _ = strict(client.campaigns.campaign_with_http_info, CampaignResponse, campaign_id)
        if campaign.data.status == CampaignStatus.DONE:
            return campaign.data
        assert time.monotonic() < deadline, f"campaign still {campaign.data.status}"
        time.sleep(0.1)


def test_fields_list_contacts_attach_price_send_groups_and_messages(client):
    # custom fields: the one the greeting names, and a typed one
    name, _ = strict(client.fields.contact_field_create_with_http_info, ContactFieldCreate201Response,
                     ContactFieldCreateRequest(name="name", type=ContactFieldType.TEXT), status=201)
    points, _ = strict(client.fields.contact_field_create_with_http_info, ContactFieldCreate201Response,
                       ContactFieldCreateRequest(name="points", type=ContactFieldType.NUMBER), status=201)
    assert (name.data.name, points.data.name, points.data.type) == ("name", "points", ContactFieldType.NUMBER)

    # a list
    made, _ = strict(client.lists.contact_list_create_with_http_info, ContactListCreate201Response,
                     ContactListCreateRequest(name="Loyalty", description="points holders"), status=201)
    group = made.data.id
    assert made.data.items == 0

    # contacts with values, none in a list yet
    ids = {}
    for phone, (_, first, score, _, _) in AUDIENCE.items():
        created, _ = strict(client.contacts.contact_create_with_http_info, ContactCreate201Response, StoreContact(
            phone=phone, fields=[ContactFieldValuePair(id=name.data.id, value=first),
                                 ContactFieldValuePair(id=points.data.id, value=score)]), status=201)
        assert created.data.phone == phone and created.data.groups == []
        ids[phone] = created.data.id

    # attach in bulk, one request
    members = [ids[p] for p, row in AUDIENCE.items() if row[3]]
    attached = client.lists.contact_list_attach_with_http_info(ContactListAttachRequest(contacts=members,
                                                                                        groups=[group]))
    assert (attached.status_code, attached.data) == (200, {})  # the spec's answer is a bare object
    listed, _ = strict(client.contacts.contacts_with_http_info, Contacts200Response, groups=[group], page_limit=15)
    assert sorted(c.phone for c in listed.data) == sorted(p for p, row in AUDIENCE.items() if row[3])

    # the stop lists, per channel
    for channel in ("sms", "viber"):
        phones = [p for p, row in AUDIENCE.items() if channel in row[4]]
        added, _ = strict(client.stoplist.stoplist_add_with_http_info, StoplistAdd200Response,
                          StoplistAddRequest(phones=phones, types=[channel]), extensions=STOPLIST_EXTRA)
        assert [(e.phone, e.id) for e in added.data] == [(p, ids[p]) for p in phones]
    one, _ = strict(client.lists.contact_list_with_http_info, ContactList200Response, group)
    assert (one.data.items, one.data.stop_list_count) == (len(members), 2)

    # what each contact should get, from the documented rules
    receivers = {p: row for p, row in AUDIENCE.items() if row[3] and "sms" not in row[4]}
    # a number field's value is kept without surrounding blanks (docs/contacts.md)
    texts = {p: personalise(TEMPLATE, {"name": row[1], "points": row[2].strip()}) for p, row in receivers.items()}
    price = {p: RATE[row[0]] * parts(texts[p]) for p, row in receivers.items()}
    # the audience covers what it is meant to: one part and several, GSM and UCS-2, two rates
    assert {p: parts(t) for p, t in texts.items()} == {
        380971230011: 1, 380971230021: 2, 380971232011: 3, 380971231011: 1, 447700900123: 1, 447700900456: 2}
    assert texts[447700900123].startswith("Hi , you have 42 points in your {VIP} wallet.")
    total = sum(price.values())

    quoted, _ = strict(client.campaigns.campaign_price_with_http_info, CampaignPrice200Response,
                       CampaignPriceRequest(sender="relaybox", text=TEMPLATE, groups=[group]))
    assert (Decimal(str(quoted.price)), quoted.currency) == (total, "EUR")

    before, _ = strict(client.balance.account_balance_with_http_info, AccountBalance200Response)
    sent, body = strict(client.sms.sms_send_groups_with_http_info, SmsCampaignResponse,
                        SmsSendGroupsRequest(groups=[group], sender="relaybox", text=TEMPLATE),
                        extensions=SEND_EXTRA)
    assert Decimal(str(sent.data.calculated_price)) == total and sent.data.currency == "EUR"
    assert body["skipped"] == {"contacts.380971239011.phone": ["The phone is on the SMS stop list: not sent."]}
    wait_done(client, sent.data.id)

    page, _ = strict(client.messages.get_messages_with_http_info, GetMessages200Response,
                     filter_campaign_id=sent.data.id, page_limit=50)
    got = {m.phone: m for m in page.data}
    assert sorted(got) == sorted(receivers) and page.meta.page.total == len(receivers)
    assert {p: m.text for p, m in got.items()} == texts
    assert {p: m.parts for p, m in got.items()} == {p: parts(t) for p, t in texts.items()}
    assert {p: Decimal(m.amount.value) for p, m in got.items()} == price
    assert {p: m.country for p, m in got.items()} == {p: row[0] for p, row in receivers.items()}
    assert all(m.status == MessageStatus.DELIVERED and m.campaign_id == sent.data.id for m in got.values())

    detail, _ = strict(client.campaigns.campaign_details_with_http_info, CampaignDetails200Response, sent.data.id)
    assert (detail.data.total_phones, detail.data.total_messages) == (len(members), len(receivers))
    assert Decimal(detail.data.total_price) == total
    after, _ = strict(client.balance.account_balance_with_http_info, AccountBalance200Response)
    # the stop-listed contact cost nothing: the balance went down by the receivers' prices alone
    assert Decimal(str(before.data.balance)) - Decimal(str(after.data.balance)) == total
