"""Per-window output finance can open without help: the full state list as CSV, and a summary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, text

from payrecon.money import from_minor
from payrecon.settings import Window

_DETAIL = """
select
    item_type,
    item_id,
    state,
    gateway,
    order_id,
    line_id,
    currency,
    expected_minor,
    settled_minor,
    difference_minor,
    fee_minor,
    detail
from reconciliation_results
where window_start = :ws
order by item_type, state, item_id
"""

_SUMMARY = """
select
    item_type,
    state,
    currency,
    count(*) as items,
    sum(coalesce(settled_minor, expected_minor, 0)) as amount_minor,
    sum(coalesce(fee_minor, 0)) as fee_minor
from reconciliation_results
where window_start = :ws
group by item_type, state, currency
order by item_type, state, currency
"""

_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def _major(frame: pd.DataFrame, minor_col: str) -> pd.Series:
    """Exact decimal strings in major units, per row currency."""
    def one(value: object, currency: object) -> str:
        if pd.isna(value) or pd.isna(currency):
            return ""
        return str(from_minor(int(value), str(currency)))

    return pd.Series([one(v, c) for v, c in zip(frame[minor_col], frame["currency"], strict=True)],
                     index=frame.index, dtype="string")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells a spreadsheet would run as a formula with a quote."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col].astype("string")
            risky = s.str.startswith(_FORMULA_LEADS).fillna(False) & ~s.str.fullmatch(r"-?\d+(\.\d+)?").fillna(False)
            out[col] = s.where(~risky, "'" + s)
    return out


def write_window_outputs(engine: Engine, window: Window, output_dir: Path) -> list[Path]:
    """Write `reconciliation.csv` (one row per line and order) and `summary.csv` for the window."""
    folder = Path(output_dir) / "reconciliation" / window.label
    folder.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        detail = pd.read_sql(text(_DETAIL), conn, params={"ws": window.start})
        summary = pd.read_sql(text(_SUMMARY), conn, params={"ws": window.start})
    for col in ("expected_minor", "settled_minor", "difference_minor", "fee_minor"):
        detail[col.replace("_minor", "")] = _major(detail, col)
    detail = detail.drop(columns=["expected_minor", "settled_minor", "difference_minor", "fee_minor"])
    summary["amount"] = _major(summary, "amount_minor")
    summary["fees"] = _major(summary, "fee_minor")
    summary = summary.drop(columns=["amount_minor", "fee_minor"])
    detail_path, summary_path = folder / "reconciliation.csv", folder / "summary.csv"
    neutralise_formulas(detail).to_csv(detail_path, index=False)
    neutralise_formulas(summary).to_csv(summary_path, index=False)
    return [detail_path, summary_path]
