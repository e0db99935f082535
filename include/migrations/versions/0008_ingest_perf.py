"""Ingest and orders pull at 1M rows per window: no ART upkeep on the embedded warehouse.

DuckDB keeps every primary key and index as an ART that each insert (and each delete, and each update
of an indexed column) maintains and each commit writes out; it never uses one to read a window (hash
joins, zone maps). Measured at 1M rows on this project's tables: inserting 1M orders costs 2.1 s with
the text primary key against 1.0 s without; landing 0.85M settlement lines spent ~5 s in its `line_id`
key and secondary indexes. So on DuckDB `settlement_lines`, `orders`, `payment_attempts`, `customers`
and `subscriptions` are recreated without primary key or secondary index (same columns, same NOT NULLs,
rows kept), as 0006/0007 do for the linking and reconciliation tables.

Uniqueness is then held by the only writers, in one transaction each, and checked:
- `settlement_lines`: a file lands once (its SHA-256 in `landed_files`, which keeps its key, is checked
  and written in the same transaction as its lines), and `line_id` = `file_id:line_no` with line numbers
  unique within a file; a quarantine release inserts only line numbers not loaded yet;
- the commerce copies: `bulk.upsert_frame` updates keys already present and inserts the others by
  anti-join, then counts the rows of the keys it wrote and fails (rolling the pull back) on a duplicate.

PostgreSQL keeps every key and index: it uses them.

Revision ID: 0008_ingest_perf
Revises: 0002_ingestion
"""

from alembic import op

from payrecon.warehouse.duckdb_keys import drop_keys, restore_keys

revision = "0008_ingest_perf"
down_revision = "0002_ingestion"
branch_labels = None
depends_on = None

# table -> (primary key, secondary indexes (name, columns)) as the foundation and 0002 created them
KEYLESS_ON_DUCKDB = {
    "settlement_lines": (
        "line_id",
        (
            ("ix_settlement_lines_window", "window_start"),
            ("ix_settlement_lines_charge", "gateway, charge_id"),
            ("ix_settlement_lines_file", "file_id"),
        ),
    ),
    "customers": ("customer_id", ()),
    "subscriptions": ("subscription_id", ()),
    "orders": ("order_id", (("ix_orders_created", "created_at"),)),
    "payment_attempts": (
        "attempt_id",
        (("ix_payment_attempts_order", "order_id"), ("ix_payment_attempts_charge", "gateway, gateway_charge_id")),
    ),
}


def upgrade() -> None:
    drop_keys(op, KEYLESS_ON_DUCKDB)


def downgrade() -> None:
    restore_keys(op, KEYLESS_ON_DUCKDB)
