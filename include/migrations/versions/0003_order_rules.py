"""Order rules (R1-R7) and purchase linking (R8): decisions, audit runs, retry list, purchases, links.

Its own branch from the foundation, so `upgrade heads` applies it beside the other capabilities.
`order_decisions` holds no wall-clock time, so a re-run writes identical rows (R15); when each run
happened lives in the append-only `decision_runs`.

Revision ID: 0003_order_rules
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_order_rules"
down_revision = "0001_foundation"
branch_labels = ("order_rules",)
depends_on = None

TS = sa.DateTime(timezone=True)
MINOR = sa.BigInteger
SCORE = sa.Numeric(6, 4)


def upgrade() -> None:
    op.create_table(
        "attempt_classes",
        sa.Column("attempt_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("attempted_at", TS, nullable=False),
        sa.Column("attempt_kind", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("decline_code", sa.Text),
        sa.Column("decline_class", sa.Text),
        sa.Column("error_code", sa.Text),
        sa.Column("card_fingerprint", sa.Text),
    )
    op.create_index("ix_attempt_classes_window", "attempt_classes", ["window_start"])
    op.create_index("ix_attempt_classes_order", "attempt_classes", ["order_id"])
    op.create_table(
        "order_decisions",
        sa.Column("window_start", TS, primary_key=True),
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("aspect", sa.Text, primary_key=True),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("attempt_id", sa.Text),
        sa.Column("attempt_kind", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("tag", sa.Text),
        sa.Column("auto_charge", sa.Boolean),
        sa.Column("retry_eligible", sa.Boolean),
        sa.Column("installments_expected", sa.Boolean),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("as_of", TS, nullable=False),
    )
    op.create_index("ix_order_decisions_order", "order_decisions", ["order_id"])
    op.create_table(
        "decision_runs",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("window_start", TS, primary_key=True),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("as_of", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("orders_decided", sa.BigInteger, nullable=False),
        sa.Column("decisions", sa.BigInteger, nullable=False),
        sa.Column("retry_rows", sa.BigInteger, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
    )
    op.create_table(
        "retry_list",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("attempt_id", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.Text),
        sa.Column("installment_no", sa.Integer, nullable=False),
        sa.Column("card_fingerprint", sa.Text),
        sa.Column("decline_code", sa.Text),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("amount_minor", MINOR, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("last_attempted_at", TS, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("as_of", TS, nullable=False),
    )
    op.create_index("ix_retry_list_card", "retry_list", ["card_fingerprint"])
    op.create_table(
        "identity_persons",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("score", SCORE, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("as_of", TS, nullable=False),
    )
    op.create_index("ix_identity_persons_person", "identity_persons", ["person_id"])
    op.create_table(
        "purchases",
        sa.Column("purchase_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("product_id", sa.Text, nullable=False),
        sa.Column("first_attempt_at", TS, nullable=False),
        sa.Column("converted_order_id", sa.Text),
        sa.Column("converted_at", TS),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.Column("duplicate_sales", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("as_of", TS, nullable=False),
    )
    op.create_table(
        "attempt_links",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("purchase_id", sa.Text, nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("linked_order_id", sa.Text),
        sa.Column("score", SCORE, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_attempt_links_purchase", "attempt_links", ["purchase_id"])
    op.create_table(
        "duplicate_charges",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("purchase_id", sa.Text, nullable=False),
        sa.Column("original_order_id", sa.Text, nullable=False),
        sa.Column("amount_minor", MINOR, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charged_at", TS, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "linking_state",
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("as_of", TS, nullable=False),
        sa.Column("horizon_start", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "linking_state",
        "duplicate_charges",
        "attempt_links",
        "purchases",
        "identity_persons",
        "retry_list",
        "decision_runs",
        "order_decisions",
        "attempt_classes",
    ):
        op.drop_table(table)
