"""Adyen Settlement details report (one batch per file; Adyen docs, "Settlement details report").

Standard columns used: `Company Account, Merchant Account, Psp Reference, Merchant Reference, Payment
Method, Creation Date, TimeZone, Type, Modification Reference, Gross Currency, Gross Debit (GC),
Gross Credit (GC), Exchange Rate, Net Currency, Net Debit (NC), Net Credit (NC), Commission (NC),
Markup (NC), Scheme Fees (NC), Interchange (NC), Batch Number`; other columns are ignored.

How a row becomes a line: the settlement currency is the net currency (NC); net = credit − debit (NC);
fee = commission + markup + scheme fees + interchange (NC, costs, positive); gross = net + fee, so
`net = gross - fee` holds by construction and the file check below is what catches a wrong row. What
the shopper paid is the gross amount in the gross currency (GC): kept as the presentment amount.
`Creation Date` is wall-clock time in the row's `TimeZone` (e.g. CET).

File check: in Adyen's report the `MerchantPayout` row pays out the batch, so its net debit must equal
the net of every other row of the batch in that currency ("a payout equals the sum of its lines");
otherwise the file is rejected whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from payrecon.ingestion import fields as F
from payrecon.ingestion.csv_reading import CsvTable, read_csv
from payrecon.ingestion.errors import UnreadableFile
from payrecon.ingestion.lines import FileContext, ParsedFile, split

REQUIRED = [
    "Psp Reference",
    "Merchant Reference",
    "Creation Date",
    "TimeZone",
    "Type",
    "Modification Reference",
    "Net Currency",
    "Net Debit (NC)",
    "Net Credit (NC)",
]
FEE_COLUMNS = ["Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)"]

TYPES = {
    "settled": "charge",
    "settledbulk": "charge",
    "refunded": "refund",
    "refundedbulk": "refund",
    "refundedexternally": "refund",
    "chargeback": "chargeback",
    "secondchargeback": "chargeback",
    "chargebackreversed": "chargeback",
    "chargebackreversal": "chargeback",
    "fee": "fee",
    "paymentcost": "fee",
    "settlecost": "fee",
    "invoicededuction": "fee",
    "misccosts": "fee",
    "merchantpayout": "payout",
}
"""Adyen record types → line types; anything else (Balancetransfer, DepositCorrection, ...) is an adjustment."""


def parse(data: bytes, ctx: FileContext) -> ParsedFile:
    table = read_csv(data, header_predicate=lambda names: "Psp Reference" in names)
    missing = [c for c in REQUIRED if c not in table.header]
    if missing:
        raise UnreadableFile(
            "wrong_header",
            f"wrong header for format 'adyen': missing required column(s) {', '.join(map(repr, missing))}"
            f" (header line {table.header_line_no})",
        )
    frame = table.frame
    n = len(frame)
    errors = F.RowErrors(n)

    def col(name: str):
        return F.strings(frame[name] if name in frame.columns else None, n)

    kind_raw = col("Type")
    kind_key = pc.utf8_lower(kind_raw).to_numpy(zero_copy_only=False).astype(object)
    lookup = {k: TYPES.get(k, "adjustment") for k in pd.unique(kind_key)}
    line_type = pd.Series(kind_key).map(lookup).to_numpy(dtype=object)
    errors.add_same(F.blank(kind_raw), "Type", "field 'Type': missing record type")

    ncur = F.currencies(col("Net Currency"), errors, "Net Currency")
    kw = {"max_abs_major": 10**15, "currency_field": ncur}
    net_debit, _ = F.amounts(col("Net Debit (NC)"), ncur.exponents, errors, "Net Debit (NC)", required=False, **kw)
    net_credit, _ = F.amounts(col("Net Credit (NC)"), ncur.exponents, errors, "Net Credit (NC)", required=False, **kw)
    net = net_credit - net_debit
    fee = np.zeros(n, dtype=np.int64)
    for name in FEE_COLUMNS:
        if name in frame.columns:
            part, _ = F.amounts(col(name), ncur.exponents, errors, name, required=False, **kw)
            fee += part
    gross = net + fee

    pres_minor = pres_cur = None
    if {"Gross Currency", "Gross Debit (GC)", "Gross Credit (GC)"} <= set(frame.columns):
        gcur_raw = col("Gross Currency")
        gcur = F.currencies(gcur_raw, errors, "Gross Currency", required=False)
        gkw = {"max_abs_major": 10**15, "currency_field": gcur}
        gd, gd_present = F.amounts(col("Gross Debit (GC)"), gcur.exponents, errors, "Gross Debit (GC)", required=False, **gkw)
        gc, gc_present = F.amounts(
            col("Gross Credit (GC)"), gcur.exponents, errors, "Gross Credit (GC)", required=False, **gkw
        )
        present = (gd_present | gc_present) & ~F.blank(gcur_raw)
        pres_minor = pd.array(np.where(present, gc - gd, 0), dtype="Int64")
        pres_minor[~present] = pd.NA
        pres_cur = F.optional_text(pc.utf8_upper(gcur_raw))
        pres_cur[~present] = None

    occurred, _ = F.timestamps(col("Creation Date"), errors, "Creation Date", naive_tz=None,
                               zone_column=col("TimeZone"))

    psp = col("Psp Reference")
    modref = col("Modification Reference")
    ref = pc.if_else(pc.equal(pc.utf8_length(modref), 0), psp, modref)
    # an Adyen payment's Settled and Refunded rows share the Psp Reference: keep the row type in the ref;
    # rows without any reference (fees, payouts) are named by batch, type and line
    batch_col = col("Batch Number") if "Batch Number" in frame.columns else col(None)
    line_text = pa.chunked_array([pa.array(table.line_no.astype(str), pa.large_string())]) if n else ref
    def lit(text: str) -> pa.Scalar:
        return pa.scalar(text, pa.large_string())

    synthetic = pc.binary_join_element_wise(
        pc.binary_join_element_wise(lit("batch"), batch_col, lit("")),
        kind_raw,
        pc.binary_join_element_wise(lit("line"), line_text, lit("")),
        lit(":"),
    )
    named = pc.binary_join_element_wise(ref, kind_raw, lit(":"))
    source = pc.if_else(pc.equal(pc.utf8_length(ref), 0), synthetic, named)
    psp_np = psp.to_numpy(zero_copy_only=False).astype(object)
    charge = np.where(np.isin(line_type, ("charge", "refund", "chargeback")) & (psp_np != ""), psp_np, None)
    payout_col = col("Batch Number") if "Batch Number" in frame.columns else None

    _check_payouts(table, line_type, ncur.codes.to_numpy(zero_copy_only=False), net, errors, payout_col)

    columns = {
        "source_ref": F.optional_text(source),
        "line_type": line_type,
        "charge_id": pd.Series(charge, dtype="str"),
        "order_ref": F.optional_text(col("Merchant Reference")),
        "occurred_at": occurred,
        "currency": pd.Series(ncur.codes.to_pandas(), dtype="str"),
        "gross_minor": gross,
        "fee_minor": fee,
        "net_minor": net,
        "presentment_minor": pres_minor,
        "presentment_currency": pres_cur,
        "payout_id": F.optional_text(payout_col) if payout_col is not None else None,
        "description": F.optional_text(kind_raw),
    }
    return split(table, columns, errors)


def _check_payouts(
    table: CsvTable, line_type: np.ndarray, currency: np.ndarray, net: np.ndarray, errors: F.RowErrors, batch
) -> None:
    """The MerchantPayout of a batch pays out exactly the net of the batch's other rows, per currency."""
    batch_ids = batch.to_numpy(zero_copy_only=False) if batch is not None else np.full(len(net), "", dtype=object)
    frame = pd.DataFrame({"batch": batch_ids, "currency": currency, "net": net, "payout": line_type == "payout"})
    if not frame["payout"].any():
        return
    for (b, cur), part in frame.groupby(["batch", "currency"], sort=True):
        paid = part.loc[part["payout"], "net"]
        if paid.empty:
            continue
        lines_net = int(part.loc[~part["payout"], "net"].sum())
        if int(-paid.sum()) != lines_net:
            raise UnreadableFile(
                "totals",
                f"totals do not tie: batch {b or '?'} {cur} pays out {int(-paid.sum())} minor units but its lines "
                f"net to {lines_net}",
            )
