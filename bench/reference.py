"""Bare reference joins: what reconciling a window costs with nothing but one classifying join.

* `duckdb_files`: in-memory DuckDB reads the window's settlement CSVs and the payment attempts (parquet
  exported once from the commerce DB), then classifies every line and every successful charge in ONE
  full outer join on the charge id. `python -m bench.reference SCENARIO_DIR DAY` prints it as JSON.
* `warehouse_join`: the same classifying join in SQL on the warehouse's own tables (`settlement_lines` of
  the window against `payment_attempts`), on whatever engine the warehouse is, inside a transaction that
  is rolled back.

The reconcile stage does more (duplicate ranking over every charge line so far, the orders side, the
as-of rule, the delete + insert of the results): the target is to stay within 3x of this join.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta

# stripe `reporting_category` -> line type (CONTRACT.md section 2)
_STRIPE_TYPE = (
    "case reporting_category when 'charge' then 'charge' when 'refund' then 'refund' "
    "when 'dispute' then 'chargeback' when 'dispute_reversal' then 'chargeback' when 'fee' then 'fee' "
    "when 'payout' then 'payout' else 'adjustment' end"
)

_CLASSIFY = """
case
    when l.line_type is null then
        case when a.attempted_at <= {cutoff} then 'order_without_settlement' else 'pending' end
    when l.line_type <> 'charge' then l.line_type
    when a.charge_id is null then 'settled_without_order'
    when coalesce(l.presentment_currency, l.currency) <> a.currency then 'currency_mismatch'
    when coalesce(l.presentment_amount, l.gross) <> a.amount then 'amount_mismatch'
    else 'matched'
end
"""


def _csv_select(path: str, fmt: str) -> str:
    read = f"read_csv('{path}', header = true, all_varchar = true)"
    dec = "cast({} as decimal(18, 3))"
    if fmt == "stripe":
        return (
            f"select {_STRIPE_TYPE} as line_type, charge_id, upper(currency) as currency, "
            f"{dec.format('gross')} as gross, {dec.format('customer_facing_amount')} as presentment_amount, "
            f"upper(customer_facing_currency) as presentment_currency from {read}"
        )
    return (
        f"select type as line_type, charge_id, upper(currency) as currency, {dec.format('gross')} as gross, "
        f"{dec.format('presentment_amount')} as presentment_amount, "
        f"upper(presentment_currency) as presentment_currency from {read}"
    )


def duckdb_files(scenario_dir: str, day: str, grace_days: int = 3) -> dict:
    """Read the window's CSVs and the attempts in memory, then one classifying join; timed apart."""
    from pathlib import Path

    import duckdb

    from payrecon.ingestion.config import default_config

    folder = Path(scenario_dir)
    gateways = default_config().gateways
    files = sorted((folder / "inbox").glob(f"*/{day}/*.csv"))
    selects = []
    for path in files:
        fmt = gateways.get(path.parts[-3], "generic")
        if fmt not in ("stripe", "generic"):
            raise ValueError(f"reference join reads stripe and generic files only, not {fmt} ({path})")
        selects.append(_csv_select(str(path), fmt))
    cutoff = datetime.fromisoformat(day) + timedelta(days=1 - grace_days)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        started = time.perf_counter()
        con.execute(f"create table lines as {' union all '.join(selects)}")
        con.execute(
            "create table attempts as select gateway_charge_id as charge_id, order_id, "
            "cast(amount as decimal(18, 3)) as amount, upper(currency) as currency, "
            "cast(attempted_at as timestamptz) as attempted_at "
            f"from read_parquet('{folder / 'parquet' / 'payment_attempts.parquet'}') "
            "where status = 'succeeded' and gateway_charge_id is not null"
        )
        read = time.perf_counter() - started
        started = time.perf_counter()
        con.execute(
            "create table classified as select coalesce(l.charge_id, a.charge_id) as charge_id, a.order_id, "
            + _CLASSIFY.format(cutoff=f"timestamptz '{cutoff.isoformat()}+00:00'")
            + " as state from lines as l full outer join attempts as a on a.charge_id = l.charge_id"
        )
        join = time.perf_counter() - started
        n_lines = con.execute("select count(*) from lines").fetchone()[0]
        n_attempts = con.execute("select count(*) from attempts").fetchone()[0]
        states = dict(con.execute("select state, count(*) from classified group by 1 order by 1").fetchall())
    finally:
        con.close()
    return {
        "engine": "duckdb (in memory, from CSV + parquet)",
        "files": [str(p.relative_to(folder)) for p in files],
        "lines": int(n_lines),
        "charges": int(n_attempts),
        "read_seconds": round(read, 3),
        "join_seconds": round(join, 3),
        "states": {k: int(v) for k, v in states.items()},
    }


def warehouse_join(engine, window, grace_days: int = 3) -> dict:  # noqa: ANN001 - Engine, Window
    """One classifying join of the window's `settlement_lines` to `payment_attempts`, rolled back."""
    from sqlalchemy import text

    cutoff = window.end - timedelta(days=grace_days)
    classify = _CLASSIFY.format(cutoff=":cutoff")
    stmt = text(
        "create temporary table _bench_ref as "
        "select coalesce(l.line_id, a.attempt_id) as item_id, a.order_id, "
        f"{classify} as state "
        "from (select line_id, line_type, charge_id, currency, presentment_currency, "
        "       gross_minor as gross, presentment_minor as presentment_amount "
        "      from settlement_lines where window_start = :ws) as l "
        "full outer join (select attempt_id, order_id, gateway_charge_id as charge_id, currency, "
        "       amount_minor as amount, attempted_at "
        "      from payment_attempts where status = 'succeeded' and gateway_charge_id is not null) as a "
        "on a.charge_id = l.charge_id"
    )
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            started = time.perf_counter()
            conn.execute(stmt, {"ws": window.start, "cutoff": cutoff})
            seconds = time.perf_counter() - started
            states = dict(conn.execute(text("select state, count(*) from _bench_ref group by 1 order by 1")).all())
        finally:
            tx.rollback()
    return {
        "engine": engine.dialect.name,
        "join_seconds": round(seconds, 3),
        "rows": int(sum(states.values())),
        "states": {k: int(v) for k, v in states.items()},
    }


def main(argv: list[str]) -> int:
    import bench  # noqa: F401 - plugins on the path

    if len(argv) not in (3, 4):
        print("usage: python -m bench.reference SCENARIO_DIR DAY [GRACE_DAYS]", file=sys.stderr)
        return 2
    grace = int(argv[3]) if len(argv) == 4 else 3
    print(json.dumps(duckdb_files(argv[1], argv[2], grace)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
