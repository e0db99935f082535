"""
### Finance report (daily)

Runs once a window is reconciled and its order rules and purchase links are decided (Assets), or by
hand with a window in the form. For each window it builds the finance report from the warehouse —
totals by gateway and currency, reconciliation states and the exceptions to chase, sales counted
cleanly (R8), recovered revenue by the follow-up that preceded it and what is still unrecovered,
failed initial orders (R1), the retry list (R2), offline orders (R12), duplicate charges to refund and
the trend against previous windows — and archives it to `{output}/reports/YYYY-MM-DD/` (HTML with PNG
charts, one CSV per section, an XLSX workbook, the email as .eml). It then emails it through
`smtp_default` to the Variable `payrecon_report_recipients` (comma-separated; empty: archive only).

**Owner:** data team; finance reads it. **On failure:** the build reads only, so clear the task to
re-run it; a failed send retries from the archived email without rebuilding.
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


@dag(
    schedule=(Asset(RECONCILIATION_ASSET) & Asset(ORDER_RULES_ASSET)),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "reports", "finance"],
    default_args=default_args(),
    params=window_params(),
    doc_md=__doc__,
)
def finance_report():
    @task(pool=EMBEDDED_WRITER_POOL)
    def build_reports(**context) -> list[dict]:
        from payrecon.report_tasks import build_window_reports

        return build_window_reports(context)

    @task
    def email_reports(built: list[dict]) -> dict:
        from payrecon.report_tasks import email_reports

        return email_reports(built)

    email_reports(build_reports())


finance_report()
