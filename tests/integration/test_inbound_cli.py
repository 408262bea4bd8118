"""`relaybox inbound …` as an operator runs it, on a SQLite store (the commands call the same
services on PostgreSQL, tested in test_inbound.py on both)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from relaybox.cli import app

runner = CliRunner()


def run(url: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env={"RELAYBOX_DATABASE_URL": url, "COLUMNS": "200",
                                                 "RELAYBOX_WEBHOOK_ALLOW_NETWORKS": ""})
    assert result.exit_code == code, result.output
    return result.output


def test_numbers_inject_webhook_and_stats(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run(url, "migrate")
    out = run(url, "account", "create", "--name", "two-way", "--balance", "10")
    account = re.search(r"account (\d+)", out, re.I).group(1)

    assert "two-way number 447700900123: account " + account in run(url, "inbound", "numbers", "add",
                                                                      "+447700900123", "--account", account)
    assert "447700900123" in run(url, "inbound", "numbers", "list")
    assert "3 to 15 digits" in run(url, "inbound", "numbers", "add", "12", "--account", account, code=2)
    assert "no such account" in run(url, "inbound", "numbers", "add", "447700900999", "--account", "999", code=1)

    out = run(url, "inbound", "webhook", "--account", account, "--url", "https://hooks.example.com/in")
    assert "inbound_webhook_url: https://hooks.example.com/in" in out
    assert "internal address" in run(url, "inbound", "webhook", "--account", account, "--url", "http://10.0.0.1/x",
                                     code=2)

    out = run(url, "inbound", "inject", "--from", "+380971234567", "--to", "447700900123", "--text", "Stop")
    assert re.search(rf"from 380971234567 to 447700900123: account {account} \(number\), stoplisted", out)
    out = run(url, "inbound", "inject", "--from", "380971234568", "--to", "Nobody", "--text", "hello?")
    assert "no account (unroutable)" in out
    assert "The from must be a phone number" in run(url, "inbound", "inject", "--from", "me", "--to", "x",
                                                     "--text", "y", code=2)

    out = run(url, "inbound", "stats", "--unroutable", "5")
    assert "routed: 1" in out and "unroutable: 1" in out and "stoplisted: 1" in out and "hello?" in out
    assert "removed" in run(url, "inbound", "numbers", "remove", "447700900123", "--account", account)
    assert "(none)" in run(url, "inbound", "webhook", "--account", account, "--clear")
