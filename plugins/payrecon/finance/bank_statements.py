"""The merchant's bank statements: CSV exports and ISO 20022 CAMT.053 XML, landed once per file.

Files are dropped in `{inbox}/bank/{YYYY-MM-DD}/` (the report date is the file's window, as for
settlement files). `.csv` files are the bank's CSV export, `.xml` files CAMT.053 (any `camt.053.001.*`
version). A statement is all or nothing: a file with one unreadable line, or whose booked entries do not
take the opening balance to the closing balance, is rejected whole (status `rejected`, the reason in
`bank_files.detail`, logged at ERROR) and nothing of it is loaded. Each file lands once, keyed by the
SHA-256 of its bytes; a replay is a no-op. Files land in the transaction of their window's finance run,
so a failed run leaves neither the statement nor half a decision.

CSV export columns (header row, UTF-8, comma; amounts in major units, credits positive, debits negative):
`account, booking_date, value_date, amount, currency, counterparty, remittance_info, end_to_end_id,
bank_ref` — `account`, `booking_date`, `amount` and `currency` are required.

CAMT.053 is read with the standard library's ElementTree behind defusedxml (no entity expansion, no
external fetches); the parsers found on the package index for it are young 0.0.x releases.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element

import pandas as pd
from defusedxml import ElementTree as SafeET
from sqlalchemy import Connection, text

from payrecon.ingestion.object_store import inbox_path, report_dates, report_files
from payrecon.money import exponent, to_minor
from payrecon.settings import Settings, Window
from payrecon.warehouse.bulk import insert_frame

log = logging.getLogger(__name__)

BANK_FOLDER = "bank"
CSV_REQUIRED = ("account", "booking_date", "amount", "currency")
CSV_COLUMNS = (*CSV_REQUIRED, "value_date", "counterparty", "remittance_info", "end_to_end_id", "bank_ref")
LINE_FIELDS = (
    "line_no", "account_id", "currency", "amount_minor", "booking_date", "value_date", "bank_ref",
    "end_to_end_id", "counterparty", "remittance_info",
)


class BadStatement(ValueError):
    """The statement cannot be landed; the message names the line and field."""


@dataclass
class BankFileReport:
    file_name: str
    report_date: str
    format: str
    file_id: str
    status: str
    lines_read: int = 0
    lines_loaded: int = 0
    detail: str | None = None


# --- parsing ---------------------------------------------------------------------------------------


def _amount(text_value: str, currency: str, where: str) -> int:
    try:
        value = Decimal(text_value.strip().replace(" ", ""))
    except (InvalidOperation, AttributeError):
        raise BadStatement(f"{where}: amount {text_value!r} is not a decimal number") from None
    try:
        return to_minor(value, currency)
    except ValueError as exc:
        raise BadStatement(f"{where}: {exc}") from None


def _date(text_value: str | None, where: str, required: bool = True) -> date | None:
    if not text_value or not text_value.strip():
        if required:
            raise BadStatement(f"{where}: date is missing")
        return None
    value = text_value.strip()
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise BadStatement(f"{where}: date {value!r} is not YYYY-MM-DD") from None


def _currency(value: str | None, where: str) -> str:
    code = (value or "").strip().upper()
    try:
        exponent(code)
    except ValueError:
        raise BadStatement(f"{where}: currency {value!r} is not an ISO 4217 code") from None
    return code


def parse_csv(data: bytes) -> list[dict[str, Any]]:
    """The bank's CSV export → statement lines (amounts in minor units)."""
    try:
        body = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadStatement(f"not UTF-8: {exc}") from None
    reader = csv.DictReader(io.StringIO(body))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise BadStatement(f"header is missing required column(s) {', '.join(missing)} (has: {', '.join(header)})")
    out = []
    for n, row in enumerate(reader, start=1):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if not any(row.values()):
            continue
        where = f"line {n + 1}"
        currency = _currency(row.get("currency"), f"{where} currency")
        out.append(
            {
                "line_no": n,
                "account_id": row["account"] or None,
                "currency": currency,
                "amount_minor": _amount(row["amount"], currency, f"{where} amount"),
                "booking_date": _date(row.get("booking_date"), f"{where} booking_date"),
                "value_date": _date(row.get("value_date"), f"{where} value_date", required=False),
                "bank_ref": row.get("bank_ref") or None,
                "end_to_end_id": row.get("end_to_end_id") or None,
                "counterparty": row.get("counterparty") or None,
                "remittance_info": row.get("remittance_info") or None,
            }
        )
        if not out[-1]["account_id"]:
            raise BadStatement(f"{where} account: missing")
    return out


def _find(el: Element, path: str) -> Element | None:
    return el.find("/".join(f"{{*}}{p}" for p in path.split("/")))


def _findall(el: Element, path: str) -> list[Element]:
    return el.findall("/".join(f"{{*}}{p}" for p in path.split("/")))


def _text(el: Element, path: str) -> str | None:
    found = _find(el, path)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _signed(el: Element, where: str) -> tuple[int, str]:
    amt = _find(el, "Amt")
    if amt is None or amt.text is None:
        raise BadStatement(f"{where}: Amt is missing")
    currency = _currency(amt.get("Ccy"), f"{where} Amt/@Ccy")
    minor = _amount(amt.text, currency, f"{where} Amt")
    indicator = _text(el, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise BadStatement(f"{where}: CdtDbtInd must be CRDT or DBIT, got {indicator!r}")
    return (minor if indicator == "CRDT" else -minor), currency


def _status(entry: Element) -> str | None:
    return _text(entry, "Sts/Cd") or _text(entry, "Sts")


def parse_camt053(data: bytes) -> list[dict[str, Any]]:
    """CAMT.053 (BkToCstmrStmt) → booked statement lines; each statement's balances must tie."""
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises its own errors for entities; all mean "not a statement"
        raise BadStatement(f"not well-formed XML: {exc}") from None
    if not root.tag.endswith("Document") or "camt.053" not in root.tag:
        raise BadStatement(f"not a CAMT.053 document (root {root.tag})")
    statements = _findall(root, "BkToCstmrStmt/Stmt")
    if not statements:
        raise BadStatement("no BkToCstmrStmt/Stmt in the document")
    out: list[dict[str, Any]] = []
    for s, stmt in enumerate(statements, start=1):
        where = f"Stmt {s}"
        account = _text(stmt, "Acct/Id/IBAN") or _text(stmt, "Acct/Id/Othr/Id")
        if not account:
            raise BadStatement(f"{where}: Acct/Id (IBAN or Othr/Id) is missing")
        balances: dict[str, int] = {}
        for b in _findall(stmt, "Bal"):
            code = _text(b, "Tp/CdOrPrtry/Cd")
            if code in ("OPBD", "CLBD"):
                balances[code] = _signed(b, f"{where} Bal {code}")[0]
        booked_total = 0
        for e, entry in enumerate(_findall(stmt, "Ntry"), start=1):
            ewhere = f"{where} Ntry {e}"
            if _status(entry) not in (None, "BOOK"):
                continue  # pending or informational entries are not on the account yet
            amount, currency = _signed(entry, ewhere)
            booked_total += amount
            tx = _findall(entry, "NtryDtls/TxDtls")
            credit = amount >= 0
            party = "Dbtr" if credit else "Cdtr"
            counterparty = next(
                (v for t in tx for v in [_text(t, f"RltdPties/{party}/Nm") or _text(t, f"RltdPties/{party}/Pty/Nm")] if v),
                None,
            )
            remittance = " ".join(u.text.strip() for t in tx for u in _findall(t, "RmtInf/Ustrd") if u.text)
            extra = _text(entry, "AddtlNtryInf")
            out.append(
                {
                    "line_no": len(out) + 1,
                    "account_id": account,
                    "currency": currency,
                    "amount_minor": amount,
                    "booking_date": _date(_text(entry, "BookgDt/Dt") or _text(entry, "BookgDt/DtTm"),
                                          f"{ewhere} BookgDt"),
                    "value_date": _date(_text(entry, "ValDt/Dt") or _text(entry, "ValDt/DtTm"), f"{ewhere} ValDt",
                                        required=False),
                    "bank_ref": _text(entry, "AcctSvcrRef"),
                    "end_to_end_id": next((v for t in tx for v in [_text(t, "Refs/EndToEndId")] if v), None),
                    "counterparty": counterparty,
                    "remittance_info": " ".join(p for p in (remittance, extra or "") if p) or None,
                }
            )
        if "OPBD" in balances and "CLBD" in balances and balances["OPBD"] + booked_total != balances["CLBD"]:
            raise BadStatement(
                f"{where} ({account}): opening balance {balances['OPBD']} + booked entries {booked_total} "
                f"!= closing balance {balances['CLBD']} (minor units)"
            )
    return out


def parse_statement(data: bytes, file_name: str) -> tuple[str, list[dict[str, Any]]]:
    """(format, lines) by content: XML documents are CAMT.053, anything else the CSV export."""
    head = data.lstrip()[:200].lower()
    if head.startswith(b"<?xml") or head.startswith(b"<document") or file_name.lower().endswith(".xml"):
        return "camt053", parse_camt053(data)
    return "csv", parse_csv(data)


# --- landing ---------------------------------------------------------------------------------------


def _already_landed(conn: Connection, file_id: str) -> bool:
    return conn.execute(text("select 1 from bank_files where file_id = :f"), {"f": file_id}).first() is not None


def land_bank_bytes(conn: Connection, data: bytes, *, file_name: str, report_date: date,
                    source_uri: str | None = None) -> BankFileReport:
    """Land one statement inside the caller's transaction (the finance run of its window)."""
    file_id = hashlib.sha256(data).hexdigest()
    report = BankFileReport(file_name, report_date.isoformat(), "unknown", file_id, "skipped")
    if _already_landed(conn, file_id):
        return report
    try:
        report.format, lines = parse_statement(data, file_name)
        report.status = "landed" if lines else "empty"
    except BadStatement as exc:
        report.status, report.detail, lines = "rejected", str(exc), []
        report.format = "camt053" if file_name.lower().endswith(".xml") else "csv"
        log.error("REJECTED bank statement %s/%s: %s", report_date.isoformat(), file_name, exc)
    report.lines_read = len(lines)
    report.lines_loaded = len(lines)
    window_start = datetime.combine(report_date, time(), tzinfo=UTC)
    frame = pd.DataFrame(lines, columns=list(LINE_FIELDS))
    if len(frame):
        frame.insert(0, "bank_line_id", [f"{file_id}:{n}" for n in frame["line_no"]])
        frame.insert(1, "file_id", file_id)
        frame.insert(2, "window_start", window_start)
        frame["amount_minor"] = frame["amount_minor"].astype("int64")
    manifest = pd.DataFrame(
        [{
            "file_id": file_id, "format": report.format, "file_name": file_name, "source_uri": source_uri,
            "report_date": report_date, "lines_read": report.lines_read, "lines_loaded": report.lines_loaded,
            "status": report.status, "detail": report.detail, "landed_at": datetime.now(UTC),
        }]
    )
    insert_frame(conn, "bank_statement_lines", frame)
    insert_frame(conn, "bank_files", manifest)
    return report


def land_bank_window(conn: Connection, settings: Settings, window: Window) -> list[BankFileReport]:
    """Land every bank statement file of the report dates inside `window`, in the caller's transaction."""
    reports = []
    inbox = inbox_path(settings.inbox_dir)
    for day in report_dates(window):
        for path in report_files(inbox, BANK_FOLDER, day):
            reports.append(land_bank_bytes(conn, path.read_bytes(), file_name=path.name, report_date=day,
                                           source_uri=str(path)))
    landed = [r for r in reports if r.status != "skipped"]
    log.info("bank statements for %s: %d files seen, %d landed, %d lines, %d rejected", window.label,
             len(reports), len(landed), sum(r.lines_loaded for r in landed),
             sum(1 for r in landed if r.status == "rejected"))
    return reports


def report_dicts(reports: list[BankFileReport]) -> list[dict[str, Any]]:
    return [asdict(r) for r in reports]
