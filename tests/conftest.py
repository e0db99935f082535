"""Shared fixtures: the domain package on the path, a throwaway warehouse on each engine.

Fake Airflow connections and variables come in as AIRFLOW_CONN_* / AIRFLOW_VAR_* environment variables,
set before Airflow is imported anywhere.
"""

from __future__ import annotations

import os
import sys
import tempfile
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

from tests.pgdb import create_pg_database, drop_pg_database, pg_available  # noqa: E402


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
