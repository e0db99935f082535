"""Formula injection: text that a spreadsheet would run is neutralised in the CSV and the XLSX, while
money stays numeric (a number cell in the workbook, a plain decimal in the CSV)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from payrecon.reports import csv_out, xlsx
from payrecon.reports.period import ReportPeriod
from payrecon.reports.sections import Column, ReportData, Section

EVIL = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "ORD-1"]


@pytest.fixture
def data() -> ReportData:
    frame = pd.DataFrame({
        "detail": pd.Series(EVIL, dtype="object"),
        "currency": pd.Series(["USD", "JPY", "KWD", "USD", "EUR", "GBP", "USD"], dtype="object"),
        "amount_minor": pd.Series([-2500, 158000, 2275820, 1, 0, -1, 99], dtype="Int64"),
        "at": pd.Series(pd.to_datetime(["2026-11-05T10:00:00Z"] * 7, utc=True)),
    })
    section = Section(
        "exceptions", "Exceptions", "Exceptions", "hand-made",
        [Column("detail", "Detail"), Column("currency", "Currency"), Column("amount_minor", "Amount", "money"),
         Column("at", "At (UTC)", "datetime")],
        frame,
    )
    return ReportData(ReportPeriod.parse("2026-11-05"), datetime(2026, 11, 6, tzinfo=UTC), None, 1, [section], True)


def test_csv_neutralises_formulas_and_keeps_money_plain(data: ReportData, tmp_path: Path) -> None:
    path = csv_out.write_csvs(data, tmp_path)["exceptions"]
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row, evil in zip(rows, EVIL, strict=True):
        if evil.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert row["Detail"] == "'" + evil
        else:
            assert row["Detail"] == evil
    assert [r["Amount"] for r in rows] == ["-25.00", "158000", "2275.820", "0.01", "0.00", "-0.01", "0.99"]
    assert rows[0]["At (UTC)"] == "2026-11-05T10:00:00Z"


def test_xlsx_neutralises_formulas_and_keeps_money_numeric(data: ReportData, tmp_path: Path) -> None:
    path = xlsx.write_workbook(data, tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path)["Exceptions"]
    cells = list(ws.iter_rows(min_row=2))
    for row, evil in zip(cells, EVIL, strict=True):
        detail, _cur, amount, _at = row
        assert detail.data_type == "s"  # a string, never a formula
        assert not str(detail.value).startswith(("=", "+", "-", "@", "\t", "\r"))
        expected = ("'" + evil) if evil[0] in "=+-@\t\r" else evil
        # a CR is stored as the OOXML escape _x000D_ (Excel shows a CR; openpyxl leaves the escape)
        assert str(detail.value).replace("_x000D_", "\r") == expected
        assert amount.data_type == "n"
    assert [c[2].value for c in cells] == [-25, 158000, 2275.82, 0.01, 0, -0.01, 0.99]
    assert cells[0][3].value == datetime(2026, 11, 5, 10, 0)
    raw = path.read_bytes()
    assert b"<f>" not in raw  # no formula anywhere in the workbook
