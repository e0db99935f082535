"""R8 for the windows of a run: resolve identities, group initial orders into purchases, flag duplicates.

Linking looks back over a horizon (default 90 days) ending at its as-of, the end of the latest window
linked so far. The as-of only moves forward, so re-running an older window recomputes the same scope
and writes the same rows (R15), and a later sale still ties back to failed attempts of earlier windows.
Rows of orders older than the horizon are left as they were last decided.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, text

from payrecon.linking import identity
from payrecon.linking.settings import LinkSettings
from payrecon.settings import Window
from payrecon.warehouse import sql
from payrecon.warehouse.bulk import insert_frame, upsert_frame

log = logging.getLogger(__name__)

SCOPE = "purchases"


@dataclass(frozen=True)
class LinkResult:
    as_of: datetime
    horizon_start: datetime
    customers: int
    persons: int
    roles: dict[str, int]
    purchases: dict[str, int]
    duplicate_charges: int

    def as_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "horizon_start": self.horizon_start.isoformat(),
            "customers": self.customers,
            "persons": self.persons,
            "roles": self.roles,
            "purchases": self.purchases,
            "duplicate_charges": self.duplicate_charges,
        }


def _as_of(conn: Connection, windows: list[Window]) -> datetime:
    latest = max(w.end for w in windows)
    stored = conn.execute(text("select as_of from linking_state where scope = :s"), {"s": SCOPE}).scalar()
    if stored is None:
        return latest
    stored = stored if stored.tzinfo else stored.replace(tzinfo=latest.tzinfo)
    return max(latest, stored)


def _counts(conn: Connection, query: str, binds: dict | None = None) -> dict[str, int]:
    return {str(k): int(n) for k, n in conn.execute(text(query), binds or {})}


def link_in(conn: Connection, windows: list[Window], settings: LinkSettings) -> LinkResult:
    """Relink the whole scope inside the caller's transaction."""
    as_of = _as_of(conn, windows)
    horizon_start = as_of - timedelta(days=settings.horizon_days)
    binds = {
        "as_of": as_of,
        "horizon_start": horizon_start,
        "window_days": settings.window_days,
        "duplicate_minutes": settings.duplicate_minutes,
    }
    persons = identity.resolve(conn, binds, settings)
    _write_persons(conn, persons, as_of)
    sql.run(conn, "intermediate/int_purchases_orders", **binds)
    sql.run(conn, "linking/linking_purchases", **binds)
    sql.run(conn, "marts/purchases", **binds)
    sql.run(conn, "marts/attempt_links", **binds)
    sql.run(conn, "marts/duplicate_charges", **binds)
    state = pd.DataFrame([{"scope": SCOPE, "as_of": as_of, "horizon_start": horizon_start}])
    upsert_frame(conn, "linking_state", state, ["scope"])
    roles = _counts(conn, "select role, count(*) from _purchase_assign group by role order by role")
    statuses = _counts(
        conn,
        "select status, count(*) from purchases where purchase_id in (select purchase_id from _purchase_assign) "
        "group by status order by status",
    )
    dups = int(
        conn.execute(
            text("select count(*) from duplicate_charges where order_id in (select order_id from _purchase_orders)")
        ).scalar()
        or 0
    )
    for name in (
        "_purchase_assign", "_purchase_orders", "_link_persons", "_identity_pairs", "_identity_cards",
        "_identity_customers",
    ):
        conn.exec_driver_sql(f"drop table if exists {name}")
    return LinkResult(
        as_of=as_of,
        horizon_start=horizon_start,
        customers=len(persons),
        persons=int(persons["person_id"].nunique()),
        roles=roles,
        purchases=statuses,
        duplicate_charges=dups,
    )


def _write_persons(conn: Connection, persons: pd.DataFrame, as_of: datetime) -> None:
    """Keep the person of every record (identity_persons) and hand it to the purchase SQL."""
    conn.exec_driver_sql("drop table if exists _link_persons")
    conn.exec_driver_sql(
        "create temporary table _link_persons "
        "(customer_id varchar primary key, person_id varchar not null, score double precision not null, "
        "reason varchar not null)"
    )
    insert_frame(conn, "_link_persons", persons[["customer_id", "person_id", "score", "reason"]])
    conn.exec_driver_sql(
        "delete from identity_persons where customer_id in (select customer_id from _link_persons)"
    )
    conn.execute(
        text(
            "insert into identity_persons (customer_id, person_id, score, reason, as_of) "
            "select customer_id, person_id, cast(round(cast(score as numeric), 4) as numeric(6, 4)), reason, :as_of "
            "from _link_persons"
        ),
        {"as_of": as_of},
    )


def link(engine: Engine, windows: list[Window], settings: LinkSettings) -> LinkResult:
    """One transaction for the whole relink: readers see the old links or the new, never half."""
    with engine.begin() as conn:
        result = link_in(conn, windows, settings)
    log.info("linked as of %s: %s", result.as_of.isoformat(), result.as_dict())
    return result
