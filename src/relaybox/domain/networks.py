"""Country and mobile network (operator) of a phone number: name, brand, MCC and MNC.

Sources, both maintained and shipped as Python packages (no network access):

- the operator's *brand* is libphonenumber's carrier data
  (`phonenumbers.carrier.name_for_number`, English names): the operator that
  was allocated the number's range.  A number moved to another operator
  (mobile number portability) keeps its original operator here: ported
  numbers are out of scope (that needs an HLR/MNP look-up).
- the *MCC and MNC* of that brand, and the country's English name, come from
  the `mcc-mnc-p1` package's tables (`mcc_mnc_lut`: P1 Security's aggregation
  of Wikipedia's and ITU-T's MCC/MNC lists): the network whose brand (or
  operator name) equals the carrier name, in the number's country, operational
  networks first, then the lowest MNC.

Null where the data has no answer: no brand when libphonenumber knows no
carrier for the range (fixed lines, many countries' mobile ranges, numbers
outside allocated ranges); no MCC/MNC when no network of that country has that
brand.  Pure: loads the tables once, on first use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType, carrier


@dataclass(frozen=True, slots=True)
class Network:
    """Where a message went: ISO 3166 alpha-2 `country`, its English `country_name`,
    the operator's `brand` and its `mcc`/`mnc` (3 and 2–3 digit strings); None where unknown."""

    country: str
    country_name: str | None
    brand: str | None
    mcc: str | None
    mnc: str | None

    @property
    def operator_id(self) -> str | None:
        """MCC followed by MNC ("25501"), as BSG's stat-job `operator_id` filter names an operator."""
        return f"{self.mcc}{self.mnc}" if self.mcc and self.mnc else None


#: Longest brand stored per message (messages.brand); libphonenumber's names are far shorter.
MAX_BRAND = 64


#: The number types `carrier.name_for_number` names a carrier for (libphonenumber: "mobile" numbers).
_CARRIER_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.PAGER})


def brand_for(number: PhoneNumber) -> str | None:
    """libphonenumber's English carrier name for a parsed number, or None ("" means unknown there).

    `carrier.name_for_number`, in the other order: its range's name first (a prefix look-up), the
    number's type (a dozen pattern matches, most of the cost) only when the range has a name.
    """
    name = carrier.name_for_valid_number(number, "en")
    if not name or phonenumbers.number_type(number) not in _CARRIER_TYPES:
        return None
    return name[:MAX_BRAND]


def brand_for_e164(e164: int) -> str | None:
    """`brand_for` of E.164 digits (as stored in messages.phone)."""
    try:
        return brand_for(phonenumbers.parse(f"+{e164}", None))
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=1)
def _tables() -> tuple[dict, dict]:
    """(MCC+MNC → network entries, ISO 3166 alpha-2 → country entry).

    `mcc-mnc-p1` is an optional dependency (the `networks` extra: it is AGPL-3.0, relaybox is
    MIT, so a plain install does not pull it in).  Without it there are no MCC/MNC codes (null in
    reports), and country names come from libphonenumber's geocoding data instead.
    """
    try:
        root = resources.files("mcc_mnc_lut")
    except ModuleNotFoundError:
        return {}, _countries_from_libphonenumber()
    mnc = json.loads(root.joinpath("p1_mnc.json").read_text(encoding="utf-8"))[1]
    cc2 = json.loads(root.joinpath("p1_cc2.json").read_text(encoding="utf-8"))[1]
    return mnc, cc2


def _countries_from_libphonenumber() -> dict:
    """ISO 3166 alpha-2 → {"name": English name}, for every region libphonenumber knows."""
    from phonenumbers import geocoder

    found = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        name = geocoder.country_name_for_number(example, "en") if example is not None else ""
        if name:
            found[region] = {"name": name}
    return found


def _names(entry: dict) -> set[str]:
    """The names a network goes by: its brands ("3Mob; Lycamobile" is two) and its operator."""
    names = set()
    for field in ("brand", "operator"):
        for part in str(entry.get(field) or "").replace("/", ";").split(";"):
            part = part.strip().casefold()
            if part:
                names.add(part)
    return names


@lru_cache(maxsize=1)
def _codes_by_brand() -> dict[tuple[str, str], tuple[str, str]]:
    """(country, casefolded brand) → (mcc, mnc): operational networks first, then the lowest code."""
    mnc_table, _ = _tables()
    best: dict[tuple[str, str], tuple[bool, str]] = {}
    for code, entries in mnc_table.items():
        if not code.isdigit() or len(code) not in (5, 6):
            continue
        # a code shared by several territories is a list of entries, one per territory
        for entry in entries if isinstance(entries, list) else [entries]:
            rank = (not entry.get("ope", False), code)
            for country in entry.get("cc2s") or []:
                for name in _names(entry):
                    key = (country, name)
                    if key not in best or rank < best[key]:
                        best[key] = rank
    return {key: (code[:3], code[3:]) for key, (_, code) in best.items()}


@lru_cache(maxsize=4096)
def country_name(country: str) -> str | None:
    """English name of an ISO 3166 alpha-2 code ("UA" → "Ukraine"), or None."""
    entry = _tables()[1].get(country)
    return entry.get("name") if entry else None


@lru_cache(maxsize=1)
def _countries_by_name() -> dict[str, str]:
    _, cc2 = _tables()
    found = {}
    for code, entry in cc2.items():
        if entry.get("name"):
            found[entry["name"].casefold()] = code
        for alias in (entry.get("infos") or {}).get("nameset") or []:
            found.setdefault(str(alias).casefold(), code)
    return found


def country_code(value: str) -> str | None:
    """An ISO 3166 alpha-2 code from a code ("ua") or an English name ("Ukraine"), or None."""
    value = value.strip()
    if len(value) == 2 and value.isalpha() and value.upper() in _tables()[1]:
        return value.upper()
    return _countries_by_name().get(value.casefold())


@lru_cache(maxsize=16384)
def network(country: str, brand: str | None) -> Network:
    """The Network of a message stored with `country` and `brand`."""
    codes = _codes_by_brand().get((country, brand.casefold())) if brand else None
    return Network(
        country=country,
        country_name=country_name(country),
        brand=brand,
        mcc=codes[0] if codes else None,
        mnc=codes[1] if codes else None,
    )


def brands_for_operator(operator_id: str) -> list[tuple[str, str]]:
    """The (country, brand) pairs whose network is `operator_id` (MCC+MNC, e.g. "25501").

    The inverse of `network`: several brands of one country may share a code. The
    brands are matched case-insensitively by the caller.
    """
    entries = _tables()[0].get(operator_id) or []
    found = set()
    for entry in entries if isinstance(entries, list) else [entries]:
        for country in entry.get("cc2s") or []:
            found.update((country, name) for name in _names(entry))
    return sorted(found)
