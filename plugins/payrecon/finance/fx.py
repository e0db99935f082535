"""FX: the currency units the SQL converts with, and the merchant's reference (booking) rates.

Matching compares an FX settlement in its presentment currency, so FX never makes a mismatch; the SQL
step `finance/fx_differences` reports the FX side apart (the gateway's own rate when the file carries
one, else the implied rate; and the gain or loss against the reference rate of the day).

Reference rates are dropped as CSV in `{inbox}/fx/{YYYY-MM-DD}/*.csv` with columns
`rate_date, base_currency, quote_currency, rate` (one major unit of base in quote, a decimal string)
and upserted by (date, base, quote); a file with a bad row is refused whole, with the row named.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import date
from decimal import Decimal, InvalidOperation

import pandas as pd
from sqlalchemy import Connection

from payrecon.ingestion.object_store import inbox_path, report_dates, report_files
from payrecon.money import exponent, known_currencies
from payrecon.settings import Settings, Window
from payrecon.warehouse.bulk import insert_frame, upsert_frame

log = logging.getLogger(__name__)

FX_FOLDER = "fx"
RATE_COLUMNS = ("rate_date", "base_currency", "quote_currency", "rate")


class BadRates(ValueError):
    """A reference-rate file that cannot be loaded."""


def write_currency_snapshot(conn: Connection) -> None:
    """`finance_currencies`: each ISO currency's exponent as exact minor and major unit factors."""
    codes = sorted(known_currencies())
    exps = [exponent(c) for c in codes]
    frame = pd.DataFrame(
        {
            "currency": codes,
            "exponent": exps,
            "minor_unit": [str(Decimal(1).scaleb(-e)) for e in exps],
            "major_unit": [str(Decimal(1).scaleb(e).quantize(Decimal(1))) for e in exps],
        }
    )
    conn.exec_driver_sql("delete from finance_currencies")
    insert_frame(conn, "finance_currencies", frame)


def parse_rates(data: bytes, source: str) -> pd.DataFrame:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    missing = [c for c in RATE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise BadRates(f"{source}: header is missing {', '.join(missing)}")
    rows = []
    for n, row in enumerate(reader, start=2):
        try:
            rate = Decimal(row["rate"].strip())
            when = date.fromisoformat(row["rate_date"].strip())
        except (InvalidOperation, ValueError, AttributeError):
            raise BadRates(f"{source} line {n}: rate_date must be YYYY-MM-DD and rate a decimal") from None
        base, quote = row["base_currency"].strip().upper(), row["quote_currency"].strip().upper()
        if base not in known_currencies() or quote not in known_currencies() or rate <= 0:
            raise BadRates(f"{source} line {n}: unknown currency or non-positive rate")
        rows.append((when, base, quote, str(rate), source))
    return pd.DataFrame(rows, columns=[*RATE_COLUMNS, "source"])


def land_rates_window(conn: Connection, settings: Settings, window: Window) -> int:
    """Upsert the reference-rate files of the report dates inside `window` (caller's transaction)."""
    loaded = 0
    inbox = inbox_path(settings.inbox_dir)
    for day in report_dates(window):
        for path in report_files(inbox, FX_FOLDER, day):
            try:
                frame = parse_rates(path.read_bytes(), f"{FX_FOLDER}/{day.isoformat()}/{path.name}")
            except BadRates as exc:
                log.error("REJECTED reference-rate file: %s", exc)
                continue
            upsert_frame(conn, "fx_reference_rates", frame, ["rate_date", "base_currency", "quote_currency"])
            loaded += len(frame)
    return loaded
