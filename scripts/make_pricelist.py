#!/usr/bin/env python3
"""Generate the default price list shipped with relaybox.

Writes ``src/relaybox/data/pricelist.json`` (or the path given as the first
argument).  The output is fully deterministic: the country set and calling
codes come from ``phonenumbers``; names, MCCs, currency rates, region groups
and the individually priced countries come from the tables below; prices for
the remaining countries are spread over their group's range by a hash of the
region code (no randomness), so every run produces byte-identical output for a
given ``phonenumbers`` version.

Usage::

    .venv/bin/python scripts/make_pricelist.py [OUTPUT]
"""

from __future__ import annotations

import hashlib
import json
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import phonenumbers

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "src" / "relaybox" / "data" / "pricelist.json"

Q7 = Decimal("0.0000001")

BASE_CURRENCY = "EUR"

# Units of currency per 1 EUR (indicative late-2026 values).
CURRENCY_RATES: dict[str, str] = {
    "EUR": "1",
    "USD": "1.08",
    "GBP": "0.85",
    "UAH": "44.5",
    "PLN": "4.27",
    "CZK": "24.6",
    "CHF": "0.94",
    "SEK": "11.2",
    "NOK": "11.6",
    "DKK": "7.4604",
    "HUF": "395",
    "RON": "4.977",
    "BGN": "1.95583",
    "TRY": "47.5",
    "KZT": "560",
    "GEL": "2.95",
    "AZN": "1.836",
    "AMD": "420",
    "MDL": "19.6",
    "CAD": "1.49",
    "AUD": "1.66",
    "JPY": "165",
    "CNY": "7.78",
    "INR": "94.5",
    "BRL": "6.05",
    "MXN": "20.4",
    "ZAR": "19.7",
    "AED": "3.9663",
    "ILS": "3.95",
}

TARIFFS = [
    {"code": 0, "name": "Standard", "factor": "1.00", "is_default": True, "is_active": True},
    {"code": 1, "name": "Premium routes", "factor": "1.25", "is_default": False, "is_active": True},
    {"code": 2, "name": "Economy", "factor": "0.85", "is_default": False, "is_active": True},
]

# region -> (English name, ITU E.212 MCC or "" if none, price group)
COUNTRIES: dict[str, tuple[str, str, str]] = {
    "AC": ("Ascension Island", "658", "islands"),
    "AD": ("Andorra", "213", "europe"),
    "AE": ("United Arab Emirates", "424", "mideast"),
    "AF": ("Afghanistan", "412", "asia"),
    "AG": ("Antigua and Barbuda", "344", "islands"),
    "AI": ("Anguilla", "365", "islands"),
    "AL": ("Albania", "276", "europe"),
    "AM": ("Armenia", "283", "cis"),
    "AO": ("Angola", "631", "africa"),
    "AR": ("Argentina", "722", "latam"),
    "AS": ("American Samoa", "544", "islands"),
    "AT": ("Austria", "232", "europe"),
    "AU": ("Australia", "505", "oceania"),
    "AW": ("Aruba", "363", "islands"),
    "AX": ("Åland Islands", "244", "islands"),
    "AZ": ("Azerbaijan", "400", "cis"),
    "BA": ("Bosnia and Herzegovina", "218", "europe"),
    "BB": ("Barbados", "342", "islands"),
    "BD": ("Bangladesh", "470", "asia"),
    "BE": ("Belgium", "206", "europe"),
    "BF": ("Burkina Faso", "613", "africa"),
    "BG": ("Bulgaria", "284", "europe"),
    "BH": ("Bahrain", "426", "mideast"),
    "BI": ("Burundi", "642", "africa"),
    "BJ": ("Benin", "616", "africa"),
    "BL": ("Saint Barthélemy", "340", "islands"),
    "BM": ("Bermuda", "350", "islands"),
    "BN": ("Brunei", "528", "asia"),
    "BO": ("Bolivia", "736", "latam"),
    "BQ": ("Caribbean Netherlands", "362", "islands"),
    "BR": ("Brazil", "724", "latam"),
    "BS": ("Bahamas", "364", "islands"),
    "BT": ("Bhutan", "402", "asia"),
    "BW": ("Botswana", "652", "africa"),
    "BY": ("Belarus", "257", "cis"),
    "BZ": ("Belize", "702", "latam"),
    "CA": ("Canada", "302", "namerica"),
    "CC": ("Cocos (Keeling) Islands", "505", "islands"),
    "CD": ("Democratic Republic of the Congo", "630", "africa"),
    "CF": ("Central African Republic", "623", "africa"),
    "CG": ("Republic of the Congo", "629", "africa"),
    "CH": ("Switzerland", "228", "europe"),
    "CI": ("Côte d'Ivoire", "612", "africa"),
    "CK": ("Cook Islands", "548", "islands"),
    "CL": ("Chile", "730", "latam"),
    "CM": ("Cameroon", "624", "africa"),
    "CN": ("China", "460", "asia"),
    "CO": ("Colombia", "732", "latam"),
    "CR": ("Costa Rica", "712", "latam"),
    "CU": ("Cuba", "368", "latam"),
    "CV": ("Cape Verde", "625", "africa"),
    "CW": ("Curaçao", "362", "islands"),
    "CX": ("Christmas Island", "505", "islands"),
    "CY": ("Cyprus", "280", "europe"),
    "CZ": ("Czech Republic", "230", "europe"),
    "DE": ("Germany", "262", "europe"),
    "DJ": ("Djibouti", "638", "africa"),
    "DK": ("Denmark", "238", "europe"),
    "DM": ("Dominica", "366", "islands"),
    "DO": ("Dominican Republic", "370", "latam"),
    "DZ": ("Algeria", "603", "africa"),
    "EC": ("Ecuador", "740", "latam"),
    "EE": ("Estonia", "248", "europe"),
    "EG": ("Egypt", "602", "africa"),
    "EH": ("Western Sahara", "", "africa"),
    "ER": ("Eritrea", "657", "africa"),
    "ES": ("Spain", "214", "europe"),
    "ET": ("Ethiopia", "636", "africa"),
    "FI": ("Finland", "244", "europe"),
    "FJ": ("Fiji", "542", "oceania"),
    "FK": ("Falkland Islands", "750", "islands"),
    "FM": ("Micronesia", "550", "oceania"),
    "FO": ("Faroe Islands", "288", "islands"),
    "FR": ("France", "208", "europe"),
    "GA": ("Gabon", "628", "africa"),
    "GB": ("United Kingdom", "234", "europe"),
    "GD": ("Grenada", "352", "islands"),
    "GE": ("Georgia", "282", "cis"),
    "GF": ("French Guiana", "742", "latam"),
    "GG": ("Guernsey", "234", "europe"),
    "GH": ("Ghana", "620", "africa"),
    "GI": ("Gibraltar", "266", "islands"),
    "GL": ("Greenland", "290", "islands"),
    "GM": ("Gambia", "607", "africa"),
    "GN": ("Guinea", "611", "africa"),
    "GP": ("Guadeloupe", "340", "islands"),
    "GQ": ("Equatorial Guinea", "627", "africa"),
    "GR": ("Greece", "202", "europe"),
    "GT": ("Guatemala", "704", "latam"),
    "GU": ("Guam", "310", "islands"),
    "GW": ("Guinea-Bissau", "632", "africa"),
    "GY": ("Guyana", "738", "latam"),
    "HK": ("Hong Kong", "454", "asia"),
    "HN": ("Honduras", "708", "latam"),
    "HR": ("Croatia", "219", "europe"),
    "HT": ("Haiti", "372", "latam"),
    "HU": ("Hungary", "216", "europe"),
    "ID": ("Indonesia", "510", "asia"),
    "IE": ("Ireland", "272", "europe"),
    "IL": ("Israel", "425", "mideast"),
    "IM": ("Isle of Man", "234", "europe"),
    "IN": ("India", "404", "asia"),
    "IO": ("British Indian Ocean Territory", "995", "islands"),
    "IQ": ("Iraq", "418", "mideast"),
    "IR": ("Iran", "432", "mideast"),
    "IS": ("Iceland", "274", "europe"),
    "IT": ("Italy", "222", "europe"),
    "JE": ("Jersey", "234", "europe"),
    "JM": ("Jamaica", "338", "latam"),
    "JO": ("Jordan", "416", "mideast"),
    "JP": ("Japan", "440", "asia"),
    "KE": ("Kenya", "639", "africa"),
    "KG": ("Kyrgyzstan", "437", "cis"),
    "KH": ("Cambodia", "456", "asia"),
    "KI": ("Kiribati", "545", "oceania"),
    "KM": ("Comoros", "654", "africa"),
    "KN": ("Saint Kitts and Nevis", "356", "islands"),
    "KP": ("North Korea", "467", "asia"),
    "KR": ("South Korea", "450", "asia"),
    "KW": ("Kuwait", "419", "mideast"),
    "KY": ("Cayman Islands", "346", "islands"),
    "KZ": ("Kazakhstan", "401", "cis"),
    "LA": ("Laos", "457", "asia"),
    "LB": ("Lebanon", "415", "mideast"),
    "LC": ("Saint Lucia", "358", "islands"),
    "LI": ("Liechtenstein", "295", "europe"),
    "LK": ("Sri Lanka", "413", "asia"),
    "LR": ("Liberia", "618", "africa"),
    "LS": ("Lesotho", "651", "africa"),
    "LT": ("Lithuania", "246", "europe"),
    "LU": ("Luxembourg", "270", "europe"),
    "LV": ("Latvia", "247", "europe"),
    "LY": ("Libya", "606", "africa"),
    "MA": ("Morocco", "604", "africa"),
    "MC": ("Monaco", "212", "europe"),
    "MD": ("Moldova", "259", "cis"),
    "ME": ("Montenegro", "297", "europe"),
    "MF": ("Saint Martin", "340", "islands"),
    "MG": ("Madagascar", "646", "africa"),
    "MH": ("Marshall Islands", "551", "oceania"),
    "MK": ("North Macedonia", "294", "europe"),
    "ML": ("Mali", "610", "africa"),
    "MM": ("Myanmar", "414", "asia"),
    "MN": ("Mongolia", "428", "asia"),
    "MO": ("Macao", "455", "asia"),
    "MP": ("Northern Mariana Islands", "534", "islands"),
    "MQ": ("Martinique", "340", "islands"),
    "MR": ("Mauritania", "609", "africa"),
    "MS": ("Montserrat", "354", "islands"),
    "MT": ("Malta", "278", "europe"),
    "MU": ("Mauritius", "617", "africa"),
    "MV": ("Maldives", "472", "asia"),
    "MW": ("Malawi", "650", "africa"),
    "MX": ("Mexico", "334", "latam"),
    "MY": ("Malaysia", "502", "asia"),
    "MZ": ("Mozambique", "643", "africa"),
    "NA": ("Namibia", "649", "africa"),
    "NC": ("New Caledonia", "546", "islands"),
    "NE": ("Niger", "614", "africa"),
    "NF": ("Norfolk Island", "505", "islands"),
    "NG": ("Nigeria", "621", "africa"),
    "NI": ("Nicaragua", "710", "latam"),
    "NL": ("Netherlands", "204", "europe"),
    "NO": ("Norway", "242", "europe"),
    "NP": ("Nepal", "429", "asia"),
    "NR": ("Nauru", "536", "oceania"),
    "NU": ("Niue", "555", "islands"),
    "NZ": ("New Zealand", "530", "oceania"),
    "OM": ("Oman", "422", "mideast"),
    "PA": ("Panama", "714", "latam"),
    "PE": ("Peru", "716", "latam"),
    "PF": ("French Polynesia", "547", "islands"),
    "PG": ("Papua New Guinea", "537", "oceania"),
    "PH": ("Philippines", "515", "asia"),
    "PK": ("Pakistan", "410", "asia"),
    "PL": ("Poland", "260", "europe"),
    "PM": ("Saint Pierre and Miquelon", "308", "islands"),
    "PR": ("Puerto Rico", "330", "namerica"),
    "PS": ("Palestine", "425", "mideast"),
    "PT": ("Portugal", "268", "europe"),
    "PW": ("Palau", "552", "oceania"),
    "PY": ("Paraguay", "744", "latam"),
    "QA": ("Qatar", "427", "mideast"),
    "RE": ("Réunion", "647", "islands"),
    "RO": ("Romania", "226", "europe"),
    "RS": ("Serbia", "220", "europe"),
    "RU": ("Russia", "250", "cis"),
    "RW": ("Rwanda", "635", "africa"),
    "SA": ("Saudi Arabia", "420", "mideast"),
    "SB": ("Solomon Islands", "540", "oceania"),
    "SC": ("Seychelles", "633", "africa"),
    "SD": ("Sudan", "634", "africa"),
    "SE": ("Sweden", "240", "europe"),
    "SG": ("Singapore", "525", "asia"),
    "SH": ("Saint Helena", "658", "islands"),
    "SI": ("Slovenia", "293", "europe"),
    "SJ": ("Svalbard and Jan Mayen", "242", "islands"),
    "SK": ("Slovakia", "231", "europe"),
    "SL": ("Sierra Leone", "619", "africa"),
    "SM": ("San Marino", "292", "europe"),
    "SN": ("Senegal", "608", "africa"),
    "SO": ("Somalia", "637", "africa"),
    "SR": ("Suriname", "746", "latam"),
    "SS": ("South Sudan", "659", "africa"),
    "ST": ("São Tomé and Príncipe", "626", "africa"),
    "SV": ("El Salvador", "706", "latam"),
    "SX": ("Sint Maarten", "362", "islands"),
    "SY": ("Syria", "417", "mideast"),
    "SZ": ("Eswatini", "653", "africa"),
    "TA": ("Tristan da Cunha", "658", "islands"),
    "TC": ("Turks and Caicos Islands", "376", "islands"),
    "TD": ("Chad", "622", "africa"),
    "TG": ("Togo", "615", "africa"),
    "TH": ("Thailand", "520", "asia"),
    "TJ": ("Tajikistan", "436", "cis"),
    "TK": ("Tokelau", "554", "islands"),
    "TL": ("Timor-Leste", "514", "asia"),
    "TM": ("Turkmenistan", "438", "cis"),
    "TN": ("Tunisia", "605", "africa"),
    "TO": ("Tonga", "539", "oceania"),
    "TR": ("Turkey", "286", "mideast"),
    "TT": ("Trinidad and Tobago", "374", "latam"),
    "TV": ("Tuvalu", "553", "oceania"),
    "TW": ("Taiwan", "466", "asia"),
    "TZ": ("Tanzania", "640", "africa"),
    "UA": ("Ukraine", "255", "cis"),
    "UG": ("Uganda", "641", "africa"),
    "US": ("United States", "310", "namerica"),
    "UY": ("Uruguay", "748", "latam"),
    "UZ": ("Uzbekistan", "434", "cis"),
    "VA": ("Vatican City", "225", "europe"),
    "VC": ("Saint Vincent and the Grenadines", "360", "islands"),
    "VE": ("Venezuela", "734", "latam"),
    "VG": ("British Virgin Islands", "348", "islands"),
    "VI": ("U.S. Virgin Islands", "332", "islands"),
    "VN": ("Vietnam", "452", "asia"),
    "VU": ("Vanuatu", "541", "oceania"),
    "WF": ("Wallis and Futuna", "543", "islands"),
    "WS": ("Samoa", "549", "oceania"),
    "XK": ("Kosovo", "221", "europe"),
    "YE": ("Yemen", "421", "mideast"),
    "YT": ("Mayotte", "647", "islands"),
    "ZA": ("South Africa", "655", "africa"),
    "ZM": ("Zambia", "645", "africa"),
    "ZW": ("Zimbabwe", "648", "africa"),
}

# Group -> (min, max) SMS price per part in EUR.
GROUP_RANGES: dict[str, tuple[str, str]] = {
    "europe": ("0.0400", "0.0900"),
    "cis": ("0.0200", "0.0600"),
    "namerica": ("0.0080", "0.0120"),
    "latam": ("0.0300", "0.0600"),
    "africa": ("0.0200", "0.0500"),
    "asia": ("0.0100", "0.0500"),
    "mideast": ("0.0300", "0.0800"),
    "oceania": ("0.0600", "0.0900"),
    "islands": ("0.0800", "0.1200"),
}
FALLBACK_GROUP = "islands"

# Individually priced major destinations: region -> (sms, rcs or None).
# With rcs None the RCS price is derived like for every other country.
INDIVIDUAL_PRICES: dict[str, tuple[str, str | None]] = {
    "UA": ("0.0350", "0.0200"),
    "PL": ("0.0380", None),
    "DE": ("0.0790", None),
    "GB": ("0.0420", None),
    "US": ("0.0095", None),
    "CA": ("0.0105", None),
    "FR": ("0.0750", None),
    "IT": ("0.0720", None),
    "ES": ("0.0690", None),
    "NL": ("0.0850", None),
    "AT": ("0.0780", None),
    "BE": ("0.0760", None),
    "CZ": ("0.0460", None),
    "RO": ("0.0520", None),
    "SE": ("0.0550", None),
    "CH": ("0.0680", None),
    "KZ": ("0.0290", None),
    "MD": ("0.0330", None),
    "GE": ("0.0450", None),
    "RU": ("0.0580", None),
    "TR": ("0.0250", None),
    "IN": ("0.0105", None),
    "CN": ("0.0320", None),
    "JP": ("0.0580", None),
    "KR": ("0.0220", None),
    "ID": ("0.0310", None),
    "BR": ("0.0380", None),
    "MX": ("0.0420", None),
    "AU": ("0.0640", None),
    "ZA": ("0.0195", None),
    "NG": ("0.0280", None),
    "EG": ("0.0450", None),
    "AE": ("0.0330", None),
    "SA": ("0.0320", None),
}

RCS_RATIO_MIN = Decimal("0.50")
RCS_RATIO_MAX = Decimal("0.70")


def _unit(region: str, salt: str) -> Decimal:
    """Deterministic value in [0, 1) derived from the region code."""
    digest = hashlib.sha256(f"relaybox-pricelist:{salt}:{region}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)


def _fmt7(value: Decimal) -> str:
    return str(value.quantize(Q7, rounding=ROUND_HALF_UP))


def sms_price(region: str, group: str) -> Decimal:
    if region in INDIVIDUAL_PRICES:
        return Decimal(INDIVIDUAL_PRICES[region][0])
    lo, hi = (Decimal(x) for x in GROUP_RANGES[group])
    # Round to 0.0005 for wide ranges, 0.0001 for narrow ones (North America).
    step = Decimal("0.0005") if hi - lo >= Decimal("0.01") else Decimal("0.0001")
    raw = lo + (hi - lo) * _unit(region, "sms")
    price = (raw / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return min(max(price, lo), hi)


def rcs_price(region: str, sms: Decimal) -> Decimal:
    explicit = INDIVIDUAL_PRICES.get(region, (None, None))[1]
    if explicit is not None:
        return Decimal(explicit)
    ratio = RCS_RATIO_MIN + (RCS_RATIO_MAX - RCS_RATIO_MIN) * _unit(region, "rcs")
    return (sms * ratio).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)


def build() -> dict:
    countries: dict[str, dict] = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        name, mcc, group = COUNTRIES.get(region, (f"Region {region}", "", FALLBACK_GROUP))
        sms = sms_price(region, group)
        rcs = rcs_price(region, sms)
        countries[region] = {
            "name": name,
            "calling_code": phonenumbers.country_code_for_region(region),
            "mcc": mcc,
            "sms": _fmt7(sms),
            "rcs": _fmt7(rcs),
        }
    rates = {
        code: ("1" if code == BASE_CURRENCY else _fmt7(Decimal(rate)))
        for code, rate in CURRENCY_RATES.items()
    }
    return {
        "base_currency": BASE_CURRENCY,
        "currency_rates": rates,
        "tariffs": TARIFFS,
        "countries": countries,
    }


def dump(data: dict) -> str:
    """Compact, diff-friendly JSON: one tariff / one country per line."""

    def one(value) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    lines = ["{"]
    lines.append(f'  "base_currency": {one(data["base_currency"])},')
    lines.append(f'  "currency_rates": {one(data["currency_rates"])},')
    lines.append('  "tariffs": [')
    tariffs = data["tariffs"]
    for i, tariff in enumerate(tariffs):
        lines.append(f"    {one(tariff)}{',' if i < len(tariffs) - 1 else ''}")
    lines.append("  ],")
    lines.append('  "countries": {')
    items = list(data["countries"].items())
    for i, (region, entry) in enumerate(items):
        lines.append(f"    {one(region)}: {one(entry)}{',' if i < len(items) - 1 else ''}")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    data = build()
    text = dump(data)
    assert json.loads(text) == data  # the custom dump must stay valid JSON
    missing = sorted(set(data["countries"]) - set(COUNTRIES))
    if missing:
        print(f"warning: no table entry for {', '.join(missing)}; used fallbacks", file=sys.stderr)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output} ({len(data['countries'])} countries)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
