"""
### Follow-ups: dispatch

Every five minutes: advances journeys whose wake-up time has come (as of the run's logical time), then
drains the `followup_outbox` queue: email through the `smtp_default` connection, SMS, CRM updates and
team tasks through the HTTP connections `payrecon_sms`, `payrecon_crm`, `payrecon_team`. Each row is
claimed before it is sent (a lease), carries a stable Message-ID / Idempotency-Key, is retried with
exponential backoff and dead-lettered after `delivery.max_attempts`; rows whose customer has paid are
cancelled. Runs overlapping on PostgreSQL cannot send a row twice.

**Owner:** data team. **On failure:** nothing is lost: unsent rows stay pending and the next run takes
them. Dead letters: `select * from followup_outbox where status = 'dead'` (reason in `last_error`);
fix the cause and set them back to `pending` with `attempts = 0`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from payrecon.airflow_adapter import EMBEDDED_WRITER_POOL, default_args


@dag(
    schedule=CronTriggerTimetable("*/5 * * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["payrecon", "followups"],
    default_args=default_args(pool=EMBEDDED_WRITER_POOL, retries=1),
    doc_md=__doc__,
)
def followups_dispatch():
    @task
    def advance_journeys(**context) -> dict:
        from payrecon.followup_tasks import advance_journeys

        return advance_journeys(context)

    @task
    def send_due_messages(advanced: dict, **context) -> dict:
        from payrecon.followup_tasks import dispatch_outbox

        return dispatch_outbox(context)

    send_due_messages(advance_journeys())


followups_dispatch()
