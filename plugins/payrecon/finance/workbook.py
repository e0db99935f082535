"""The exceptions workbook: finance resolves exceptions in Excel, no SQL.

`export()` writes one sheet of exceptions (open first, with age bucket, owner and the current
resolution) and yellow columns to fill in: `resolution` (a drop-down: force_match, write_off, dispute,
refund, reopen), `note`, `write_off_amount` (major units; empty writes off the exception's amount),
`new_owner` and `resolved_by`. Drop the saved file in `{inbox}/resolutions/`; the next finance run (or
the `resolve_exception` DAG with no exception id) records every filled row in the audit log and
applies it. Rows left blank change nothing; a row that cannot be applied is reported with its reason.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from payrecon.finance.exceptions import ACTIONS, KINDS
from payrecon.money import from_minor

SHEET = "Exceptions"
INFO_COLUMNS = (
    "exception_id", "kind", "status", "age_bucket", "age_days", "owner", "gateway", "currency", "amount",
    "item_type", "item_id", "detail", "window", "opened_at", "current_resolution", "current_note",
    "resolved_by_before",
)
INPUT_COLUMNS = ("resolution", "note", "write_off_amount", "new_owner", "resolved_by")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FONT = Font(bold=True)


def _naive(value: Any) -> Any:
    """Excel has no time zones: write UTC wall time (the header says so)."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _rows(frame: pd.DataFrame) -> list[list[Any]]:
    out = []
    for r in frame.itertuples(index=False):
        amount = None
        if r.amount_minor is not None and not pd.isna(r.amount_minor) and r.currency:
            amount = float(from_minor(int(r.amount_minor), r.currency))
        out.append([
            r.exception_id, r.kind, r.status, r.age_bucket, int(r.age_days), r.owner, r.gateway, r.currency, amount,
            r.item_type, r.item_id, r.detail, _naive(r.window_start), _naive(r.opened_at), r.resolution,
            r.resolution_note, r.resolved_by,
        ])
    return out


def export(frame: pd.DataFrame, path: Path, as_of: datetime | None = None) -> Path:
    """Write the workbook for `frame` (from `exceptions.read_exceptions`) to `path`."""
    frame = frame.sort_values(["status", "opened_at", "exception_id"], ascending=[False, True, True])
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    header = [*INFO_COLUMNS, *INPUT_COLUMNS]
    ws.append(header)
    for cell in ws[1]:
        cell.font = HEADER_FONT
    for row in _rows(frame):
        ws.append([*row, None, None, None, None, None])
    first_input = len(INFO_COLUMNS) + 1
    for col in range(first_input, first_input + len(INPUT_COLUMNS)):
        for row in range(1, ws.max_row + 1):
            ws.cell(row=row, column=col).fill = INPUT_FILL
    letter = ws.cell(row=1, column=first_input).column_letter
    choices = DataValidation(type="list", formula1='"' + ",".join(a for a in ACTIONS if a != "assign") + '"',
                             allow_blank=True)
    choices.add(f"{letter}2:{letter}{max(ws.max_row, 2) + 500}")
    ws.add_data_validation(choices)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    for col, width in {"A": 48, "L": 60}.items():
        ws.column_dimensions[col].width = width
    help_ws = wb.create_sheet("How to resolve")
    for line in [
        ["Fill the yellow columns of the rows you decide, save, and drop the file in {inbox}/resolutions/."],
        ["resolution: force_match (note required), write_off (note required; write_off_amount in major units,"
         " empty = the exception's amount), dispute, refund, or reopen (undo a resolution)."],
        ["new_owner: hand the exception to someone else (may be given alone). resolved_by: your name (required)."],
        ["Every decision is kept in an append-only audit log; re-running a month keeps it."],
        [f"Times are UTC. Ages are measured to the as-of of the data{' (' + as_of.isoformat() + ')' if as_of else ''},"
         " never the wall clock."],
        [],
        ["kind", "default owner", "meaning"],
        *[[k, v.owner, v.description] for k, v in KINDS.items()],
    ]:
        help_ws.append(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def read_decisions(data: bytes) -> tuple[list[Any], list[dict[str, str]]]:
    """(decisions, rejected rows) from a filled-in workbook; rows with nothing filled are skipped."""
    from payrecon.finance.resolutions import Decision

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise ValueError(f"not an Excel workbook: {exc}") from None
    if SHEET not in wb.sheetnames:
        raise ValueError(f"no sheet named {SHEET!r} (has: {', '.join(wb.sheetnames)})")
    rows = wb[SHEET].iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
    missing = [c for c in ("exception_id", *INPUT_COLUMNS) if c not in header]
    if missing:
        raise ValueError(f"sheet {SHEET!r} lacks column(s) {', '.join(missing)}")
    at = {name: header.index(name) for name in header if name}
    default_actor = wb.properties.lastModifiedBy or None
    decisions, rejected = [], []
    for values in rows:
        def get(name: str, values: tuple = values) -> str | None:
            v = values[at[name]] if at[name] < len(values) else None
            return None if v is None or str(v).strip() == "" else str(v).strip()

        exception_id = get("exception_id")
        action, owner = get("resolution"), get("new_owner")
        if not exception_id or (not action and not owner):
            continue
        actor = get("resolved_by") or default_actor
        if not actor:
            rejected.append({"exception_id": exception_id, "reason": "resolved_by is empty"})
            continue
        decisions.append(
            Decision(exception_id=exception_id, action=action or "assign", actor=actor, note=get("note"),
                     amount=get("write_off_amount"), owner=owner)
        )
    wb.close()
    return decisions, rejected
