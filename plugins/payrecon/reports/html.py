"""The HTML report (and its plain-text twin) from the jinja2 templates in `include/templates/report/`.

Values are formatted here (babel, per currency) and autoescaped by jinja2. Chart images are referred
to by `image_src` — relative file paths for the archived page, `cid:` references for the email — so
one template serves both and neither needs a script.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from payrecon.reports import formatting as fmt
from payrecon.reports.charts import CHARTS
from payrecon.reports.sections import ReportData, Section
from payrecon.settings import INCLUDE_DIR

TEMPLATE_DIR = INCLUDE_DIR / "templates" / "report"
CHART_OF_SECTION = {"reconciliation": "states", "recovery_by_followup": "recovery", "trend_summary": "trend"}
NUMERIC_KINDS = {"int", "money", "rate", "hours"}
LIST_SECTIONS = {"exceptions", "recovered", "unrecovered", "failed_initial", "retry_list", "offline", "duplicates"}


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "html.j2"], default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str


def cell(kind: str, value: Any, currency: Any, locale: str) -> dict[str, str]:
    """Display text and CSS class of one cell."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return {"text": "", "cls": "num" if kind in NUMERIC_KINDS else ""}
    if kind == "money":
        return {"text": fmt.money_text(value, currency, locale), "cls": "num neg" if value < 0 else "num"}
    if kind == "int":
        return {"text": fmt.count_text(value, locale), "cls": "num"}
    if kind == "rate":
        return {"text": fmt.rate_text(value, locale), "cls": "num neg" if value < 0 else "num"}
    if kind == "hours":
        return {"text": fmt.hours_text(value), "cls": "num"}
    if kind == "datetime":
        return {"text": fmt.utc_text(value), "cls": "dt"}
    if kind == "bool":
        return {"text": "yes" if bool(value) else "", "cls": ""}
    return {"text": str(value).replace("_", " ") if kind == "text" else str(value), "cls": "id" if kind == "id" else ""}


def section_context(section: Section, charts: dict[str, str], locale: str) -> dict[str, Any]:
    view = section.view()
    # in a list of items an amount is written with its currency code, so the email drops the currency
    # column there; in a summary the currency is what the row is about, so it stays
    drop_currency = section.key in LIST_SECTIONS
    shown_columns = [c for c in section.columns if c.html and not (drop_currency and c.name == "currency")]
    limit = section.html_rows
    shown = view.head(limit) if limit else view.head(0)
    currencies = view["currency"] if "currency" in view.columns else pd.Series([None] * len(view), index=view.index)
    rows = [
        [cell(col.kind, record[col.name], currencies.loc[idx], locale) for col in shown_columns]
        for idx, record in shown.iterrows()
    ]
    hidden = len(view) - len(shown)
    more = ""
    if hidden > 0:
        more = (f"{len(view):,} rows in all: the workbook sheet '{section.sheet}' and {section.key}.csv hold them "
                "(with every column)."
                if limit else f"{len(view):,} rows: see the workbook sheet '{section.sheet}' and {section.key}.csv.")
    hidden_columns = [c.title for c in section.columns if not c.html]  # the currency column is not "hidden"
    if not more and hidden_columns and len(view) and limit:
        more = f"Also in the workbook sheet '{section.sheet}': {', '.join(hidden_columns)}."
    chart_name = CHART_OF_SECTION.get(section.key)
    chart = None
    if chart_name and chart_name in charts:
        chart = {"src": charts[chart_name], "alt": CHARTS[chart_name][1], "width": 1100}
    return {
        "key": section.key,
        "title": section.title,
        "description": section.description,
        "notes": section.notes,
        "headers": [{"title": c.title, "num": c.kind in NUMERIC_KINDS} for c in shown_columns],
        "rows": rows,
        "row_count": len(view),
        "show_table": bool(limit),
        "more": more,
        "chart": chart,
    }


def _sum_by_currency(section: Section, column: str = "amount_minor") -> dict[str, int]:
    frame = section.frame
    if frame.empty or column not in frame.columns:
        return {}
    sums = frame.groupby("currency")[column].sum()
    return {str(k): int(v) for k, v in sums.items() if not pd.isna(v)}


def cards(data: ReportData, locale: str) -> list[dict[str, Any]]:
    """Headline amounts per currency (each card one currency)."""
    totals = data.section("totals_currency").frame.set_index("currency") if not data.section(
        "totals_currency").frame.empty else pd.DataFrame()
    recovered = _sum_by_currency(data.section("recovered"))
    unrecovered = _sum_by_currency(data.section("unrecovered"))
    duplicates = _sum_by_currency(data.section("duplicates"))
    exceptions = data.section("exceptions").frame
    exc_counts = exceptions.groupby("currency")["kind"].count().to_dict() if not exceptions.empty else {}
    currencies = sorted(set(totals.index) | set(recovered) | set(unrecovered) | set(duplicates))
    out = []
    for cur in currencies:
        items = []
        if cur in totals.index:
            row = totals.loc[cur]
            items += [
                ("Net settled", int(row["net_minor"]), True),
                ("Ordered (charged)", int(row["ordered_minor"]), True),
            ]
        items += [
            ("Recovered after failure", recovered.get(cur, 0), True),
            ("Still unrecovered", unrecovered.get(cur, 0), True),
            ("Duplicates to refund", duplicates.get(cur, 0), True),
        ]
        rendered = [
            {"label": label, "value": fmt.money_text(v, cur, locale) if money else str(v), "negative": v < 0}
            for label, v, money in items
        ]
        rendered.append({"label": "Exceptions open", "value": fmt.count_text(exc_counts.get(cur, 0), locale),
                         "negative": False})
        out.append({"currency": cur, "items": rendered})
    return out


def kpis(data: ReportData, locale: str) -> list[dict[str, str]]:
    """Counts, which may be added across currencies."""
    states = data.section("reconciliation").frame
    orders = states[states["item_type"] == "order"] if not states.empty else states
    by_state = orders.groupby("state")["items"].sum() if not orders.empty else pd.Series(dtype="Int64")
    settled = int(sum(by_state.get(s, 0) for s in (
        "matched", "amount_mismatch", "currency_mismatch", "order_without_settlement")))
    matched = int(by_state.get("matched", 0))
    sales = data.section("sales").frame
    started = int(sales["purchases_started"].sum()) if not sales.empty else 0
    converted = int(sales["purchases_converted"].sum()) if not sales.empty else 0
    offline = data.section("offline").frame
    pending = int((offline["state"] == "pending").sum()) if not offline.empty else 0
    return [
        {"label": "orders reconciled", "value": fmt.count_text(int(orders["items"].sum()) if not orders.empty else 0,
                                                               locale)},
        {"label": "match rate (settled or overdue orders)",
         "value": fmt.rate_text(matched / settled, locale) if settled else "n/a"},
        {"label": "exceptions to chase", "value": fmt.count_text(data.section("exceptions").rows, locale)},
        {"label": "clean conversion rate (R8)",
         "value": fmt.rate_text(converted / started, locale) if started else "n/a"},
        {"label": "payments recovered", "value": fmt.count_text(data.section("recovered").rows, locale)},
        {"label": "offline orders pending", "value": fmt.count_text(pending, locale)},
        {"label": "duplicate charges to refund", "value": fmt.count_text(data.section("duplicates").rows, locale)},
    ]


def warnings(data: ReportData) -> list[str]:
    out = []
    if data.windows_reconciled == 0:
        out.append("No window of this period has been reconciled yet: the figures below are empty or partial.")
    elif data.period.kind == "month" and data.windows_reconciled < data.period.days:
        out.append(f"Only {data.windows_reconciled} of the month's {data.period.days} daily windows are reconciled.")
    if not data.outbox_present:
        out.append("The follow-ups outbox is not in this warehouse yet: recovered revenue is shown without "
                   "attribution to a follow-up.")
    for name, tables in sorted(data.missing.items()):
        out.append(f"Section '{name}' is not available: missing table(s) {', '.join(tables)}.")
    return out


def context(data: ReportData, image_src: dict[str, str], locale: str, workbook_name: str,
            archive_text: str) -> dict[str, Any]:
    period = data.period
    end_incl = (period.end - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    period_text = (f"Window {period.start:%Y-%m-%d} (UTC)" if period.kind == "window"
                   else f"Windows {period.start:%Y-%m-%d} to {end_incl} (UTC)")
    return {
        "title": f"Finance report - {period.title}",
        "period_text": period_text,
        "as_of_text": fmt.utc_text(data.as_of) + " UTC" if data.as_of is not None else "n/a (not reconciled)",
        "windows_text": f"{data.windows_reconciled} of {period.days} window(s) reconciled",
        "generated_text": fmt.utc_text(data.generated_at) + " UTC",
        "warnings": warnings(data),
        "kpis": kpis(data, locale),
        "cards": cards(data, locale),
        "sections": [section_context(s, image_src, locale) for s in data.sections],
        "workbook_name": workbook_name,
        "archive_text": archive_text,
    }


def render(data: ReportData, image_src: dict[str, str], locale: str = fmt.DEFAULT_LOCALE,
           workbook_name: str = "report.xlsx", archive_text: str = "") -> Rendered:
    ctx = context(data, image_src, locale, workbook_name, archive_text)
    env = _environment()
    return Rendered(env.get_template("report.html.j2").render(**ctx), env.get_template("report.txt.j2").render(**ctx))


def write_html(path: Path, html: str) -> Path:
    path.write_text(html, encoding="utf-8")
    return path
