"""Braintree transaction-level settlement (the Transaction Level Fee Report, one row per transaction).

Columns (Braintree "Transaction Level Fee Report Row"): `Merchant Account ID, Transaction ID, Transaction
Type (sale | credit), Order ID, Refunded Transaction ID, Settlement Date, Disbursement Date, Settlement
Currency, Settlement Amount, Presentment Currency, Presentment Amount, Card Brand, Card Type, Discount,
Discount Amount, Per Transaction Fee, Braintree Total Amount`; others (interchange estimates, ARN, ...)
are ignored.

How a row becomes a line: a `sale` is a charge of +Settlement Amount, a `credit` a refund of
−Settlement Amount (the amount column is unsigned); fee = `Braintree Total Amount` (the total fee
Braintree assessed; negative when a refund returns fees); net = gross − fee. A credit settles the
charge named in `Refunded Transaction ID`. `Settlement Date` carries no zone: Braintree dates its
settlement batches in the gateway's processing time zone, documented as US Central
(`America/Chicago`), so a date or time without a zone is read there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from payrecon.ingestion import fields as F
from payrecon.ingestion.csv_reading import read_csv
from payrecon.ingestion.errors import UnreadableFile
from payrecon.ingestion.lines import FileContext, ParsedFile, split

ZONE = "America/Chicago"
REQUIRED = [
    "Transaction ID",
    "Transaction Type",
    "Settlement Date",
    "Settlement Currency",
    "Settlement Amount",
    "Braintree Total Amount",
]
TYPES = {"sale": "charge", "credit": "refund"}


def parse(data: bytes, ctx: FileContext) -> ParsedFile:
    table = read_csv(data)
    missing = [c for c in REQUIRED if c not in table.header]
    if missing:
        raise UnreadableFile(
            "wrong_header",
            f"wrong header for format 'braintree': missing required column(s) {', '.join(map(repr, missing))}"
            f" (header line {table.header_line_no})",
        )
    frame = table.frame
    n = len(frame)
    errors = F.RowErrors(n)

    def col(name: str):
        return F.strings(frame[name] if name in frame.columns else None, n)

    kind_raw = col("Transaction Type")
    kind = pc.utf8_lower(kind_raw).to_numpy(zero_copy_only=False).astype(object)
    known = np.isin(kind, list(TYPES))
    errors.add(~known, "Transaction Type",
               lambda i: f"field 'Transaction Type': {F.show(kind[i])} is not sale or credit")
    line_type = F.map_values(kind, TYPES, "adjustment")

    txn = col("Transaction ID")
    errors.add_same(F.blank(txn), "Transaction ID", "field 'Transaction ID': missing id")
    cur = F.currencies(col("Settlement Currency"), errors, "Settlement Currency")
    kw = {"max_abs_major": 10**15, "currency_field": cur}
    amount, _ = F.amounts(col("Settlement Amount"), cur.exponents, errors, "Settlement Amount", **kw)
    signed = pc.match_substring_regex(col("Settlement Amount"), r"^[-(]").to_numpy(zero_copy_only=False)
    errors.add_same(signed, "Settlement Amount", "field 'Settlement Amount': unsigned in this format (sale/credit)")
    fee, _ = F.amounts(col("Braintree Total Amount"), cur.exponents, errors, "Braintree Total Amount", **kw)
    gross = np.where(line_type == "refund", -amount, amount)
    net = gross - fee

    pres_minor = pres_cur = None
    if {"Presentment Currency", "Presentment Amount"} <= set(frame.columns):
        pcur_raw = col("Presentment Currency")
        pcur = F.currencies(pcur_raw, errors, "Presentment Currency", required=False)
        pvals, present = F.amounts(col("Presentment Amount"), pcur.exponents, errors, "Presentment Amount",
                                   required=False, max_abs_major=10**15, currency_field=pcur)
        present = present & ~F.blank(pcur_raw)
        pres_minor = pd.array(np.where(present, np.where(line_type == "refund", -pvals, pvals), 0), dtype="Int64")
        pres_minor[~present] = pd.NA
        pres_cur = F.optional_text(pc.utf8_upper(pcur_raw))
        pres_cur[~present] = None

    occurred, _ = F.timestamps(col("Settlement Date"), errors, "Settlement Date", naive_tz=ZONE)
    available = None
    if "Disbursement Date" in frame.columns:
        available, _ = F.timestamps(col("Disbursement Date"), errors, "Disbursement Date", naive_tz=ZONE,
                                    required=False)

    txn_np = txn.to_numpy(zero_copy_only=False).astype(object)
    refunded = (col("Refunded Transaction ID").to_numpy(zero_copy_only=False).astype(object)
                if "Refunded Transaction ID" in frame.columns else np.full(n, "", dtype=object))
    charge = np.where(line_type == "refund", refunded, txn_np)
    errors.add((line_type == "refund") & (refunded == ""), "Refunded Transaction ID",
               lambda i: "field 'Refunded Transaction ID': missing for a credit")
    charge = np.where(charge == "", None, charge)

    columns = {
        "source_ref": F.optional_text(txn),
        "line_type": line_type,
        "charge_id": pd.Series(charge, dtype="str"),
        "order_ref": F.optional_text(col("Order ID")) if "Order ID" in frame.columns else None,
        "occurred_at": occurred,
        "available_on": available,
        "currency": pd.Series(cur.codes.to_pandas(), dtype="str"),
        "gross_minor": gross,
        "fee_minor": fee,
        "net_minor": net,
        "presentment_minor": pres_minor,
        "presentment_currency": pres_cur,
        "payout_id": F.optional_text(col("Disbursement Date")) if "Disbursement Date" in frame.columns else None,
        "description": F.optional_text(col("Card Brand")) if "Card Brand" in frame.columns else None,
    }
    return split(table, columns, errors)
