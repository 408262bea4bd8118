"""`stored_phone`: the region of a stored E.164 number, as `parse_phone` finds it, without a full parse."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from relaybox.domain.phone import InvalidPhone, parse_phone, stored_phone


@pytest.mark.parametrize("number", [
    380971230011, 447700900123, 12025550123, 79161234567, 33612345678, 4915123456789, 8613800138000,
    5511912345678, 61412345678, 390612345678, 14165550123, 18095550123, 441481123456, 262692123456,
    5491123456789, 972501234567, 34612345678, 77012345678,
])
def test_agrees_with_parse_phone(number):
    assert stored_phone(number) == parse_phone(number)


def test_agrees_with_parse_phone_on_random_stored_numbers():
    rnd = random.Random(15)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    checked = 0
    for _ in range(5000):
        number = int(f"{rnd.choice(codes)}{rnd.randint(10**5, 10**10)}")
        try:
            parsed = parse_phone(number)
        except InvalidPhone:
            continue
        if parsed.number == number:  # only numbers in their stored (E.164) form
            assert stored_phone(number) == parsed
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("value", [0, -1, 999, 800123456789, 10**16, True])
def test_what_it_cannot_read_falls_back_to_parse_phone(value):
    with pytest.raises(InvalidPhone):
        stored_phone(value)
