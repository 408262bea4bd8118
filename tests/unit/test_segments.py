"""Tests for relaybox.domain.segments: encoding detection, part counting, splitting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaybox.domain.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_GSM7_SEPTETS,
    MAX_UCS2_UNITS,
    Encoding,
    SegmentInfo,
    analyze,
    decode_gsm7,
    encode_gsm7,
    gsm7_septets,
    is_too_long,
    split_parts,
)

EMOJI = "😀🙂👍🎉🚀"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯіїєґ"

gsm_basic_text = st.text(alphabet=sorted(GSM7_BASIC), max_size=700)
gsm_text = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700)
mixed_text = st.text(
    alphabet=st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION) + list(CYRILLIC) + list(EMOJI)),
    max_size=400,
)
# Weighted so that texts often stay GSM-7 and often carry many two-unit chars.
any_text = st.one_of(
    gsm_text,
    mixed_text,
    st.text(alphabet=sorted(GSM7_EXTENSION) + ["a"], max_size=400),
    st.text(alphabet=list(EMOJI) + ["я"], max_size=200),
    st.text(max_size=300),
)


def _part_units(part: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return gsm7_septets(part)
    return len(part.encode("utf-16-le")) // 2


# --- alphabet tables ---------------------------------------------------------


def test_basic_table_has_127_usable_characters() -> None:
    assert len(GSM7_BASIC) == 127
    assert "\x1b" not in GSM7_BASIC
    for ch in "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà":
        assert ch in GSM7_BASIC


def test_extension_table() -> None:
    assert GSM7_EXTENSION == frozenset("\f^{}\\[~]|€")
    assert not GSM7_EXTENSION & GSM7_BASIC


# --- analyze ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "parts"),
    [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4), (765, 5)],
)
def test_gsm7_parts(length: int, parts: int) -> None:
    info = analyze("a" * length)
    assert info == SegmentInfo(Encoding.GSM7, length, parts)


@pytest.mark.parametrize(
    ("length", "parts"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)]
)
def test_ucs2_parts(length: int, parts: int) -> None:
    info = analyze("я" * length)
    assert info == SegmentInfo(Encoding.UCS2, length, parts)


def test_one_non_gsm_char_makes_whole_text_ucs2() -> None:
    info = analyze("a" * 100 + "я")
    assert info.encoding is Encoding.UCS2
    assert info.units == 101
    assert info.parts == 2


def test_extension_chars_count_two_septets() -> None:
    assert analyze("€" * 80) == SegmentInfo(Encoding.GSM7, 160, 1)
    assert analyze("€" * 81) == SegmentInfo(Encoding.GSM7, 162, 2)
    assert analyze("[x]").units == 5


def test_emoji_counts_two_units() -> None:
    assert analyze("🙂") == SegmentInfo(Encoding.UCS2, 2, 1)
    assert analyze("🙂" * 35).parts == 1
    assert analyze("🙂" * 36).parts == 2


def test_extension_char_on_boundary_opens_next_part() -> None:
    # 152 septets then a 2-septet € cannot share the first part: ceil(n/153)
    # would say 2 parts for 306 septets, but 3 parts are really sent.
    text = "a" * 152 + "€" + "a" * 152
    assert analyze(text).units == 306
    assert analyze(text).parts == 3
    parts = split_parts(text)
    assert parts == ["a" * 152, "€" + "a" * 151, "a"]


def test_surrogate_pair_on_boundary_opens_next_part() -> None:
    text = "я" * 66 + "🙂" + "я" * 66
    assert analyze(text).units == 134
    assert analyze(text).parts == 3
    assert split_parts(text)[0] == "я" * 66


def test_is_too_long() -> None:
    assert not is_too_long(analyze("a" * MAX_GSM7_SEPTETS))
    assert is_too_long(analyze("a" * (MAX_GSM7_SEPTETS + 1)))
    assert is_too_long(analyze("€" * 383))
    assert not is_too_long(analyze("я" * MAX_UCS2_UNITS))
    assert is_too_long(analyze("я" * (MAX_UCS2_UNITS + 1)))


# --- split_parts --------------------------------------------------------------


def test_split_single_part_and_empty() -> None:
    assert split_parts("") == [""]
    assert split_parts("a" * 160) == ["a" * 160]
    assert split_parts("a" * 161) == ["a" * 153, "a" * 8]


@given(any_text)
def test_split_matches_analyze_and_round_trips(text: str) -> None:
    parts = split_parts(text)
    info = analyze(text)
    assert len(parts) == info.parts
    assert "".join(parts) == text


@given(any_text)
def test_parts_fit_limits(text: str) -> None:
    info = analyze(text)
    parts = split_parts(text)
    if info.parts == 1:
        single = 160 if info.encoding is Encoding.GSM7 else 70
        assert info.units <= single
        return
    multi = 153 if info.encoding is Encoding.GSM7 else 67
    for part in parts[:-1]:
        # Full except when a two-unit character was pushed to the next part.
        assert multi - 1 <= _part_units(part, info.encoding) <= multi
    assert 1 <= _part_units(parts[-1], info.encoding) <= multi
    assert sum(_part_units(p, info.encoding) for p in parts) == info.units


@given(gsm_basic_text)
def test_plain_gsm_parts_are_ceil_division(text: str) -> None:
    info = analyze(text)
    expected = 1 if info.units <= 160 else -(-info.units // 153)
    assert info.parts == expected


# --- GSM-7 byte codec -------------------------------------------------------------


def test_encode_known_code_points() -> None:
    assert encode_gsm7("@£$¥") == bytes([0x00, 0x01, 0x02, 0x03])
    assert encode_gsm7("Δ_ ¡Aa¿àÉ") == bytes([0x10, 0x11, 0x20, 0x40, 0x41, 0x61, 0x60, 0x7F, 0x1F])
    assert encode_gsm7("€[]") == bytes([0x1B, 0x65, 0x1B, 0x3C, 0x1B, 0x3E])
    assert gsm7_septets("a€") == 3


def test_encode_rejects_non_gsm() -> None:
    with pytest.raises(ValueError):
        encode_gsm7("abc я")


@given(gsm_text)
def test_gsm7_round_trip(text: str) -> None:
    data = encode_gsm7(text)
    assert len(data) == analyze(text).units
    assert all(b <= 0x7F for b in data)
    assert decode_gsm7(data) == text


def test_decode_tolerates_odd_escapes() -> None:
    assert decode_gsm7(bytes([0x1B, 0x41])) == "A"  # unknown extension -> basic char
    assert decode_gsm7(bytes([0x61, 0x1B])) == "a "  # trailing ESC
    assert decode_gsm7(bytes([0x1B, 0x1B])) == " "


def test_decode_rejects_8bit_bytes() -> None:
    with pytest.raises(ValueError):
        decode_gsm7(b"\x80")
