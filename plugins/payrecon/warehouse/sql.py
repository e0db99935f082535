"""Run the named SQL steps of `include/sql/`, with values bound, never formatted in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Connection, text

from payrecon.settings import SQL_DIR


@cache
def load(name: str) -> str:
    """The text of `include/sql/<name>.sql`; statements are separated by lines holding only `;`."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL step {name!r} at {path}")
    return path.read_text(encoding="utf-8")


def _strip_comments(body: str) -> str:
    """Drop whole-line comments: they document binds (`:window_start`) that must not be bound."""
    return "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--"))


def statements(name: str) -> list[str]:
    body = _strip_comments(load(name))
    parts = [part.strip() for part in body.split("\n;\n")]
    return [p.rstrip(";").strip() for p in parts if p.rstrip(";").strip()]


def run(conn: Connection, name: str, **params: Any) -> int:
    """Execute every statement of a step in the caller's transaction; returns rows touched."""
    touched = 0
    for stmt in statements(name):
        clause = text(stmt)
        wanted = {k: v for k, v in params.items() if k in clause.compile().params}
        result = conn.execute(clause, wanted)
        touched += max(result.rowcount or 0, 0)
    return touched


def scalar(conn: Connection, name: str, **params: Any) -> Any:
    (stmt,) = statements(name)
    return conn.execute(text(stmt), params).scalar()


def analyze_scratch(conn: Connection, *tables: str) -> None:
    """Give PostgreSQL row counts of temporary tables, which autovacuum never analyzes.

    Without them a million-row scratch table is planned as a few rows, and an anti-join becomes a
    nested loop (the follow-up planner ran >8 min at 100k orders that way). DuckDB needs nothing.
    """
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.exec_driver_sql(f"analyze {table}")


def hash_joins_only(conn: Connection) -> None:
    """PostgreSQL, for the rest of the caller's transaction: join by hash, never by nested loop or merge.

    A window's statements join sets of a million rows that live in CTEs, which PostgreSQL plans without
    row counts: it picked index nested loops (852k probes of `payment_attempts` by order in reconcile) and
    merge joins over external sorts of text keys. Measured at 1M orders (2026-12-07): reconcile 33.0 s ->
    30.3 s, rules 38.2 s -> 30.6 s; linking did not gain (71.8 s -> 76.3 s) and keeps the planner's choice.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("set local enable_nestloop = off")
        conn.exec_driver_sql("set local enable_mergejoin = off")


@contextmanager
def without_merge_joins(conn: Connection) -> Iterator[None]:
    """PostgreSQL, for the statements inside: no merge joins (the setting is restored after).

    A CTE's row count is a guess: PostgreSQL took the follow-up events' 795k initial orders for 7,510
    rows and matched them to 1.2M customers on three lower-cased names by a merge join, sorting both
    sides on disk (7.3 s of the step's 19.5 s at 1M orders, measured 2026-12-07); by hash the step ran
    15.0-15.5 s. Nested loops stay allowed: they are right for the small lookups of a quiet day.

    Restored only when the statements succeed: after an error the transaction is aborted (it refuses
    every statement, the restore would replace the real error) and its rollback undoes `set local`."""
    if conn.dialect.name != "postgresql":
        yield
        return
    before = conn.exec_driver_sql("select current_setting('enable_mergejoin')").scalar()
    conn.exec_driver_sql("set local enable_mergejoin = off")
    yield
    conn.exec_driver_sql(f"set local enable_mergejoin = {'on' if before == 'on' else 'off'}")


@contextmanager
def unordered(conn: Connection) -> Iterator[None]:
    """DuckDB, for a step whose scratch tables are joined and aggregated, never read in insertion order:
    without that order DuckDB need not hold rows back to keep it, so big steps need less memory
    (measured at 1M orders in a fresh process, 2026-12-07: rules ran out of memory at a 700 MB cap with
    the order kept; without it, it once finished at 909 MB of RSS and once ran out again: at 700 MB it
    sits on the edge, see bench/README.md). PostgreSQL: nothing to do.

    Reset only when the step succeeds: after an error DuckDB refuses every statement of the aborted
    transaction, and a failing reset would replace the real error (an out-of-memory one showed up as
    "transaction is aborted"); the warehouse's connections are not pooled, so the setting ends with it."""
    duckdb = conn.dialect.name == "duckdb"
    if duckdb:
        conn.exec_driver_sql("set preserve_insertion_order = false")
    yield
    if duckdb:
        conn.exec_driver_sql("reset preserve_insertion_order")


ANALYZE_AFTER_ROWS = 10_000


def analyze_after_load(conn: Connection, table: str, rows: int) -> None:
    """Refresh PostgreSQL's statistics of `table` after a bulk load of `rows`, in the same transaction.

    Autovacuum analyzes a changed table a minute or more later; the next stage starts within seconds
    and would plan a million new rows with yesterday's counts. Small loads leave it to autovacuum.
    """
    if rows >= ANALYZE_AFTER_ROWS:
        analyze_scratch(conn, table)


def prove_unique(conn: Connection, table: str, keys: list[str], scope: str, **params: Any) -> None:
    """On DuckDB, whose big tables keep no primary key (migrations 0007, 0008, 0011): fail, rolling the
    caller's transaction back, when a key of the rows just written (`scope`, a condition on alias `n`)
    is held by more than one row of `table`. PostgreSQL enforces its keys itself: nothing to do."""
    if conn.dialect.name != "duckdb":
        return
    from payrecon.warehouse.bulk import DuplicateKeyError

    cols = ", ".join(f"t.{k}" for k in keys)
    same = " and ".join(f"n.{k} = t.{k}" for k in keys)
    stmt = (
        f"select count(*) from (select {cols} from {table} as t "  # noqa: S608 - fixed names
        f"where exists (select 1 from {table} as n where ({scope}) and {same}) group by {cols} having count(*) > 1)"
    )
    repeated = int(conn.execute(text(stmt), params).scalar() or 0)
    if repeated:
        raise DuplicateKeyError(f"{table}: {repeated} key(s) ({', '.join(keys)}) held by more than one row")
