"""reconciliation.csv is formatted in SQL and written by the engine's CSV writer: the same bytes as
pandas writes for the cells finance expects (money in major units per currency, formulas neutralised,
minimal quoting, empty cells for null and empty text), on each engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

WINDOW_START = datetime(2026, 11, 2, tzinfo=UTC)

# item_type, item_id, state, gateway, order_id, line_id, currency, detail, expected, settled, difference, fee
ROWS = [
    ("order", "o-1", "matched", "stripe", "o-1", "ln-1", "USD", None, 1234, 1234, 0, 59),
    ("order", "o-2", "amount_mismatch", "adyen", "o-2", "ln-2", "USD", None, 500, 495, -5, None),
    ("order", "o-3", "matched", "stripe", "o-3", "ln-3", "JPY", None, 1200, 1200, 0, 36),
    ("order", "o-4", "matched", "stripe", "o-4", "ln-4", "KWD", None, 12345, 12345, 0, 1),
    ("order", "o-5", "pending", "stripe", "o-5", None, "EUR", "awaiting settlement, within grace", 7, None, None, None),
    ("settlement_line", "=HYPERLINK(\"x\")", "settled_without_order", "paypal", "-12.50", "+1", "USD",
     'said "hi"', None, -100000, None, -1),
    ("settlement_line", "ln-9", "fee", "@gw", "", "ln-9", None, "multi\nline", None, None, None, None),
]
COLUMNS = ["item_type", "item_id", "state", "gateway", "order_id", "line_id", "currency", "detail",
           "expected_minor", "settled_minor", "difference_minor", "fee_minor"]

EXPECTED = pd.DataFrame(
    [
        # sorted by item_type, state, item_id, as the file is
        ["order", "o-2", "amount_mismatch", "adyen", "o-2", "ln-2", "USD", None, "5.00", "4.95", "-0.05", None],
        ["order", "o-1", "matched", "stripe", "o-1", "ln-1", "USD", None, "12.34", "12.34", "0.00", "0.59"],
        ["order", "o-3", "matched", "stripe", "o-3", "ln-3", "JPY", None, "1200", "1200", "0", "36"],
        ["order", "o-4", "matched", "stripe", "o-4", "ln-4", "KWD", None, "12.345", "12.345", "0.000", "0.001"],
        ["order", "o-5", "pending", "stripe", "o-5", None, "EUR", "awaiting settlement, within grace",
         "0.07", None, None, None],
        ["settlement_line", "ln-9", "fee", "'@gw", None, "ln-9", None, "multi\nline", None, None, None, None],
        ["settlement_line", "'=HYPERLINK(\"x\")", "settled_without_order", "paypal", "-12.50", "'+1", "USD",
         'said "hi"', None, "-1000.00", None, "-0.01"],
    ],
    columns=["item_type", "item_id", "state", "gateway", "order_id", "line_id", "currency", "detail",
             "expected", "settled", "difference", "fee"],
)


def _load(engine) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        for row in ROWS:
            conn.execute(
                text(
                    "insert into reconciliation_results (item_type, item_id, state, gateway, order_id, line_id, "
                    "currency, detail, expected_minor, settled_minor, difference_minor, fee_minor, window_start) "
                    "values (:t, :i, :s, :g, :o, :l, :c, :d, :e, :se, :di, :f, :ws)"
                ),
                dict(zip(["t", "i", "s", "g", "o", "l", "c", "d", "e", "se", "di", "f"], row, strict=True))
                | {"ws": WINDOW_START},
            )
        # a row of another window never leaks into this window's file
        conn.execute(
            text("insert into reconciliation_results (item_type, item_id, state, window_start) "
                 "values ('order', 'other', 'matched', :ws)"),
            {"ws": WINDOW_START - timedelta(days=1)},
        )


def test_reconciliation_csv_is_formatted_in_sql_with_pandas_bytes(engine, tmp_path: Path) -> None:  # noqa: ANN001
    from payrecon.reconciliation.outputs import write_window_outputs
    from payrecon.settings import Window

    _load(engine)
    window = Window(WINDOW_START, WINDOW_START + timedelta(days=1))
    detail_path, summary_path = write_window_outputs(engine, window, tmp_path)

    assert detail_path.read_bytes() == EXPECTED.to_csv(index=False, lineterminator="\n").encode()
    summary = pd.read_csv(summary_path, dtype=str, keep_default_na=False)
    assert set(summary["currency"]) == {"USD", "JPY", "KWD", "EUR", ""}
    assert summary.loc[summary["currency"] == "JPY", "amount"].tolist() == ["1200"]


def test_an_unknown_currency_stops_the_file_before_it_is_written(engine, tmp_path: Path) -> None:  # noqa: ANN001
    from payrecon.reconciliation.outputs import write_window_outputs
    from payrecon.settings import Window

    with engine.begin() as conn:
        conn.execute(
            text("insert into reconciliation_results (item_type, item_id, state, currency, expected_minor, "
                 "window_start) values ('order', 'o-x', 'pending', 'XYZ', 100, :ws)"),
            {"ws": WINDOW_START},
        )
    with pytest.raises(ValueError, match="XYZ"):
        write_window_outputs(engine, Window(WINDOW_START, WINDOW_START + timedelta(days=1)), tmp_path)
    assert not (tmp_path / "reconciliation" / "2026-11-02" / "reconciliation.csv").exists()
