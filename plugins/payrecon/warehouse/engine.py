"""One way to open the warehouse, whichever engine it is.

DuckDB allows one writing process per file, so its engines use NullPool: a task holds the file only
while it works, and the next task (or the next window running in parallel, serialised by an Airflow
pool) can open it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


def dialect_of(url: str) -> str:
    """`duckdb`, `postgresql` or `sqlite`."""
    return make_url(url).get_backend_name()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "duckdb":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, poolclass=NullPool)

        @event.listens_for(engine, "connect")
        def _utc(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI object
            dbapi_conn.execute("set TimeZone = 'UTC'")

        return engine
    if backend == "postgresql":
        engine = create_engine(url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})
        return engine
    if backend == "sqlite":
        # Only ever a *source* (a merchant's small commerce DB); the warehouse is DuckDB or PostgreSQL.
        return create_engine(url, poolclass=NullPool)
    raise ValueError(f"unsupported database backend {backend!r} in {parsed.render_as_string()}")


@contextmanager
def warehouse(url: str) -> Iterator[Engine]:
    """An engine that is disposed on exit, so an embedded file is released between tasks."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
