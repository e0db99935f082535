"""Exception kinds, their default owners, and reading the open exceptions for finance.

The exceptions themselves are raised set-based by the `finance/*` SQL steps (one row per problem,
`exception_id = kind:item_type:item_id`, stable across re-runs) and aged to the window's as-of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, text

from payrecon.warehouse.bulk import insert_frame


@dataclass(frozen=True)
class Kind:
    owner: str
    description: str


KINDS: dict[str, Kind] = {
    "amount_mismatch": Kind("payments-ops", "settled amount differs from the orders beyond tolerance"),
    "currency_mismatch": Kind("payments-ops", "settled in a currency other than the order's, with no FX data"),
    "partially_settled": Kind("payments-ops", "part of an order's charges never settled after the grace period"),
    "order_without_settlement": Kind("payments-ops", "charged, grace period over, no settlement line"),
    "many_to_many": Kind("payments-ops", "orders and charges tangled many-to-many: match by hand"),
    "settled_without_order": Kind("payments-ops", "the gateway settled a charge no order has"),
    "duplicate": Kind("payments-ops", "a charge settled twice, or an order charged twice"),
    "refund_without_charge": Kind("payments-ops", "a refund for a charge never seen"),
    "refund_exceeds_charge": Kind("payments-ops", "refunds larger than what the charge settled"),
    "chargeback": Kind("disputes", "a chargeback: dispute it or accept (write off)"),
    "fee_variance": Kind("finance-ap", "the gateway's fee differs from the declared schedule"),
    "payout_lines_do_not_sum": Kind("treasury", "a payout's lines do not sum to its amount"),
    "payout_not_in_bank": Kind("treasury", "a payout not on the bank statement within the date window"),
    "payout_without_id": Kind("treasury", "a payout line with no payout id to tie it by"),
    "bank_line_without_payout": Kind("treasury", "a gateway deposit on the bank statement no payout claims"),
}

RESOLUTIONS = ("force_match", "write_off", "dispute", "refund")
"""What finance may decide for an exception; `reopen` undoes, `assign` only changes the owner."""
ACTIONS = (*RESOLUTIONS, "reopen", "assign")

AGE_BUCKETS = ("<1d", "1-3d", "3-7d", "7-30d", ">30d")


def age_bucket(opened_at: datetime, as_of: datetime) -> str:
    """The plain statement of the SQL bucketing, measured to an as-of (never the wall clock)."""
    age = as_of - opened_at
    for limit, bucket in ((1, "<1d"), (3, "1-3d"), (7, "3-7d"), (30, "7-30d")):
        if age < timedelta(days=limit):
            return bucket
    return ">30d"


def write_snapshot(conn: Connection, owners: dict[str, str] | None = None) -> None:
    """Replace `finance_exception_kinds`; `owners` overrides default owners per kind."""
    owners = owners or {}
    unknown = sorted(set(owners) - set(KINDS))
    if unknown:
        raise ValueError(f"exception owners given for unknown kind(s): {', '.join(unknown)}")
    conn.exec_driver_sql("delete from finance_exception_kinds")
    insert_frame(
        conn,
        "finance_exception_kinds",
        pd.DataFrame(
            [(k, owners.get(k, v.owner), v.description) for k, v in KINDS.items()],
            columns=["kind", "owner", "description"],
        ),
    )


EXCEPTION_COLUMNS = (
    "exception_id", "kind", "status", "age_bucket", "age_days", "owner", "item_type", "item_id", "gateway",
    "currency", "amount_minor", "detail", "window_start", "opened_at", "aged_as_of", "resolution",
    "resolution_note", "resolved_by", "resolved_at",
)


def read_exceptions(conn: Connection, start: datetime | None = None, end: datetime | None = None,
                    open_only: bool = False) -> pd.DataFrame:
    """Exceptions of windows in [start, end) (all when not given), oldest first."""
    cols = ", ".join(EXCEPTION_COLUMNS)
    where, params = ["1 = 1"], {}
    if start is not None:
        where.append("window_start >= :start")
        params["start"] = start
    if end is not None:
        where.append("window_start < :end")
        params["end"] = end
    if open_only:
        where.append("status = 'open'")
    sql = f"select {cols} from exceptions where {' and '.join(where)} order by opened_at, exception_id"  # noqa: S608
    return pd.read_sql(text(sql), conn, params=params)


def counts_by_kind(conn: Connection) -> dict[str, dict[str, int]]:
    rows = conn.execute(text("select kind, status, count(*) from exceptions group by kind, status order by kind"))
    out: dict[str, dict[str, int]] = {}
    for kind, status, n in rows:
        out.setdefault(kind, {})[status] = int(n)
    return out
