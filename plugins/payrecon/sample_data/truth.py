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


def _charges(com: Commerce) -> tuple[np.ndarray, np.ndarray]:
    """(succeeded attempt rows, which of them is its order's first successful charge)."""
    att = com.attempts
    rows = np.flatnonzero(att["status"] == "succeeded")
    order = att["order"][rows]
    primary = np.zeros(att.rows, dtype=bool)
    primary[rows[np.r_[True, order[1:] != order[:-1]] if len(rows) else []]] = True
    return rows, primary


def _first_lines(lines: pd.DataFrame, n_attempts: int) -> tuple[np.ndarray, np.ndarray]:
    """For each charge line: is it a later line of an already settled charge; and per attempt row, the
    position of the first line that settled it (-1: none yet). "First" is by report date, then line."""
    charge_row = lines["charge_row"].to_numpy()
    is_charge = (lines["type"].to_numpy() == "charge") & (charge_row >= 0)
    order = np.lexsort((lines["line_no"].to_numpy(), lines["gateway"].to_numpy(), lines["report_day"].to_numpy()))
    order = order[is_charge[order]]
    _, first = np.unique(charge_row[order], return_index=True)
    first_pos = order[first]
    repeat = is_charge.copy()
    repeat[first_pos] = False
    first_line = np.full(n_attempts, -1, dtype=np.int64)
    first_line[charge_row[first_pos]] = first_pos
    return repeat, first_line


def line_states(com: Commerce, lines: pd.DataFrame) -> np.ndarray:
    att = com.attempts
    _, primary = _charges(com)
    state = lines["type"].to_numpy().astype(object)
    charge_row = lines["charge_row"].to_numpy()
    is_charge = state == "charge"
    found = is_charge & (charge_row >= 0)
    repeat, _ = _first_lines(lines, att.rows)
    row = np.where(found, charge_row, att.rows)  # unfound lines look at a padding row
    primary = np.r_[primary, False]
    currency = np.r_[att["currency"], -1] if att.rows else np.array([-1])
    amount = np.r_[att["amount_minor"], -1] if att.rows else np.array([-1])
    has_pres = lines["pres_cur"].to_numpy() >= 0
    cmp_cur = np.where(has_pres, lines["pres_cur"].to_numpy(), lines["currency"].to_numpy())
    cmp_amt = np.where(has_pres, lines["pres"].to_numpy(), lines["gross"].to_numpy())
    verdict = np.select(
        [~found, repeat | ~primary[row], cmp_cur != currency[row], cmp_amt != amount[row]],
        ["settled_without_order", "duplicate", "currency_mismatch", "amount_mismatch"],
        "matched",
    )
    state[is_charge] = verdict[is_charge]
    return state


def order_states(cfg: Config, com: Commerce, lines: pd.DataFrame, states: np.ndarray) -> np.ndarray:
    orders = com.orders
    att = com.attempts
    rows, primary = _charges(com)
    prim = rows[primary[rows]]
    _, first_line = _first_lines(lines, att.rows)
    line = first_line[prim]
    settled = line >= 0
    inside = att["attempted_s"][prim] + cfg.grace_days * DAY > cfg.as_of
    out = np.full(orders.rows, "failed_attempt", dtype=object)
    out[att["order"][prim]] = np.where(
        settled, states[np.maximum(line, 0)], np.where(inside, "pending", "order_without_settlement")
    )
    out[orders["status"] == "offline"] = "offline"
    return out
