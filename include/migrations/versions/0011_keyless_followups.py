"""Follow-ups and decisions at 1M orders per window: the embedded warehouse drops its last big ARTs.

DuckDB maintains a primary key as an ART on every insert and writes it out at every commit, and never
reads a window through it (hash joins, zone maps). Measured on this machine: inserting 1M outbox rows
(md5 keys) into a 1M-row table took 3.1 s with the key and 0.6 s without. A 1M-order window queues ~1M
outbox rows, registers ~0.5M contacts and writes ~0.2M decisions, so on DuckDB `followup_outbox`,
`followup_contacts` and `order_decisions` are recreated without keys or indexes (same columns, rows
kept), as 0007/0008 did for the reconciliation and ingest tables.

What then holds "one row per key", on DuckDB only (PostgreSQL keeps every key and index, and uses them):
- every writer inserts by anti-join on the key, in one transaction, and DuckDB admits one writing
  process per file (the `warehouse_writer` pool serialises the tasks besides);
- after writing, the writer counts the rows holding the keys it wrote and fails on a duplicate, which
  rolls the transaction back (`followups.outbox.prove_unique` after `outbox_plan` and `journey_send`,
  after `followups_contacts`; `rules.decide` after `order_decisions`). `outbox_id` = md5 of the
  idempotency key, so the exactly-once guard of delivery is the same key, proven instead of enforced.

Revision ID: 0011_keyless_followups
Revises: 0009_followups_perf, depends on 0003_order_rules
"""

from alembic import op

from payrecon.warehouse.duckdb_keys import drop_keys, restore_keys

revision = "0011_keyless_followups"
down_revision = "0009_followups_perf"
branch_labels = None
depends_on = ("0003_order_rules",)

# table -> (primary key, secondary indexes (name, columns)) as 0003/0009 left them on DuckDB
KEYLESS_ON_DUCKDB = {
    "followup_outbox": ("outbox_id", ()),
    "followup_contacts": ("contact_key", ()),
    "order_decisions": ("window_start, order_id, aspect", (("ix_order_decisions_order", "order_id"),)),
}


def upgrade() -> None:
    drop_keys(op, KEYLESS_ON_DUCKDB)


def downgrade() -> None:
    restore_keys(op, KEYLESS_ON_DUCKDB)
