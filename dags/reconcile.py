"""
### Reconcile

Runs when both settlements and orders have landed for a window (Assets), or by hand with a window in
the form. Gives every settlement line and every order of each window exactly one state (R14) in
`reconciliation_results`, then writes the per-window CSV and summary for finance to the output folder.
Re-running a window gives the same rows (R15).

**Owner:** data team; finance reads the output. **On failure:** an invariant violation names the window
and how many items lack a state; nothing of that window is published.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from payrecon.airflow_adapter import (
    EMBEDDED_WRITER_POOL,
    ORDERS_ASSET,
    RECONCILIATION_ASSET,
    SETTLEMENTS_ASSET,
    default_args,
    window_params,
)

RECONCILIATION = Asset(RECONCILIATION_ASSET)


@dag(
    schedule=(Asset(SETTLEMENTS_ASSET) & Asset(ORDERS_ASSET)),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "reconciliation"],
    default_args=default_args(pool=EMBEDDED_WRITER_POOL),
    params=window_params(),
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
