"""Settlement files (generic CSV and Stripe itemized) and the ground-truth files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from payrecon.sample_data.catalog import CURRENCIES, EXPONENTS, GATEWAY_FORMATS, GATEWAYS
from payrecon.sample_data.config import (
    BYTES,
    DAY,
    Config,
    Table,
    dates,
    ids,
    money,
    seq_ids,
    text_array,
    timestamps,
    tokens,
)

GENERIC_COLUMNS = [
    "transaction_id", "type", "charge_id", "order_id", "occurred_at", "currency", "gross", "fee", "net",
    "presentment_amount", "presentment_currency", "payout_id",
]
STRIPE_COLUMNS = [
    "balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee", "net",
    "reporting_category", "source_id", "description", "customer_facing_amount", "customer_facing_currency",
    "automatic_payout_id", "charge_id", "payment_intent_id", "order_id",
]
FILE_NAME = "settlement.csv"
_STRIPE_DESCRIPTION = {
    "charge": "Payment", "refund": "REFUND FOR CHARGE", "dispute": "Chargeback withdrawal",
    "dispute_reversal": "Chargeback reversal", "fee": "Radar screening fees", "payout": "STRIPE PAYOUT",
    "other_adjustment": "Balance adjustment",
}


def _nullable(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    out = np.asarray(values).astype(object)
    out[~present] = None
    return out


def _money_columns(lines: pd.DataFrame) -> dict[str, np.ndarray]:
    exp = EXPONENTS[lines["currency"].to_numpy()]
    has_pres = lines["pres_cur"].to_numpy() >= 0
    pres_cur = np.where(has_pres, lines["pres_cur"].to_numpy(), 0)
    return {
        "gross": money(lines["gross"].to_numpy(), exp),
        "fee": money(lines["fee"].to_numpy(), exp),
        "net": money(lines["net"].to_numpy(), exp),
        "pres": _nullable(money(lines["pres"].to_numpy(), EXPONENTS[pres_cur]), has_pres),
        "pres_cur": _nullable(CURRENCIES[pres_cur], has_pres),
    }


def _generic(cfg: Config, lines: pd.DataFrame) -> dict[str, np.ndarray]:
    m = _money_columns(lines)
    return ({
        "transaction_id": lines["source_ref"].to_numpy(),
        "type": lines["type"].to_numpy(),
        "charge_id": lines["charge_id"].to_numpy(),
        "order_id": lines["order_ref"].to_numpy(),
        "occurred_at": timestamps(lines["occurred_s"].to_numpy()),
        "currency": CURRENCIES[lines["currency"].to_numpy()],
        "gross": m["gross"], "fee": m["fee"], "net": m["net"],
        "presentment_amount": m["pres"], "presentment_currency": m["pres_cur"],
        "payout_id": lines["payout_id"].to_numpy(),
    })


def _stripe(cfg: Config, lines: pd.DataFrame) -> dict[str, np.ndarray]:
    m = _money_columns(lines)
    n = len(lines)
    kind = lines["type"].to_numpy()
    category = lines["category"].to_numpy()
    rng = cfg.rng("stripe-source-ids")
    source = np.full(n, None, dtype=object)
    source[kind == "charge"] = lines["charge_id"].to_numpy()[kind == "charge"]
    for k, prefix in (("refund", "re_"), ("chargeback", "dp_")):
        sel = kind == k
        source[sel] = tokens(rng, int(sel.sum()), 24, prefix, mixed=True)
    source[kind == "payout"] = lines["payout_id"].to_numpy()[kind == "payout"]
    description = np.array([_STRIPE_DESCRIPTION[c] for c in category], dtype=object) if n else np.array([])
    occurred = lines["occurred_s"].to_numpy()
    available = (occurred // DAY + 2) * DAY
    pres_cur = m["pres_cur"].copy()
    present = pres_cur != None  # noqa: E711 - elementwise on an object array
    pres_cur[present] = np.strings.lower(pres_cur[present].astype(str))
    return ({
        "balance_transaction_id": lines["source_ref"].to_numpy(),
        "created_utc": timestamps(occurred, sep=" ", suffix=""),
        "available_on_utc": timestamps(available, sep=" ", suffix=""),
        "currency": np.strings.lower(CURRENCIES[lines["currency"].to_numpy()]),
        "gross": m["gross"], "fee": m["fee"], "net": m["net"],
        "reporting_category": category,
        "source_id": source,
        "description": description,
        "customer_facing_amount": m["pres"],
        "customer_facing_currency": pres_cur,
        "automatic_payout_id": lines["payout_id"].to_numpy(),
        "charge_id": lines["charge_id"].to_numpy(),
        "payment_intent_id": lines["payment_intent"].to_numpy(),
        "order_id": lines["order_ref"].to_numpy(),
    })


def clear_previous(out: Path) -> None:
    """Remove what an earlier run wrote here (only our own files), so a shorter run leaves nothing stale."""
    for gateway in GATEWAYS:
        for old in sorted((out / "inbox" / str(gateway)).glob(f"*/{FILE_NAME}")):
            old.unlink()
            if not any(old.parent.iterdir()):
                old.parent.rmdir()
    for name in ("orders.csv", "settlement_lines.csv", "scenario.json"):
        (out / "truth" / name).unlink(missing_ok=True)


def write_csv(path: Path, columns: dict[str, np.ndarray], rows: slice | None = None) -> None:
    """UTF-8 CSV with a header, unquoted (no value holds a comma or quote), empty for null."""
    arrays = []
    for values in columns.values():
        values = np.asarray(values if rows is None else values[rows])
        kind = values.dtype.kind
        arrays.append(pa.array(values, type=pa.bool_() if kind == "b" else pa.int64()) if kind in "biu"
                      else text_array(values))
    table = pa.Table.from_arrays(arrays, names=list(columns))
    with open(path, "wb") as fh:
        fh.write((",".join(columns) + "\n").encode())
        pa_csv.write_csv(table, fh, pa_csv.WriteOptions(include_header=False, quoting_style="none"))


def write_settlement_files(cfg: Config, out: Path, lines: pd.DataFrame) -> list[Path]:
    """One file per gateway and report date. `lines` is sorted by gateway, report day, line number."""
    written = []
    gw = lines["gateway"].to_numpy()
    report = lines["report_day"].to_numpy()
    for g, name in enumerate(GATEWAYS):
        lo, hi = np.searchsorted(gw, [g, g + 1])
        part = lines.iloc[lo:hi]
        columns = (_stripe if GATEWAY_FORMATS[name] == "stripe" else _generic)(cfg, part)
        days = report[lo:hi]
        for d in range(cfg.days):
            a, b = np.searchsorted(days, [d, d + 1])
            if a == b:
                continue
            folder = out / "inbox" / str(name) / cfg.day_label(d)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / FILE_NAME
            write_csv(path, columns, slice(a, b))
            written.append(path)
    return written


def write_truth(cfg: Config, out: Path, orders: Table, lines: pd.DataFrame, scenario: dict) -> None:
    folder = out / "truth"
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "orders.csv", {
        "order_id": seq_ids("ORD-", 1, orders.rows, 8, form=BYTES),
        "expected_state": orders["expected_state"],
        "person_id": ids("PER-", orders["person"] + 1, 7, form=BYTES),
        "purchase_id": ids("PUR-", orders["purchase"] + 1, 8, form=BYTES),
        "is_sale": orders["is_sale"],
        "scenario": orders["scenario_name"],
    })
    write_csv(folder / "settlement_lines.csv", {
        "gateway": GATEWAYS[lines["gateway"].to_numpy()],
        "source_ref": lines["source_ref"].to_numpy(),
        "expected_state": lines["expected_state"].to_numpy(),
        "report_date": dates(cfg.t0 + lines["report_day"].to_numpy() * DAY),
        "line_no": lines["line_no"].to_numpy(),
        "line_type": lines["type"].to_numpy(),
        "charge_id": lines["charge_id"].to_numpy(),
        "order_id": lines["true_order_id"].to_numpy(),
        "scenario": lines["scenario"].to_numpy(),
    })
    (folder / "scenario.json").write_text(json.dumps(scenario, indent=2, sort_keys=True) + "\n")
