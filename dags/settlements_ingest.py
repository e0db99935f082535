"""
### Settlements in

Lands every gateway settlement file whose report date falls in the run's window
(`{inbox}/{gateway}/{YYYY-MM-DD}/*.csv`), validates each line, and loads good lines into
`settlement_lines`; bad lines go to `quarantine` with file, line, field and reason. A file is landed
once (SHA-256 manifest): re-running a window is a no-op. A window lands in one transaction: all of its
files or none.

**By hand / backfill:** the Params form takes a window or range, `gateway` (land only that folder) and
`dry_run` (count, roll back, end Skipped); `airflow backfill create --dag-id settlements_ingest …`.

**Owner:** data team. **On failure:** read the task log: a file that could not be read at all is
named there and in `quarantine` (line 0). Fix or replace the file, then clear the task; lines
quarantined by a since-fixed problem are released with `python -m payrecon.ops release-quarantine`.
The team is alerted when a task or the run fails. Runbook: `docs/RUNBOOK.md`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task

from payrecon.airflow_adapter import (
    EMBEDDED_WRITER_POOL,
    SETTLEMENTS_ASSET,
    alert_dag_failure,
    default_args,
    window_params,
)

SETTLEMENTS = Asset(SETTLEMENTS_ASSET)


@dag(
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    tags=["payrecon", "ingestion"],
    default_args=default_args(pool=EMBEDDED_WRITER_POOL),
    params=window_params(),
    on_failure_callback=alert_dag_failure,
    doc_md=__doc__,
)
def settlements_ingest():
    @task(outlets=[SETTLEMENTS])
    def land_settlement_files(**context) -> dict:
        from payrecon.tasks import land_settlements

        return land_settlements(context, SETTLEMENTS)

    land_settlement_files()


settlements_ingest()
