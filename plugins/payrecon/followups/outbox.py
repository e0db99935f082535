"""The outbox's state changes, each its own short transaction on the caller's connection
(the SQL is in `marts/outbox_*.sql`). One connection serves a whole dispatcher run: on the embedded
DuckDB, opening the file per transaction would cost more than the send.

pending --claim--> sending --sent--> sent
                           --transient failure--> pending (next_attempt_at = now + backoff) | dead
                           --permanent failure--> dead
                           --claim expired--> pending | dead        (reclaim)
pending --customer paid--> cancelled                                 (cancel_paid)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from payrecon.warehouse import sql

FINAL_STATES = ("sent", "dead", "cancelled", "skipped", "suppressed")


@dataclass(frozen=True)
class Claimed:
    outbox_id: str
    attempts: int


def backoff(attempts: int, base_seconds: int, max_seconds: int) -> timedelta:
    """Exponential: base, 2 base, 4 base ... after the 1st, 2nd, 3rd failed attempt; capped."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def _rows(conn: Connection, name: str, **params: Any) -> list[Any]:
    (stmt,) = sql.statements(name)
    return list(conn.execute(text(stmt), params).mappings())


def claim(conn: Connection, worker_id: str, now: datetime, lease_until: datetime, batch_size: int) -> list[Claimed]:
    name = "marts/outbox_claim_postgresql" if conn.dialect.name == "postgresql" else "marts/outbox_claim_duckdb"
    with conn.begin():
        rows = _rows(conn, name, worker_id=worker_id, now=now, lease_until=lease_until, batch_size=batch_size)
    return sorted((Claimed(r["outbox_id"], int(r["attempts"])) for r in rows), key=lambda c: c.outbox_id)


def claimed_context(conn: Connection, worker_id: str) -> list[dict[str, Any]]:
    with conn.begin():
        return [dict(r) for r in _rows(conn, "marts/outbox_context", worker_id=worker_id)]


def mark_sent(conn: Connection, outbox_id: str, worker_id: str, now: datetime, provider_ref: str | None) -> bool:
    with conn.begin():
        touched = sql.run(
            conn, "marts/outbox_mark_sent", outbox_id=outbox_id, worker_id=worker_id, now=now,
            provider_ref=provider_ref,
        )
    return touched == 1


def mark_failed(
    conn: Connection, outbox_id: str, worker_id: str, now: datetime, next_attempt_at: datetime, dead: bool,
    error: str, tried: bool = True,
) -> bool:
    with conn.begin():
        touched = sql.run(
            conn, "marts/outbox_mark_failed", outbox_id=outbox_id, worker_id=worker_id, now=now,
            next_attempt_at=next_attempt_at, dead=dead, uncount=0 if tried else 1, error=error[:1000],
        )
    return touched == 1


def release(conn: Connection, outbox_id: str, worker_id: str) -> bool:
    with conn.begin():
        return sql.run(conn, "marts/outbox_release", outbox_id=outbox_id, worker_id=worker_id) == 1


def reclaim_expired(conn: Connection, lease_now: datetime, now: datetime, max_attempts: int) -> int:
    with conn.begin():
        return sql.run(conn, "marts/outbox_reclaim", lease_now=lease_now, now=now, max_attempts=max_attempts)


def cancel_paid(conn: Connection, now: datetime) -> int:
    with conn.begin():
        return sql.run(conn, "marts/outbox_cancel_paid", now=now)


def status_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Rows per event kind and status: what was sent, by kind."""
    out: dict[str, dict[str, int]] = {}
    rows = conn.execute(
        text("select event_kind, status, count(*) from followup_outbox group by 1, 2 order by 1, 2")
    )
    for kind, status, n in rows:
        out.setdefault(str(kind), {})[str(status)] = int(n)
    return out


def sent_by_channel(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        text("select channel, count(*) from followup_outbox where status = 'sent' group by 1 order by 1")
    )
    return {str(c): int(n) for c, n in rows}


def invariant_violations(conn: Connection) -> int:
    return int(sql.scalar(conn, "checks/followups_outbox_invariants") or 0)
