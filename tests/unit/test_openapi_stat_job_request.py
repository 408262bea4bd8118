"""`POST /api/stat/jobs`'s documented body (`schemas.StatJobRequest`, schema only) accepts and refuses
what the parser that serves it (`services/stat_jobs.py:parse_request`) does."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema_rs
import pytest

from relaybox.api.app import create_app
from relaybox.config import Settings
from relaybox.errors import ValidationFailed
from relaybox.services.stat_jobs import parse_request
from tests.factories import TEST_JWT_SECRET

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = {"type": "params", "time_in_from": "2026-11-01 00:00:00", "time_in_to": "2026-11-30 00:00:00"}

CASES = [
    (WINDOW, True),
    ({**WINDOW, "time_in_from": "2026-11-01T00:00:00+02:00"}, True),
    ({**WINDOW, "status": "Delivered", "country": "UA", "operator_id": "25501", "campaign_id": 7,
      "phones": [380971230011, "+380971230012"], "sender": 5, "source": ["x"], "sl_clicks": "1"}, True),
    ({**WINDOW, "status": "", "country": "", "operator_id": ""}, True),
    ({"type": "message", "message_id": [1, 2]}, True),
    ({"type": "message", "message_id": []}, True),
    ({"type": "message", "message_id": list(range(1, 10002))}, False),
    ({"type": "message", "message_id": [0]}, False),
    ({"type": "message", "message_id": ["1"]}, False),
    ({"type": "message", "message_id": [True]}, False),
    ({"type": "message"}, False),
    ({"type": "report"}, False),
    ({}, False),
    ({"type": "params", "time_in_from": "2026-11-01 00:00:00"}, False),
    ({**WINDOW, "time_in_to": 5}, False),
    ({**WINDOW, "status": "delivered"}, False),
    ({**WINDOW, "operator_id": "2550"}, False),
    ({**WINDOW, "operator_id": 25501}, False),
    ({**WINDOW, "campaign_id": 0}, False),
    ({**WINDOW, "campaign_id": "7"}, False),
    ({**WINDOW, "campaign_id": True}, False),
    ({**WINDOW, "phones": "380971230011"}, False),
    ({**WINDOW, "country": 5}, False),
]


@pytest.fixture(scope="module")
def validator():
    document = create_app(Settings(database_url="sqlite:///:memory:", jwt_secret=TEST_JWT_SECRET)).openapi()
    schema = document["paths"]["/api/stat/jobs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})


@pytest.mark.parametrize(("body", "accepted"), CASES)
def test_the_schema_and_the_parser_agree(validator, body, accepted):
    assert validator.is_valid(body) is accepted
    if accepted:
        parse_request(body, 1, NOW)
    else:
        with pytest.raises(ValidationFailed):
            parse_request(body, 1, NOW)
