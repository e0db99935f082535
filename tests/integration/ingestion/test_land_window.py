"""land_window end to end on DuckDB and PostgreSQL: lands each file once, a replay changes no table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from payrecon.ingestion.landing import land_window
from payrecon.settings import Settings, Window
from payrecon.warehouse.engine import make_engine

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "settlements"
DAY = "2026-11-01"


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    for gateway, name in (("stripe_eu", "stripe_itemized.csv"), ("shopgate", "generic_basic.csv")):
        folder = inbox / gateway / DAY
        folder.mkdir(parents=True)
        shutil.copy(FIXTURES / name, folder / name)
    return inbox


def _snapshot(engine) -> dict[str, pd.DataFrame]:
    out = {}
    with engine.connect() as conn:
        for table, key in (("landed_files", "file_id"), ("settlement_lines", "line_id"), ("quarantine", "quarantine_id")):
            out[table] = pd.read_sql(f"select * from {table} order by {key}", conn)
    return out


def test_land_window_lands_stripe_and_generic_once(warehouse_url: str, tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    (inbox / "shopgate" / DAY / "broken.csv").write_text("this is not,a settlement file\n1,2\n")
    engine = make_engine(warehouse_url)
    settings = Settings(warehouse_url=warehouse_url, inbox_dir=inbox)
    try:
        report = land_window(engine, settings, Window.day(DAY))
        summary = report.as_dict()
        assert summary["files_landed"] == 2
        assert summary["files_rejected"] == 1
        assert "wrong header" in summary["rejected"][0]["reason"]
        assert summary["lines_loaded"] == 15
        for f in report.files:
            assert f.lines_read == f.lines_loaded + f.lines_quarantined
        first = _snapshot(engine)
        lines = first["settlement_lines"]
        assert set(lines["gateway"]) == {"stripe_eu", "shopgate"}
        assert (lines["gross_minor"] - lines["fee_minor"] == lines["net_minor"]).all()
        assert (lines["window_start"] == pd.Timestamp(DAY, tz="UTC")).all()
        rejected = first["landed_files"].set_index("file_name").loc["broken.csv"]
        assert rejected["status"] == "rejected"
        whole = first["quarantine"]
        assert list(whole["line_no"]) == [0]
        assert whole["reason"].iloc[0].startswith("broken.csv (whole file): unreadable file (wrong_header)")

        replay = land_window(engine, settings, Window.day(DAY))
        assert replay.as_dict()["files_skipped"] == 3
        assert replay.lines_read == 0
        second = _snapshot(engine)
        for table in first:
            pd.testing.assert_frame_equal(first[table], second[table])
    finally:
        engine.dispose()


def test_land_window_ignores_other_dates_and_warns_of_unknown_folders(
    warehouse_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = _inbox(tmp_path)
    (inbox / "not_configured" / DAY).mkdir(parents=True)
    (inbox / "not_configured" / DAY / "x.csv").write_text("a,b\n")
    engine = make_engine(warehouse_url)
    settings = Settings(warehouse_url=warehouse_url, inbox_dir=inbox)
    try:
        assert land_window(engine, settings, Window.day("2026-11-02")).files == []
        with caplog.at_level("WARNING", logger="payrecon.ingestion.landing"):
            report = land_window(engine, settings, Window.day(DAY))
        assert {f.gateway for f in report.files} == {"stripe_eu", "shopgate"}
        assert "not_configured/2026-11-01 has files for this window but no entry in gateways.yaml" in caplog.text
    finally:
        engine.dispose()


@pytest.mark.parametrize("gateway", ["stripe_eu", "shopgate"])
def test_sample_gateways_are_configured(gateway: str) -> None:
    from payrecon.ingestion.config import load_config

    assert gateway in load_config().gateways


def test_land_window_lands_every_format(warehouse_url: str, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for gateway, name in (
        ("adyen", "adyen_settlement_detail_report_batch_42.csv"),
        ("paypal", "STL-20261101.01.009.CSV"),
        ("braintree", "braintree_transaction_level_fee_report.csv"),
        ("novapay", "generic_novapay.csv"),
        ("stripe", "stripe_itemized.csv"),
        ("acmepay", "generic_basic.csv"),
    ):
        folder = inbox / gateway / DAY
        folder.mkdir(parents=True)
        shutil.copy(FIXTURES / name, folder / name)
    engine = make_engine(warehouse_url)
    try:
        report = land_window(engine, Settings(warehouse_url=warehouse_url, inbox_dir=inbox), Window.day(DAY))
        assert {f.gateway: (f.status, f.lines_loaded) for f in report.files} == {
            "adyen": ("landed", 6),
            "paypal": ("landed", 5),
            "braintree": ("landed", 4),
            "novapay": ("landed", 4),
            "stripe": ("landed", 7),
            "acmepay": ("landed", 8),
        }
        lines = _snapshot(engine)["settlement_lines"]
        assert (lines["gross_minor"] - lines["fee_minor"] == lines["net_minor"]).all()
        assert lines["occurred_at"].notna().all()
    finally:
        engine.dispose()


def test_a_failed_write_leaves_no_partial_file(warehouse_url: str, tmp_path: Path, monkeypatch) -> None:
    """The lines, the quarantine and the manifest go in one transaction: a crash mid-way writes nothing."""
    from payrecon.ingestion import landing

    inbox = _inbox(tmp_path)
    (inbox / "shopgate" / DAY / "generic_basic.csv").write_bytes(
        (FIXTURES / "generic_basic.csv").read_bytes() + b"bad,charge,ch,1,2026-11-01T10:00:00Z,USD,1.0x,0,1,,,\n"
    )
    real = landing.insert_frame

    def crash_on_quarantine(conn, table, frame):
        if table == "quarantine":
            raise RuntimeError("worker killed")
        return real(conn, table, frame)

    monkeypatch.setattr(landing, "insert_frame", crash_on_quarantine)
    engine = make_engine(warehouse_url)
    settings = Settings(warehouse_url=warehouse_url, inbox_dir=inbox)
    try:
        with pytest.raises(RuntimeError, match="worker killed"):
            land_window(engine, settings, Window.day(DAY))
        snap = _snapshot(engine)
        shopgate = snap["landed_files"][snap["landed_files"]["gateway"] == "shopgate"]
        assert shopgate.empty
        assert not (snap["settlement_lines"]["gateway"] == "shopgate").any()
        monkeypatch.setattr(landing, "insert_frame", real)
        report = land_window(engine, settings, Window.day(DAY))  # the retry lands it whole
        by_gateway = {f.gateway: f for f in report.files}
        assert by_gateway["shopgate"].lines_loaded == 8 and by_gateway["shopgate"].lines_quarantined == 1
    finally:
        engine.dispose()


def test_inbox_can_be_a_bucket_url(tmp_path: Path) -> None:
    """A `memory://` fsspec inbox reads like a local folder (the same path as s3:// or gs://)."""
    from upath import UPath

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    from payrecon.warehouse.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    bucket = UPath("memory://payrecon-test-inbox")
    target = bucket / "stripe_eu" / DAY / "stripe_itemized.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((FIXTURES / "stripe_itemized.csv").read_bytes())
    try:
        report = land_window(engine, Settings(warehouse_url=url, inbox_dir="memory://payrecon-test-inbox"),
                             Window.day(DAY))
        assert [(f.gateway, f.lines_loaded) for f in report.files] == [("stripe_eu", 7)]
        with engine.connect() as conn:
            uri = conn.exec_driver_sql("select source_uri from landed_files").scalar()
        assert uri.startswith("memory://")
    finally:
        engine.dispose()
        bucket.fs.rm(bucket.path, recursive=True)


def test_a_lost_line_fails_loudly(tmp_path: Path) -> None:
    from payrecon.ingestion.errors import LandingInvariantError
    from payrecon.ingestion.lines import ParsedFile, empty_lines

    with pytest.raises(LandingInvariantError, match="parser lost lines: read 3"):
        ParsedFile(lines=empty_lines(), bad=[], lines_read=3)
