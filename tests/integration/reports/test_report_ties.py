"""The report's numbers tie to the warehouse, on DuckDB and on PostgreSQL.

The workbook is opened with openpyxl as finance would open it: money cells are numbers in the row's
currency format and equal the SQL sums exactly; state counts equal the SQL counts; the month-close
report equals the sum of its daily reports per currency.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from payrecon.money import from_minor
from payrecon.reports.build import build_report
from payrecon.reports.period import ReportPeriod
from payrecon.warehouse.engine import warehouse

DAY = "2026-11-02"


def _sql(url: str, query: str, **binds) -> list[tuple]:
    with warehouse(url) as engine, engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query), binds).all()]


def _sheet_rows(path: Path, sheet: str) -> list[dict]:
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]


def _cells(path: Path, sheet: str) -> tuple[list[str], list[tuple]]:
    ws = openpyxl.load_workbook(path)[sheet]
    return [c.value for c in ws[1]], [tuple(row) for row in ws.iter_rows(min_row=2)]


def _dec(value: float, currency: str) -> Decimal:
    """A numeric money cell back to an exact amount at the currency's precision."""
    return Decimal(repr(value)).quantize(from_minor(1, currency))


@pytest.fixture(scope="module")
def day_report(report_url: str, tmp_path_factory: pytest.TempPathFactory):
    with warehouse(report_url) as engine:
        return build_report(engine, DAY, tmp_path_factory.mktemp("day") / "output")


@pytest.fixture(scope="module")
def month_set(merchant, tmp_path_factory: pytest.TempPathFactory):
    """The three daily reports and the month-close report of the merchant (DuckDB)."""
    out = tmp_path_factory.mktemp("month") / "output"
    with warehouse(merchant.url) as engine:
        days = [build_report(engine, w, out) for w in merchant.windows]
        month = build_report(engine, "2026-11", out)
    return out, days, month


def test_totals_per_currency_tie_to_sql_sums(day_report, report_url: str) -> None:
    period = ReportPeriod.parse(DAY)
    expected = {
        cur: (gross, net, fees)
        for cur, gross, net, fees in _sql(
            report_url,
            """
            select currency,
                   sum(case when line_type = 'charge' then gross_minor else 0 end),
                   sum(case when line_type <> 'payout' then net_minor else 0 end),
                   sum(case when line_type = 'fee' then gross_minor else 0 end) - sum(fee_minor)
            from settlement_lines where window_start >= :s and window_start < :e group by currency
            """,
            s=period.start, e=period.end,
        )
    }
    ordered = dict(_sql(
        report_url,
        "select currency, sum(expected_minor) from reconciliation_results where item_type = 'order' "
        "and window_start >= :s and window_start < :e and state not in ('failed_attempt', 'offline') group by currency",
        s=period.start, e=period.end,
    ))
    rows = _sheet_rows(day_report.workbook, "Totals by currency")
    assert {r["Currency"] for r in rows} == set(expected) and len(rows) == len(expected)
    for row in rows:
        cur = row["Currency"]
        gross, net, fees = expected[cur]
        for title in ("Settled gross", "Net settled", "Fees", "Ordered"):
            assert isinstance(row[title], int | float), f"{title} is not a number cell"
        assert _dec(row["Settled gross"], cur) == from_minor(int(gross), cur)
        assert _dec(row["Net settled"], cur) == from_minor(int(net), cur)
        assert _dec(row["Fees"], cur) == from_minor(int(fees), cur)
        assert _dec(row["Ordered"], cur) == from_minor(int(ordered.get(cur, 0)), cur)
        # the invariant finance checks by hand
        parts = sum(_dec(row[t], cur) for t in ("Settled gross", "Fees", "Refunds", "Chargebacks", "Adjustments"))
        assert parts == _dec(row["Net settled"], cur)
    # the CSV carries the very same amounts as exact decimal strings
    with day_report.csvs["totals_currency"].open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            assert Decimal(row["Net settled"]) == from_minor(int(expected[row["Currency"]][1]), row["Currency"])


def test_money_cells_carry_their_currency_format(day_report) -> None:
    ws = openpyxl.load_workbook(day_report.workbook)["Totals by gateway"]
    header = [c.value for c in ws[1]]
    cur_col, net_col = header.index("Currency"), header.index("Net settled")
    seen = {}
    for row in ws.iter_rows(min_row=2):
        cur, cell = row[cur_col].value, row[net_col]
        assert cell.data_type == "n"
        assert f'"{cur}"' in cell.number_format
        seen[cur] = cell.number_format
    assert seen["JPY"].startswith('#,##0 "JPY"') and seen["USD"].startswith('#,##0.00 "USD"')
    assert seen["KWD"].startswith('#,##0.000 "KWD"')


def test_reconciliation_state_counts_tie(day_report, report_url: str) -> None:
    period = ReportPeriod.parse(DAY)
    expected = {
        (t, s): n for t, s, n in _sql(
            report_url,
            "select item_type, state, count(*) from reconciliation_results "
            "where window_start >= :s and window_start < :e group by item_type, state",
            s=period.start, e=period.end,
        )
    }
    got: dict[tuple[str, str], int] = {}
    for row in _sheet_rows(day_report.workbook, "Reconciliation states"):
        key = (row["Item"], row["State"])
        got[key] = got.get(key, 0) + row["Items"]
    assert got == expected
    exceptions = _sheet_rows(day_report.workbook, "Exceptions")
    assert all(isinstance(r["Age (days)"], int) and r["Age (days)"] >= 0 for r in exceptions)


def test_every_section_is_a_sheet_with_frozen_header_and_filter(day_report) -> None:
    book = openpyxl.load_workbook(day_report.workbook)
    assert book.sheetnames[0] == "About"
    assert len(book.sheetnames) == 1 + len(day_report.rows) == 1 + len(day_report.csvs)
    for name in book.sheetnames[1:]:
        ws = book[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name


def test_month_close_equals_the_sum_of_its_days(month_set) -> None:
    out, days, month = month_set
    assert month.folder == out / "reports" / "2026-11" and month.html.is_file()
    assert [d.folder.name for d in days] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    totals: dict[str, Decimal] = {}
    for day in days:
        for row in _sheet_rows(day.workbook, "Totals by currency"):
            totals[row["Currency"]] = totals.get(row["Currency"], Decimal(0)) + _dec(row["Net settled"], row["Currency"])
    month_rows = _sheet_rows(month.workbook, "Totals by currency")
    assert {r["Currency"]: _dec(r["Net settled"], r["Currency"]) for r in month_rows} == totals
    html = month.html.read_text(encoding="utf-8")
    assert "3 of 30 window(s) reconciled" in html and "Only 3 of the month" in html


def test_recovery_is_attributed_to_the_follow_up_sent_before_payment(merchant, month_set) -> None:
    _out, _days, month = month_set
    with month.csvs["recovered"].open(newline="", encoding="utf-8") as fh:
        rows = {r["Purchase / order"]: r for r in csv.DictReader(fh)}
    assert merchant.touched, "the scenario has purchases converted after a failure"
    for touch in merchant.touched:
        row = rows[touch["purchase_id"]]
        assert row["Last follow-up"] == "apology_email"  # not the email sent after the payment
        assert row["Last follow-up channel"] == "email"
        hours = (touch["paid_at"] - touch["sent_at"]).total_seconds() / 3600
        assert float(row["Follow-up before payment"]) == pytest.approx(hours, abs=1e-4)
    summary = list(csv.DictReader(month.csvs["recovery_by_followup"].open(encoding="utf-8")))
    attributed = sum(int(r["Payments recovered"]) for r in summary if r["Follow-up"] == "apology_email")
    assert attributed == len(merchant.touched)


def test_a_missing_capability_table_is_reported_not_fatal(merchant_copy, tmp_path: Path) -> None:
    with warehouse(merchant_copy.url) as engine:
        with engine.begin() as conn:
            conn.exec_driver_sql("drop table followup_outbox")
            conn.exec_driver_sql("drop table duplicate_charges")
        built = build_report(engine, DAY, tmp_path / "output")
    html = built.html.read_text(encoding="utf-8")
    assert "follow-ups outbox is not in this warehouse yet" in html
    assert "missing table(s) duplicate_charges" in html
    assert built.rows["duplicates"] == 0 and built.rows["recovered"] > 0
    about = openpyxl.load_workbook(built.workbook)["About"]
    assert any("Not available" in str(c.value) for row in about.iter_rows() for c in row)


def test_a_rerun_replaces_the_report_whole(merchant, month_set) -> None:
    out, days, _month = month_set
    before = days[1].csvs["totals"].read_bytes()
    with warehouse(merchant.url) as engine:
        again = build_report(engine, DAY, out)
    assert again.folder == days[1].folder
    # no staging or old folders left beside the reports
    assert sorted(p.name for p in (out / "reports").iterdir()) == ["2026-11", "2026-11-01", DAY, "2026-11-03"]
    assert again.csvs["totals"].read_bytes() == before


def test_no_card_data_in_any_output(merchant, month_set) -> None:
    _out, _days, built = month_set
    fingerprints = {f for (f,) in _sql(merchant.url, "select distinct card_fingerprint from payment_attempts "
                                                    "where card_fingerprint is not null")}
    texts = [p.read_text(encoding="utf-8") for p in [built.html, *built.csvs.values()]]
    mail = message_from_bytes(built.eml.read_bytes(), policy=default_policy)
    texts += [part.get_content() for part in mail.walk() if part.get_content_maintype() == "text"]
    book = openpyxl.load_workbook(built.workbook)
    texts += [" ".join(str(c.value) for row in ws.iter_rows() for c in row) for ws in book.worksheets]
    for text in texts:
        assert not any(f in text for f in fingerprints)
        for digits in re.findall(r"(?<![\d.])\d{13,19}(?![\d.])", text):
            assert not _luhn(digits), f"a card-number-like value {digits[:4]}... in the report"


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_task_bodies_build_the_window_and_month_reports(merchant, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from payrecon.report_tasks import build_month_report, build_window_reports
    from payrecon.settings import Settings

    settings = Settings(warehouse_url=merchant.url, output_dir=tmp_path / "output")
    days = build_window_reports(
        {"params": {"window_start": "2026-11-02T00:00:00+00:00", "window_end": "2026-11-04T00:00:00+00:00"}},
        settings=settings, recipients=[], sender="reports@example.com", locale="en_US",
    )
    assert [d["label"] for d in days] == ["2026-11-02", "2026-11-03"]
    month = build_month_report(
        {"params": {"month": None}, "data_interval_start": datetime(2026, 11, 1, tzinfo=UTC)},
        settings=settings, recipients=[], sender="reports@example.com", locale="de_DE",
    )
    assert month[0]["label"] == "2026-11" and Path(month[0]["html"]).is_file()
    assert "EUR" in Path(month[0]["html"]).read_text(encoding="utf-8")
    assert month[0]["build_seconds"] > 0
