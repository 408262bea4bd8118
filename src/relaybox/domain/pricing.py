"""The price book: per-part rates by tariff, country and channel, in any account currency."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from relaybox.domain.models import Tariff
from relaybox.domain.money import SCALE, convert, from_units, to_units


@dataclass
class PriceBook:
    """Tariffs and their per-part rates in base-currency units of 1e-7, with currency rates to convert them
    (`rate`).
    """
    base_currency: str
    tariffs: dict[int, Tariff]
    base_rates: dict[tuple[int, str, str], int]  # (tariff, country, channel) -> base-currency units
    currency_rates: dict[str, int]  # currency -> units of it per base unit, ×10^7
    _converted: dict[tuple[int, str, str, str], int | None] = field(default_factory=dict, repr=False)

    @property
    def default_tariff(self) -> int:
        for tariff in self.tariffs.values():
            if tariff.is_default:
                return tariff.code
        return min(self.tariffs) if self.tariffs else 0

    def has_tariff(self, code: int) -> bool:
        tariff = self.tariffs.get(code)
        return tariff is not None and tariff.is_active

    def supports_currency(self, currency: str) -> bool:
        return currency in self.currency_rates

    def rate(self, tariff: int, country: str, channel: str, currency: str) -> int | None:
        """Units of `currency` per part, or None when the direction has no price."""
        key = (tariff, country, channel, currency)
        try:
            return self._converted[key]
        except KeyError:
            pass
        base = self.base_rates.get((tariff, country, channel))
        if base is None or currency not in self.currency_rates:
            value = None
        else:
            value = to_units(convert(from_units(base), Decimal(self.currency_rates[currency]) / SCALE))
        self._converted[key] = value
        return value
