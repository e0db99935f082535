"""One way to open the warehouse, whichever engine it is.

DuckDB allows one writing process per file, so its engines use NullPool: a task holds the file only
while it works, and the next task (or the next window running in parallel, serialised by an Airflow
pool) can open it.

DuckDB's buffer pool counts in the process's resident memory and defaults to 80 % of the machine:
a 1M-row window then peaks at several GB (7 GB measured in linking). The warehouse engine caps it
(`DUCKDB_DEFAULTS`; DuckDB spills joins and sorts to `<file>.tmp` beyond it). A setting in the
Connection's URL query (`duckdb:///wh.duckdb?memory_limit=2GB&threads=4`) wins over these defaults,
and `PAYRECON_DUCKDB_MEMORY_LIMIT` changes the default without touching the Connection.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

DUCKDB_DEFAULTS = {"memory_limit": "2GB"}

# PostgreSQL session settings for warehouse connections (a window's statements each join and sort a
# million rows): room for those sorts and hashes in memory (the server default, 4 MB, spills them to
# disk), and for the temporary tables the steps build (8 MB by default), and no JIT compilation, which
# costs each big statement seconds of LLVM work for expressions evaluated once per row (measured on the
# 1M-row benchmark, bench/README.md). Options in the Connection's URL come after these and win.
PG_SESSION_DEFAULTS = {"timezone": "UTC", "work_mem": "128MB", "temp_buffers": "256MB", "jit": "off"}


def pg_options(query: dict[str, str] | None = None) -> str:
    """The libpq `options` string: the defaults, then the URL's own `options`."""
    defaults = " ".join(f"-c {k}={v}" for k, v in PG_SESSION_DEFAULTS.items())
    extra = (query or {}).get("options")
    return f"{defaults} {extra}" if extra else defaults


def duckdb_config(query: dict[str, str] | None = None) -> dict[str, str]:
    """DuckDB settings for a warehouse connection: the defaults, the environment, then the URL."""
    config = dict(DUCKDB_DEFAULTS)
    if os.environ.get("PAYRECON_DUCKDB_MEMORY_LIMIT"):
        config["memory_limit"] = os.environ["PAYRECON_DUCKDB_MEMORY_LIMIT"]
    config.update(query or {})
    return config


def dialect_of(url: str) -> str:
    """`duckdb`, `postgresql` or `sqlite`."""
    return make_url(url).get_backend_name()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "duckdb":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        config = {k: v for k, v in duckdb_config().items() if k not in parsed.query}
        engine = create_engine(url, poolclass=NullPool, connect_args={"config": config})

        @event.listens_for(engine, "connect")
        def _utc(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI object
            dbapi_conn.execute("set TimeZone = 'UTC'")

        return engine
    if backend == "postgresql":
        engine = create_engine(url, pool_pre_ping=True, connect_args={"options": pg_options(dict(parsed.query))})
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
