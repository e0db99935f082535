"""Taking primary keys and indexes off embedded-warehouse tables, and putting them back, for migrations.

DuckDB cannot drop a key in place: a table is recreated with the same columns (types, NOT NULL,
defaults, as DuckDB reports them) and its rows copied over. Migrations 0008 and 0011 say why each table
goes keyless and who then holds its key (docs/CONTRACT.md section 5).
"""

from __future__ import annotations

import sqlalchemy as sa

# table -> (primary key columns, secondary indexes as (name, columns))
KeySpec = dict[str, tuple[str, tuple[tuple[str, str], ...]]]


def column_ddl(op, table: str) -> str:  # noqa: ANN001 - alembic.op
    """The table's columns as DuckDB reports them, in table order."""
    rows = op.get_bind().execute(
        sa.text(
            "select column_name, data_type, is_nullable, column_default from duckdb_columns()"
            " where table_name = :t and schema_name = current_schema() order by column_index"
        ),
        {"t": table},
    ).fetchall()
    if not rows:
        raise RuntimeError(f"table {table} not found")
    return ", ".join(
        f'"{name}" {dtype}{"" if nullable else " not null"}{f" default {default}" if default is not None else ""}'
        for name, dtype, nullable, default in rows
    )


def recreate(op, table: str, extra: str = "") -> None:  # noqa: ANN001
    """Copy the rows into a new table of the same columns plus `extra` (a key clause, or nothing)."""
    columns = column_ddl(op, table)
    op.execute(f"create table {table}__new ({columns}{extra})")
    op.execute(f"insert into {table}__new select * from {table}")  # noqa: S608 - fixed names
    op.execute(f"drop table {table}")
    op.execute(f"alter table {table}__new rename to {table}")


def drop_keys(op, tables: KeySpec) -> None:  # noqa: ANN001
    """On DuckDB only: every table of `tables` without its indexes and primary key."""
    if op.get_bind().dialect.name != "duckdb":
        return
    for table, (_key, indexes) in tables.items():
        for name, _cols in indexes:
            op.execute(f"drop index if exists {name}")
        recreate(op, table)


def restore_keys(op, tables: KeySpec) -> None:  # noqa: ANN001
    """On DuckDB only: undo `drop_keys`."""
    if op.get_bind().dialect.name != "duckdb":
        return
    for table, (key, indexes) in tables.items():
        recreate(op, table, f", primary key ({key})")
        for name, cols in indexes:
            op.execute(f"create index {name} on {table} ({cols})")
