"""The Params of a manual or backfill run (`gateway`, `dry_run`) and the alerts a failure raises.

- A dry run computes the same counts as the real run, writes nothing (every table's checksum is
  unchanged) and ends Skipped, so no asset event starts downstream DAGs. A DAG whose tasks do not
  implement dry runs does nothing and ends Skipped.
- `gateway` lands only that gateway's folder; an unknown gateway fails the task, naming the known ones.
- That failure alerts the team twice (the task's callback and the DAG run's), by webhook and by email.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from opskit import connect_channels, windows

from payrecon.ops.checksum import differences, table_checksums
from payrecon.settings import Settings


def _sums(url: str) -> dict:
    from payrecon.warehouse.engine import warehouse

    with warehouse(url) as engine:
        return table_checksums(engine)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def task_log():  # noqa: ANN201
    """What `payrecon.tasks` logs (Airflow's structlog setup keeps it from pytest's caplog)."""
    handler, logger = _Records(), logging.getLogger("payrecon.tasks")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def _dry_summary(task_log: _Records, what: str) -> object:
    records = [r for r in task_log.records if str(r.msg).startswith("DRY RUN") and r.args[0] == what]
    assert records, f"no dry-run line for {what} in the log"
    return records[-1].args[1]


def test_dry_runs_count_like_real_runs_and_write_nothing(
    warehouse_url: str, scenario: Path, tmp_path: Path, task_log: _Records
) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    from payrecon.tasks import land_settlements, publish_reconciliation, pull_orders, reconcile_from_context

    first, second = windows()[:2]
    settings = Settings(warehouse_url=warehouse_url, commerce_url=f"sqlite:///{scenario / 'commerce.sqlite'}",
                        inbox_dir=scenario / "inbox", output_dir=tmp_path / "output")
    real = {"params": first.as_dict()}
    dry = {"params": {**second.as_dict(), "dry_run": True}}
    land_settlements(real, settings=settings)
    pull_orders(real, settings=settings)
    reconcile_from_context(real, settings=settings)
    before = _sums(warehouse_url)

    with pytest.raises(AirflowSkipException):
        land_settlements(dry, settings=settings)
    dry_landing = _dry_summary(task_log, "settlement landing")
    with pytest.raises(AirflowSkipException):
        pull_orders(dry, settings=settings)
    dry_results = reconcile_from_context(dry, settings=settings)
    with pytest.raises(AirflowSkipException):
        publish_reconciliation(dry_results, dry, settings=settings)
    assert differences(before, _sums(warehouse_url)) == [], "a dry run wrote to the warehouse"
    assert not (tmp_path / "output" / "reconciliation" / second.label).exists()

    landed = land_settlements({"params": second.as_dict()}, settings=settings)
    assert [{k: v for k, v in r.items() if k != "files"} for r in landed["reports"]] == dry_landing
    assert dry_landing[0]["lines_loaded"] > 0


def test_dry_run_of_a_dag_without_dry_runs_does_nothing(warehouse_url: str, scenario: Path, tmp_path: Path) -> None:
    """Order rules (like follow-ups and finance) do not implement dry runs: asked for one, they skip."""
    from airflow.sdk.exceptions import AirflowSkipException

    from payrecon.rule_tasks import decide_rules
    from payrecon.rules.settings import RuleSettings
    from payrecon.tasks import land_settlements, pull_orders

    window = windows()[0]
    settings = Settings(warehouse_url=warehouse_url, commerce_url=f"sqlite:///{scenario / 'commerce.sqlite'}",
                        inbox_dir=scenario / "inbox", output_dir=tmp_path)
    land_settlements({"params": window.as_dict()}, settings=settings)
    pull_orders({"params": window.as_dict()}, settings=settings)
    before = _sums(warehouse_url)
    with pytest.raises(AirflowSkipException, match="does not implement dry runs"):
        decide_rules({"params": {**window.as_dict(), "dry_run": True}}, settings=settings, rules=RuleSettings())
    assert differences(before, _sums(warehouse_url)) == []


def test_gateway_param_lands_only_that_gateway(warehouse_url: str, scenario: Path, tmp_path: Path) -> None:
    from payrecon.tasks import land_settlements

    window = windows()[0]
    gateways = sorted(p.parent.parent.name for p in (scenario / "inbox").glob(f"*/{window.label}/*"))
    assert len(set(gateways)) >= 2, "the window should hold files of two gateways or more"
    settings = Settings(warehouse_url=warehouse_url, inbox_dir=scenario / "inbox", output_dir=tmp_path)
    result = land_settlements({"params": {**window.as_dict(), "gateway": gateways[0]}}, settings=settings)
    assert result["gateway"] == gateways[0] and result["reports"][0]["files_landed"] == gateways.count(gateways[0])
    engine = sa.create_engine(warehouse_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        landed = {r[0] for r in conn.execute(sa.text("select distinct gateway from landed_files"))}
    engine.dispose()
    assert landed == {gateways[0]}
    with pytest.raises(ValueError, match="unknown gateway 'nope'.*stripe"):
        land_settlements({"params": {**window.as_dict(), "gateway": "nope"}}, settings=settings)


def test_failed_run_alerts_the_team_and_dry_run_ends_skipped(
    tmp_path: Path, scenario: Path, smtp, receiver, restore_environ  # noqa: ANN001
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from scripts.pipeline import DAGS_DIR, configure_environment, init_airflow_db

    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    configure_environment(None, url, f"sqlite:///{scenario / 'commerce.sqlite'}", scenario / "inbox",
                          tmp_path / "output")
    connect_channels(smtp, receiver, alert_email="data-team@example.com")
    init_airflow_db()
    dag = DagBag(dag_folder=str(DAGS_DIR / "settlements_ingest.py")).dags["settlements_ingest"]
    for task in dag.tasks:
        task.retries = 0
    window = windows()[0]

    run = dag.test(logical_date=window.start, run_conf={**window.as_dict(), "dry_run": True})
    assert "success" in str(run.state)
    assert {ti.state for ti in run.get_task_instances()} == {"skipped"}
    assert _sums(url).get("settlement_lines") is None or _sums(url)["settlement_lines"].rows == 0

    run = dag.test(logical_date=window.start, run_conf={**window.as_dict(), "gateway": "nope"})
    assert "failed" in str(run.state)
    alerts = [req.get_json()["alert"] for req, _ in receiver.log if req.path == "/alerts"]
    assert {a["kind"] for a in alerts} == {"task_failed", "dag_failed"}
    assert all(a["dag_id"] == "settlements_ingest" for a in alerts)
    assert "unknown gateway 'nope'" in next(a["error"] for a in alerts if a["kind"] == "task_failed")
    subjects = [m["Subject"] for m in smtp.mailbox.messages]
    assert any("land_settlement_files failed" in s for s in subjects) and any("DAG run failed" in s for s in subjects)
    assert all(m["To"] == "data-team@example.com" for m in smtp.mailbox.messages)
