"""PostgreSQL outbox: the idempotency key's own unique index gives way to a check on the primary key.

`outbox_id` is md5(`idempotency_key`) in every writer (`outbox_plan`, `journey_send`), so the primary key
on `outbox_id` already refuses a second row for a key. The check `outbox_id = md5(idempotency_key)` makes
that structural (a writer that broke the rule fails), and the unique index on the ~50-character key, a
second B-tree of random keys, goes: inserting a 1M-order window's 984k outbox rows took 19.8 s with it and
14.9 s with the check instead (PostgreSQL 15, measured on this machine 2026-12-07). DuckDB has neither
(migration 0011).

Revision ID: 0012_outbox_key_check
Revises: 0011_keyless_followups
"""

from alembic import op

revision = "0012_outbox_key_check"
down_revision = "0011_keyless_followups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("alter table followup_outbox add constraint ck_followup_outbox_id_is_key_md5 "
               "check (outbox_id = md5(idempotency_key))")
    op.execute("alter table followup_outbox drop constraint if exists followup_outbox_idempotency_key_key")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("alter table followup_outbox add constraint followup_outbox_idempotency_key_key unique (idempotency_key)")
    op.execute("alter table followup_outbox drop constraint if exists ck_followup_outbox_id_is_key_md5")
