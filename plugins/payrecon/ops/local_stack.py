"""A real Airflow deployment on this machine, without Docker: the services of `docker-compose.yaml` as
processes, against the local PostgreSQL (a throwaway metadata database) and Redis (one DB number).

    with LocalStack(workdir, executor="CeleryExecutor", extra_env=pipeline_env) as stack:
        stack.init()                       # airflow db migrate + airflow pools set warehouse_writer N
        stack.start()                      # api-server, scheduler, dag-processor, celery worker
        stack.wait_for_dags([...])
        stack.airflow("backfill", "create", "--dag-id", ...)
        stack.wait_for_runs(...)

Used by the Celery executor test (tests/integration/ops) and the 30-day backfill benchmark (bench/).
Every service runs in its own process group, so `stop()` (also on any error, from `__exit__`) ends
the service and everything it started: task runners, Celery pool processes, gunicorn/uvicorn workers.
Only subprocess and SQLAlchemy here: Airflow itself runs in the child processes.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Run:
    dag_id: str
    run_id: str
    run_type: str
    state: str
    logical_date: Any
    queued_at: Any
    start_date: Any
    end_date: Any
    conf: Any = None


@dataclass
class LocalStack:
    workdir: Path
    executor: str = "CeleryExecutor"
    extra_env: dict[str, str] = field(default_factory=dict)
    pg_admin_url: str = field(default_factory=lambda: os.environ.get("PAYRECON_TEST_PG", DEFAULT_PG_ADMIN))
    redis_url: str = DEFAULT_REDIS
    redis_db: int = 11
    celery_concurrency: int = 4
    with_triggerer: bool = False
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        self.home = self.workdir / "airflow"
        self.home.mkdir(parents=True, exist_ok=True)
        self.meta_db = f"payrecon_airflow_{uuid.uuid4().hex[:10]}"
        self.meta_url = self.pg_admin_url.rsplit("/", 1)[0] + f"/{self.meta_db}"
        self.api_port = free_port()
        self.broker_url = f"{self.redis_url}/{self.redis_db}"
        # Celery queue of this stack alone: two stacks sharing a Redis DB (two test runs at once) never
        # take each other's tasks, and cleaning up touches only this queue's keys.
        self.queue = f"payrecon-{uuid.uuid4().hex[:10]}"
        self._created_db = False
        self._env = self._build_env()

    # --- environment -----------------------------------------------------------------------------------

    def _build_env(self) -> dict[str, str]:
        env = dict(os.environ)
        pythonpath = [str(ROOT / "plugins"), str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "PYTHONPATH": os.pathsep.join(dict.fromkeys(pythonpath)),
                "GX_ANALYTICS_ENABLED": "false",
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__EXECUTOR": self.executor,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__PARALLELISM": "16",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.meta_url,
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.meta_url.replace("+psycopg2", ""),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.celery_concurrency),
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                # fast feedback: the measured settings of shared/AIRFLOW_NOTES.md
                "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            }
        )
        env.update(self.extra_env)
        return env

    @property
    def env(self) -> dict[str, str]:
        return dict(self._env)

    # --- databases -------------------------------------------------------------------------------------

    def _admin(self) -> sa.Engine:
        return sa.create_engine(self.pg_admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)

    def create_metadata_db(self) -> None:
        admin = self._admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'create database "{self.meta_db}"')
        admin.dispose()
        self._created_db = True

    def drop_metadata_db(self) -> None:
        if not self._created_db:
            return
        admin = self._admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'drop database if exists "{self.meta_db}" with (force)')
        admin.dispose()
        self._created_db = False

    def flush_broker(self) -> None:
        """Drop this stack's queue from its Redis DB (nothing else: another stack may share the DB)."""
        import redis

        client = redis.Redis.from_url(self.broker_url)
        try:
            for key in client.scan_iter(match=f"{self.queue}*"):
                client.delete(key)
        finally:
            client.close()

    def meta(self) -> sa.Engine:
        return sa.create_engine(self.meta_url, poolclass=sa.pool.NullPool)

    # --- commands and services ---------------------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess:
        """Run one `airflow …` CLI command with this stack's environment."""
        cmd = [str(Path(sys.executable).with_name("airflow")), *args]
        proc = subprocess.run(cmd, env=self._env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:3])} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def init(self, pool_slots: int = 4, pool_description: str = "warehouse writers") -> None:
        """A fresh metadata DB, migrated, with the `warehouse_writer` pool; this stack's queue emptied."""
        self.create_metadata_db()
        self.flush_broker()
        self.airflow("db", "migrate", timeout=300)
        self.airflow("pools", "set", "warehouse_writer", str(pool_slots), pool_description)

    def _spawn(self, name: str, *args: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        cmd = [str(Path(sys.executable).with_name("airflow")), *args]
        self.processes[name] = subprocess.Popen(
            cmd, env=self._env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.workdir
        )
        log.close()

    def start(self) -> None:
        self._spawn("api-server", "api-server", "--port", str(self.api_port), "--host", "127.0.0.1", "--workers", "1")
        self._spawn("scheduler", "scheduler")
        self._spawn("dag-processor", "dag-processor")
        if self.executor == "CeleryExecutor":
            self._spawn(
                "celery-worker", "celery", "worker", "--concurrency", str(self.celery_concurrency),
                "--queues", self.queue, "--skip-serve-logs", "--without-gossip", "--without-mingle",
            )
        if self.with_triggerer:
            self._spawn("triggerer", "triggerer")
        self.wait_until(self._api_ready, 120, "the API server to answer")

    def _api_ready(self) -> bool:
        self.check_alive()
        try:
            with socket.create_connection(("127.0.0.1", self.api_port), timeout=1):
                return True
        except OSError:
            return False

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"Airflow services exited: {dead}\n" + self.tail_logs(dead))

    def tail_logs(self, names: Iterable[str] | None = None, lines: int = 40) -> str:
        out = []
        for name in names or self.processes:
            path = self.workdir / f"{name}.log"
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM every service's process group, then SIGKILL what is left after `grace` seconds."""
        for proc in self.processes.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.processes.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group: pool processes and task runners too
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            try:
                self.flush_broker()
            finally:
                self.drop_metadata_db()

    # --- waiting on the metadata DB ---------------------------------------------------------------------

    def wait_until(self, predicate: Callable[[], Any], timeout: float, what: str, poll: float = 0.5) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {what}\n" + self.tail_logs())
            time.sleep(poll)

    def serialized_dags(self) -> set[str]:
        engine = self.meta()
        try:
            with engine.connect() as conn:
                return {r[0] for r in conn.execute(sa.text("select distinct dag_id from serialized_dag"))}
        except sa.exc.ProgrammingError:
            return set()
        finally:
            engine.dispose()

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 120) -> None:
        wanted = set(dag_ids)
        self.wait_until(lambda: (self.check_alive(), wanted <= self.serialized_dags())[1], timeout,
                        f"the dag-processor to serialize {sorted(wanted)}")

    def runs(self, dag_ids: Iterable[str] | None = None) -> list[Run]:
        query = (
            "select dag_id, run_id, run_type, state, logical_date, queued_at, start_date, end_date, conf "
            "from dag_run"
        )
        params: dict[str, Any] = {}
        if dag_ids is not None:
            query += " where dag_id = any(:ids)"
            params["ids"] = list(dag_ids)
        engine = self.meta()
        try:
            with engine.connect() as conn:
                return [Run(*row) for row in conn.execute(sa.text(query + " order by dag_id, logical_date"), params)]
        finally:
            engine.dispose()

    def failed_task_logs(self, lines: int = 60) -> str:
        """The end of every task log that mentions an error (to explain a failed run)."""
        out = []
        for path in sorted((self.home / "logs").glob("**/*.log")):
            text = path.read_text(errors="replace")
            if "error" in text.lower():
                out.append(f"--- {path.relative_to(self.home)} ---\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(out[-6:])
