"""One warehouse transaction around work written against an `Engine`, committed or rolled back.

Capabilities open their own transactions (`engine.begin()`, `engine.connect()`). `one_transaction`
hands them a stand-in engine whose every `begin()`/`connect()` yields the SAME connection inside ONE
outer transaction, so:

- a whole window's work commits together or not at all (a task killed halfway leaves no partial window:
  the database drops the open transaction with the dead connection);
- a dry run is the same code with the outer transaction rolled back at the end: every query, check and
  count runs for real, nothing is written.

Nothing the capabilities do may commit on its own: no `conn.commit()` inside `payrecon` (checked by a
test). On PostgreSQL the open transaction holds its row locks until the end, so a dry run of a window
briefly blocks a writer of the same rows; on DuckDB the pool `warehouse_writer` already serialises writers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)


class SharedTransaction:
    """Looks like an `Engine` to the capabilities; every connection is the one outer connection."""

    def __init__(self, conn: Connection, engine: Engine) -> None:
        self._conn = conn
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
    def begin(self) -> Iterator[Connection]:
        yield self._conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield self._conn

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
