"""The email's structure, the recipients Variable, and the two report DAGs' schedules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pendulum

from payrecon.reports.email import build_message, content_id, parse_recipients

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DAGS = Path(__file__).resolve().parents[3] / "dags"


def test_recipients_parse_from_the_variable() -> None:
    assert parse_recipients(" a@x.com, b@y.com;a@x.com ,, ") == ["a@x.com", "b@y.com"]
    assert parse_recipients("") == [] and parse_recipients(None) == []


def test_the_message_carries_its_charts_inline_and_the_files_attached(tmp_path: Path) -> None:
    chart = tmp_path / "states.png"
    chart.write_bytes(PNG)
    workbook = tmp_path / "finance_report_2026-11-05.xlsx"
    workbook.write_bytes(b"PK\x03\x04 not really a workbook")
    csv = tmp_path / "totals.csv"
    csv.write_text("Currency,Net\nUSD,1.00\n", encoding="utf-8")
    html = f'<html><body><img src="cid:{content_id("states", "2026-11-05")}"></body></html>'
    mail = build_message("Finance report", html, "text", {"states": chart}, "2026-11-05", workbook,
                         {"totals": csv}, ["a@x.com"], sender="r@x.com")
    parsed = message_from_bytes(mail.as_bytes(), policy=default_policy)
    assert parsed.get_content_type() == "multipart/mixed"
    body = parsed.get_body(preferencelist=("related", "html"))
    assert body.get_content_type() == "multipart/related"
    cid = re.search(r'src="cid:([^"]+)"', parsed.get_body(preferencelist=("html",)).get_content()).group(1)
    image = next(p for p in parsed.walk() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == f"<{cid}>" and image.get_content() == PNG
    names = sorted(p.get_filename() for p in parsed.iter_attachments())
    assert names == ["finance_report_2026-11-05.xlsx", "finance_report_2026-11-05_csv.zip"]
    assert parsed["Message-ID"].startswith("<finance-report.2026-11-05.")


def _bag(name: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / f"{name}.py"))
    assert bag.import_errors == {}
    return bag.dags[name]


def test_the_monthly_report_covers_a_whole_month() -> None:
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    dag = _bag("finance_report_monthly")
    timetable = coerce_to_core_timetable(dag.timetable)
    start = pendulum.datetime(2026, 11, 1, tz="UTC")
    info = timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(start - timedelta(days=31), start),
        restriction=TimeRestriction(earliest=start, latest=None, catchup=True),
    )
    assert info.data_interval.start == start
    assert info.data_interval.end == pendulum.datetime(2026, 12, 1, tz="UTC")
    assert "month" in dag.params


def test_the_daily_report_waits_for_reconciliation_and_rules() -> None:
    from payrecon.airflow_adapter import ORDER_RULES_ASSET, RECONCILIATION_ASSET

    dag = _bag("finance_report")
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAll"  # both, not either
    assert {a.name for a in condition.objects} == {RECONCILIATION_ASSET, ORDER_RULES_ASSET}
    assert {"window_start", "window_end"} <= set(dag.params)


def test_the_month_comes_from_the_param_or_the_interval() -> None:
    from payrecon.airflow_adapter import month_from_context

    assert month_from_context({"params": {"month": "2026-10"}}) == "2026-10"
    assert month_from_context({"params": {}, "data_interval_start": datetime(2026, 11, 1, tzinfo=UTC)}) == "2026-11"
