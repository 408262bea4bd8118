"""`relaybox contacts import` as a person runs it (in the test process, tests/cli.py, on the server's
database), checked over real HTTP through the One API on each backend: bad rows reported with their
lines and skipped, the rest imported into the list with their custom fields, and a re-run that changes nothing."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from tests.cli import run_cli

ROWS = 1200  # over two chunks of --chunk-rows 500: duplicates across chunks are found too


def run(server, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=server.workdir, env={"RELAYBOX_DATABASE_URL": server.database_url, "COLUMNS": "200"})


def account(server) -> tuple[int, dict]:
    out = run(server, "account", "create", "--name", "import-e2e", "--balance", "1").stdout
    return int(re.search(r"account (\d+) created", out).group(1)), {"X-API-KEY": out.strip().splitlines()[-1]}


def get(server, headers, path: str) -> dict:
    r = httpx.get(f"{server.base_url}{path}", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("import") / "contacts.csv"
    lines = ["Phone,Name,Age,Birthday"]
    lines += [f"+38097{1000000 + i},Name {i},{i % 90},1990-01-{1 + i % 28:02d}" for i in range(ROWS)]
    bad = [
        "12345,Too short,1,",  # line ROWS+2
        "380971000001,Repeat,2,",  # the phone of line 3, written by an earlier chunk
        "38097abc,Letters,3,",
        "380971000777,Huge," + "9" * 300 + ",",
        "380971000778,Not a number,forty,",
        "380971000779,Bad date,4,1990-02-30",
        '380971000780,"Nul\x00byte",5,',
        "380971000781,Too,many,cells,here",
        ",No phone,6,",
    ]
    path.write_text("\n".join(lines + bad) + "\n", encoding="utf-8")
    return path


def test_import_reports_bad_rows_and_is_idempotent(live_server, csv_file):
    account_id, headers = account(live_server)
    fields = {"name": "text", "age": "number", "birthday": "date"}
    for name, kind in fields.items():
        r = httpx.post(f"{live_server.base_url}/api/contacts/fields", headers=headers, json={"name": name, "type": kind})
        assert r.status_code == 201, r.text

    first = run(live_server, "contacts", "import", str(csv_file), "--account", str(account_id), "--list", "Imported",
                "--chunk-rows", "500")
    assert first.returncode == 1, first.stderr  # some rows were refused; the others are in
    refused = [line for line in first.stderr.splitlines() if " line " in line and ":" in line]
    assert len(refused) == 9, first.stderr
    base = ROWS + 2
    for line, reason in ((base, "phone '12345'"), (base + 1, "repeats an earlier line"), (base + 2, "phone '38097abc'"),
                         (base + 3, "at most 255 characters"), (base + 4, "must be a number"),
                         (base + 5, "must be a date"), (base + 6, "cannot be stored"), (base + 7, "5 cells"),
                         (base + 8, "no phone number")):
        assert any(f"line {line}: " in r and reason in r for r in refused), (line, reason, first.stderr)
    assert f"{ROWS + 9:,} rows: {ROWS:,} imported" in first.stdout and f"{ROWS:,} of them new contacts" in first.stdout

    lists = get(live_server, headers, "/api/groups")["data"]
    imported = next(g for g in lists if g["name"] == "Imported")
    assert imported["items"] == ROWS and any(g["default"] for g in lists)
    contacts = get(live_server, headers, "/api/contacts?page[limit]=15")
    assert contacts["total"] == ROWS
    ids = {f["name"]: str(f["id"]) for f in get(live_server, headers, "/api/contacts/fields")["data"]}
    first_contact = contacts["data"][0]
    assert first_contact["phone"] == 380971000000
    assert first_contact["fields"] == [{ids["name"]: "Name 0"}, {ids["age"]: "0"}, {ids["birthday"]: "1990-01-01"}]
    found = get(live_server, headers, f"/api/contacts/search?search[field]={ids['age']}&search[operator]=>="
                                      "&search[value]=89&page[limit]=15")
    assert found["meta"]["page"]["total"] == len([i for i in range(ROWS) if i % 90 >= 89])

    # a second file: a phone the first run imported is updated (not a repeat: another run); a phone
    # repeated within one chunk names its first line
    again = csv_file.with_name("again.csv")
    again.write_text(csv_file.read_text(encoding="utf-8").splitlines()[0] + "\n"
                     + "\n".join(f"+38097{2000000 + i},New {i},1," for i in range(600))
                     + "\n+380971000000,Updated,1,\n+38097 2000599,Same chunk,1,\n".replace(" ", ""), encoding="utf-8")
    second = run(live_server, "contacts", "import", str(again), "--account", str(account_id), "--list", "Imported",
                 "--chunk-rows", "500")
    assert second.returncode == 1, second.stderr
    assert "line 603: the phone 380972000599 repeats line 601" in second.stderr
    assert "601 imported" in second.stdout and "600 of them new contacts" in second.stdout

    # the first file again: nothing new, nothing duplicated, the same refusals
    rerun = run(live_server, "contacts", "import", str(csv_file), "--account", str(account_id), "--list", "Imported",
                "--chunk-rows", "500")
    assert rerun.returncode == 1
    assert "0 of them new contacts" in rerun.stdout
    assert get(live_server, headers, "/api/contacts?page[limit]=15")["total"] == ROWS + 600
    assert next(g for g in get(live_server, headers, "/api/groups")["data"]
                if g["name"] == "Imported")["items"] == ROWS + 600
    # the re-run put back what the first file says (the second file had renamed this contact)
    assert get(live_server, headers, f"/api/contacts/{first_contact['id']}")["data"]["fields"] == first_contact["fields"]


def test_import_refuses_files_it_cannot_import(live_server, tmp_path):
    account_id, headers = account(live_server)
    cases = {
        "no_phone.csv": ("name,age\nAnn,3\n", "no phone column"),
        "unknown.csv": ("phone,colour\n380971234567,red\n", "no custom field named 'colour'"),
        "empty.csv": ("", "the file is empty"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        result = run(live_server, "contacts", "import", str(path), "--account", str(account_id))
        assert result.returncode == 2 and message in result.stderr, result.stderr
    result = run(live_server, "contacts", "import", str(tmp_path / "missing.csv"), "--account", str(account_id))
    assert result.returncode == 2
    path = tmp_path / "fine.csv"
    path.write_text("mobile,colour\n380971234567,red\n", encoding="utf-8")
    assert run(live_server, "contacts", "import", str(path), "--account", "999999").returncode == 2
    assert run(live_server, "contacts", "import", str(path), "--account", str(account_id), "--list", "ab").returncode == 2
    assert get(live_server, headers, "/api/contacts")["total"] == 0
    # with --create-fields the unknown column becomes a text field; no --list: the default list
    made = run(live_server, "contacts", "import", str(path), "--account", str(account_id), "--create-fields")
    assert made.returncode == 0, made.stderr
    assert "created text fields: colour" in made.stdout
    contact = get(live_server, headers, "/api/contacts")["data"][0]
    colour = get(live_server, headers, "/api/contacts/fields")["data"][0]
    assert (colour["name"], colour["type"]) == ("colour", "text")
    assert contact["fields"] == [{str(colour["id"]): "red"}] and contact["groups"][0]["default"] is True
