"""Phone number normalisation to E.164 (domain/phone.py): a table per kind of case."""

import functools
import json
from importlib import resources

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from relaybox.domain.phone import InvalidPhone, _parse_international, parse_phone


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
        (" +380971234567 ", "UA"),  # blanks around the number are forgiven
    ],
)
def test_possible_numbers_get_their_country(value, country):
    phone = parse_phone(value)
    assert phone.country == country
    assert phone.msisdn == str(value).strip().lstrip("+")


#: A national trunk prefix written after the country code is dropped: (as written, E.164 digits, country).
TRUNK_PREFIXES = [
    ("+3800971234567", 380971234567, "UA"),  # Ukraine, 0
    (3800971234567, 380971234567, "UA"),  # the same, as a One API integer
    ("3800971234567", 380971234567, "UA"),  # the same, as a legacy string without +
    ("+330612345678", 33612345678, "FR"),  # France, 0
    ("+4901511234567", 491511234567, "DE"),  # Germany, 0 (mobile)
    ("+49030123456", 4930123456, "DE"),  # Germany, 0 (Berlin fixed line)
    ("+4407400123456", 447400123456, "GB"),  # United Kingdom, 0 (mobile)
    ("+4402079460000", 442079460000, "GB"),  # United Kingdom, 0 (London fixed line)
    ("+789123456789", 79123456789, "RU"),  # Russia, 8
    ("+787012345678", 77012345678, "KZ"),  # Kazakhstan, 8 (shares +7 with Russia)
    ("+3750294911911", 375294911911, "BY"),  # Belarus, 0 (new style)
    ("+37580294911911", 375294911911, "BY"),  # Belarus, 80 (old style)
    ("+310612345678", 31612345678, "NL"),  # Netherlands, 0
    ("+55011961234567", 5511961234567, "BR"),  # Brazil, 0
    ("+5501511961234567", 5511961234567, "BR"),  # Brazil, 0 + carrier selection code 15
    ("+9005012345678", 905012345678, "TR"),  # Turkey, 0
    ("+610412345678", 61412345678, "AU"),  # Australia, 0
    ("+6402112345678", 642112345678, "NZ"),  # New Zealand, 0
    ("+8109012345678", 819012345678, "JP"),  # Japan, 0
    ("+9109812345678", 919812345678, "IN"),  # India, 0
    ("+86013123456789", 8613123456789, "CN"),  # China, 0
    ("+4306641234567", 436641234567, "AT"),  # Austria, 0
    ("+320470123456", 32470123456, "BE"),  # Belgium, 0
    ("+410781234567", 41781234567, "CH"),  # Switzerland, 0
    ("+460701234567", 46701234567, "SE"),  # Sweden, 0
    ("+3580412345678", 358412345678, "FI"),  # Finland, 0
    ("+3606201234567", 36201234567, "HU"),  # Hungary, 06
    ("+5703211234567", 573211234567, "CO"),  # Colombia, 0 (where "03" also reads as carrier code 3)
    ("+114155552671", 14155552671, "US"),  # North America, 1
]


@pytest.mark.parametrize(("value", "e164", "country"), TRUNK_PREFIXES)
def test_trunk_prefix_after_the_country_code_is_dropped(value, e164, country):
    phone = parse_phone(value)
    assert (phone.number, phone.country) == (e164, country)
    assert parse_phone(phone.number) == phone  # the E.164 form is its own normal form


#: A leading zero that belongs to the number itself stays (libphonenumber's "Italian leading zero").
KEPT_ZEROS = [
    ("+390612345678", 390612345678, "IT"),  # Rome fixed line: the 0 is part of the E.164 number
    ("+390212345678", 390212345678, "IT"),  # Milan
    ("+390669812345", 390669812345, "VA"),  # Vatican City (on Italy's +39 plan)
    ("+2250123456789", 2250123456789, "CI"),  # Côte d'Ivoire: 10-digit numbers, from 0, since 2021
    ("+24106031234", 24106031234, "GA"),  # Gabon
]


@pytest.mark.parametrize(("value", "e164", "country"), KEPT_ZEROS)
def test_a_zero_that_belongs_to_the_number_stays(value, e164, country):
    phone = parse_phone(value)
    assert (phone.number, phone.country) == (e164, country)


#: Whole E.164 numbers of 7 and 8 digits: real numbers, sold by the price list.
SHORT_NUMBERS = [
    (68271234, "CK"),  # Cook Islands, mobile
    (68221234, "CK"),  # Cook Islands, fixed line
    ("+6837012", "NU"),  # Niue, fixed line (7 digits)
    (6907290, "TK"),  # Tokelau, mobile (7 digits)
    (6903101, "TK"),  # Tokelau, fixed line
    (50051234, "FK"),  # Falkland Islands
    (29051234, "SH"),  # Saint Helena
    (2908999, "TA"),  # Tristan da Cunha (7 digits)
    (24740123, "AC"),  # Ascension Island
    (68631234, "KI"),  # Kiribati, fixed line
    (67740123, "SB"),  # Solomon Islands
    (67620123, "TO"),  # Tonga
    (68820123, "TV"),  # Tuvalu
    (67822123, "VU"),  # Vanuatu
    (68522123, "WS"),  # Samoa
]


@pytest.mark.parametrize(("value", "country"), SHORT_NUMBERS)
def test_short_numbers_are_accepted(value, country):
    phone = parse_phone(value)
    assert (phone.msisdn, phone.country) == (str(value).lstrip("+"), country)


@pytest.mark.parametrize(
    "value",
    [
        12345678,  # +1 234 5678: a local-only length in North America
        1234567890123456,  # 16 digits
        "+3800971234567890",  # trunk prefix dropped, still too long for Ukraine
        38097123456789,  # too long for Ukraine
        38097123,  # too short for Ukraine
        3809712300,  # +380 971 2300: possible for local dialling only
        6821234,  # Cook Islands with one digit missing
        682712345,  # Cook Islands with one digit too many
        999123456789,  # +999 is no country calling code
        "+0380971234567",  # no country calling code starts with 0
        "00380971234567",  # an international call prefix is not part of the number
        80012345678,  # +800: a global freephone number, in no country
        "38097abc4567",
        "",
        None,
        3.8e11,
        True,
        "+",
        "++380971234567",
        "38097 1234567",
        "+380-97-123-4567",
        "٣٨٠٩٧١٢٣٤٥٦٧",  # Arabic-Indic digits: digits, but not ASCII ones
        -380971234567,
        0,
        "9" * 40,
        [380971234567],
    ],
)
def test_invalid_numbers(value):
    with pytest.raises(InvalidPhone):
        parse_phone(value)


def test_invalid_says_why():
    with pytest.raises(InvalidPhone, match="digits"):
        parse_phone("38097abc4567")
    with pytest.raises(InvalidPhone, match="possible"):
        parse_phone(38097123456789)


@functools.cache
def _price_list() -> dict:
    return json.loads((resources.files("relaybox") / "data" / "pricelist.json").read_text(encoding="utf-8"))["countries"]


#: Regions whose every range is shared with another region of the same calling code: libphonenumber
#: (and so relaybox) gives their numbers that other region (Western Sahara is inside Morocco's plan;
#: Saint Martin's numbers are also Guadeloupe's and Saint Barthélemy's).
SHARED_PLANS = {"EH": "MA", "MF": "GP"}


@pytest.mark.parametrize("region", sorted(_price_list()))
def test_every_region_of_the_price_list_accepts_a_number(region):
    """libphonenumber's example numbers of the region: at least one is accepted, unchanged, in that region."""
    accepted = []
    for kind in PhoneNumberType.values():
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        e164 = int(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:])
        try:
            phone = parse_phone(e164)
        except InvalidPhone:
            continue
        assert phone.number == e164  # an example number is already in E.164 form: never rewritten
        assert phone.country in _price_list()  # priced, so it can be sent
        if phone.country == SHARED_PLANS.get(region, region):
            accepted.append(e164)
    assert accepted, f"no number of {region} is accepted"


def test_every_example_number_is_its_own_normal_form():
    """No real number is mistaken for one with a trunk prefix (all regions, all number types)."""
    rewritten = []
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = int(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:])
            try:
                phone = parse_phone(e164)
            except InvalidPhone:
                continue
            if phone.number != e164:
                rewritten.append((region, e164, phone.number))
    assert not rewritten


def test_mobile_example_with_its_trunk_prefix_is_the_example():
    """For every region with a national prefix: `+CC <prefix> <national number>` is `+CC <national number>`."""
    wrong = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if not metadata.national_prefix:
            continue
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            nsn = phonenumbers.national_significant_number(example)
            written = f"+{example.country_code}{metadata.national_prefix}{nsn}"
            expected = int(f"{example.country_code}{nsn}")
            try:
                got = parse_phone(written).number
            except InvalidPhone:
                got = None
            if got != expected:
                wrong.append((region, written, got))
    assert not wrong


@given(st.integers(min_value=0, max_value=10**17))
def test_parse_never_raises_anything_but_invalid_phone(n):
    try:
        phone = parse_phone(n)
    except InvalidPhone:
        return
    assert 0 < phone.number < 10**15 and len(phone.country) == 2
    assert parse_phone(phone.number) == phone  # idempotent
    assert parse_phone("+" + phone.msisdn) == phone


@given(st.text(alphabet="+0123456789 -()x٣", max_size=22))
def test_strings_never_raise_anything_but_invalid_phone(s):
    try:
        phone = parse_phone(s)
    except InvalidPhone:
        return
    assert phone.msisdn.isdigit() and len(phone.msisdn) <= 15


def _library_reading(digits: str):
    """What `phonenumbers.parse` makes of `+digits`: the number, or the kind of its error."""
    try:
        return phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException as exc:
        return exc.error_type


def _fast_reading(digits: str):
    try:
        return _parse_international(digits)
    except phonenumbers.NumberParseException as exc:
        return exc.error_type


def test_the_fast_reading_of_digits_is_the_library_s_for_every_calling_code():
    """domain/phone.py builds most numbers without `phonenumbers.parse`: for every calling code,
    national parts of every length, with and without a leading zero or the region's trunk prefix,
    and each region's example numbers, the result (or the error) is the library's own."""
    import random

    rng = random.Random(20261130)
    cases = []
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for length in range(0, 19):
            for lead in ("", "0", "00", "1", "8", "9"):
                national = lead + "".join(rng.choice("0123456789") for _ in range(max(0, length - len(lead))))
                cases.append(f"{code}{national}")
        for region in regions:
            for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
                example = phonenumbers.example_number_for_type(region, kind)
                if example is not None:
                    nsn = phonenumbers.national_significant_number(example)
                    cases += [f"{code}{nsn}", f"{code}0{nsn}", f"{code}8{nsn}", f"{code}{nsn[:-2]}"]
    cases += ["", "0", "1", "12", "123", "0380971234567", "999123456789", "380" + "9" * 18]
    different = [(d, _fast_reading(d), _library_reading(d)) for d in cases if _fast_reading(d) != _library_reading(d)]
    assert not different, different[:10]


@given(st.text(alphabet="0123456789", max_size=21))
def test_the_fast_reading_agrees_with_the_library_on_any_digits(digits):
    assert _fast_reading(digits) == _library_reading(digits)
