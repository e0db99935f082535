"""Stripe and generic fixtures parse, and their totals reconcile (gross - fee = net, sums tie)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from payrecon.ingestion.formats import parser_for
from payrecon.ingestion.lines import FileContext

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "settlements"


def _parse(fmt: str, name: str):
    data = (FIXTURES / name).read_bytes()
    return parser_for(fmt)(data, FileContext(name, "gw", date(2026, 11, 1)))


def test_stripe_itemized_fixture_reconciles() -> None:
    parsed = _parse("stripe", "stripe_itemized.csv")
    lines = parsed.lines
    assert parsed.bad == []
    assert len(lines) == parsed.lines_read == 7
    assert (lines["gross_minor"] - lines["fee_minor"] == lines["net_minor"]).all()
    assert lines["gross_minor"].sum() == 4900 + 12000 - 4900 - 1500 + 0 - 100000 + 500
    assert lines["net_minor"].sum() == 4733 + 11695 - 4900 - 3000 - 200 - 100000 + 500
    assert list(lines["line_type"]) == ["charge", "charge", "refund", "chargeback", "fee", "payout", "adjustment"]
    assert set(lines["currency"]) == {"EUR"}
    first = lines.iloc[0]
    assert first["occurred_at"] == pd.Timestamp("2026-11-01 09:15:02", tz="UTC")
    assert first["order_ref"] == "1001" and first["charge_id"] == "ch_3QaA01"
    assert first["description"] == 'Order 1001, course "Basics"'
    second = lines.iloc[1]
    assert (second["presentment_minor"], second["presentment_currency"]) == (13080, "USD")
    assert list(lines["line_no"]) == list(range(2, 9))


def test_generic_fixture_reconciles_with_minor_units_per_currency() -> None:
    parsed = _parse("generic", "generic_basic.csv")
    lines = parsed.lines.set_index("source_ref")
    assert parsed.bad == []
    assert (lines["gross_minor"] - lines["fee_minor"] == lines["net_minor"]).all()
    assert lines.loc["sg_0006", ["gross_minor", "currency"]].tolist() == [5000, "JPY"]  # exponent 0
    assert lines.loc["sg_0007", ["gross_minor", "currency"]].tolist() == [12345, "KWD"]  # exponent 3
    assert lines.loc["sg_0002", "occurred_at"] == pd.Timestamp("2026-11-01 08:30", tz="UTC")  # +01:00 → UTC
    usd = lines[lines["currency"] == "USD"]
    assert usd["net_minor"].sum() == 2397 + 19389 - 2500 - 5500 - 995 - 50000


def test_generic_mapping_reads_merchant_columns() -> None:
    parsed = _parse("generic:novapay", "generic_novapay.csv")
    lines = parsed.lines
    assert parsed.bad == []
    assert list(lines["line_type"]) == ["charge", "refund", "fee", "payout"]
    assert lines["gross_minor"].tolist() == [123456, -2000, 0, -100000]
    # naive "Booked At" times are Europe/Berlin wall clock (declared in the mapping)
    assert lines.iloc[0]["occurred_at"] == pd.Timestamp("2026-11-01 09:00", tz="UTC")
    assert (lines["gross_minor"] - lines["fee_minor"] == lines["net_minor"]).all()
