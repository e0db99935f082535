"""Task bodies of the follow-up DAGs (`followups_plan`, `followups_dispatch`).

Each resolves settings through `airflow_adapter`, calls one follow-ups function and returns small counts
for XCom. Tests call them with a plain context dict and explicit settings.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from payrecon import airflow_adapter as adapter
from payrecon.settings import Settings
from payrecon.warehouse.engine import warehouse
from payrecon.warehouse.migrate import upgrade

log = logging.getLogger(__name__)


def plan_followups(
    context: dict[str, Any], asset: Any = None, settings: Settings | None = None, config: Any = None,
    now: datetime | None = None,
) -> dict:
    """Turn the windows' events into outbox rows and journey starts, refresh the offline report."""
    from payrecon.followups.planner import plan

    settings = settings or adapter.settings_from_airflow()
    config = config or adapter.followup_config_from_airflow()
    windows = adapter.windows_from_context(context)
    # when this run happens (asset-triggered and manual runs: about now; a simulated run: its date),
    # to skip customer messages about events too old to be worth sending
    now = now or adapter.logical_now(context)
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        results = plan(engine, config, windows, now)
    events = context.get("outlet_events")
    if events is not None and asset is not None:
        events[asset].extra = adapter.window_extra(windows)
    return adapter.to_xcom([r.as_dict() for r in results])


def advance_journeys(
    context: dict[str, Any], settings: Settings | None = None, config: Any = None, now: datetime | None = None
) -> dict:
    """Move journey instances whose wake-up time has come, as of the run's logical time."""
    from payrecon.followups.journeys import advance

    settings = settings or adapter.settings_from_airflow()
    config = config or adapter.followup_config_from_airflow()
    now = now or adapter.logical_now(context)
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        states = advance(engine, config, now)
    return adapter.to_xcom({"now": now, "journeys": states})


def dispatch_outbox(
    context: dict[str, Any], settings: Settings | None = None, config: Any = None, channels: Any = None,
    now: datetime | None = None,
) -> dict:
    """Send what is due. The dispatcher drains a queue, so `now` is the wall clock, not the run's time."""
    from payrecon.followups.channels import build_channels
    from payrecon.followups.dispatcher import Dispatcher

    settings = settings or adapter.settings_from_airflow()
    config = config or adapter.followup_config_from_airflow()
    if channels is None:
        channels = build_channels(
            adapter.smtp_settings(), adapter.followup_endpoints(), config.merchant.from_email, config.merchant.name
        )
    run_id = str(context.get("run_id") or "manual")
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        result = Dispatcher(engine, config, channels, worker_id=f"{run_id}:{os.getpid()}").run(now)
    return adapter.to_xcom(result.as_dict())


def followups_report(settings: Settings | None = None) -> dict:
    """Outbox rows by kind and status, sent by channel, journeys and offline orders: for logs and notes."""
    from payrecon.followups import journeys, offline, outbox

    settings = settings or adapter.settings_from_airflow()
    with warehouse(settings.warehouse_url) as engine, engine.connect() as conn:
        report = {
            "outbox": outbox.status_counts(conn),
            "sent_by_channel": outbox.sent_by_channel(conn),
            "journeys": journeys.journey_states(conn),
            "offline_orders": offline.summary(conn),
            "invariant_violations": outbox.invariant_violations(conn),
        }
    log.info("follow-ups: %s", report)
    return adapter.to_xcom(report)
