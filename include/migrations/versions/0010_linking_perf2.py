"""Linking (R8) at 1M orders a day, second step.

- `int_identity_pairs` drops pairs of records sharing only a phone or card whose names are too far
  apart to ever match (an edit distance bound on the names): millions of household and shared-phone
  pairs never reach Python. DuckDB has `levenshtein` built in; PostgreSQL takes it from the
  `fuzzystrmatch` contrib extension (trusted: a database owner may create it).
- PostgreSQL: `identity_keys` loses its two indexes (0006). A run rewrites the keys of every record it
  touches (most of the horizon on a busy day) and the B-tree upkeep on text was most of linking's time
  (inserting 300k keys: 9.5 s with them, 0.3 s without, 100k orders/day); every read of the table
  joins it whole by hash, which no index helps.

Revision ID: 0010_linking_perf2
Revises: 0006_linking_perf
"""

from alembic import op

revision = "0010_linking_perf2"
down_revision = "0006_linking_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("create extension if not exists fuzzystrmatch")
        op.drop_index("ix_identity_keys_key", table_name="identity_keys")
        op.drop_index("ix_identity_keys_customer", table_name="identity_keys")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_identity_keys_customer", "identity_keys", ["customer_id"])
        op.create_index("ix_identity_keys_key", "identity_keys", ["key_value", "key_kind"])
        op.execute("drop extension if exists fuzzystrmatch")
