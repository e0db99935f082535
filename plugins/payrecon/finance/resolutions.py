"""Hand-made resolutions: finance decides, the warehouse keeps an append-only audit log.

Two ways in, neither needs SQL: the exceptions workbook (`workbook.py`) filled in and dropped in
`{inbox}/resolutions/`, or the `resolve_exception` DAG's form. Both end in `record()`, which checks
each decision against the exception it names and appends one `exception_resolutions` row; then
`apply()` (SQL step `finance/apply_resolutions`) brings exceptions and item states up to date. The
finance run re-applies the whole log every time, so re-running a month keeps every resolution.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from payrecon.finance.exceptions import ACTIONS, RESOLUTIONS
from payrecon.money import to_minor
from payrecon.settings import Settings
from payrecon.warehouse import sql
from payrecon.warehouse.bulk import insert_frame

log = logging.getLogger(__name__)

RESOLUTIONS_FOLDER = "resolutions"
NOTE_REQUIRED = ("force_match", "write_off")


class ResolutionError(ValueError):
    """A decision that cannot be recorded; the message says why."""


@dataclass(frozen=True)
class Decision:
    exception_id: str
    action: str
    actor: str
    note: str | None = None
    amount: str | None = None  # major units of the exception's currency, for a write-off of another amount
    owner: str | None = None


@dataclass
class IntakeReport:
    file_name: str
    file_id: str
    status: str
    rows_read: int = 0
    applied: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    out = str(value).strip()
    return out or None


def check(conn: Connection, decision: Decision) -> dict[str, Any]:
    """The log row for a decision, or ResolutionError naming what is wrong."""
    action = (_clean(decision.action) or "").lower().replace("-", "_").replace(" ", "_")
    actor = _clean(decision.actor)
    note = _clean(decision.note)
    owner = _clean(decision.owner)
    if action not in ACTIONS:
        raise ResolutionError(f"action {decision.action!r} is not one of {', '.join(ACTIONS)}")
    if not actor:
        raise ResolutionError("who resolved it (resolved_by) is required for the audit log")
    if action in NOTE_REQUIRED and not note:
        raise ResolutionError(f"{action} needs a note saying why")
    if action == "assign" and not owner:
        raise ResolutionError("assign needs the new owner")
    row = conn.execute(
        text("select currency, status, resolution from exceptions where exception_id = :e"),
        {"e": decision.exception_id},
    ).first()
    if row is None:
        raise ResolutionError(f"no exception {decision.exception_id!r}")
    currency, status, _resolution = row
    if action == "reopen" and status != "resolved":
        raise ResolutionError("only a resolved exception can be reopened")
    amount_minor = None
    amount = _clean(decision.amount)
    if amount is not None:
        if action != "write_off":
            raise ResolutionError("an amount is only taken with write_off")
        try:
            amount_minor = to_minor(Decimal(amount), currency)
        except (InvalidOperation, ValueError) as exc:
            raise ResolutionError(f"write-off amount {amount!r}: {exc}") from None
    return {
        "exception_id": decision.exception_id,
        "action": action,
        "note": note,
        "amount_minor": amount_minor,
        "owner": owner,
        "actor": actor,
    }


def record(engine: Engine, decisions: list[Decision], source: str, source_ref: str | None = None,
           recorded_at: datetime | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """Check and append decisions in one transaction, then apply the log. Returns (ids, rejected)."""
    recorded_at = recorded_at or datetime.now(UTC)
    rows, rejected = [], []
    with engine.begin() as conn:
        for n, decision in enumerate(decisions):
            try:
                row = check(conn, decision)
            except ResolutionError as exc:
                rejected.append({"exception_id": decision.exception_id, "reason": str(exc)})
                continue
            key = "|".join(str(row[k]) for k in sorted(row)) + f"|{source}|{source_ref}|{n}|{recorded_at.isoformat()}"
            row["resolution_id"] = hashlib.sha256(key.encode()).hexdigest()[:32]
            row["source"] = source
            row["source_ref"] = source_ref
            row["recorded_at"] = recorded_at
            rows.append(row)
        if rows:
            frame = pd.DataFrame(rows)[
                ["resolution_id", "exception_id", "action", "note", "amount_minor", "owner", "actor", "source",
                 "source_ref", "recorded_at"]
            ]
            frame["amount_minor"] = frame["amount_minor"].astype("Int64")
            insert_frame(conn, "exception_resolutions", frame)
            apply(conn)
    for r in rejected:
        log.warning("resolution for %s not recorded: %s", r["exception_id"], r["reason"])
    return [r["resolution_id"] for r in rows], rejected


def apply(conn: Connection) -> None:
    """Bring exceptions, item states and resolution write-offs in line with the whole log."""
    sql.run(conn, "finance/apply_resolutions")
    conn.exec_driver_sql("drop table if exists _fin_latest_resolution")
    conn.exec_driver_sql("drop table if exists _fin_latest_owner")


def intake_folder(engine: Engine, settings: Settings) -> list[IntakeReport]:
    """Apply every workbook in `{inbox}/resolutions/` not applied before (by SHA-256 of its bytes)."""
    from payrecon.finance.workbook import read_decisions
    from payrecon.ingestion.object_store import inbox_path

    folder = inbox_path(settings.inbox_dir) / RESOLUTIONS_FOLDER
    reports = []
    if not folder.is_dir():
        return reports
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.name.lower().endswith(".xlsx") or path.name.startswith((".", "~$")):
            continue
        data = path.read_bytes()
        file_id = hashlib.sha256(data).hexdigest()
        report = IntakeReport(path.name, file_id, "skipped")
        with engine.connect() as conn:
            if conn.execute(text("select 1 from resolution_files where file_id = :f"), {"f": file_id}).first():
                reports.append(report)
                continue
        try:
            decisions, bad = read_decisions(data)
        except ValueError as exc:
            report.status = "rejected"
            report.rejected.append({"exception_id": "", "reason": str(exc)})
            decisions, bad = [], []
        report.rows_read = len(decisions) + len(bad)
        report.rejected.extend(bad)
        if decisions:
            ids, rejected = record(engine, decisions, "workbook", f"{path.name}#{file_id[:12]}")
            report.applied = ids
            report.rejected.extend(rejected)
        if report.status != "rejected":
            report.status = "applied" if report.applied else "nothing_applied"
        detail = "; ".join(f"{r['exception_id']}: {r['reason']}" for r in report.rejected)[:4000] or None
        with engine.begin() as conn:
            insert_frame(conn, "resolution_files", pd.DataFrame([{
                "file_id": file_id, "file_name": path.name, "rows_read": report.rows_read,
                "rows_applied": len(report.applied), "rows_rejected": len(report.rejected), "status": report.status,
                "detail": detail, "landed_at": datetime.now(UTC),
            }]))
        log.info("resolutions workbook %s: %d applied, %d rejected", path.name, len(report.applied),
                 len(report.rejected))
        reports.append(report)
    return reports


def audit_log(conn: Connection, exception_id: str | None = None) -> pd.DataFrame:
    where = "where exception_id = :e" if exception_id else ""
    return pd.read_sql(
        text(f"select * from exception_resolutions {where} order by recorded_at, resolution_id"),  # noqa: S608
        conn, params={"e": exception_id} if exception_id else {},
    )


__all__ = ["RESOLUTIONS", "Decision", "IntakeReport", "ResolutionError", "apply", "audit_log", "check",
           "intake_folder", "record"]
