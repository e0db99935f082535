"""The whole chain through `dag.test()`, on the embedded default and on PostgreSQL.

Reconciliation states must agree 100% with the generator's ground truth on a scenario holding every
state, and a second run of the same windows must change no row (R14, R15).
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from payrecon.settings import Window

START = "2026-11-01"
DAYS = 5
FOUNDATION_DAGS = ("settlements_ingest", "orders_ingest", "reconcile")


def _windows() -> list[Window]:
    first = date.fromisoformat(START)
    return [Window.day((first + timedelta(days=i)).isoformat()) for i in range(DAYS)]


def _table_snapshot(url: str, tables: list[str]) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    snap = {}
    with engine.connect() as conn:
        for table in tables:
            rows = conn.execute(sa.text(f"select * from {table}")).all()  # noqa: S608 - fixed names
            snap[table] = sorted(tuple(str(v) for v in row) for row in rows)
    engine.dispose()
    return snap


def _compare_with_truth(url: str, truth_dir: Path) -> tuple[int, int, list[str]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        lines = pd.read_sql(
            sa.text(
                "select l.gateway, l.source_ref, r.state from settlement_lines l "
                "join reconciliation_results r on r.item_type = 'settlement_line' and r.item_id = l.line_id"
            ),
            conn,
        )
        orders = pd.read_sql(
            sa.text("select item_id as order_id, state from reconciliation_results where item_type = 'order'"), conn
        )
    engine.dispose()
    truth_lines = pd.read_csv(truth_dir / "settlement_lines.csv", dtype=str)
    truth_orders = pd.read_csv(truth_dir / "orders.csv", dtype=str)
    problems = []
    got_lines = truth_lines.merge(lines, on=["gateway", "source_ref"], how="left")
    bad = got_lines[got_lines["state"] != got_lines["expected_state"]]
    problems += [f"line {r.gateway}/{r.source_ref}: {r.state} != {r.expected_state}" for r in bad.itertuples()]
    got_orders = truth_orders.merge(orders, on="order_id", how="left")
    bad = got_orders[got_orders["state"] != got_orders["expected_state"]]
    problems += [f"order {r.order_id}: {r.state} != {r.expected_state}" for r in bad.itertuples()]
    return len(truth_lines), len(truth_orders), problems


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from payrecon.sample_data import generate

    out = tmp_path_factory.mktemp("scenario")
    generate(out, date.fromisoformat(START), DAYS, 200, seed=11)
    return out


def _run_chain(tmp_path: Path, scenario: Path, warehouse_url: str) -> None:
    from scripts.pipeline import configure_environment, init_airflow_db, run_windows

    configure_environment(
        airflow_home=None,
        warehouse_url=warehouse_url,
        commerce_url=f"sqlite:///{scenario / 'commerce.sqlite'}",
        inbox_dir=scenario / "inbox",
        output_dir=tmp_path / "output",
    )
    init_airflow_db()
    run_windows(_windows(), FOUNDATION_DAGS)


@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_chain_agrees_with_ground_truth_and_reruns_change_nothing(
    backend: str, tmp_path: Path, scenario: Path, request: pytest.FixtureRequest
) -> None:
    from scripts.pipeline import run_windows

    if backend == "duckdb":
        url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    else:
        url = request.getfixturevalue("pg_url")
    saved = dict(os.environ)
    try:
        _run_chain(tmp_path, scenario, url)
        n_lines, n_orders, problems = _compare_with_truth(url, scenario / "truth")
        print(f"{backend}: {n_lines} settlement lines, {n_orders} orders checked against ground truth")
        assert problems == [], "\n".join(problems[:20])
        states = pd.read_csv(scenario / "truth" / "orders.csv")["expected_state"].unique()
        assert {"matched", "pending", "failed_attempt", "offline"} <= set(states)

        tables = ["settlement_lines", "quarantine", "landed_files", "orders", "payment_attempts",
                  "customers", "reconciliation_results", "reconciliation_windows"]
        first = _table_snapshot(url, tables)
        run_windows(_windows(), FOUNDATION_DAGS)
        assert _table_snapshot(url, tables) == first
        out = tmp_path / "output" / "reconciliation" / START
        assert (out / "reconciliation.csv").is_file() and (out / "summary.csv").is_file()
    finally:
        os.environ.clear()
        os.environ.update(saved)
