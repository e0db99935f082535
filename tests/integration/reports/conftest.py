"""A small generated merchant taken through the capabilities (landing, pull, reconciliation, rules,
linking) once per session, without Airflow: the warehouse the report tests read.

A few follow-ups are put in the outbox by hand (the follow-ups capability is tested on its own), so
attribution has something to attribute: for each of the first purchases that converted after a
failure, an email sent between the failure and the payment, and a later one sent after it.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from payrecon.settings import Settings, Window

START = "2026-11-01"
DAYS = 3
ORDERS_PER_DAY = 150


@dataclass(frozen=True)
class Merchant:
    url: str
    windows: list[Window]
    touched: list[dict]  # the hand-made follow-ups: purchase, order, paid_at, sent_at


def _windows() -> list[Window]:
    first = date.fromisoformat(START)
    return [Window.day((first + timedelta(days=i)).isoformat()) for i in range(DAYS)]


def build_warehouse(base: Path, url: str) -> list[Window]:
    from payrecon.commerce.pull import pull_incremental
    from payrecon.ingestion.landing import land_window
    from payrecon.linking.link import link
    from payrecon.linking.settings import LinkSettings
    from payrecon.reconciliation.reconcile import reconcile
    from payrecon.rules.decide import decide
    from payrecon.rules.settings import RuleSettings
    from payrecon.sample_data import generate
    from payrecon.settings import ReconSettings
    from payrecon.warehouse.engine import warehouse
    from payrecon.warehouse.migrate import upgrade

    generate(base, date.fromisoformat(START), DAYS, ORDERS_PER_DAY, seed=23)
    settings = Settings(warehouse_url=url, commerce_url=f"sqlite:///{base / 'commerce.sqlite'}",
                        inbox_dir=base / "inbox", output_dir=base / "output")
    windows = _windows()
    with warehouse(url) as engine, warehouse(settings.commerce_url) as commerce:
        upgrade(engine)
        for window in windows:
            land_window(engine, settings, window)
            pull_incremental(commerce, engine, window.end)
            reconcile(engine, [window], ReconSettings())
            decide(engine, [window], RuleSettings(auto_charge=True), run_id="report-tests")
            link(engine, [window], LinkSettings())
    return windows


def add_followups(url: str, limit: int = 3) -> list[dict]:
    """Sent follow-ups for the first `limit` purchases that converted after a failure."""
    from payrecon.warehouse.engine import warehouse

    with warehouse(url) as engine, engine.begin() as conn:
        rows = conn.execute(sa.text(
            """
            select p.purchase_id, l.order_id, p.first_attempt_at, p.converted_at, o.customer_id
            from purchases as p
            inner join attempt_links as l on l.purchase_id = p.purchase_id and l.role = 'failed_attempt'
            inner join orders as o on o.order_id = l.order_id
            where p.failed_attempts > 0 and p.converted_at is not null
              and p.converted_at - p.first_attempt_at > interval '20 minutes'
            order by p.converted_at, p.purchase_id
            limit :n
            """
        ), {"n": limit}).mappings().all()
        touched = []
        for r in rows:
            sent_at = r["first_attempt_at"] + (r["converted_at"] - r["first_attempt_at"]) / 2
            for when, action in ((sent_at, "apology_email"),
                                 (r["converted_at"] + timedelta(hours=1), "late_email")):
                key = f"failed_purchase:{r['order_id']}:{action}"
                conn.execute(sa.text(
                    """
                    insert into followup_outbox (
                        outbox_id, idempotency_key, event_kind, event_at, subject_ref, order_id, purchase_id,
                        customer_id, action_id, channel, template, recipient, cancellable, status, attempts,
                        next_attempt_at, sent_at, done_at, planned_at
                    ) values (
                        :id, :key, 'failed_purchase', :event_at, :order_id, :order_id, :purchase_id,
                        :customer_id, :action, 'email', 'email/failed_purchase.j2', 'buyer@example.com', true,
                        'sent', 1, :sent_at, :sent_at, :sent_at, :event_at
                    )
                    """
                ), {"id": hashlib.md5(key.encode()).hexdigest(), "key": key, "event_at": r["first_attempt_at"], "order_id": r["order_id"],
                    "purchase_id": r["purchase_id"], "customer_id": r["customer_id"], "action": action,
                    "sent_at": when})
            touched.append({"purchase_id": r["purchase_id"], "order_id": r["order_id"],
                            "paid_at": r["converted_at"], "sent_at": sent_at})
    return touched


@pytest.fixture(scope="session")
def merchant(tmp_path_factory: pytest.TempPathFactory) -> Merchant:
    base = tmp_path_factory.mktemp("report_merchant")
    url = f"duckdb:///{base / 'warehouse.duckdb'}"
    windows = build_warehouse(base, url)
    touched = add_followups(url)
    return Merchant(url, windows, touched)


@pytest.fixture
def merchant_copy(merchant: Merchant, tmp_path: Path) -> Merchant:
    """A private copy of the merchant's warehouse file, for tests that change it."""
    src = Path(merchant.url.removeprefix("duckdb:///"))
    dst = tmp_path / "warehouse.duckdb"
    shutil.copy(src, dst)
    return Merchant(f"duckdb:///{dst}", merchant.windows, merchant.touched)


COPIED_TABLES = (
    "orders", "payment_attempts", "products", "customers", "settlement_lines", "reconciliation_results",
    "reconciliation_windows", "order_decisions", "retry_list", "purchases", "attempt_links",
    "duplicate_charges", "followup_outbox",
)


def copy_warehouse(src_url: str, dst_url: str) -> None:
    """The tables the report reads, copied into a migrated warehouse on another engine (bulk COPY)."""
    import pandas as pd

    from payrecon.warehouse.bulk import insert_frame
    from payrecon.warehouse.engine import warehouse
    from payrecon.warehouse.migrate import upgrade

    with warehouse(src_url) as src, warehouse(dst_url) as dst:
        upgrade(dst)
        with src.connect() as s, dst.begin() as d:
            for table in COPIED_TABLES:
                result = s.execute(sa.text(f"select * from {table}"))  # noqa: S608 - fixed names
                frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype="object")
                insert_frame(d, table, frame)


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def report_url(request: pytest.FixtureRequest, merchant: Merchant) -> Iterator[str]:
    """The merchant's warehouse on each engine: the DuckDB file itself, or a PostgreSQL copy."""
    if request.param == "duckdb":
        yield merchant.url
        return
    from tests.conftest import create_pg_database, drop_pg_database, pg_available

    if not pg_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432")
    name, url = create_pg_database()
    try:
        copy_warehouse(merchant.url, url)
        yield url
    finally:
        drop_pg_database(name)
