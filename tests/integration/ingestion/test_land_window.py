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


def test_land_window_ignores_other_dates_and_unknown_folders(warehouse_url: str, tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    (inbox / "not_configured" / DAY).mkdir(parents=True)
    (inbox / "not_configured" / DAY / "x.csv").write_text("a,b\n")
    engine = make_engine(warehouse_url)
    try:
        report = land_window(engine, Settings(warehouse_url=warehouse_url, inbox_dir=inbox), Window.day("2026-11-02"))
        assert report.files == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("gateway", ["stripe_eu", "shopgate"])
def test_sample_gateways_are_configured(gateway: str) -> None:
    from payrecon.ingestion.config import load_config

    assert gateway in load_config().gateways
