"""Month close: prove every settlement line, payout and order of a month is in a final state or an
explained exception, and write the close pack to `{output_dir}/close/{YYYY-MM}/`.

The proof is a query (`finance/month_close_blocking`): what it returns blocks the close. A month also
stays open while any of its days has not been through reconciliation and the finance step. The pack
holds the summary, the blocking items, the month's exceptions workbook (finance can fill it in and drop
it in `{inbox}/resolutions/`), write-offs, fee variances, FX differences, payouts and unmatched bank
lines. Its content depends only on the warehouse, so re-running the close changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from payrecon.finance.exceptions import read_exceptions
from payrecon.finance.workbook import export
from payrecon.warehouse import sql

log = logging.getLogger(__name__)

FINAL_STATES = (
    "matched", "written_off", "refund", "chargeback_reversal", "fee", "adjustment", "payout", "tied",
    "failed_attempt", "offline", "force_matched", "disputed", "refunded",
)
EXPLAINED_STATES = ("force_matched", "disputed", "refunded")


@dataclass
class CloseResult:
    month: str
    status: str
    as_of: str | None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    blocking: int = 0
    blocking_by_reason: dict[str, int] = field(default_factory=dict)
    missing_windows: list[str] = field(default_factory=list)
    pack_dir: str = ""
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """`YYYY-MM` → [first day, first day of next month) in UTC."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, got {month!r}") from None
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime(first.year, first.month, 1, tzinfo=UTC), datetime(nxt.year, nxt.month, 1, tzinfo=UTC)


def _frame(conn: Connection, query: str, **params: Any) -> pd.DataFrame:
    return pd.read_sql(text(query), conn, params=params)


def _missing_windows(conn: Connection, start: datetime, end: datetime) -> list[str]:
    done = {
        (ws if ws.tzinfo else ws.replace(tzinfo=UTC)).date()
        for (ws,) in conn.execute(
            text("select window_start from finance_windows where window_start >= :s and window_start < :e"),
            {"s": start, "e": end},
        )
    }
    out, day = [], start.date()
    while day < end.date():
        if day not in done:
            out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def close_month(engine: Engine, month: str, output_dir: Path) -> CloseResult:
    start, end = month_bounds(month)
    pack = Path(output_dir) / "close" / month
    pack.mkdir(parents=True, exist_ok=True)
    binds = {"s": start, "e": end}
    with engine.connect() as conn:
        missing = _missing_windows(conn, start, end)
        as_of = conn.execute(
            text("select max(as_of) from finance_windows where window_start >= :s and window_start < :e"), binds
        ).scalar()
        summary = _frame(
            conn,
            "select item_type, state, count(*) as items, sum(expected_minor) as expected_minor, "
            "sum(settled_minor) as settled_minor, sum(write_off_minor) as write_off_minor "
            "from finance_matches where window_start >= :s and window_start < :e "
            "group by item_type, state order by item_type, state",
            **binds,
        )
        blocking = pd.read_sql(text(sql.statements("finance/month_close_blocking")[0]), conn,
                               params={"month_start": start, "month_end": end})
        exceptions = read_exceptions(conn, start, end)
        write_offs = _frame(conn, "select * from write_offs where window_start >= :s and window_start < :e "
                                  "order by window_start, write_off_id", **binds)
        fee_var = _frame(conn, "select * from fee_variances where window_start >= :s and window_start < :e "
                               "and variance_minor <> 0 order by window_start, line_id", **binds)
        fx_diff = _frame(conn, "select * from fx_differences where window_start >= :s and window_start < :e "
                               "order by window_start, line_id", **binds)
        payouts = _frame(conn, "select * from payouts where window_start >= :s and window_start < :e "
                               "order by window_start, gateway, payout_id", **binds)
        bank = _frame(
            conn,
            "select b.*, m.state from bank_statement_lines b join finance_matches m "
            "on m.item_type = 'bank_line' and m.item_id = b.bank_line_id "
            "where b.window_start >= :s and b.window_start < :e and m.state <> 'tied' "
            "order by b.booking_date, b.bank_line_id",
            **binds,
        )
    counts: dict[str, dict[str, int]] = {}
    for r in summary.itertuples():
        counts.setdefault(r.item_type, {})[r.state] = int(r.items)
    reasons = blocking["state"].value_counts().to_dict() if len(blocking) else {}
    status = "closed" if not len(blocking) and not missing and as_of is not None else "blocked"
    as_of_text = (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)).isoformat() if as_of else None
    files = [
        _csv(summary, pack / "summary.csv"),
        _csv(blocking, pack / "blocking_items.csv"),
        export(exceptions, pack / "exceptions.xlsx", as_of),
        _csv(write_offs, pack / "write_offs.csv"),
        _csv(fee_var, pack / "fee_variances.csv"),
        _csv(fx_diff, pack / "fx_differences.csv"),
        _csv(payouts, pack / "payouts.csv"),
        _csv(bank, pack / "bank_lines_unmatched.csv"),
    ]
    result = CloseResult(
        month=month, status=status, as_of=as_of_text, counts=counts, blocking=len(blocking),
        blocking_by_reason={str(k): int(v) for k, v in reasons.items()}, missing_windows=missing,
        pack_dir=str(pack), files=[p.name for p in files],
    )
    (pack / "close.json").write_text(json.dumps(result.as_dict(), indent=2, sort_keys=True) + "\n")
    with engine.begin() as conn:
        conn.execute(text("delete from month_closes where month = :m"), {"m": month})
        totals = {t: sum(v.values()) for t, v in counts.items()}
        final = sum(n for t in counts.values() for s, n in t.items() if s in FINAL_STATES)
        explained = sum(n for t in counts.values() for s, n in t.items() if s in EXPLAINED_STATES)
        conn.execute(
            text(
                "insert into month_closes (month, status, as_of, settlement_lines, orders, payouts, final_items, "
                "explained_items, blocking_items, missing_windows, pack_dir) values (:m, :st, :a, :l, :o, :p, "
                ":f, :x, :b, :mw, :d)"
            ),
            {"m": month, "st": status, "a": as_of, "l": totals.get("settlement_line", 0),
             "o": totals.get("order", 0), "p": totals.get("payout", 0), "f": final, "x": explained,
             "b": len(blocking), "mw": len(missing), "d": str(pack)},
        )
    log.info("month %s: %s (%d blocking, %d days missing) pack %s", month, status, len(blocking), len(missing), pack)
    return result
