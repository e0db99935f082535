"""Bulk loads and reads: COPY on PostgreSQL, DuckDB's native frame / Arrow scan on the embedded default.

Never row-by-row inserts or fetches: a window can hold a million lines.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Connection
from sqlalchemy.sql.expression import Executable

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


def _is_empty(frame: pd.DataFrame | pa.Table) -> bool:
    return frame.num_rows == 0 if isinstance(frame, pa.Table) else frame.empty


def _columns(frame: pd.DataFrame | pa.Table) -> list[str]:
    return [_ident(c) for c in (frame.column_names if isinstance(frame, pa.Table) else frame.columns)]


def _copy_arrow(conn: Connection, table: str, cols: list[str], frame: pa.Table) -> None:
    """PostgreSQL COPY of an Arrow table as CSV: strings quoted (an empty string stays empty), nulls
    unquoted and empty (NULL), timestamps ISO 8601 with their zone."""
    buf = pa.BufferOutputStream()
    pa_csv.write_csv(frame, buf, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
    cursor = conn.connection.driver_connection.cursor()
    try:
        data = io.BytesIO(buf.getvalue().to_pybytes())
        cursor.copy_expert(f"copy {table} ({', '.join(cols)}) from stdin with (format csv)", data)
    finally:
        cursor.close()


def insert_frame(conn: Connection, table: str, frame: pd.DataFrame | pa.Table) -> int:
    """Append `frame` (pandas or Arrow) to `table` (columns by name) inside the caller's transaction."""
    if _is_empty(frame):
        return 0
    table = _ident(table)
    cols = _columns(frame)
    col_list = ", ".join(cols)
    backend = conn.dialect.name
    if isinstance(frame, pa.Table) and backend == "postgresql" and conn.dialect.driver == "psycopg2":
        _copy_arrow(conn, table, cols, frame)
        return frame.num_rows
    if isinstance(frame, pa.Table) and backend != "duckdb":
        frame = frame.to_pandas()
    if backend == "duckdb":
        raw = _duckdb_raw(conn)
        raw.register("_payrecon_frame", frame)
        try:
            raw.execute(f"insert into {table} ({col_list}) select {col_list} from _payrecon_frame").fetchall()
        finally:
            raw.unregister("_payrecon_frame")
        return frame.num_rows if isinstance(frame, pa.Table) else len(frame)
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


def upsert_frame(conn: Connection, table: str, frame: pd.DataFrame | pa.Table, key: list[str]) -> int:
    """Insert `frame` into `table`, replacing rows with the same key: an idempotent upsert.

    `insert ... on conflict (key) do update` runs unchanged on DuckDB and PostgreSQL. (A staging table
    created empty and then filled is avoided on purpose: DuckDB 2.0 keeps the empty table's statistics
    and silently copies nothing out of it once it holds ~200k rows.)
    """
    if _is_empty(frame):
        return 0
    table = _ident(table)
    keys = [_ident(k) for k in key]
    if isinstance(frame, pa.Table):
        if len(keys) != 1 or len(pc.unique(frame.column(keys[0]))) != frame.num_rows:
            frame = frame.to_pandas()  # duplicate keys (or a composite key): pandas decides which row stays
    if not isinstance(frame, pa.Table):
        frame = frame.drop_duplicates(subset=keys, keep="last")
    cols = _columns(frame)
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
        return frame.num_rows if isinstance(frame, pa.Table) else len(frame)
    staging = _ident(f"_stage_{table}")
    conn.exec_driver_sql(f"drop table if exists {staging}")
    conn.exec_driver_sql(f"create temporary table {staging} (like {table})")
    insert_frame(conn, staging, frame)
    conn.exec_driver_sql(f"insert into {table} ({col_list}) select {col_list} from {staging} {conflict}")
    conn.exec_driver_sql(f"drop table {staging}")
    return frame.num_rows if isinstance(frame, pa.Table) else len(frame)


# --- bulk reads -------------------------------------------------------------------------------------------


def _bound(conn: Connection, sql: str | Executable, params: dict | None) -> tuple[str, object]:
    """`sql` (text with `:name` binds, or a SQLAlchemy statement with its own bind values) compiled for
    the connection's driver: (statement, driver parameters)."""
    from sqlalchemy import text

    stmt = text(sql).bindparams(**(params or {})) if isinstance(sql, str) else sql
    compiled = stmt.compile(dialect=conn.dialect)
    values = compiled.construct_params()
    if conn.dialect.positional:
        return str(compiled), [values[name] for name in compiled.positiontup]
    return str(compiled), values


def read_arrow(conn: Connection, sql: str | Executable, params: dict | None = None) -> pa.Table:
    """A query's whole result as an Arrow table, by the engine's native bulk path.

    DuckDB: its own Arrow result. PostgreSQL: `COPY (query) TO STDOUT` as CSV, parsed by Arrow (text
    stays text, NULL stays NULL, an empty string stays empty), every column as text: the caller casts.
    Anything else: the DB-API cursor, columns built from the rows.
    """
    backend = conn.dialect.name
    if backend == "duckdb":
        statement, values = _bound(conn, sql, params)
        return _duckdb_raw(conn).sql(statement, params=values).to_arrow_table()
    if backend == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        try:
            if hasattr(cursor, "copy_expert") and hasattr(cursor, "mogrify"):  # psycopg2
                statement, values = _bound(conn, sql, params)
                query = cursor.mogrify(statement, values).decode()
                buf = io.BytesIO()
                cursor.copy_expert(f"copy ({query}) to stdout with (format csv, header true)", buf)
                return _csv_text_table(buf.getvalue())
        finally:
            cursor.close()
    from sqlalchemy import text

    result = conn.execute(text(sql), params or {}) if isinstance(sql, str) else conn.execute(sql)
    names = list(result.keys())
    rows = result.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return pa.table({name: pa.array(list(col)) for name, col in zip(names, columns, strict=True)})


def _csv_text_table(data: bytes) -> pa.Table:
    """A PostgreSQL CSV (header, NULL unquoted empty, empty string quoted) as all-text columns."""
    header = data.split(b"\n", 1)[0].decode()
    names = next(csv.reader([header])) if header else []
    if not names:
        return pa.table({})
    return pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(use_threads=True, block_size=1 << 24),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )
