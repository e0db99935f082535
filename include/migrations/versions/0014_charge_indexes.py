"""PostgreSQL: charge indexes keyed the way every join reads them; no index nobody reads.

`ix_payment_attempts_charge` and `ix_settlement_lines_charge` led with `gateway`, but every query of the
project finds attempts and lines by the charge alone (`a.gateway_charge_id = c.charge_id` in
reconciliation, finance, offline orders): a B-tree cannot be searched by its second column alone, so neither
index ever served a lookup (0 scans over a whole 1M-order benchmark run, pg_stat_user_indexes,
2026-12-07), while every pulled attempt and landed line paid for an entry. They are now on the charge
alone, so a small window's reconcile can look its charges up, and partial: only rows with a charge,
which an equality join implies, so the planner still uses them.

`ix_attempt_classes_order` goes: `attempt_classes` is read by no query of the project, and the attempts
of an order are found by `ix_payment_attempts_order`. Measured on this machine (PostgreSQL 15,
2026-12-07), inserting the 1M attempts of a window into copies of the tables holding the day before:
`attempt_classes` 4.73 s with the index, 3.77 s without; `payment_attempts` with only its charge index,
7.90 s with the old one, 6.68 s with the new. DuckDB keeps none of these indexes (migrations 0007, 0008).

On a warehouse that already holds history, the two index builds lock their tables against writes while
they run, for a time that grows with the table: upgrade between windows, when no DAG is landing or pulling.

Revision ID: 0014_charge_indexes
Revises: 0013_outbox_journey_partial
"""

from alembic import op

revision = "0014_charge_indexes"
down_revision = "0013_outbox_journey_partial"
branch_labels = None
depends_on = None

_CHARGE_INDEXES = (
    ("ix_payment_attempts_charge", "payment_attempts", "gateway_charge_id"),
    ("ix_settlement_lines_charge", "settlement_lines", "charge_id"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, column in _CHARGE_INDEXES:
        op.execute(f"drop index if exists {name}")
        op.execute(f"create index {name} on {table} ({column}) where {column} is not null")
    op.execute("drop index if exists ix_attempt_classes_order")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("create index if not exists ix_attempt_classes_order on attempt_classes (order_id)")
    for name, table, column in _CHARGE_INDEXES:
        op.execute(f"drop index if exists {name}")
        op.execute(f"create index {name} on {table} (gateway, {column})")
