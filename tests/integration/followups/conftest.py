"""Follow-up fixtures: the project's action config with quick retries, a real SMTP server, a real HTTP server.

`warehouse_url` is overridden here with the same two engines as the project fixture, but each test gets
a copy of a warehouse migrated once per session (a file copy on DuckDB, `create database ... template`
on PostgreSQL): the same schema, a fraction of the set-up time.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from followup_shop import SmtpServer

from payrecon.followups.config import FollowupConfig, load_config

PG_ADMIN_URL = os.environ.get("PAYRECON_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _pg_admin(sql: str) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(sql)
    admin.dispose()


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def _duck_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from payrecon.warehouse.engine import warehouse
    from payrecon.warehouse.migrate import upgrade

    path = tmp_path_factory.mktemp("followups_template") / "warehouse.duckdb"
    with warehouse(f"duckdb:///{path}") as engine:
        upgrade(engine)
    return path


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    from payrecon.warehouse.engine import warehouse
    from payrecon.warehouse.migrate import upgrade

    name = f"payrecon_fu_template_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'create database "{name}"')
    with warehouse(_pg_url(name)) as engine:
        upgrade(engine)
    yield name
    _pg_admin(f'drop database if exists "{name}" with (force)')


def _duck_copy(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(template, target)
    return f"duckdb:///{target}"


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path, _duck_template: Path) -> Iterator[str]:
    if request.param == "duckdb":
        yield _duck_copy(_duck_template, tmp_path)
        return
    template = request.getfixturevalue("_pg_template")
    name = f"payrecon_test_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'create database "{name}" template "{template}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def config() -> FollowupConfig:
    """The project's actions.yaml with quick retries for tests."""
    cfg = load_config()
    delivery = cfg.delivery.model_copy(update={"backoff_seconds": 10, "backoff_max_seconds": 60, "max_attempts": 4})
    return cfg.model_copy(update={"delivery": delivery})


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def endpoints(httpserver):  # noqa: ANN001, ANN201 - pytest-httpserver's fixture
    from payrecon.followups.channels.webhook import HttpEndpoint

    for path in ("/sms", "/contacts", "/tasks"):
        httpserver.expect_request(path, method="POST").respond_with_json({"ok": True})
    base = httpserver.url_for("/").rstrip("/")
    return {name: HttpEndpoint(base_url=base, timeout=5) for name in ("sms", "crm", "team")}




@pytest.fixture
def duck_engine(tmp_path: Path, _duck_template: Path) -> Iterator[sa.Engine]:
    """The embedded warehouse only: for behaviour that does not depend on the engine (keeps the suite fast)."""
    from payrecon.warehouse.engine import make_engine

    engine = make_engine(_duck_copy(_duck_template, tmp_path))
    yield engine
    engine.dispose()
