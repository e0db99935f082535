"""Stripe itemized balance-change / payout-reconciliation reports.

Reports `balance_change_from_activity.itemized.*` and `payout_reconciliation.itemized.*` (Stripe
docs, "Report types": the columns below). `created_utc` / `available_on_utc` are UTC wall-clock
(`2026-11-01 10:00:00`), so times without a zone are read as UTC; amounts are decimal major units in the
lower-case settlement `currency`; `net = gross - fee`. `reporting_category` maps to our line types
(CONTRACT.md). The order id comes from `order_id` or, in Stripe's own export, `payment_metadata[order_id]`.
"""

from __future__ import annotations

from payrecon.ingestion.csv_reading import read_csv
from payrecon.ingestion.lines import FileContext, ParsedFile
from payrecon.ingestion.tabular import ColumnSpec, normalise

REPORTING_CATEGORIES = {
    "charge": "charge",
    "refund": "refund",
    "dispute": "chargeback",
    "dispute_reversal": "chargeback",
    "fee": "fee",
    "payout": "payout",
}
"""Everything else (`refund_failure`, `partial_capture_reversal`, `transfer`, `topup`, ...) is an adjustment."""

SPEC = ColumnSpec(
    format_name="stripe",
    source_ref="balance_transaction_id",
    line_type="reporting_category",
    occurred_at="created_utc",
    available_on="available_on_utc",
    currency="currency",
    gross="gross",
    fee="fee",
    net="net",
    charge_id="charge_id",
    charge_fallback="source_id",
    order_ref=("order_id", "payment_metadata[order_id]"),
    presentment_amount="customer_facing_amount",
    presentment_currency="customer_facing_currency",
    payout_id="automatic_payout_id",
    description="description",
    type_map=REPORTING_CATEGORIES,
    unknown_type="adjustment",
    naive_tz="UTC",
)


def parse(data: bytes, ctx: FileContext) -> ParsedFile:
    return normalise(read_csv(data), SPEC, ctx)
