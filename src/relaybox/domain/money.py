"""Money: exact decimals in code, integer counts of 10^-7 units in the store.

BSG shows amounts with seven decimals; storing integers keeps SQLite exact (its
NUMERIC is a float) and gives both backends one code path.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SCALE = 10**7
QUANTUM = Decimal("0.0000001")


def to_units(amount: Decimal) -> int:
    return int((amount * SCALE).to_integral_value(rounding=ROUND_HALF_UP))


def from_units(units: int) -> Decimal:
    return (Decimal(units) / SCALE).quantize(QUANTUM)


def format_amount(units: int) -> str:
    """Seven decimals with a dot, e.g. ``"0.0350000"`` (One API `amount.value`, `total_price`)."""
    return f"{from_units(units):.7f}"


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    """Convert a base-currency amount with `rate` target units per base unit, to 7 decimals."""
    return (amount * rate).quantize(QUANTUM, rounding=ROUND_HALF_UP)


def message_price_units(parts: int, rate_units: int) -> int:
    """A message costs parts × the per-part rate of its country in the account's tariff."""
    return parts * rate_units
