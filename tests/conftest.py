"""Shared fixtures: the domain package on the path, a throwaway warehouse on each engine.

Fake Airflow connections and variables come in as AIRFLOW_CONN_* / AIRFLOW_VAR_* environment variables,
set before Airflow is imported anywhere.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT))

# One Airflow home (SQLite metadata DB) for the whole session, fixed before anything imports Airflow:
# Airflow reads its configuration once per process.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="payrecon-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

PG_ADMIN_URL = os.environ.get("PAYRECON_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def pg_available() -> bool:
    import sqlalchemy as sa

    try:
        eng = sa.create_engine(PG_ADMIN_URL)
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


def create_pg_database() -> tuple[str, str]:
    """A fresh PostgreSQL database; returns (name, url)."""
    import sqlalchemy as sa

    name = f"payrecon_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{name}"')
    admin.dispose()
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
    admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not pg_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (the machine starts it before each session)")
    name, url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated warehouse on each engine the product supports."""
    from payrecon.warehouse.engine import warehouse
    from payrecon.warehouse.migrate import upgrade

    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
        with warehouse(url) as engine:
            upgrade(engine)
        yield url
        return
    if not pg_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432")
    name, url = create_pg_database()
    try:
        with warehouse(url) as engine:
            upgrade(engine)
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
def engine(warehouse_url: str):
    from payrecon.warehouse.engine import make_engine

    eng = make_engine(warehouse_url)
    yield eng
    eng.dispose()
