"""The demo: sample merchant → every DAG over a few daily windows → finance output, on the embedded default.

`./run demo` calls this after setting up the environment. Everything lands under `data/demo/`:
the commerce database, the settlement inbox, the DuckDB warehouse, Airflow's metadata DB and the output.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="./run demo", description=__doc__)
    parser.add_argument("--start", default="2026-11-01", help="first window (UTC day)")
    parser.add_argument("--days", type=int, default=5, help="number of daily windows")
    parser.add_argument("--orders-per-day", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=ROOT / "data" / "demo", help="where everything goes")
    parser.add_argument("--keep", action="store_true", help="keep an existing demo folder (re-run windows)")
    return parser.parse_args(argv)


def _counts(url: str) -> dict[str, int]:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    names = sa.inspect(engine).get_table_names()
    out = {}
    with engine.connect() as conn:
        for name in sorted(names):
            if name != "alembic_version":
                out[name] = conn.execute(sa.text(f"select count(*) from {name}")).scalar()  # noqa: S608
    engine.dispose()
    return out


def _state_counts(url: str) -> list[tuple[str, str, int]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select item_type, state, count(*) from reconciliation_results "
                "group by item_type, state order by item_type, count(*) desc"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def _grouped(url: str, table: str, first: str, second: str) -> list[tuple[str, str, int]]:
    """Counts of `table` by two columns (fixed names from this file), or nothing if it does not exist."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    if not sa.inspect(engine).has_table(table):
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"select {first}, {second}, count(*) from {table} "  # noqa: S608 - names are literals
                f"group by {first}, {second} order by {first}, {second}"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    from payrecon.finance.sample_bank import generate_bank
    from payrecon.sample_data import generate
    from payrecon.settings import Window
    from scripts.pipeline import configure_environment, init_airflow_db, run_windows
    from scripts.sinks import connection_env, start_sinks

    base: Path = args.dir
    if base.exists() and not args.keep:
        shutil.rmtree(base)
    base.mkdir(parents=True, exist_ok=True)
    first = date.fromisoformat(args.start)

    print(f"==> sample merchant: {args.days} days x {args.orders_per_day} orders (seed {args.seed})")
    if not (base / "commerce.sqlite").exists():
        generate(base, first, args.days, args.orders_per_day, seed=args.seed)
        generate_bank(base)  # the merchant's bank statements (CSV and CAMT.053) for the payouts

    warehouse_url = f"duckdb:///{base / 'warehouse.duckdb'}"
    configure_environment(
        airflow_home=base / "airflow",
        warehouse_url=warehouse_url,
        commerce_url=f"sqlite:///{base / 'commerce.sqlite'}",
        inbox_dir=base / "inbox",
        output_dir=base / "output",
    )
    sinks = start_sinks(base / "delivered")
    os.environ.update(connection_env(sinks))
    print(f"==> local mail catcher on 127.0.0.1:{sinks.smtp_port}, webhook sink on 127.0.0.1:{sinks.http_port}")
    print("==> Airflow metadata DB (embedded SQLite)")
    init_airflow_db()

    windows = [Window.day((first + timedelta(days=i)).isoformat()) for i in range(args.days)]
    print(f"==> running the DAGs for {len(windows)} windows on the embedded warehouse (DuckDB)")
    try:
        log = run_windows(windows)
    finally:
        sinks.stop()
    per_dag: dict[str, float] = {}
    for run in log.runs:
        per_dag[run["dag_id"]] = per_dag.get(run["dag_id"], 0.0) + run["seconds"]

    print("\n==> DAG runs (all succeeded):")
    for dag_id, seconds in per_dag.items():
        n = sum(1 for r in log.runs if r["dag_id"] == dag_id)
        print(f"  {dag_id:<22} {n} runs  {seconds:6.1f} s")
    print("\n==> warehouse rows:")
    for table, n in _counts(warehouse_url).items():
        print(f"  {table:<28} {n:>8}")
    print("\n==> reconciliation states:")
    for item_type, state, n in _state_counts(warehouse_url):
        print(f"  {item_type:<16} {state:<26} {n:>8}")

    print("\n==> follow-ups (outbox by kind and status):")
    for kind, status, n in _grouped(warehouse_url, "followup_outbox", "event_kind", "status"):
        print(f"  {kind:<32} {status:<12} {n:>6}")
    mails = len(list(sinks.mailbox.glob("*.eml")))
    hooks = sum(1 for _ in sinks.webhooks.open()) if sinks.webhooks.exists() else 0
    print(f"  delivered: {mails} emails to the mail catcher, {hooks} webhooks (SMS, CRM, team)")

    print("\n==> finance exceptions (by kind and status):")
    for kind, status, n in _grouped(warehouse_url, "exceptions", "kind", "status"):
        print(f"  {kind:<32} {status:<12} {n:>6}")

    out = base / "output"
    print("\n==> output")
    print(f"  warehouse:       {base / 'warehouse.duckdb'}")
    print(f"  reconciliation:  {out / 'reconciliation'}/<day>/reconciliation.csv and summary.csv")
    print(f"  delivered mail:  {sinks.mailbox}/*.eml, webhooks in {sinks.webhooks}")
    reports = sorted((out / "reports").glob("**/*.html")) if (out / "reports").exists() else []
    if reports:
        print(f"  finance report:  {reports[-1]}")
        manifest = reports[-1].parent / "manifest.json"
        if manifest.is_file():
            import json

            built = json.loads(manifest.read_text(encoding="utf-8"))
            print(f"                   built in {built['build_seconds']:.2f} s (workbook {built['workbook']})")
    print(f"\ndemo finished in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
