"""One CSV per section: UTF-8, a header row of the column titles, money as exact decimals in major
units beside the currency, times in ISO 8601 UTC; text neutralised against formula injection."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from payrecon.reports import formatting as fmt
from payrecon.reports.sections import ReportData, Section


def section_frame(section: Section) -> pd.DataFrame:
    """The section as CSV-ready text columns (vectorised per column)."""
    view = section.view()
    currency = view["currency"] if "currency" in view.columns else pd.Series([None] * len(view), index=view.index)
    out = {}
    for col in section.columns:
        values = view[col.name]
        if col.kind == "money":
            text = pd.Series([fmt.money_csv(v, c) for v, c in zip(values, currency, strict=True)], index=view.index,
                             dtype="object")
        elif col.kind == "datetime":
            stamps = pd.to_datetime(values, utc=True)
            text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype("object").where(stamps.notna(), "")
        elif col.kind in ("int",):
            text = values.astype("Int64").astype("string").fillna("").astype("object")
        elif col.kind in ("rate", "hours"):
            text = values.astype("Float64").round(6).astype("string").fillna("").astype("object")
        elif col.kind == "bool":
            text = values.map(lambda v: "" if pd.isna(v) else ("yes" if v else "no")).astype("object")
        else:
            text = values.astype("object").where(values.notna(), "")
        out[col.title] = text
    return pd.DataFrame(out, index=view.index)


def write_csvs(data: ReportData, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for section in data.sections:
        path = folder / f"{section.key}.csv"
        frame = section_frame(section)
        # only free text can carry a formula; money, counts and times are formatted by us above
        text_titles = [c.title for c in section.columns if c.kind in ("text", "id")]
        safe = frame.astype("object")
        if text_titles:
            safe[text_titles] = fmt.safe_frame(safe[text_titles])
        safe.to_csv(path, index=False, encoding="utf-8", lineterminator="\r\n")  # RFC 4180: a CR in a cell is quoted
        paths[section.key] = path
    return paths
