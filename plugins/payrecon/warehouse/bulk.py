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

_COPY_ROWS = 65_536  # rows per PostgreSQL COPY of an Arrow table
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class DuplicateKeyError(RuntimeError):
    """An upsert found a key held by more than one row (a keyless embedded table written around the upsert)."""


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


def _duckdb_scan(raw, frame: pd.DataFrame | pa.Table, *statements: str) -> list[list[tuple]]:  # noqa: ANN001
    """Run `statements`, which read `frame` as `_payrecon_frame`, on DuckDB; every result fetched whole
    (DuckDB 2.0 refuses further work on a connection while a result is unread).

    The frame is found by DuckDB's replacement scan of this function's local variable, not `register`ed:
    DuckDB 2.0 keeps a registered frame alive after `unregister` until the connection closes (measured:
    a pull upserting 3.6M rows batch by batch held every batch, +360 MB of Arrow buffers at its end).
    """
    _payrecon_frame = frame  # noqa: F841 - read by name by DuckDB's replacement scan
    results = []
    for statement in statements:  # not a comprehension: its own frame would hide the variable
        results.append(raw.execute(statement).fetchall())
    return results


def _integral_floats_to_int(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer columns with gaps arrive as float64 (NaN); COPY needs `900`, not `900.0`."""
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    fix = {c: "Int64" for c in floats if ((frame[c].dropna() % 1) == 0).all()}
    return frame.astype(fix) if fix else frame


def _is_empty(frame: pd.DataFrame | pa.Table) -> bool:
    return frame.num_rows == 0 if isinstance(frame, pa.Table) else frame.empty


def _columns(frame: pd.DataFrame | pa.Table) -> list[str]:
    return [_ident(c) for c in (frame.column_names if isinstance(frame, pa.Table) else frame.columns)]


def _utc_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """A zoned timestamp column as UTC text with an explicit `+00` offset.

    Arrow stores zoned timestamps as UTC instants; formatting them through their zone costs ~1 s per
    million values (the commerce pull's 3.6M rows x 3 timestamps: most of its CSV time on PostgreSQL),
    formatting the same instants as zone-less values ~0.03 s. The text names its offset, so PostgreSQL
    reads the same instant whatever the session's time zone."""
    wall = values.cast(pa.timestamp(values.type.unit))  # the UTC wall clock: a cast of metadata only
    return pc.binary_join_element_wise(pc.cast(wall, pa.string()), pa.scalar("+00"), "")


def _copy_ready(frame: pa.Table) -> pa.Table:
    for i, field in enumerate(frame.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            frame = frame.set_column(i, field.name, _utc_text(frame.column(i)))
    return frame


def _copy_arrow(conn: Connection, table: str, cols: list[str], frame: pa.Table) -> None:
    """PostgreSQL COPY of an Arrow table as CSV: strings quoted (an empty string stays empty), nulls
    unquoted and empty (NULL), zoned timestamps as UTC text with their offset (`_utc_text`)."""
    cursor = conn.connection.driver_connection.cursor()
    try:
        # a COPY per slice of rows, each CSV handed over from Arrow's buffer without a Python copy: a 1M-row
        # table never sits in memory as one CSV text (nor as text columns: those are made per slice too)
        for offset in range(0, max(frame.num_rows, 1), _COPY_ROWS):
            buf = pa.BufferOutputStream()
            pa_csv.write_csv(_copy_ready(frame.slice(offset, _COPY_ROWS)), buf,
                             pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
            data = pa.BufferReader(buf.getvalue())
            cursor.copy_expert(f"copy {table} ({', '.join(cols)}) from stdin with (format csv)", data)
            del buf, data
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
        _duckdb_scan(_duckdb_raw(conn), frame, f"insert into {table} ({col_list}) select {col_list} from _payrecon_frame")
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

    Columns of `table` that `frame` does not carry keep their values on rows that already exist (an
    update, never a delete and re-insert). When `frame` repeats a key, its last row wins.

    PostgreSQL: `insert ... on conflict (key) do update` from a COPY-filled temporary table.
    DuckDB: no `on conflict` (DuckDB 2.0 runs inserts with an `on conflict` clause many times slower than
    plain ones, measured), but in the caller's transaction: `update ... from` the frame for keys already
    present whose values differ (unchanged rows are not written at all: a delete or an update of an
    indexed column costs index upkeep at commit), then an anti-join insert of the new keys, then a count
    proving each key is held by one row (the big tables have no primary key there, see migration 0008).
    The frame is scanned in place (DuckDB's Arrow / pandas scan), never through a staging table: DuckDB
    2.0 keeps the statistics of a table created empty and then silently copies nothing out of it once it
    holds ~200k rows.
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
    rows = frame.num_rows if isinstance(frame, pa.Table) else len(frame)
    values = [c for c in cols if c not in keys]
    if conn.dialect.name == "duckdb":
        same_key = " and ".join(f"t.{k} = f.{k}" for k in keys)
        statements = []
        if values:
            changed = " or ".join(f"t.{c} is distinct from f.{c}" for c in values)
            assign = ", ".join(f"{c} = f.{c}" for c in values)
            statements.append(
                f"update {table} as t set {assign} from _payrecon_frame as f where {same_key} and ({changed})"
            )
        statements.append(
            f"insert into {table} ({col_list}) select {col_list} from _payrecon_frame as f"
            f" where not exists (select 1 from {table} as t where {same_key})"
        )
        # the embedded warehouse keeps no primary key on its big tables (migration 0008): prove the keys
        # just written are each held by exactly one row, else the caller's transaction rolls back
        statements.append(
            f"select count(*) from {table} as t where exists (select 1 from _payrecon_frame as f where {same_key})"
        )
        ((held,),) = _duckdb_scan(_duckdb_raw(conn), frame, *statements)[-1]
        if held != rows:
            raise DuplicateKeyError(f"{table}: {held} rows hold the {rows} keys just upserted ({', '.join(keys)})")
        return rows
    updates = ", ".join(f"{c} = excluded.{c}" for c in values)
    action = f"do update set {updates}" if updates else "do nothing"
    conflict = f"on conflict ({', '.join(keys)}) {action}"
    staging = _ident(f"_stage_{table}")
    conn.exec_driver_sql(f"drop table if exists {staging}")
    conn.exec_driver_sql(f"create temporary table {staging} (like {table})")
    insert_frame(conn, staging, frame)
    conn.exec_driver_sql(f"insert into {table} ({col_list}) select {col_list} from {staging} {conflict}")
    conn.exec_driver_sql(f"drop table {staging}")
    return rows


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


def release_unused_memory() -> None:
    """Hand Arrow's freed buffers back to the system.

    Arrow's allocator (mimalloc) keeps what a frame freed for its next allocation: after parsing a
    120 MB settlement file ~230 MB stayed resident with nothing left allocated, memory that DuckDB,
    numpy and pandas cannot use. Cheap (milliseconds); called between the big steps of a window.
    """
    pa.default_memory_pool().release_unused()


duckdb_raw = _duckdb_raw
bound_statement = _bound


def _pg_copy_out(conn: Connection, sql: str | Executable, params: dict | None, sink) -> bool:  # noqa: ANN001
    """PostgreSQL `COPY (query) TO STDOUT` as CSV with a header into `sink` (a binary file object), by
    psycopg2's `copy_expert`; False (nothing written) for a driver without it."""
    cursor = conn.connection.driver_connection.cursor()
    try:
        if not (hasattr(cursor, "copy_expert") and hasattr(cursor, "mogrify")):
            return False
        statement, values = _bound(conn, sql, params)
        query = cursor.mogrify(statement, values).decode()
        cursor.copy_expert(f"copy ({query}) to stdout with (format csv, header true)", sink)
        return True
    finally:
        cursor.close()


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
        buf = io.BytesIO()
        if _pg_copy_out(conn, sql, params, buf):
            return _csv_text_table(buf.getvalue())
    from sqlalchemy import text

    result = conn.execute(text(sql), params or {}) if isinstance(sql, str) else conn.execute(sql)
    names = list(result.keys())
    rows = result.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return pa.table({name: pa.array(list(col)) for name, col in zip(names, columns, strict=True)})


def copy_to_csv(conn: Connection, sql: str, params: dict | None, path) -> None:  # noqa: ANN001 - str | Path
    """Write a query's rows to a CSV file (header, minimal quoting, NULL as an empty cell, `\\n` line ends)
    by the engine's own writer: DuckDB's `COPY ... TO` file, PostgreSQL's `COPY ... TO STDOUT` streamed to
    the file. No row passes through Python. Both quote an empty string (`""`) to tell it from NULL: a
    caller that wants the cell empty selects `nullif(x, '')`.
    """
    from pathlib import Path

    target = Path(path)
    backend = conn.dialect.name
    if backend == "duckdb":
        statement, values = _bound(conn, sql, params)
        quoted = str(target).replace("'", "''")
        _duckdb_raw(conn).execute(f"copy ({statement}) to '{quoted}' (format csv, header true)", values).fetchall()
        return
    if backend == "postgresql":
        with open(target, "wb") as fh:
            if _pg_copy_out(conn, sql, params, fh):
                return
    from sqlalchemy import text

    result = conn.execute(text(sql), params or {})
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    frame.to_csv(target, index=False, lineterminator="\n")


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
