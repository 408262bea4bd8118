"""Phone numbers: the one normal form (E.164 digits) and the country a number belongs to.

Every number a tenant sends is read here, once, before it is checked for
repeats, priced, stored or submitted, so that every later step sees the
E.164 form (ITU-T E.164; libphonenumber's metadata decides the details):

- digits only, optionally with a leading `+` (an integer from the One API, a
  string from the legacy API); the digits always start with the country
  calling code;
- a national trunk prefix written after the country code is dropped:
  `+380 0 97…` is `380 97…`, `+33 06…` is `33 6…`, `+7 8 916…` is `7 916…`.
  A leading zero that belongs to the number itself stays (Italy's `+39 06…`,
  Côte d'Ivoire's `+225 01…`): libphonenumber knows which is which;
- the result must be a *possible* number (a full national length for its
  country calling code) of at most 15 digits; there is no fixed minimum
  (Cook Islands numbers have 8 digits in all, Tokelau ones 7). It need not
  be *valid* (in an allocated range): operators allocate new ranges faster
  than the library's metadata follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumber, ValidationResult

from relaybox.domain.networks import brand_for

#: Most digits of an E.164 number, country code included (ITU-T E.164 §6).
MAX_E164_DIGITS = 15
#: Most digits accepted as written: 15, plus a trunk prefix and a carrier selection code
#: (`+55 0 15 11 9…`); libphonenumber refuses a national part of more than 17 digits anyway.
MAX_WRITTEN_DIGITS = 20


class InvalidPhone(ValueError):
    """The value is not a possible international phone number (str(exc) says why, for "The phone number …")."""


@dataclass(frozen=True, slots=True)
class Phone:
    """A checked recipient phone: E.164 number, ISO 3166 region and the range's operator brand."""
    number: int  # E.164 digits as an integer, e.g. 380971234567
    country: str  # ISO 3166 alpha-2 region, e.g. "UA"
    #: The operator's brand by libphonenumber's carrier data ("Kyivstar"), None when it has none
    #: (domain/networks.py); the range's original operator: ported numbers are not followed.
    brand: str | None = None

    @property
    def msisdn(self) -> str:
        """The E.164 digits without `+`, as the legacy API and SMPP carry them."""
        return str(self.number)


def parse_phone(value: object) -> Phone:
    """Normalise a number as a tenant wrote it to its E.164 form and region.

    `value` is an int (One API) or a string of digits with an optional leading
    `+` (legacy API, RCS phones); the digits start with the country calling
    code.  Returns `Phone(number=<E.164 digits as int>, country=<ISO 3166
    alpha-2>)`; the country is the region whose ranges the number matches, or
    the main region of its calling code when it matches none (a possible but
    not yet allocated number).  Raises `InvalidPhone` when the value is not
    digits, or the number is not possible (too short, too long, a length only
    dialable locally, no such calling code) or belongs to no country (+800,
    +882 and the other non-geographic codes).  Pure; results are cached per
    written number.
    """
    if isinstance(value, bool):
        raise InvalidPhone("must be a phone number")
    if isinstance(value, int):
        if value <= 0:
            raise InvalidPhone("must be a phone number")
        digits = str(value)
    elif isinstance(value, str):
        digits = value.strip()  # surrounding blanks are forgiven (older clients pad); inner ones are not
        if digits.startswith("+"):
            digits = digits[1:]
    else:
        raise InvalidPhone("must be a phone number")
    if not digits.isascii() or not digits.isdigit():
        raise InvalidPhone("must contain digits only")
    if len(digits) > MAX_WRITTEN_DIGITS:
        raise InvalidPhone(f"must have at most {MAX_E164_DIGITS} digits")
    return _normalise(digits)


@lru_cache(maxsize=65536)
def _normalise(digits: str) -> Phone:
    try:
        # With the `+`, libphonenumber reads the country code and then strips the
        # national prefix by the region's own rule (`national_prefix_for_parsing`,
        # which also knows carrier selection codes and Argentina's 0…15 → 9…)
        # when what is left has a possible length.
        number = _parse_international(digits)
    except NumberParseException as exc:
        raise InvalidPhone("has no known country calling code") from exc
    national = phonenumbers.national_significant_number(number)
    prefix = _trunk_prefix(number.country_code)
    if prefix and national.startswith(prefix) and len(national) > len(prefix):
        number, national = _without_plain_trunk_prefix(number, national, prefix)
    # is_possible_number() also passes lengths that are only dialable locally
    # (without an area code, e.g. +380 971 2300): never a complete international
    # number, so only a full national length counts.
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        raise InvalidPhone("is not a possible number for its country calling code")
    e164 = f"{number.country_code}{national}"
    if len(e164) > MAX_E164_DIGITS:
        raise InvalidPhone(f"must have at most {MAX_E164_DIGITS} digits")
    region = phonenumbers.region_code_for_number(number)
    if region is None or region == phonenumbers.UNKNOWN_REGION:
        # A possible number outside every region's ranges: the main region of
        # its calling code (docs/compatibility.md, "Phone numbers in detail").
        region = phonenumbers.region_code_for_country_code(number.country_code)
    if region in (phonenumbers.UNKNOWN_REGION, phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY):
        raise InvalidPhone("belongs to no country")
    if e164 != digits and _normalise(e164).number != int(e164):
        # A national prefix was read off, and what is left would lose another one if written
        # again (+43 0 01234 → +43 01234 → +43 1234): no number of that country reads both ways,
        # and the E.164 form the store keeps must read as itself.
        raise InvalidPhone("is not a possible number for its country calling code")
    return Phone(number=int(e164), country=region, brand=brand_for(number))


def stored_phone(number: int) -> Phone:
    """The region (and operator brand) of a number already in E.164 form (as the store keeps contacts' phones), without
    parsing it again: the calling code is read from its leading digits and the region found as
    `parse_phone` finds it.  For numbers that are not stored E.164 digits (or whose region cannot
    be told this way) it falls back to `parse_phone`, with its errors.  Several times faster than
    `parse_phone` for a number not in its cache, which matters for a 100,000-contact list.
    """
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        digits = str(number)
        if len(digits) <= MAX_E164_DIGITS:
            for size in (1, 2, 3):
                code = int(digits[:size])
                regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
                if regions is None:
                    continue
                national = digits[size:]
                if not national or national.startswith("0"):
                    break  # a leading zero needs libphonenumber's own reading
                parsed = PhoneNumber(country_code=code, national_number=int(national))
                region = phonenumbers.region_code_for_number(parsed)
                if region is None or region == phonenumbers.UNKNOWN_REGION:
                    region = phonenumbers.region_code_for_country_code(code)
                if region not in (phonenumbers.UNKNOWN_REGION, phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY, None):
                    return Phone(number=number, country=region, brand=brand_for(parsed))
                break
    return parse_phone(number)


def _parse_international(digits: str) -> PhoneNumber:
    """`phonenumbers.parse("+" + digits, None)`, with the same result and errors, in a tenth of its time.

    Where the digits after the country code are 2–17 digits without a leading zero and the
    region's national-prefix pattern (`national_prefix_for_parsing`) does not match their start,
    `parse` strips nothing and returns exactly (country code, national digits) — the case of
    nearly every number a tenant sends.  That is built directly; every other number (a prefix to
    strip, a leading zero, an odd length, no such country code) goes through `parse` itself.
    `parse` spends its time finding a number in free text, which digits already are: this is on
    every single send's path.  tests/unit/test_phone.py compares the two over every calling code.
    """
    if len(digits) > _MIN_DIGITS_AFTER_PLUS and digits[0] != "0":
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                national = digits[size:]
                if _MIN_NSN <= len(national) <= _MAX_NSN and national[0] != "0":
                    pattern = _national_prefix_pattern(code)
                    if pattern is None or pattern.match(national) is None:
                        return PhoneNumber(country_code=code, national_number=int(national))
                break
    return phonenumbers.parse("+" + digits, None)


#: libphonenumber's bounds (phonenumberutil: `_MIN_LENGTH_FOR_NSN`, `_MAX_LENGTH_FOR_NSN`, and
#: "had an IDD, but after this was not long enough"): outside them `parse` raises.
_MIN_NSN, _MAX_NSN, _MIN_DIGITS_AFTER_PLUS = 2, 17, 2


@lru_cache(maxsize=None)
def _national_prefix_pattern(country_code: int) -> re.Pattern | None:
    """The compiled `national_prefix_for_parsing` of a calling code's main region, as `parse` reads it."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else None


@lru_cache(maxsize=None)
def _trunk_prefix(country_code: int) -> str | None:
    """The national (trunk) prefix of the main region of a calling code: "0", "8", "06", "1"…, or None."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    return (metadata.national_prefix or None) if metadata is not None else None


def _without_plain_trunk_prefix(number: PhoneNumber, national: str, prefix: str) -> tuple[PhoneNumber, str]:
    """Drop the plain national prefix where libphonenumber's parsing rule kept it: (number, its national digits).

    The parsing rule can read more than the prefix: in Colombia `0` followed
    by `3` is also "carrier 3", so `+57 0 321…` would lose `03` and, that
    being too short, keeps both.  The plain prefix
    (`PhoneMetadata.national_prefix`) is dropped when the number as written is
    not valid and without the prefix it is.
    """
    if phonenumbers.is_valid_number(number):
        return number, national
    rest = national[len(prefix):]
    shorter = PhoneNumber(country_code=number.country_code, national_number=int(rest))
    if rest.startswith("0"):
        shorter.italian_leading_zero = True
        shorter.number_of_leading_zeros = len(rest) - len(rest.lstrip("0"))
    return (shorter, rest) if phonenumbers.is_valid_number(shorter) else (number, national)
