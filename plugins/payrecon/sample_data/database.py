"""The commerce database: the tables and columns of CONTRACT.md section 1, written in bulk.

Money is NUMERIC (exact decimals rendered from integer minor units), timestamps are timestamptz in UTC.
SQLite has neither type: it stores money under NUMERIC affinity and timestamps as ISO 8601 text with an
explicit `+00:00` offset (`2026-11-01 10:00:00+00:00`, the form Python's sqlite3 adapter writes).
Bulk paths: executemany on SQLite, a registered frame + insert-select on DuckDB, COPY on PostgreSQL.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from payrecon.sample_data.catalog import CURRENCIES, EXPONENTS, GATEWAYS, KINDS, Catalog
from payrecon.sample_data.config import (
    BYTES,
    OBJECT,
    STR,
    Table,
    ids,
    money,
    python_text,
    text_array,
    timestamps,
)
from payrecon.sample_data.orders import (
    ORIGINS,
    SUBSCRIPTION_ORIGINS,
    Commerce,
    subscription_ids,
)

TS = sa.DateTime(timezone=True)
metadata = sa.MetaData()

CUSTOMERS = sa.Table(
    "customers", metadata,
    sa.Column("customer_id", sa.Text, primary_key=True),
    sa.Column("first_name", sa.Text, nullable=False),
    sa.Column("last_name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("phone", sa.Text, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)
PRODUCTS = sa.Table(
    "products", metadata,
    sa.Column("product_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("price", sa.Numeric, nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("installments", sa.Integer, nullable=True),
    sa.Column("interval_days", sa.Integer, nullable=True),
    sa.Column("updated_at", TS, nullable=False),
)
SUBSCRIPTIONS = sa.Table(
    "subscriptions", metadata,
    sa.Column("subscription_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False),
    sa.Column("product_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)
ORDERS = sa.Table(
    "orders", metadata,
    sa.Column("order_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False),
    sa.Column("product_id", sa.Text, nullable=False),
    sa.Column("subscription_id", sa.Text, nullable=True),
    sa.Column("installment_no", sa.Integer, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("auto_charge", sa.Boolean, nullable=False),
    sa.Column("auto_charge_set_by", sa.Text, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("total", sa.Numeric, nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)
PAYMENT_ATTEMPTS = sa.Table(
    "payment_attempts", metadata,
    sa.Column("attempt_id", sa.Text, primary_key=True),
    sa.Column("order_id", sa.Text, nullable=False),
    sa.Column("attempt_no", sa.Integer, nullable=False),
    sa.Column("attempted_at", TS, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("decline_code", sa.Text, nullable=True),
    sa.Column("error_code", sa.Text, nullable=True),
    sa.Column("gateway", sa.Text, nullable=False),
    sa.Column("gateway_charge_id", sa.Text, nullable=True),
    sa.Column("amount", sa.Numeric, nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("card_fingerprint", sa.Text, nullable=True),
    sa.Column("card_brand", sa.Text, nullable=True),
    sa.Column("card_last4", sa.CHAR(4), nullable=True),
    sa.Column("updated_at", TS, nullable=False),
)
TABLES = (CUSTOMERS, PRODUCTS, SUBSCRIPTIONS, ORDERS, PAYMENT_ATTEMPTS)
CHUNK = 250_000


def _v(vocabulary: np.ndarray, codes: np.ndarray, form: str) -> np.ndarray:
    """Codes -> labels; as shared Python strings when the driver wants objects."""
    return (vocabulary.astype(object) if form == OBJECT else vocabulary)[codes]


def _ts(secs, form: str) -> np.ndarray:
    return timestamps(np.asarray(secs), sep=" ", suffix="+00:00", form=form)


def _money(minor, currency, form: str) -> np.ndarray:
    return money(np.asarray(minor), EXPONENTS[np.asarray(currency)], form)


def _customers(c: Table, r: slice, cat: Catalog, f: str) -> dict[str, np.ndarray]:
    return {
        "customer_id": ids("CUS-", c["customer_no"][r], 7, f), "first_name": c["first_name"][r],
        "last_name": c["last_name"][r], "email": c["email"][r], "phone": c["phone"][r],
        "created_at": _ts(c["created_s"][r], f), "updated_at": _ts(c["updated_s"][r], f),
    }


def _products(p: Table, r: slice, cat: Catalog, f: str) -> dict[str, np.ndarray]:
    return {
        "product_id": p["product_id"][r], "name": p["name"][r], "kind": p["kind"][r],
        "price": _money(p["price_minor"][r], p["currency"][r], f), "currency": _v(CURRENCIES, p["currency"][r], f),
        "installments": p["installments"][r], "interval_days": p["interval_days"][r],
        "updated_at": _ts(p["updated_s"][r], f),
    }


def _subscriptions(s: Table, r: slice, cat: Catalog, f: str) -> dict[str, np.ndarray]:
    rows = np.arange(s.rows)[r]
    return {
        "subscription_id": ids("SUB-", rows + 1, 8, f), "customer_id": ids("CUS-", s["customer_no"][r], 7, f),
        "product_id": _v(cat.product_id, s["product"][r], f), "kind": _v(KINDS, s["kind"][r], f),
        "origin": SUBSCRIPTION_ORIGINS[s["origin"][r]], "status": s["status"][r],
        "created_at": _ts(s["created_s"][r], f), "updated_at": _ts(s["updated_s"][r], f),
    }


def _orders(o: Table, r: slice, cat: Catalog, f: str) -> dict[str, np.ndarray]:
    rows = np.arange(o.rows)[r]
    return {
        "order_id": ids("ORD-", rows + 1, 8, f), "customer_id": ids("CUS-", o["customer_no"][r], 7, f),
        "product_id": _v(cat.product_id, o["product"][r], f), "subscription_id": subscription_ids(o["sub_no"][r]),
        "installment_no": o["installment_no"][r], "origin": _v(ORIGINS, o["origin"][r], f),
        "auto_charge": o["auto_charge"][r], "auto_charge_set_by": o["auto_charge_set_by"][r],
        "status": o["status"][r], "total": _money(o["total_minor"][r], o["currency"][r], f),
        "currency": _v(CURRENCIES, o["currency"][r], f), "created_at": _ts(o["created_s"][r], f),
        "updated_at": _ts(o["updated_s"][r], f),
    }


def _attempts(a: Table, r: slice, cat: Catalog, f: str) -> dict[str, np.ndarray]:
    rows = np.arange(a.rows)[r]
    return {
        "attempt_id": ids("ATT-", rows + 1, 8, f), "order_id": ids("ORD-", a["order"][r] + 1, 8, f), "attempt_no": a["attempt_no"][r],
        "attempted_at": _ts(a["attempted_s"][r], f), "status": a["status"][r], "decline_code": a["decline_code"][r],
        "error_code": a["error_code"][r], "gateway": _v(GATEWAYS, a["gateway"][r], f),
        "gateway_charge_id": a["gateway_charge_id"][r], "amount": _money(a["amount_minor"][r], a["currency"][r], f),
        "currency": _v(CURRENCIES, a["currency"][r], f), "card_fingerprint": a["card_fingerprint"][r],
        "card_brand": a["card_brand"][r], "card_last4": a["card_last4"][r], "updated_at": _ts(a["updated_s"][r], f),
    }


_BUILDERS = {
    "customers": (_customers, "customers"), "products": (_products, "products"),
    "subscriptions": (_subscriptions, "subscriptions"), "orders": (_orders, "orders"),
    "payment_attempts": (_attempts, "attempts"),
}


def contract_chunks(com: Commerce, cat: Catalog, name: str, chunk: int = CHUNK, form: str = STR):
    """One commerce table in contract columns, `chunk` rows at a time: money as exact decimal strings,
    times as UTC ISO text, ids formatted. Only one chunk's strings are alive at once."""
    build, attr = _BUILDERS[name]
    table = getattr(com, attr)
    for start in range(0, table.rows, chunk):
        yield build(table, slice(start, start + chunk), cat, form)


def write_commerce(url: str, com: Commerce, cat: Catalog, fresh_file: bool = False) -> dict[str, int]:
    """Replace the five commerce tables at `url` with the generated rows.

    `fresh_file`: the URL is a SQLite/DuckDB file this generator owns; delete it rather than drop tables.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() in ("sqlite", "duckdb") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if fresh_file:
            for suffix in ("", "-journal", "-wal", ".wal"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    counts = {}
    try:
        metadata.drop_all(engine)
        metadata.create_all(engine)
        for table in TABLES:  # one transaction per table: DuckDB checkpoints and frees memory in between
            with engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("pragma synchronous = off")
                if conn.dialect.name == "duckdb":
                    conn.exec_driver_sql("set enable_progress_bar = false")
                    conn.exec_driver_sql("set preserve_insertion_order = false")
                counts[table.name] = 0
                for payload, rows in _payloads(com, cat, conn.dialect.name, table):
                    counts[table.name] += rows
                    _insert(conn, table, payload)
    finally:
        engine.dispose()
    return counts


def _payloads(com: Commerce, cat: Catalog, backend: str, table: sa.Table) -> Iterator[tuple[object, int]]:
    """What each driver loads fastest: an Arrow stream for DuckDB (one insert-select, one index build),
    Arrow chunks for PostgreSQL's COPY, lists of Python values for DB-API `executemany`.

    (A prefetch thread was tried for SQLite: its per-row GIL release makes it twice slower, not faster.)"""
    if backend == "duckdb":
        rows = getattr(com, _BUILDERS[table.name][1]).rows
        if rows:
            chunks = (_arrow(table, cols).to_batches()[0] for cols in contract_chunks(com, cat, table.name, form=BYTES))
            first = next(chunks)
            stream = pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], chunks))
            yield stream, rows  # DuckDB scans the stream: one chunk in memory at a time, one insert
        return
    form = BYTES if backend == "postgresql" else OBJECT
    for cols in contract_chunks(com, cat, table.name, form=form):
        rows = len(cols[table.columns[0].name])
        yield (_arrow(table, cols) if backend == "postgresql" else _python_values(table, cols)), rows


def _python_values(table: sa.Table, cols: dict[str, np.ndarray]) -> dict[str, list]:
    out = {}
    for column in table.columns:
        values = cols[column.name]
        if isinstance(column.type, sa.Boolean):
            values = np.asarray(values, dtype=np.int64)
        out[column.name] = python_text(values)
    return out


def _arrow(table: sa.Table, cols: dict[str, np.ndarray]) -> pa.Table:
    arrays = []
    for column in table.columns:
        values = cols[column.name]
        if isinstance(column.type, sa.Boolean):
            arrays.append(pa.array(np.asarray(values, dtype=bool)))
        elif isinstance(column.type, sa.Integer):
            arrays.append(pa.array(list(values) if values.dtype == object else values, type=pa.int64()))
        else:
            arrays.append(text_array(values))
    return pa.Table.from_arrays(arrays, names=[c.name for c in table.columns])


def _insert(conn: sa.Connection, table: sa.Table, payload) -> None:
    names = [c.name for c in table.columns]
    backend = conn.dialect.name
    raw = conn.connection.driver_connection
    col_list = ", ".join(names)
    if backend == "duckdb":
        casts = ", ".join(f"cast({c.name} as {_duck_type(c)}) as {c.name}" for c in table.columns)
        view = f"_sample_{table.name}"
        raw.register(view, payload)
        try:
            raw.execute(f"insert into {table.name} ({col_list}) select {casts} from {view}")
        finally:
            raw.unregister(view)
        return
    if backend == "postgresql":
        buf = pa.BufferOutputStream()
        pa_csv.write_csv(payload, buf, pa_csv.WriteOptions(quoting_style="needed"))
        data = buf.getvalue().to_pybytes()
        sql = f"copy {table.name} ({col_list}) from stdin with (format csv, header true)"
        cursor = raw.cursor()
        try:
            if hasattr(cursor, "copy_expert"):  # psycopg2
                cursor.copy_expert(sql, io.BytesIO(data))
            else:  # psycopg 3
                with cursor.copy(sql) as copy:
                    copy.write(data)
        finally:
            cursor.close()
        return
    marks = ", ".join("?" if backend == "sqlite" else "%s" for _ in names)
    cursor = raw.cursor()
    try:
        cursor.executemany(f"insert into {table.name} ({col_list}) values ({marks})",
                           zip(*(payload[name] for name in names), strict=True))
    finally:
        cursor.close()


def _duck_type(column: sa.Column) -> str:
    t = column.type
    if isinstance(t, sa.DateTime):
        return "timestamptz"
    if isinstance(t, sa.Numeric):
        return "decimal(18, 3)"
    if isinstance(t, sa.Boolean):
        return "boolean"
    if isinstance(t, sa.Integer):
        return "integer"
    return "varchar"
