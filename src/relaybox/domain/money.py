"""Money: exact decimals in code, integer counts of 10^-7 units in the store.

BSG shows amounts with seven decimals; storing integers keeps SQLite exact (its
NUMERIC is a float) and gives both backends one code path.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SCALE = 10**7
QUANTUM = Decimal("0.0000001")


def to_units(amount: Decimal) -> int:
    """A decimal amount as integer units of 1e-7 (rounded half up), as the store keeps money."""
    return int((amount * SCALE).to_integral_value(rounding=ROUND_HALF_UP))


def from_units(units: int) -> Decimal:
    """Integer units of 1e-7 as a Decimal with seven decimals."""
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


#: Largest amount an operator may add at once: far above any real top-up, far below BIGINT units.
MAX_TOP_UP = Decimal("100000000000")


def parse_exact_amount(text: str) -> Decimal:
    """A positive amount written as plain decimal digits with at most 7 decimals, e.g. ``"12.3400000"``.

    Refused with ValueError (a one-line message): signs, exponents, spaces, commas, NaN and
    infinities, more than 7 decimals (not a whole number of 10^-7 units: nothing is rounded),
    zero, and more than MAX_TOP_UP.
    """
    if not isinstance(text, str):
        raise ValueError(f"the amount must be given as decimal text, not {type(text).__name__}")
    whole, dot, decimals = text.partition(".")
    if not (whole.isascii() and whole.isdigit()) or (dot and not (decimals.isascii() and decimals.isdigit())):
        raise ValueError(f"{text!r} is not an amount: write digits with at most one dot, e.g. 25 or 12.50")
    if len(decimals) > 7:
        raise ValueError(f"{text!r} has more than 7 decimals; amounts are exact to 0.0000001")
    amount = Decimal(text)
    if amount <= 0:
        raise ValueError("the amount must be more than 0")
    if amount > MAX_TOP_UP:
        raise ValueError(f"the amount must be at most {MAX_TOP_UP}")
    return amount
