"""The generic settlement CSV (CONTRACT.md §2), optionally with merchant-declared column names.

Timestamps must carry a zone (ISO 8601 with offset) unless the mapping documents one.
"""

from __future__ import annotations

from functools import partial

from payrecon.ingestion.config import GenericMapping, default_config
from payrecon.ingestion.csv_reading import read_csv
from payrecon.ingestion.lines import FileContext, ParsedFile
from payrecon.ingestion.tabular import ColumnSpec, normalise

SPEC = ColumnSpec(
    format_name="generic",
    source_ref="transaction_id",
    line_type="type",
    occurred_at="occurred_at",
    currency="currency",
    gross="gross",
    fee="fee",
    net="net",
    charge_id="charge_id",
    order_ref=("order_id",),
    presentment_amount="presentment_amount",
    presentment_currency="presentment_currency",
    payout_id="payout_id",
    description="description",
    charge_required_for=("charge", "refund", "chargeback"),
)


def spec_for(name: str, mapping: GenericMapping) -> ColumnSpec:
    c = mapping.columns
    return ColumnSpec(
        format_name=f"generic:{name}",
        source_ref=c["transaction_id"],
        line_type=c["type"],
        occurred_at=c["occurred_at"],
        currency=c["currency"],
        gross=c["gross"],
        fee=c["fee"],
        net=c["net"],
        charge_id=c.get("charge_id"),
        order_ref=(c["order_id"],) if "order_id" in c else (),
        presentment_amount=c.get("presentment_amount"),
        presentment_currency=c.get("presentment_currency"),
        payout_id=c.get("payout_id"),
        description=c.get("description"),
        type_map=dict(mapping.types),
        charge_required_for=("charge", "refund", "chargeback"),
        naive_tz=mapping.timezone,
        date_formats=tuple(mapping.date_formats),
        decimal_comma=mapping.decimal_comma,
    )


def parse(data: bytes, ctx: FileContext, spec: ColumnSpec = SPEC, delimiter: str | None = None) -> ParsedFile:
    table = read_csv(data, delimiter=delimiter)
    return normalise(table, spec, ctx)


def mapped_parser(name: str, mapping: GenericMapping | None = None):
    """The parser for `generic:<name>`, its mapping read (and validated) from the mappings file."""
    mapping = mapping or default_config().mapping(name)
    return partial(parse, spec=spec_for(name, mapping), delimiter=mapping.delimiter)
