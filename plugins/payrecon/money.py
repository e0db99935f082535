"""ISO 4217 minor units: the one place decimals become integers.

babel carries CLDR's currency digits, which agree with ISO 4217 for every currency a card gateway
settles in except a handful of cash-rounding cases; the overrides below pin those to ISO.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from babel.core import get_global

_ISO_OVERRIDES = {"ISK": 0, "HUF": 2, "TWD": 2, "UGX": 0, "IDR": 2, "COP": 2, "CLP": 0, "PKR": 2, "LBP": 2}


@cache
def known_currencies() -> frozenset[str]:
    """Active ISO 4217 codes known to CLDR."""
    territory = get_global("territory_currencies")
    codes = {c for entries in territory.values() for (c, _start, end, tender) in entries if end is None and tender}
    return frozenset(codes | set(_ISO_OVERRIDES))


@cache
def exponent(currency: str) -> int:
    """Number of minor-unit digits of an ISO currency (JPY 0, USD 2, KWD 3)."""
    code = currency.upper()
    if code in _ISO_OVERRIDES:
        return _ISO_OVERRIDES[code]
    if code not in known_currencies():
        raise ValueError(f"unknown ISO 4217 currency {currency!r}")
    fractions = get_global("currency_fractions")
    return int(fractions.get(code, fractions["DEFAULT"])[0])


def to_minor(amount: Decimal, currency: str) -> int:
    """Exact conversion; refuses amounts with more precision than the currency has."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency.upper()} allows ({exponent(currency)})")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))
