"""Linking (R8) at 1M orders a day, second step: PostgreSQL's edit distance for the pair pre-filter.

- `int_identity_pairs` drops pairs of records sharing only a phone or card whose names are too far
  apart to ever match (an edit distance bound on the names): millions of household and shared-phone
  pairs never reach Python. DuckDB has `levenshtein` built in; PostgreSQL takes it from the
  `fuzzystrmatch` contrib extension (trusted: a database owner may create it).

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


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("drop extension if exists fuzzystrmatch")
