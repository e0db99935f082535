"""PayPal Settlement Report (STL-yyyymmdd.seq.ver.CSV; PayPal "Settlement Report Specification").

A record-typed CSV: the first field of each line names the record.

| type | record | fields used here |
|---|---|---|
| RH | report header | generation date, reporting window, account id, version |
| FH | file header | file sequence number |
| SH | section header | section start and end dates, account id |
| CH | column header | the names of the SB columns |
| SB | section body | one balance-affecting transaction |
| SF | section footer | per currency: total gross credit, total gross debit, total fee credit, total fee debit |
| SC | section record count | SB rows in the section |
| RF | report footer | per currency totals over the report, as SF |
| RC / RT | report record count | SB rows in the report |
| FF | file footer | records in the file |

Amounts are unsigned integers in minor units (`10000` is USD 100.00 and JPY 10000) whose direction is in
the Debit-or-Credit column beside them (`CR` adds to the balance, `DR` takes from it); a fee with `DR`
is a cost. Dates carry their offset (`2026/11/01 09:00:00 -0700`).

The file's own totals are checked: each section's SB lines must add up to its SF totals (gross and fee,
credit and debit, per currency) and its SC count, and the report to RF and RC/RT; a file that does not
tie, or that lacks its footers (truncated), is rejected whole.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from payrecon.ingestion import fields as F
from payrecon.ingestion.csv_reading import BadRecord, _scan, clip, decode, read_csv
from payrecon.ingestion.errors import UnreadableFile
from payrecon.ingestion.lines import FileContext, ParsedFile, split

RECORD_TYPES = ("RH", "FH", "SH", "CH", "SB", "SF", "SC", "RF", "RC", "RT", "FF")
SB_REQUIRED = [
    "Transaction ID",
    "Transaction Event Code",
    "Transaction Completion Date",
    "Transaction Debit or Credit",
    "Gross Transaction Amount",
    "Gross Transaction Currency",
    "Fee Debit or Credit",
    "Fee Amount",
    "Fee Currency",
]


def line_type_of(code: str) -> str:
    """PayPal transaction event code (T-code) → line type."""
    code = code.upper()
    if code in ("T1107", "T1108"):
        return "refund" if code == "T1107" else "fee"
    if code in ("T1106", "T1110", "T1111", "T1201", "T1202"):
        return "chargeback"
    if code.startswith("T00"):
        return "charge"
    if code.startswith("T01"):
        return "fee"
    if code.startswith("T04"):
        return "payout"
    return "adjustment"


def parse(data: bytes, ctx: FileContext) -> ParsedFile:
    body, encoding = decode(data)
    rec = _scan(body)
    b = np.frombuffer(body, dtype=np.uint8)
    nonblank = np.flatnonzero(rec.ends > rec.starts)
    if not len(nonblank):
        raise UnreadableFile("empty", "empty file (no records)")
    starts = rec.starts[nonblank]
    quoted = b[starts] == ord('"')
    first = np.where(quoted, starts + 1, starts)
    lengths = rec.ends[nonblank] - first
    ok_len = lengths >= 2
    first_safe = np.minimum(first, len(b) - 2)
    kinds = np.char.add(
        b[first_safe].view("S1").astype("U1"), b[first_safe + 1].view("S1").astype("U1")
    )
    kinds = np.where(ok_len, kinds, "")
    is_sb = kinds == "SB"
    other = np.flatnonzero(~is_sb)

    records: list[tuple[int, str, list[str]]] = []  # (line_no, kind, fields) for non-SB records
    for i in other:
        r = nonblank[i]
        text = body[rec.starts[r] : rec.ends[r]].decode("utf-8", "replace")
        fields = next(csv.reader([text]), [])
        records.append((int(rec.line_no[r]), fields[0].strip() if fields else "", fields))
    kinds_seen = {k for _, k, _ in records}
    if "RH" not in kinds_seen and "CH" not in kinds_seen:
        raise UnreadableFile("wrong_header", "wrong header for format 'paypal_stl': no RH report header or CH column header")
    unknown = [(ln, k) for ln, k, _ in records if k not in RECORD_TYPES]
    bad_records = [
        BadRecord(ln, f"unknown record type {k!r} (not one of {', '.join(RECORD_TYPES)})", clip(_raw(records, ln)))
        for ln, k in unknown
    ]
    headers = [f for _, k, f in records if k == "CH"]
    if not headers:
        raise UnreadableFile("wrong_header", "wrong header for format 'paypal_stl': no CH column header record")
    ch = [c.strip() for c in headers[0]]
    missing = [c for c in SB_REQUIRED if c not in ch]
    if missing:
        raise UnreadableFile(
            "wrong_header", f"wrong header for format 'paypal_stl': CH record lacks {', '.join(map(repr, missing))}"
        )
    for kind in ("RF", "FF"):
        if kind not in kinds_seen:
            raise UnreadableFile("truncated", f"truncated: no {kind} footer record (the file ends early)")

    # SB records → a CSV with the CH names as header, read by the vectorised reader
    sb_rows = nonblank[is_sb]
    header_line = ",".join(f'"{c}"' for c in ch).encode()
    synthetic = header_line + b"\n" + _join_records(body, rec, sb_rows) + b"\n"
    table = read_csv(synthetic, delimiter=",")
    # map synthetic line numbers back to the file's
    spans = np.array([body.count(b"\n", int(rec.starts[r]), int(rec.ends[r])) + 1 for r in sb_rows]) if (
        rec.quoted_newlines
    ) else np.ones(len(sb_rows), dtype=np.int64)
    synth_start = 2 + np.concatenate(([0], np.cumsum(spans)[:-1])) if len(sb_rows) else np.empty(0, np.int64)
    original = rec.line_no[sb_rows]

    def to_file_line(ln: np.ndarray | int) -> np.ndarray:
        return original[np.searchsorted(synth_start, ln)]

    table.line_no = to_file_line(table.line_no) if len(table.line_no) else table.line_no
    table.bad = [BadRecord(int(to_file_line(x.line_no)), x.reason, x.raw, x.field) for x in table.bad]
    table.bad.extend(bad_records)
    table.encoding = encoding

    frame = table.frame
    n = len(frame)
    errors = F.RowErrors(n)

    def col(name: str):
        return F.strings(frame[name] if name in frame.columns else None, n)

    code = col("Transaction Event Code")
    codes = code.to_numpy(zero_copy_only=False).astype(object)
    line_type = F.map_values(codes, {c: line_type_of(c) for c in set(codes.tolist()) if c}, "adjustment")
    errors.add_same(F.blank(code), "Transaction Event Code", "field 'Transaction Event Code': missing T-code")
    txn = col("Transaction ID")
    errors.add_same(F.blank(txn), "Transaction ID", "field 'Transaction ID': missing id")

    cur = F.currencies(col("Gross Transaction Currency"), errors, "Gross Transaction Currency")
    zero_exp = np.zeros(n, dtype=np.int64)
    gross_abs, _ = F.amounts(col("Gross Transaction Amount"), zero_exp, errors, "Gross Transaction Amount",
                             max_abs_major=10**15)
    fee_abs, fee_present = F.amounts(col("Fee Amount"), zero_exp, errors, "Fee Amount", required=False,
                                     max_abs_major=10**15)
    for name, values in (("Gross Transaction Amount", col("Gross Transaction Amount")), ("Fee Amount", col("Fee Amount"))):
        signed = pc.match_substring_regex(values, r"^[+-]").to_numpy(zero_copy_only=False)
        errors.add_same(signed, name, f"field {name!r}: amounts are unsigned in this format (direction is DR/CR)")
    gdc = pc.utf8_upper(col("Transaction Debit or Credit")).to_numpy(zero_copy_only=False)
    fdc = pc.utf8_upper(col("Fee Debit or Credit")).to_numpy(zero_copy_only=False)
    errors.add(~np.isin(gdc, ("CR", "DR")), "Transaction Debit or Credit",
               lambda i: f"field 'Transaction Debit or Credit': {F.show(gdc[i])} is not CR or DR")
    errors.add(fee_present & ~np.isin(fdc, ("CR", "DR")), "Fee Debit or Credit",
               lambda i: f"field 'Fee Debit or Credit': {F.show(fdc[i])} is not CR or DR")
    fee_cur = pc.utf8_upper(col("Fee Currency")).to_numpy(zero_copy_only=False)
    gross_cur = cur.codes.to_numpy(zero_copy_only=False)
    errors.add(fee_present & (fee_abs != 0) & (fee_cur != gross_cur) & (fee_cur != ""), "Fee Currency",
               lambda i: f"field 'Fee Currency': fee in {fee_cur[i]} but gross in {gross_cur[i]}")
    gross = np.where(gdc == "DR", -gross_abs, gross_abs)
    fee = np.where(fdc == "CR", -fee_abs, fee_abs)  # DR fee = a cost (positive)
    net = gross - fee

    occurred_raw = col("Transaction Completion Date")
    if "Transaction Initiation Date" in frame.columns:
        init = col("Transaction Initiation Date")
        occurred_raw = pc.if_else(pc.equal(pc.utf8_length(occurred_raw), 0), init, occurred_raw)
    occurred, _ = F.timestamps(occurred_raw, errors, "Transaction Completion Date", naive_tz=None)

    ref = col("PayPal Reference ID") if "PayPal Reference ID" in frame.columns else None
    txn_np = txn.to_numpy(zero_copy_only=False).astype(object)
    ref_np = ref.to_numpy(zero_copy_only=False).astype(object) if ref is not None else np.full(n, "", object)
    charge = np.where(line_type == "charge", txn_np, np.where(ref_np != "", ref_np, None))
    charge = np.where(np.isin(line_type, ("charge", "refund", "chargeback")), charge, None)
    order = col("Invoice ID") if "Invoice ID" in frame.columns else None

    _check_totals(records, table.line_no, gross_abs, fee_abs, gdc, fdc, gross_cur, errors, original)

    columns = {
        "source_ref": F.optional_text(txn),
        "line_type": line_type,
        "charge_id": pd.Series(charge, dtype="str"),
        "order_ref": F.optional_text(order) if order is not None else None,
        "occurred_at": occurred,
        "currency": pd.Series(cur.codes.to_pandas(), dtype="str"),
        "gross_minor": gross,
        "fee_minor": fee,
        "net_minor": net,
        "description": F.optional_text(code),
    }
    parsed = split(table, columns, errors)
    parsed.notes.append(f"{len(sb_rows)} SB rows; totals tie to SF/RF footers")
    return parsed


def _join_records(body: bytes, rec, rows: np.ndarray) -> bytes:  # noqa: ANN001 - _Records
    """The records `rows` joined by newlines, sliced in runs of consecutive records (not one by one)."""
    if not len(rows):
        return b""
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    run_starts = np.concatenate(([0], breaks))
    run_ends = np.concatenate((breaks, [len(rows)]))
    chunks = [
        body[int(rec.starts[rows[a]]) : int(rec.ends[rows[z - 1]])] for a, z in zip(run_starts, run_ends, strict=True)
    ]
    return b"\n".join(chunks)


def _raw(records: list[tuple[int, str, list[str]]], line_no: int) -> str:
    for ln, _, fields in records:
        if ln == line_no:
            return ",".join(fields)
    return ""


def _int(value: str, what: str, line_no: int) -> int:
    v = (value or "").strip()
    if not v.isdigit():
        raise UnreadableFile("totals", f"line {line_no}: {what} {value!r} is not an unsigned integer")
    return int(v)


def _check_totals(
    records: list[tuple[int, str, list[str]]],
    sb_line_no: np.ndarray,
    gross_abs: np.ndarray,
    fee_abs: np.ndarray,
    gdc: np.ndarray,
    fdc: np.ndarray,
    currency: np.ndarray,
    errors: F.RowErrors,
    sb_all: np.ndarray,
) -> None:
    """SB lines must tie to every SF (per section) and RF (report) total, and to SC / RC / RT counts."""
    unreadable = np.flatnonzero(errors.bad & (np.isin(errors.field, [
        "Gross Transaction Amount", "Fee Amount", "Transaction Debit or Credit", "Fee Debit or Credit",
        "Gross Transaction Currency"])))
    frame = pd.DataFrame({
        "line_no": sb_line_no,
        "currency": currency,
        "gross_cr": np.where(gdc == "CR", gross_abs, 0),
        "gross_dr": np.where(gdc == "DR", gross_abs, 0),
        "fee_cr": np.where(fdc == "CR", fee_abs, 0),
        "fee_dr": np.where(fdc == "DR", fee_abs, 0),
    })
    # section boundaries: SH ... SF/SC; the SB lines between an SH and the next SC belong to it
    sections: list[tuple[int, int]] = []
    open_at = None
    for ln, kind, _ in records:
        if kind == "SH":
            open_at = ln
        elif kind == "SC" and open_at is not None:
            sections.append((open_at, ln))
            open_at = None
    note = ""
    if len(unreadable):
        i = int(unreadable[0])
        note = f" ({len(unreadable)} line(s) with unreadable amounts, first line {int(sb_line_no[i])}: {errors.reason[i]})"

    def totals(part: pd.DataFrame) -> dict[str, tuple[int, int, int, int]]:
        sums = part.groupby("currency")[["gross_cr", "gross_dr", "fee_cr", "fee_dr"]].sum()
        return {c: tuple(int(x) for x in row) for c, row in sums.iterrows()}

    def compare(kind: str, ln: int, fields: list[str], expected: dict[str, tuple[int, int, int, int]]) -> None:
        if len(fields) < 6:
            raise UnreadableFile("totals", f"line {ln}: {kind} record has {len(fields)} fields, expected at least 6")
        cur = fields[1].strip().upper()
        stated = tuple(_int(fields[k], f"{kind} total", ln) for k in range(2, 6))
        actual = expected.get(cur, (0, 0, 0, 0))
        if stated != actual:
            names = ("gross credit", "gross debit", "fee credit", "fee debit")
            diffs = ", ".join(f"{n} {a} vs footer {s}" for n, a, s in zip(names, actual, stated, strict=True) if a != s)
            raise UnreadableFile("totals", f"totals do not tie: {kind} at line {ln} for {cur}: lines give {diffs}{note}")

    for ln, kind, fields in records:
        if kind == "SF":
            section = next(((a, z) for a, z in sections if a < ln < z), None)
            part = frame[(frame["line_no"] > section[0]) & (frame["line_no"] < ln)] if section else frame[frame["line_no"] < ln]
            compare("SF", ln, fields, totals(part))
        elif kind == "SC":
            section = next(((a, z) for a, z in sections if z == ln), None)
            count = int(((sb_all > section[0]) & (sb_all < ln)).sum()) if section else len(sb_all)
            stated = _int(fields[1] if len(fields) > 1 else "", "SC count", ln)
            if stated != count:
                raise UnreadableFile("totals", f"totals do not tie: SC at line {ln} counts {stated} rows, section has {count}")
        elif kind == "RF":
            compare("RF", ln, fields, totals(frame))
        elif kind in ("RC", "RT"):
            stated = _int(fields[1] if len(fields) > 1 else "", f"{kind} count", ln)
            if stated != len(sb_all):
                raise UnreadableFile(
                    "totals", f"totals do not tie: {kind} at line {ln} counts {stated} rows, report has {len(sb_all)}"
                )
