"""The workbook: an "About" sheet, then one sheet per section.

Money cells are numbers (major units, exact from the integer minor units) with the row currency's
number format (`#,##0.00 "USD"`, JPY without decimals, KWD with three); counts are integers, rates
percentages, times UTC datetimes. Each sheet has a frozen header row and an autofilter. Text cells
are written as text, never as formulas, and neutralised (leading `= + - @`, tab, CR) as in the CSVs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from payrecon.reports import formatting as fmt
from payrecon.reports.sections import ReportData, Section

WIDTHS = {"money": 16, "int": 11, "rate": 11, "hours": 13, "datetime": 17, "bool": 9, "id": 18, "text": 16}


def write_workbook(data: ReportData, path: Path) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
         "remove_timezone": True, "default_date_format": "yyyy-mm-dd hh:mm"},
    )
    styles = _Styles(book)
    _about_sheet(book, styles, data)
    for section in data.sections:
        _section_sheet(book, styles, section)
    book.set_properties({"title": f"Finance report {data.period.label}", "company": "payrecon"})
    book.close()
    return path


class _Styles:
    def __init__(self, book) -> None:  # noqa: ANN001 - an xlsxwriter Workbook
        self.book = book
        self.header = book.add_format({"bold": True, "bg_color": "#ECEFF1", "bottom": 2, "text_wrap": True,
                                       "valign": "top"})
        self.int = book.add_format({"num_format": "#,##0"})
        self.rate = book.add_format({"num_format": "0.0%"})
        self.hours = book.add_format({"num_format": "#,##0.0"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.text = book.add_format({})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self._money: dict[str, object] = {}

    def money(self, currency: str):  # noqa: ANN201 - an xlsxwriter Format
        if currency not in self._money:
            self._money[currency] = self.book.add_format({"num_format": fmt.excel_money_format(currency)})
        return self._money[currency]


def _about_sheet(book, styles: _Styles, data: ReportData) -> None:  # noqa: ANN001
    sheet = book.add_worksheet("About")
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 110)
    period = data.period
    rows = [
        ("Report", f"Finance report - {period.title}"),
        ("Period (UTC)", f"{period.start:%Y-%m-%d %H:%M} to {period.end:%Y-%m-%d %H:%M} (end excluded)"),
        ("Reconciliation as of (UTC)", fmt.utc_text(data.as_of) if data.as_of is not None else "not reconciled"),
        ("Windows reconciled", f"{data.windows_reconciled} of {period.days}"),
        ("Generated (UTC)", fmt.utc_text(data.generated_at, seconds=True)),
        ("Money", "Exact amounts in each row's currency; never added across currencies."),
    ]
    sheet.write_string(0, 0, "Finance report", styles.title)
    for i, (key, value) in enumerate(rows, start=2):
        sheet.write_string(i, 0, key, styles.bold)
        sheet.write_string(i, 1, fmt.safe_text(value), styles.wrap)
    row = len(rows) + 3
    sheet.write_string(row, 0, "Sheet", styles.header)
    sheet.write_string(row, 1, "What it holds", styles.header)
    for section in data.sections:
        row += 1
        sheet.write_string(row, 0, section.sheet, styles.bold)
        text = " ".join([section.description, *section.notes, f"({section.rows} rows)"])
        sheet.write_string(row, 1, fmt.safe_text(text), styles.wrap)
    sheet.freeze_panes(1, 0)


def _section_sheet(book, styles: _Styles, section: Section) -> None:  # noqa: ANN001
    sheet = book.add_worksheet(section.sheet[:31])
    view = section.view()
    columns = section.columns
    for j, col in enumerate(columns):
        sheet.write_string(0, j, col.title, styles.header)
        sheet.set_column(j, j, max(WIDTHS.get(col.kind, 14), min(len(col.title) + 2, 30)))
    currencies = view["currency"].tolist() if "currency" in view.columns else [None] * len(view)
    for j, col in enumerate(columns):
        values = view[col.name].tolist()
        for i, value in enumerate(values, start=1):
            _write(sheet, styles, i, j, col.kind, value, currencies[i - 1])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(view), 1), len(columns) - 1)
    sheet.set_row(0, 30)


def _write(sheet, styles: _Styles, row: int, col: int, kind: str, value, currency) -> None:  # noqa: ANN001
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        sheet.write_blank(row, col, None)
        return
    if kind == "money":
        amount = fmt.major(value, currency)
        sheet.write_number(row, col, float(amount), styles.money(str(currency)))
    elif kind == "int":
        sheet.write_number(row, col, int(value), styles.int)
    elif kind == "rate":
        sheet.write_number(row, col, float(value), styles.rate)
    elif kind == "hours":
        sheet.write_number(row, col, float(value), styles.hours)
    elif kind == "datetime":
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
        sheet.write_datetime(row, col, stamp.to_pydatetime(), styles.datetime)
    elif kind == "bool":
        sheet.write_boolean(row, col, bool(value))
    else:
        sheet.write_string(row, col, fmt.safe_text(value), styles.text)
