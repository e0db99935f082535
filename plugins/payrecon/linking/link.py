"""R8 for the windows of a run: resolve identities, group initial orders into purchases, flag duplicates.

Linking looks back over a horizon (default 90 days) ending at its as-of, the end of the latest window
linked so far. The as-of only moves forward, so re-running an older window recomputes the same scope
and writes the same rows (R15), and a later sale still ties back to failed attempts of earlier windows.
Rows of orders older than the horizon are left as they were last decided.

Incremental: a run does not relink the whole horizon. It starts from the customer records whose inputs
are new or changed since the last run (orders and attempts the as-of passed, rows updated after what the
last run had seen), takes every record sharing a key with them and every record of their previous
persons (`linking_affected`), and resolves and relinks those: a person and all their orders of the
horizon, whole, exactly as a relink of the whole horizon would. Rows are then rewritten only where they
changed. The first run, and a run with other settings, relinks everything.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa
from sqlalchemy import Connection, Engine, text

from payrecon.linking import identity
from payrecon.linking.settings import LinkSettings
from payrecon.settings import Window
from payrecon.warehouse import sql
from payrecon.warehouse.bulk import insert_frame

log = logging.getLogger(__name__)

SCOPE = "purchases"
# The commerce pull re-reads rows updated in (watermark - overlap, until] to catch late commits; linking
# looks back as far, so a row the pull brings in late is never taken as already seen.
OVERLAP = timedelta(minutes=5)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# When the touched records are this share of the horizon's or more, every record is resolved again: their
# key neighbours and previous persons are nearly all the others (a day of 1M orders touches ~65 %), and
# finding them costs more than resolving the few left over. Same rows either way.
RELINK_ALL_SHARE = 0.5
SEEN = {"orders": "commerce.orders", "payment_attempts": "commerce.payment_attempts", "customers": "commerce.customers"}
TEMP_TABLES = (
    "_link_touched", "_identity_scope", "_identity_new_keys", "_identity_old_keys", "_link_affected",
    "_identity_customers", "_identity_blocked", "_identity_pairs", "_link_persons", "_persons_changed", "_purchase_orders",
    "_purchase_assign", "_purchases_new", "_purchases_changed", "_purchases_gone", "_links_changed",
    "_duplicates_new", "_duplicates_changed",
)


@dataclass(frozen=True)
class LinkResult:
    as_of: datetime
    horizon_start: datetime
    customers: int
    persons: int
    roles: dict[str, int]
    purchases: dict[str, int]
    duplicate_charges: int
    full: bool = False
    touched: int = 0
    written: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["as_of"], out["horizon_start"] = self.as_of.isoformat(), self.horizon_start.isoformat()
        return out


@dataclass(frozen=True)
class _State:
    as_of: datetime | None
    seen: dict[str, datetime | None]
    settings: str | None


def _stored_state(conn: Connection, tz) -> _State:  # noqa: ANN001 - tzinfo
    row = conn.execute(
        text(
            "select as_of, orders_seen_at, attempts_seen_at, customers_seen_at, settings "
            "from linking_state where scope = :s"
        ),
        {"s": SCOPE},
    ).first()
    if row is None:
        return _State(None, dict.fromkeys(SEEN), None)

    def aware(v: datetime | None) -> datetime | None:
        return v if v is None or v.tzinfo else v.replace(tzinfo=tz)

    seen = {"orders": aware(row[1]), "payment_attempts": aware(row[2]), "customers": aware(row[3])}
    return _State(aware(row[0]), seen, row[4])


def _seen_now(conn: Connection) -> dict[str, datetime | None]:
    """What this run sees of each source: the pull's watermark, or the newest row when nothing pulled."""
    out: dict[str, datetime | None] = {}
    for table, source in SEEN.items():
        mark = conn.execute(text("select watermark_at from etl_watermarks where source = :s"), {"s": source}).scalar()
        if mark is None:
            mark = conn.execute(text(f"select max(updated_at) from {table}")).scalar()  # noqa: S608 - fixed names
        out[table] = mark if mark is not None else EPOCH  # an empty table: whatever comes later is new
    return out


def _settings_key(settings: LinkSettings) -> str:
    return ";".join(f"{k}={v}" for k, v in sorted(asdict(settings).items()))


def _counts(conn: Connection, query: str, binds: dict | None = None) -> dict[str, int]:
    return {str(k): int(n) for k, n in conn.execute(text(query), binds or {})}


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"select count(*) from {table}")).scalar() or 0)  # noqa: S608 - fixed names


def link_in(conn: Connection, windows: list[Window], settings: LinkSettings) -> LinkResult:
    """Relink what changed since the last run inside the caller's transaction."""
    with sql.unordered(conn):  # the steps' scratch tables are joined, never read in insertion order
        return _link_in(conn, windows, settings)


def _link_in(conn: Connection, windows: list[Window], settings: LinkSettings) -> LinkResult:
    latest = max(w.end for w in windows)
    state = _stored_state(conn, latest.tzinfo)
    as_of = max(latest, state.as_of) if state.as_of is not None else latest
    horizon_start = as_of - timedelta(days=settings.horizon_days)
    key = _settings_key(settings)
    seen_now = _seen_now(conn)
    full = state.as_of is None or state.settings != key or any(v is None for v in state.seen.values())
    if full:
        # everything of the horizon is new: the whole horizon is touched
        since, seen_before = horizon_start, {t: as_of for t in SEEN}
        conn.exec_driver_sql("delete from identity_keys")
    else:
        since = max(state.as_of, horizon_start)
        seen_before = {t: v - OVERLAP for t, v in state.seen.items()}
    binds = {
        "as_of": as_of,
        "horizon_start": horizon_start,
        "since": since,
        "orders_seen": seen_before["orders"],
        "attempts_seen": seen_before["payment_attempts"],
        "customers_seen": seen_before["customers"],
        "window_days": settings.window_days,
        "duplicate_minutes": settings.duplicate_minutes,
        "max_block_size": settings.max_block_size,
        "device_name_min": settings.shared_device_name_min,
    }
    _step(conn, "linking/linking_touched", binds, "_link_touched")
    touched = _count(conn, "_link_touched")
    _step(
        conn, "intermediate/int_identity_keys", binds,
        "_identity_scope", "_identity_new_keys", "_identity_old_keys", "identity_keys",
    )
    in_horizon = int(
        conn.execute(
            text("select count(*) from identity_keys where key_kind = 'self' and seen_at >= :h"),
            {"h": horizon_start},
        ).scalar()
        or 0
    )
    whole_horizon = full or touched >= RELINK_ALL_SHARE * in_horizon
    if whole_horizon:
        _step(conn, "linking/linking_affected_all", binds, "_link_affected")
    else:
        _step(conn, "linking/linking_affected", binds, "_link_affected")
    _drop(conn, "_link_touched", "_identity_scope", "_identity_new_keys", "_identity_old_keys")
    _step(conn, "intermediate/int_identity_customers", binds, "_identity_customers")
    # every record of the horizon resolved: each key's holders are all in identity_keys, one grouping
    blocks = "intermediate/int_identity_blocks_all" if whole_horizon else "intermediate/int_identity_blocks"
    _step(conn, blocks, binds, "_identity_blocked")
    tied = identity.resolve(conn, binds, settings)
    _drop(conn, "_identity_pairs", "_identity_customers", "_identity_blocked")
    customers = _count(conn, "_link_affected")
    # the records tied to another one form fewer persons; every other record is a person of its own
    persons = customers - tied.num_rows + len(set(tied.column("person_id").to_pylist()))
    _write_persons(conn, tied, as_of)
    del tied
    persons_written = _count(conn, "_persons_changed")
    _drop(conn, "_persons_changed")
    _step(conn, "intermediate/int_purchases_orders", binds, "_purchase_orders")
    _drop(conn, "_link_persons", "_link_affected")
    _step(conn, "linking/linking_purchases", binds, "_purchase_assign")
    _step(conn, "marts/purchases", binds, "_purchases_new", "_purchases_changed")
    sql.run(conn, "marts/attempt_links", **binds)
    sql.run(conn, "marts/duplicate_charges", **binds)
    _write_state(conn, as_of, horizon_start, seen_now, key)
    roles = _counts(conn, "select role, count(*) from _purchase_assign group by role order by role")
    statuses = _counts(conn, "select status, count(*) from _purchases_new group by status order by status")
    dups = _count(conn, "_duplicates_new")
    written = {
        "identity_persons": persons_written,
        "purchases": _count(conn, "_purchases_changed"),
        "purchases_removed": _count(conn, "_purchases_gone"),
        "attempt_links": _count(conn, "_links_changed"),
        "duplicate_charges": _count(conn, "_duplicates_changed"),
    }
    _drop(conn, *TEMP_TABLES)
    return LinkResult(
        as_of=as_of,
        horizon_start=horizon_start,
        customers=customers,
        persons=persons,
        roles=roles,
        purchases=statuses,
        duplicate_charges=dups,
        full=full,
        touched=touched,
        written=written,
    )


def _step(conn: Connection, name: str, binds: dict, *made: str) -> None:
    """Run a SQL step; on PostgreSQL, gather statistics of the tables it made or changed. Autovacuum
    never analyses temporary tables: without statistics the planner takes 100k-row tables for a few
    rows and picks nested loops and sorts (the pair query ran 10 s at 100k)."""
    sql.run(conn, name, **binds)
    if conn.dialect.name == "postgresql":
        for table in made:
            conn.exec_driver_sql(f"analyze {table}")


def _drop(conn: Connection, *names: str) -> None:
    """Temporary tables are dropped as soon as they are read for the last time."""
    for name in names:
        conn.exec_driver_sql(f"drop table if exists {name}")


def _write_persons(conn: Connection, persons: pa.Table, as_of: datetime) -> None:
    """Keep the person of every resolved record (identity_persons) and hand the tied ones to the purchase
    SQL (`_link_persons`; a record not in it is its own person)."""
    conn.exec_driver_sql("drop table if exists _link_persons")
    conn.exec_driver_sql(
        "create temporary table _link_persons "
        "(customer_id varchar not null, person_id varchar not null, score double precision not null, "
        "reason varchar not null)"
    )
    insert_frame(conn, "_link_persons", persons)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("analyze _link_persons")
    sql.run(conn, "linking/linking_persons", as_of=as_of)


def _write_state(
    conn: Connection, as_of: datetime, horizon_start: datetime, seen: dict[str, datetime | None], key: str
) -> None:
    conn.execute(text("delete from linking_state where scope = :s"), {"s": SCOPE})
    conn.execute(
        text(
            "insert into linking_state "
            "(scope, as_of, horizon_start, orders_seen_at, attempts_seen_at, customers_seen_at, settings) "
            "values (:s, :as_of, :horizon_start, :orders, :attempts, :customers, :settings)"
        ),
        {
            "s": SCOPE,
            "as_of": as_of,
            "horizon_start": horizon_start,
            "orders": seen["orders"],
            "attempts": seen["payment_attempts"],
            "customers": seen["customers"],
            "settings": key,
        },
    )


def link(engine: Engine, windows: list[Window], settings: LinkSettings) -> LinkResult:
    """One transaction per run: readers see the old links or the new, never half."""
    with engine.begin() as conn:
        result = link_in(conn, windows, settings)
    log.info("linked as of %s: %s", result.as_of.isoformat(), result.as_dict())
    return result
