"""Finance: payouts to bank deposits, tolerances and write-offs, FX, fees, exceptions, month close.

Revision ID: 0005_finance
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_finance"
down_revision = "0001_foundation"
branch_labels = ("finance",)
depends_on = None

TS = sa.DateTime(timezone=True)
MINOR = sa.BigInteger
RATE = sa.Numeric(24, 12)


def upgrade() -> None:
    # The merchant's declared rules, loaded from include/config/*.yaml at each run (a snapshot the SQL
    # joins). '*' is a wildcard; the most specific rule wins.
    op.create_table(
        "finance_tolerances",
        sa.Column("gateway", sa.Text, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("absolute_minor", MINOR, nullable=False),
        sa.Column("relative", RATE, nullable=False),
        sa.Column("date_window_days", sa.Integer, nullable=False),
        sa.Column("specificity", sa.Integer, nullable=False),
    )
    op.create_table(
        "finance_fee_schedules",
        sa.Column("gateway", sa.Text, primary_key=True),
        sa.Column("card_brand", sa.Text, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("fee_rate", RATE, nullable=False),
        sa.Column("fixed_minor", MINOR, nullable=False),
        sa.Column("variance_tolerance_minor", MINOR, nullable=False),
        sa.Column("specificity", sa.Integer, nullable=False),
    )
    # ISO 4217 exponents as exact factors, so FX conversion stays in NUMERIC arithmetic.
    op.create_table(
        "finance_currencies",
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("exponent", sa.Integer, nullable=False),
        sa.Column("minor_unit", RATE, nullable=False),
        sa.Column("major_unit", RATE, nullable=False),
    )
    op.create_table(
        "finance_bank_descriptors",
        sa.Column("gateway", sa.Text, primary_key=True),
        sa.Column("pattern", sa.Text, primary_key=True),
    )

    # Bank statements (CSV exports and CAMT.053), landed once per file by SHA-256.
    op.create_table(
        "bank_files",
        sa.Column("file_id", sa.Text, primary_key=True),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("source_uri", sa.Text),
        sa.Column("report_date", sa.Date, nullable=False),
        sa.Column("lines_read", sa.Integer, nullable=False),
        sa.Column("lines_loaded", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("landed_at", TS, nullable=False),
    )
    op.create_table(
        "bank_statement_lines",
        sa.Column("bank_line_id", sa.Text, primary_key=True),
        sa.Column("file_id", sa.Text, nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", MINOR, nullable=False),
        sa.Column("booking_date", sa.Date, nullable=False),
        sa.Column("value_date", sa.Date),
        sa.Column("bank_ref", sa.Text),
        sa.Column("end_to_end_id", sa.Text),
        sa.Column("counterparty", sa.Text),
        sa.Column("remittance_info", sa.Text),
    )
    op.create_index("ix_bank_lines_window", "bank_statement_lines", ["window_start"])
    op.create_index("ix_bank_lines_match", "bank_statement_lines", ["currency", "amount_minor"])

    # Reference FX rates (the merchant's booking rates), landed from {inbox}/fx/{date}/*.csv.
    op.create_table(
        "fx_reference_rates",
        sa.Column("rate_date", sa.Date, primary_key=True),
        sa.Column("base_currency", sa.String(3), primary_key=True),
        sa.Column("quote_currency", sa.String(3), primary_key=True),
        sa.Column("rate", RATE, nullable=False),
        sa.Column("source", sa.Text),
    )

    # As-of of each window's finance decisions: only moves forward, like reconciliation_windows.
    op.create_table(
        "finance_windows",
        sa.Column("window_start", TS, primary_key=True),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("as_of", TS, nullable=False),
        sa.Column("settlement_lines", sa.BigInteger, nullable=False),
        sa.Column("orders", sa.BigInteger, nullable=False),
        sa.Column("payouts", sa.BigInteger, nullable=False),
        sa.Column("bank_lines", sa.BigInteger, nullable=False),
        sa.Column("open_exceptions", sa.BigInteger, nullable=False),
    )

    # Exactly one finance state per settlement line, order, payout and bank line.
    op.create_table(
        "finance_matches",
        sa.Column("item_type", sa.Text, primary_key=True),
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("gateway", sa.Text),
        sa.Column("currency", sa.String(3)),
        sa.Column("group_id", sa.Text),
        sa.Column("match_kind", sa.Text),
        sa.Column("decided_state", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("exception_id", sa.Text),
        sa.Column("expected_minor", MINOR),
        sa.Column("settled_minor", MINOR),
        sa.Column("difference_minor", MINOR),
        sa.Column("write_off_minor", MINOR),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_finance_matches_window", "finance_matches", ["window_start", "item_type"])
    op.create_index("ix_finance_matches_group", "finance_matches", ["group_id"])

    op.create_table(
        "payouts",
        sa.Column("gateway", sa.Text, primary_key=True),
        sa.Column("payout_id", sa.Text, primary_key=True),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payout_at", TS, nullable=False),
        sa.Column("has_payout_line", sa.Boolean, nullable=False),
        sa.Column("amount_minor", MINOR, nullable=False),
        sa.Column("lines_net_minor", MINOR, nullable=False),
        sa.Column("line_count", sa.BigInteger, nullable=False),
        sa.Column("sum_difference_minor", MINOR, nullable=False),
        sa.Column("bank_line_id", sa.Text),
        sa.Column("bank_amount_minor", MINOR),
        sa.Column("bank_booking_date", sa.Date),
        sa.Column("bank_difference_minor", MINOR),
        sa.Column("state", sa.Text, nullable=False),
    )
    op.create_index("ix_payouts_window", "payouts", ["window_start"])

    op.create_table(
        "write_offs",
        sa.Column("write_off_id", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("item_type", sa.Text, nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("gateway", sa.Text),
        sa.Column("currency", sa.String(3)),
        sa.Column("amount_minor", MINOR, nullable=False),
        sa.Column("exception_id", sa.Text),
        sa.Column("resolution_id", sa.Text),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_write_offs_window", "write_offs", ["window_start"])

    op.create_table(
        "fee_variances",
        sa.Column("line_id", sa.Text, primary_key=True),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("gateway", sa.Text, nullable=False),
        sa.Column("card_brand", sa.Text),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("gross_minor", MINOR, nullable=False),
        sa.Column("fee_minor", MINOR, nullable=False),
        sa.Column("expected_fee_minor", MINOR),
        sa.Column("variance_minor", MINOR),
        sa.Column("schedule", sa.Text),
        sa.Column("is_exception", sa.Boolean, nullable=False),
    )
    op.create_index("ix_fee_variances_window", "fee_variances", ["window_start"])

    op.create_table(
        "fx_differences",
        sa.Column("line_id", sa.Text, primary_key=True),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("gateway", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text),
        sa.Column("presentment_currency", sa.String(3), nullable=False),
        sa.Column("presentment_minor", MINOR, nullable=False),
        sa.Column("settlement_currency", sa.String(3), nullable=False),
        sa.Column("settled_minor", MINOR, nullable=False),
        sa.Column("rate_source", sa.Text, nullable=False),
        sa.Column("rate", RATE, nullable=False),
        sa.Column("converted_minor", MINOR, nullable=False),
        sa.Column("conversion_difference_minor", MINOR, nullable=False),
        sa.Column("reference_rate", RATE),
        sa.Column("reference_minor", MINOR),
        sa.Column("fx_difference_minor", MINOR),
    )
    op.create_index("ix_fx_differences_window", "fx_differences", ["window_start"])

    # What each exception kind means and who owns it by default (snapshot of finance/exceptions.py).
    op.create_table(
        "finance_exception_kinds",
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
    )

    # Rebuilt from the facts at every run; status and resolution come from the audit log below.
    op.create_table(
        "exceptions",
        sa.Column("exception_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("item_type", sa.Text, nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("gateway", sa.Text),
        sa.Column("currency", sa.String(3)),
        sa.Column("amount_minor", MINOR),
        sa.Column("detail", sa.Text),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("aged_as_of", TS, nullable=False),
        sa.Column("age_days", sa.Integer, nullable=False),
        sa.Column("age_bucket", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("resolution", sa.Text),
        sa.Column("resolution_note", sa.Text),
        sa.Column("resolved_by", sa.Text),
        sa.Column("resolved_at", TS),
        sa.Column("resolution_id", sa.Text),
    )
    op.create_index("ix_exceptions_window", "exceptions", ["window_start", "status"])
    op.create_index("ix_exceptions_item", "exceptions", ["item_type", "item_id"])

    # Append-only audit log of every hand-made resolution (workbook or form). Never updated, never
    # deleted: re-running a month re-applies it, so no resolution made by hand is lost.
    op.create_table(
        "exception_resolutions",
        sa.Column("resolution_id", sa.Text, primary_key=True),
        sa.Column("exception_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("amount_minor", MINOR),
        sa.Column("owner", sa.Text),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_ref", sa.Text),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_index("ix_exception_resolutions_exception", "exception_resolutions", ["exception_id"])
    op.create_table(
        "resolution_files",
        sa.Column("file_id", sa.Text, primary_key=True),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("rows_applied", sa.Integer, nullable=False),
        sa.Column("rows_rejected", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("landed_at", TS, nullable=False),
    )

    op.create_table(
        "month_closes",
        sa.Column("month", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("as_of", TS),
        sa.Column("settlement_lines", sa.BigInteger, nullable=False),
        sa.Column("orders", sa.BigInteger, nullable=False),
        sa.Column("payouts", sa.BigInteger, nullable=False),
        sa.Column("final_items", sa.BigInteger, nullable=False),
        sa.Column("explained_items", sa.BigInteger, nullable=False),
        sa.Column("blocking_items", sa.BigInteger, nullable=False),
        sa.Column("missing_windows", sa.Integer, nullable=False),
        sa.Column("pack_dir", sa.Text),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            create function exception_resolutions_append_only() returns trigger language plpgsql as $$
            begin
                raise exception 'exception_resolutions is an append-only audit log';
            end
            $$
            """
        )
        op.execute(
            "create trigger exception_resolutions_append_only before update or delete on exception_resolutions "
            "for each row execute function exception_resolutions_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("drop trigger if exists exception_resolutions_append_only on exception_resolutions")
        op.execute("drop function if exists exception_resolutions_append_only()")
    for table in (
        "month_closes",
        "resolution_files",
        "exception_resolutions",
        "exceptions",
        "finance_exception_kinds",
        "fx_differences",
        "fee_variances",
        "write_offs",
        "payouts",
        "finance_matches",
        "finance_windows",
        "fx_reference_rates",
        "bank_statement_lines",
        "bank_files",
        "finance_bank_descriptors",
        "finance_currencies",
        "finance_fee_schedules",
        "finance_tolerances",
    ):
        op.drop_table(table)
