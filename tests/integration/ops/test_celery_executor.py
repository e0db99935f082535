"""The pipeline on CeleryExecutor for real: api-server, scheduler, dag-processor and a Celery worker as
processes, on a throwaway PostgreSQL metadata database and a dedicated Redis DB number.

The runbook's backfill, step by step: with `reconcile` paused, a 3-day `airflow backfill create` of the
two ingestion DAGs lands a generated merchant's settlements and orders in a PostgreSQL warehouse; then
`airflow backfill create --dag-id reconcile` (an asset-scheduled DAG, backfillable through its daily
timetable) reconciles the same days, and its asset events start `order_rules` on the worker. Every run
must succeed, reconciliation must agree with the generator's ground truth, and the reconcile deadline
(shortened to one second here) must alert the team webhook through a callback run by the Celery worker.
Everything is shut down (process groups killed) whatever happens.

Twice: on a PostgreSQL warehouse (pool `warehouse_writer` with 4 slots), and on the embedded DuckDB
warehouse, which takes one writing process at a time: there the pool has 1 slot and the parallel
backfill runs of `settlements_ingest` must queue in the pool instead of failing on the file lock.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from opskit import pg_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]  # the metadata DB is PostgreSQL in both cases

DAYS = 3
ORDERS_PER_DAY = 40
RUNNING_DAGS = ("settlements_ingest", "orders_ingest", "reconcile", "order_rules")


def _days() -> list[date]:
    """The last full UTC days: backfills only take past intervals."""
    today = datetime.now(UTC).date()
    return [today - timedelta(days=DAYS - i) for i in range(DAYS)]


def _settled(stack, since: datetime) -> dict[str, list]:  # noqa: ANN001
    runs = [r for r in stack.runs(RUNNING_DAGS) if r.queued_at is None or r.queued_at >= since]
    out: dict[str, list] = {}
    for r in runs:
        out.setdefault(r.state, []).append(f"{r.dag_id}/{r.run_id}")
    return out


def _fail_on_failed_runs(stack) -> None:  # noqa: ANN001
    failed = [f"{r.dag_id}/{r.run_id}" for r in stack.runs(RUNNING_DAGS) if r.state == "failed"]
    if failed:
        raise AssertionError(f"failed runs {failed}\n{stack.failed_task_logs()}\n{stack.tail_logs()}")


@pytest.mark.parametrize("backend", ["postgres", "duckdb"])
def test_backfill_and_asset_cascade_succeed_on_celery(backend: str, tmp_path: Path, httpserver) -> None:  # noqa: ANN001
    from payrecon.ops.local_stack import LocalStack
    from payrecon.sample_data import generate
    from payrecon.warehouse.engine import warehouse
    from payrecon.warehouse.migrate import upgrade

    began = time.monotonic()
    days = _days()
    scenario = tmp_path / "scenario"
    generate(scenario, days[0], DAYS, ORDERS_PER_DAY, seed=5)
    httpserver.expect_request("/alerts", method="POST").respond_with_json({"ok": True})

    embedded = backend == "duckdb"
    with nullcontext(f"duckdb:///{tmp_path / 'warehouse.duckdb'}") if embedded else pg_database() as warehouse_url:
        env = {
            "AIRFLOW_CONN_WAREHOUSE_DB": json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": warehouse_url}}),
            "AIRFLOW_CONN_COMMERCE_DB": json.dumps(
                {"conn_type": "generic", "extra": {"sqlalchemy_url": f"sqlite:///{scenario / 'commerce.sqlite'}"}}
            ),
            "AIRFLOW_CONN_PAYRECON_ALERTS": json.dumps({"conn_type": "http", "host": httpserver.url_for("/")}),
            "AIRFLOW_VAR_PAYRECON_INBOX_DIR": str(scenario / "inbox"),
            "AIRFLOW_VAR_PAYRECON_OUTPUT_DIR": str(tmp_path / "output"),
            "PAYRECON_DEADLINE_HOURS_OVERRIDE": str(1 / 3600),  # reconcile "late" after one second
        }
        with LocalStack(tmp_path / "stack", executor="CeleryExecutor", extra_env=env,
                        redis_db=13 if embedded else 14) as stack:
            stack.init(pool_slots=1 if embedded else 4)
            with warehouse(warehouse_url) as engine:  # what compose's airflow-init does
                upgrade(engine)
            stack.start()
            stack.wait_for_dags(RUNNING_DAGS, timeout=120)
            started = datetime.now(UTC)
            first, last = days[0].isoformat(), days[-1].isoformat()
            for dag_id, parallel in (("settlements_ingest", "3"), ("orders_ingest", "1")):  # orders: shared watermarks
                stack.airflow("backfill", "create", "--dag-id", dag_id, "--from-date", first, "--to-date", last,
                              "--max-active-runs", parallel)
            stack.airflow("dags", "unpause", "--treat-dag-id-as-regex", "-y",
                          "^(settlements_ingest|orders_ingest|order_rules)$")  # reconcile stays paused

            def ingested() -> bool:
                _fail_on_failed_runs(stack)
                stack.check_alive()
                backfilled = [r for r in stack.runs(("settlements_ingest", "orders_ingest"))
                              if r.run_type == "backfill"]
                return len(backfilled) == 2 * DAYS and all(r.state == "success" for r in backfilled)

            try:
                stack.wait_until(ingested, 120, "the ingestion backfills to succeed", poll=1)
            except TimeoutError as exc:
                raise AssertionError(f"runs by state: {_settled(stack, started)}\n{exc}") from None
            ingest_seconds = time.monotonic() - began

            stack.airflow("dags", "unpause", "reconcile")
            stack.airflow("backfill", "create", "--dag-id", "reconcile", "--from-date", first, "--to-date", last,
                          "--max-active-runs", "1")

            def reconciled_and_cascaded() -> bool:
                _fail_on_failed_runs(stack)
                stack.check_alive()
                recon = [r for r in stack.runs(("reconcile",)) if r.run_type == "backfill"]
                busy = [r for r in stack.runs(RUNNING_DAGS) if r.state in ("queued", "running")]
                rules = [r for r in stack.runs(("order_rules",)) if r.state == "success"]
                # (the embedded warehouse is not read while tasks may write: one process at a time)
                return (len(recon) == DAYS and all(r.state == "success" for r in recon) and rules and not busy
                        and (embedded or _reconciled_windows(warehouse_url) == DAYS))

            try:
                stack.wait_until(reconciled_and_cascaded, 120, "the reconcile backfill and order rules", poll=1)
            except TimeoutError as exc:
                raise AssertionError(f"runs by state: {_settled(stack, started)}\n{exc}") from None
            cascade_seconds = time.monotonic() - began
            stack.wait_until(lambda: _alerts(httpserver), 60, "a deadline alert from the Celery worker")
            # Asset events can start another order_rules run while the alert is awaited: judge settled runs only.
            stack.wait_until(lambda: not [r for r in stack.runs(RUNNING_DAGS) if r.state in ("queued", "running")],
                             60, "in-flight runs to settle", poll=1)
            # ...and one may be queued again between that wait and this read (seen on a slow machine,
            # 2026-12-07: 11 runs succeeded, 1 just queued): a run that has not ended is not judged
            runs = [r for r in stack.runs(RUNNING_DAGS) if r.state not in ("queued", "running")]
            noisy = (stack.workdir / "scheduler.log").read_text(errors="replace").count("does not allow scheduled")

        assert _reconciled_windows(warehouse_url) == DAYS
        problems = _disagreements_with_truth(warehouse_url, scenario / "truth")
    elapsed = time.monotonic() - began
    by_dag: dict[str, int] = {}
    for r in runs:
        by_dag[r.dag_id] = by_dag.get(r.dag_id, 0) + 1
    alerts = _alerts(httpserver)
    states = {s: sum(r.state == s for r in runs) for s in {r.state for r in runs}}
    print(f"celery/{backend}: {len(runs)} runs {by_dag}, by state {states}; ingested at {ingest_seconds:.0f} s, "
          f"reconciled and cascaded at {cascade_seconds:.0f} s, "
          f"whole test {elapsed:.0f} s; {len(alerts)} deadline alerts; scheduler 'no scheduled runs' lines {noisy}")
    assert all(r.state == "success" for r in runs), [f"{r.dag_id}/{r.run_id}: {r.state}" for r in runs]
    assert problems == [], "\n".join(problems[:20])
    assert alerts[0]["alert"]["kind"] == "deadline_missed" and alerts[0]["alert"]["dag_id"] == "reconcile"


def _alerts(httpserver) -> list[dict]:  # noqa: ANN001
    return [req.get_json() for req, _ in httpserver.log if req.path == "/alerts"]


def _reconciled_windows(url: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("select count(*) from reconciliation_windows")).scalar() or 0)
    except sa.exc.ProgrammingError:
        return 0
    finally:
        engine.dispose()


def _disagreements_with_truth(url: str, truth: Path) -> list[str]:
    import pandas as pd

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        got = pd.read_sql(
            sa.text("select item_id as order_id, state from reconciliation_results where item_type = 'order'"), conn
        )
    engine.dispose()
    expected = pd.read_csv(truth / "orders.csv", dtype=str).merge(got, on="order_id", how="left")
    bad = expected[expected["state"] != expected["expected_state"]]
    return [f"order {r.order_id}: {r.state} != {r.expected_state}" for r in bad.itertuples()]
