"""Sanity checks for the default price list shipped in relaybox/data/pricelist.json."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from importlib import resources

import phonenumbers
import pytest


@pytest.fixture(scope="module")
def pricelist() -> dict:
    path = resources.files("relaybox") / "data" / "pricelist.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _dec7(value: object) -> Decimal:
    assert isinstance(value, str), f"price must be a string, got {value!r}"
    try:
        dec = Decimal(value)
    except InvalidOperation:  # pragma: no cover - failure path
        pytest.fail(f"not a decimal: {value!r}")
    assert dec.is_finite()
    assert dec.as_tuple().exponent == -7, f"{value!r} must have exactly 7 decimals"
    return dec


def test_top_level_structure(pricelist: dict) -> None:
    assert set(pricelist) == {"base_currency", "currency_rates", "tariffs", "countries"}
    assert pricelist["base_currency"] == "EUR"


def test_every_supported_region_present(pricelist: dict) -> None:
    countries = pricelist["countries"]
    missing = sorted(set(phonenumbers.SUPPORTED_REGIONS) - set(countries))
    assert not missing, f"regions missing from price list: {missing}"


def test_country_entries(pricelist: dict) -> None:
    for region, entry in pricelist["countries"].items():
        assert set(entry) == {"name", "calling_code", "mcc", "sms", "rcs"}, region
        assert isinstance(entry["name"], str) and entry["name"].strip(), region
        assert entry["mcc"] == "" or (len(entry["mcc"]) == 3 and entry["mcc"].isdigit()), region
        sms = _dec7(entry["sms"])
        rcs = _dec7(entry["rcs"])
        assert sms > 0, region
        assert rcs > 0, region
        assert rcs <= sms, f"{region}: RCS should be cheaper than SMS"


def test_calling_codes_match_phonenumbers(pricelist: dict) -> None:
    for region, entry in pricelist["countries"].items():
        assert entry["calling_code"] == phonenumbers.country_code_for_region(region), region


def test_known_values(pricelist: dict) -> None:
    ua = pricelist["countries"]["UA"]
    assert ua == {
        "name": "Ukraine",
        "calling_code": 380,
        "mcc": "255",
        "sms": "0.0350000",
        "rcs": "0.0200000",
    }
    assert pricelist["countries"]["US"]["calling_code"] == 1
    assert pricelist["countries"]["DE"]["mcc"] == "262"


def test_tariffs(pricelist: dict) -> None:
    tariffs = pricelist["tariffs"]
    assert tariffs
    defaults = [t for t in tariffs if t["is_default"]]
    assert len(defaults) == 1
    codes = [t["code"] for t in tariffs]
    assert len(codes) == len(set(codes))
    for tariff in tariffs:
        assert isinstance(tariff["code"], int) and 0 <= tariff["code"] <= 9
        assert isinstance(tariff["name"], str) and tariff["name"]
        assert Decimal(tariff["factor"]) > 0
        assert isinstance(tariff["is_active"], bool)


def test_currency_rates(pricelist: dict) -> None:
    rates = pricelist["currency_rates"]
    assert Decimal(rates["EUR"]) == 1
    for code, rate in rates.items():
        assert isinstance(rate, str), code
        dec = Decimal(rate)
        assert dec.is_finite() and dec > 0, code
        assert -dec.as_tuple().exponent <= 7, f"{code}: at most 7 decimals"
    for code in ("USD", "GBP", "UAH", "PLN", "KZT"):
        assert code in rates
