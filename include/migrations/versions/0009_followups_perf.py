"""Follow-ups at 1M orders per window: on DuckDB the outbox keeps its primary key and nothing else.

DuckDB maintains every key and index as an ART on insert and serialises it at commit. Queueing a
1M-order window (~1M outbox rows) measured 34.5 CPU s with the foundation's six (primary key, unique
idempotency key, four secondary indexes) and 19.5 CPU s with the primary key alone (commit 27.7 s ->
5.5 s wall). DuckDB reads the outbox by hash joins and zone maps, never by those indexes.

What is kept, and why it is enough: `outbox_id` is md5(`idempotency_key`) in every writer
(`outbox_plan`, `journey_send`), so the primary key refuses a second row for a key exactly as the
unique constraint did; it is the exactly-once guard of delivery and stays. PostgreSQL keeps everything:
its dispatcher claims by `(status, next_attempt_at)` and cancellation probes by order and purchase.
PostgreSQL also gets what `journey_start` probes for each new instance (an instance of this journey
for the order, or for the purchase): without them each probe read every instance of the journey.

Revision ID: 0009_followups_perf
Revises: 0004_followups
"""

from alembic import op

revision = "0009_followups_perf"
down_revision = "0004_followups"
branch_labels = None
depends_on = None

_OUTBOX = (
    "outbox_id text not null, idempotency_key text not null, event_kind text not null, "
    "event_at timestamp with time zone not null, subject_ref text not null, order_id text, purchase_id text, "
    "customer_id text, product_id text, journey_instance_id text, journey_step text, action_id text not null, "
    "channel text not null, template text, recipient text, team text, cancellable boolean not null, "
    "status text not null, attempts integer not null, next_attempt_at timestamp with time zone not null, "
    "claimed_by text, claimed_until timestamp with time zone, last_error text, provider_ref text, "
    "sent_at timestamp with time zone, done_at timestamp with time zone, window_start timestamp with time zone, "
    "planned_at timestamp with time zone not null"
)
_INDEXES = (
    ("ix_followup_outbox_due", "status, next_attempt_at"),
    ("ix_followup_outbox_order", "order_id"),
    ("ix_followup_outbox_journey", "journey_instance_id"),
    ("ix_followup_outbox_purchase", "purchase_id, event_kind, action_id"),
)


def _recreate(keys: str) -> None:
    """DuckDB cannot drop a constraint in place: copy the rows into a table with only `keys`."""
    op.execute(f"create table followup_outbox__new ({_OUTBOX}, {keys})")
    op.execute("insert into followup_outbox__new select * from followup_outbox")
    op.execute("drop table followup_outbox")
    op.execute("alter table followup_outbox__new rename to followup_outbox")


_PG_INDEXES = (
    ("ix_journey_instances_order", "journey_instances", "journey_id, order_id"),
    ("ix_journey_instances_purchase", "journey_instances", "journey_id, purchase_id"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, cols in _PG_INDEXES:
            op.execute(f"create index if not exists {name} on {table} ({cols})")
        return
    for name, _ in _INDEXES:
        op.execute(f"drop index if exists {name}")
    _recreate("primary key (outbox_id)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in _PG_INDEXES:
            op.execute(f"drop index if exists {name}")
        return
    _recreate("primary key (outbox_id), unique (idempotency_key)")
    for name, cols in _INDEXES:
        op.execute(f"create index {name} on followup_outbox ({cols})")
