"""The commerce database has exactly the contract's tables and columns, exact money and UTC times, on
SQLite (default), DuckDB and PostgreSQL."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from payrecon.money import exponent
from payrecon.sample_data import generate
from payrecon.settings import PROJECT_ROOT

MONEY = {"products": ("price", "currency"), "orders": ("total", "currency"), "payment_attempts": ("amount", "currency")}
TIMES = {
    "customers": ("created_at", "updated_at"), "products": ("updated_at",),
    "subscriptions": ("created_at", "updated_at"), "orders": ("created_at", "updated_at"),
    "payment_attempts": ("attempted_at", "updated_at"),
}


def contract_columns() -> dict[str, list[str]]:
    """Section 1 of docs/CONTRACT.md, parsed: table -> column names in order."""
    text = (PROJECT_ROOT / "docs" / "CONTRACT.md").read_text()
    section = text.split("## 1.")[1].split("## 2.")[0]
    tables = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        spec = re.sub(r"\([^)]*\)", "", cells[1])
        tables[cells[0].strip("`")] = [part.strip().split("`")[1] for part in spec.split(",") if "`" in part]
    return tables


def _columns(url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(url)
    if engine.dialect.name == "duckdb":  # duckdb_engine's inspector speaks pg_catalog; ask DuckDB directly
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "select table_name, column_name from information_schema.columns order by table_name, ordinal_position"
            )).all()
        out: dict[str, list[str]] = {}
        for table, column in rows:
            out.setdefault(table, []).append(column)
    else:
        inspector = sa.inspect(engine)
        out = {t: [c["name"] for c in inspector.get_columns(t)] for t in inspector.get_table_names()}
    engine.dispose()
    return out


def test_contract_parser_sees_five_tables() -> None:
    tables = contract_columns()
    assert set(tables) == {"customers", "products", "subscriptions", "orders", "payment_attempts"}
    assert tables["orders"][:3] == ["order_id", "customer_id", "product_id"]
    assert "card_last4" in tables["payment_attempts"]


def test_sqlite_has_the_contract_columns(scenario) -> None:
    _, summary = scenario
    assert summary.commerce_url.startswith("sqlite:///")
    assert _columns(summary.commerce_url) == contract_columns()


def test_stored_money_and_times_are_exact(commerce) -> None:
    for table, (amount, currency) in MONEY.items():
        frame = commerce[table]
        for value, cur in zip(frame[amount], frame[currency], strict=True):
            assert -Decimal(value).as_tuple().exponent <= exponent(cur), (table, value, cur)
    for table, cols in TIMES.items():
        for col in cols:
            assert commerce[table][col].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00").all(), (table, col)
    attempts = commerce["payment_attempts"].merge(commerce["orders"], on="order_id", suffixes=("", "_order"))
    assert (attempts["amount"].map(Decimal) == attempts["total"].map(Decimal)).all()


def test_duckdb_has_the_contract_columns_and_types(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'commerce.duckdb'}"
    summary = generate(tmp_path, "2026-11-01", 2, 60, seed=5, commerce_url=url)
    assert summary.commerce_url == url and not (tmp_path / "commerce.sqlite").exists()
    assert _columns(url) == contract_columns()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        types = dict(conn.execute(sa.text(
            "select column_name, data_type from information_schema.columns where table_name = 'orders'"
        )).all())
        kwd = conn.execute(sa.text("select price from products where currency = 'KWD' limit 1")).scalar()
        n = conn.execute(sa.text("select count(*) from orders")).scalar()
    engine.dispose()
    assert types["total"].startswith("DECIMAL") and types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["auto_charge"] == "BOOLEAN" and isinstance(kwd, Decimal) and -kwd.as_tuple().exponent == 3
    assert n == 120 == summary.table_counts["orders"]


@pytest.mark.postgres
def test_postgres_has_the_contract_columns(tmp_path: Path, pg_url: str) -> None:
    summary = generate(tmp_path, "2026-11-01", 2, 60, seed=5, commerce_url=pg_url)
    assert _columns(pg_url) == contract_columns()
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        orders = pd.read_sql(sa.text("select total::text as total, currency, created_at from orders"), conn)
        nulls = conn.execute(sa.text("select count(*) from payment_attempts where decline_code = ''")).scalar()
    engine.dispose()
    assert len(orders) == summary.table_counts["orders"] and nulls == 0
    assert all(-Decimal(t).as_tuple().exponent == exponent(c) for t, c in zip(orders["total"], orders["currency"],
                                                                               strict=True))
    assert str(orders["created_at"].dt.tz) == "UTC"
