"""Quarantine rows: what could not be landed, with file, line, field and reason, and the raw text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd

from payrecon.ingestion.csv_reading import BadRecord, clip
from payrecon.ingestion.redaction import redact_text

QUARANTINE_COLUMNS = [
    "quarantine_id",
    "file_id",
    "file_name",
    "gateway",
    "line_no",
    "field",
    "reason",
    "raw_line",
    "window_start",
    "quarantined_at",
]


def reason_text(file_name: str, record: BadRecord) -> str:
    """`settle.csv line 17, field 'gross': '1,2x3' is not a decimal amount`."""
    where = f"{file_name} line {record.line_no}" if record.line_no else f"{file_name} (whole file)"
    text = record.reason
    return f"{where}, {text}" if text.startswith("field ") else f"{where}: {text}"


def merge(records: Iterable[BadRecord]) -> list[BadRecord]:
    """One record per line number (a line with several problems keeps them all in one reason)."""
    by_line: dict[int, BadRecord] = {}
    for rec in records:
        prev = by_line.get(rec.line_no)
        if prev is None:
            by_line[rec.line_no] = rec
        else:
            by_line[rec.line_no] = BadRecord(rec.line_no, f"{prev.reason}; {rec.reason}", prev.raw, prev.field or rec.field)
    return [by_line[k] for k in sorted(by_line)]


def frame(
    records: list[BadRecord],
    *,
    file_id: str,
    file_name: str,
    gateway: str,
    window_start: datetime,
    quarantined_at: datetime,
) -> pd.DataFrame:
    rows = [
        {
            "quarantine_id": f"{file_id}:{r.line_no}",
            "file_id": file_id,
            "file_name": file_name,
            "gateway": gateway,
            "line_no": r.line_no,
            "field": r.field,
            "reason": clip(redact_text(reason_text(file_name, r)), 2000),
            "raw_line": clip(redact_text(r.raw)) if r.raw is not None else None,
            "window_start": window_start,
            "quarantined_at": quarantined_at,
        }
        for r in records
    ]
    out = pd.DataFrame(rows, columns=QUARANTINE_COLUMNS)
    out["line_no"] = out["line_no"].astype("int64")
    for c in ("window_start", "quarantined_at"):
        out[c] = pd.to_datetime(out[c], utc=True)
    for c in ("quarantine_id", "file_id", "file_name", "gateway", "field", "reason", "raw_line"):
        out[c] = out[c].astype("object")
    return out
