"""Adyen, PayPal STL and Braintree fixtures parse, and their totals reconcile with the file's own."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from payrecon.ingestion.errors import UnreadableFile
from payrecon.ingestion.formats import parser_for
from payrecon.ingestion.lines import FileContext

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "settlements"


def _parse(fmt: str, name: str, data: bytes | None = None):
    data = data if data is not None else (FIXTURES / name).read_bytes()
    return parser_for(fmt)(data, FileContext(name, "gw", date(2026, 11, 1)))


def test_adyen_settlement_details_payout_equals_its_lines() -> None:
    parsed = _parse("adyen", "adyen_settlement_detail_report_batch_42.csv")
    lines = parsed.lines
    assert parsed.bad == [] and len(lines) == 6
    assert (lines["gross_minor"] - lines["fee_minor"] == lines["net_minor"]).all()
    payout = lines[lines["line_type"] == "payout"]
    assert int(-payout["net_minor"].sum()) == int(lines.loc[lines["line_type"] != "payout", "net_minor"].sum()) == 9118
    settled = lines.iloc[1]
    # fees in net currency; presentment is what the shopper paid (gross currency)
    assert (settled["gross_minor"], settled["fee_minor"], settled["net_minor"]) == (5000, 130, 4870)
    assert (settled["presentment_minor"], settled["presentment_currency"]) == (5400, "USD")
    # Creation Date 11:30 CET → 10:30 UTC
    assert settled["occurred_at"] == pd.Timestamp("2026-11-01 10:30", tz="UTC")
    assert list(lines["line_type"]) == ["charge", "charge", "refund", "chargeback", "fee", "payout"]
    assert lines.iloc[2]["charge_id"] == "8816091234567890"  # the refund settles the original payment


def test_adyen_rejects_a_payout_that_does_not_tie() -> None:
    data = (FIXTURES / "adyen_settlement_detail_report_batch_42.csv").read_bytes().replace(b",91.18,", b",91.28,")
    with pytest.raises(UnreadableFile, match="totals do not tie: batch 42 EUR pays out 9128"):
        _parse("adyen", "x.csv", data)


def test_paypal_stl_lines_tie_to_section_and_report_footers() -> None:
    parsed = _parse("paypal_stl", "STL-20261101.01.009.CSV")
    lines = parsed.lines
    assert parsed.bad == [] and len(lines) == parsed.lines_read == 5
    assert list(lines["line_no"]) == [5, 6, 7, 8, 9]
    assert (lines["gross_minor"] - lines["fee_minor"] == lines["net_minor"]).all()
    usd = lines[lines["currency"] == "USD"]
    # SF/RF USD: gross credit 10499, gross debit 6500, fee credit 44, fee debit 365
    assert int(usd.loc[usd["gross_minor"] > 0, "gross_minor"].sum()) == 10499
    assert int(-usd.loc[usd["gross_minor"] < 0, "gross_minor"].sum()) == 6500
    assert int(usd["fee_minor"].sum()) == 365 - 44
    jpy = lines[lines["currency"] == "JPY"].iloc[0]
    assert (jpy["gross_minor"], jpy["fee_minor"]) == (3000, 130)  # JPY has no minor digits: 3000 is ¥3000
    refund = lines.iloc[2]
    assert (refund["line_type"], refund["charge_id"]) == ("refund", "5TY12345AB678901C")
    assert lines.iloc[0]["occurred_at"] == pd.Timestamp("2026-11-01 13:49:45", tz="UTC")  # -0700 → UTC
    assert lines.iloc[3]["line_type"] == "payout"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b'"SF","USD",10499', b'"SF","USD",10599', "totals do not tie: SF at line 10 for USD"),
        (b'"SC",5', b'"SC",4', "SC at line 12 counts 4 rows, section has 5"),
        (b'"RC",5', b'"RC",6', "RC at line 15 counts 6"),
    ],
)
def test_paypal_stl_rejects_a_file_whose_totals_do_not_tie(old: bytes, new: bytes, message: str) -> None:
    data = (FIXTURES / "STL-20261101.01.009.CSV").read_bytes().replace(old, new)
    with pytest.raises(UnreadableFile, match=message):
        _parse("paypal_stl", "x.CSV", data)


def test_paypal_stl_without_footer_is_truncated() -> None:
    data = (FIXTURES / "STL-20261101.01.009.CSV").read_bytes()
    cut = data[: data.index(b'"SF"')]
    with pytest.raises(UnreadableFile, match="truncated: no RF footer"):
        _parse("paypal_stl", "x.CSV", cut)


def test_braintree_fixture_reconciles() -> None:
    parsed = _parse("braintree", "braintree_transaction_level_fee_report.csv")
    lines = parsed.lines
    assert parsed.bad == [] and len(lines) == 4
    assert (lines["gross_minor"] - lines["fee_minor"] == lines["net_minor"]).all()
    assert lines["gross_minor"].tolist() == [10000, 4550, -10000, 125000]
    assert lines["fee_minor"].tolist() == [308, 167, -259, 4375]
    assert int(lines["net_minor"].sum()) == 9692 + 4383 - 9741 + 120625
    refund = lines.iloc[2]
    assert (refund["line_type"], refund["charge_id"]) == ("refund", "bt0k1a2b")
    # settlement dates are US Central: midnight CDT on 2026-11-01 is 05:00 UTC
    assert lines.iloc[0]["occurred_at"] == pd.Timestamp("2026-11-01 05:00", tz="UTC")
    assert (lines.iloc[1]["presentment_minor"], lines.iloc[1]["presentment_currency"]) == (4200, "EUR")
