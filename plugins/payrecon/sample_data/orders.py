"""Orders, payment attempts, subscriptions and customers: the merchant's commerce database.

Built column-wise with numpy. Special cases (retries by the customer, duplicate purchases, household
look-alikes, offline orders, double charges, auto-charge switched back by hand) are carved out of the
regular order stream by overriding rows, so the number of orders is exactly days x orders_per_day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from payrecon.sample_data.catalog import GATEWAY_SHARE, GATEWAYS, KINDS, ONE_TIME, PAYMENT_PLAN, Catalog
from payrecon.sample_data.config import DAY, HOUR, Config, scaled, seq_ids, tokens
from payrecon.sample_data.people import People, make_people, noisy_identity

ORIGINS = np.array(
    ["shopping_cart", "order_form", "legacy_order_form", "manual", "campaign", "api", "action_set"]
)
ORIGIN_SHARE = np.array([0.34, 0.24, 0.05, 0.07, 0.09, 0.13, 0.08])
CART, ORDER_FORM, LEGACY_FORM, MANUAL, CAMPAIGN, API, ACTION_SET = range(len(ORIGINS))
# R1: a failed initial order from these origins gets auto-charge = No, set by the system
R1_ORIGINS = np.array([CART, ORDER_FORM, LEGACY_FORM, MANUAL, CAMPAIGN])

SUCCESS, SOFT, HARD, ERROR, OFFLINE = range(5)
SOFT_DECLINES = np.array(["insufficient_funds", "do_not_honor", "try_again_later", "card_velocity_exceeded"])
SOFT_SHARE = np.array([0.5, 0.25, 0.15, 0.1])
HARD_DECLINES = np.array(
    ["stolen_card", "lost_card", "pickup_card", "fraudulent", "invalid_account", "do_not_honor_permanently",
     "expired_card"]
)
ERROR_CODES = np.array(["gateway_timeout", "api_error", "processing_error"])
ERROR_SHARE = np.array([0.45, 0.3, 0.25])
USERS = np.array(["user:jane", "user:omar", "user:mei", "user:lukas"])
CHARGE_PREFIX = {"stripe": "ch_", "acmepay": "acme_ch_"}

# why a row looks the way it does (written to the ground truth as `scenario`)
SCENARIOS = np.array(
    ["regular", "retry_success", "retry_success_new_customer", "duplicate_purchase", "household_lookalike",
     "double_charge", "offline", "offline_approved", "auto_charge_switched_back", "retried_failed",
     "subsequent_auto_retry", "refunded", "chargeback"]
)
(REGULAR, RETRY, RETRY_NEW_CUSTOMER, DUP_PURCHASE, HOUSEHOLD, DOUBLE_CHARGE, OFFLINE_ORDER, OFFLINE_APPROVED,
 SWITCHED, RETRIED_FAILED, AUTO_RETRY, REFUNDED, CHARGEBACK) = range(len(SCENARIOS))


@dataclass
class Commerce:
    """The commerce tables in internal types (epoch seconds, minor units), plus truth columns."""

    products: pd.DataFrame
    customers: pd.DataFrame
    subscriptions: pd.DataFrame
    orders: pd.DataFrame
    attempts: pd.DataFrame


class _Pairs:
    """Pick (earlier order i, later order j) pairs: j is the order that happened `delta` after i."""

    def __init__(self, rng: np.random.Generator, created: np.ndarray) -> None:
        self.rng = rng
        self.created = created
        self.taken = np.zeros(len(created), dtype=bool)

    def take(self, rows: np.ndarray) -> None:
        self.taken[rows] = True

    def pick(self, candidates: np.ndarray, k: int, lo: int, hi: int, mean: float | None = None):
        pool = np.flatnonzero(candidates & ~self.taken)
        if k <= 0 or len(pool) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        i = np.sort(self.rng.choice(pool, size=min(len(pool), 2 * k), replace=False))
        if mean is None:
            delta = self.rng.integers(lo, hi, len(i))
        else:
            delta = np.minimum(lo + self.rng.exponential(mean, len(i)).astype(np.int64), hi)
        j = np.searchsorted(self.created, self.created[i] + delta)
        ok = j < len(self.created)
        i, j = i[ok], j[ok]
        ok = ~self.taken[j] & ~np.isin(j, i)
        i, j = i[ok], j[ok]
        _, first = np.unique(j, return_index=True)
        first.sort()
        i, j = i[first], j[first]
        if len(i) > k:
            keep = np.sort(self.rng.choice(len(i), k, replace=False))
            i, j = i[keep], j[keep]
        self.take(i)
        self.take(j)
        return i, j


def choose(rng: np.random.Generator, mask: np.ndarray, k: int) -> np.ndarray:
    """Up to `k` row numbers out of `mask`, sorted."""
    pool = np.flatnonzero(mask)
    if k <= 0 or len(pool) == 0:
        return np.empty(0, np.int64)
    return np.sort(rng.choice(pool, size=min(k, len(pool)), replace=False))


def build_commerce(cfg: Config, cat: Catalog) -> Commerce:
    rng = cfg.rng("orders")
    n = cfg.n_orders
    as_of = cfg.as_of
    day = np.repeat(np.arange(cfg.days, dtype=np.int64), cfg.orders_per_day)
    created = cfg.t0 + day * DAY + np.sort(rng.integers(0, DAY, (cfg.days, cfg.orders_per_day)), axis=1).ravel()

    # ---- the regular stream -------------------------------------------------------------------------
    subsequent = rng.random(n) < 0.22
    rec = cat.recurring
    rec_w = cat.weight[rec] / cat.weight[rec].sum()
    product = np.where(
        subsequent, rec[rng.choice(len(rec), n, p=rec_w)], rng.choice(len(cat.weight), n, p=cat.weight)
    )
    origin = rng.choice(len(ORIGINS), n, p=ORIGIN_SHARE)
    gateway = rng.choice(len(GATEWAYS), n, p=GATEWAY_SHARE)
    u = rng.random(n)
    t_ok, t_soft, t_hard = (np.where(subsequent, a, b) for a, b in ((0.84, 0.86), (0.95, 0.925), (0.98, 0.965)))
    outcome = np.select([u < t_ok, u < t_soft, u < t_hard], [SUCCESS, SOFT, HARD], ERROR)
    n_people = int(n * 0.8) + 10
    person = rng.integers(0, n_people, n)
    coupon = rng.random(n) < 0.08
    scenario = np.full(n, REGULAR, dtype=np.int64)
    purchase = np.arange(n, dtype=np.int64)

    # ---- special cases carved out of the stream -----------------------------------------------------
    pairs = _Pairs(rng, created)
    initial = ~subsequent
    r1_origin = np.isin(origin, R1_ORIGINS)
    failed_r1 = initial & (outcome != SUCCESS) & r1_origin
    one_time = cat.kind[product] == ONE_TIME

    # a customer whose first attempt failed comes back and pays for the same product (R8)
    ri, rj = pairs.pick(failed_r1, scaled(int(failed_r1.sum()), 0.45, 3), 300, 3 * DAY, mean=8 * HOUR)
    # a household member with the same card and surname buys the same product: a different person
    hi_, hj = pairs.pick(failed_r1, scaled(n, 0.0005, 2), 600, 2 * DAY, mean=10 * HOUR)
    # the same purchase paid twice (double submit): two successful orders
    dup_cand = initial & (outcome == SUCCESS) & one_time & np.isin(origin, [CART, ORDER_FORM])
    di, dj = pairs.pick(dup_cand, scaled(n, 0.001, 2), 20, 900)

    for i, j, kind in ((ri, rj, RETRY), (hi_, hj, HOUSEHOLD), (di, dj, DUP_PURCHASE)):
        product[j], origin[j], gateway[j], coupon[j], person[j] = (
            product[i], origin[i], gateway[i], coupon[i], person[i]
        )
        subsequent[j] = False
        outcome[j] = SUCCESS
        scenario[j] = kind
        if kind != HOUSEHOLD:
            purchase[j] = purchase[i]
    scenario[ri] = RETRIED_FAILED
    scenario[di] = DUP_PURCHASE
    # retries under a new customer record (identity noise, same card)
    n_new = min(len(rj), max(2, int(round(0.3 * len(rj)))))
    new_cust = np.sort(rng.choice(rj, size=n_new, replace=False)) if n_new else np.empty(0, np.int64)
    scenario[new_cust] = RETRY_NEW_CUSTOMER
    # household look-alikes are new people; the person they share a card with must not be one of them
    trap_people = n_people + np.arange(len(hj))
    trap_family = person[hi_]
    person[hj] = trap_people
    scenario[hi_] = np.where(scenario[hi_] == REGULAR, HOUSEHOLD, scenario[hi_])
    used = np.unique(person[person < n_people])
    used = used[~np.isin(used, trap_family)]
    n_house = min(len(used) // 2, scaled(n, 0.001, 2))
    house = rng.choice(used, size=2 * n_house, replace=False) if n_house else np.empty(0, np.int64)
    same_family = np.concatenate([house[n_house:], trap_people])
    family_of = np.concatenate([house[:n_house], trap_family])
    initial = ~subsequent

    # offline orders (R12): never sent to the gateway; some approved by hand later
    offline_cand = initial & np.isin(origin, [CART, ORDER_FORM, LEGACY_FORM]) & ~pairs.taken
    offline = choose(rng, offline_cand, scaled(n, 0.006, 4))
    pairs.take(offline)
    outcome[offline] = OFFLINE
    approve_at = created + rng.integers(2 * HOUR, 2 * DAY, n)
    approved = np.zeros(n, dtype=bool)
    approved[offline[: (len(offline) + 1) // 2]] = True
    approved &= approve_at < as_of - 60
    scenario[offline] = np.where(approved[offline], OFFLINE_APPROVED, OFFLINE_ORDER)

    # ---- amounts and installments --------------------------------------------------------------------
    kind = cat.kind[product]
    one_time = kind == ONE_TIME
    plan = kind == PAYMENT_PLAN
    price = cat.price_minor[product]
    total = np.where(coupon & one_time, price - (price + 5) // 10, price)
    currency = cat.currency[product]
    high = np.where(plan, cat.installments[product], 12) + 1
    installment_no = np.where(subsequent, rng.integers(2, np.maximum(high, 3)), 1)

    # ---- auto-charge (R1, R4, R5, R7) ----------------------------------------------------------------
    auto_charge = np.ones(n, dtype=bool)
    set_by = np.full(n, None, dtype=object)
    draw = rng.random(n)
    api = initial & (origin == API)
    auto_charge[api] = draw[api] < 0.5
    set_by[api] = "api"
    aset = initial & (origin == ACTION_SET)
    auto_charge[aset] = draw[aset] < 0.6
    set_by[aset] = "action_set"
    failed_r1 = initial & r1_origin & np.isin(outcome, [SOFT, HARD, ERROR])
    auto_charge[failed_r1] = False
    set_by[failed_r1] = "system"
    auto_charge[outcome == OFFLINE] = False
    auto_charge[subsequent] = draw[subsequent] < 0.9
    switch_cand = failed_r1 & plan & ~pairs.taken & (created < as_of - 3 * HOUR)
    switched = choose(rng, switch_cand, scaled(int(switch_cand.sum()), 0.25, 2))
    pairs.take(switched)
    auto_charge[switched] = True
    set_by[switched] = USERS[rng.integers(0, len(USERS), len(switched))]
    switch_hi = np.minimum(created + 20 * HOUR, as_of - 60)
    switch_at = np.zeros(n, dtype=np.int64)
    switch_at[switched] = created[switched] + HOUR + (
        rng.random(len(switched)) * (switch_hi[switched] - created[switched] - HOUR)
    ).astype(np.int64)
    scenario[switched] = SWITCHED

    # ---- payment attempts ----------------------------------------------------------------------------
    people = make_people(cfg.rng("people"), n_people + len(hj), same_family, family_of)
    att = _attempts(cfg, rng, created, outcome, subsequent, origin, auto_charge, switched, gateway,
                    person, total, currency, approved, approve_at, pairs, one_time, people, scenario)

    # ---- order status and last change ----------------------------------------------------------------
    succeeded = att["status"].to_numpy() == "succeeded"
    order_of = att["order"].to_numpy()
    has_success = np.bincount(order_of[succeeded], minlength=n) > 0
    last = att.drop_duplicates("order", keep="last")
    last_status = np.full(n, "", dtype=object)
    last_status[last["order"].to_numpy()] = last["status"].to_numpy()
    last_at = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_at, order_of, att["updated_s"].to_numpy())
    status = np.where(has_success, "paid", np.where(last_status == "error", "error", "failed")).astype(object)
    status[outcome == OFFLINE] = "offline"
    status[approved] = "approved_m"
    updated = np.maximum.reduce([created, last_at, switch_at, np.where(approved, approve_at + 5, 0)])

    # ---- customers -----------------------------------------------------------------------------------
    n_persons = len(people)
    primary_id = seq_ids("CUS-", 1, n_persons, 7)
    customer_id = primary_id[person].astype(object)
    new_ids = seq_ids("CUS-", n_persons + 1, len(new_cust), 7)
    customer_id[new_cust] = new_ids
    regular_rows = np.ones(n, dtype=bool)
    regular_rows[new_cust] = False
    first_seen = pd.Series(created[regular_rows]).groupby(person[regular_rows]).min()
    who = first_seen.index.to_numpy()
    crng = cfg.rng("customers")
    existing = crng.random(len(who)) < 0.55
    c_created = first_seen.to_numpy() - np.where(
        existing, crng.integers(DAY, 700 * DAY, len(who)), crng.integers(30, 900, len(who))
    )
    noisy = [
        noisy_identity(crng, people.first[p], people.last[p], people.email[p], people.phone[p])
        for p in person[new_cust]
    ]
    noisy_cols = list(zip(*noisy, strict=True)) if noisy else [(), (), (), ()]
    customers = pd.DataFrame(
        {
            "customer_id": np.concatenate([primary_id[who], new_ids]),
            "first_name": np.concatenate([people.first[who], np.array(noisy_cols[0], dtype=str)]),
            "last_name": np.concatenate([people.last[who], np.array(noisy_cols[1], dtype=str)]),
            "email": np.concatenate([people.email[who], np.array(noisy_cols[2], dtype=str)]),
            "phone": np.concatenate([people.phone[who], np.array(noisy_cols[3], dtype=object)]),
            "created_s": np.concatenate([c_created, created[new_cust] - crng.integers(20, 300, len(new_cust))]),
        }
    )
    customers["updated_s"] = customers["created_s"]
    customers = customers.sort_values("customer_id", kind="stable", ignore_index=True)

    # ---- subscriptions (R3, R6) ----------------------------------------------------------------------
    rec_rows = np.flatnonzero(~one_time)
    sub_ids = seq_ids("SUB-", 1, len(rec_rows), 8)
    subscription_id = np.full(n, None, dtype=object)
    subscription_id[rec_rows] = sub_ids
    r_sub = subsequent[rec_rows]
    s_status = np.full(len(rec_rows), "active", dtype=object)
    ok = has_success[rec_rows]
    s_status[~r_sub & ~ok & (origin[rec_rows] != MANUAL)] = "not_started"
    s_status[np.isin(rec_rows, switched)] = "active"
    last_plan = r_sub & ok & plan[rec_rows] & (installment_no[rec_rows] == cat.installments[product[rec_rows]])
    s_status[last_plan] = "completed"
    hard_fail = r_sub & ~ok & (crng.random(len(rec_rows)) < 0.5)
    hard_fail &= np.isin(rec_rows, np.flatnonzero(outcome == HARD))
    s_status[hard_fail] = "cancelled"
    interval = cat.interval_days[product[rec_rows]]
    s_created = np.where(
        r_sub,
        created[rec_rows] - (installment_no[rec_rows] - 1) * interval * DAY - crng.integers(0, HOUR, len(rec_rows)),
        created[rec_rows],
    )
    subscriptions = pd.DataFrame(
        {
            "subscription_id": sub_ids,
            "customer_id": customer_id[rec_rows],
            "product_id": cat.product_id[product[rec_rows]],
            "kind": KINDS[kind[rec_rows]],
            "origin": np.where(origin[rec_rows] == MANUAL, "manual", "checkout"),
            "status": s_status,
            "created_s": s_created,
            "updated_s": np.where(hard_fail, updated[rec_rows] + HOUR, updated[rec_rows]),
        }
    )

    orders = pd.DataFrame(
        {
            "order_id": seq_ids("ORD-", 1, n, 8),
            "customer_id": customer_id,
            "product_id": cat.product_id[product],
            "subscription_id": subscription_id,
            "installment_no": installment_no,
            "origin": ORIGINS[origin],
            "auto_charge": auto_charge,
            "auto_charge_set_by": set_by,
            "status": status,
            "total_minor": total,
            "currency": currency,
            "created_s": created,
            "updated_s": updated,
            # truth and internals
            "person": person,
            "purchase": purchase,
            "scenario": scenario,
            "has_success": has_success,
            "gateway": gateway,
        }
    )
    att.insert(0, "attempt_id", seq_ids("ATT-", 1, len(att), 8))
    att["order_id"] = orders["order_id"].to_numpy()[order_of]
    return Commerce(cat.frame(cfg.t0 - 30 * DAY), customers, subscriptions, orders, att)


def _attempts(cfg, rng, created, outcome, subsequent, origin, auto_charge, switched, gateway, person, total,
              currency, approved, approve_at, pairs, one_time, people: People, scenario) -> pd.DataFrame:
    n = len(created)
    as_of = cfg.as_of
    # first attempt: every order that went to the gateway
    first = np.flatnonzero(outcome != OFFLINE)
    at1 = created + rng.integers(2, 20, n)
    oc = outcome[first]
    status1 = np.select([oc == SUCCESS, oc == ERROR], ["succeeded", "error"], "declined").astype(object)
    decline = np.full(len(first), None, dtype=object)
    soft, hard = oc == SOFT, oc == HARD
    decline[soft] = SOFT_DECLINES[rng.choice(len(SOFT_DECLINES), soft.sum(), p=SOFT_SHARE)]
    decline[hard] = HARD_DECLINES[rng.integers(0, len(HARD_DECLINES), hard.sum())]
    error = np.full(len(first), None, dtype=object)
    err = oc == ERROR
    error[err] = ERROR_CODES[rng.choice(len(ERROR_CODES), err.sum(), p=ERROR_SHARE)]
    parts = [pd.DataFrame({"order": first, "attempt_no": 1, "attempted_s": at1[first], "status": status1,
                           "decline_code": decline, "error_code": error})]

    # automatic re-attempts: soft declines where auto-charge is Yes (R2, R4, R5), never R1 orders
    initial = ~subsequent
    retry = (outcome == SOFT) & auto_charge & (subsequent | (initial & np.isin(origin, [API, ACTION_SET])))
    retry[switched] = False
    at2 = at1 + rng.integers(DAY, 3 * DAY, n)
    retry &= at2 < as_of
    rows = np.flatnonzero(retry)
    ok2 = rng.random(len(rows)) < 0.55
    scenario[rows] = AUTO_RETRY
    parts.append(pd.DataFrame({
        "order": rows, "attempt_no": 2, "attempted_s": at2[rows],
        "status": np.where(ok2, "succeeded", "declined").astype(object),
        "decline_code": np.where(ok2, None, SOFT_DECLINES[rng.choice(len(SOFT_DECLINES), len(rows), p=SOFT_SHARE)]),
        "error_code": None,
    }))
    pairs.take(rows)

    # the gateway charged one order twice (two succeeded attempts on one order)
    double = choose(rng, initial & (outcome == SUCCESS) & one_time & ~pairs.taken, scaled(n, 0.0005, 2))
    pairs.take(double)
    scenario[double] = DOUBLE_CHARGE
    parts.append(pd.DataFrame({
        "order": double, "attempt_no": 2, "attempted_s": at1[double] + rng.integers(30, 300, len(double)),
        "status": "succeeded", "decline_code": None, "error_code": None,
    }))

    # offline orders keyed into the virtual terminal by hand (R12 "Approved M")
    manual = np.flatnonzero(approved)
    parts.append(pd.DataFrame({
        "order": manual, "attempt_no": 1, "attempted_s": approve_at[manual], "status": "succeeded",
        "decline_code": None, "error_code": None,
    }))

    att = pd.concat(parts, ignore_index=True)
    att = att.sort_values(["order", "attempt_no"], kind="stable", ignore_index=True)
    order = att["order"].to_numpy()
    seen = att["status"].to_numpy() != "error"
    seen |= att["error_code"].to_numpy() == "processing_error"
    gw = gateway[order]
    charge = np.full(len(att), None, dtype=object)
    crng = cfg.rng("charge-ids")
    for g, name in enumerate(GATEWAYS):
        sel = seen & (gw == g)
        charge[sel] = tokens(crng, int(sel.sum()), 24, CHARGE_PREFIX[name], mixed=True)
    att["gateway"] = gw
    att["gateway_charge_id"] = charge
    att["amount_minor"] = total[order]
    att["currency"] = currency[order]
    p = person[order]
    att["card_fingerprint"] = people.fingerprint[p]
    att["card_brand"] = people.brand[p]
    att["card_last4"] = people.last4[p]
    att["updated_s"] = att["attempted_s"] + np.where(att["status"].to_numpy() == "succeeded", 2, 1)
    return att
