"""Run the project's DAGs in-process over a list of windows with `dag.test()` (no scheduler needed).

Used by the demo and the end-to-end tests. Configuration reaches the DAGs the way it does in a
deployment: Airflow connections and variables, here given as AIRFLOW_CONN_* / AIRFLOW_VAR_* variables.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAGS_DIR = ROOT / "dags"

# Order of a window's work; DAGs not present yet are skipped.
PIPELINE = (
    "settlements_ingest",
    "orders_ingest",
    "reconcile",
    "payout_match",
    "order_rules",
    "followups_plan",
    "followups_dispatch",
    "finance_report",
)


@dataclass
class RunLog:
    runs: list[dict] = field(default_factory=list)

    def add(self, dag_id: str, window: str, state: str, seconds: float) -> None:
        self.runs.append({"dag_id": dag_id, "window": window, "state": state, "seconds": round(seconds, 2)})


def configure_environment(
    airflow_home: Path | None, warehouse_url: str, commerce_url: str, inbox_dir: Path, output_dir: Path,
    extra_vars: dict[str, str] | None = None,
) -> None:
    """Point Airflow at a metadata DB and give the DAGs their connections and variables.

    `airflow_home` is ignored once Airflow has been imported in this process (tests fix one home per
    session): Airflow reads its configuration once per process, so the home cannot move afterwards.
    """
    if airflow_home is not None and "airflow.settings" not in sys.modules:
        os.environ["AIRFLOW_HOME"] = str(airflow_home)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_DIR)
    os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ["AIRFLOW_CONN_WAREHOUSE_DB"] = json.dumps(
        {"conn_type": "generic", "extra": {"sqlalchemy_url": warehouse_url}}
    )
    os.environ["AIRFLOW_CONN_COMMERCE_DB"] = json.dumps(
        {"conn_type": "generic", "extra": {"sqlalchemy_url": commerce_url}}
    )
    os.environ["AIRFLOW_VAR_PAYRECON_INBOX_DIR"] = str(inbox_dir)
    os.environ["AIRFLOW_VAR_PAYRECON_OUTPUT_DIR"] = str(output_dir)
    for name, value in (extra_vars or {}).items():
        os.environ[f"AIRFLOW_VAR_{name.upper()}"] = value
    pythonpath = os.environ.get("PYTHONPATH", "")
    if str(ROOT / "plugins") not in pythonpath.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "plugins"), pythonpath) if p)


_MIGRATED: set[str] = set()


WRITER_POOL = "warehouse_writer"  # payrecon.airflow_adapter.EMBEDDED_WRITER_POOL (not imported: no Airflow here)
WRITER_POOL_DESCRIPTION = (
    "Warehouse writers. 1 slot on the embedded DuckDB warehouse (one writing process per file): parallel "
    "windows queue here instead of failing. On PostgreSQL more slots are fine (PAYRECON_WAREHOUSE_WRITER_SLOTS)."
)


def warehouse_writer_slots(warehouse_url: str | None = None) -> int:
    """Slots of the `warehouse_writer` pool: 1 on DuckDB (one writer), 4 on PostgreSQL, or the override."""
    override = os.environ.get("PAYRECON_WAREHOUSE_WRITER_SLOTS")
    if override:
        return int(override)
    if warehouse_url is None:
        conn = os.environ.get("AIRFLOW_CONN_WAREHOUSE_DB", "")
        try:
            warehouse_url = json.loads(conn).get("extra", {}).get("sqlalchemy_url", "") if conn else ""
        except ValueError:
            warehouse_url = conn
    return 4 if str(warehouse_url).startswith("postgresql") else 1


def init_airflow_db(pool_slots: int | None = None) -> float:
    """`airflow db migrate` and `airflow pools set warehouse_writer N` on the metadata DB, once per
    home; returns seconds taken. Every task runs in that pool: a task in a pool that does not exist is
    never scheduled (`dag.test()` ignores pools, the scheduler does not)."""
    home = os.environ.get("AIRFLOW_HOME", "")
    if home in _MIGRATED:
        return 0.0
    start = time.perf_counter()
    airflow = Path(sys.executable).with_name("airflow")
    env = os.environ.copy()
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=env)
    slots = pool_slots if pool_slots is not None else warehouse_writer_slots()
    subprocess.run(
        [str(airflow), "pools", "set", WRITER_POOL, str(slots), WRITER_POOL_DESCRIPTION],
        check=True, capture_output=True, env=env,
    )
    _MIGRATED.add(home)
    return time.perf_counter() - start


def run_windows(windows: list, dag_ids: tuple[str, ...] = PIPELINE, log: RunLog | None = None) -> RunLog:
    """Run each DAG of the pipeline for each window, oldest window first; fail on the first failed run."""
    from airflow.dag_processing.dagbag import DagBag

    log = log or RunLog()
    bag = DagBag(dag_folder=str(DAGS_DIR))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    for window in sorted(windows, key=lambda w: w.start):
        for dag_id in dag_ids:
            dag = bag.dags.get(dag_id)
            if dag is None:
                continue
            for task in dag.tasks:
                task.retries = 0  # dag.test() sleeps through real retry delays; fail fast here
            # dag.test() in Airflow 3.3.2 cannot finish a run of a DAG with a DeadlineAlert (it looks the
            # alert up by its serialized dict instead of its id); deadlines are the scheduler's business.
            dag.deadline = None
            start = time.perf_counter()
            run = dag.test(logical_date=window.start, run_conf=window.as_dict())
            state = str(getattr(run, "state", "unknown"))
            log.add(dag_id, window.label, state, time.perf_counter() - start)
            if "success" not in state:
                raise RuntimeError(f"{dag_id} failed for window {window.label} (state {state})")
    logging.getLogger(__name__).info("ran %d DAG runs", len(log.runs))
    return log
