"""A checksum of every warehouse table: did a re-run, a backfill or a recovery change anything?

`table_checksums(engine)` enumerates the tables (SQLAlchemy inspection, so a capability's new table is
covered the day its migration lands), reads each one whole and hashes its rows in a canonical, order-free
form (sorted rows; UTC timestamps; JSON with sorted keys). Only these are left out, each for a reason:

- `EXCLUDED_TABLES`: append-only run logs, which grow by design on every run (R15 allows it).
- `EXCLUDED_COLUMNS`: purely operational lease columns, which say who holds a queue row until when.
- `WALL_CLOCK_COLUMNS`, only with `ignore_wall_clock=True`: when a row was first written. A re-run never
  rewrites them (a landed file is skipped), so they stay IN the checksum when one warehouse is compared
  with itself; they are left out only to compare two warehouses built at different times.

`python -m payrecon.ops checksum --warehouse URL` prints the same numbers (see docs/RUNBOOK.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

EXCLUDED_TABLES: dict[str, str] = {
    "decision_runs": "append-only log of which run decided which window when (order rules, R15)",
}

EXCLUDED_COLUMNS: dict[str, dict[str, str]] = {
    "followup_outbox": {
        "claimed_by": "dispatcher lease: the worker holding the row",
        "claimed_until": "dispatcher lease: when the claim expires",
    },
}

WALL_CLOCK_COLUMNS: dict[str, dict[str, str]] = {
    "landed_files": {"landed_at": "when the file was landed (once per file)"},
    "quarantine": {"quarantined_at": "when the line was quarantined (once per file)"},
    "resolution_files": {"landed_at": "when the resolution file was landed (once per file)"},
}

_SEP = "\x1f"


@dataclass(frozen=True)
class TableChecksum:
    table: str
    rows: int
    sha256: str
    columns: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.sha256}


def canonical(value: Any) -> str:
    """One text form per value, whichever engine returned it."""
    if value is None:
        return "\u2205"
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value else "NaN"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in "{[" and stripped[-1:] in "}]":  # JSON held as text on one engine
            try:
                return json.dumps(json.loads(stripped), sort_keys=True, default=str)
            except ValueError:
                return value
        return value
    return str(value)


def table_names(engine: Engine | Connection) -> list[str]:
    return sorted(sa.inspect(engine).get_table_names())


def _columns(conn: Connection, table: str) -> list[str]:
    return list(conn.execute(sa.text(f"select * from {table} where 1 = 0")).keys())  # noqa: S608 - inspected name


def table_checksum(conn: Connection, table: str, skip_columns: set[str] = frozenset()) -> TableChecksum:
    columns = [c for c in _columns(conn, table) if c not in skip_columns]
    col_list = ", ".join(f'"{c}"' for c in columns)
    rows = conn.execute(sa.text(f"select {col_list} from {table}")).all()  # noqa: S608 - inspected names
    lines = sorted(_SEP.join(canonical(v) for v in row) for row in rows)
    digest = hashlib.sha256()
    digest.update(_SEP.join(columns).encode())
    for line in lines:
        digest.update(b"\n")
        digest.update(line.encode("utf-8", "surrogatepass"))
    return TableChecksum(table, len(rows), digest.hexdigest(), tuple(columns))


def table_checksums(engine: Engine, *, ignore_wall_clock: bool = False) -> dict[str, TableChecksum]:
    """Checksum of every table but the documented exclusions, in one read transaction."""
    out: dict[str, TableChecksum] = {}
    with engine.connect() as conn:
        for table in table_names(conn):
            if table in EXCLUDED_TABLES or table.startswith("_"):
                continue
            skip = set(EXCLUDED_COLUMNS.get(table, {}))
            if ignore_wall_clock:
                skip |= set(WALL_CLOCK_COLUMNS.get(table, {}))
            out[table] = table_checksum(conn, table, skip)
    return out


def differences(before: dict[str, TableChecksum], after: dict[str, TableChecksum]) -> list[str]:
    """Tables whose checksum (or existence) differs, one readable line each."""
    out = []
    for table in sorted(set(before) | set(after)):
        a, b = before.get(table), after.get(table)
        if a is None or b is None:
            out.append(f"{table}: {'new' if a is None else 'gone'}")
        elif a.sha256 != b.sha256:
            out.append(f"{table}: {a.rows} rows -> {b.rows} rows, content changed")
    return out


def column_differences(conn_rows_before: dict[str, list[dict]], conn_rows_after: dict[str, list[dict]]) -> dict:
    """For two `snapshot()`s: per table, the columns whose sorted values differ (to explain a change)."""
    out: dict[str, list[str]] = {}
    for table in sorted(set(conn_rows_before) & set(conn_rows_after)):
        a, b = conn_rows_before[table], conn_rows_after[table]
        cols = sorted(set(a[0]) if a else set(b[0]) if b else set())
        changed = [
            c for c in cols
            if sorted(canonical(r.get(c)) for r in a) != sorted(canonical(r.get(c)) for r in b)
        ]
        if changed or len(a) != len(b):
            out[table] = changed or ["(row count)"]
    return out


def snapshot(engine: Engine, tables: list[str] | None = None) -> dict[str, list[dict]]:
    """Every row of the given tables (default: all checksummed ones) as dicts; for small warehouses."""
    with engine.connect() as conn:
        names = tables or [t for t in table_names(conn) if t not in EXCLUDED_TABLES and not t.startswith("_")]
        return {t: [dict(r._mapping) for r in conn.execute(sa.text(f"select * from {t}"))] for t in names}  # noqa: S608
