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


def _duckdb_raw(conn: Connection):  # noqa: ANN202 - duckdb.DuckDBPyConnection
    """The DuckDB connection under SQLAlchemy, with any half-read result finished first.

    duckdb-engine shares one DuckDB connection per transaction; DuckDB 2.0 refuses `register` while an
    earlier query's result (a `.scalar()` read one row of it) is still open.
    """
    raw = conn.connection.driver_connection
    complete = getattr(raw, "complete", None)
    if complete is not None:
        complete()
    return raw


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
        raw = _duckdb_raw(conn)
        raw.register("_payrecon_frame", frame)
        try:
            raw.execute(f"insert into {table} ({col_list}) select {col_list} from _payrecon_frame").fetchall()
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
    """Insert `frame` into `table`, replacing rows with the same key: an idempotent upsert.

    `insert ... on conflict (key) do update` runs unchanged on DuckDB and PostgreSQL. (A staging table
    created empty and then filled is avoided on purpose: DuckDB 2.0 keeps the empty table's statistics
    and silently copies nothing out of it once it holds ~200k rows.)
    """
    if frame.empty:
        return 0
    table = _ident(table)
    keys = [_ident(k) for k in key]
    frame = frame.drop_duplicates(subset=keys, keep="last")
    cols = [_ident(c) for c in frame.columns]
    col_list = ", ".join(cols)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    action = f"do update set {updates}" if updates else "do nothing"
    conflict = f"on conflict ({', '.join(keys)}) {action}"
    if conn.dialect.name == "duckdb":
        raw = _duckdb_raw(conn)
        raw.register("_payrecon_frame", frame)
        try:
            # fetch the row count: DuckDB 2.0 refuses further work while a result is unread
            raw.execute(f"insert into {table} ({col_list}) select {col_list} from _payrecon_frame {conflict}").fetchall()
        finally:
            raw.unregister("_payrecon_frame")
        return len(frame)
    staging = _ident(f"_stage_{table}")
    conn.exec_driver_sql(f"drop table if exists {staging}")
    conn.exec_driver_sql(f"create temporary table {staging} (like {table})")
    insert_frame(conn, staging, frame)
    conn.exec_driver_sql(f"insert into {table} ({col_list}) select {col_list} from {staging} {conflict}")
    conn.exec_driver_sql(f"drop table {staging}")
    return len(frame)
