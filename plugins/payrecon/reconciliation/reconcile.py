"""Reconcile one window in one transaction, in set-based SQL (`include/sql/marts/reconciliation_*`).

The as-of of a window only moves forward: it is the end of the latest window whose run touched it.
States are decided against that as-of, never the wall clock, so re-running a window or a backfill in
any order gives the same rows (R15).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, text

from payrecon.settings import ReconSettings, Window
from payrecon.warehouse import sql

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowResult:
    window: Window
    as_of: datetime
    line_states: dict[str, int] = field(default_factory=dict)
    order_states: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            **self.window.as_dict(),
            "as_of": self.as_of.isoformat(),
            "line_states": self.line_states,
            "order_states": self.order_states,
        }


class InvariantViolation(RuntimeError):
    """A line or order without exactly one state: the window is not published."""


def _window_as_of(conn: Connection, window: Window) -> datetime:
    stored = conn.execute(
        text("select as_of from reconciliation_windows where window_start = :ws"), {"ws": window.start}
    ).scalar()
    if stored is None:
        return window.end
    stored = stored if stored.tzinfo else stored.replace(tzinfo=window.end.tzinfo)
    return max(window.end, stored)


def _bump_earlier_windows(conn: Connection, window: Window) -> None:
    """Earlier windows whose orders this run re-decided now stand as of this window's end."""
    conn.execute(
        text(
            """
            update reconciliation_windows
            set as_of = :we
            where window_start < :ws
              and as_of < :we
              and window_start in (select distinct window_start from _orders_to_evaluate)
            """
        ),
        {"we": window.end, "ws": window.start},
    )


def _state_counts(conn: Connection, window: Window, item_type: str) -> dict[str, int]:
    rows = conn.execute(
        text(
            "select state, count(*) from reconciliation_results "
            "where item_type = :t and window_start = :ws group by state order by state"
        ),
        {"t": item_type, "ws": window.start},
    )
    return {state: int(n) for state, n in rows}


def reconcile_window(conn: Connection, window: Window, recon: ReconSettings) -> WindowResult:
    """Decide every line and order of `window` inside the caller's transaction."""
    sql.hash_joins_only(conn)
    as_of = _window_as_of(conn, window)
    binds = {
        "window_start": window.start,
        "window_end": window.end,
        "as_of": as_of,
        "grace": timedelta(days=recon.settlement_grace_days),
    }
    sql.run(conn, "intermediate/int_orders_to_evaluate", **binds)
    sql.analyze_scratch(conn, "_orders_to_evaluate")
    sql.run(conn, "marts/reconciliation_lines", **binds)
    sql.run(conn, "marts/reconciliation_orders", **binds)
    _bump_earlier_windows(conn, window)
    sql.run(conn, "marts/reconciliation_windows", **binds)
    conn.exec_driver_sql("drop table if exists _orders_to_evaluate")
    violations = sql.scalar(conn, "checks/every_item_has_one_state", **binds) or 0
    if violations:
        raise InvariantViolation(f"window {window.label}: {violations} lines or orders without exactly one state")
    return WindowResult(
        window=window,
        as_of=as_of,
        line_states=_state_counts(conn, window, "settlement_line"),
        order_states=_state_counts(conn, window, "order"),
    )


def reconcile(engine: Engine, windows: list[Window], recon: ReconSettings) -> list[WindowResult]:
    """Each window in its own transaction, oldest first, so later windows see earlier decisions."""
    results = []
    for window in sorted(windows, key=lambda w: w.start):
        with engine.begin() as conn:
            result = reconcile_window(conn, window, recon)
        log.info(
            "reconciled %s as of %s: lines %s, orders %s",
            window.label,
            result.as_of.isoformat(),
            result.line_states,
            result.order_states,
        )
        results.append(result)
    return results
