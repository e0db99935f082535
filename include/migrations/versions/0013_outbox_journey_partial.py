"""PostgreSQL outbox: the journey index holds journey rows only.

`ix_followup_outbox_journey` indexed every outbox row, and all but the journey steps' rows (a few per
cent) carry no `journey_instance_id`: a 1M-order window's planner added ~1M null entries to it. Only
journey rows are ever looked up by it (`journey_await_delivery`, `journeys.py`: an equality, which
implies not null, so the partial index still serves them). Measured on this machine (PostgreSQL 15,
2026-12-07): inserting that window's 984k rows into a copy of the outbox with this index alone cost
0.85 s more than with none. DuckDB keeps no index on the outbox (migration 0011).

Revision ID: 0013_outbox_journey_partial
Revises: 0012_outbox_key_check
"""

from alembic import op

revision = "0013_outbox_journey_partial"
down_revision = "0012_outbox_key_check"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("drop index if exists ix_followup_outbox_journey")
    op.execute("create index ix_followup_outbox_journey on followup_outbox (journey_instance_id) "
               "where journey_instance_id is not null")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("drop index if exists ix_followup_outbox_journey")
    op.execute("create index ix_followup_outbox_journey on followup_outbox (journey_instance_id)")
