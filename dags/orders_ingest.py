"""
### Orders in

Pulls customers, products, subscriptions, orders and payment attempts from the merchant's commerce
database (`commerce_db` connection) incrementally by `updated_at` watermark, up to the end of the run's
window, and upserts them by key: late edits are picked up, re-runs change nothing. One transaction.

**By hand / backfill:** the Params form takes a window or range and `dry_run` (count, roll back, end
Skipped); `airflow backfill create --dag-id orders_ingest … --max-active-runs 1` (windows share the
watermarks).

**Owner:** data team. **On failure:** a missing table or column is named in the log (see
`docs/CONTRACT.md`); fix the source or the connection, then clear the task. The team is alerted when a
task or the run fails. Runbook: `docs/RUNBOOK.md`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task

from payrecon.airflow_adapter import (
    EMBEDDED_WRITER_POOL,
    ORDERS_ASSET,
    alert_dag_failure,
    default_args,
    window_params,
)

ORDERS = Asset(ORDERS_ASSET)


@dag(
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "ingestion"],
    default_args=default_args(pool=EMBEDDED_WRITER_POOL),
    params=window_params(),
    on_failure_callback=alert_dag_failure,
    doc_md=__doc__,
)
def orders_ingest():
    @task(outlets=[ORDERS])
    def pull_commerce_changes(**context) -> dict:
        from payrecon.tasks import pull_orders

        return pull_orders(context, ORDERS)

    pull_commerce_changes()


orders_ingest()
