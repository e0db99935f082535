"""Gateway settlement lines: one per successful charge, plus everything that makes reconciliation hard.

Late lines, charges that never settle, lines with no order, the same charge settled twice, gross off by
some cents, the wrong currency, FX lines (settled in USD, presented in the order's currency), refunds,
chargebacks (and one dispute reversal), standalone fees, adjustments and payouts. A line whose report
date falls after the last generated day has not arrived yet and is not produced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from payrecon.sample_data.catalog import (
    DISPUTE_FEE_MINOR,
    EUR,
    GATEWAYS,
    GBP,
    STRIPE,
    USD,
    Catalog,
    convert_minor,
)
from payrecon.sample_data.config import DAY, HOUR, Config, scaled, tokens
from payrecon.sample_data.orders import CHARGE_PREFIX, DOUBLE_CHARGE, Commerce, choose, order_ids

TXN_PREFIX = {"stripe": "txn_", "acmepay": "acme_tx_"}
PAYOUT_PREFIX = {"stripe": "po_", "acmepay": "acme_po_"}
STRIPE_CATEGORY = {
    "charge": "charge",
    "refund": "refund",
    "chargeback": "dispute",
    "fee": "fee",
    "payout": "payout",
    "adjustment": "other_adjustment",
}


def charge_fee(gross: np.ndarray) -> np.ndarray:
    """2.9 % + 30 minor units, rounded half up, in integer arithmetic."""
    return (np.abs(gross) * 29 + 500) // 1000 + 30


def _frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


def build_settlements(cfg: Config, cat: Catalog, com: Commerce) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (lines, refunds). `refunds` lists full refunds: (order row, refunded_s) for the order status."""
    rng = cfg.rng("settlements")
    last_day = cfg.days - 1
    att = com.attempts
    ch_rows = np.flatnonzero(att["status"] == "succeeded")
    ch = att.take(ch_rows)
    order = ch["order"]
    gw = ch["gateway"]
    at = ch["attempted_s"]
    amount = ch["amount_minor"]
    cur = ch["currency"]
    charge_id = ch["gateway_charge_id"]
    order_id = order_ids(order)
    m = ch.rows
    primary = np.r_[True, order[1:] != order[:-1]] if m else np.zeros(0, bool)
    day = (at - cfg.t0) // DAY
    lag = np.where(rng.random(m) < 0.7, 1, 0)
    arrives = day + lag <= last_day

    used = ~(primary & (com.orders["scenario"][order] != DOUBLE_CHARGE))
    scen = np.full(m, "regular", dtype=object)
    scen[~primary] = "double_charge_second"

    def pool(cond: np.ndarray, k: int, name: str) -> np.ndarray:
        sel = choose(rng, cond & ~used, k)
        used[sel] = True
        scen[sel] = name
        return sel

    never = pool(at + cfg.grace_days * DAY < cfg.as_of, scaled(m, 0.002, 2), "never_settled")
    late = pool(np.ones(m, dtype=bool), scaled(m, 0.01, 3), "late")
    lag[late] += rng.integers(1, 4, len(late))
    arrives = day + lag <= last_day
    amount_off = pool(arrives, scaled(m, 0.003, 3), "amount_mismatch")
    currency_off = pool(arrives & (cur != USD), scaled(m, 0.002, 2), "currency_mismatch")
    if len(currency_off) == 0:
        currency_off = pool(arrives, scaled(m, 0.002, 2), "currency_mismatch")
    # FX: settled in USD, presented in the order's currency (mostly Stripe, a few on the generic gateway)
    fx_cand = arrives & np.isin(cur, [EUR, GBP])
    fx_stripe = pool(fx_cand & (gw == STRIPE), scaled(m, 0.008, 3), "fx")
    fx = np.sort(np.concatenate([fx_stripe, pool(fx_cand & (gw != STRIPE), scaled(m, 0.002, 2), "fx")]))
    dup = pool(day + lag + 1 <= last_day, scaled(m, 0.002, 2), "settled_twice")
    refund = pool(arrives & (at + 2 * DAY < cfg.as_of), scaled(m, 0.005, 3), "refund")
    chargeback = pool(arrives & (at + 3 * DAY < cfg.as_of), scaled(m, 0.002, 2), "chargeback")

    settle_cur = cur.copy()
    gross = amount.copy()
    pres = np.zeros(m, dtype=np.int64)
    pres_cur = np.full(m, -1, dtype=np.int64)
    settle_cur[fx] = USD
    gross[fx] = convert_minor(amount[fx], cur[fx], settle_cur[fx])
    pres[fx] = amount[fx]
    pres_cur[fx] = cur[fx]
    settle_cur[currency_off] = np.where(cur[currency_off] == USD, EUR, USD)
    gross[currency_off] = convert_minor(amount[currency_off], cur[currency_off], settle_cur[currency_off])
    delta = rng.integers(1, 250, len(amount_off)) * np.where(rng.random(len(amount_off)) < 0.5, -1, 1)
    off = amount[amount_off] + delta
    gross[amount_off] = np.where(off >= 1, off, amount[amount_off] + np.abs(delta))

    pi = tokens(cfg.rng("payment-intents"), m, 24, "pi_", mixed=True)
    echo = rng.random(m) < np.where(gw == STRIPE, 0.85, 0.75)
    ref = np.where(echo, order_id.astype(object), None)
    keep = np.ones(m, dtype=bool)
    keep[never] = False
    charge_rows = np.flatnonzero(keep)

    def charge_like(rows, kind, occurred, report, g, fee, scenario, category=None) -> pd.DataFrame:
        return _frame(
            gateway=gw[rows], type=kind, category=category or STRIPE_CATEGORY[kind], charge_id=charge_id[rows],
            charge_row=ch_rows[rows],
            order_ref=ref[rows], occurred_s=occurred, report_day=report, currency=settle_cur[rows], gross=g,
            fee=fee, pres=pres[rows], pres_cur=pres_cur[rows], payment_intent=pi[rows], scenario=scenario,
        )

    parts = [
        charge_like(charge_rows, "charge", at[charge_rows], day[charge_rows] + lag[charge_rows], gross[charge_rows],
                    charge_fee(gross[charge_rows]), scen[charge_rows]),
        charge_like(dup, "charge", at[dup], day[dup] + lag[dup] + 1, gross[dup], charge_fee(gross[dup]),
                    "duplicate_line"),
    ]
    # refunds: most in full (the order becomes `refunded`), some partial
    refund_at = at[refund] + rng.integers(DAY, 2 * DAY, len(refund))
    full = rng.random(len(refund)) < 0.7
    refund_amount = np.where(full, gross[refund], gross[refund] // 2)
    parts.append(charge_like(refund, "refund", refund_at, (refund_at - cfg.t0) // DAY, -refund_amount,
                             np.zeros(len(refund), np.int64), np.where(full, "refund", "partial_refund")))
    cb_at = at[chargeback] + rng.integers(DAY, 3 * DAY, len(chargeback))
    cb_day = (cb_at - cfg.t0) // DAY
    parts.append(charge_like(chargeback, "chargeback", cb_at, cb_day, -gross[chargeback],
                             DISPUTE_FEE_MINOR[settle_cur[chargeback]], "chargeback"))
    # one dispute won back on Stripe: a positive `dispute_reversal` line
    won = chargeback[(gw[chargeback] == STRIPE) & (cb_day + 1 <= last_day)][:1]
    if len(won):
        won_at = cb_at[np.searchsorted(chargeback, won)] + DAY
        parts.append(charge_like(won, "chargeback", won_at, (won_at - cfg.t0) // DAY, gross[won],
                                 -DISPUTE_FEE_MINOR[settle_cur[won]], "dispute_reversal", "dispute_reversal"))

    parts.append(_orphans(cfg, rng, cat, scaled(m, 0.002, 2)))
    parts.append(_balance_lines(cfg, rng))
    lines = pd.concat([p for p in parts if len(p)], ignore_index=True)
    lines["pres_cur"] = lines["pres_cur"].astype(np.int64)
    lines = lines[lines["report_day"].to_numpy() <= last_day]
    lines["net"] = lines["gross"] - lines["fee"]
    lines = _payouts(cfg, rng, lines)

    g = lines["gateway"].to_numpy()
    ref_ids = np.empty(len(lines), dtype=object)
    trng = cfg.rng("transaction-ids")
    for k, name in enumerate(GATEWAYS):
        sel = g == k
        ref_ids[sel] = tokens(trng, int(sel.sum()), 24 if name == "stripe" else 20, TXN_PREFIX[name], mixed=True)
    lines["source_ref"] = ref_ids
    lines = lines.sort_values(["gateway", "report_day", "occurred_s", "source_ref"], kind="stable",
                              ignore_index=True)
    lines["line_no"] = lines.groupby(["gateway", "report_day"]).cumcount().to_numpy() + 1

    refunds = pd.DataFrame({"order": order[refund[full]], "refunded_s": refund_at[full],
                            "report_day": (refund_at[full] - cfg.t0) // DAY})
    return lines, refunds


def _orphans(cfg: Config, rng: np.random.Generator, cat: Catalog, k: int) -> pd.DataFrame:
    """Charges the gateway settled that the merchant has no order for."""
    product = rng.choice(len(cat.weight), k, p=cat.weight)
    gw = rng.integers(0, len(GATEWAYS), k)
    occurred = cfg.t0 + rng.integers(0, max(1, cfg.days - 1), k) * DAY + rng.integers(0, DAY, k)
    gross = cat.price_minor[product]
    charge = np.empty(k, dtype=object)
    for g, name in enumerate(GATEWAYS):
        sel = gw == g
        charge[sel] = tokens(rng, int(sel.sum()), 24, CHARGE_PREFIX[name], mixed=True)
    return _frame(
        gateway=gw, type="charge", category="charge", charge_id=charge, charge_row=-1, order_ref=None,
        occurred_s=occurred,
        report_day=np.minimum((occurred - cfg.t0) // DAY + rng.integers(0, 2, k), cfg.days - 1),
        currency=cat.currency[product],
        gross=gross, fee=charge_fee(gross), pres=0, pres_cur=-1, payment_intent=tokens(rng, k, 24, "pi_", mixed=True),
        scenario="orphan_charge",
    )


def _balance_lines(cfg: Config, rng: np.random.Generator) -> pd.DataFrame:
    """Standalone fee lines (every report day) and adjustments (every third day) per gateway."""
    rows = []
    for g in range(len(GATEWAYS)):
        for d in range(cfg.days):
            base = cfg.t0 + d * DAY
            rows.append((g, "fee", "fee", base + 6 * HOUR + int(rng.integers(0, HOUR)), d,
                         -int(rng.integers(50, 3000)), "account_fee"))
            if d % 3 == min(1, cfg.days - 1):
                sign = 1 if rng.random() < 0.5 else -1
                rows.append((g, "adjustment", "other_adjustment", base + 9 * HOUR + int(rng.integers(0, HOUR)), d,
                             sign * int(rng.integers(100, 5000)), "adjustment"))
    g, kind, category, occurred, report, gross, scenario = (np.array(c) for c in zip(*rows, strict=True))
    n = len(rows)
    return _frame(
        gateway=g, type=kind, category=category, charge_id=None, charge_row=-1, order_ref=None, occurred_s=occurred,
        report_day=report, currency=USD, gross=gross, fee=np.zeros(n, np.int64), pres=0, pres_cur=-1,
        payment_intent=None, scenario=scenario,
    )


def _payouts(cfg: Config, rng: np.random.Generator, lines: pd.DataFrame) -> pd.DataFrame:
    """One payout per gateway, report day and currency: pays out the net of that file's lines."""
    sums = lines.groupby(["gateway", "report_day", "currency"], sort=True)["net"].sum().reset_index()
    k = len(sums)
    g = sums["gateway"].to_numpy()
    payout_id = np.empty(k, dtype=object)
    for gi, name in enumerate(GATEWAYS):
        sel = g == gi
        payout_id[sel] = tokens(rng, int(sel.sum()), 20, PAYOUT_PREFIX[name], mixed=True)
    sums["payout_id"] = payout_id
    lines = lines.merge(sums[["gateway", "report_day", "currency", "payout_id"]], how="left",
                        on=["gateway", "report_day", "currency"])
    payouts = _frame(
        gateway=g, type="payout", category="payout", charge_id=None, charge_row=-1, order_ref=None,
        occurred_s=cfg.t0 + sums["report_day"].to_numpy() * DAY + 23 * HOUR + 30 * 60,
        report_day=sums["report_day"].to_numpy(), currency=sums["currency"].to_numpy(),
        gross=-sums["net"].to_numpy(), fee=np.zeros(k, np.int64), pres=0, pres_cur=-1, payment_intent=None,
        scenario="payout", net=-sums["net"].to_numpy(), payout_id=payout_id,
    )
    return pd.concat([lines, payouts], ignore_index=True)
