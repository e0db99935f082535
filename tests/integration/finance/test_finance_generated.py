"""The finance layer on a generated merchant with derived bank statements, then the finance DAGs through
`dag.test()`: a DAG run over the same windows changes nothing, the form resolves, the month closes."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from finance_scenario import snapshot

from payrecon.settings import Settings, Window

START = date(2026, 11, 1)
DAYS = 5


def _windows() -> list[Window]:
    return [Window.day((START + timedelta(days=i)).isoformat()) for i in range(DAYS)]


def _land_directly(engine: sa.Engine, inbox: Path, window: Window) -> None:
    """Land a window's settlement files through their parsers, without the validation suite (the landing
    and its suite have their own tests; here only the finance layer is under test, and time is short)."""
    import hashlib
    from datetime import UTC, datetime, time

    from payrecon.ingestion.config import default_config
    from payrecon.ingestion.formats import parser_for
    from payrecon.ingestion.lines import LINE_COLUMNS, FileContext
    from payrecon.warehouse.bulk import insert_frame

    day = window.start.date()
    with engine.begin() as conn:
        for gateway, fmt in default_config().gateways.items():
            for path in sorted((inbox / gateway / day.isoformat()).glob("*.csv")):
                data = path.read_bytes()
                file_id = hashlib.sha256(data).hexdigest()
                lines = parser_for(fmt)(data, FileContext(path.name, gateway, day)).lines.copy()
                lines["line_id"] = [f"{file_id}:{n}" for n in lines["line_no"]]
                lines["file_id"], lines["gateway"] = file_id, gateway
                lines["window_start"] = datetime.combine(day, time(), tzinfo=UTC)
                insert_frame(conn, "settlement_lines", lines[LINE_COLUMNS])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from payrecon.commerce.pull import pull_incremental
    from payrecon.finance.run import load_config, run_finance
    from payrecon.finance.sample_bank import generate_bank
    from payrecon.reconciliation.reconcile import reconcile
    from payrecon.sample_data import generate
    from payrecon.warehouse.engine import warehouse
    from payrecon.warehouse.migrate import upgrade

    out = tmp_path_factory.mktemp("generated")
    generate(out, START, DAYS, 120, seed=11)
    planted = generate_bank(out)
    settings = Settings(
        warehouse_url=f"duckdb:///{out / 'warehouse.duckdb'}", commerce_url=f"sqlite:///{out / 'commerce.sqlite'}",
        inbox_dir=out / "inbox", output_dir=out / "output",
    )
    cfg = load_config()
    with warehouse(settings.warehouse_url) as engine, warehouse(settings.commerce_url) as commerce:
        upgrade(engine)
        for window in _windows():
            _land_directly(engine, out / "inbox", window)
            pull_incremental(commerce, engine, window.end, settings.pull_overlap)
            reconcile(engine, [window], settings.recon)
            run_finance(engine, settings, [window], cfg)
    return {"out": out, "settings": settings, "planted": planted}


def _frame(url: str, query: str) -> pd.DataFrame:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text(query), conn)
    engine.dispose()
    return frame


def test_finance_states_agree_with_the_generators_truth(generated: dict) -> None:
    url, truth = generated["settings"].warehouse_url, generated["out"] / "truth"
    orders = _frame(url, "select item_id as order_id, state, exception_id from finance_matches where item_type = 'order'")
    got = pd.read_csv(truth / "orders.csv", dtype=str).merge(orders, on="order_id", how="left")
    assert got["state"].notna().all()
    expect = {
        "matched": {"matched"}, "pending": {"pending"}, "failed_attempt": {"failed_attempt"}, "offline": {"offline"},
        "order_without_settlement": {"exception"}, "currency_mismatch": {"exception"},
        "amount_mismatch": {"exception", "written_off"},
    }
    wrong = got[[s not in expect[e] for e, s in zip(got["expected_state"], got["state"], strict=True)]]
    assert wrong.empty, wrong.head(10).to_string()

    lines = _frame(url, "select l.gateway, l.source_ref, m.state, m.exception_id from settlement_lines l "
                        "join finance_matches m on m.item_type = 'settlement_line' and m.item_id = l.line_id")
    got = pd.read_csv(truth / "settlement_lines.csv", dtype=str).merge(lines, on=["gateway", "source_ref"], how="left")
    assert got["state"].notna().all()
    dup = got[got["expected_state"] == "duplicate"]
    assert len(dup) and dup["exception_id"].str.startswith("duplicate:").all()
    orphan = got[got["expected_state"] == "settled_without_order"]
    assert len(orphan) and orphan["exception_id"].str.startswith("settled_without_order:").all()
    assert set(got.loc[got["expected_state"] == "refund", "state"]) == {"refund"}


def test_derived_bank_statements_tie_the_payouts(generated: dict) -> None:
    url, planted = generated["settings"].warehouse_url, generated["planted"]
    payouts = _frame(url, "select payout_id, state, bank_difference_minor from payouts").set_index("payout_id")
    assert payouts.loc[planted["short"][0], "state"] == "written_off"
    assert payouts.loc[planted["short"][0], "bank_difference_minor"] == -1
    assert payouts.loc[planted["missing"][0], "state"] in {"in_transit", "not_in_bank"}
    arrived = set(payouts.index) - set(planted["missing"]) - set(planted["not_arrived"])
    assert set(payouts.loc[sorted(arrived), "state"]) == {"tied", "written_off"}
    assert set(payouts.loc[planted["not_arrived"], "state"]) == {"in_transit"}
    bank = _frame(url, "select b.bank_ref, m.state from bank_statement_lines b join finance_matches m "
                       "on m.item_type = 'bank_line' and m.item_id = b.bank_line_id").set_index("bank_ref")
    assert bank.loc[planted["unclaimed"][0], "state"] in {"awaiting_payout", "exception"}
    assert set(bank.loc[bank.index.str.startswith("BNK-RENT"), "state"]) == {"not_gateway"}
    files = _frame(url, "select format, status, count(*) as n from bank_files group by format, status")
    assert set(files["format"]) == {"csv", "camt053"} and set(files["status"]) == {"landed"}


def test_fx_and_fees_on_generated_data(generated: dict) -> None:
    url, truth = generated["settings"].warehouse_url, generated["out"] / "truth"
    fx = _frame(url, "select rate_source, fx_difference_minor, reference_rate from fx_differences")
    expected = pd.read_csv(truth / "settlement_lines.csv", dtype=str)
    assert len(fx) == (expected["scenario"] == "fx").sum()
    assert set(fx["rate_source"]) == {"implied"} and fx["reference_rate"].notna().all()
    fees = _frame(url, "select count(*) as n, sum(case when variance_minor <> 0 then 1 else 0 end) as off "
                       "from fee_variances")
    assert int(fees["n"].iloc[0]) > 0 and int(fees["off"].iloc[0]) == 0  # the sample gateways charge as declared


def test_finance_dags_rerun_resolve_and_close(generated: dict, tmp_path: Path) -> None:
    from scripts.pipeline import configure_environment, init_airflow_db, run_windows

    settings: Settings = generated["settings"]
    saved = dict(os.environ)
    try:
        configure_environment(tmp_path / "airflow", settings.warehouse_url, settings.commerce_url,
                              settings.inbox_dir, settings.output_dir)
        init_airflow_db()
        before = snapshot(sa.create_engine(settings.warehouse_url, poolclass=sa.pool.NullPool))
        run_windows(_windows()[-1:], ("payout_match",))
        engine = sa.create_engine(settings.warehouse_url, poolclass=sa.pool.NullPool)
        assert snapshot(engine) == before
        assert (settings.output_dir / "finance" / "2026-11-05" / "exceptions.xlsx").is_file()

        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[3] / "dags"))
        with engine.connect() as conn:
            target = conn.execute(sa.text("select exception_id from exceptions where status = 'open' "
                                          "order by exception_id limit 1")).scalar()
        run = bag.dags["resolve_exception"].test(run_conf={
            "exception_id": target, "action": "dispute", "note": "opened a dispute", "resolved_by": "ana"})
        assert "success" in str(run.state)
        with engine.connect() as conn:
            assert conn.execute(sa.text("select status, resolution from exceptions where exception_id = :e"),
                                {"e": target}).one() == ("resolved", "dispute")
        run = bag.dags["month_close"].test(run_conf={"month": "2026-11", "fail_when_blocked": False})
        assert "success" in str(run.state)
        close = json.loads((settings.output_dir / "close" / "2026-11" / "close.json").read_text())
        assert close["status"] == "blocked" and len(close["missing_windows"]) == 25
        assert {"exceptions.xlsx", "write_offs.csv", "payouts.csv"} <= set(close["files"])
        engine.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)
