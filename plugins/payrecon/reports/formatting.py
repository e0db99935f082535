"""Money and cell formatting shared by the HTML, CSV and XLSX writers.

Money stays integer minor units until the last step: a `Decimal` in major units (exact, ISO 4217
exponent from `payrecon.money`) for CSV and XLSX, babel's locale formatting for HTML. Amounts are
always shown with their own currency and never added across currencies.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache

import pandas as pd
from babel.numbers import format_currency, format_decimal, format_percent

from payrecon.money import exponent, from_minor
from payrecon.reconciliation.outputs import neutralise_formulas

DEFAULT_LOCALE = "en_US"
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_CELL_LIMIT = 32_000


@cache
def digits(currency: str) -> int:
    try:
        return exponent(currency)
    except ValueError:  # not ISO 4217: shown with two decimals rather than failing the report
        return 2


def major(minor: int | None, currency: str | None) -> Decimal | None:
    """Exact amount in major units, or None for an empty cell."""
    if minor is None or pd.isna(minor) or not currency or pd.isna(currency):
        return None
    try:
        return from_minor(int(minor), str(currency))
    except ValueError:
        return Decimal(int(minor)).scaleb(-2)


def money_text(minor: int | None, currency: str | None, locale: str = DEFAULT_LOCALE) -> str:
    """`1,234.56 USD` (locale separators, the currency's own decimals, ISO code after the number)."""
    value = major(minor, currency)
    if value is None:
        return ""
    places = digits(str(currency))
    pattern = "#,##0" + ("." + "0" * places if places else "") + "\u00a0¤¤"
    return format_currency(value, str(currency), format=pattern, locale=locale, currency_digits=False)


def money_csv(minor: int | None, currency: str | None) -> str:
    """Plain exact decimal for CSV (`-25.10`, `158000`, `2275.820`): no grouping, no symbol."""
    value = major(minor, currency)
    return "" if value is None else f"{value:f}"


def excel_money_format(currency: str) -> str:
    """A number format that shows the currency's decimals and code; negatives in red."""
    places = digits(currency)
    number = "#,##0" + ("." + "0" * places if places else "")
    code = "".join(ch for ch in str(currency) if ch.isalnum())[:3]
    return f'{number} "{code}";[Red]-{number} "{code}"'


def count_text(value: int | None, locale: str = DEFAULT_LOCALE) -> str:
    return "" if value is None or pd.isna(value) else format_decimal(int(value), locale=locale)


def rate_text(value: float | None, locale: str = DEFAULT_LOCALE) -> str:
    return "" if value is None or pd.isna(value) else format_percent(value, format="#,##0.0%", locale=locale)


def hours_text(value: float | None) -> str:
    if value is None or pd.isna(value):
        return ""
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def utc_text(value: datetime | None, seconds: bool = False) -> str:
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def safe_text(value: object) -> str:
    """A text cell a spreadsheet will not run: leading `= + - @`, tab or CR get a quote in front
    (as `reconciliation.outputs.neutralise_formulas` does for frames); plain numbers stay as they are."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    text = text[:EXCEL_CELL_LIMIT]
    if text.startswith(FORMULA_LEADS) and not _plain_number(text):
        return "'" + text
    return text


def _plain_number(text: str) -> bool:
    body = text[1:] if text.startswith("-") else text
    head, _, tail = body.partition(".")
    return bool(head) and head.isdigit() and (not tail or tail.isdigit()) and body.count(".") <= 1


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text column neutralised (the reconciliation outputs' rule), numbers untouched."""
    return neutralise_formulas(frame)
