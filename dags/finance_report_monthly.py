"""
### Finance report (month close)

Runs at 00:00 UTC on the 1st for the month that just ended (its data interval), or by hand with a
month in the form (`YYYY-MM`). Builds the same report as the daily `finance_report` over all the
month's windows — totals, reconciliation states and exceptions, clean sales (R8), recovered and
unrecovered revenue, R1/R2/R12 lists, duplicate charges, trend against the 30 windows before — archives
it to `{output}/reports/YYYY-MM/` and emails it to `payrecon_report_recipients` through `smtp_default`.
The report says how many of the month's windows were reconciled when it was built.

**Owner:** data team; finance reads it at month close. **On failure:** clear the task; the build only
reads the warehouse, and a failed send retries from the archived email.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from payrecon.airflow_adapter import EMBEDDED_WRITER_POOL, default_args, month_params


@dag(
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "reports", "finance", "month-close"],
    default_args=default_args(),
    params=month_params(),
    doc_md=__doc__,
)
def finance_report_monthly():
    @task(pool=EMBEDDED_WRITER_POOL)
    def build_report(**context) -> list[dict]:
        from payrecon.report_tasks import build_month_report

        return build_month_report(context)

    @task
    def email_report(built: list[dict]) -> dict:
        from payrecon.report_tasks import email_reports

        return email_reports(built)

    email_report(build_report())


finance_report_monthly()
