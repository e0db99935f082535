"""Incremental pull from the merchant's commerce database by updated-at watermark.

Rows with `updated_at` in (watermark - overlap, window end] are read and upserted by primary key, so a
late edit (an offline order approved by hand, auto-charge switched back to Yes) is picked up by the next
window, and the overlap re-reads rows a slow transaction committed late without duplicating anything.
All five tables and their watermarks move in one warehouse transaction.

A window can change a million orders and attempts, so rows travel column-wise, never row by row in
Python, and in batches of `PULL_BATCH_ROWS`, so memory stays flat: read as Arrow by the source's bulk path
(SQLite through the ADBC driver when installed, DuckDB's Arrow record batches, PostgreSQL `COPY ... TO
STDOUT`, else DB-API `fetchmany` turned into columns), converted with Arrow compute (money to exact minor
units, timestamps to UTC), and upserted in bulk.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from payrecon.commerce.tables import TABLES, CommerceTable
from payrecon.money import exponent, to_minor_series
from payrecon.warehouse import sql
from payrecon.warehouse.bulk import (
    bound_statement,
    duckdb_raw,
    read_arrow,
    release_unused_memory,
    upsert_frame,
)

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UTC_US = pa.timestamp("us", tz="UTC")
INTEGER_COLUMNS = frozenset({"installment_no", "attempt_no", "installments", "interval_days"})
BOOLEAN_COLUMNS = frozenset({"auto_charge"})
_TRUE_TEXT = ["1", "t", "true", "y", "yes", "on"]
# Rows read, converted and upserted at a time: whole DuckDB row groups (122,880 rows each; batches that end
# mid-group leave partial groups the checkpoint rewrites at length). Each batch's upsert joins it against the
# whole table, so fewer, larger batches cost less: at 1M orders a window, 2 groups per batch pulled in 8.4 s,
# 8 groups in 6.1 s (2026-12-07), for ~150 MB more of Arrow buffers at the peak.
PULL_BATCH_ROWS = 8 * 122_880
ADBC_BATCH_ROWS = 2**30  # "all rows in one batch"; the SQLite driver accepts at most INT_MAX - 1
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


def _batch_readers(commerce: Engine, table: CommerceTable, low: datetime, high: datetime) -> list:
    """Ways to read the changed rows, fastest first; each a callable yielding Arrow tables of at most
    `PULL_BATCH_ROWS` rows. A way that fails while reading (a driver that cannot type a column) hands over
    to the next one, which reads the table again from its start: what was already upserted is upserted
    again, unchanged (the upsert is idempotent, and it is all one transaction)."""
    query = _query(table, low, high)
    readers = []
    if commerce.dialect.name == "sqlite" and _adbc_database(commerce) is not None:
        readers.append(lambda: _read_sqlite_adbc(commerce, query, PULL_BATCH_ROWS))
        # one batch, typed from every row: a column NULL for the first batch and text later
        readers.append(lambda: _slices(_read_sqlite_adbc(commerce, query, ADBC_BATCH_ROWS)))
    if commerce.dialect.name == "duckdb":
        readers.append(lambda: _read_duckdb(commerce, query))
    elif commerce.dialect.name == "postgresql":
        readers.append(lambda: _read_bulk(commerce, query))
    readers.append(lambda: _read_cursor(commerce, query))
    return readers


def _slices(tables: Iterator[pa.Table]) -> Iterator[pa.Table]:
    for whole in tables:
        for offset in range(0, whole.num_rows, PULL_BATCH_ROWS):
            yield whole.slice(offset, PULL_BATCH_ROWS)


def _read_bulk(commerce: Engine, query: sa.Select) -> Iterator[pa.Table]:
    """PostgreSQL: the whole result by COPY (bulk.read_arrow), handed on in slices."""
    with commerce.connect() as conn:
        whole = read_arrow(conn, query)
    yield from _slices([whole])


def _read_duckdb(commerce: Engine, query: sa.Select) -> Iterator[pa.Table]:
    """DuckDB: its Arrow record-batch stream, batch by batch."""
    with commerce.connect() as conn:
        statement, values = bound_statement(conn, query)
        reader = duckdb_raw(conn).sql(statement, params=values).to_arrow_reader(PULL_BATCH_ROWS)
        for batch in reader:
            yield pa.Table.from_batches([batch])


def _adbc_database(commerce: Engine) -> str | None:
    database = commerce.url.database
    if not database or database == ":memory:":
        return None
    try:
        import adbc_driver_sqlite.dbapi  # noqa: F401
    except ImportError:
        return None
    return database


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


def _read_sqlite_adbc(commerce: Engine, query: sa.Select, batch_rows: int) -> Iterator[pa.Table]:
    """SQLite through the Arrow-native ADBC driver, `batch_rows` rows at a time.

    The driver types each column from the rows of its first batch, and fails on a later batch where a
    column that was NULL (or integer) turns to text: the caller then reads again with all rows in one batch.
    """
    import adbc_driver_sqlite.dbapi as adbc

    statement, params = _sqlite_statement(commerce, query)
    with adbc.connect(_adbc_database(commerce)) as conn, conn.cursor() as cursor:
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
        cursor.execute(statement, params)
        reader = cursor.fetch_record_batch()
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            yield pa.Table.from_batches([batch])


def _read_cursor(commerce: Engine, query: sa.Select) -> Iterator[pa.Table]:
    """Any DB-API source: `fetchmany` turned into Arrow columns (the cyclic GC paused meanwhile: a
    million fresh tuples would otherwise trigger collection after collection)."""
    with commerce.connect() as conn:
        result = conn.execute(query)
        names = list(result.keys())
        while True:
            enabled = gc.isenabled()
            gc.disable()
            try:
                rows = result.cursor.fetchmany(PULL_BATCH_ROWS)
                if not rows:
                    break
                columns = list(zip(*rows, strict=True))
                del rows
                batch = pa.table({name: _column(col) for name, col in zip(names, columns, strict=True)})
                del columns
            finally:
                if enabled:
                    gc.enable()
            yield batch
        result.close()


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


def _pull_table(conn: Connection, commerce: Engine, table: CommerceTable, low: datetime, high: datetime
                ) -> tuple[int, datetime | None]:
    """Upsert the table's rows changed in (low, high], batch by batch; returns (rows, newest updated_at)."""
    readers = _batch_readers(commerce, table, low, high)
    for number, reader in enumerate(readers, start=1):
        rows, latest = 0, None
        batches = reader()
        while True:
            try:
                raw = next(batches)
            except StopIteration:
                return rows, latest
            except Exception as exc:  # noqa: BLE001 - a driver that cannot read this table: the next way
                if number == len(readers):
                    raise
                log.info("reading commerce %s failed (%s: %s); reading it again another way",
                         table.name, type(exc).__name__, exc)
                break
            frame = _to_warehouse(raw, table)
            del raw
            rows += upsert_frame(conn, table.name, frame, [table.key])
            newest = pc.max(frame.column("updated_at")).as_py() if frame.num_rows else None
            if newest is not None and (latest is None or newest > latest):
                latest = newest
            del frame
    raise AssertionError("unreachable: the last reader raises")


def pull_incremental(
    commerce: Engine, warehouse: Engine, until: datetime, overlap: timedelta = timedelta(minutes=5)
) -> dict[str, int]:
    """Pull every contract table changed up to `until`; returns rows upserted per table.

    Rows travel in batches of `PULL_BATCH_ROWS` (read, converted, upserted, freed), so memory stays flat
    whatever the window holds.
    """
    for table in TABLES:
        _check_columns(commerce, table)
    counts: dict[str, int] = {}
    with warehouse.begin() as conn:
        for table in TABLES:
            source = f"commerce.{table.name}"
            mark = _watermark(conn, source)
            counts[table.name], latest = _pull_table(conn, commerce, table, mark - overlap, until)
            release_unused_memory()
            sql.analyze_after_load(conn, table.name, counts[table.name])
            new_mark = max(mark, latest) if latest is not None else mark
            conn.execute(sa.text("delete from etl_watermarks where source = :s"), {"s": source})
            conn.execute(
                sa.text(
                    "insert into etl_watermarks (source, watermark_at) values (:s, :w)"
                ),
                {"s": source, "w": pd.Timestamp(new_mark).to_pydatetime()},
            )
            log.info("pulled %s: %d rows changed in (%s, %s]", table.name, counts[table.name], mark - overlap, until)
    return counts
