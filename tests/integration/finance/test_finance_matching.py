"""Finance layer on a hand-made merchant, on DuckDB and PostgreSQL: payouts to the bank, tolerances and
write-offs, FX, fees, one-to-many and many-to-one matches, exceptions, resolutions and re-runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from finance_scenario import DAYS, build, config, run, snapshot, states

from payrecon.finance.exceptions import read_exceptions
from payrecon.finance.resolutions import Decision, audit_log, intake_folder, record
from payrecon.finance.workbook import export
from payrecon.settings import Settings


@dataclass
class Ran:
    engine: sa.Engine
    ids: dict


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def ran(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    """The scenario reconciled and run through finance once per engine; the read-only tests share it."""
    from payrecon.warehouse.engine import make_engine
    from payrecon.warehouse.migrate import upgrade
    from tests.pgdb import create_pg_database, drop_pg_database, pg_available

    tmp = tmp_path_factory.mktemp(f"finance-{request.param}")
    name = None
    if request.param == "duckdb":
        url = f"duckdb:///{tmp / 'warehouse.duckdb'}"
    else:
        if not pg_available():
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432")
        name, url = create_pg_database()
    engine = make_engine(url)
    try:
        upgrade(engine)
        ids = build(engine)
        run(engine, config(tmp), tmp)
        yield Ran(engine, ids)
    finally:
        engine.dispose()
        if name:
            drop_pg_database(name)


def _scalar(engine: sa.Engine, query: str, **params) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params).scalar()


def _rows(engine: sa.Engine, query: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query), params)]


def test_finance_states_on_both_engines(ran: Ran) -> None:
    engine, ids = ran.engine, ran.ids

    orders = states(engine, "order")
    assert orders["o_tie"][:2] == ("matched", "1:1")
    assert orders["o_cent"][:2] == ("written_off", "1:1")
    assert orders["o_far"] == ("exception", None, "amount_mismatch:order:o_far")
    assert orders["o_fx"][:2] == ("matched", "1:1")
    assert orders["o_split"][:2] == ("matched", "1:N")
    assert orders["o_inv1"][:2] == orders["o_inv2"][:2] == ("matched", "N:1")
    assert orders["o_fee"][0] == "matched"
    assert orders["o_dbl"][0] == "matched"

    lines = states(engine, "settlement_line")
    assert lines[ids["split2"]][0] == "matched"  # the foundation's "duplicate" is the second capture
    assert lines[ids["inv"]][:2] == ("matched", "N:1")
    assert lines[ids["cent"]][0] == "written_off"
    assert lines[ids["far"]][2] == "amount_mismatch:order:o_far"
    assert lines[ids["dbl2"]] == ("exception", None, f"duplicate:settlement_line:{ids['dbl2']}")
    assert lines[ids["refund"]][0] == "refund"
    assert lines[ids["payout_a"]][0] == "payout"
    assert _scalar(engine, "select detail from finance_matches where item_id = :i", i=ids["refund"]).startswith(
        "partial refund: 300 of 1000"
    )


def test_one_cent_rounding_is_written_off_and_recorded(ran: Ran) -> None:
    engine = ran.engine
    assert _rows(engine, "select write_off_id, source, reason, amount_minor from write_offs") == [
        ("tolerance:order:o_cent", "tolerance", "rounding", 1)
    ]
    # outside tolerance: not written off, an open exception with the difference
    assert _rows(
        engine, "select kind, amount_minor, status, owner from exceptions where item_id = 'order:o_far'"
    ) == [("amount_mismatch", 100, "open", "payments-ops")]


def test_payouts_tie_to_the_bank_or_are_reported(ran: Ran) -> None:
    engine, ids = ran.engine, ran.ids
    payouts = {r[0]: r[1:] for r in _rows(
        engine, "select payout_id, state, amount_minor, lines_net_minor, bank_line_id from payouts"
    )}
    assert payouts["po_a"] == ("tied", ids["po_a_amount"], ids["po_a_amount"], "bank:b1")
    assert payouts["po_b"][0] == "not_in_bank"
    assert payouts["po_c"][:3] == ("lines_do_not_sum", 500, 400)
    bank = states(engine, "bank_line")
    assert bank["bank:b1"][0] == "tied"
    assert bank["bank:b2"] == ("exception", None, "bank_line_without_payout:bank_line:bank:b2")
    assert bank["bank:b3"][0] == "not_gateway"
    kinds = dict(_rows(engine, "select exception_id, age_bucket from exceptions where item_type = 'payout'"))
    assert kinds == {"payout_not_in_bank:payout:gw:po_b": "3-7d", "payout_lines_do_not_sum:payout:gw:po_c": "3-7d"}


def test_fx_difference_reported_apart_from_mismatches(ran: Ran) -> None:
    engine, ids = ran.engine, ran.ids
    row = _rows(
        engine,
        "select rate_source, converted_minor, conversion_difference_minor, reference_minor, fx_difference_minor "
        "from fx_differences where line_id = :l",
        l=ids["fx"],
    )
    assert row == [("gateway", 972, 0, 963, 9)]
    assert _scalar(engine, "select count(*) from exceptions where item_id in ('order:o_fx', :l)", l=ids["fx"]) == 0


def test_fee_variance_against_the_schedule(ran: Ran) -> None:
    engine, ids = ran.engine, ran.ids
    assert _rows(
        engine, "select fee_minor, expected_fee_minor, variance_minor, is_exception from fee_variances "
        "where line_id = :l", l=ids["fee"],
    ) == [(80, 59, 21, True)]
    assert _scalar(engine, "select count(*) from fee_variances where variance_minor <> 0") == 1
    assert _scalar(engine, "select kind from exceptions where item_id = :l", l=ids["fee"]) == "fee_variance"


def test_resolution_round_trip_then_rerunning_the_month_changes_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    """In transit, then not in the bank; a workbook resolution changes a state and leaves an audit row;
    re-running the month (and its first day again) changes no row and keeps every hand-made resolution."""
    import openpyxl

    build(engine)
    cfg = config(tmp_path)
    run(engine, cfg, tmp_path, DAYS[:3])
    assert _scalar(engine, "select state from payouts where payout_id = 'po_b'") == "in_transit"
    run(engine, cfg, tmp_path, DAYS[3:])
    assert _scalar(engine, "select state from payouts where payout_id = 'po_b'") == "not_in_bank"

    with engine.connect() as conn:
        frame = read_exceptions(conn, open_only=True)
    book = export(frame, tmp_path / "out" / "exceptions.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["Exceptions"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("exception_id")].value == "amount_mismatch:order:o_far":
            row[header.index("resolution")].value = "force_match"
            row[header.index("note")].value = "price change agreed with the customer"
            row[header.index("resolved_by")].value = "ana@finance"
    inbox = tmp_path / "inbox" / "resolutions"
    inbox.mkdir(parents=True)
    wb.save(inbox / "exceptions-resolved.xlsx")

    settings = Settings(warehouse_url=str(engine.url), inbox_dir=tmp_path / "inbox", output_dir=tmp_path / "out")
    reports = intake_folder(engine, settings)
    assert [len(r.applied) for r in reports] == [1] and reports[0].rejected == []
    assert states(engine, "order")["o_far"][0] == "force_matched"
    assert _rows(engine, "select status, resolution, resolved_by from exceptions "
                         "where exception_id = 'amount_mismatch:order:o_far'") == [
        ("resolved", "force_match", "ana@finance")]
    with engine.connect() as conn:
        log = audit_log(conn, "amount_mismatch:order:o_far")
    assert list(log["action"]) == ["force_match"] and log["source"].iloc[0] == "workbook"

    # the form path: write off the duplicate line and hand a payout to someone; a replayed workbook is a no-op
    dup = _scalar(engine, "select exception_id from exceptions where kind = 'duplicate'")
    ids, rejected = record(engine, [Decision(str(dup), "write_off", "ben@finance", note="customer kept it")], "form")
    assert rejected == [] and len(ids) == 1
    assert _scalar(engine, "select amount_minor from write_offs where source = 'resolution'") == 1000
    record(engine, [Decision("payout_not_in_bank:payout:gw:po_b", "assign", "ana", owner="treasury-lead")], "form")
    assert [r.status for r in intake_folder(engine, settings)] == ["skipped"]
    _, rejected = record(engine, [Decision("amount_mismatch:order:o_far", "force_match", "ana")], "form")
    assert "needs a note" in rejected[0]["reason"]
    assert _scalar(engine, "select count(*) from exception_resolutions") == 3

    first = snapshot(engine)
    run(engine, cfg, tmp_path)
    assert snapshot(engine) == first
    run(engine, cfg, tmp_path, DAYS[:1])
    assert snapshot(engine) == first
    assert states(engine, "order")["o_far"][0] == "force_matched"
    assert _scalar(engine, "select owner from exceptions where exception_id = 'payout_not_in_bank:payout:gw:po_b'") \
        == "treasury-lead"
