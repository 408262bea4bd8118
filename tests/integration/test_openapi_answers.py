"""Every operation's real answers, success and error, fit what the OpenAPI document says of them.

The answers are built as dicts on the hot paths (oneapi/present.py, legacy/present.py), not from
the models the document is generated from; this test drives each documented operation through
the ASGI app to its 200 (and to its error envelopes) and validates every body with JSON Schema
against the response the document declares for that status, each object closed to keys the
document does not describe.  A status the document does not declare for the operation fails the
test too.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import jsonschema_rs
import pytest

from tests.conftest import wait_until

from relaybox.engine import stat_jobs as job_runner
from relaybox.services import admin, inbound
from tests.contact_rows import add_field, add_list, stop_list
from tests.factories import DELIVERED, make_account
from tests.integration.test_rcs_flow import CARD

_texts = itertools.count(1)
STOPPED = 380971239011  # put on the stop list: the sends' answers name it in `skipped`


def closed(schema):
    """`schema` with every object that lists its properties closed to others (`additionalProperties:
    false`), so that a key the document does not describe fails validation."""
    if isinstance(schema, list):
        return [closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: closed(v) for k, v in schema.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


class Checker:
    def __init__(self, document: dict) -> None:
        self.document = document
        self.components = closed(document["components"])
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(self, method: str, template: str, response) -> dict:
        operation = self.document["paths"][template][method.lower()]
        status = str(response.status_code)
        assert status in operation["responses"], f"{method} {template} answered {status}, not in the document"
        media = response.headers["content-type"].split(";")[0]
        content = operation["responses"][status]["content"]
        assert media in content, f"{method} {template} {status} answered {media}, not in the document"
        if media != "application/json":  # a file (the CSV download): its media type is what is documented
            self.seen.add((method.upper(), template, response.status_code))
            return response.content
        schema = content[media]["schema"]
        body = response.json()
        validator = jsonschema_rs.Draft202012Validator({**closed(schema), "components": self.components})
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(body)]
        assert errors == [], f"{method} {template} {status}: {errors}\n{body}"
        self.seen.add((method.upper(), template, response.status_code))
        return body


def text() -> str:
    return f"Hello #{next(_texts)}"


async def test_every_operation_answers_as_documented(app, client, headers, account):
    document = app.openapi()
    check = Checker(document)
    key = account[1]
    bad = {"X-API-KEY": "live_" + "x" * 24}

    # -- One API
    token = check("POST", "/api/auth/login", await client.post("/api/auth/login", json={"api_key": key}))["bearer"]
    bearer = {"Authorization": f"Bearer {token}"}
    check("POST", "/api/auth/login", await client.post("/api/auth/login", json={"api_key": "nope"}))
    check("POST", "/api/auth/refresh", await client.post("/api/auth/refresh", headers=bearer))
    check("POST", "/api/auth/refresh", await client.post("/api/auth/refresh"))
    check("GET", "/api/accounts/balance", await client.get("/api/accounts/balance", headers=bearer))
    check("GET", "/api/accounts/balance", await client.get("/api/accounts/balance", headers=bad))
    check("GET", "/api/accounts/tariff", await client.get("/api/accounts/tariff", headers=headers))
    check("GET", "/api/accounts/tariff", await client.get("/api/accounts/tariff?page[limit]=1", headers=headers))

    sms = {"phones": [{"number": DELIVERED, "reference_id": "oa1"}], "sender": "relaybox", "text": text()}
    sent = check("POST", "/api/campaigns/sms/send", await client.post("/api/campaigns/sms/send", json=sms, headers=headers))
    campaign_id = sent["data"]["id"]
    check("POST", "/api/campaigns/sms/send", await client.post("/api/campaigns/sms/send", json=sms, headers=headers))  # 429
    check("POST", "/api/campaigns/sms/send",
          await client.post("/api/campaigns/sms/send", json={**sms, "phones": [{"number": 1}]}, headers=headers))  # 422
    individual = {"messages": [{"phone": DELIVERED, "text": text(), "sender": "relaybox"}],
                  "start_at": (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")}
    scheduled = check("POST", "/api/campaigns/sms/send-individual",
                      await client.post("/api/campaigns/sms/send-individual", json=individual, headers=headers))
    check("POST", "/api/campaigns/price", await client.post(
        "/api/campaigns/price", json={"sender": "relaybox", "text": text(), "messages": [{"phone": DELIVERED}]},
        headers=headers))
    check("GET", "/api/campaigns", await client.get("/api/campaigns?page[limit]=30&sort=date&way=desc", headers=headers))
    check("GET", "/api/campaigns", await client.get("/api/campaigns?page[limit]=29", headers=headers))
    check("GET", "/api/campaigns/{campaign_id}", await client.get(f"/api/campaigns/{campaign_id}", headers=headers))
    check("GET", "/api/campaigns/{campaign_id}", await client.get("/api/campaigns/999999", headers=headers))
    check("GET", "/api/campaigns/{campaign_id}/detail",
          await client.get(f"/api/campaigns/{campaign_id}/detail", headers=headers))
    stop = f"/api/campaigns/{scheduled['data']['id']}/stop"
    check("PATCH", "/api/campaigns/{campaign_id}/stop", await client.patch(stop, headers=headers))
    check("PATCH", "/api/campaigns/{campaign_id}/stop", await client.patch(stop, headers=headers))  # 422: stopped
    check("GET", "/api/messages", await client.get("/api/messages?filter[campaign_id]=" + str(campaign_id),
                                                     headers=headers))
    check("GET", "/api/messages", await client.get("/api/messages?filter[id]=0", headers=headers))
    single = {"channels": ["sms"], "phone": {"number": DELIVERED}, "sms": {"sender": "relaybox", "text": text()}}
    check("POST", "/api/messages/send", await client.post("/api/messages/send", json=single, headers=headers))
    check("POST", "/api/messages/send",
          await client.post("/api/messages/send", json={**single, "sms": {"text": text(), "sender": "relaybox"},
                                                         "dry_run": True}, headers=headers))
    rcs = {"phone": {"number": str(DELIVERED)}, "sender": "rcs_agent", "options": {"cards": [CARD]},
           "alternative_channel": {"sms": {"text": text(), "sender": "relaybox"}}}
    check("POST", "/api/messages/rcs/send", await client.post("/api/messages/rcs/send", json=rcs, headers=headers))
    rcs_campaign = {"phones": [{"number": DELIVERED}], "sender": "rcs_agent", "options": {"text": text()}}
    rcs_sent = check("POST", "/api/campaigns/rcs/send",
                     await client.post("/api/campaigns/rcs/send", json=rcs_campaign, headers=headers))
    check("GET", "/api/campaigns/{campaign_id}/detail",
          await client.get(f"/api/campaigns/{rcs_sent['data']['id']}/detail", headers=headers))
    check("GET", "/api/messages", await client.get("/api/messages?sort=delivered", headers=headers))

    # -- sends to contact lists (the lists written straight into the store: tests/contact_rows.py)
    platform = app.state.platform
    await add_field(platform, account[0], "name")
    await stop_list(platform, account[0], [STOPPED], ("sms", "rcs"))
    group = await add_list(platform, account[0], "openapi", [{"phone": DELIVERED, "name": "Olena"},
                                                             {"phone": STOPPED, "name": "Stopped"}])
    groups = {"groups": [group], "sender": "relaybox", "text": "Hello {name} " + text()}
    assert "skipped" in check("POST", "/api/campaigns/sms/send-groups",
                              await client.post("/api/campaigns/sms/send-groups", json=groups, headers=headers))
    assert "skipped" in check("POST", "/api/campaigns/sms/send", await client.post(
        "/api/campaigns/sms/send", json={**sms, "text": text(), "phones": [{"number": STOPPED}, {"number": DELIVERED}]},
        headers=headers))
    check("POST", "/api/campaigns/sms/send-groups",
          await client.post("/api/campaigns/sms/send-groups", json={**groups, "groups": ["1"]}, headers=headers))
    rcs_groups = {"groups": [group], "sender": "rcs_agent", "options": {"text": "Hi {name} " + text()},
                  "alternative_channel": {"sms": {"sender": "relaybox", "text": "Hi {name}"}}}
    check("POST", "/api/campaigns/rcs/send-groups",
          await client.post("/api/campaigns/rcs/send-groups", json=rcs_groups, headers=headers))
    check("POST", "/api/campaigns/rcs/send-groups",
          await client.post("/api/campaigns/rcs/send-groups", json={**rcs_groups, "groups": []}, headers=headers))

    # -- statistics jobs (BSG's errors are 200 bodies) and relaybox's report extensions
    now = datetime.now(UTC)
    window = {"type": "params", "time_in_from": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
              "time_in_to": (now + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")}
    key = check("POST", "/api/stat/jobs", await client.post("/api/stat/jobs", json=window, headers=headers))["key"]
    check("POST", "/api/stat/jobs", await client.post("/api/stat/jobs", json={"type": "x"}, headers=headers))  # 422
    assert check("GET", "/api/stat/jobs/{key}",
                 await client.get(f"/api/stat/jobs/{key}", headers=headers))["error"] == 92  # not run yet
    await job_runner.run_one(platform, "openapi")  # unless the app's own engine claimed it first

    async def finished():
        return (await client.get(f"/api/stat/jobs/{key}", headers=headers)).json().get("error") == 0

    await wait_until(finished)
    check("GET", "/api/stat/jobs", await client.get("/api/stat/jobs", headers=headers))
    page = check("GET", "/api/stat/jobs/{key}", await client.get(f"/api/stat/jobs/{key}?page[limit]=2", headers=headers))
    assert page["error"] == 0 and page["result"]
    check("GET", "/api/stat/jobs/{key}", await client.get(f"/api/stat/jobs/{key}?page[limit]=0", headers=headers))
    csv = "/api/x-relaybox/stat/jobs/{key}/csv"
    assert check("GET", csv, await client.get(csv.format(key=key), headers={**headers, "Accept-Encoding": "identity"})
                 ).startswith(b"message_id,")
    check("GET", csv, await client.get(csv.format(key=key) + "?format=csv.gz", headers=headers))
    check("GET", csv, await client.get(csv.format(key=key) + "?format=zip", headers=headers))  # 422
    check("GET", csv, await client.get(csv.format(key="nope"), headers=headers))  # error 90
    check("DELETE", "/api/stat/jobs/{key}", await client.delete(f"/api/stat/jobs/{key}", headers=headers))
    assert check("DELETE", "/api/stat/jobs/{key}",
                 await client.delete(f"/api/stat/jobs/{key}", headers=headers))["error"] == 90
    # four at once, so that the app's own engine cannot finish one between them: the one that finds
    # three pending gets error 91
    answers = await asyncio.gather(*(client.post("/api/stat/jobs", json={
        "type": "message", "message_id": [next(_texts)]}, headers=headers) for _ in range(4)))
    errors = [check("POST", "/api/stat/jobs", answer)["error"] for answer in answers]
    assert 91 in errors, errors

    breakdown = "/api/x-relaybox/campaigns/{campaign_id}/breakdown"
    check("GET", breakdown, await client.get(breakdown.format(campaign_id=campaign_id), headers=headers))
    check("GET", breakdown, await client.get(breakdown.format(campaign_id=999999), headers=headers))  # 404
    check("GET", "/api/x-relaybox/breakdown", await client.get("/api/x-relaybox/breakdown", headers=headers))
    check("GET", "/api/x-relaybox/breakdown", await client.get("/api/x-relaybox/breakdown?from=x", headers=headers))
    check("GET", "/api/x-relaybox/timeseries",
          await client.get(f"/api/x-relaybox/timeseries?interval=minute&campaign_id={campaign_id}", headers=headers))
    check("GET", "/api/x-relaybox/timeseries", await client.get("/api/x-relaybox/timeseries?interval=week",
                                                                 headers=headers))
    check("GET", "/api/x-relaybox/timeseries", await client.get("/api/x-relaybox/timeseries?campaign_id=999999",
                                                                 headers=headers))  # 404
    await inbound.inject(platform, sender=DELIVERED, recipient="relaybox", text="Yes")
    replies = check("GET", "/api/x-relaybox/inbound", await client.get("/api/x-relaybox/inbound", headers=headers))
    assert replies["data"]
    check("GET", "/api/x-relaybox/inbound",
          await client.get("/api/x-relaybox/inbound?filter[action]=x", headers=headers))

    # -- legacy REST
    one = {"destination": "phone", "msisdn": str(DELIVERED), "reference": "lg1", "originator": "relaybox", "body": text()}
    created = check("POST", "/rest/sms/create", await client.post("/rest/sms/create", json=one, headers=headers))
    check("PUT", "/rest/sms/create", await client.put("/rest/sms/create", json={**one, "reference": "lg1"}, headers=headers))
    many = {"destination": "phones", "originator": "relaybox", "body": text(),
            "phones": [{"msisdn": str(DELIVERED), "reference": "lg2"}, {"msisdn": "1", "reference": "lg3"}]}
    task = check("POST", "/rest/sms/create", await client.post("/rest/sms/create", json=many, headers=headers))
    check("POST", "/rest/sms/create", await client.post("/rest/sms/create", json={"destination": "x"}, headers=headers))
    check("POST", "/rest/sms/create", await client.post("/rest/sms/create", json=one, headers=bad))
    individual = {"destination": "individual",
                  "phones": [{"msisdn": DELIVERED, "reference": "lg4", "originator": "relaybox", "body": text()}]}
    check("POST", "/rest/sms/price", await client.post("/rest/sms/price", json=individual, headers=headers))
    check("PUT", "/rest/sms/price", await client.put("/rest/sms/price", json=one, headers=headers))
    check("POST", "/rest/sms/price", await client.post(
        "/rest/sms/price", json={**many, "phones": [{"msisdn": "1"}]}, headers=headers))
    check("GET", "/rest/sms/{sms_id}", await client.get(f"/rest/sms/{created['result']['id']}", headers=headers))
    check("GET", "/rest/sms/{sms_id}", await client.get("/rest/sms/123456789", headers=headers))
    check("GET", "/rest/sms/reference/{reference}", await client.get("/rest/sms/reference/lg1", headers=headers))
    check("GET", "/rest/sms/task/{task_id}", await client.get(f"/rest/sms/task/{task['task_id']}", headers=headers))
    check("GET", "/rest/sms/task/{task_id}", await client.get("/rest/sms/task/x", headers=headers))
    check("GET", "/rest/sms/prices", await client.get("/rest/sms/prices", headers=headers))
    check("GET", "/rest/sms/prices/{tariff}", await client.get("/rest/sms/prices/0", headers=headers))
    check("GET", "/rest/common/balance", await client.get("/rest/common/balance", headers=headers))

    # -- an account that is blocked
    blocked_id, blocked_key = await make_account(app.state.platform, name="blocked")
    await admin.set_blocked(app.state.platform, blocked_id, True)
    check("GET", "/api/accounts/balance", await client.get("/api/accounts/balance", headers={"X-API-KEY": blocked_key}))

    # -- every operation of these families was driven to its 200 (a new route: add its calls above)
    operations = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops
                  if p.startswith(("/api/auth", "/api/accounts", "/api/campaigns", "/api/messages", "/api/stat",
                                   "/api/x-relaybox", "/rest/"))}
    answered = {(m, p) for m, p, status in check.seen if status == 200}
    assert operations - answered == set()
    statuses = {status for _, _, status in check.seen}
    assert {200, 401, 403, 404, 422, 429} <= statuses


async def test_healthz_answers_as_documented(app, client):
    check = Checker(app.openapi())
    check("GET", "/healthz", await client.get("/healthz"))
