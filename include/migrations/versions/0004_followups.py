"""Follow-ups: the outbox, the contact registry, journeys, course-start events and offline orders.

Revision ID: 0004_followups
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_followups"
down_revision = "0001_foundation"
branch_labels = ("followups",)
depends_on = None

TS = sa.DateTime(timezone=True)
MINOR = sa.BigInteger


def upgrade() -> None:
    # One row per action to take (R9-R13). `idempotency_key` = event kind : subject : action id, so a
    # re-run or a backfill never queues twice (R15); `outbox_id` = md5 of the key, the stable Message-ID.
    op.create_table(
        "followup_outbox",
        sa.Column("outbox_id", sa.Text, primary_key=True),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("event_kind", sa.Text, nullable=False),
        sa.Column("event_at", TS, nullable=False),
        sa.Column("subject_ref", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text),
        sa.Column("purchase_id", sa.Text),
        sa.Column("customer_id", sa.Text),
        sa.Column("product_id", sa.Text),
        sa.Column("journey_instance_id", sa.Text),
        sa.Column("journey_step", sa.Text),
        sa.Column("action_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("template", sa.Text),
        sa.Column("recipient", sa.Text),
        sa.Column("team", sa.Text),
        sa.Column("cancellable", sa.Boolean, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_by", sa.Text),
        sa.Column("claimed_until", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("provider_ref", sa.Text),
        sa.Column("sent_at", TS),
        sa.Column("done_at", TS),
        sa.Column("window_start", TS),
        sa.Column("planned_at", TS, nullable=False),
    )
    op.create_index("ix_followup_outbox_due", "followup_outbox", ["status", "next_attempt_at"])
    op.create_index("ix_followup_outbox_order", "followup_outbox", ["order_id"])
    op.create_index("ix_followup_outbox_journey", "followup_outbox", ["journey_instance_id"])
    op.create_index("ix_followup_outbox_purchase", "followup_outbox", ["purchase_id", "event_kind", "action_id"])
    # The CRM's view of contacts: matched on first name, last name and email (source 000).
    op.create_table(
        "followup_contacts",
        sa.Column("contact_key", sa.Text, primary_key=True),
        sa.Column("first_name", sa.Text),
        sa.Column("last_name", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("first_customer_id", sa.Text, nullable=False),
        sa.Column("contact_type", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("became_customer_at", TS),
    )
    # Journeys (R13, R11): persisted state machines; waiting is a wake_at, not a sleeping worker.
    op.create_table(
        "journey_instances",
        sa.Column("instance_id", sa.Text, primary_key=True),
        sa.Column("journey_id", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("purchase_id", sa.Text),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("product_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.Column("wake_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS),
        sa.Column("end_reason", sa.Text),
    )
    op.create_index("ix_journey_instances_due", "journey_instances", ["journey_id", "status", "step", "wake_at"])
    # What the merchant's course platform feeds: one row per course start.
    op.create_table(
        "course_started",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("product_id", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("received_at", TS),
    )
    op.create_index("ix_course_started_customer", "course_started", ["customer_id", "product_id"])
    # R12: offline orders, their age and, once approved by hand, their manual settlement line.
    op.create_table(
        "offline_orders",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("product_id", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", MINOR, nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("is_revenue", sa.Boolean, nullable=False),
        sa.Column("counted_from", TS),
        sa.Column("charge_id", sa.Text),
        sa.Column("settlement_line_id", sa.Text),
        sa.Column("settled_minor", MINOR),
        sa.Column("settled_currency", sa.String(3)),
        sa.Column("age_days", sa.Integer, nullable=False),
        sa.Column("offline_allowed", sa.Boolean, nullable=False),
        sa.Column("followup_status", sa.Text),
        sa.Column("as_of", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("offline_orders", "course_started", "journey_instances", "followup_contacts", "followup_outbox"):
        op.drop_table(table)
