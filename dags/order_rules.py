"""
### Order rules

Runs after reconciliation (Asset), or by hand with a window in the form. For each window it classifies
every payment attempt and decides R1-R7 in SQL: failed initial orders are tagged and never retried,
failed installments go on `retry_list` only under the merchant's Auto Charge (Variable
`payrecon_auto_charge`), never after a hard decline, within a cap per card per 30 days
(`payrecon_retry_cap_per_card_30d`). Every decision is a row of `order_decisions` (inputs as JSON);
each run is logged in `decision_runs`. Then R8 links orders into `purchases` / `attempt_links` and flags
`duplicate_charges`. Re-running a window leaves identical tables (R15).

**Owner:** data team; finance reads the decisions and duplicate charges. **On failure:** each window is
one transaction, so a failed window leaves its previous decisions in place; fix and clear the task.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from payrecon.airflow_adapter import (
    EMBEDDED_WRITER_POOL,
    ORDER_RULES_ASSET,
    RECONCILIATION_ASSET,
    default_args,
    window_params,
)

ORDER_RULES = Asset(ORDER_RULES_ASSET)


@dag(
    schedule=[Asset(RECONCILIATION_ASSET)],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "rules", "linking"],
    default_args=default_args(pool=EMBEDDED_WRITER_POOL),
    params=window_params(),
    doc_md=__doc__,
)
def order_rules():
    @task
    def decide_rules(**context) -> dict:
        from payrecon.rule_tasks import decide_rules

        return decide_rules(context)

    @task(outlets=[ORDER_RULES])
    def link_purchases(decided: dict, **context) -> dict:
        from payrecon.rule_tasks import link_purchases

        return link_purchases(decided, context, ORDER_RULES)

    link_purchases(decide_rules())


order_rules()
