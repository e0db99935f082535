"""Money and cell formatting: exact, per currency, and safe in a spreadsheet."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payrecon.reports import formatting as fmt
from payrecon.reports.period import ReportPeriod


@pytest.mark.parametrize(
    ("minor", "currency", "text", "csv", "excel"),
    [
        (123456, "USD", "1,234.56\u00a0USD", "1234.56", '#,##0.00 "USD";[Red]-#,##0.00 "USD"'),
        (-2510, "USD", "-25.10\u00a0USD", "-25.10", '#,##0.00 "USD";[Red]-#,##0.00 "USD"'),
        (158000, "JPY", "158,000\u00a0JPY", "158000", '#,##0 "JPY";[Red]-#,##0 "JPY"'),
        (2275820, "KWD", "2,275.820\u00a0KWD", "2275.820", '#,##0.000 "KWD";[Red]-#,##0.000 "KWD"'),
        (9007199254740993, "USD", "90,071,992,547,409.93\u00a0USD", "90071992547409.93", None),
    ],
)
def test_money_is_exact_in_its_own_currency(minor, currency, text, csv, excel) -> None:
    assert fmt.money_text(minor, currency) == text
    assert fmt.money_csv(minor, currency) == csv
    if excel:
        assert fmt.excel_money_format(currency) == excel


def test_money_follows_the_locale() -> None:
    assert fmt.money_text(123456, "EUR", "de_DE") == "1.234,56\u00a0EUR"


def test_empty_money_is_an_empty_cell() -> None:
    assert fmt.money_text(None, "USD") == "" and fmt.money_csv(5, None) == "" and fmt.major(None, "USD") is None


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("-25.10", "-25.10"),
        ("ORD-0001", "ORD-0001"),
        ("plain text", "plain text"),
        (None, ""),
    ],
)
def test_cells_that_would_run_as_formulas_are_neutralised(value, safe) -> None:
    assert fmt.safe_text(value) == safe


def test_times_are_shown_in_utc() -> None:
    from datetime import timedelta, timezone

    local = datetime(2026, 11, 5, 1, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert fmt.utc_text(local) == "2026-11-05 06:30"


def test_report_periods() -> None:
    day = ReportPeriod.parse("2026-11-05")
    assert (day.kind, day.label, day.days) == ("window", "2026-11-05", 1)
    assert day.start == datetime(2026, 11, 5, tzinfo=UTC)
    december = ReportPeriod.parse("2026-12")
    assert (december.label, december.days) == ("2026-12", 31)
    assert december.end == datetime(2027, 1, 1, tzinfo=UTC)
    assert december.lookback_start == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="YYYY-MM"):
        ReportPeriod.parse("November")
