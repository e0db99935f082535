"""Incremental pull from the merchant's commerce database by updated-at watermark.

Rows with `updated_at` in (watermark - overlap, window end] are read and upserted by primary key, so a
late edit (an offline order approved by hand, auto-charge switched back to Yes) is picked up by the next
window, and the overlap re-reads rows a slow transaction committed late without duplicating anything.
All five tables and their watermarks move in one warehouse transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from payrecon.commerce.tables import TABLES, CommerceTable
from payrecon.money import to_minor_series
from payrecon.warehouse.bulk import upsert_frame

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CommerceContractError(RuntimeError):
    """The commerce database does not have a table or column the contract requires."""


def _check_columns(commerce: Engine, table: CommerceTable) -> None:
    inspector = sa.inspect(commerce)
    if not inspector.has_table(table.name):
        raise CommerceContractError(f"commerce_db has no table {table.name!r} (see docs/CONTRACT.md)")
    present = {c["name"] for c in inspector.get_columns(table.name)}
    missing = [c for c in table.columns if c not in present]
    if missing:
        raise CommerceContractError(f"commerce_db table {table.name!r} lacks column(s) {', '.join(missing)}")


def _watermark(conn: Connection, source: str) -> datetime:
    value = conn.execute(sa.text("select watermark_at from etl_watermarks where source = :s"), {"s": source}).scalar()
    if value is None:
        return EPOCH
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _read_changed(commerce: Engine, table: CommerceTable, low: datetime, high: datetime) -> pd.DataFrame:
    cols = [sa.column(c) for c in table.columns if c not in table.money]
    cols += [sa.cast(sa.column(c), sa.Text).label(c) for c in table.money]
    stamp = sa.DateTime(timezone=True)
    query = (
        sa.select(*cols)
        .select_from(sa.table(table.name))
        .where(sa.column("updated_at", stamp) > sa.bindparam("low", low, type_=stamp))
        .where(sa.column("updated_at", stamp) <= sa.bindparam("high", high, type_=stamp))
    )
    with commerce.connect() as conn:
        return pd.read_sql(query, conn)


def _to_warehouse(frame: pd.DataFrame, table: CommerceTable) -> pd.DataFrame:
    out = frame.copy()
    for col in table.timestamps:
        out[col] = pd.to_datetime(out[col], utc=True, format="ISO8601")
    for source_col, minor_col in table.money.items():
        try:
            out[minor_col] = to_minor_series(out[source_col], out["currency"])
        except ValueError as exc:
            raise CommerceContractError(f"commerce_db {table.name}.{source_col}: {exc}") from exc
        out = out.drop(columns=[source_col])
    if "currency" in out:
        out["currency"] = out["currency"].str.upper()
    if "auto_charge" in out:
        out["auto_charge"] = out["auto_charge"].astype(bool)
    return out


def pull_incremental(
    commerce: Engine, warehouse: Engine, until: datetime, overlap: timedelta = timedelta(minutes=5)
) -> dict[str, int]:
    """Pull every contract table changed up to `until`; returns rows upserted per table."""
    for table in TABLES:
        _check_columns(commerce, table)
    counts: dict[str, int] = {}
    with warehouse.begin() as conn:
        for table in TABLES:
            source = f"commerce.{table.name}"
            mark = _watermark(conn, source)
            frame = _read_changed(commerce, table, mark - overlap, until)
            frame = _to_warehouse(frame, table)
            counts[table.name] = upsert_frame(conn, table.name, frame, [table.key])
            new_mark = max(mark, frame["updated_at"].max()) if len(frame) else mark
            conn.execute(sa.text("delete from etl_watermarks where source = :s"), {"s": source})
            conn.execute(
                sa.text(
                    "insert into etl_watermarks (source, watermark_at) values (:s, :w)"
                ),
                {"s": source, "w": pd.Timestamp(new_mark).to_pydatetime()},
            )
            log.info("pulled %s: %d rows changed in (%s, %s]", table.name, len(frame), mark - overlap, until)
    return counts
