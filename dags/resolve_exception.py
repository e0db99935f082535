"""
### Resolve an exception (finance)

A form for finance, no SQL: pick the exception id from the exceptions workbook, choose what to do —
`force_match` (with a note), `write_off` (with a note; an amount in major units, or empty for the
exception's amount), `dispute`, `refund`, `reopen` (undo), or `assign` (a new owner) — and give your
name. The decision is appended to the audit log (`exception_resolutions`, never edited) and applied at
once; every later run keeps it. Left without an exception id, the run applies the workbooks dropped in
`{inbox}/resolutions/` instead.

**Owner:** finance (the form), data team (the DAG). **On failure:** the log names why the decision was
refused (unknown id, missing note or name); nothing was recorded.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from payrecon.airflow_adapter import EMBEDDED_WRITER_POOL, default_args, resolve_params


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "finance"],
    default_args=default_args(owner="finance", pool=EMBEDDED_WRITER_POOL),
    params=resolve_params(),
    doc_md=__doc__,
)
def resolve_exception():
    @task
    def record_resolution(**context) -> dict:
        from payrecon.finance_tasks import resolve_from_context

        return resolve_from_context(context)

    record_resolution()


resolve_exception()
