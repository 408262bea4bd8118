"""Pure SMPP rules: parts and UDH, receipt parsing, relaybox.toml checking, routing, webhook signatures."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaybox.connectors.config import BUILTIN, ConfigError, parse
from relaybox.connectors.routing import Router, build_router
from relaybox.connectors.simulator import SimulatorConnector
from relaybox.connectors.smpp import SmppConnector
from relaybox.connectors.smpp import pdu
from relaybox.connectors.smpp.connector import source_address
from relaybox.connectors.smpp.encoding import decode_part, encode_parts
from relaybox.connectors.smpp.receipts import is_receipt, parse_receipt, receipt_text
from relaybox.domain.models import Message
from relaybox.domain.segments import GSM7_BASIC, GSM7_EXTENSION, analyze
from relaybox.domain.signatures import sign, verify
from relaybox.domain.status import MessageStatus

# -- parts -----------------------------------------------------------------------------

texts = st.one_of(
    st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
)


@given(texts, st.integers(min_value=1, max_value=2**40))
def test_parts_match_the_billed_count_and_decode_back(text, message_id):
    info = analyze(text)
    parts = encode_parts(text, message_id)
    assert len(parts) == info.parts
    assert {p.data_coding for p in parts} == {0 if info.encoding.value == "gsm7" else 8}
    decoded = [decode_part(p.short_message, p.data_coding, p.esm_class) for p in parts]
    assert "".join(d.text for d in decoded) == text
    assert all(len(p.short_message) <= 140 or p.data_coding == 0 for p in parts)
    assert all(len(p.short_message) <= 160 for p in parts)
    if len(parts) > 1:
        assert {d.reference for d in decoded} == {message_id & 0xFF}
        assert [(d.number, d.total) for d in decoded] == [(n, len(parts)) for n in range(1, len(parts) + 1)]
        assert all(p.esm_class == 0x40 and p.short_message[:3] == b"\x05\x00\x03" for p in parts)
    else:
        assert parts[0].esm_class == 0


def test_a_gsm_part_holds_153_septets_and_a_ucs2_part_134_octets():
    long_gsm = encode_parts("a" * 161, 1)
    assert [len(p.short_message) for p in long_gsm] == [6 + 153, 6 + 8]
    long_ucs2 = encode_parts("ж" * 71, 1)
    assert [len(p.short_message) for p in long_ucs2] == [6 + 134, 6 + 8]
    assert encode_parts("€", 1)[0].short_message == b"\x1b\x65"


def test_source_address_kinds():
    assert source_address("relaybox", None, None) == (5, 0)
    assert source_address("12345", None, None) == (3, 0)
    assert source_address("380971234567", None, None) == (1, 1)
    assert source_address("relaybox", 1, 1) == (1, 1)


# -- receipts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("DELIVRD", MessageStatus.DELIVERED),
        ("UNDELIV", MessageStatus.UNDELIVERED),
        ("EXPIRED", MessageStatus.EXPIRED),
        ("REJECTD", MessageStatus.FAILED),
        ("UNKNOWN", MessageStatus.UNKNOWN),
        ("DELETED", MessageStatus.UNDELIVERED),
        ("ACCEPTD", None),  # an intermediate notice: the final receipt follows
        ("ENROUTE", None),
    ],
)
def test_receipt_text_states(stat, status):
    text = receipt_text("ab12", stat, submitted="2611251200", done="2611251201", text="hello")
    parsed = parse_receipt(text, None, None)
    assert parsed.message_id == "ab12" and parsed.stat == stat and parsed.status is status


def test_receipt_tlvs_win_over_the_text():
    text = b"id:wrong sub:001 dlvrd:000 submit date:2611251200 done date:2611251201 stat:UNDELIV err:001 text:x"
    parsed = parse_receipt(text, b"right\x00", bytes([2]))
    assert parsed.message_id == "right" and parsed.status is MessageStatus.DELIVERED


def test_receipts_without_an_id_or_a_known_state_are_not_receipts():
    assert parse_receipt(b"stat:DELIVRD", None, None) is None
    assert parse_receipt(b"id:1 stat:WHATEVER", None, None) is None
    assert parse_receipt(b"ID:7 STAT:delivrd", None, None).status is MessageStatus.DELIVERED
    assert is_receipt(0x04) and is_receipt(0x20) and not is_receipt(0x00) and not is_receipt(0x40)


def test_session_pdus_round_trip():
    raw = pdu.bind(pdu.Command.BIND_TRANSCEIVER, 1, "relaybox", "secret", "VMA")
    request = pdu.parse_bind(raw)
    assert (request.system_id, request.password, request.system_type, request.interface_version) == (
        "relaybox", "secret", "VMA", 0x34)
    assert pdu.response_message_id(pdu.submit_sm_resp(9, 0, "0000000A")) == "0000000A"
    assert pdu.response_message_id(pdu.submit_sm_resp(9, pdu.Status.ESME_RTHROTTLED)) == ""
    assert pdu.status_name(0x58) == "ESME_RTHROTTLED (0x00000058)" and pdu.status_name(0x1234) == "0x00001234"
    with pytest.raises(ValueError):
        pdu.bind(pdu.Command.BIND_TRANSCEIVER, 1, "relaybox", "much too long", "")


# -- relaybox.toml -------------------------------------------------------------------------------

GOOD = {
    "connectors": {
        "kyivstar": {"type": "smpp", "host": "smsc.example", "port": 2775, "system_id": "rb", "password": "pw"},
        "sandbox": {"type": "simulator", "speed": 0},
    },
    "routes": {"default": "kyivstar", "prefixes": {"38050": "sandbox"}, "countries": {"DE": "simulator"}},
}


def test_a_valid_configuration():
    config = parse(GOOD)
    assert config.default == "kyivstar" and config.prefixes == {"38050": "sandbox"}
    assert config.connectors["kyivstar"].settings("kyivstar").window == 10
    assert config.connectors["kyivstar"].settings("kyivstar").receipt_id_format == "auto"
    forced = parse({**GOOD, "connectors": {**GOOD["connectors"], "kyivstar": {
        **GOOD["connectors"]["kyivstar"], "receipt_id_format": "hex-decimal"}}})
    assert forced.connectors["kyivstar"].settings("kyivstar").receipt_id_format == "hex-decimal"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"connectors": {"x": {"type": "smtp"}}}, 'connectors.x: type must be "smpp" or "simulator"'),
        ({"connectors": {"Bad Name": {"type": "simulator"}}}, "connectors.Bad Name: connector names"),
        ({"connectors": {"x": {"type": "smpp", "host": "h", "system_id": "s", "port": 0}}}, "connectors.x.port"),
        ({"connectors": {"x": {"type": "smpp", "host": "h", "system_id": "s", "window": 0}}}, "connectors.x.window"),
        ({"connectors": {"x": {"type": "smpp", "host": "h", "system_id": "s", "pasword": "typo"}}}, "connectors.x.pasword: unknown key"),
        ({"connectors": {"x": {"type": "smpp", "host": "h", "system_id": "s", "password": "toolongpw"}}}, "connectors.x.password"),
        ({"connectors": {"x": {"type": "simulator"}}}, "routes.default: missing"),
        ({"routes": {"default": "nowhere"}}, "routes.default: no connector named 'nowhere'"),
        ({"routes": {"default": "simulator", "countries": {"ua": "simulator"}}}, "routes.countries.ua: countries are"),
        ({"routes": {"default": "simulator", "prefixes": {"+380": "simulator"}}}, "routes.prefixes.+380: number prefixes"),
        ({"connectors": {BUILTIN: {"type": "simulator"}}, "routes": {"default": BUILTIN}}, "the built-in simulator's"),
        ({"connectors": {"x": {"type": "smpp", "host": "h", "system_id": "s", "receipt_id_format": "hexadecimal"}}},
         "connectors.x.receipt_id_format"),
    ],
)
def test_invalid_configurations_are_refused_with_the_place(change, complaint):
    with pytest.raises(ConfigError) as info:
        parse(change, "relaybox.toml")
    assert str(info.value).startswith("relaybox.toml is invalid:") and complaint in str(info.value)


# -- routing -------------------------------------------------------------------------------------


def message(phone: int, country: str = "UA", *, test: bool = False, channel: str = "sms") -> Message:
    now = datetime.now(timezone.utc)
    return Message(
        id=1, account_id=1, campaign_id=None, type=channel, source="web", reference_id=None, phone=phone,
        country=country, sender="rb", text="x", encoding="gsm7", parts=1, validity=72, tariff_code=0, price=0,
        currency="EUR", status="accepted", is_test=test, created_at=now, due_at=now, expires_at=now, sent_at=None,
        delivered_at=None, connector=None, operator_id=None,
    )


def test_routes_prefix_then_country_then_default_and_test_keys_to_the_simulator():
    builtin = SimulatorConnector(speed=0)
    router = build_router(parse(GOOD), builtin, sim_speed=0, sim_profile="magic", sim_seed=0)
    assert isinstance(router.connectors["kyivstar"], SmppConnector)
    assert router.route(message(380501234567)).name == "sandbox"  # prefix
    assert router.route(message(4915112345678, "DE")) is builtin  # country
    assert router.route(message(380971234567)).name == "kyivstar"  # default
    assert router.route(message(380971234567, test=True)) is builtin  # test keys: always the simulator
    assert router.route(message(380971234567, channel="rcs")) is builtin  # SMPP carries no RCS
    groups = {c.name: len(m) for c, m in router.split([message(380501234567), message(380971234567), message(380971234568)])}
    assert groups == {"sandbox": 1, "kyivstar": 2}
    assert Router.single(builtin).route(message(380971234567)) is builtin


def test_signature_is_hmac_sha256_of_the_body():
    body = b'{"id": 1}'
    header = sign("s3cret", body)
    assert header == "sha256=" + __import__("hmac").new(b"s3cret", body, "sha256").hexdigest()
    assert verify("s3cret", body, header) and not verify("s3cret", body + b" ", header)
    assert not verify("s3cret", body, None)
