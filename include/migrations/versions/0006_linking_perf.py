"""Linking (R8) at 1M orders a day: incremental relinking, no index upkeep on the embedded warehouse.

- `identity_keys`: the normalised evidence (email, phone, card fingerprints) of every customer record in
  the linking horizon, one row per key, plus a `self` row per record whose `seen_at` (its latest order)
  says whether it is still in the horizon. Kept up to date for the records a run touches, so a run finds
  the records sharing a key with them without renormalising the whole horizon.
- `linking_state`: what the last run had seen (per source table, the newest `updated_at`) and the
  settings it linked with; a run relinks only what changed since, and everything when settings change.
- On DuckDB the linking tables lose their primary keys and secondary indexes: DuckDB maintains ART
  indexes row by row at commit (replacing 1M rows of a keyed table costs ~15 s against ~1 s without),
  and it does not use them for joins. Uniqueness is kept by the writer (delete the changed keys, then
  insert them). PostgreSQL keeps its keys and indexes, and gets indexes on the new table.

Revision ID: 0006_linking_perf
Revises: 0003_order_rules
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_linking_perf"
down_revision = "0003_order_rules"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MINOR = sa.BigInteger
SCORE = sa.Numeric(6, 4)


def _linking_tables(keyed: bool) -> dict[str, list[sa.Column]]:
    return {
        "identity_persons": [
            sa.Column("customer_id", sa.Text, primary_key=keyed, nullable=False),
            sa.Column("person_id", sa.Text, nullable=False),
            sa.Column("score", SCORE, nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("as_of", TS, nullable=False),
        ],
        "purchases": [
            sa.Column("purchase_id", sa.Text, primary_key=keyed, nullable=False),
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
        ],
        "attempt_links": [
            sa.Column("order_id", sa.Text, primary_key=keyed, nullable=False),
            sa.Column("purchase_id", sa.Text, nullable=False),
            sa.Column("person_id", sa.Text, nullable=False),
            sa.Column("customer_id", sa.Text, nullable=False),
            sa.Column("role", sa.Text, nullable=False),
            sa.Column("linked_order_id", sa.Text),
            sa.Column("score", SCORE, nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("created_at", TS, nullable=False),
        ],
        "duplicate_charges": [
            sa.Column("order_id", sa.Text, primary_key=keyed, nullable=False),
            sa.Column("purchase_id", sa.Text, nullable=False),
            sa.Column("original_order_id", sa.Text, nullable=False),
            sa.Column("amount_minor", MINOR, nullable=False),
            sa.Column("currency", sa.String(3), nullable=False),
            sa.Column("charged_at", TS, nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
        ],
    }


INDEXES = {
    "identity_persons": ("ix_identity_persons_person", ["person_id"]),
    "attempt_links": ("ix_attempt_links_purchase", ["purchase_id"]),
}


def _rebuild(keyed: bool) -> None:
    """Recreate the linking tables with or without their keys, keeping their rows (DuckDB only)."""
    for name, columns in _linking_tables(keyed).items():
        op.rename_table(name, f"{name}_old")
        op.create_table(name, *columns)
        op.execute(f"insert into {name} select * from {name}_old")  # noqa: S608 - fixed names
        op.drop_table(f"{name}_old")
        if keyed and name in INDEXES:
            index, cols = INDEXES[name]
            op.create_index(index, name, cols)


def upgrade() -> None:
    duckdb = op.get_bind().dialect.name == "duckdb"
    op.create_table(
        "identity_keys",
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("key_kind", sa.Text, nullable=False),
        sa.Column("key_value", sa.Text, nullable=False),
        sa.Column("seen_at", TS, nullable=False),
    )
    op.add_column("linking_state", sa.Column("orders_seen_at", TS))
    op.add_column("linking_state", sa.Column("attempts_seen_at", TS))
    op.add_column("linking_state", sa.Column("customers_seen_at", TS))
    op.add_column("linking_state", sa.Column("settings", sa.Text))
    if duckdb:
        for index, _cols in INDEXES.values():
            op.execute(f"drop index if exists {index}")
        _rebuild(keyed=False)
    else:
        op.create_index("ix_identity_keys_key", "identity_keys", ["key_value", "key_kind"])
        op.create_index("ix_identity_keys_customer", "identity_keys", ["customer_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "duckdb":
        _rebuild(keyed=True)
    for column in ("settings", "customers_seen_at", "attempts_seen_at", "orders_seen_at"):
        op.drop_column("linking_state", column)
    op.drop_table("identity_keys")
