"""
### Reconcile

Runs when both settlements and orders have landed for a window (Assets), or by hand with a window in
the form. Gives every settlement line and every order of each window exactly one state (R14) in
`reconciliation_results`, then writes the per-window CSV and summary for finance to the output folder.
Re-running a window gives the same rows (R15).

**Runs:** asset-triggered (both inputs landed); by hand with the Params form (window or range of days,
`gateway` to log one gateway's line states, `dry_run` to compute and roll back); or
`airflow backfill create --dag-id reconcile --from-date … --to-date …` (the daily timetable below only
gives backfill runs their day windows: scheduled runs are not allowed, the assets start the daily run).

**Owner:** data team; finance reads the output. **On failure:** an invariant violation names the window
and how many items lack a state; nothing of that window is published. The team is alerted when a task
fails, when the run fails, and when a run has not finished 2 hours after it was queued (deadline).
Runbook: `docs/RUNBOOK.md`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronDataIntervalTimetable, dag, task

from payrecon.airflow_adapter import (
    EMBEDDED_WRITER_POOL,
    ORDERS_ASSET,
    RECONCILIATION_ASSET,
    SETTLEMENTS_ASSET,
    alert_dag_failure,
    deadline_alert,
    default_args,
    window_params,
)

RECONCILIATION = Asset(RECONCILIATION_ASSET)
DEADLINE_HOURS = 2


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
        assets=(Asset(SETTLEMENTS_ASSET) & Asset(ORDERS_ASSET)),
    ),
    allowed_run_types=["asset_triggered", "manual", "backfill"],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "reconciliation"],
    default_args=default_args(pool=EMBEDDED_WRITER_POOL),
    params=window_params(),
    on_failure_callback=alert_dag_failure,
    deadline=deadline_alert(DEADLINE_HOURS, "reconcile has not finished"),
    doc_md=__doc__,
)
def reconcile():
    @task
    def reconcile_windows(**context) -> list[dict]:
        from payrecon.tasks import reconcile_from_context

        return reconcile_from_context(context)

    @task(outlets=[RECONCILIATION])
    def publish_outputs(results: list[dict], **context) -> list[str]:
        from payrecon.tasks import publish_reconciliation

        return publish_reconciliation(results, context, RECONCILIATION)

    publish_outputs(reconcile_windows())


reconcile()
