"""How long a 30-day backfill of the real pipeline takes on a real Airflow deployment.

    .venv/bin/python -m bench.backfill_30d [--days 30] [--orders-per-day 300] [--executor CeleryExecutor]

A generated merchant (`payrecon.sample_data`, demo size by default: 30 days x 300 orders/day) and a
PostgreSQL warehouse; Airflow's api-server, scheduler, dag-processor and (for Celery) a Celery worker as
processes on a throwaway PostgreSQL metadata DB and Redis DB 12 (`payrecon.ops.local_stack`). Then, as
an operator would:

    airflow backfill create --dag-id settlements_ingest --from-date D1 --to-date D30 --max-active-runs 4
    airflow backfill create --dag-id orders_ingest      --from-date D1 --to-date D30 --max-active-runs 1
    airflow dags unpause <the pipeline's DAGs but followups_dispatch>

with `reconcile` paused (docs/RUNBOOK.md, "Backfill a range"); when both backfills have succeeded:

    airflow dags unpause reconcile
    airflow dags trigger reconcile -c '{"window_start": D1, "window_end": D30 + 1 day}'

one run that reconciles the 30 windows in order, whose asset event carries the range on to payout_match,
order_rules, followups_plan and finance_report. Measured from the runs themselves (the metadata DB):
the ingestion backfill's span (first backfill run's start to last backfill run's end), and the whole
pipeline's span (to the end of the last downstream run). Also: runs and task instances per DAG, mean task duration, and the warehouse's
reconciled windows (must be every day). Prints a JSON summary (and writes it with --json PATH).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa  # noqa: E402

import bench  # noqa: F401 - puts plugins/ on the path

INGEST = ("settlements_ingest", "orders_ingest")
DOWNSTREAM = ("reconcile", "payout_match", "order_rules", "followups_plan", "finance_report")


def _args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.backfill_30d", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--orders-per-day", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--executor", default="CeleryExecutor", choices=("CeleryExecutor", "LocalExecutor"))
    p.add_argument("--concurrency", type=int, default=4, help="Celery worker concurrency")
    p.add_argument("--downstream", default=",".join(DOWNSTREAM), help="downstream DAGs to unpause")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--json", type=Path, default=None)
    return p.parse_args(argv)


def _pg_database(admin_url: str) -> tuple[str, str]:
    name = f"payrecon_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{name}"')
    admin.dispose()
    return name, admin_url.rsplit("/", 1)[0] + f"/{name}"


def _drop(admin_url: str, name: str) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
    admin.dispose()


def _scalar(url: str, query: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(query)).scalar() or 0)
    except sa.exc.ProgrammingError:
        return 0
    finally:
        engine.dispose()


def _task_stats(stack, dag_ids: list[str]) -> dict[str, dict]:  # noqa: ANN001
    engine = stack.meta()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select dag_id, task_id, state, extract(epoch from (end_date - start_date)) as seconds "
                "from task_instance where dag_id = any(:ids)"
            ),
            {"ids": dag_ids},
        ).all()
    engine.dispose()
    out: dict[str, dict] = {}
    for dag_id, task_id, state, seconds in rows:
        entry = out.setdefault(f"{dag_id}.{task_id}", {"tis": 0, "states": {}, "seconds": []})
        entry["tis"] += 1
        entry["states"][state] = entry["states"].get(state, 0) + 1
        if seconds is not None:
            entry["seconds"].append(float(seconds))
    for entry in out.values():
        secs = entry.pop("seconds")
        entry["mean_s"] = round(statistics.mean(secs), 2) if secs else None
        entry["max_s"] = round(max(secs), 2) if secs else None
    return out


def _failing_tasks(stack, dag_ids: list[str]) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """Task instances that failed or wait for a retry: their DAG is reported broken, not waited for."""
    engine = stack.meta()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select dag_id, task_id, run_id from task_instance where dag_id = any(:ids) "
                    "and state in ('failed', 'up_for_retry', 'upstream_failed')"),
            {"ids": dag_ids},
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def main(argv: list[str]) -> int:
    args = _args(argv)
    from payrecon.ops.local_stack import DEFAULT_PG_ADMIN, LocalStack
    from payrecon.sample_data import generate
    from payrecon.warehouse.engine import warehouse
    from payrecon.warehouse.migrate import upgrade

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="payrecon-backfill-"))
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=args.days - i) for i in range(args.days)]
    downstream = [d for d in args.downstream.split(",") if d]
    print(f"==> scenario: {args.days} days x {args.orders_per_day} orders/day from {days[0]} into {workdir}")
    began = time.perf_counter()
    generate(workdir / "scenario", days[0], args.days, args.orders_per_day, seed=args.seed)
    generated_s = time.perf_counter() - began

    wh_name, wh_url = _pg_database(DEFAULT_PG_ADMIN)
    env = {
        "AIRFLOW_CONN_WAREHOUSE_DB": json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": wh_url}}),
        "AIRFLOW_CONN_COMMERCE_DB": json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": f"sqlite:///{workdir / 'scenario' / 'commerce.sqlite'}"}}
        ),
        "AIRFLOW_VAR_PAYRECON_INBOX_DIR": str(workdir / "scenario" / "inbox"),
        "AIRFLOW_VAR_PAYRECON_OUTPUT_DIR": str(workdir / "output"),
    }
    summary: dict = {"days": args.days, "orders_per_day": args.orders_per_day, "executor": args.executor,
                     "first_day": days[0].isoformat(), "last_day": days[-1].isoformat(),
                     "generate_s": round(generated_s, 1)}
    try:
        with LocalStack(workdir / "stack", executor=args.executor, extra_env=env, redis_db=12,
                        celery_concurrency=args.concurrency) as stack:
            t0 = time.perf_counter()
            stack.init(pool_slots=4)
            with warehouse(wh_url) as engine:
                upgrade(engine)
            stack.start()
            stack.wait_for_dags([*INGEST, *downstream], timeout=180)
            summary["stack_ready_s"] = round(time.perf_counter() - t0, 1)
            first, last = days[0].isoformat(), days[-1].isoformat()
            stack.airflow("backfill", "create", "--dag-id", "settlements_ingest", "--from-date", first,
                          "--to-date", last, "--max-active-runs", "4")
            stack.airflow("backfill", "create", "--dag-id", "orders_ingest", "--from-date", first,
                          "--to-date", last, "--max-active-runs", "1")
            cascade = [d for d in downstream if d != "reconcile"]
            stack.airflow("dags", "unpause", "--treat-dag-id-as-regex", "-y",
                          "^(" + "|".join([*INGEST, *cascade]) + ")$")
            reconcile_triggered: list[bool] = []
            watched = [*INGEST, *downstream]
            quiet_since: list[float] = []
            broken: dict[str, list[str]] = {}

            def finished() -> bool:
                stack.check_alive()
                for dag_id, task_id, run_id in _failing_tasks(stack, watched):
                    if dag_id in INGEST:
                        raise RuntimeError(f"{dag_id}.{task_id} failed in {run_id}\n{stack.failed_task_logs()}")
                    broken.setdefault(dag_id, []).append(f"{task_id} in {run_id}")
                runs = [r for r in stack.runs(watched) if r.dag_id not in broken]
                backfilled = [r for r in runs if r.run_type == "backfill"]
                busy = [r for r in runs if r.state in ("queued", "running")]
                done = len(backfilled) == 2 * args.days and all(r.state == "success" for r in backfilled)
                if done and not reconcile_triggered and "reconcile" in downstream:
                    end = (days[-1] + timedelta(days=1)).isoformat()
                    stack.airflow("dags", "unpause", "reconcile")
                    stack.airflow("dags", "trigger", "reconcile", "-c", json.dumps(
                        {"window_start": f"{first}T00:00:00+00:00", "window_end": f"{end}T00:00:00+00:00"}))
                    reconcile_triggered.append(True)
                    return False
                if done and not busy:  # (asset events of one side of reconcile's AND may stay queued)
                    quiet_since.append(time.monotonic())
                    return time.monotonic() - quiet_since[0] > 15  # nothing new for 15 s
                quiet_since.clear()
                return False

            stack.wait_until(finished, args.timeout, "the backfill and its cascade", poll=2)
            runs = [r for r in stack.runs(watched) if r.dag_id not in broken]
            summary["tasks"] = _task_stats(stack, watched)
            summary["failed_dags"] = {k: sorted(set(v)) for k, v in broken.items()}
    finally:
        reconciled = _scalar(wh_url, "select count(*) from reconciliation_windows")
        _drop(DEFAULT_PG_ADMIN, wh_name)

    backfill_runs = [r for r in runs if r.run_type == "backfill"]
    start = min(r.start_date for r in backfill_runs if r.start_date)
    backfill_end = max(r.end_date for r in backfill_runs)
    pipeline_end = max(r.end_date for r in runs if r.end_date)
    per_dag: dict[str, int] = {}
    for r in runs:
        per_dag[r.dag_id] = per_dag.get(r.dag_id, 0) + 1
    summary.update({
        "backfill_span_s": round((backfill_end - start).total_seconds(), 1),
        "pipeline_span_s": round((pipeline_end - start).total_seconds(), 1),
        "runs": per_dag,
        "reconciled_windows": reconciled,
        "first_backfill_start": start.isoformat(),
        "last_backfill_end": backfill_end.isoformat(),
        "last_run_end": pipeline_end.isoformat(),
    })
    print(json.dumps(summary, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    ok = reconciled >= args.days and not summary["failed_dags"]
    print(f"==> {args.days}-day backfill: ingestion {summary['backfill_span_s']} s, whole pipeline "
          f"{summary['pipeline_span_s']} s ({sum(per_dag.values())} runs); reconciled windows {reconciled}"
          + ("" if reconciled >= args.days else " -- NOT every day")
          + (f"; FAILED: {summary['failed_dags']}" if summary["failed_dags"] else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
