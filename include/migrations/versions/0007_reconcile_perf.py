"""Reconcile and rules at 1M orders per window: indexes where PostgreSQL needs them, none where DuckDB pays.

DuckDB: a PRIMARY KEY or index is an ART that every insert and delete maintains and every commit
serialises; for `reconciliation_results` (2M rows replaced per daily window) that cost several times
the reconciliation itself, and DuckDB never needs it to read (hash joins, zone maps). The table is
recreated without the key and the index. "Exactly one row per line and order" is then held by the
writer (delete + insert by key in one transaction) and proven before publishing by
`checks/every_item_has_one_state` (which counts missing and duplicate rows), so a violation still rolls
the window back. The same goes for `attempt_classes` (one row per attempt, replaced per window).

PostgreSQL keeps its keys, and gets the indexes the window filters need: orders and attempts edited
in a window, attempts by time, the pending orders a window re-decides. No index by charge id alone:
PostgreSQL has no row counts for CTEs, plans the window's ~1M charges as 200 and probes such an index
once per charge (measured 3x slower than the hash joins it does without one).

Revision ID: 0007_reconcile_perf
Revises: 0001_foundation, depends on 0003_order_rules
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_reconcile_perf"
down_revision = "0001_foundation"
branch_labels = ("reconcile_perf",)
depends_on = ("0003_order_rules",)

TS = sa.DateTime(timezone=True)
MINOR = sa.BigInteger

_RESULTS = (
    "item_type text not null, item_id text not null, window_start timestamp with time zone not null, "
    "gateway text, state text not null, order_id text, line_id text, currency varchar(3), "
    "expected_minor bigint, settled_minor bigint, difference_minor bigint, fee_minor bigint, detail text"
)
_CLASSES = (
    "attempt_id text not null, order_id text not null, window_start timestamp with time zone not null, "
    "attempted_at timestamp with time zone not null, attempt_kind text not null, origin text not null, "
    "outcome text not null, decline_code text, decline_class text, error_code text, card_fingerprint text"
)
_PG_INDEXES = (
    ("ix_orders_updated", "orders", "(updated_at)"),
    ("ix_payment_attempts_attempted", "payment_attempts", "(attempted_at)"),
    ("ix_payment_attempts_updated", "payment_attempts", "(updated_at)"),
    ("ix_recon_pending_orders", "reconciliation_results", "(window_start) where item_type = 'order' and state = 'pending'"),
)


def _recreate_without_keys(table: str, columns: str) -> None:
    """DuckDB cannot drop a key in place: copy the rows into a keyless table of the same columns."""
    op.execute(f"create table {table}__new ({columns})")
    op.execute(f"insert into {table}__new select * from {table}")
    op.execute(f"drop table {table}")
    op.execute(f"alter table {table}__new rename to {table}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, spec in _PG_INDEXES:
            op.execute(f"create index if not exists {name} on {table} {spec}")
        return
    _recreate_without_keys("reconciliation_results", _RESULTS)
    _recreate_without_keys("attempt_classes", _CLASSES)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in reversed(_PG_INDEXES):
            op.execute(f"drop index if exists {name}")
        return
    for table, columns, key, indexes in (
        ("reconciliation_results", _RESULTS, "item_type, item_id", (("ix_recon_window_state", "window_start, state"),)),
        ("attempt_classes", _CLASSES, "attempt_id",
         (("ix_attempt_classes_window", "window_start"), ("ix_attempt_classes_order", "order_id"))),
    ):
        op.execute(f"create table {table}__old ({columns}, primary key ({key}))")
        op.execute(f"insert into {table}__old select * from {table}")
        op.execute(f"drop table {table}")
        op.execute(f"alter table {table}__old rename to {table}")
        for name, cols in indexes:
            op.execute(f"create index {name} on {table} ({cols})")
