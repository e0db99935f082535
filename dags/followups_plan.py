"""
### Follow-ups: plan

Runs when the order rules and purchase links of a window are ready (Asset), or by hand with a window
in the form. Turns the window's events (successful, failed and error purchases, new contacts, offline
orders) into rows of the `followup_outbox` queue, one per action of the configured action sets
(`include/config/actions.yaml`, R9-R12), starts journeys (R11, R13), refreshes the `offline_orders`
report and cancels what customers have since paid for. Nothing is sent here: the dispatcher does it.
Every row has a natural key, so a re-run or a backfill never queues twice (R15).

**Owner:** data team; support and finance read the tasks it queues. **On failure:** a bad
`actions.yaml` fails with the entry named; each window is one transaction, so fix and clear the task.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from payrecon.airflow_adapter import (
    EMBEDDED_WRITER_POOL,
    FOLLOWUPS_ASSET,
    ORDER_RULES_ASSET,
    default_args,
    window_params,
)

FOLLOWUPS = Asset(FOLLOWUPS_ASSET)


@dag(
    schedule=[Asset(ORDER_RULES_ASSET)],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "followups"],
    default_args=default_args(pool=EMBEDDED_WRITER_POOL),
    params=window_params(),
    doc_md=__doc__,
)
def followups_plan():
    @task(outlets=[FOLLOWUPS])
    def plan_followups(**context) -> list[dict]:
        from payrecon.followup_tasks import plan_followups

        return plan_followups(context, FOLLOWUPS)

    @task
    def report(planned: list[dict]) -> dict:
        from payrecon.followup_tasks import followups_report

        return followups_report()

    report(plan_followups())


followups_plan()
