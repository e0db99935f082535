"""Foundation schema: landing, quarantine, commerce copies, reconciliation.

Revision ID: 0001_foundation
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = ("foundation",)
depends_on = None

TS = sa.DateTime(timezone=True)
MINOR = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "landed_files",
        sa.Column("file_id", sa.Text, primary_key=True),
        sa.Column("gateway", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("report_date", sa.Date, nullable=False),
        sa.Column("byte_size", sa.BigInteger, nullable=False),
        sa.Column("lines_read", sa.Integer, nullable=False),
        sa.Column("lines_loaded", sa.Integer, nullable=False),
        sa.Column("lines_quarantined", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("landed_at", TS, nullable=False),
    )
    op.create_table(
        "settlement_lines",
        sa.Column("line_id", sa.Text, primary_key=True),
        sa.Column("file_id", sa.Text, nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("gateway", sa.Text, nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("source_ref", sa.Text, nullable=False),
        sa.Column("line_type", sa.Text, nullable=False),
        sa.Column("charge_id", sa.Text),
        sa.Column("order_ref", sa.Text),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("available_on", TS),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("gross_minor", MINOR, nullable=False),
        sa.Column("fee_minor", MINOR, nullable=False),
        sa.Column("net_minor", MINOR, nullable=False),
        sa.Column("presentment_minor", MINOR),
        sa.Column("presentment_currency", sa.String(3)),
        sa.Column("exchange_rate", sa.Numeric(20, 10)),
        sa.Column("payout_id", sa.Text),
        sa.Column("description", sa.Text),
    )
    op.create_index("ix_settlement_lines_window", "settlement_lines", ["window_start"])
    op.create_index("ix_settlement_lines_charge", "settlement_lines", ["gateway", "charge_id"])
    op.create_table(
        "quarantine",
        sa.Column("quarantine_id", sa.Text, primary_key=True),
        sa.Column("file_id", sa.Text, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("gateway", sa.Text, nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("field", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw_line", sa.Text),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("quarantined_at", TS, nullable=False),
        sa.Column("released_at", TS),
    )
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("first_name", sa.Text),
        sa.Column("last_name", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("created_at", TS),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "products",
        sa.Column("product_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("price_minor", MINOR, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("installments", sa.Integer),
        sa.Column("interval_days", sa.Integer),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("subscription_id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("product_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", TS),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("product_id", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.Text),
        sa.Column("installment_no", sa.Integer, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("auto_charge", sa.Boolean, nullable=False),
        sa.Column("auto_charge_set_by", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("total_minor", MINOR, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_orders_created", "orders", ["created_at"])
    op.create_table(
        "payment_attempts",
        sa.Column("attempt_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("attempt_no", sa.Integer, nullable=False),
        sa.Column("attempted_at", TS, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("decline_code", sa.Text),
        sa.Column("error_code", sa.Text),
        sa.Column("gateway", sa.Text, nullable=False),
        sa.Column("gateway_charge_id", sa.Text),
        sa.Column("amount_minor", MINOR, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("card_fingerprint", sa.Text),
        sa.Column("card_brand", sa.Text),
        sa.Column("card_last4", sa.String(4)),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_payment_attempts_order", "payment_attempts", ["order_id"])
    op.create_index("ix_payment_attempts_charge", "payment_attempts", ["gateway", "gateway_charge_id"])
    op.create_table(
        "etl_watermarks",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("watermark_at", TS, nullable=False),
    )
    op.create_table(
        "reconciliation_results",
        sa.Column("item_type", sa.Text, primary_key=True),
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("gateway", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text),
        sa.Column("line_id", sa.Text),
        sa.Column("currency", sa.String(3)),
        sa.Column("expected_minor", MINOR),
        sa.Column("settled_minor", MINOR),
        sa.Column("difference_minor", MINOR),
        sa.Column("fee_minor", MINOR),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_recon_window_state", "reconciliation_results", ["window_start", "state"])
    op.create_table(
        "reconciliation_windows",
        sa.Column("window_start", TS, primary_key=True),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("as_of", TS, nullable=False),
        sa.Column("settlement_lines", sa.BigInteger, nullable=False),
        sa.Column("orders", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "reconciliation_windows",
        "reconciliation_results",
        "etl_watermarks",
        "payment_attempts",
        "orders",
        "subscriptions",
        "products",
        "customers",
        "quarantine",
        "settlement_lines",
        "landed_files",
    ):
        op.drop_table(table)
