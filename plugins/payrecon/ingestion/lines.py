"""The canonical settlement line every format parses into, and what a parser hands back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from payrecon.ingestion.csv_reading import BadRecord, CsvTable
from payrecon.ingestion.errors import LandingInvariantError
from payrecon.ingestion.fields import DEFAULT_MAX_ABS_AMOUNT, RowErrors
from payrecon.ingestion.redaction import redact_series

LINE_TYPES = ("charge", "refund", "chargeback", "fee", "payout", "adjustment")

PARSED_COLUMNS = [
    "line_no",
    "source_ref",
    "line_type",
    "charge_id",
    "order_ref",
    "occurred_at",
    "available_on",
    "currency",
    "gross_minor",
    "fee_minor",
    "net_minor",
    "presentment_minor",
    "presentment_currency",
    "exchange_rate",
    "payout_id",
    "description",
]
"""What a parser produces per good line; landing adds line_id, file_id, gateway and window_start."""

LINE_COLUMNS = ["line_id", "file_id", "gateway", "window_start", *PARSED_COLUMNS]
"""The `settlement_lines` columns, in table order of the bulk load."""


@dataclass(frozen=True)
class FileContext:
    """What a parser knows about the file besides its bytes."""

    file_name: str
    gateway: str
    report_date: date
    max_abs_amount: int = DEFAULT_MAX_ABS_AMOUNT
    mapping: str | None = None  # generic:<mapping name>


@dataclass
class ParsedFile:
    """A parser's result: good lines (PARSED_COLUMNS), bad records, and the file's own checks."""

    lines: pd.DataFrame
    bad: list[BadRecord]
    lines_read: int
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    raw_lookup: Callable[[int], str | None] | None = field(default=None, repr=False)
    """Raw text of a good line by line number (for lines that validation later refuses)."""

    def __post_init__(self) -> None:
        if self.lines_read != len(self.lines) + len(self.bad):
            raise LandingInvariantError(
                f"parser lost lines: read {self.lines_read}, good {len(self.lines)}, bad {len(self.bad)}"
            )


def empty_lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line_no": pd.Series([], dtype="int64"),
            "source_ref": pd.Series([], dtype="str"),
            "line_type": pd.Series([], dtype="str"),
            "charge_id": pd.Series([], dtype="str"),
            "order_ref": pd.Series([], dtype="str"),
            "occurred_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "available_on": pd.Series([], dtype="datetime64[us, UTC]"),
            "currency": pd.Series([], dtype="str"),
            "gross_minor": pd.Series([], dtype="int64"),
            "fee_minor": pd.Series([], dtype="int64"),
            "net_minor": pd.Series([], dtype="int64"),
            "presentment_minor": pd.Series([], dtype="Int64"),
            "presentment_currency": pd.Series([], dtype="str"),
            "exchange_rate": pd.Series([], dtype="object"),
            "payout_id": pd.Series([], dtype="str"),
            "description": pd.Series([], dtype="str"),
        }
    )


def split(table: CsvTable, columns: dict[str, object], errors: RowErrors) -> ParsedFile:
    """Good rows of `columns` (a dict of equal-length arrays) become lines; the others join `bad`."""
    ok = errors.ok
    frame = pd.DataFrame({"line_no": table.line_no})
    for name in PARSED_COLUMNS[1:]:
        value = columns.get(name)
        if value is None:
            frame[name] = pd.Series([None] * len(frame), dtype=empty_lines()[name].dtype)
        else:
            frame[name] = value.array if isinstance(value, pd.Series) else value
    if frame["description"].notna().any():  # free text only: ids are left exactly as the gateway sent them
        frame["description"] = redact_series(frame["description"])
    good = frame if ok.all() else frame.loc[ok].reset_index(drop=True)  # no copy of a clean file
    bad = list(table.bad)
    for i in np.flatnonzero(~ok):
        bad.append(
            BadRecord(int(table.line_no[i]), str(errors.reason[i]), table.raw_line(int(i)), errors.field[i])
        )
    return ParsedFile(lines=good, bad=bad, lines_read=table.lines_read, encoding=table.encoding,
                      raw_lookup=table.raw_index())
