"""Bulk loads: COPY on PostgreSQL, DuckDB's native frame scan on the embedded default.

Never row-by-row inserts: a window can hold a million lines.
"""

from __future__ import annotations

import io
import re

import pandas as pd
from sqlalchemy import Connection

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


def _integral_floats_to_int(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer columns with gaps arrive as float64 (NaN); COPY needs `900`, not `900.0`."""
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    fix = {c: "Int64" for c in floats if ((frame[c].dropna() % 1) == 0).all()}
    return frame.astype(fix) if fix else frame


def insert_frame(conn: Connection, table: str, frame: pd.DataFrame) -> int:
    """Append `frame` to `table` (columns by name) inside the caller's transaction."""
    if frame.empty:
        return 0
    table = _ident(table)
    cols = [_ident(c) for c in frame.columns]
    col_list = ", ".join(cols)
    backend = conn.dialect.name
    if backend == "duckdb":
        raw = conn.connection.driver_connection
        raw.register("_payrecon_frame", frame)
        try:
            raw.execute(f"insert into {table} ({col_list}) select {col_list} from _payrecon_frame")
        finally:
            raw.unregister("_payrecon_frame")
        return len(frame)
    if backend == "postgresql":
        frame = _integral_floats_to_int(frame)
        buf = io.StringIO()
        frame.to_csv(buf, index=False, header=False, na_rep="\\N")
        buf.seek(0)
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.copy_expert(
                f"copy {table} ({col_list}) from stdin with (format csv, null '\\N')", buf
            )
        finally:
            cursor.close()
        return len(frame)
    frame.to_sql(table, conn, if_exists="append", index=False, method="multi", chunksize=500)
    return len(frame)


def upsert_frame(conn: Connection, table: str, frame: pd.DataFrame, key: list[str]) -> int:
    """Replace rows of `table` whose key is in `frame`, then insert the frame: an idempotent upsert.

    Delete-then-insert through a staging table keeps it set-based on both engines.
    """
    if frame.empty:
        return 0
    table = _ident(table)
    staging = _ident(f"_stage_{table}")
    keys = [_ident(k) for k in key]
    conn.exec_driver_sql(f"drop table if exists {staging}")
    conn.exec_driver_sql(f"create temporary table {staging} as select * from {table} where 1 = 0")
    insert_frame(conn, staging, frame)
    match = " and ".join(f"t.{k} = s.{k}" for k in keys)
    conn.exec_driver_sql(f"delete from {table} t where exists (select 1 from {staging} s where {match})")
    cols = ", ".join(_ident(c) for c in frame.columns)
    conn.exec_driver_sql(f"insert into {table} ({cols}) select {cols} from {staging}")
    conn.exec_driver_sql(f"drop table {staging}")
    return len(frame)
