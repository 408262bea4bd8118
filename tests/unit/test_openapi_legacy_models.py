"""The legacy create/price request model of the document (legacy/responses.py:SmsRequest) agrees
with the hand-written parser (legacy/schemas.py:parse_sms_request).

Bodies the model accepts are accepted by the parser (no request-level error: 3, 7, 10, 12, 24);
bodies it refuses for their shape are refused by the parser with the legacy code the document's
descriptions name.  Rules that no schema can state (a possible phone number, a known tariff, a
valid sender or text) are the services' and are answered per recipient or as error bodies, which
the document's 200 answers include.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from relaybox.api.legacy.responses import SmsRequest
from relaybox.api.legacy.schemas import parse_sms_request
from relaybox.errors import LegacyCode, ValidationFailed
from relaybox.services.sending import MAX_RECIPIENTS

PHONE = {"destination": "phone", "msisdn": "380972000000", "reference": "r1", "originator": "relaybox", "body": "Hi"}
PHONES = {"destination": "phones", "originator": "relaybox", "body": "Hi",
          "phones": [{"msisdn": "380972000000", "reference": "r1"}, {"msisdn": 380972000001}]}
INDIVIDUAL = {"destination": "individual",
              "phones": [{"msisdn": "380972000000", "reference": "r1", "originator": "relaybox", "body": "Hi"}]}

ACCEPTED = [
    PHONE,
    {**PHONE, "msisdn": 380972000000, "reference": 12, "originator": 12345, "body": 7},  # numbers for strings
    {**PHONE, "validity": 24}, {**PHONE, "validity": "24"}, {**PHONE, "validity": ""}, {**PHONE, "validity": None},
    {**PHONE, "tariff": 1}, {**PHONE, "tariff": "1"}, {**PHONE, "tariff": None},
    {**PHONE, "send_time": "2030-01-01 10:00:00"}, {**PHONE, "send_time": 1893456000}, {**PHONE, "send_time": None},
    {**PHONE, "callback_url": "https://example.com/hook"}, {**PHONE, "callback_url": None},
    {**PHONE, "transliterate": True}, {**PHONE, "transliterate": "1"}, {**PHONE, "transliterate": 0},
    {**PHONE, "transliterate": "false"}, {**PHONE, "unknown": "ignored"},
    PHONES, {**PHONES, "phones": [{"msisdn": "380972000000"}] * MAX_RECIPIENTS},
    INDIVIDUAL,
]

#: (body, the parser's legacy code)
REFUSED = [
    ({**PHONE, "destination": None}, LegacyCode.NOT_ENOUGH_PARAMETERS),
    ({**PHONE, "destination": "fax"}, LegacyCode.INVALID_PARAMETERS),
    ({k: v for k, v in PHONE.items() if k != "msisdn"}, LegacyCode.NOT_ENOUGH_PARAMETERS),
    ({k: v for k, v in PHONES.items() if k != "phones"}, LegacyCode.NOT_ENOUGH_PARAMETERS),
    ({k: v for k, v in PHONES.items() if k != "originator"}, LegacyCode.NOT_ENOUGH_PARAMETERS),
    ({k: v for k, v in PHONES.items() if k != "body"}, LegacyCode.NOT_ENOUGH_PARAMETERS),
    ({**PHONES, "phones": []}, LegacyCode.INVALID_PAYLOAD),
    ({**PHONES, "phones": "380972000000"}, LegacyCode.INVALID_PAYLOAD),
    ({**PHONES, "phones": ["380972000000"]}, LegacyCode.INVALID_PAYLOAD),
    ({**PHONES, "phones": [{"msisdn": "380972000000"}] * (MAX_RECIPIENTS + 1)}, LegacyCode.BATCH_TOO_LARGE),
    ({**INDIVIDUAL, "phones": []}, LegacyCode.INVALID_PAYLOAD),
    ({**PHONE, "send_time": True}, LegacyCode.INVALID_SEND_TIME),
    ({**PHONE, "send_time": -1}, LegacyCode.INVALID_SEND_TIME),
    ({**PHONE, "send_time": 2**33}, LegacyCode.INVALID_SEND_TIME),
    ({**PHONE, "send_time": ["2030"]}, LegacyCode.INVALID_SEND_TIME),
    ({**PHONE, "callback_url": "https://x/" + "a" * 500}, LegacyCode.INVALID_PARAMETERS),
    ({**PHONE, "callback_url": 5}, LegacyCode.INVALID_PARAMETERS),
    ({**PHONE, "transliterate": "maybe"}, LegacyCode.INVALID_PARAMETERS),
    ({**PHONE, "transliterate": 2}, LegacyCode.INVALID_PARAMETERS),
]


@pytest.mark.parametrize("body", ACCEPTED, ids=range(len(ACCEPTED)))
def test_what_the_model_accepts_the_parser_accepts(body):
    SmsRequest.model_validate(body)
    parse_sms_request(body)


@pytest.mark.parametrize(("body", "code"), REFUSED, ids=range(len(REFUSED)))
def test_what_the_model_refuses_the_parser_refuses(body, code):
    with pytest.raises(ValidationError):
        SmsRequest.model_validate(body)
    with pytest.raises(ValidationFailed) as refused:
        parse_sms_request(body)
    assert refused.value.errors[0].legacy_code == code
