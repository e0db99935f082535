"""The settlement-lines suite: what every landed line must satisfy, checked on the whole batch.

Row-level expectations (a failing row is quarantined, the expectation named): required values present,
line type known, ISO 4217 currency codes, amounts within the absurd-amount bound (in major units, per
currency), `net = gross - fee`, occurred_at within range of the report date, unique line ids and gateway
references. Table-level: column types.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from payrecon.ingestion.fields import DEFAULT_MAX_ABS_AMOUNT
from payrecon.money import exponent, known_currencies
from payrecon.validation.gx_runtime import SuiteOutcome, expectations, gx, run_suite

LINE_TYPES = ("charge", "refund", "chargeback", "fee", "payout", "adjustment")
REQUIRED = ("line_id", "source_ref", "line_type", "occurred_at", "currency", "gross_minor", "fee_minor", "net_minor")


@lru_cache(maxsize=64)
def settlement_suite(
    report_date: date,
    *,
    max_abs_amount: int = DEFAULT_MAX_ABS_AMOUNT,
    lookback_days: int = 1100,
) -> Any:
    """The suite for lines of one report date (the date range depends on it)."""
    gxe = expectations()
    midnight = datetime.combine(report_date, time(), tzinfo=UTC)
    earliest = midnight - timedelta(days=lookback_days)
    latest = midnight + timedelta(days=2)
    iso = sorted(known_currencies())
    exps: list[Any] = [
        gxe.ExpectColumnValuesToBeInSet(
            column="missing_required",
            value_set=[0],
            meta={"field": None, "describe": f"required values present ({', '.join(REQUIRED)})"},
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="line_type", value_set=list(LINE_TYPES), meta={"field": "line_type", "describe": "known line type"}
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="currency", value_set=iso, meta={"field": "currency", "describe": "ISO 4217 currency code"}
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="presentment_currency",
            value_set=iso,
            meta={"field": "presentment_currency", "describe": "ISO 4217 currency code"},
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="amount_magnitude_major",
            min_value=0,
            max_value=max_abs_amount,
            meta={
                "field": "gross",
                "describe": f"absurd amount: |gross|, |fee|, |net| must be within {max_abs_amount:,} major units",
            },
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="net_minor",
            column_B="gross_minus_fee_minor",
            meta={"field": "net", "describe": "net = gross - fee"},
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="occurred_at",
            min_value=earliest,
            max_value=latest,
            meta={
                "field": "occurred_at",
                "describe": f"date out of range: occurred between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d}"
                f" (report {report_date})",
            },
        ),
        gxe.ExpectColumnValuesToBeUnique(
            column="line_id", meta={"field": "line_id", "describe": "line id unique"}
        ),
        gxe.ExpectColumnValuesToBeUnique(
            column="source_ref", meta={"field": "source_ref", "describe": "duplicate id: gateway reference unique in the file"}
        ),
    ]
    exps.append(
        gxe.ExpectColumnValuesToBeOfType(
            column="amounts_dtype", type_="int64", meta={"row_level": False, "describe": "amounts are int64"}
        )
    )
    return gx().ExpectationSuite(name=f"settlement_lines_{report_date.isoformat()}", expectations=exps)


def prepare(lines: pd.DataFrame) -> pd.DataFrame:
    """The compact frame the suite reads: only what it checks, strings as categories or codes.

    GX hashes the batch it is given, so wide text columns cost time; uniqueness of the gateway reference
    is checked on its factorized codes (same answer), uniqueness of the line id on the line number.
    """
    src = lines.reset_index(drop=True)
    n = len(src)
    missing = np.zeros(n, dtype=np.int8)
    for k, c in reversed(list(enumerate(REQUIRED, start=1))):
        missing = np.where(src[c].isna().to_numpy(), np.int8(k), missing)
    frame = pd.DataFrame(
        {
            "missing_required": missing,
            "line_id": src["line_no"].to_numpy(dtype=np.int64, na_value=-1),
            "source_ref": pd.factorize(src["source_ref"], use_na_sentinel=False)[0].astype(np.int64),
            "line_type": pd.Categorical(src["line_type"]),
            "currency": pd.Categorical(src["currency"]),
            "presentment_currency": pd.Categorical(src["presentment_currency"]),
            "occurred_at": src["occurred_at"].array,
            "net_minor": src["net_minor"].to_numpy(dtype=np.int64, na_value=0),
        }
    )
    amounts = src[["gross_minor", "fee_minor", "net_minor"]]
    same = all(str(t) == "int64" for t in amounts.dtypes)
    frame["amounts_dtype"] = src["gross_minor"].to_numpy() if same else src["gross_minor"].astype("object")
    gross = src["gross_minor"].to_numpy(dtype=np.int64, na_value=0)
    fee = src["fee_minor"].to_numpy(dtype=np.int64, na_value=0)
    frame["gross_minus_fee_minor"] = gross - fee
    cats = frame["currency"].cat.categories
    scales = np.array([10 ** (exponent(c) if c in known_currencies() else 2) for c in cats] + [100], dtype=np.int64)
    scale = scales[frame["currency"].cat.codes.to_numpy()]  # code -1 (missing) takes the last entry
    magnitude = np.maximum.reduce([np.abs(gross), np.abs(fee), np.abs(frame["net_minor"].to_numpy())])
    frame["amount_magnitude_major"] = magnitude // scale
    return frame


def validate_lines(
    lines: pd.DataFrame, report_date: date, *, max_abs_amount: int = DEFAULT_MAX_ABS_AMOUNT, lookback_days: int = 1100
) -> SuiteOutcome:
    """Run the settlement suite on a batch of lines (LINE_COLUMNS). Positions refer to `lines` order."""
    suite = settlement_suite(report_date, max_abs_amount=max_abs_amount, lookback_days=lookback_days)
    return run_suite(prepare(lines), suite)
