"""Run the report's SQL (`include/sql/reports/report_<name>.sql`) into small typed frames.

All aggregation happens in SQL; Python only receives the aggregated or listed rows. Money columns
(`*_minor`) arrive as exact integers and stay `Int64`; timestamps are UTC-aware.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, text

from payrecon.warehouse import sql

log = logging.getLogger(__name__)

# The warehouse tables each query reads; a section whose tables are missing says so instead of failing.
TABLES: dict[str, tuple[str, ...]] = {
    "totals": ("reconciliation_results", "settlement_lines"),
    "recon_states": ("reconciliation_results", "orders"),
    "exceptions": ("reconciliation_results", "orders", "settlement_lines"),
    "sales": ("attempt_links", "orders", "purchases", "products"),
    "recovered": ("purchases", "orders", "payment_attempts", "attempt_links"),
    "unrecovered": ("purchases", "orders", "payment_attempts", "attempt_links", "retry_list"),
    "failed_initial": ("order_decisions", "orders", "payment_attempts", "attempt_links"),
    "retry_list": ("retry_list",),
    "offline": ("orders", "payment_attempts"),
    "duplicates": ("duplicate_charges", "orders"),
    "trend": ("reconciliation_windows", "reconciliation_results", "orders", "settlement_lines"),
}
OUTBOX_TABLE = "followup_outbox"


def table_names(conn: Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names())


def missing_tables(name: str, tables: set[str]) -> list[str]:
    return [t for t in TABLES[name] if t not in tables]


def prepare_outbox(conn: Connection, tables: set[str]) -> bool:
    """Fill `_report_outbox` from the follow-ups outbox, or with no rows when it does not exist yet."""
    present = OUTBOX_TABLE in tables
    sql.run(conn, "reports/report_outbox" if present else "reports/report_outbox_missing")
    return present


def drop_temporary(conn: Connection) -> None:
    conn.exec_driver_sql("drop table if exists _report_outbox")


def fetch(conn: Connection, name: str, binds: dict[str, Any]) -> pd.DataFrame:
    """One report query as a typed frame; only the binds the statement names are passed."""
    (stmt,) = sql.statements(f"reports/report_{name}")
    clause = text(stmt)
    wanted = {k: v for k, v in binds.items() if k in clause.compile().params}
    result = conn.execute(clause, wanted)
    columns = list(result.keys())
    rows = result.fetchall()
    return typed_frame(columns, rows)


def typed_frame(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    data = {}
    for i, col in enumerate(columns):
        values = [row[i] for row in rows]
        data[col] = _typed(col, values)
    return pd.DataFrame(data, columns=columns)


def _typed(col: str, values: list[Any]) -> pd.Series:
    present = [v for v in values if v is not None]
    if col.endswith("_minor") or (present and all(isinstance(v, int) and not isinstance(v, bool) for v in present)):
        return pd.Series([None if v is None else int(v) for v in values], dtype="Int64")
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if col.endswith("_at") or col == "window_start" or (present and all(isinstance(v, dt.datetime) for v in present)):
        return pd.Series(pd.to_datetime(pd.Series(values, dtype="object"), utc=True), dtype="datetime64[us, UTC]")
    return pd.Series([None if v is None else str(v) for v in values], dtype="object")
