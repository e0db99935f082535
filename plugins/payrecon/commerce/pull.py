"""Incremental pull from the merchant's commerce database by updated-at watermark.

Rows with `updated_at` in (watermark - overlap, window end] are read and upserted by primary key, so a
late edit (an offline order approved by hand, auto-charge switched back to Yes) is picked up by the next
window, and the overlap re-reads rows a slow transaction committed late without duplicating anything.
All five tables and their watermarks move in one warehouse transaction.

A window can change a million orders and attempts, so rows travel column-wise, never row by row in
Python: read as Arrow by the source's bulk path (DuckDB's Arrow result, PostgreSQL `COPY ... TO STDOUT`,
SQLite through the ADBC driver when installed, else one DB-API fetch turned into columns), converted with
Arrow compute (money to exact minor units, timestamps to UTC), and upserted in bulk.
"""

from __future__ import annotations

import gc
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from payrecon.commerce.tables import TABLES, CommerceTable
from payrecon.money import exponent, to_minor_series
from payrecon.warehouse.bulk import read_arrow, upsert_frame

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UTC_US = pa.timestamp("us", tz="UTC")
INTEGER_COLUMNS = frozenset({"installment_no", "attempt_no", "installments", "interval_days"})
BOOLEAN_COLUMNS = frozenset({"auto_charge"})
_TRUE_TEXT = ["1", "t", "true", "y", "yes", "on"]
_DECIMAL_TEXT = r"^[-+]?[0-9]+(\.[0-9]*)?$"  # what money.to_minor_series accepts


class CommerceContractError(RuntimeError):
    """The commerce database does not have a table or column the contract requires."""


def _check_columns(commerce: Engine, table: CommerceTable) -> None:
    """The table and its contract columns exist. Asked with an empty query rather than catalog reflection,
    which some engines' SQLAlchemy dialects cannot do (duckdb-engine on DuckDB 2.0)."""
    probe = sa.select(sa.text("*")).select_from(sa.table(table.name)).where(sa.false())
    with commerce.connect() as conn:
        try:
            present = set(conn.execute(probe).keys())
        except sa.exc.DBAPIError as exc:
            raise CommerceContractError(f"commerce_db has no table {table.name!r} (see docs/CONTRACT.md)") from exc
    missing = [c for c in table.columns if c not in present]
    if missing:
        raise CommerceContractError(f"commerce_db table {table.name!r} lacks column(s) {', '.join(missing)}")


def _watermark(conn: Connection, source: str) -> datetime:
    value = conn.execute(sa.text("select watermark_at from etl_watermarks where source = :s"), {"s": source}).scalar()
    if value is None:
        return EPOCH
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _query(table: CommerceTable, low: datetime, high: datetime) -> sa.Select:
    cols = [sa.column(c) for c in table.columns if c not in table.money]
    cols += [sa.cast(sa.column(c), sa.Text).label(c) for c in table.money]
    stamp = sa.DateTime(timezone=True)
    return (
        sa.select(*cols)
        .select_from(sa.table(table.name))
        .where(sa.column("updated_at", stamp) > sa.bindparam("low", low, type_=stamp))
        .where(sa.column("updated_at", stamp) <= sa.bindparam("high", high, type_=stamp))
    )


def _read_changed(commerce: Engine, table: CommerceTable, low: datetime, high: datetime) -> pa.Table:
    query = _query(table, low, high)
    if commerce.dialect.name == "sqlite":
        fast = _read_sqlite_adbc(commerce, query)
        if fast is not None:
            return fast
    with commerce.connect() as conn:
        if conn.dialect.name in ("duckdb", "postgresql"):
            return read_arrow(conn, query)
        return _read_cursor(conn, query)


def _sqlite_statement(commerce: Engine, query: sa.Select) -> tuple[str, list]:
    """The query as SQLite runs it, with its binds converted exactly as SQLAlchemy would."""
    compiled = query.compile(dialect=commerce.dialect)
    values = compiled.construct_params()
    out = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        proc = bind.type.dialect_impl(commerce.dialect).bind_processor(commerce.dialect)
        out.append(proc(values[name]) if proc else values[name])
    return str(compiled), out


def _read_sqlite_adbc(commerce: Engine, query: sa.Select) -> pa.Table | None:
    """SQLite through the Arrow-native ADBC driver, or None (driver missing, or a column it cannot type)."""
    database = commerce.url.database
    if not database or database == ":memory:":
        return None
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:
        return None
    statement, params = _sqlite_statement(commerce, query)
    try:
        with adbc.connect(database) as conn, conn.cursor() as cursor:
            # one batch: the driver types each column from the rows of its first batch, and a column that
            # is NULL for the first thousand rows and text later would otherwise fail mid-read
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(2**31 - 1)})
            cursor.execute(statement, params)
            return cursor.fetch_arrow_table()
    except Exception as exc:  # noqa: BLE001 - e.g. a column whose SQLite type changes mid-table
        log.info("ADBC read of SQLite failed (%s); falling back to the DB-API cursor", exc)
        return None


def _read_cursor(conn: Connection, query: sa.Select) -> pa.Table:
    """Any DB-API source: one fetch, turned into Arrow columns (the cyclic GC paused meanwhile: a million
    fresh tuples would otherwise trigger collection after collection)."""
    result = conn.execute(query)
    names = list(result.keys())
    enabled = gc.isenabled()
    gc.disable()
    try:
        rows = result.cursor.fetchall()
        result.close()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        del rows
        return pa.table({name: _column(col) for name, col in zip(names, columns, strict=True)})
    finally:
        if enabled:
            gc.enable()


def _column(values: tuple) -> pa.Array:
    try:
        return pa.array(list(values))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types in one SQLite column: as text
        return pa.array([None if v is None else str(v) for v in values], pa.string())


# --- conversion to warehouse columns --------------------------------------------------------------------

def _timestamps(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Any timestamp column (typed, or ISO 8601 text with or without offset; naive means UTC) as UTC."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_timestamp(values.type):
        if values.type.tz is None:
            return pc.assume_timezone(pc.cast(values, pa.timestamp("us")), "UTC").cast(UTC_US)
        return pc.cast(values, UTC_US)
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), UTC_US)
    try:
        return pc.cast(pc.cast(values, pa.string()), UTC_US)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = pd.to_datetime(pd.Series(values.to_pylist(), dtype=object), utc=True, format="ISO8601")
        return pa.array(parsed, type=UTC_US)


def _minor_units(amounts: pa.Array, currencies: pa.Array, where: str) -> pa.Array:
    """Exact decimal text in major units -> integer minor units per row currency.

    Arrow's decimal parse and safe decimal -> integer cast refuse bad text and extra precision; the first
    offending value is then named by `money.to_minor_series`, the reference implementation.
    """
    text = pc.utf8_trim_whitespace(pc.cast(amounts, pa.string()))
    codes = pc.utf8_upper(pc.cast(currencies, pa.string()))
    try:
        present = [c for c in pc.unique(pc.filter(codes, pc.is_valid(text))).to_pylist() if c is not None]
        digits = {c: exponent(c) for c in present}
        scale = pc.take(pa.array([Decimal(10 ** digits[c]) for c in present], pa.decimal128(5, 0)),
                        pc.index_in(codes, value_set=pa.array(present, pa.string())))
        if pc.any(pc.and_(pc.is_valid(text), pc.is_null(codes))).as_py():
            raise ValueError("an amount without a currency")
        if not pc.all(pc.fill_null(pc.match_substring_regex(text, _DECIMAL_TEXT), True)).as_py():
            raise ValueError("not a decimal amount")
        exact = pc.cast(text, pa.decimal128(30, 9))
        return pc.cast(pc.multiply(exact, scale), pa.int64())
    except (pa.ArrowInvalid, ValueError, KeyError) as exc:
        log.debug("%s: exact Arrow conversion refused (%s); checking with money.to_minor_series", where, exc)
        try:
            minor = to_minor_series(pd.Series(amounts.to_pylist(), dtype=object),
                                    pd.Series(currencies.to_pylist(), dtype=object))
        except ValueError as exc:
            raise CommerceContractError(f"commerce_db {where}: {exc}") from exc
        return pa.array(minor.astype("Int64"), type=pa.int64())


def _booleans(values: pa.Array) -> pa.Array:
    if pa.types.is_boolean(values.type):
        return values
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_decimal(values.type):
        return pc.not_equal(values, pc.cast(pa.scalar(0), values.type))
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(values, pa.string())))
    return pc.is_in(text, value_set=pa.array(_TRUE_TEXT))


def _to_warehouse(raw: pa.Table, table: CommerceTable) -> pa.Table:
    """Warehouse columns: text as text, integers, booleans, UTC timestamps, `*_minor` for money."""
    out: dict[str, pa.Array] = {}
    for name in raw.column_names:
        values = raw.column(name).combine_chunks()
        if name in table.money:
            continue
        if name in table.timestamps:
            out[name] = _timestamps(values)
        elif name in BOOLEAN_COLUMNS:
            out[name] = pc.fill_null(_booleans(values), False)
        elif name in INTEGER_COLUMNS:
            out[name] = pc.cast(values, pa.int64())
        elif name == "currency":
            out[name] = pc.utf8_upper(pc.cast(values, pa.string()))
        else:
            out[name] = pc.cast(values, pa.string())
    for source_col, minor_col in table.money.items():
        out[minor_col] = _minor_units(raw.column(source_col).combine_chunks(),
                                      raw.column("currency").combine_chunks(), f"{table.name}.{source_col}")
    return pa.table(out)


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
            frame = _to_warehouse(_read_changed(commerce, table, mark - overlap, until), table)
            counts[table.name] = upsert_frame(conn, table.name, frame, [table.key])
            latest = pc.max(frame.column("updated_at")).as_py() if frame.num_rows else None
            new_mark = max(mark, latest) if latest is not None else mark
            conn.execute(sa.text("delete from etl_watermarks where source = :s"), {"s": source})
            conn.execute(
                sa.text(
                    "insert into etl_watermarks (source, watermark_at) values (:s, :w)"
                ),
                {"s": source, "w": pd.Timestamp(new_mark).to_pydatetime()},
            )
            log.info("pulled %s: %d rows changed in (%s, %s]", table.name, frame.num_rows, mark - overlap, until)
    return counts
