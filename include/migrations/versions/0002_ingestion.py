"""Ingestion: why a file was rejected, where it came from, and lookups by file.

Revision ID: 0002_ingestion
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_ingestion"
down_revision = "0001_foundation"
branch_labels = ("ingestion",)
depends_on = None


def upgrade() -> None:
    # detail: why a file was rejected (or "header only"); source_uri: the path or bucket URL it was read from.
    op.add_column("landed_files", sa.Column("detail", sa.Text))
    op.add_column("landed_files", sa.Column("source_uri", sa.Text))
    op.create_index("ix_settlement_lines_file", "settlement_lines", ["file_id"])
    op.create_index("ix_quarantine_file", "quarantine", ["file_id"])
    op.create_index("ix_landed_files_gateway_date", "landed_files", ["gateway", "report_date"])


def downgrade() -> None:
    op.drop_index("ix_landed_files_gateway_date", table_name="landed_files")
    op.drop_index("ix_quarantine_file", table_name="quarantine")
    op.drop_index("ix_settlement_lines_file", table_name="settlement_lines")
    op.drop_column("landed_files", "source_uri")
    op.drop_column("landed_files", "detail")
