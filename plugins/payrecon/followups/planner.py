"""Plan a window's follow-ups in one transaction, set-based (R9-R13, R15).

events (orders + payment attempts + new contacts + offline orders) -> outbox rows, contact registry,
journey starts, the offline-orders report, then cancellation of what the customer has since paid for.
Re-planning a window, or a backfill over many, inserts nothing twice: every row has a natural key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, text

from payrecon.followups import offline, plan_tables
from payrecon.followups.config import FollowupConfig
from payrecon.settings import Window
from payrecon.warehouse import sql

log = logging.getLogger(__name__)

REQUIRED_TABLES = ("purchases", "attempt_links")


@dataclass(frozen=True)
class PlanResult:
    window: Window
    events: dict[str, int] = field(default_factory=dict)
    queued: dict[str, int] = field(default_factory=dict)
    journeys_started: int = 0
    cancelled: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            **self.window.as_dict(),
            "events": self.events,
            "queued": self.queued,
            "journeys_started": self.journeys_started,
            "cancelled": self.cancelled,
        }


class MissingUpstreamTable(RuntimeError):
    """The R8 tables (purchases, attempt_links) are not in the warehouse yet."""


def check_upstream(engine: Engine) -> None:
    import sqlalchemy as sa

    missing = [t for t in REQUIRED_TABLES if not sa.inspect(engine).has_table(t)]
    if missing:
        raise MissingUpstreamTable(
            f"follow-up planning reads {', '.join(missing)} (R8 linking); run the order rules first"
        )


def _counts(conn: Connection, query: str, **params: object) -> dict[str, int]:
    return {str(k): int(n) for k, n in conn.execute(text(query), params)}


def plan_window(conn: Connection, config: FollowupConfig, window: Window, now: datetime) -> PlanResult:
    """Plan `window` inside the caller's transaction.

    `now` is only used to skip customer messages for events older than `stale_after_days` (so a
    backfill does not apologise for a purchase made months ago); everything else is decided by the
    window.
    """
    delivery = config.delivery
    binds = {
        "window_start": window.start,
        "window_end": window.end,
        "lookback_start": window.start - timedelta(days=delivery.late_event_lookback_days),
        "allow_offline": config.merchant.allow_offline_orders,
        "contact_grace_minutes": config.contact_creation.new_if_created_within_minutes,
        "planned_at": window.end,
        "stale_before": now - timedelta(days=delivery.stale_after_days),
        "now": window.end,
    }
    plan_tables.load(conn, config)
    with sql.without_merge_joins(conn):
        sql.run(conn, "intermediate/int_followup_events", **binds)
    sql.analyze_scratch(conn, "_followup_actions", "_followup_journey_triggers", "_followup_events")
    events = _counts(conn, "select event_kind, count(*) from _followup_events group by event_kind order by 1")
    before = _outbox_keys(conn)
    sql.run(conn, "marts/outbox_plan", **binds)
    sql.prove_unique(conn, "followup_outbox", ["outbox_id"], "n.planned_at = :planned_at", planned_at=window.end)
    sql.run(conn, "marts/followups_contacts", **binds)
    sql.prove_unique(conn, "followup_contacts", ["contact_key"],
                     "n.contact_key in (select contact_key from _followup_events)")
    started = sql.run(conn, "marts/journey_start", **binds)
    offline.refresh(conn, as_of=window.end, allow_offline=config.merchant.allow_offline_orders)
    cancelled = sql.run(conn, "marts/outbox_cancel_paid", **binds)
    queued = _counts(
        conn,
        "select status, count(*) from followup_outbox where window_start = :ws group by status order by 1",
        ws=window.start,
    )
    conn.exec_driver_sql("drop table if exists _followup_events")
    result = PlanResult(window, events, queued, started, cancelled)
    log.info(
        "planned %s: events %s, outbox rows of the window by status %s (+%d new), journeys started %d, "
        "cancelled %d",
        window.label, events, queued, _outbox_keys(conn) - before, started, cancelled,
    )
    return result


def _outbox_keys(conn: Connection) -> int:
    return int(conn.execute(text("select count(*) from followup_outbox")).scalar() or 0)


def plan(engine: Engine, config: FollowupConfig, windows: list[Window], now: datetime) -> list[PlanResult]:
    """Each window in its own transaction, oldest first."""
    check_upstream(engine)
    results = []
    for window in sorted(windows, key=lambda w: w.start):
        with engine.begin() as conn:
            results.append(plan_window(conn, config, window, now))
    return results
