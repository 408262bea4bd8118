"""relaybox's OpenAPI document against BSG's published spec, field by field (tests/unit/openapi_shapes.py).

For every operation both have (BSG's spec as the official client `bsg_api` carries it), request
bodies, query parameters and success (200/201) bodies must agree in field names, required-ness (requests), JSON
types and enums — except for the differences in `INTENDED`, each of which docs/compatibility.md
lists under "OpenAPI differences" with the same reason.  A new difference fails the test; so does
a listed one that went away (remove it from both places).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relaybox.api.app import create_app
from relaybox.config import Settings
from tests.factories import TEST_JWT_SECRET
from tests.unit.openapi_shapes import bsg_operations, differences

REPO = Path(__file__).resolve().parents[2]

#: Each intended difference (as `differences` names it) and why.
INTENDED: dict[str, str] = {
    # requests: relaybox accepts more than BSG types
    "POST /api/campaigns/sms/send request phones[].number type": "phone numbers as JSON integers or digit strings",
    "POST /api/campaigns/sms/send-individual request messages[].phone type": "phone numbers as JSON integers or digit strings",
    "POST /api/campaigns/price request messages[].phone type": "phone numbers as JSON integers or digit strings",
    "POST /api/campaigns/rcs/send request phones[].number type": "phone numbers as JSON integers or digit strings",
    "POST /api/messages/send request phone.number type": "phone numbers as JSON integers or digit strings",
    "POST /api/messages/rcs/send request phone.number type": "phone numbers as JSON integers or digit strings",
    "POST /api/campaigns/sms/send-individual request start_at type": "BSG types it an integer by mistake: a date-time string (or a Unix time) is taken",
    "POST /api/campaigns/price request messages[].phone required": "a message to price without a phone is refused (422), not ignored",
    "POST /api/campaigns/sms/send request short_links[] fields": "short links are accepted as any objects and not acted on",
    "POST /api/messages/send request sms.short_links[] fields": "short links are accepted as any objects and not acted on",
    "POST /api/messages/send request rcs fields": "RCS content is checked by relaybox's own rules, each problem reported with its path; the document shows it as an object",
    "POST /api/messages/send request sms.validity only-relaybox": "the SMS fallback's own validity in hours (else the request's)",
    "POST /api/campaigns/rcs/send request callback_url only-relaybox": "status and click callbacks, as every other send has",
    "GET /api/accounts/tariff query sort only-relaybox": "the tariff list takes the common list parameters",
    "GET /api/accounts/tariff query way only-relaybox": "the tariff list takes the common list parameters",
    "GET /api/campaigns query sort enum": "the sort keys relaybox serves are enumerated (BSG: any string)",
    "GET /api/messages query sort enum": "the sort keys relaybox serves are enumerated (BSG: any string)",
    "GET /api/campaigns query filter[type] enum": "the campaign types are enumerated (BSG: any string)",
    "GET /api/campaigns query search[field] enum": "the searchable fields are enumerated (BSG: any string)",
    "POST /api/messages/send request channels[] enum": "the channels relaybox serves are enumerated",
    "POST /api/messages/send request telegram only-bsg": "relaybox sends no Telegram",
    "POST /api/messages/send request viber only-bsg": "relaybox sends no Viber",
    "POST /api/messages/send request voice only-bsg": "relaybox sends no voice messages",
    # the contact book (contacts, lists, stop list)
    "POST /api/contacts request phone type": "phone numbers as JSON integers or digit strings",
    "PUT /api/contacts/{id} request phone type": "phone numbers as JSON integers or digit strings",
    "POST /api/stoplist/attach request phones[] type": "phone numbers as JSON integers or digit strings",
    "POST /api/contacts request groups[] type": "lists by id, as BSG's examples send them, or as objects with an id, as BSG types them",
    "PUT /api/contacts/{id} request groups[] type": "lists by id, as BSG's examples send them, or as objects with an id, as BSG types them",
    "POST /api/contacts request fields[].value type": "a field value may be a JSON number as well as a string (null clears it)",
    "PUT /api/contacts/{id} request fields[].value type": "a field value may be a JSON number as well as a string (null clears it)",
    "GET /api/contacts/search query sort enum": "the sort keys relaybox serves are enumerated (BSG: any string)",
    "GET /api/groups/search query sort enum": "the sort keys relaybox serves are enumerated (BSG: any string)",
    "GET /api/stoplist/search query sort enum": "the sort keys relaybox serves are enumerated (BSG: any string)",
    "GET /api/stoplist query type enum": "the stop-list types are enumerated (BSG: any string)",
    "POST /api/stoplist/attach request types[] enum": "the stop-list types are enumerated (BSG: any string)",
    "POST /api/stoplist/detach request types[] enum": "the stop-list types are enumerated (BSG: any string)",
    "GET /api/stoplist response data[].whatsapp_stoplist only-relaybox": "relaybox keeps a WhatsApp stop list too (type whatsapp) and says whether a phone is on it",
    "GET /api/stoplist/search response data[].whatsapp_stoplist only-relaybox": "relaybox keeps a WhatsApp stop list too (type whatsapp) and says whether a phone is on it",
    "POST /api/stoplist/attach response data[].whatsapp_stoplist only-relaybox": "relaybox keeps a WhatsApp stop list too (type whatsapp) and says whether a phone is on it",
    "POST /api/campaigns/sms/send response skipped only-relaybox": "the stop-listed recipients left out of the send (never sent, never charged) and why, next to `data`; absent when there were none",
    "POST /api/campaigns/sms/send-individual response skipped only-relaybox": "the stop-listed recipients left out of the send (never sent, never charged) and why, next to `data`; absent when there were none",
    "POST /api/campaigns/sms/send-groups response skipped only-relaybox": "the stop-listed recipients left out of the send (never sent, never charged) and why, next to `data`; absent when there were none",
    "POST /api/campaigns/rcs/send response skipped only-relaybox": "the stop-listed recipients left out of the send (never sent, never charged) and why, next to `data`; absent when there were none",
    "POST /api/campaigns/rcs/send-groups response skipped only-relaybox": "the stop-listed recipients left out of the send (never sent, never charged) and why, next to `data`; absent when there were none",
    # responses: relaybox sends a subset of what BSG types
    "POST /api/campaigns/sms/send response data.message_type enum": "relaybox's message types are sms and rcs",
    "POST /api/campaigns/sms/send-individual response data.message_type enum": "relaybox's message types are sms and rcs",
    "POST /api/campaigns/rcs/send response data.message_type enum": "relaybox's message types are sms and rcs",
    "GET /api/campaigns response data[].message_type enum": "relaybox's message types are sms and rcs",
    "GET /api/campaigns/{id} response data.message_type enum": "relaybox's message types are sms and rcs",
    "PATCH /api/campaigns/{id}/stop response data.message_type enum": "relaybox's message types are sms and rcs",
    "GET /api/campaigns/{id}/detail response data.type enum": "relaybox's message types are sms and rcs",
    "GET /api/messages response data[].type enum": "relaybox's message types are sms and rcs",
    "POST /api/messages/send response data.type enum": "relaybox's message types are sms and rcs",
    "POST /api/messages/rcs/send response data.type enum": "relaybox's message types are sms and rcs",
    "GET /api/messages response data[].source enum": "every message relaybox holds came through its API: source rest",
    "POST /api/messages/send response data.source enum": "every message relaybox holds came through its API: source rest",
    "POST /api/messages/rcs/send response data.source enum": "every message relaybox holds came through its API: source rest",
    "GET /api/messages response data[].status enum": "no Viber, so no not_viber_user status",
    "POST /api/messages/send response data.status enum": "no Viber, so no not_viber_user status",
    "POST /api/messages/rcs/send response data.status enum": "no Viber, so no not_viber_user status",
    "GET /api/campaigns response data[].calculated_price only-bsg": "the price is in the send's answer; list, get and stop do not send it",
    "GET /api/campaigns/{id} response data.calculated_price only-bsg": "the price is in the send's answer; list, get and stop do not send it",
    "PATCH /api/campaigns/{id}/stop response data.calculated_price only-bsg": "the price is in the send's answer; list, get and stop do not send it",
    # added later: send-groups, statistics jobs, the add_to_contact_book/check_stop_list switches
    "POST /api/campaigns/sms/send request add_to_contact_book only-relaybox": "new phones go to the contact book when asked (off unless asked), as in the other sends",
    "POST /api/campaigns/sms/send request check_stop_list only-relaybox": "the stop list is checked unless turned off, as in every other send",
    "POST /api/campaigns/sms/send-individual request add_to_contact_book only-relaybox": "new phones go to the contact book when asked (off unless asked), as in the other sends",
    "POST /api/campaigns/sms/send-individual request check_stop_list only-relaybox": "the stop list is checked unless turned off, as in every other send",
    "POST /api/campaigns/sms/send-groups request groups required": "a send to lists must name them: groups, sender and text are required (BSG's `contacts` alternative is not served)",
    "POST /api/campaigns/sms/send-groups request check_stop_list only-relaybox": "the stop list is checked unless turned off, as in every other send",
    "POST /api/campaigns/sms/send-groups request short_links[] fields": "short links are accepted as any objects and not acted on",
    "POST /api/campaigns/rcs/send-groups request callback_url only-relaybox": "status and click callbacks, as every other send has",
    "POST /api/campaigns/rcs/send-groups request validity_seconds only-relaybox": "accepted as in the other RCS sends (and BSG's own example), not acted on: validity governs expiry",
    "POST /api/campaigns/sms/send-groups response data.message_type enum": "relaybox's message types are sms and rcs",
    "POST /api/campaigns/rcs/send-groups response data.message_type enum": "relaybox's message types are sms and rcs",
    "POST /api/stat/jobs response error enum": "the error codes are enumerated: 0 created, 91 too many jobs (BSG: any integer)",
    "POST /api/stat/jobs response errorDescription enum": "the error descriptions are enumerated with their codes (BSG: any string)",
    "DELETE /api/stat/jobs/{id} response error enum": "the error codes are enumerated: 0 deleted, 90 not found (BSG: any integer)",
    "DELETE /api/stat/jobs/{id} response errorDescription enum": "the error descriptions are enumerated with their codes (BSG: any string)",
    "GET /api/stat/jobs/{id} query page[offset] only-relaybox": "a job's rows are loaded a page at a time (default 1,000, at most 10,000)",
    "GET /api/stat/jobs/{id} query page[limit] only-relaybox": "a job's rows are loaded a page at a time (default 1,000, at most 10,000)",
    "GET /api/stat/jobs/{id} query sort only-relaybox": "the page takes the common list parameters (rows stay in message id order)",
    "GET /api/stat/jobs/{id} query way only-relaybox": "the page takes the common list parameters (rows stay in message id order)",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    db = tmp_path_factory.mktemp("doc") / "relaybox.db"
    return create_app(Settings(database_url=f"sqlite:///{db}", jwt_secret=TEST_JWT_SECRET)).openapi()


def test_the_comparison_covers_the_operations_both_have(document):
    ours = {(m.upper(), re.sub(r"\{[^}]+\}", "{}", p)) for p, ops in document["paths"].items() for m in ops}
    both = ours & set(bsg_operations())
    _, compared = differences(document)
    assert len(compared) == len(both) >= 15  # login ... rcs single: every One API operation relaybox serves


def test_the_document_differs_from_bsg_only_as_intended(document):
    found, _ = differences(document)
    assert sorted(set(found) - set(INTENDED)) == [], "new differences from BSG's spec"
    assert sorted(set(INTENDED) - set(found)) == [], "listed differences that no longer exist"


def test_the_differences_are_documented():
    text = (REPO / "docs" / "compatibility.md").read_text()
    section = text.split("## OpenAPI differences", 1)[1].split("\n## ", 1)[0]
    missing = [d for d in INTENDED if f"`{d}`" not in section]
    assert missing == []


def test_the_comparison_sees_a_difference():
    """The comparison is not blind: a field renamed, retyped or made optional shows up."""
    from tests.unit.openapi_shapes import Shape, compare

    number = Shape(frozenset({"integer"}))
    ours = Shape(frozenset({"object"}), fields={"phone": Shape(frozenset({"string"}))}, required=frozenset())
    theirs = Shape(frozenset({"object"}), fields={"phone": number, "text": number}, required=frozenset({"phone"}))
    assert sorted(compare("X request", ours, theirs, request=True)) == [
        "X request phone required", "X request phone type", "X request text only-bsg",
    ]
