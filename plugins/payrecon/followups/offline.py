"""R12 offline orders: the aging report table, rebuilt as of a window's end.

An offline order never reached the gateway: it is not revenue, the team gets a follow-up task (planned
with the other actions), and it ages in `offline_orders` until someone processes it by hand. Once its
status is "Approved M" (picked up by the incremental pull) it is tied to its manual charge and
settlement line and counts as revenue from the manual charge on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text

from payrecon.warehouse import sql


def refresh(conn: Connection, as_of: datetime, allow_offline: bool) -> int:
    return sql.run(conn, "marts/offline_orders", as_of=as_of, allow_offline=allow_offline)


def summary(conn: Connection) -> dict[str, dict[str, int]]:
    """Count and total per state and currency, for logs and the report."""
    rows = conn.execute(
        text(
            "select state, currency, count(*), sum(total_minor), max(age_days) from offline_orders "
            "group by state, currency order by state, currency"
        )
    )
    return {
        f"{state}/{currency}": {"orders": int(n), "total_minor": int(total), "max_age_days": int(age)}
        for state, currency, n, total, age in rows
    }
