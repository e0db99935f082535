"""Bring the warehouse schema up to date safely when several tasks start at once.

Every task body calls `upgrade` first. On a fresh PostgreSQL warehouse, parallel tasks (a backfill of
several windows, two DAGs on a Celery worker) would each create the tables and collide on the catalog
(`duplicate key value violates unique constraint "pg_type_typname_nsp_index"`). `upgrade_serialised`
holds a PostgreSQL advisory lock (on its own connection) while migrating, so one task migrates and the
others find the schema current. DuckDB has one writer at a time anyway (pool `warehouse_writer`).
The deployment also migrates once before anything runs (compose `airflow-init`, `LocalStack` users).
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from payrecon.warehouse.migrate import upgrade

MIGRATION_LOCK_KEY = 0x70617972  # "payr": one advisory lock id for warehouse migrations


def upgrade_serialised(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        upgrade(engine)
        return
    with engine.connect() as lock_conn:
        lock_conn.execute(text("select pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        try:
            upgrade(engine)
        finally:
            lock_conn.execute(text("select pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            lock_conn.rollback()
