"""Alembic environment: one schema history for DuckDB (embedded default) and PostgreSQL."""

from __future__ import annotations

from alembic import context
from alembic.ddl.postgresql import PostgresqlImpl
from sqlalchemy import Connection


class DuckDBImpl(PostgresqlImpl):
    """DuckDB speaks PostgreSQL's DDL closely enough; Alembic just needs to know the dialect name."""

    __dialect__ = "duckdb"
    transactional_ddl = True


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through payrecon.warehouse.migrate, which passes a connection")
run_migrations(connection)
