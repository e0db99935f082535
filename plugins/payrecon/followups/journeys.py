"""Journeys (R13, and R11's payment-failure workflow) as persisted state machines.

An instance is a row in `journey_instances` with its `step` and `wake_at`. Waiting holds no worker:
`advance` runs on a schedule with the run's logical time as `now` and moves, set-based, every
instance whose condition holds (its wake_at has come, its messages were delivered, its exit event
happened). The loop below runs over the configured steps (config-sized), never over instances.

Step kinds: `send` (queue actions, go on), `await_delivery_of` (go on once the earlier send step's
messages are done; the next clock starts at delivery), `wait_days` (go on at wake_at; optional
`exit_on` while waiting). A journey-level `exit_on` is checked at every step.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, Engine, text

from payrecon.followups import plan_tables
from payrecon.followups.config import FollowupConfig, Journey, Step
from payrecon.warehouse import sql

log = logging.getLogger(__name__)

EXIT_SQL = {"course_started": "marts/journey_exit_course_started", "paid": "marts/journey_exit_paid"}


def _next_wait_days(journey: Journey, index: int) -> int:
    nxt = journey.steps[index + 1] if index + 1 < len(journey.steps) else None
    return (nxt.wait_days or 0) if nxt is not None else 0


def _exits(conn: Connection, journey_id: str, journey: Journey, now: datetime) -> int:
    moved = 0
    if journey.exit_on:
        moved += sql.run(conn, EXIT_SQL[journey.exit_on], journey_id=journey_id, step="", any_step=True, now=now)
    for step in journey.steps:
        if step.exit_on:
            moved += sql.run(
                conn, EXIT_SQL[step.exit_on], journey_id=journey_id, step=step.name, any_step=False, now=now
            )
    return moved


def _step(conn: Connection, journey_id: str, journey: Journey, index: int, step: Step, now: datetime) -> int:
    binds = {
        "journey_id": journey_id,
        "step": step.name,
        "next_step": journey.next_step(index),
        "next_wait_days": _next_wait_days(journey, index),
        "now": now,
    }
    if step.kind == "send":
        sent = sql.run(conn, "marts/journey_send", **binds)
        sql.prove_unique(conn, "followup_outbox", ["outbox_id"], "n.planned_at = :now", now=now)
        return sent
    if step.kind == "await_delivery":
        return sql.run(conn, "marts/journey_await_delivery", of_step=step.await_delivery_of, **binds)
    return sql.run(conn, "marts/journey_wait", **binds)


def advance_journeys(conn: Connection, config: FollowupConfig, now: datetime) -> dict[str, dict[str, int]]:
    """Move every due instance as far as it can go at `now`; returns instances per journey and state."""
    plan_tables.load(conn, config)
    for journey_id, journey in config.journeys.items():
        for _ in range(len(journey.steps) + 1):
            moved = _exits(conn, journey_id, journey, now)
            for index, step in enumerate(journey.steps):
                moved += _step(conn, journey_id, journey, index, step, now)
            moved += sql.run(conn, "marts/journey_end", journey_id=journey_id)
            if not moved:
                break
    return journey_states(conn)


def journey_states(conn: Connection) -> dict[str, dict[str, int]]:
    rows = conn.execute(
        text(
            "select journey_id, case when status = 'active' then 'active:' || step else status end, count(*) "
            "from journey_instances group by 1, 2 order by 1, 2"
        )
    )
    out: dict[str, dict[str, int]] = {}
    for journey_id, state, n in rows:
        out.setdefault(str(journey_id), {})[str(state)] = int(n)
    return out


def advance(engine: Engine, config: FollowupConfig, now: datetime) -> dict[str, dict[str, int]]:
    with engine.begin() as conn:
        states = advance_journeys(conn, config, now)
    log.info("journeys advanced to %s: %s", now.isoformat(), states)
    return states
