"""The people's commands (`relaybox send|status|campaigns|messages`) run as a person runs them:
the CLI's app in the test process (tests/cli.py; a `campaigns watch` that runs while the campaign
changes is a real process), configured by RELAYBOX_URL / RELAYBOX_API_KEY, against a live server;
their results checked through relaybox.client."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from relaybox.client import Client
from tests.cli import run_cli
from tests.e2e.conftest import start_server, stop_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = start_server(tmp_path_factory.mktemp("cli"), "--sim-speed", "0")
    yield live
    stop_server(live)


@pytest.fixture(scope="module")
def key(server):
    return server.create_account(balance="1000")


@pytest.fixture(scope="module")
def client(server, key):
    with Client(server.base_url, key) as c:
        yield c


def relaybox(server, key, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    result = run_cli(*args, cwd=server.workdir,
                     env={"RELAYBOX_URL": server.base_url, "RELAYBOX_API_KEY": key, "COLUMNS": "200", **(env or {})})
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_send_one_then_status_by_id_and_reference(server, key, client):
    out = relaybox(server, key, "send", "+380971231001", "--text", "hello [/red] cli [bold]", "--sender", "relaybox",
                   "--reference", "cliref1").stdout
    campaign_id = int(re.search(r"campaign (\d+)", out).group(1))
    message_id = int(re.search(r"message (\d+)", out).group(1))
    m = client.message(message_id)
    assert m.campaign_id == campaign_id and m.phone == 380971231001 and m.reference_id == "cliref1"
    by_id = relaybox(server, key, "status", str(message_id)).stdout
    # the flags instead of the environment
    by_ref = relaybox(server, "", "status", "--reference", "cliref1", "--url", server.base_url, "--api-key", key,
                      env={"RELAYBOX_URL": "http://127.0.0.1:9"}).stdout
    for shown in (by_id, by_ref):
        # the text shown as it is: a server's data is never taken for Rich markup
        assert "380971231001" in shown and "hello [/red] cli [bold]" in shown and str(campaign_id) in shown
        assert re.search(r"status\s+(accepted|sending|sent|delivered)", shown)


def test_send_a_csv_of_2500_numbers_in_campaigns(server, key, client, tmp_path):
    numbers = tmp_path / "numbers.csv"
    with numbers.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "phone"])
        for i in range(2500):
            w.writerow([f"person {i}", f"+38097{3000000 + i:07d}"])
    out = relaybox(server, key, "send", "--csv", str(numbers), "-t", "bulk from csv", "-s", "relaybox",
                   "--chunk-size", "1000").stdout
    assert "sent 2,500 numbers in 3 campaign(s)" in out
    ids = [int(i) for i in re.search(r"campaign\(s\): ([\d, ]+);", out).group(1).split(", ")]
    assert [client.campaign_detail(i).total_messages for i in ids] == [1000, 1000, 500]
    phones = {m.phone for i in ids for m in client.iter_messages(campaign_id=i, limit=500)}
    assert phones == {380973000000 + i for i in range(2500)}


def test_a_bad_line_sends_nothing_and_says_where(server, key, client, tmp_path):
    numbers = tmp_path / "bad.csv"
    numbers.write_text("380971232001\n380971232002\nnot-a-number\n")
    before = client.campaigns(limit=30).total
    result = relaybox(server, key, "send", "--csv", str(numbers), "-t", "x", "-s", "relaybox", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "error: line 3: 'not-a-number' is not a phone number (1 to 15 digits)"
    assert "Traceback" not in result.stderr and client.campaigns(limit=30).total == before


def test_server_refusal_names_the_csv_line(server, key, tmp_path):
    numbers = tmp_path / "short.csv"
    numbers.write_text("380971233001\n380971233002\n12\n")
    result = relaybox(server, key, "send", "--csv", str(numbers), "-t", "x", "-s", "relaybox", check=False)
    assert result.returncode == 1 and "short.csv line 3 (12)" in result.stderr and "nothing was sent" in result.stderr


def test_campaigns_list_show_and_watch_until_done(server, key, client):
    campaign = client.send_sms([380971234000 + i for i in (11, 12, 13, 1, 2, 3, 4)], "watch me", "relaybox")
    listed = relaybox(server, key, "campaigns", "list", "--limit", "5").stdout
    assert re.search(rf"│ {campaign.id}\s+│", listed)
    watched = relaybox(server, key, "campaigns", "watch", str(campaign.id), "--interval", "0.2", "--timeout", "60").stdout
    lines = watched.strip().splitlines()
    assert lines[-1] == f"campaign {campaign.id} done"
    progress = [line.split(" ", 2)[2] for line in lines if PROGRESS_LINE.match(line)]
    assert progress[-1].startswith("done: ")
    assert len(set(progress)) == len(progress)  # a line per change, none repeated
    detail = client.campaign_detail(campaign.id)
    assert sum(detail.statistics.values()) == 7
    for status, count in detail.statistics.items():
        if count:  # the simulator's magic numbers: delivered, and one each of the other endings
            assert f"{status} {count}" in progress[-1]
            assert re.search(rf"{status}\s+│\s+{count}\b", watched), (status, count, watched)
    shown = relaybox(server, key, "campaigns", "show", str(campaign.id)).stdout
    assert "done" in shown and re.search(r"messages\s+7\b", shown)


#: A line `relaybox campaigns watch` prints when the counts change (not on a terminal).
PROGRESS_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+: ")


def test_watch_redraws_as_the_campaign_changes(server, key, client):
    # a campaign that waits until it is stopped: the watch shows it scheduled, then stopped
    start = datetime.now(UTC) + timedelta(days=1)
    campaign = client.send_sms([380971238001, 380971238002], "watch the stop", "relaybox", start_at=start)
    watch = subprocess.Popen(
        [sys.executable, "-m", "relaybox.cli", "campaigns", "watch", str(campaign.id), "--interval", "0.2",
         "--timeout", "120"],
        env={**os.environ, "RELAYBOX_URL": server.base_url, "RELAYBOX_API_KEY": key, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = watch.stdout.readline()
        assert PROGRESS_LINE.match(first) and first.split(" ", 2)[2].strip() == "scheduled: scheduled 2"
        client.stop_campaign(campaign.id)
        rest, errors = watch.communicate(timeout=90)
    finally:
        watch.kill()
    assert watch.returncode == 0, errors
    progress = [line.split(" ", 2)[2] for line in rest.splitlines() if PROGRESS_LINE.match(line)]
    assert progress and progress[-1].startswith("stopped: ")
    assert rest.strip().splitlines()[-1] == f"campaign {campaign.id} stopped"


def test_campaigns_stop_a_scheduled_campaign(server, key, client):
    start = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    out = relaybox(server, key, "send", "380971235001", "-t", "later", "-s", "relaybox", "--start-at", start).stdout
    campaign_id = int(re.search(r"campaign (\d+) scheduled", out).group(1))
    assert relaybox(server, key, "campaigns", "stop", str(campaign_id)).stdout.strip() == f"campaign {campaign_id} stopped"
    assert client.campaign(campaign_id).status == "stopped"
    again = relaybox(server, key, "campaigns", "stop", str(campaign_id), check=False)
    assert again.returncode == 1 and again.stderr.strip() == "error: Invalid campaign status"


def test_messages_with_filters(server, key, client):
    campaign = client.send_sms([(380971236001, "msgref1"), (380971236002, None), (380971236003, None)], "m", "relaybox")
    out = relaybox(server, key, "messages", "--campaign", str(campaign.id), "--sort", "phone", "--way", "desc").stdout
    rows = [line for line in out.splitlines() if "38097123600" in line]
    assert [re.search(r"38097123600(\d)", r).group(1) for r in rows] == ["3", "2", "1"], out
    only = relaybox(server, key, "messages", "--reference", "msgref1").stdout
    assert "380971236001" in only and "380971236002" not in only
    limited = relaybox(server, key, "messages", "--campaign", str(campaign.id), "--limit", "2").stdout
    assert sum("38097123600" in line for line in limited.splitlines()) == 2
    now = datetime.now(UTC)
    past = relaybox(server, key, "messages", "--campaign", str(campaign.id), "--from",
                    (now - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S"), "--to",
                    (now - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")).stdout
    assert "38097123600" not in past
    bad = relaybox(server, key, "messages", "--sort", "nonsense", check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("error: The given data was invalid. (sort:")


def test_export_equals_the_messages_list(server, key, client, tmp_path):
    campaign = client.send_sms([380971237000 + i for i in range(1200)], "export me", "relaybox")
    out_file = tmp_path / "out.csv"
    out = relaybox(server, key, "messages", "--campaign", str(campaign.id), "--export", str(out_file)).stdout
    assert "exported 1,200 messages" in out
    with out_file.open(newline="") as f:
        exported = list(csv.DictReader(f))
    listed = list(client.iter_messages(campaign_id=campaign.id, limit=500))
    assert [int(r["id"]) for r in exported] == [m.id for m in listed]
    assert [int(r["phone"]) for r in exported] == [m.phone for m in listed]
    assert {r["text"] for r in exported} == {"export me"} and {r["currency"] for r in exported} == {"EUR"}
    assert not (tmp_path / "out.csv.part").exists()


def test_errors_are_one_line_never_a_traceback(server, key, tmp_path):
    cases = [
        (("status", "987654321"), "error: no message with id 987654321"),
        (("campaigns", "show", "987654321"), "error: Not found: GET /api/campaigns/987654321/detail"),
        (("send", "--csv", str(tmp_path / "missing.csv"), "-t", "x", "-s", "relaybox"), "error: No such file or directory"),
    ]
    for args, expected in cases:
        result = relaybox(server, key, *args, check=False)
        assert result.returncode == 1 and result.stderr.strip().startswith(expected), result.stderr
        assert "Traceback" not in result.stderr
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
    not_csv = relaybox(server, key, "send", "--csv", str(binary), "-t", "x", "-s", "relaybox", check=False)
    assert not_csv.returncode == 1 and not_csv.stderr.startswith("error: not a readable CSV file (UTF-8 text)")
    bad_url = relaybox(server, key, "campaigns", "list", env={"RELAYBOX_URL": "http://[::1"}, check=False)
    assert bad_url.returncode == 1 and bad_url.stderr.startswith("error: POST http://[::1/api/auth/login:")
    no_key = relaybox(server, "", "campaigns", "list", check=False)
    assert no_key.returncode == 1 and no_key.stderr.strip() == "error: no API key: pass --api-key or set RELAYBOX_API_KEY"
    wrong_key = relaybox(server, "test_" + "w" * 24, "campaigns", "list", check=False)
    assert wrong_key.returncode == 1 and wrong_key.stderr.strip() == "error: Unauthenticated."
    down = relaybox(server, key, "campaigns", "list", env={"RELAYBOX_URL": "http://127.0.0.1:9"}, check=False)
    assert down.returncode == 1
    assert down.stderr == "error: POST http://127.0.0.1:9/api/auth/login: [Errno 111] Connection refused\n"
