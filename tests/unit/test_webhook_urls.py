"""Webhook URL rules (pure): the syntax checked when a URL is given, and which addresses a delivery may reach."""

from __future__ import annotations

import ipaddress

import pytest

from relaybox.domain.rules import RuleViolation
from relaybox.domain.webhook_urls import (
    MAX_URL_LENGTH,
    check_webhook_url,
    literal_address,
    parse_networks,
    refusal,
)

GOOD = [
    "https://hooks.example.com/relaybox",
    "http://hooks.example.com:8080/a/b?x=1&y=%20z#frag",
    "https://1.1.1.1/hook",
    "https://[2606:4700:4700::1111]/hook",
    "HTTPS://Hooks.Example.COM/",
    "https://xn--bcher-kva.example/hook",
    "https://bücher.example/hook",
    "http://localhost:8000/",  # a name: judged at delivery, by the address it resolves to
]

BAD = [
    "javascript:alert(1)",
    "file:///etc/passwd",
    "ftp://example.com/x",
    "data:text/plain,hi",
    "gopher://example.com/",
    "//example.com/hook",
    "example.com/hook",
    "http://",
    "http:///path-only",
    "http://user:secret@example.com/",
    "http://user@example.com/",
    "http://example.com/a\r\nX-Injected: 1",
    "http://example.com/\nx",
    "http://example.com/\rx",
    "http://example.com/\x00",
    "http://example.com/\x1b",
    "http://example.com/\x7f",
    "http://example.com/\x85",
    "http://example.com/\u2028",
    "http://exa mple.com/",
    "http://example.com/a b",
    " http://example.com/",
    "http://example.com:0/",
    "http://example.com:99999/",
    "http://example.com:port/",
    "http://[::1/",
    "http://exa_mple..com/",
    "https://example.com/" + "x" * MAX_URL_LENGTH,
    "",
    # literal addresses in refused ranges, in every spelling
    "http://127.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",  # 169.254.169.254 as one integer
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://0251.0376.0251.0376/",  # octal
    "http://0x7f.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0.0.0.0/",
    "http://10.1.2.3/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://100.64.0.1/",
    "http://1.2.3.4.5/",  # ends in a number but is not an address
    "http://0x7g.1/",
]


@pytest.mark.parametrize("url", GOOD)
def test_good_urls_are_accepted_unchanged(url):
    assert check_webhook_url(url) == url


@pytest.mark.parametrize("url", BAD)
def test_bad_urls_are_refused_with_a_reason(url):
    with pytest.raises(RuleViolation) as exc:
        check_webhook_url(url)
    assert str(exc.value)


@pytest.mark.parametrize("value", [None, 5, b"http://example.com/", ["http://example.com/"]])
def test_a_url_must_be_a_string(value):
    with pytest.raises(RuleViolation):
        check_webhook_url(value)


def test_an_allowed_network_lets_its_literal_addresses_in():
    allowed = parse_networks("127.0.0.0/8, ::1/128")
    assert check_webhook_url("http://127.0.0.1:9/hook", allowed) == "http://127.0.0.1:9/hook"
    assert check_webhook_url("http://2130706433:9/", allowed)
    assert check_webhook_url("http://[::1]:9/", allowed)
    with pytest.raises(RuleViolation):
        check_webhook_url("http://169.254.169.254/", allowed)


@pytest.mark.parametrize(
    "host, address",
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("1.2.3.4", "1.2.3.4"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("example.com", None),
        ("localhost", None),
        ("a1b2", None),
    ],
)
def test_literal_addresses_in_every_spelling(host, address):
    found = literal_address(host)
    assert found == (ipaddress.ip_address(address) if address is not None else None)


REFUSED = [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.254", "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255", "192.0.0.1", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff05::2",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::127.0.0.1", "::169.254.169.254",
    "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "2002:a9fe:a9fe::1", "2002:7f00:1::", "2001:db8::1", "100::1",
]
ALLOWED = ["1.1.1.1", "8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
           "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_refused(address):
    reason = refusal(ipaddress.ip_address(address))
    assert reason and str(ipaddress.ip_address(address)) in reason


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    assert refusal(ipaddress.ip_address(address)) is None


def test_allowed_networks_override_the_refusal_and_nothing_else():
    allowed = parse_networks("127.0.0.0/8,10.20.0.0/16")
    assert refusal(ipaddress.ip_address("127.0.0.1"), allowed) is None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allowed) is None  # the same IPv4 address
    assert refusal(ipaddress.ip_address("10.20.3.4"), allowed) is None
    assert refusal(ipaddress.ip_address("10.21.3.4"), allowed)
    assert refusal(ipaddress.ip_address("169.254.169.254"), allowed)
    assert refusal(ipaddress.ip_address("::1"), allowed)


@pytest.mark.parametrize("text", ["nonsense", "10.0.0.0/33", "127.0.0.1/8/9", "::1/129"])
def test_bad_allowed_networks_are_refused(text):
    with pytest.raises(ValueError):
        parse_networks(text)


def test_empty_allowed_networks():
    assert parse_networks("") == () == parse_networks(" , ")
