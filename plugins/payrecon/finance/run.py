"""Run the finance steps for windows: land bank statements and reference rates, then decide every
settlement line, order, payout and bank line of each window in one transaction (SQL in
`include/sql/finance/`), raise and age exceptions, and re-apply every hand-made resolution.

A window's finance as-of is the later of its end and its stored as-of, which a later window's run moves
forward when it re-decides items of this window (a payout tied by a later deposit, an order settled by a
late line): as-ofs only move forward, so re-running a window or a month gives the same rows (R15).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from payrecon.finance import exceptions as exc_kinds
from payrecon.finance import fees, fx, tolerances
from payrecon.finance.bank_statements import land_bank_window, report_dicts
from payrecon.settings import Settings, Window
from payrecon.warehouse import sql

log = logging.getLogger(__name__)

STEPS = (
    "int_finance_scope",
    "int_match_groups",
    "finance_orders",
    "finance_lines",
    "write_offs",
    "fee_variances",
    "fx_differences",
    "payouts",
    "exceptions_merge",
    "apply_resolutions",
    "age_exceptions",
    "finance_windows",
)
TEMP_TABLES = (
    "_fin_orders", "_fin_edges", "_fin_groups", "_fin_group_eval", "_fin_exception_scope", "_fin_new_exceptions",
    "_fin_payout_keys", "_fin_payouts", "_fin_bank", "_fin_payout_ties", "_fin_latest_resolution",
    "_fin_latest_owner", "_fin_touched_windows",
)


class FinanceInvariantViolation(RuntimeError):
    """An item of a window without exactly one finance state: the window is not published."""


class NotReconciled(RuntimeError):
    """The finance step needs the window's reconciliation first."""


@dataclass(frozen=True)
class FinanceConfig:
    tolerances: tolerances.Tolerances
    fee_schedules: tuple[fees.FeeSchedule, ...]
    grace_days: int = 3
    owners: dict[str, str] = field(default_factory=dict)


def load_config(tolerances_path: Path | None = None, fees_path: Path | None = None, grace_days: int = 3,
                owners: dict[str, str] | None = None) -> FinanceConfig:
    """Read and check both YAML files (a FinanceConfigError names the file, entry and field)."""
    return FinanceConfig(
        tolerances=tolerances.load_tolerances(tolerances_path or tolerances.DEFAULT_PATH),
        fee_schedules=fees.load_fee_schedules(fees_path or fees.DEFAULT_PATH),
        grace_days=grace_days,
        owners=dict(owners or {}),
    )


@dataclass(frozen=True)
class FinanceWindowResult:
    window: Window
    as_of: datetime
    states: dict[str, dict[str, int]]
    open_exceptions: dict[str, int]
    bank_files: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.window.as_dict(),
            "as_of": self.as_of.isoformat(),
            "states": self.states,
            "open_exceptions": self.open_exceptions,
            "bank_files": self.bank_files,
        }


def write_config(conn: Connection, config: FinanceConfig) -> None:
    """Snapshot the merchant's rules into the tables the SQL joins."""
    tolerances.write_snapshot(conn, config.tolerances)
    fees.write_snapshot(conn, config.fee_schedules)
    fx.write_currency_snapshot(conn)
    exc_kinds.write_snapshot(conn, config.owners)


def _aware(value: datetime | None, like: datetime) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=like.tzinfo)


def window_as_of(conn: Connection, window: Window) -> datetime:
    recon = conn.execute(
        text("select as_of from reconciliation_windows where window_start = :ws"), {"ws": window.start}
    ).scalar()
    if recon is None:
        raise NotReconciled(f"window {window.label} has not been reconciled: run the reconcile DAG for it first")
    stored = conn.execute(
        text("select as_of from finance_windows where window_start = :ws"), {"ws": window.start}
    ).scalar()
    stored = _aware(stored, window.end)
    return max(window.end, stored) if stored is not None else window.end


def _counts(conn: Connection, window: Window) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    states: dict[str, dict[str, int]] = {}
    rows = conn.execute(
        text(
            "select item_type, state, count(*) from finance_matches where window_start = :ws "
            "group by item_type, state order by item_type, state"
        ),
        {"ws": window.start},
    )
    for item_type, state, n in rows:
        states.setdefault(item_type, {})[state] = int(n)
    open_rows = conn.execute(
        text(
            "select kind, count(*) from exceptions where window_start = :ws and status = 'open' "
            "group by kind order by kind"
        ),
        {"ws": window.start},
    )
    return states, {kind: int(n) for kind, n in open_rows}


def finance_window(conn: Connection, window: Window, config: FinanceConfig) -> FinanceWindowResult:
    """Decide one window inside the caller's transaction."""
    as_of = window_as_of(conn, window)
    binds = {
        "window_start": window.start,
        "window_end": window.end,
        "as_of": as_of,
        "grace": timedelta(days=config.grace_days),
    }
    for step in STEPS:
        sql.run(conn, f"finance/{step}", **binds)
    violations = sql.scalar(conn, "finance/check_every_item_has_one_state", **binds) or 0
    for table in TEMP_TABLES:
        conn.exec_driver_sql(f"drop table if exists {table}")
    if violations:
        raise FinanceInvariantViolation(
            f"window {window.label}: {violations} items without exactly one finance state or exception"
        )
    states, open_exceptions = _counts(conn, window)
    return FinanceWindowResult(window, as_of, states, open_exceptions)


def run_finance(engine: Engine, settings: Settings, windows: list[Window], config: FinanceConfig,
                land: bool = True) -> list[FinanceWindowResult]:
    """Each window oldest first, in one transaction: land its bank statements and rates, then decide it."""
    results = []
    with engine.begin() as conn:
        write_config(conn, config)
    for window in sorted(windows, key=lambda w: w.start):
        bank_reports = []
        with engine.begin() as conn:
            if land:
                bank_reports = report_dicts(land_bank_window(conn, settings, window))
                fx.land_rates_window(conn, settings, window)
            result = finance_window(conn, window, config)
        result.bank_files.extend(bank_reports)
        log.info("finance %s as of %s: %s; open exceptions %s", window.label, result.as_of.isoformat(),
                 result.states, result.open_exceptions)
        results.append(result)
    return results
