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


def to_minor_series(amounts, currencies):  # noqa: ANN001, ANN201 - pandas Series in and out
    """Vectorised `to_minor` for decimal strings: one pass per currency exponent, no per-row Python.

    Raises ValueError naming the first offending value (bad text, unknown currency, too many decimals).
    """
    import pandas as pd

    text_values = amounts.astype("string").str.strip()
    codes = currencies.astype("string").str.upper()
    out = pd.Series(pd.NA, index=amounts.index, dtype="Int64")
    for code in codes.dropna().unique():
        mask = codes == code
        digits = exponent(str(code))
        values = text_values[mask]
        parts = values.str.extract(r"^(?P<sign>[-+]?)(?P<int>\d+)(?:\.(?P<frac>\d*))?$")
        bad = parts["int"].isna() & values.notna()
        if bad.any():
            raise ValueError(f"not a decimal amount: {values[bad].iloc[0]!r}")
        frac = parts["frac"].fillna("")
        extra = frac.str.slice(digits).str.strip("0")
        if (extra.str.len() > 0).any():
            raise ValueError(f"{values[extra.str.len() > 0].iloc[0]} has more decimals than {code} allows ({digits})")
        frac = frac.str.slice(0, digits).str.pad(digits, side="right", fillchar="0") if digits else ""
        minor = (parts["int"] + frac).astype("Int64") if digits else parts["int"].astype("Int64")
        minor = minor.where(parts["sign"] != "-", -minor)
        out[mask] = minor
    return out
