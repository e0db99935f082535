"""
### Month close (finance)

On the 1st of each month for the month before (its data interval), or by hand for any month in the
form: applies the exceptions workbooks dropped in `{inbox}/resolutions/`, then proves every settlement
line, payout and order of the month is in a final state or an explained (resolved) exception, and that
every day of the month went through reconciliation and the finance step. Writes the close pack to
`{output_dir}/close/{YYYY-MM}/`: `close.json`, `summary.csv`, `blocking_items.csv`, `exceptions.xlsx`,
`write_offs.csv`, `fee_variances.csv`, `fx_differences.csv`, `payouts.csv`, `bank_lines_unmatched.csv`.
Re-running a close changes nothing.

**Owner:** finance. **On failure:** the month is blocked: `blocking_items.csv` lists what is neither final
nor explained; resolve them in `exceptions.xlsx` (drop it back) or the resolve_exception form, then clear
the run. Set `fail_when_blocked` off to produce the pack without failing.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from payrecon.airflow_adapter import EMBEDDED_WRITER_POOL, default_args, month_close_params


@dag(
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "finance", "close"],
    default_args=default_args(owner="finance", pool=EMBEDDED_WRITER_POOL),
    params=month_close_params(),
    doc_md=__doc__,
)
def month_close():
    @task
    def apply_resolution_workbooks(**context) -> dict:
        from payrecon.finance_tasks import apply_resolution_workbooks

        return apply_resolution_workbooks(context)

    @task
    def close(applied: dict, **context) -> dict:
        from payrecon.finance_tasks import close_month_from_context

        return close_month_from_context(context)

    @task
    def prove_closed(result: dict, **context) -> dict:
        from payrecon.finance_tasks import assert_closed

        return assert_closed(result, context)

    prove_closed(close(apply_resolution_workbooks()))


month_close()
