"""Phone numbers: what counts as a number, and which country it belongs to.

Numbers travel as digits only (no `+`), 9 to 15 digits.  libphonenumber decides
whether a number is *possible* (right length for its country calling code); we
deliberately do not require it to be *valid* (in an allocated range), because
operators allocate new ranges faster than the library's metadata follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException


class InvalidPhone(ValueError):
    """The value is not a possible international phone number."""


@dataclass(frozen=True, slots=True)
class Phone:
    number: int  # E.164 digits as an integer, e.g. 380971234567
    country: str  # ISO 3166 alpha-2 region, e.g. "UA"

    @property
    def msisdn(self) -> str:
        return str(self.number)


def normalize_digits(value: object) -> str:
    """Accept an integer or a digit string (optionally with a leading `+`)."""
    if isinstance(value, bool):
        raise InvalidPhone("must be a phone number")
    if isinstance(value, int):
        digits = str(value)
    elif isinstance(value, str):
        digits = value.strip()
        if digits.startswith("+"):
            digits = digits[1:]
    else:
        raise InvalidPhone("must be a phone number")
    if not digits.isascii() or not digits.isdigit():
        raise InvalidPhone("must contain digits only")
    if not 9 <= len(digits) <= 15:
        raise InvalidPhone("must have 9 to 15 digits")
    return digits


def parse_phone(value: object) -> Phone:
    """Parse and check a number; raise `InvalidPhone` with a short reason."""
    digits = normalize_digits(value)
    return _parse_digits(digits)


@lru_cache(maxsize=65536)
def _parse_digits(digits: str) -> Phone:
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except NumberParseException as exc:
        raise InvalidPhone("is not a valid phone number") from exc
    # libphonenumber's is_possible_number() also passes lengths that are only
    # dialable locally (without an area code, e.g. +380 971 2300): never a
    # complete international number, so only a full national length counts.
    if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidPhone("is not a valid phone number")
    region = phonenumbers.region_code_for_number(parsed)
    if region is None or region == "001":
        # A possible number outside every region's ranges: fall back to the
        # main region of its calling code (CONTRACT: "Phone numbers").
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
    if region in (None, "ZZ", "001"):
        raise InvalidPhone("is not a valid phone number")
    return Phone(number=int(digits), country=region)
