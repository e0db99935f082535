"""docker-compose.yaml, Dockerfile and .env.example, checked without a Docker engine (none runs here).

What can go wrong silently is checked: the official file's shape (one `x-airflow-common` anchor shared
by every Airflow service, the full service set), the settings every Airflow 3 service must share, the
init steps (metadata migration, the `warehouse_writer` pool, the warehouse migration), the separate
warehouse database, secrets only in the git-ignored `.env`, and the connections resolving to the URLs
the adapter builds. The Celery test (test_celery_executor.py) runs the same services as processes.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                    "airflow-triggerer", "airflow-init")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def _defaults(value: str) -> str:
    """Compose interpolation with each variable's default (`${X:-d}` -> d)."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_official_shape_and_service_set(compose: dict) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "mailpit", *AIRFLOW_SERVICES} <= set(services)
    assert "x-airflow-common" in compose
    for name in AIRFLOW_SERVICES:
        svc = services[name]
        assert svc["build"] == "." and svc["image"].startswith("${AIRFLOW_IMAGE_NAME"), name
        env = svc["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/", name
        assert "AIRFLOW__API_AUTH__JWT_SECRET" in env and "PYTHONPATH" in env, name
        mounts = {_defaults(m).split(":")[1] for m in svc["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= mounts, name
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["airflow-init"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_init_creates_pool_and_migrates_both_databases(compose: dict) -> None:
    init = (ROOT / "docker" / "airflow-init.sh").read_text()
    assert "airflow db migrate" in init
    assert "airflow pools set warehouse_writer" in init
    assert "python -m payrecon.warehouse.migrate" in init
    assert compose["services"]["airflow-init"]["command"] == ["/opt/airflow/docker/airflow-init.sh"]
    postgres = compose["services"]["postgres"]
    assert "./docker/postgres:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    sql = (ROOT / "docker" / "postgres" / "10-warehouse.sql").read_text()
    assert "create database" in sql and "\\getenv wh_password WAREHOUSE_PASSWORD" in sql


def test_secrets_live_in_a_git_ignored_env_file(compose: dict) -> None:
    text = (ROOT / "docker-compose.yaml").read_text()
    example = (ROOT / ".env.example").read_text()
    declared = set(re.findall(r"^([A-Z_]+)=", example, flags=re.M))
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", text)) - {"AIRFLOW_PROJ_DIR"}  # $${X}: the container's
    assert used <= declared, f"variables missing from .env.example: {sorted(used - declared)}"
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0, ".env must be git-ignored"
    assert "${AIRFLOW_JWT_SECRET:?" in text  # no default secret: compose refuses to start without one


def test_image_matches_the_tested_pins() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    pins = dict(line.split("==", 1) for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line)
    assert f"ARG AIRFLOW_VERSION={pins['apache-airflow']}" in dockerfile
    assert "ARG PYTHON_VERSION=3.11" in dockerfile  # pyproject: requires-python >=3.11,<3.12
    assert "-r /opt/airflow/requirements.txt" in dockerfile


def test_connections_resolve_to_the_urls_the_tasks_use(compose: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from payrecon import airflow_adapter as adapter

    env = compose["x-airflow-common"]["environment"]
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", _defaults(env["AIRFLOW_CONN_WAREHOUSE_DB"]))
    monkeypatch.setenv("AIRFLOW_CONN_COMMERCE_DB", _defaults(env["AIRFLOW_CONN_COMMERCE_DB"]))
    assert adapter.sqlalchemy_url("warehouse_db") == "postgresql+psycopg2://payrecon:payrecon@postgres:5432/payrecon"
    assert adapter.sqlalchemy_url("commerce_db") == "sqlite:////opt/airflow/data/demo/commerce.sqlite"
    assert _defaults(env["PAYRECON_WAREHOUSE_URL"]) == adapter.sqlalchemy_url("warehouse_db")
    assert os.environ["AIRFLOW_CONN_WAREHOUSE_DB"].startswith("postgresql://")
