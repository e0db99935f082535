"""One normaliser for the CSV formats whose lines carry gross, fee and net: generic and Stripe.

A format describes where each canonical field is (`ColumnSpec`); `normalise` reads the table once,
column by column, vectorised, and splits it into good lines and quarantined rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from payrecon.ingestion import fields as F
from payrecon.ingestion.csv_reading import CsvTable
from payrecon.ingestion.errors import UnreadableFile
from payrecon.ingestion.lines import LINE_TYPES, FileContext, ParsedFile, split


@dataclass(frozen=True)
class ColumnSpec:
    """Where the canonical fields are in a file (source column names), and how to read them."""

    format_name: str
    source_ref: str
    line_type: str
    occurred_at: str
    currency: str
    gross: str
    fee: str
    net: str | None = None
    charge_id: str | None = None
    order_ref: tuple[str, ...] = ()
    available_on: str | None = None
    presentment_amount: str | None = None
    presentment_currency: str | None = None
    payout_id: str | None = None
    description: str | None = None
    exchange_rate: str | None = None
    type_map: dict[str, str] = field(default_factory=dict)
    """Raw type value (lower-case) → line type; values already in LINE_TYPES map to themselves."""
    unknown_type: str | None = None
    """Line type for raw types not in type_map (Stripe: `adjustment`); None makes them a row problem."""
    charge_required_for: tuple[str, ...] = ()
    naive_tz: str | None = None
    date_formats: tuple[str, ...] = ()
    decimal_comma: bool = False
    fee_negative: bool = False
    """The file writes fees as negative numbers (net = gross + fee); stored positive as a cost."""
    charge_fallback: str | None = None
    """Column whose value stands for the charge id when charge_id is blank (and looks like a charge)."""

    def required(self) -> list[str]:
        names = [self.source_ref, self.line_type, self.occurred_at, self.currency, self.gross, self.fee]
        return [n for n in names if n] + ([self.net] if self.net else [])


def check_header(table: CsvTable, spec: ColumnSpec) -> None:
    missing = [c for c in spec.required() if c not in table.header]
    if missing:
        found = ", ".join(repr(h) for h in table.header[:20])
        raise UnreadableFile(
            "wrong_header",
            f"wrong header for format {spec.format_name!r}: missing required column(s) "
            f"{', '.join(repr(m) for m in missing)} (header line {table.header_line_no} has: {found})",
        )


def normalise(table: CsvTable, spec: ColumnSpec, ctx: FileContext) -> ParsedFile:
    check_header(table, spec)
    frame = table.frame
    n = len(frame)
    errors = F.RowErrors(n)

    def col(name: str | None) -> pa.ChunkedArray:
        return F.strings(frame[name] if name and name in frame.columns else None, n)

    source_ref = col(spec.source_ref)
    errors.add_same(F.blank(source_ref), spec.source_ref, f"field {spec.source_ref!r}: missing id")

    cur = F.currencies(col(spec.currency), errors, spec.currency)
    amount_kw = {"decimal_comma": spec.decimal_comma, "max_abs_major": 10**15, "currency_field": cur}
    gross, _ = F.amounts(col(spec.gross), cur.exponents, errors, spec.gross, **amount_kw)
    fee, _ = F.amounts(col(spec.fee), cur.exponents, errors, spec.fee, **amount_kw)
    if spec.fee_negative:
        fee = -fee
    if spec.net:
        net, _ = F.amounts(col(spec.net), cur.exponents, errors, spec.net, **amount_kw)
    else:
        net = gross - fee

    occurred, _ = F.timestamps(
        col(spec.occurred_at), errors, spec.occurred_at, naive_tz=spec.naive_tz, extra_formats=spec.date_formats
    )
    available = None
    if spec.available_on and spec.available_on in frame.columns:
        available, _ = F.timestamps(
            col(spec.available_on),
            errors,
            spec.available_on,
            naive_tz=spec.naive_tz,
            required=False,
            extra_formats=spec.date_formats,
        )

    line_type = _line_types(col(spec.line_type), spec, errors)

    charge = col(spec.charge_id) if spec.charge_id else None
    if spec.charge_fallback and spec.charge_fallback in frame.columns:
        fallback = col(spec.charge_fallback)
        looks = pc.match_substring_regex(fallback, r"^(ch|py)_")
        use = pc.and_(pc.equal(pc.utf8_length(charge if charge is not None else fallback), 0), looks)
        charge = fallback if charge is None else pc.if_else(use, fallback, charge)
    if spec.charge_required_for and charge is not None:
        needs = np.isin(line_type, spec.charge_required_for) & F.blank(charge)
        label = spec.charge_id or "charge_id"
        errors.add(needs, label, lambda i: f"field {label!r}: missing charge id for a {line_type[i]} line")
    elif spec.charge_required_for and charge is None:
        needs = np.isin(line_type, spec.charge_required_for)
        errors.add_same(needs, "charge_id", "field 'charge_id': missing charge id column")

    order_ref = None
    for name in spec.order_ref:
        if name in frame.columns:
            candidate = col(name)
            order_ref = candidate if order_ref is None else pc.if_else(
                pc.equal(pc.utf8_length(order_ref), 0), candidate, order_ref
            )

    presentment_minor = presentment_currency = None
    if spec.presentment_amount and spec.presentment_amount in frame.columns:
        pcur_raw = col(spec.presentment_currency) if spec.presentment_currency else col(None)
        pamount_raw = col(spec.presentment_amount)
        pcur = F.currencies(pcur_raw, errors, spec.presentment_currency or "presentment_currency", required=False)
        has_amount = ~F.blank(pamount_raw)
        errors.add_same(
            has_amount & F.blank(pcur_raw),
            spec.presentment_currency or "presentment_currency",
            f"field {spec.presentment_currency!r}: missing currency for the presentment amount",
        )
        pvals, present = F.amounts(
            pamount_raw, pcur.exponents, errors, spec.presentment_amount, required=False,
            decimal_comma=spec.decimal_comma, max_abs_major=10**15, currency_field=pcur,
        )
        presentment_minor = pd.array(np.where(present, pvals, 0), dtype="Int64")
        presentment_minor[~present] = pd.NA
        presentment_currency = F.optional_text(pc.utf8_upper(pcur_raw))
        presentment_currency[~present] = None

    exchange_rate = None
    if spec.exchange_rate and spec.exchange_rate in frame.columns:
        exchange_rate = _rates(col(spec.exchange_rate), errors, spec.exchange_rate)

    columns = {
        "source_ref": F.optional_text(source_ref),
        "line_type": line_type,
        "charge_id": F.optional_text(charge) if charge is not None else None,
        "order_ref": F.optional_text(order_ref) if order_ref is not None else None,
        "occurred_at": occurred,
        "available_on": available,
        "currency": pd.Series(cur.codes.to_pandas(), dtype="str"),
        "gross_minor": gross,
        "fee_minor": fee,
        "net_minor": net,
        "presentment_minor": presentment_minor,
        "presentment_currency": presentment_currency,
        "exchange_rate": exchange_rate,
        "payout_id": F.optional_text(col(spec.payout_id)) if spec.payout_id else None,
        "description": F.optional_text(col(spec.description)) if spec.description else None,
    }
    return split(table, columns, errors)


def _line_types(raw: pa.ChunkedArray, spec: ColumnSpec, errors: F.RowErrors) -> np.ndarray:
    lowered = pc.utf8_lower(raw)
    mapping = {t: t for t in LINE_TYPES} | {k.lower(): v for k, v in spec.type_map.items()}
    keys = pa.array(list(mapping), pa.large_string())
    targets = np.array(list(mapping.values()), dtype=object)
    pos = pc.index_in(lowered, value_set=keys).to_numpy(zero_copy_only=False)
    known = ~pd.isna(pos)
    out = np.full(len(pos), spec.unknown_type, dtype=object)
    out[known] = targets[pos[known].astype(np.int64)]
    is_blank = F.blank(raw)
    errors.add_same(is_blank, spec.line_type, f"field {spec.line_type!r}: missing line type")
    if spec.unknown_type is None:
        raw_list = raw.to_pylist() if (~known & ~is_blank).any() else []
        errors.add(
            ~known & ~is_blank,
            spec.line_type,
            lambda i: f"field {spec.line_type!r}: unknown line type {F.show(raw_list[i])}",
        )
    out[pd.isna(out)] = "adjustment"
    return out


def _rates(raw: pa.ChunkedArray, errors: F.RowErrors, field_name: str) -> np.ndarray:
    from decimal import Decimal, InvalidOperation

    values = raw.to_pylist()
    out = np.full(len(values), None, dtype=object)
    bad = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if v:
            try:
                d = Decimal(v)
                if not d.is_finite() or d <= 0:
                    raise InvalidOperation
                out[i] = d
            except InvalidOperation:
                bad[i] = True
    errors.add(bad, field_name, lambda i: f"field {field_name!r}: {F.show(values[i])} is not an exchange rate")
    return out
