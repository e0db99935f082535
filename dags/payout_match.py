"""
### Payout match (finance)

Runs after reconciliation (Asset), or by hand with a window in the form. For each window: applies the
exceptions workbooks finance dropped in `{inbox}/resolutions/`, lands the bank statements of
`{inbox}/bank/{date}/` (CSV export, CAMT.053), then in one transaction per window ties payouts to their
lines and to bank deposits, matches orders to settlement lines one-to-one, one-to-many and
many-to-one, writes off differences within the merchant's tolerances (`include/config/tolerances.yaml`),
checks fees against `include/config/fee_schedules.yaml`, reports FX differences, and raises and ages the
exceptions. Writes `{output_dir}/finance/{date}/exceptions.xlsx` and `payouts.csv`. Re-running a window
gives the same rows and keeps every hand-made resolution (R15).

**Owner:** data team; finance works the exceptions. **On failure:** a config error names the file and
field; an invariant violation names the window, which is then left as it was.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from payrecon.airflow_adapter import (
    EMBEDDED_WRITER_POOL,
    FINANCE_ASSET,
    RECONCILIATION_ASSET,
    default_args,
    window_params,
)

FINANCE = Asset(FINANCE_ASSET)


@dag(
    schedule=[Asset(RECONCILIATION_ASSET)],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "finance"],
    default_args=default_args(pool=EMBEDDED_WRITER_POOL),
    params=window_params(),
    doc_md=__doc__,
)
def payout_match():
    @task
    def apply_resolution_workbooks(**context) -> dict:
        from payrecon.finance_tasks import apply_resolution_workbooks

        return apply_resolution_workbooks(context)

    @task
    def match_windows(applied: dict, **context) -> list[dict]:
        from payrecon.finance_tasks import match_windows

        return match_windows(context)

    @task(outlets=[FINANCE])
    def publish_finance(results: list[dict], **context) -> list[str]:
        from payrecon.finance_tasks import publish_finance

        return publish_finance(results, context, FINANCE)

    publish_finance(match_windows(apply_resolution_workbooks()))


payout_match()
