"""Expected reconciliation states (CONTRACT.md "Reconciliation states"), evaluated at the end of the last day.

This is an independent, deliberately plain statement of the rules, so the reconciliation module can be
measured against it:

* settlement lines: fee / payout / adjustment / refund / chargeback by type; a charge line whose charge id
  is no successful attempt is `settled_without_order`; a later line (report date, then line number) for a
  charge already settled, or the line of an order's second successful charge, is `duplicate`; otherwise
  currency, then amount, compared on presentment when the line carries it, else on gross.
* orders: `offline`; `failed_attempt` without a successful charge; the state of the first line of the
  order's first successful charge; without a line yet `pending` inside the grace period, else
  `order_without_settlement`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from payrecon.sample_data.config import DAY, Config
from payrecon.sample_data.orders import Commerce

LINE_STATES = (
    "matched", "amount_mismatch", "currency_mismatch", "settled_without_order", "duplicate", "refund",
    "chargeback", "fee", "payout", "adjustment",
)
ORDER_STATES = (
    "matched", "amount_mismatch", "currency_mismatch", "pending", "order_without_settlement", "failed_attempt",
    "offline",
)


def line_states(com: Commerce, lines: pd.DataFrame) -> np.ndarray:
    att = com.attempts
    ok = att.take(np.flatnonzero(att["status"] == "succeeded"))
    order = ok["order"]
    charges = pd.DataFrame({
        "charge_id": ok["gateway_charge_id"],
        "c_amount": ok["amount_minor"],
        "c_currency": ok["currency"],
        "c_primary": np.r_[True, order[1:] != order[:-1]] if ok.rows else np.zeros(0, bool),
    })
    state = lines["type"].to_numpy().astype(object).copy()
    is_charge = state == "charge"
    view = lines.loc[is_charge, ["charge_id", "report_day", "gateway", "line_no", "currency", "gross", "pres",
                                 "pres_cur"]].copy()
    view["pos"] = np.flatnonzero(is_charge)
    view = view.merge(charges, how="left", on="charge_id")
    view = view.sort_values(["report_day", "gateway", "line_no"], kind="stable")
    found = view["c_amount"].notna().to_numpy()
    repeat = view["charge_id"].duplicated().to_numpy()
    has_pres = view["pres_cur"].to_numpy() >= 0
    cmp_cur = np.where(has_pres, view["pres_cur"].to_numpy(), view["currency"].to_numpy())
    cmp_amt = np.where(has_pres, view["pres"].to_numpy(), view["gross"].to_numpy())
    c_amount = view["c_amount"].fillna(-1).to_numpy().astype(np.int64)
    c_currency = view["c_currency"].fillna(-1).to_numpy().astype(np.int64)
    c_primary = view["c_primary"].fillna(False).to_numpy().astype(bool)
    s = np.select(
        [~found, repeat | ~c_primary, cmp_cur != c_currency, cmp_amt != c_amount],
        ["settled_without_order", "duplicate", "currency_mismatch", "amount_mismatch"],
        "matched",
    )
    state[view["pos"].to_numpy()] = s
    return state


def order_states(cfg: Config, com: Commerce, lines: pd.DataFrame, states: np.ndarray) -> np.ndarray:
    orders = com.orders
    n = orders.rows
    att = com.attempts
    ok = att.take(np.flatnonzero(att["status"] == "succeeded"))
    ok = ok.take(np.flatnonzero(np.r_[True, ok["order"][1:] != ok["order"][:-1]] if ok.rows else []))
    first = pd.DataFrame({"charge_id": lines["charge_id"].to_numpy(), "state": states,
                          "report_day": lines["report_day"].to_numpy(), "line_no": lines["line_no"].to_numpy(),
                          "type": lines["type"].to_numpy()})
    first = first[first["type"] == "charge"].sort_values(["report_day", "line_no"], kind="stable")
    first = first.drop_duplicates("charge_id")
    prim = pd.DataFrame({"order": ok["order"], "charge_id": ok["gateway_charge_id"],
                         "charged_s": ok["attempted_s"]}).merge(first, how="left", on="charge_id")
    out = np.full(n, "failed_attempt", dtype=object)
    settled = prim["state"].notna().to_numpy()
    inside = prim["charged_s"].to_numpy() + cfg.grace_days * DAY > cfg.as_of
    out[prim["order"].to_numpy()] = np.where(
        settled, prim["state"].to_numpy(), np.where(inside, "pending", "order_without_settlement")
    )
    out[orders["status"] == "offline"] = "offline"
    return out
