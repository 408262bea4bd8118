import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaybox.domain.phone import InvalidPhone, parse_phone


@pytest.mark.parametrize(
    ("value", "country"),
    [
        (380971234567, "UA"),
        ("380971234567", "UA"),
        ("+380971234567", "UA"),
        (14155552671, "US"),
        (4915112345678, "DE"),
        (447700900123, "GB"),
        (48601234567, "PL"),
    ],
)
def test_possible_numbers_get_their_country(value, country):
    assert parse_phone(value).country == country


@pytest.mark.parametrize("value", [12345678, 1234567890123456, "38097abc4567", "", None, 3.8e11, True, "+", "38097 1234567"])
def test_invalid_numbers(value):
    with pytest.raises(InvalidPhone):
        parse_phone(value)


def test_impossible_length_for_its_country_is_invalid():
    with pytest.raises(InvalidPhone):
        parse_phone(38097123456789)  # too long for Ukraine


@given(st.integers(min_value=10**8, max_value=10**15 - 1))
def test_parse_never_raises_anything_but_invalid_phone(n):
    try:
        phone = parse_phone(n)
    except InvalidPhone:
        return
    assert phone.number == n and len(phone.country) == 2
