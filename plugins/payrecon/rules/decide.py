"""R1-R7 for one window, set-based, in one transaction: classify, let each rule propose, pick, publish.

Each rule is one SQL step (`include/sql/rules/rules_r<n>_*.sql`) behind one function named for it, so
a rule can be read, tested and changed alone. Rules only *propose* a decision per order and aspect;
`rules_winners` picks by a declared priority (R7 > R4/R5/R6 > R1/R2/R3), which is where precedence
between rules lives, not in the rules. Decisions read attempts up to the window end only and carry no
wall-clock time, so a re-run writes the same rows (R15); the run itself is logged in `decision_runs`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from payrecon.rules.settings import RuleSettings
from payrecon.settings import Window
from payrecon.warehouse import sql
from payrecon.warehouse.bulk import insert_frame, upsert_frame

log = logging.getLogger(__name__)

Binds = dict[str, Any]


def r1_failed_initial(conn: Connection, binds: Binds) -> None:
    sql.run(conn, "rules/rules_r1_failed_initial", **binds)


def r2_subsequent_auto_charge(conn: Connection, binds: Binds) -> None:
    sql.run(conn, "rules/rules_r2_subsequent_auto_charge", **binds)


def r3_no_subscription_after_failed_first_payment(conn: Connection, binds: Binds) -> None:
    sql.run(conn, "rules/rules_r3_no_subscription", **binds)


def r4_api_orders_keep_flag(conn: Connection, binds: Binds) -> None:
    sql.run(conn, "rules/rules_r4_api_orders", **binds)


def r5_action_set_orders_keep_choice(conn: Connection, binds: Binds) -> None:
    sql.run(conn, "rules/rules_r5_action_set_orders", **binds)


def r6_manual_subscriptions_stay(conn: Connection, binds: Binds) -> None:
    sql.run(conn, "rules/rules_r6_manual_subscription", **binds)


def r7_person_change_wins(conn: Connection, binds: Binds) -> None:
    sql.run(conn, "rules/rules_r7_person_switch", **binds)


RULES: tuple[Callable[[Connection, Binds], None], ...] = (
    r1_failed_initial,
    r2_subsequent_auto_charge,
    r3_no_subscription_after_failed_first_payment,
    r4_api_orders_keep_flag,
    r5_action_set_orders_keep_choice,
    r6_manual_subscriptions_stay,
    r7_person_change_wins,
)


@dataclass(frozen=True)
class DecisionResult:
    window: Window
    orders_decided: int
    decisions: dict[str, int] = field(default_factory=dict)
    retry_rows: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            **self.window.as_dict(),
            "orders_decided": self.orders_decided,
            "decisions": self.decisions,
            "retry_rows": self.retry_rows,
        }


def _load_hard_codes(conn: Connection, settings: RuleSettings) -> None:
    """The declared hard decline codes as a temporary table, so SQL joins them instead of inlining."""
    conn.exec_driver_sql("drop table if exists _hard_decline_codes")
    conn.exec_driver_sql("create temporary table _hard_decline_codes (decline_code varchar primary key)")
    insert_frame(conn, "_hard_decline_codes", pd.DataFrame({"decline_code": sorted(settings.hard_decline_codes)}))


def _binds(window: Window, settings: RuleSettings) -> Binds:
    as_of = window.end
    return {
        "window_start": window.start,
        "window_end": window.end,
        "as_of": as_of,
        "card_since": as_of - timedelta(days=30),
        "auto_charge": settings.auto_charge,
        "max_retries_per_order": settings.max_retries_per_order,
        "retry_cap": settings.retry_cap_per_card_30d,
        "retry_interval_days": settings.retry_interval_days,
    }


def _drop_scratch(conn: Connection) -> None:
    for name in ("_rule_winners", "_rule_candidates", "_rules_facts", "_rules_orders", "_hard_decline_codes"):
        conn.exec_driver_sql(f"drop table if exists {name}")


def decide_window(conn: Connection, window: Window, settings: RuleSettings, run_id: str) -> DecisionResult:
    """Decide every order the window touched, inside the caller's transaction."""
    with sql.unordered(conn):
        return _decide_window(conn, window, settings, run_id)


def _decide_window(conn: Connection, window: Window, settings: RuleSettings, run_id: str) -> DecisionResult:
    binds = _binds(window, settings)
    postgres = conn.dialect.name == "postgresql"
    sql.hash_joins_only(conn)
    _load_hard_codes(conn, settings)
    sql.run(conn, "intermediate/int_attempts_orders_to_decide", **binds)
    if postgres:  # temporary tables are never auto-analyzed: without counts they are planned as tiny
        conn.exec_driver_sql("analyze _rules_orders")
    sql.run(conn, "intermediate/int_attempts_order_facts", **binds)
    if postgres:
        conn.exec_driver_sql("analyze _rules_facts")
    sql.run(conn, "rules/rules_candidates", **binds)
    for rule in RULES:
        rule(conn, binds)
    sql.run(conn, "rules/rules_winners", **binds)
    sql.run(conn, "rules/rules_retry_cap", **binds)
    sql.run(conn, "marts/order_decisions", **binds)
    sql.prove_unique(conn, "order_decisions", ["window_start", "order_id", "aspect"],
                     "n.window_start = :window_start", window_start=window.start)
    sql.run(conn, "marts/retry_list", **binds)
    sql.run(conn, "marts/attempt_classes", **binds)
    orders = int(conn.execute(text("select count(*) from _rules_orders")).scalar() or 0)
    counts = {
        f"{rule}:{result}": int(n)
        for rule, result, n in conn.execute(
            text(
                "select rule, result, count(*) from order_decisions where window_start = :ws "
                "group by rule, result order by rule, result"
            ),
            {"ws": window.start},
        )
    }
    retry_rows = int(
        conn.execute(text("select count(*) from retry_list where window_start = :ws"), {"ws": window.start}).scalar()
        or 0
    )
    _drop_scratch(conn)
    _record_run(conn, window, settings, run_id, orders, sum(counts.values()), retry_rows)
    return DecisionResult(window=window, orders_decided=orders, decisions=counts, retry_rows=retry_rows)


def _record_run(
    conn: Connection, window: Window, settings: RuleSettings, run_id: str, orders: int, decisions: int, retry_rows: int
) -> None:
    """Append-only log of who decided which window and when: the only place wall-clock time goes."""
    row = {
        "run_id": run_id,
        "window_start": window.start,
        "window_end": window.end,
        "as_of": window.end,
        "recorded_at": datetime.now(UTC),
        "orders_decided": orders,
        "decisions": decisions,
        "retry_rows": retry_rows,
        "settings": settings.as_json(),
    }
    upsert_frame(conn, "decision_runs", pd.DataFrame([row]), ["run_id", "window_start"])


def decide(engine: Engine, windows: list[Window], settings: RuleSettings, run_id: str) -> list[DecisionResult]:
    """Each window in its own transaction, oldest first, so a later window sees earlier retry rows."""
    results = []
    for window in sorted(windows, key=lambda w: w.start):
        with engine.begin() as conn:
            result = decide_window(conn, window, settings, run_id)
        log.info(
            "rules %s: %d orders, %d retry rows, %s",
            window.label, result.orders_decided, result.retry_rows, result.decisions,
        )
        results.append(result)
    return results
