"""One benchmark run: every stage of the pipeline, in order, on a fresh warehouse.

    python -m bench.pipeline --scenario DIR --backend duckdb|postgres --work DIR --json OUT [--profile DIR]
                             [--one-process]

The measured window's stages each run in a fresh Python process (`run_task_process`), as Airflow runs
every task in a process of its own: a stage's peak RSS is its task's, its imports are timed apart as
its start-up. `--one-process` runs them all in this process instead (the memory then adds up).

The stage APIs are called directly, the way the Airflow task bodies call them (no Airflow here): landing
and the commerce pull each in one transaction per window (`ops.transaction.one_transaction`, as
`tasks.land_settlements` / `tasks.pull_orders`), reconcile, the per-window CSV outputs, rules, linking
and follow-up planning with their own transactions.

The scenario's earlier days are run first as warm-up windows (timed apart, not in the totals), so the
measured window -- the last day -- starts from the state a daily run finds: yesterday's orders, lines
and states in the warehouse, today's orders plus yesterday's late settlements to process.

Per stage: wall time, CPU time of this process, peak RSS (sampled every 10 ms by a thread, children
included), RSS before and after, and the load average before and after (other work on the machine
makes wall times noisy; the load says how noisy). After the stages: the bare classifying join on the
warehouse's engine, and a check of every state against the generator's ground truth.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bench  # noqa: F401 - plugins on the path
from bench.rss import MB, RssSampler, kernel_peak_rss

STAGES = ("ingest", "pull", "reconcile", "publish", "rules", "linking", "followups")
STAGE_TITLES = {
    "ingest": "ingest + validate (land_window)",
    "pull": "orders pull (pull_incremental)",
    "reconcile": "reconcile",
    "publish": "reconcile outputs (CSV)",
    "rules": "rules R1-R7 (decide)",
    "linking": "linking R8 (link)",
    "followups": "follow-up queueing (plan)",
}
PG_ADMIN_URL = os.environ.get("PAYRECON_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@dataclass
class Context:
    engine: Any
    commerce: Any
    settings: Any
    scenario: dict
    grace_days: int


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# --- the stages -----------------------------------------------------------------------------------------

def stage_ingest(ctx: Context, window) -> dict:  # noqa: ANN001 - Window
    from payrecon.ingestion.config import default_config
    from payrecon.ingestion.landing import land_window
    from payrecon.ops.transaction import one_transaction

    with one_transaction(ctx.engine, label=f"landing {window.label}") as tx:
        report = land_window(tx, ctx.settings, window, default_config()).as_dict()
    return {k: report[k] for k in ("files_landed", "files_rejected", "lines_read", "lines_loaded",
                                   "lines_quarantined")}


def stage_pull(ctx: Context, window) -> dict:  # noqa: ANN001
    from payrecon.commerce.pull import pull_incremental
    from payrecon.ops.transaction import one_transaction

    with one_transaction(ctx.engine, label="commerce pull") as tx:
        return pull_incremental(ctx.commerce, tx, window.end, ctx.settings.pull_overlap)


def stage_reconcile(ctx: Context, window) -> dict:  # noqa: ANN001
    from payrecon.reconciliation.reconcile import reconcile

    (result,) = reconcile(ctx.engine, [window], ctx.settings.recon)
    return {"lines": sum(result.line_states.values()), "orders": sum(result.order_states.values())}


def stage_publish(ctx: Context, window) -> dict:  # noqa: ANN001
    from payrecon.reconciliation.outputs import write_window_outputs

    paths = write_window_outputs(ctx.engine, window, ctx.settings.output_dir)
    return {"bytes": sum(Path(p).stat().st_size for p in paths)}


def stage_rules(ctx: Context, window) -> dict:  # noqa: ANN001
    from payrecon.rules.decide import decide
    from payrecon.rules.settings import RuleSettings

    (result,) = decide(ctx.engine, [window], RuleSettings(), "bench")
    return {"orders_decided": result.orders_decided, "retry_rows": result.retry_rows}


def stage_linking(ctx: Context, window) -> dict:  # noqa: ANN001
    from payrecon.linking.link import link
    from payrecon.linking.settings import LinkSettings

    result = link(ctx.engine, [window], LinkSettings())
    return {"customers": result.customers, "persons": result.persons, "duplicate_charges": result.duplicate_charges}


def stage_followups(ctx: Context, window) -> dict:  # noqa: ANN001
    from payrecon.followups.config import DEFAULT_CONFIG_PATH, load_config
    from payrecon.followups.planner import plan

    (result,) = plan(ctx.engine, load_config(DEFAULT_CONFIG_PATH), [window], window.end)
    return {"events": sum(result.events.values()), "queued": sum(result.queued.values()),
            "journeys_started": result.journeys_started}


STAGE_FUNCS = {name: globals()[f"stage_{name}"] for name in STAGES}


def run_stage(name: str, ctx: Context, window, rss: RssSampler, profile_dir: Path | None, tag: str,  # noqa: ANN001
              timer: SqlTimer | None = None, watchdog: Watchdog | None = None, mark: bool = True) -> dict:
    """One stage, timed. `mark=False` (a task process): the peak counts from the process's start, its
    imports included, as the task's memory does."""
    load_before = _load()
    print(f"[bench {tag}] {window.label} {name} ... (load {load_before[0]})", file=sys.stderr, flush=True)
    rss_before = rss.mark() if mark else rss.sample()
    cpu_before = _cpu()
    profiler = None
    if profile_dir is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    started = time.perf_counter()
    timed_out = None
    if watchdog is not None:
        watchdog.arm()
    try:
        detail = STAGE_FUNCS[name](ctx, window)
    except Exception as exc:
        if watchdog is None or not watchdog.fired:
            raise
        timed_out = f"cancelled after {watchdog.limit:.0f} s: {type(exc).__name__}"
        detail = {}
    finally:
        if watchdog is not None:
            watchdog.disarm()
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        profile_dir.mkdir(parents=True, exist_ok=True)
        (profile_dir / f"{tag}-{name}.txt").write_text(
            profiler.output_text(unicode=True, color=False, show_all=False, timeline=False)
        )
        (profile_dir / f"{tag}-{name}.html").write_text(profiler.output_html())
    print(f"[bench {tag}] {window.label} {name}: {seconds:.2f} s{' TIMED OUT' if timed_out else ''}",
          file=sys.stderr, flush=True)
    statements = timer.take() if timer is not None else None
    if statements is not None and profile_dir is not None:
        (profile_dir / f"{tag}-{name}-sql.txt").write_text(
            "\n".join(f"{r['seconds']:9.3f} s {r['runs']:4d}x  {r['statement']}" for r in statements) + "\n"
        )
    return {
        "stage": name,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(_cpu() - cpu_before, 3),
        "peak_rss_mb": round(rss.peak_since_mark() / MB, 1),
        "rss_before_mb": round(rss_before / MB, 1),
        "rss_after_mb": round(rss.sample() / MB, 1),
        "load_before": load_before,
        "load_after": _load(),
        "detail": detail,
        **({"timed_out": timed_out} if timed_out else {}),
        **({"sql": statements[:15]} if statements else {}),
    }


# --- where SQL time goes (with --profile) ---------------------------------------------------------------

class SqlTimer:
    """Times every statement the warehouse engine runs, named by the `include/sql` step it belongs to
    (`payrecon.warehouse.sql.run` is wrapped to say which step is running) and its position in the
    step's file, or by its first words when it comes from Python. (Commits: see the pyinstrument profile.)"""

    def __init__(self, engine) -> None:  # noqa: ANN001 - Engine
        from sqlalchemy import event

        from payrecon.warehouse import sql

        self.rows: dict[str, list[float]] = {}
        self._step: list[str] = []
        self._started: dict[int, float] = {}
        original_run = sql.run

        def run(conn, name, **params):  # noqa: ANN001, ANN202
            self._step.append(name)
            self._index = 0
            try:
                return original_run(conn, name, **params)
            finally:
                self._step.pop()

        sql.run = run
        self._index = 0

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
            self._started[id(cursor)] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
            began = self._started.pop(id(cursor), None)
            if began is None:
                return
            if self._step:
                self._index += 1
                key = f"include/sql/{self._step[-1]}.sql #{self._index}"
            else:
                key = "python: " + " ".join(statement.split())[:70]
            self.rows.setdefault(key, []).append(time.perf_counter() - began)

    def take(self) -> list[dict]:
        out = sorted(({"statement": k, "seconds": round(sum(v), 3), "runs": len(v)} for k, v in self.rows.items()),
                     key=lambda r: -r["seconds"])
        self.rows = {}
        return out


# --- a time limit per stage ------------------------------------------------------------------------------

class Watchdog:
    """Cancels the warehouse's running statements once a stage has run `limit` seconds, so one stage
    that does not scale does not hide the others: DuckDB connections are interrupted, PostgreSQL
    backends of the benchmark database cancelled (`pg_cancel_backend`), again every 2 s until the stage
    gives up. The stage then fails, its transaction rolls back, and it is reported as timed out."""

    def __init__(self, engine, limit: float | None, pg_database: str | None) -> None:  # noqa: ANN001
        import threading
        import weakref

        from sqlalchemy import event

        self.limit = limit
        self.fired = False
        self._pg_database = pg_database
        self._connections: weakref.WeakSet = weakref.WeakSet()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

        @event.listens_for(engine, "connect")
        def remember(dbapi_conn, record) -> None:  # noqa: ANN001
            try:
                self._connections.add(dbapi_conn)
            except TypeError:  # not weak-referenceable: keep nothing
                pass

    def _cancel(self) -> None:
        for conn in list(self._connections):
            try:
                getattr(conn, "interrupt", lambda: None)()
            except Exception:  # noqa: BLE001, S110 - best effort
                pass
        if self._pg_database:
            import sqlalchemy as sa

            admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text("select pg_cancel_backend(pid) from pg_stat_activity "
                                         "where datname = :db and state = 'active'"), {"db": self._pg_database})
            finally:
                admin.dispose()

    def _watch(self) -> None:
        if self._stop.wait(self.limit):
            return
        self.fired = True
        while not self._stop.is_set():
            self._cancel()
            self._stop.wait(2.0)

    def arm(self) -> None:
        import threading

        self.fired = False
        if self.limit:
            self._stop.clear()
            self._thread = threading.Thread(target=self._watch, name="stage-watchdog", daemon=True)
            self._thread.start()

    def disarm(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


# --- one stage per process, as Airflow runs tasks ----------------------------------------------------------

def run_task_process(name: str, args: argparse.Namespace, url: str, window, work: Path, tag: str) -> dict:  # noqa: ANN001
    """Run one stage of the measured window in a fresh Python process and return its figures.

    Airflow runs every task in a process of its own: its memory is that process's, and its imports are
    paid there. The child times its imports apart ("startup"), then the stage exactly as `run_stage` does."""
    import subprocess

    out = work / f"task-{name}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.pipeline", "--task", name, "--url", url, "--window-start",
           window.start.isoformat(), "--scenario", args.scenario, "--backend", args.backend, "--work", str(work),
           "--json", str(out)]
    if args.profile:
        cmd += ["--profile", args.profile]
    if args.stage_timeout:
        cmd += ["--stage-timeout", str(args.stage_timeout)]
    started = time.perf_counter()
    code = subprocess.call(cmd, cwd=Path(__file__).resolve().parents[1])  # noqa: S603 - our own module
    seconds = time.perf_counter() - started
    if code != 0 or not out.is_file():
        raise RuntimeError(f"stage {name} ({tag}) failed in its task process: exit {code}")
    stage = json.loads(out.read_text())
    stage["process_seconds"] = round(seconds, 3)
    return stage


def task_main(args: argparse.Namespace) -> int:
    """The task process: imports (timed apart), then one stage, measured like `run_stage`."""
    with RssSampler() as rss:
        rss.mark()
        started = time.perf_counter()
        from payrecon.settings import ReconSettings, Settings, Window
        from payrecon.warehouse.engine import make_engine

        _import_stage_modules(great_expectations=args.task == "ingest")  # only landing validates with GX
        scenario_dir = Path(args.scenario)
        meta = json.loads((scenario_dir / "bench-meta.json").read_text())["summary"]
        engine = make_engine(args.url)
        commerce = make_engine(meta["commerce_url"])
        startup = time.perf_counter() - started
        settings = Settings(
            warehouse_url=args.url, commerce_url=meta["commerce_url"], inbox_dir=scenario_dir / "inbox",
            output_dir=Path(args.work) / "output", recon=ReconSettings(settlement_grace_days=int(meta["grace_days"])),
        )
        ctx = Context(engine, commerce, settings, meta, int(meta["grace_days"]))
        start = datetime.fromisoformat(args.window_start)
        window = Window(start, start + timedelta(days=1))
        from sqlalchemy.engine import make_url

        watchdog = Watchdog(engine, args.stage_timeout,
                            make_url(args.url).database if args.backend == "postgres" else None)
        profile_dir = Path(args.profile) if args.profile else None
        timer = SqlTimer(engine) if profile_dir is not None else None
        tag = f"{args.backend}-{meta['orders_per_day']}"
        stage = run_stage(args.task, ctx, window, rss, profile_dir, tag, timer, watchdog, mark=False)
        stage["startup_seconds"] = round(startup, 3)  # (no ru_maxrss here: Linux carries it over exec)
        engine.dispose()
        commerce.dispose()
    Path(args.json).write_text(json.dumps(stage, indent=2, default=str))
    return 0


# --- warehouse lifecycle --------------------------------------------------------------------------------

def create_warehouse(backend: str, work: Path) -> tuple[str, Any]:
    """A fresh, empty warehouse; returns (url, cleanup)."""
    if backend == "duckdb":
        path = work / "warehouse.duckdb"
        for suffix in ("", ".wal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"duckdb:///{path}", lambda: None
    if backend == "postgres":
        import sqlalchemy as sa

        name = f"payrecon_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'create database "{name}"')
        admin.dispose()

        def drop() -> None:
            if os.environ.get("PAYRECON_BENCH_KEEP_PG"):  # to EXPLAIN statements on the warehouse afterwards
                print(f"kept PostgreSQL warehouse database {name}")
                return
            admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
            admin.dispose()

        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop
    raise ValueError(f"backend must be duckdb or postgres, not {backend!r}")


# --- the check against ground truth --------------------------------------------------------------------

def check_truth(engine, truth_dir: Path) -> dict:  # noqa: ANN001
    """Share of settlement lines and orders whose state equals the generator's expected state."""
    import pandas as pd
    from sqlalchemy import text

    with engine.connect() as conn:
        lines = pd.read_sql(text(
            "select l.gateway, l.source_ref, r.state from settlement_lines l join reconciliation_results r "
            "on r.item_type = 'settlement_line' and r.item_id = l.line_id"), conn)
        orders = pd.read_sql(text(
            "select item_id as order_id, state from reconciliation_results where item_type = 'order'"), conn)
    out = {}
    for kind, frame, truth, keys in (
        ("lines", lines, "settlement_lines.csv", ["gateway", "source_ref"]),
        ("orders", orders, "orders.csv", ["order_id"]),
    ):
        want = pd.read_csv(truth_dir / truth, usecols=[*keys, "expected_state"], dtype=str)
        got = want.merge(frame, on=keys, how="left")
        agree = int((got["state"] == got["expected_state"]).sum())
        out[kind] = {"checked": len(want), "agree": agree,
                     "percent": round(100.0 * agree / len(want), 4) if len(want) else 100.0}
    return out


# --- main -------------------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> dict:
    def save(partial: dict) -> None:  # progress on disk: a run killed from outside still reports its stages
        Path(args.json).write_text(json.dumps({**partial, "partial": True}, indent=2, default=str))

    scenario_dir = Path(args.scenario)
    meta = json.loads((scenario_dir / "bench-meta.json").read_text())["summary"]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    profile_dir = Path(args.profile) if args.profile else None
    tag = f"{args.backend}-{meta['orders_per_day']}"
    result: dict[str, Any] = {"backend": args.backend, "orders_per_day": meta["orders_per_day"],
                              "days": meta["days"], "pid": os.getpid(), "started_at": datetime.now(UTC).isoformat(),
                              "load_start": _load(), "profiled": profile_dir is not None}
    with RssSampler() as rss:
        rss.mark()
        started = time.perf_counter()
        from payrecon.settings import ReconSettings, Settings, Window
        from payrecon.warehouse.engine import make_engine
        from payrecon.warehouse.migrate import upgrade

        imports = _import_stage_modules()
        url, cleanup = create_warehouse(args.backend, work)
        try:
            engine = make_engine(url)
            commerce = make_engine(meta["commerce_url"])
            upgrade(engine)
            result["setup"] = {"seconds": round(time.perf_counter() - started, 3),
                               "peak_rss_mb": round(rss.peak_since_mark() / MB, 1),
                               "imports_seconds": imports,
                               "what": "imports (Great Expectations included), fresh warehouse, migrations"}
            from sqlalchemy.engine import make_url

            watchdog = Watchdog(engine, args.stage_timeout,
                                make_url(url).database if args.backend == "postgres" else None)
            settings = Settings(
                warehouse_url=url, commerce_url=meta["commerce_url"], inbox_dir=scenario_dir / "inbox",
                output_dir=work / "output", recon=ReconSettings(settlement_grace_days=int(meta["grace_days"])),
            )
            ctx = Context(engine, commerce, settings, meta, int(meta["grace_days"]))
            first = datetime.fromisoformat(meta["start"]).replace(tzinfo=UTC)
            windows = [Window(first + timedelta(days=i), first + timedelta(days=i + 1)) for i in range(meta["days"])]
            result["warmup"] = []
            for window in windows[:-1]:
                stages = []
                result["warmup"].append({"window": window.label, "stages": stages})
                for name in STAGES:
                    stages.append(run_stage(name, ctx, window, rss, None, tag, watchdog=watchdog))
                    save(result)
                result["warmup"][-1]["seconds"] = round(sum(s["seconds"] for s in stages), 3)
            measured = windows[-1]
            result["window"] = measured.label
            result["task_processes"] = not args.one_process
            rss.mark()
            overall_before = rss.overall_peak
            result["stages"] = []
            if args.one_process:
                timer = SqlTimer(engine) if profile_dir is not None else None
                for name in STAGES:
                    result["stages"].append(run_stage(name, ctx, measured, rss, profile_dir, tag, timer, watchdog))
                    save(result)
            else:
                engine.dispose()  # DuckDB: one process holds the warehouse file at a time
                commerce.dispose()
                for name in STAGES:
                    if args.snapshots and args.backend == "duckdb":  # the warehouse as this stage finds it
                        Path(args.snapshots).mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(work / "warehouse.duckdb", Path(args.snapshots) / f"before-{name}.duckdb")
                    result["stages"].append(run_task_process(name, args, url, measured, work, tag))
                    save(result)
                engine = make_engine(url)
            result["total_seconds"] = round(sum(s["seconds"] for s in result["stages"]), 3)
            result["timed_out"] = [s["stage"] for s in result["stages"] if s.get("timed_out")]
            result["total_cpu_seconds"] = round(sum(s["cpu_seconds"] for s in result["stages"]), 3)
            result["peak_rss_mb"] = round(max(s["peak_rss_mb"] for s in result["stages"]), 1)
            # one process: its peak over warm-up and window; task processes: this process's warm-up (the
            # sampler would add the task processes' memory to this idle one's)
            result["process_peak_rss_mb"] = round(
                (max(rss.overall_peak, overall_before) if args.one_process else overall_before) / MB, 1)
            result["kernel_peak_rss_mb"] = round(kernel_peak_rss() / MB, 1)
            from bench.reference import warehouse_join

            result["bare_join"] = warehouse_join(engine, measured, int(meta["grace_days"]))
            result["rows"] = _row_counts(engine, measured)
            if not args.no_check:
                started = time.perf_counter()
                result["truth"] = check_truth(engine, scenario_dir / "truth")
                result["truth"]["seconds"] = round(time.perf_counter() - started, 2)
            engine.dispose()
            commerce.dispose()
        finally:
            cleanup()
    result["load_end"] = _load()
    return result


def _import_stage_modules(great_expectations: bool = True) -> dict[str, float]:
    """Import what the stages use, timed: under Airflow every task process pays this once."""
    import importlib

    out = {}
    for name in ("payrecon.ingestion.landing", "payrecon.validation.settlement_lines", "payrecon.commerce.pull",
                 "payrecon.reconciliation.reconcile", "payrecon.reconciliation.outputs", "payrecon.rules.decide",
                 "payrecon.linking.link", "payrecon.followups.planner"):
        started = time.perf_counter()
        importlib.import_module(name)
        out[name] = round(time.perf_counter() - started, 3)
    if not great_expectations:
        return out
    started = time.perf_counter()
    from payrecon.validation.gx_runtime import context, gx

    gx()
    context()
    out["great_expectations context"] = round(time.perf_counter() - started, 3)
    return out


def _row_counts(engine, window) -> dict:  # noqa: ANN001
    from sqlalchemy import text

    with engine.connect() as conn:
        def one(sql: str, **binds: Any) -> int:
            return int(conn.execute(text(sql), binds).scalar() or 0)

        return {
            "window_lines": one("select count(*) from settlement_lines where window_start = :ws", ws=window.start),
            "window_orders": one("select count(*) from orders where created_at >= :a and created_at < :b",
                                 a=window.start, b=window.end),
            "warehouse_lines": one("select count(*) from settlement_lines"),
            "warehouse_orders": one("select count(*) from orders"),
            "warehouse_attempts": one("select count(*) from payment_attempts"),
            "results_in_window": one("select count(*) from reconciliation_results where window_start = :ws",
                                     ws=window.start),
        }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", required=True, help="a cached scenario folder (bench.data)")
    ap.add_argument("--backend", required=True, choices=["duckdb", "postgres"])
    ap.add_argument("--work", required=True, help="scratch folder (DuckDB warehouse file, CSV outputs)")
    ap.add_argument("--json", required=True, help="where to write the result")
    ap.add_argument("--profile", default=None, help="write a pyinstrument profile per measured stage here")
    ap.add_argument("--no-check", action="store_true", help="skip the ground-truth check")
    ap.add_argument("--stage-timeout", type=float, default=None,
                    help="cancel a stage's statements after this many seconds and report it as timed out")
    ap.add_argument("--one-process", action="store_true",
                    help="run the measured window's stages in this process, not one process per stage")
    ap.add_argument("--snapshots", default=None, metavar="DIR",
                    help="DuckDB: keep a copy of the warehouse as each measured stage found it "
                         "(before-<stage>.duckdb), to re-run one stage with --task <stage> --url duckdb:///<copy>")
    ap.add_argument("--task", default=None, choices=STAGES,
                    help="run only this stage of the day starting --window-start on the warehouse at --url, "
                         "in this process (what the run does per stage)")
    ap.add_argument("--url", default=None, help="with --task: the warehouse URL")
    ap.add_argument("--window-start", default=None, help="with --task: the window's start, ISO 8601 with zone")
    args = ap.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    if args.task:
        return task_main(args)
    try:
        result = run(args)
    except Exception as exc:  # the parent reports it; the traceback goes to stderr
        traceback.print_exc()
        result = {"backend": args.backend, "error": f"{type(exc).__name__}: {exc}"}
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
        return 1
    Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
