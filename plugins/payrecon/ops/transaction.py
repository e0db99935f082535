"""One warehouse transaction around work written against an `Engine`, committed or rolled back.

Capabilities manage their own transactions (`engine.begin()`, `engine.connect()`, `conn.begin()`, and a
`conn.rollback()` to drop a read snapshot before a long parse). `one_transaction` hands them a stand-in
engine whose every connection is the SAME connection inside ONE outer transaction, with the
capabilities' own transaction control turned into no-ops, so:

- a whole window's work commits together or not at all (a task killed halfway leaves no partial window:
  the database drops the open transaction with the dead connection);
- a dry run is the same code with the outer transaction rolled back at the end: every query, check and
  count runs for real, nothing is written.

An error inside still fails the whole unit: it propagates (PostgreSQL also refuses any further
statement in an aborted transaction) and the outer transaction is rolled back.

Costs: on PostgreSQL the open transaction holds its row locks until the end (a second run landing the
same file waits, then finds it landed or fails on its key and retries); on DuckDB the pool
`warehouse_writer` already serialises writers. Migrations (`upgrade`) run before, on the real engine:
a dry run may bring the schema up to date, it never writes rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)


class _JoinedTransaction:
    """What `conn.begin()` returns inside the outer transaction: ending it is the outer one's job."""

    def __init__(self, conn: JoinedConnection) -> None:
        self.connection = conn
        self.is_active = True

    def __enter__(self) -> _JoinedTransaction:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


class JoinedConnection:
    """The outer connection; `begin`/`commit`/`rollback`/`close` are no-ops, the rest is delegated."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __enter__(self) -> JoinedConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def begin(self) -> _JoinedTransaction:
        return _JoinedTransaction(self)

    begin_nested = begin

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass

    def in_transaction(self) -> bool:
        return True


class SharedTransaction:
    """Looks like an `Engine` to the capabilities; every connection is the one outer connection."""

    def __init__(self, conn: Connection, engine: Engine) -> None:
        self._joined = JoinedConnection(conn)
        self._engine = engine

    @property
    def dialect(self) -> Any:
        return self._engine.dialect

    @property
    def url(self) -> Any:
        return self._engine.url

    @property
    def name(self) -> str:
        return self._engine.name

    @contextmanager
    def begin(self) -> Iterator[JoinedConnection]:
        yield self._joined

    def connect(self) -> JoinedConnection:
        return self._joined

    def dispose(self) -> None:  # the real engine is disposed by whoever made it
        pass


@contextmanager
def one_transaction(engine: Engine, *, commit: bool = True, label: str = "") -> Iterator[SharedTransaction]:
    """Yield an engine stand-in whose work is one transaction: committed on success when `commit`,
    rolled back otherwise (always rolled back on error)."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield SharedTransaction(conn, engine)
        except BaseException:
            outer.rollback()
            raise
        if commit:
            outer.commit()
        else:
            outer.rollback()
            log.info("dry run%s: transaction rolled back, nothing written", f" ({label})" if label else "")
