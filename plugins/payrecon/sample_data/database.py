"""The commerce database: the tables and columns of CONTRACT.md section 1, written in bulk.

Money is NUMERIC (exact decimals rendered from integer minor units), timestamps are timestamptz in UTC.
SQLite has neither type: it stores money under NUMERIC affinity and timestamps as ISO 8601 text with an
explicit `+00:00` offset (`2026-11-01 10:00:00+00:00`, the form Python's sqlite3 adapter writes).
Bulk paths: executemany on SQLite, a registered frame + insert-select on DuckDB, COPY on PostgreSQL.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import sqlalchemy as sa

from payrecon.sample_data.catalog import CURRENCIES, EXPONENTS
from payrecon.sample_data.config import money, timestamps
from payrecon.sample_data.orders import Commerce

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
CHUNK = 200_000


def _ts(secs) -> np.ndarray:
    return timestamps(np.asarray(secs), sep=" ", suffix="+00:00")


def _money(minor, currency) -> np.ndarray:
    cur = np.asarray(currency)
    return money(np.asarray(minor), EXPONENTS[cur])


def contract_frames(com: Commerce) -> dict[str, pd.DataFrame]:
    """The five tables in contract columns: money as exact decimal strings, times as UTC ISO strings."""
    c, p, s, o, a = com.customers, com.products, com.subscriptions, com.orders, com.attempts
    from payrecon.sample_data.catalog import GATEWAYS

    p_cur = pd.Index(CURRENCIES).get_indexer(p["currency"])
    return {
        "customers": pd.DataFrame({
            "customer_id": c["customer_id"], "first_name": c["first_name"], "last_name": c["last_name"],
            "email": c["email"], "phone": c["phone"], "created_at": _ts(c["created_s"]),
            "updated_at": _ts(c["updated_s"]),
        }),
        "products": pd.DataFrame({
            "product_id": p["product_id"], "name": p["name"], "kind": p["kind"],
            "price": _money(p["price_minor"], p_cur), "currency": p["currency"], "installments": p["installments"],
            "interval_days": p["interval_days"], "updated_at": _ts(p["updated_s"]),
        }),
        "subscriptions": pd.DataFrame({
            "subscription_id": s["subscription_id"], "customer_id": s["customer_id"], "product_id": s["product_id"],
            "kind": s["kind"], "origin": s["origin"], "status": s["status"], "created_at": _ts(s["created_s"]),
            "updated_at": _ts(s["updated_s"]),
        }),
        "orders": pd.DataFrame({
            "order_id": o["order_id"], "customer_id": o["customer_id"], "product_id": o["product_id"],
            "subscription_id": o["subscription_id"], "installment_no": o["installment_no"], "origin": o["origin"],
            "auto_charge": o["auto_charge"], "auto_charge_set_by": o["auto_charge_set_by"], "status": o["status"],
            "total": _money(o["total_minor"], o["currency"]), "currency": CURRENCIES[o["currency"].to_numpy()],
            "created_at": _ts(o["created_s"]), "updated_at": _ts(o["updated_s"]),
        }),
        "payment_attempts": pd.DataFrame({
            "attempt_id": a["attempt_id"], "order_id": a["order_id"], "attempt_no": a["attempt_no"],
            "attempted_at": _ts(a["attempted_s"]), "status": a["status"], "decline_code": a["decline_code"],
            "error_code": a["error_code"], "gateway": GATEWAYS[a["gateway"].to_numpy()],
            "gateway_charge_id": a["gateway_charge_id"], "amount": _money(a["amount_minor"], a["currency"]),
            "currency": CURRENCIES[a["currency"].to_numpy()], "card_fingerprint": a["card_fingerprint"],
            "card_brand": a["card_brand"], "card_last4": a["card_last4"], "updated_at": _ts(a["updated_s"]),
        }),
    }


def write_commerce(url: str, com: Commerce) -> dict[str, int]:
    """Replace the five commerce tables at `url` with the generated rows."""
    frames = contract_frames(com)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        metadata.drop_all(engine)
        metadata.create_all(engine)
        with engine.begin() as conn:
            for table in TABLES:
                _insert(conn, table, frames[table.name])
    finally:
        engine.dispose()
    return {name: len(frame) for name, frame in frames.items()}


def _column_values(series: pd.Series, column: sa.Column) -> list:
    """Python values for a DB-API driver: None for missing, int for booleans on SQLite."""
    if isinstance(column.type, sa.Boolean):
        return series.astype(int).tolist()
    obj = series.astype(object)
    return obj.where(series.notna(), None).tolist()


def _insert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    names = [c.name for c in table.columns]
    frame = frame[names]
    backend = conn.dialect.name
    raw = conn.connection.driver_connection
    col_list = ", ".join(names)
    if backend == "duckdb":
        casts = ", ".join(f"cast({n} as {_duck_type(c)}) as {n}" for n, c in zip(names, table.columns, strict=True))
        view = f"_sample_{table.name}"
        for start in range(0, len(frame), 1_000_000):
            raw.register(view, frame.iloc[start : start + 1_000_000])
            try:
                raw.execute(f"insert into {table.name} ({col_list}) select {casts} from {view}")
            finally:
                raw.unregister(view)
        return
    if backend == "postgresql":
        cursor = raw.cursor()
        try:
            sql = f"copy {table.name} ({col_list}) from stdin with (format csv, null '\\N')"
            for start in range(0, len(frame), CHUNK):
                buf = io.StringIO()
                frame.iloc[start : start + CHUNK].to_csv(buf, index=False, header=False, na_rep="\\N")
                if hasattr(cursor, "copy_expert"):  # psycopg2
                    buf.seek(0)
                    cursor.copy_expert(sql, buf)
                else:  # psycopg 3
                    with cursor.copy(sql) as copy:
                        copy.write(buf.getvalue())
        finally:
            cursor.close()
        return
    marks = ", ".join("?" if backend == "sqlite" else "%s" for _ in names)
    cursor = raw.cursor()
    try:
        for start in range(0, len(frame), CHUNK):
            part = frame.iloc[start : start + CHUNK]
            cols = [_column_values(part[n], c) for n, c in zip(names, table.columns, strict=True)]
            cursor.executemany(f"insert into {table.name} ({col_list}) values ({marks})", list(zip(*cols, strict=True)))
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
