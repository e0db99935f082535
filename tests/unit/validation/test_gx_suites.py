"""The Great Expectations suites: one good and one bad fixture each; failing rows name the expectation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from payrecon.ingestion.formats import parser_for
from payrecon.ingestion.landing import _with_ids
from payrecon.ingestion.lines import FileContext
from payrecon.validation.orders import validate_orders
from payrecon.validation.settlement_lines import validate_lines

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "settlements" / "validation"
REPORT = date(2026, 11, 1)


def _lines(name: str) -> pd.DataFrame:
    parsed = parser_for("generic")((FIXTURES / name).read_bytes(), FileContext(name, "gw", REPORT))
    assert parsed.bad == []  # every row parses: what is wrong is for the suite to find
    start = pd.Timestamp(REPORT, tz="UTC").to_pydatetime()
    return _with_ids(parsed.lines, "f" * 64, "gw", start)


def _orders(name: str) -> pd.DataFrame:
    frame = pd.read_csv(FIXTURES / name, dtype={"auto_charge": "bool"})
    for c in ("created_at", "updated_at"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    return frame


def test_settlement_suite_passes_good_lines() -> None:
    outcome = validate_lines(_lines("lines_good.csv"), REPORT)
    assert outcome.success, outcome
    assert outcome.rows == {} and outcome.table_failures == []


def test_settlement_suite_names_the_failed_expectation_per_row() -> None:
    lines = _lines("lines_bad.csv")
    outcome = validate_lines(lines, REPORT, max_abs_amount=1_000_000)
    assert not outcome.success
    by_ref = {lines.at[p, "source_ref"]: outcome.reason(p) for p in outcome.rows}
    assert by_ref["b1"] == ("net", "failed expectation expect_column_pair_values_to_be_equal (net = gross - fee)")
    assert by_ref["b2"][0] == "occurred_at" and "expect_column_values_to_be_between" in by_ref["b2"][1]
    assert by_ref["b3"][0] == "gross" and "absurd amount" in by_ref["b3"][1] and "1,000,000 major units" in by_ref["b3"][1]
    assert "expect_column_values_to_be_unique" in by_ref["b4"][1]
    assert "b6" not in by_ref
    assert len([p for p in outcome.rows if lines.at[p, "source_ref"] == "b4"]) == 2


def test_orders_suite_passes_good_orders() -> None:
    outcome = validate_orders(_orders("orders_good.csv"))
    assert outcome.success, outcome
    assert outcome.rows == {}


def test_orders_suite_flags_bad_orders() -> None:
    outcome = validate_orders(_orders("orders_bad.csv"))
    assert not outcome.success
    assert set(outcome.rows) == {0, 1, 2}  # 0 and 1 share an order id
    reasons = " | ".join(outcome.reason(2)[1] for _ in [0])
    for name in ("known origin", "known status", "installment >= 1", "ISO 4217", "updated_at >= created_at"):
        assert name in reasons
    assert "order id unique" in outcome.reason(0)[1]
