"""The query parameters the document describes (oneapi/queries.py) are exactly those the lists enforce.

The lists parse their parameters by hand (oneapi/params.py); the document's ranges, enums and
defaults come from schema-only models.  For every query parameter of every One API list, the
values at and beyond the document's bounds, every enum value and one outside the enum, are sent to
the real endpoint: the document's accepted values answer 200, the others 422 naming the parameter.
A default is what the answer's `meta.page` echoes when the parameter is absent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

LISTS = ["/api/accounts/tariff", "/api/campaigns", "/api/messages", "/api/x-relaybox/inbound",
         "/api/x-relaybox/timeseries"]


@pytest.fixture
def database_url(tmp_path) -> str:
    # The parsing is the same on both backends: SQLite covers it.
    return f"sqlite:///{tmp_path / 'relaybox.db'}"


def cases(schema: dict) -> list[tuple[str, bool]]:
    """(value, accepted by the schema) at the edges of `schema`."""
    branches = [b for b in schema.get("anyOf", [schema]) if b.get("type") != "null"]
    (branch,) = branches
    out: list[tuple[str, bool]] = []
    if "const" in branch:
        branch = {**branch, "enum": [branch["const"]]}
    if "enum" in branch:
        out += [(v, True) for v in branch["enum"]] + [("not-a-choice", False)]
    elif branch.get("type") == "integer":
        low, high = branch.get("minimum"), branch.get("maximum")
        if low is not None:
            out += [(str(low), True), (str(low - 1), False)]
        if high is not None:
            out += [(str(high), True), (str(high + 1), False)]
        out += [("1.5", False), ("abc", False)]
    elif branch.get("type") == "string":
        out += [("x", True)]
    return out


async def test_list_parameters_match_the_document(app, client, headers):
    document = app.openapi()
    checked = 0
    for path in LISTS:
        for parameter in document["paths"][path]["get"]["parameters"]:
            name = parameter["name"]
            assert parameter["in"] == "query" and parameter["required"] is False
            if (name.startswith("filter[") and name.endswith(("from]", "to]"))) or name in ("from", "to"):
                continue  # dates: below
            for value, accepted in cases(parameter["schema"]):
                if name == "filter[id]" and value == "9223372036854775807":
                    pass  # a valid id that matches nothing: still 200
                r = await client.get(path, params={name: value}, headers=headers)
                expected = 200 if accepted else 422
                if accepted and name == "campaign_id":
                    expected = 404  # a well-formed id of no campaign of the account
                assert r.status_code == expected, (path, name, value, r.text)
                if not accepted:
                    assert name.replace("[", ".").rstrip("]") in r.json()["errors"], (path, name, r.text)
                checked += 1
    assert checked > 40


async def test_defaults_match_the_document(app, client, headers):
    document = app.openapi()
    for path in LISTS:
        params = {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}
        page = (await client.get(path, headers=headers)).json()
        if "meta" in page:
            assert page["meta"]["page"]["limit"] == params["page[limit]"]["default"] == 50
            assert page["meta"]["page"]["offset"] == params["page[offset]"]["default"] == 0
        assert params["sort"]["default"] == "id" and params["way"]["default"] == "asc"


@pytest.mark.parametrize("path", ["/api/campaigns", "/api/messages", "/api/x-relaybox/inbound"])
@pytest.mark.parametrize(("form", "accepted"), [
    ("%Y-%m-%d %H:%M:%S", True), ("%Y-%m-%dT%H:%M:%S+02:00", True), ("%Y-%m-%dT%H:%M:%SZ", True),
    ("yesterday", False), ("1969-12-31 00:00:00", False),
])
async def test_date_filters_take_the_documented_formats(app, client, headers, path, form, accepted):
    parameter = next(p for p in app.openapi()["paths"][path]["get"]["parameters"] if p["name"] == "filter[from]")
    assert "ISO 8601" in parameter["description"] and "1970-9998" in parameter["description"]
    now = datetime.now(UTC)
    value = (now - timedelta(days=20)).strftime(form)
    r = await client.get(path, params={"filter[from]": value, "filter[to]": (now - timedelta(days=10)).strftime(
        "%Y-%m-%d %H:%M:%S")}, headers=headers)
    assert r.status_code == (200 if accepted else 422), r.text
