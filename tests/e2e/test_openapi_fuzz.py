"""schemathesis, driven by relaybox's own `/openapi.json`, against a live server (SQLite).

It generates requests — bodies for every operation that takes one, query and path parameters —
from the document and checks every answer: no 5xx, and each status, content type and body as the
document declares it for that operation.  A crash the legacy family answers in-band (error 5 in an
HTTP 200, which no status check sees) is caught in the server's log.  The sends use a test key (the
simulator delivers them, nothing is charged) on an account whose rate limits are out of the way.

Cost: a few examples per operation and phase (`EXAMPLES`: about 85 cases), about 30 s on the 2-core machine;
`bench/openapi_fuzz.py` runs the same with hundreds (docs/compatibility.md, "OpenAPI differences").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import start_server, stop_server

pytestmark = pytest.mark.fuzz

EXAMPLES = 3
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
KEY = "test_" + "FuzzOpenApiDocument" + "0" * 8
UNLIMITED = ("--requests-per-second", "10000000", "--requests-burst", "10000000",
             "--messages-per-second", "100000000", "--messages-burst", "100000000")


def st() -> str:
    beside = Path(sys.executable).with_name("st")
    return str(beside) if beside.exists() else (shutil.which("st") or "st")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("fuzz"), "--sim-speed", "0")
    try:
        server.cli("account", "create", "--name", "fuzz", "--balance", "1000", "--currency", "EUR",
                   "--api-key", KEY, *UNLIMITED)
        # The sends to contact lists need a list of the account with a contact: the document's examples
        # name list 1 (`{"groups": [1], ..., "text": "Hello {name}"}`), the account's default list in this
        # fresh database.
        book = tmp_path_factory.mktemp("book") / "contacts.csv"
        book.write_text("phone,name\n380972000000,Olena\n", encoding="utf-8")
        imported = server.cli("contacts", "import", str(book), "--account", "1", "--create-fields")
        assert "into list 1 " in imported, imported
        yield server
    finally:
        stop_server(server)


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(server, tmp_path):
    report = tmp_path / "report.json"
    result = subprocess.run(
        [st(), "run", f"{server.base_url}/openapi.json", "--url", server.base_url, "-H", f"X-API-KEY: {KEY}",
         "--checks", CHECKS, "--phases", "examples,fuzzing", "--max-examples", str(EXAMPLES), "--seed", "14",
         "--workers", "1", "--request-timeout", "30", "--suppress-health-check", "all", "--warnings", "off",
         "--report", "json", "--report-json-path", str(report)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )
    output = result.stdout[-5000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    data = json.loads(report.read_text())
    assert data["failures"] == [] and data["errors"] == [], output
    assert data["operations"]["tested"] == data["operations"]["total"] >= 26
    assert data["test_cases"]["generated"] >= 2 * 26  # operations with few inputs (no parameters) take fewer

    # every operation was tested (those with a body with generated bodies), and the sends got through: their
    # 200 answers were checked against the document too
    rates = data["valid_rates"]
    accepted = {op for op, phases in rates.items() if any(p.get("accepted") for p in phases.values())}
    assert {"POST /api/campaigns/sms/send", "POST /api/campaigns/sms/send-individual", "POST /api/campaigns/price",
            "POST /api/messages/send", "POST /api/messages/rcs/send", "POST /api/campaigns/rcs/send",
            "POST /api/campaigns/sms/send-groups", "POST /api/campaigns/rcs/send-groups", "POST /api/stat/jobs",
            "POST /rest/sms/create"} <= accepted, rates

    server.process.terminate()  # flush the log: a crash answered in-band (legacy error 5) is logged there
    log = server.process.communicate(timeout=30)[0].decode(errors="replace")
    assert "unhandled error" not in log, log[-5000:]
