"""The orders suite: the warehouse `orders` columns (CONTRACT.md §1, money in minor units).

`validate_orders(frame)` runs it on a frame of orders as one batch and says which rows fail which
expectation, so a caller (the commerce pull, a check task) can quarantine or refuse them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from payrecon.money import known_currencies
from payrecon.validation.gx_runtime import SuiteOutcome, expectations, gx, run_suite

ORIGINS = ("shopping_cart", "order_form", "legacy_order_form", "manual", "campaign", "api", "action_set")
STATUSES = ("paid", "failed", "error", "offline", "approved_m", "refunded")
REQUIRED = (
    "order_id",
    "customer_id",
    "product_id",
    "installment_no",
    "origin",
    "auto_charge",
    "status",
    "total_minor",
    "currency",
    "created_at",
    "updated_at",
)
MAX_TOTAL_MINOR = 10**13


def orders_suite(max_total_minor: int = MAX_TOTAL_MINOR) -> Any:
    gxe = expectations()
    exps: list[Any] = [
        gxe.ExpectColumnValuesToNotBeNull(column=c, meta={"field": c, "describe": f"{c} is present"}) for c in REQUIRED
    ]
    exps += [
        gxe.ExpectColumnValuesToBeUnique(column="order_id", meta={"field": "order_id", "describe": "order id unique"}),
        gxe.ExpectColumnValuesToBeInSet(
            column="origin", value_set=list(ORIGINS), meta={"field": "origin", "describe": "known origin"}
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="status", value_set=list(STATUSES), meta={"field": "status", "describe": "known status"}
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="auto_charge", value_set=[True, False], meta={"field": "auto_charge", "describe": "boolean"}
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="installment_no", min_value=1, meta={"field": "installment_no", "describe": "installment >= 1"}
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="total_minor",
            min_value=0,
            max_value=max_total_minor,
            meta={"field": "total_minor", "describe": f"0 <= total_minor <= {max_total_minor:,}"},
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="currency",
            value_set=sorted(known_currencies()),
            meta={"field": "currency", "describe": "ISO 4217 currency code"},
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="updated_at",
            column_B="created_at",
            or_equal=True,
            meta={"field": "updated_at", "describe": "updated_at >= created_at"},
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="created_at_utc",
            value_set=[True],
            meta={"field": "created_at", "describe": "created_at is UTC-aware"},
        ),
    ]
    return gx().ExpectationSuite(name="orders", expectations=exps)


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True).copy()
    missing = [c for c in REQUIRED if c not in out.columns]
    if missing:
        raise ValueError(f"orders frame is missing column(s) {missing}")
    created = out["created_at"]
    aware = isinstance(created.dtype, pd.DatetimeTZDtype) and str(created.dt.tz) in ("UTC", "utc")
    out["created_at_utc"] = aware
    for c in ("created_at", "updated_at"):
        if not isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = pd.to_datetime(out[c], utc=True, errors="coerce")
    return out


def validate_orders(frame: pd.DataFrame, *, max_total_minor: int = MAX_TOTAL_MINOR) -> SuiteOutcome:
    """Run the orders suite; `outcome.rows` maps frame positions to the expectations they fail."""
    return run_suite(_prepare(frame), orders_suite(max_total_minor))
