"""Inbound rules without a database: STOP keywords, addresses, redelivery keys, and the reading of
mobile-originated deliver_sm (data_coding, UDH 8/16-bit, sar_* TLVs, hostile headers)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaybox.connectors.smpp.inbound import decode_text, is_mobile_originated, read_mo
from relaybox.domain.inbound import (
    DEFAULT_STOP_KEYWORDS,
    address,
    dedupe_key,
    is_stop_keyword,
    parse_keywords,
    two_way_number,
)
from relaybox.domain.segments import encode_gsm7
from relaybox.smsc.server import mo_parts

DEFAULTS = parse_keywords(None)


@pytest.mark.parametrize("text", [
    "STOP", "stop", " Stop \n", "STOP!", "stop.", "StopAll", "STOP ALL", "stop  all", "Unsubscribe", "cancel",
    "END", "quit", "ARRET", "Arrêt", "alto", "Baja", "STOPP", "стоп", "СТОП", "Opt-Out", "İptal",
])
def test_stop_keywords_match_whole_messages_in_any_case(text):
    assert is_stop_keyword(text, DEFAULTS)


@pytest.mark.parametrize("text", ["", "STOP it", "please stop", "STOPS", "S T O P", "don't stop", "stop" * 20])
def test_other_texts_are_not_keywords(text):
    assert not is_stop_keyword(text, DEFAULTS)


def test_keyword_lists_are_configurable():
    assert parse_keywords("") == DEFAULTS and len(DEFAULTS) >= len(DEFAULT_STOP_KEYWORDS) - 3
    assert parse_keywords("Halt, NEIN ,,") == {"halt", "nein"}
    assert parse_keywords("-") == frozenset()
    assert not is_stop_keyword("STOP", parse_keywords("-"))


def test_addresses_and_two_way_numbers():
    assert address(" +447700900123 ") == "447700900123"
    assert address("ClinicBot") == "ClinicBot"
    with pytest.raises(ValueError):
        address("  ")
    assert two_way_number("+12345") == "12345" == two_way_number(12345)
    for bad in ("12", "+", "1" * 16, "12a45", True, None, 1.5):
        with pytest.raises(ValueError):
            two_way_number(bad)


def test_dedupe_keys_tell_messages_apart():
    base = dedupe_key("op", "380", "447", "Yes")
    assert base == dedupe_key("op", "380", "447", "Yes")
    assert len({base, dedupe_key("op2", "380", "447", "Yes"), dedupe_key("op", "381", "447", "Yes"),
                dedupe_key("op", "380", "448", "Yes"), dedupe_key("op", "380", "447", "yes"),
                dedupe_key("op", "380", "447", "Yes", network_id="n1"),
                dedupe_key("op", "380", "447", "Yes", reference=1, total=2)}) == 7
    assert dedupe_key("op", "380", "447", "\ud800")  # a lone surrogate from a broken UCS-2 part


def test_esm_class_message_types():
    assert is_mobile_originated(0x00) and is_mobile_originated(0x40) and is_mobile_originated(0x80)
    assert not is_mobile_originated(0x04) and not is_mobile_originated(0x20) and not is_mobile_originated(0x08)


@pytest.mark.parametrize("data_coding, octets, text, encoding", [
    (0x00, encode_gsm7("Hi €[]"), "Hi €[]", "gsm7"),
    (0x00, "Hé".encode("latin-1"), "Hé", "latin1"),  # an octet above 0x7F: not septets
    (0x01, b"plain", "plain", "ascii"),
    (0x03, "Grüße".encode("latin-1"), "Grüße", "latin1"),
    (0x08, "Привіт 🙂".encode("utf-16-be"), "Привіт 🙂", "ucs2"),
    (0x08, b"\x00A\x00", "A\ufffd", "ucs2"),  # an odd octet count is replaced, not a crash
    (0x04, b"\x01\xff", "01ff", "binary"),
    (0x06, "Да".encode("iso8859-5"), "Да", "cyrillic"),
    (0x18, "Ю".encode("utf-16-be"), "Ю", "ucs2"),  # GSM 03.38 general data coding, UCS-2 alphabet
    (0xF0, encode_gsm7("flash"), "flash", "gsm7"),
    (0xF4, b"\x01", "01", "binary"),
])
def test_texts_by_data_coding(data_coding, octets, text, encoding):
    assert decode_text(octets, data_coding) == (text, encoding)


def test_concatenation_by_udh_and_sar():
    udh8 = read_mo(bytes((5, 0, 3, 200, 3, 2)) + b"part", 0x40, 0, {})
    assert (udh8.reference, udh8.total, udh8.number, udh8.text) == (200, 3, 2, "part")
    udh16 = read_mo(bytes((6, 8, 4, 0x12, 0x34, 2, 1)) + b"one", 0x40, 0, {})
    assert (udh16.reference, udh16.total, udh16.number) == (0x1234, 2, 1)
    sar = read_mo(b"two", 0, 0, {0x020C: b"\x00\x09", 0x020E: b"\x03", 0x020F: b"\x02"})
    assert (sar.reference, sar.total, sar.number) == (9, 3, 2)
    payload = read_mo(b"", 0, 8, {0x0424: "long".encode("utf-16-be")})
    assert payload.text == "long" and payload.total == 1
    # a UDH with another element before the concatenation one (a port address)
    mixed = read_mo(bytes((11, 5, 4, 0, 0, 0, 0, 0, 3, 7, 2, 2)) + b"x", 0x40, 0, {})
    assert (mixed.reference, mixed.total, mixed.number, mixed.text) == (7, 2, 2, "x")


@pytest.mark.parametrize("octets", [
    bytes((5, 0, 3, 1, 3, 0)) + b"x",  # part 0
    bytes((5, 0, 3, 1, 3, 4)) + b"x",  # part 4 of 3
    bytes((5, 0, 3, 1, 0, 0)) + b"x",  # total 0
    bytes((5, 0, 3, 1, 1, 1)) + b"x",  # one part of one
    bytes((50, 0, 3, 1, 2, 1)) + b"x",  # a header longer than the message
    bytes((5, 0, 9, 1, 2, 1)),  # an element longer than its header
])
def test_hostile_headers_make_a_message_in_one_piece(octets):
    mo = read_mo(octets, 0x40, 0, {})
    assert mo.total == 1 and mo.reference is None


@given(st.text(min_size=1, max_size=400), st.sampled_from(["udh8", "udh16", "sar"]), st.integers(0, 255))
def test_the_smsc_parts_read_back_as_the_text(text, concat, reference):
    parts = [read_mo(sm, esm, dc, dict(tlvs)) for sm, esm, dc, tlvs in mo_parts(text, concat=concat,
                                                                                   reference=reference)]
    ordered = sorted(parts, key=lambda p: p.number)
    assert "".join(p.text for p in ordered) == text
    assert all(p.total == len(parts) for p in parts)


@given(st.binary(max_size=300), st.integers(0, 255), st.integers(0, 255))
def test_any_octets_read_without_an_error(octets, esm_class, data_coding):
    mo = read_mo(octets, esm_class, data_coding, {})
    assert isinstance(mo.text, str) and 1 <= mo.number <= mo.total
