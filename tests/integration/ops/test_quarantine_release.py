"""Releasing quarantined lines after a fix, and replaying a file, on both engines.

The "fix" is a configuration change, as in real life: an amount bound that was too tight (finance
confirmed the big payment is real), and a gateway folder declared with the wrong format (the whole file
was rejected). Released lines land with their usual ids, quarantine rows keep the audit trail
(`released_at`), manifests stay consistent (read = loaded + quarantined), a second release changes
nothing, and a dry run writes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from payrecon.ops.checksum import differences, table_checksums
from payrecon.settings import Settings

DAY = date(2026, 11, 2)
ROOT = Path(__file__).resolve().parents[3]

BIG_PAYMENT = """transaction_id,type,charge_id,order_id,occurred_at,currency,gross,fee,net
t1,charge,ch_1,101,2026-11-02T10:00:00Z,USD,10.00,0.59,9.41
t2,charge,ch_2,102,2026-11-02T11:00:00Z,USD,25000.00,725.30,24274.70
t3,charge,ch_3,103,2026-11-02T12:00:00Z,USD,12.50,0.66,11.84
t4,charge,ch_4,104,2026-11-02T13:00:00Z,USD,not-a-number,0.10,1.00
"""

GENERIC_IN_A_STRIPE_FOLDER = """transaction_id,type,charge_id,order_id,occurred_at,currency,gross,fee,net
s1,charge,ch_9,201,2026-11-02T09:00:00Z,EUR,40.00,1.46,38.54
s2,refund,ch_9,201,2026-11-02T15:00:00Z,EUR,-40.00,0.00,-40.00
"""


def _config(**gateways: str):  # noqa: ANN202
    from payrecon.ingestion.config import Limits, load_config

    base = load_config()
    return replace(base, gateways=gateways or base.gateways, limits=Limits(max_abs_amount=1000, lookback_days=1100))


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    for gateway, body in (("acmepay", BIG_PAYMENT), ("partnerpay", GENERIC_IN_A_STRIPE_FOLDER)):
        folder = inbox / gateway / DAY.isoformat()
        folder.mkdir(parents=True)
        (folder / "settlement.csv").write_text(body)
    return inbox


def _land(engine: sa.Engine, inbox: Path, config) -> None:  # noqa: ANN001
    from payrecon.ingestion.landing import land_window
    from payrecon.settings import Window

    land_window(engine, Settings(warehouse_url="unused", inbox_dir=inbox), Window.day(DAY.isoformat()), config)


def _state(engine: sa.Engine) -> dict:
    with engine.connect() as conn:
        lines = [r[0] for r in conn.execute(sa.text("select source_ref from settlement_lines order by source_ref"))]
        held = [r[0] for r in conn.execute(sa.text(
            "select file_name || ':' || line_no from quarantine where released_at is null order by 1"))]
        released = int(conn.execute(sa.text("select count(*) from quarantine where released_at is not null")).scalar())
        manifests = {
            r.gateway: (r.status, r.lines_read, r.lines_loaded, r.lines_quarantined)
            for r in conn.execute(sa.text("select * from landed_files"))
        }
    return {"lines": lines, "held": held, "released": released, "manifests": manifests}


def test_release_after_a_fix_loads_what_now_passes_and_keeps_the_trail(engine: sa.Engine, tmp_path: Path) -> None:
    from payrecon.ops.quarantine import release_quarantine

    inbox = _inbox(tmp_path)
    strict = _config(acmepay="generic", partnerpay="stripe")  # bound 1000; partnerpay declared wrongly
    _land(engine, inbox, strict)
    before = _state(engine)
    assert before["lines"] == ["t1", "t3"]
    assert before["manifests"]["partnerpay"][0] == "rejected"
    settings = Settings(warehouse_url=str(engine.url), inbox_dir=inbox)

    snapshot = table_checksums(engine)
    dry = release_quarantine(engine, settings, config=strict, dry_run=True)
    assert table_checksums(engine) == snapshot and dry.released == 0  # nothing accepted yet, nothing written

    fixed = replace(_config(acmepay="generic", partnerpay="generic"), limits=_config().limits.model_copy(
        update={"max_abs_amount": 100_000_000}))
    dry = release_quarantine(engine, settings, config=fixed, dry_run=True)
    assert dry.released == 3 and differences(snapshot, table_checksums(engine)) == []

    report = release_quarantine(engine, settings, config=fixed)
    after = _state(engine)
    assert report.released == 3 and report.windows == [DAY.isoformat()]
    assert after["lines"] == ["s1", "s2", "t1", "t2", "t3"]
    assert [h.split(":")[0] for h in after["held"]] == ["settlement.csv"]  # t4 is still not a number
    assert after["released"] == 2  # t2's row and partnerpay's whole-file row
    assert after["manifests"]["acmepay"] == ("landed", 4, 3, 1)
    assert after["manifests"]["partnerpay"] == ("landed", 2, 2, 0)

    snapshot = table_checksums(engine)
    again = release_quarantine(engine, settings, config=fixed)
    assert again.released == 0 and table_checksums(engine) == snapshot


def test_replay_file_replaces_a_landed_file_with_its_correction(engine: sa.Engine, tmp_path: Path) -> None:
    from payrecon.ops.quarantine import replay_file

    inbox = _inbox(tmp_path)
    config = _config(acmepay="generic", partnerpay="generic")
    _land(engine, inbox, config)
    with engine.connect() as conn:
        file_id = conn.execute(sa.text("select file_id from landed_files where gateway = 'acmepay'")).scalar()
    corrected = tmp_path / "settlement_v2.csv"
    corrected.write_text(BIG_PAYMENT.replace("not-a-number", "1.10").replace("25000.00,725.30,24274.70",
                                                                                 "250.00,7.55,242.45"))
    settings = Settings(warehouse_url=str(engine.url), inbox_dir=inbox)
    result = replay_file(engine, settings, file_id, path=corrected, config=config)
    assert result["removed"]["landed_files"] == 1
    state = _state(engine)
    assert state["lines"] == ["s1", "s2", "t1", "t2", "t3", "t4"] and state["held"] == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from landed_files where file_id = :f"), {"f": file_id}).scalar() == 0


def test_cli_checksum_and_dry_run_release(warehouse_url: str, tmp_path: Path) -> None:
    from payrecon.warehouse.engine import warehouse

    inbox = _inbox(tmp_path)
    with warehouse(warehouse_url) as engine:
        _land(engine, inbox, _config(acmepay="generic", partnerpay="generic"))
    env = {"PYTHONPATH": f"{ROOT / 'plugins'}", "PATH": "/usr/bin:/bin", "GX_ANALYTICS_ENABLED": "false"}
    run = [sys.executable, "-m", "payrecon.ops"]
    out = subprocess.run(run + ["checksum", "--warehouse", warehouse_url, "--json"], env=env,
                         capture_output=True, text=True, check=True, cwd=ROOT)
    sums = json.loads(out.stdout)
    assert sums["settlement_lines"]["rows"] == 4 and "decision_runs" not in sums
    out = subprocess.run(run + ["release-quarantine", "--warehouse", warehouse_url, "--inbox", str(inbox),
                                "--gateway", "acmepay", "--dry-run"], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    report = json.loads(out.stdout)
    assert report["dry_run"] is True and report["released"] == 1  # t2 passes the real bound; t4 never will
    out = subprocess.run(run + ["checksum", "--warehouse", warehouse_url, "--json"], env=env,
                         capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == sums

