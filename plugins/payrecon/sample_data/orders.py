"""Orders, payment attempts, subscriptions and customers: the merchant's commerce database.

Built column-wise with numpy. Special cases (retries by the customer, duplicate purchases, household
look-alikes, offline orders, double charges, auto-charge switched back by hand) are carved out of the
regular order stream by overriding rows, so the number of orders is exactly days x orders_per_day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from payrecon.sample_data.catalog import GATEWAY_SHARE, GATEWAYS, ONE_TIME, PAYMENT_PLAN, Catalog
from payrecon.sample_data.config import DAY, HOUR, Config, Table, ids, ids_or_none, scaled, tokens
from payrecon.sample_data.people import People, make_people, noisy_identity

ORIGINS = np.array(
    ["shopping_cart", "order_form", "legacy_order_form", "manual", "campaign", "api", "action_set"]
)
ORIGIN_SHARE = np.array([0.34, 0.24, 0.05, 0.07, 0.09, 0.13, 0.08])
CART, ORDER_FORM, LEGACY_FORM, MANUAL, CAMPAIGN, API, ACTION_SET = range(len(ORIGINS))
# R1: a failed initial order from these origins gets auto-charge = No, set by the system
R1_ORIGINS = np.array([CART, ORDER_FORM, LEGACY_FORM, MANUAL, CAMPAIGN])

SUBSCRIPTION_ORIGINS = np.array(["checkout", "manual"], dtype=object)

SUCCESS, SOFT, HARD, ERROR, OFFLINE = range(5)
SOFT_DECLINES = np.array(["insufficient_funds", "do_not_honor", "try_again_later", "card_velocity_exceeded"])
SOFT_SHARE = np.array([0.5, 0.25, 0.15, 0.1])
HARD_DECLINES = np.array(
    ["stolen_card", "lost_card", "pickup_card", "fraudulent", "invalid_account", "do_not_honor_permanently",
     "expired_card"]
)
ERROR_CODES = np.array(["gateway_timeout", "api_error", "processing_error"])
ERROR_SHARE = np.array([0.45, 0.3, 0.25])
USERS = np.array(["user:jane", "user:omar", "user:mei", "user:lukas"], dtype=object)
ORDER_STATUSES = np.array(["paid", "failed", "error", "offline", "approved_m", "refunded"], dtype=object)
ATTEMPT_STATUSES = np.array(["succeeded", "declined", "error"], dtype=object)
SUBSCRIPTION_STATUSES = np.array(["active", "not_started", "cancelled", "completed"], dtype=object)

CHARGE_PREFIX = {"stripe": "ch_", "acmepay": "acme_ch_"}


def order_ids(rows: np.ndarray) -> np.ndarray:
    """Order ids are their row number: `ORD-00000001` is row 0."""
    return ids("ORD-", np.asarray(rows) + 1, 8)


def subscription_ids(numbers: np.ndarray) -> np.ndarray:
    """Subscription numbers are 1-based; a negative number means no subscription (None)."""
    return ids_or_none("SUB-", numbers, 8)

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

    products: Table
    customers: Table
    subscriptions: Table
    orders: Table
    attempts: Table


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


def _separate_purchases(
    person: np.ndarray, product: np.ndarray, purchase: np.ndarray, n_people: int, n_products: int
) -> tuple[np.ndarray, int]:
    """One person buys one product at most once in the scenario, unless it is the same purchase.

    Independent draws sometimes give a person two unrelated orders for one product; R8 would (rightly)
    tie them together, so the truth could not call them two purchases. Every purchase that collides
    with an earlier purchase of the same person and product moves, whole, to a new person.
    """
    n = len(person)
    key = person * n_products + product
    order = np.lexsort((np.arange(n), key))
    k_sorted = key[order]
    p_sorted = purchase[order]
    starts = np.r_[True, k_sorted[1:] != k_sorted[:-1]]
    first_purchase = p_sorted[starts][np.cumsum(starts) - 1]
    move = np.unique(purchase[order[p_sorted != first_purchase]])
    if len(move) == 0:
        return person, n_people
    person = person.copy()
    rows = np.flatnonzero(np.isin(purchase, move))
    person[rows] = n_people + np.searchsorted(move, purchase[rows])
    return person, n_people + len(move)


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
    person[hj] = trap_people
    person, n_total = _separate_purchases(person, product, purchase, n_people + len(hj), len(cat.weight))
    trap_family = person[hi_]
    scenario[hi_] = np.where(scenario[hi_] == REGULAR, HOUSEHOLD, scenario[hi_])
    used = np.unique(person)
    used = used[~np.isin(used, trap_family) & ~np.isin(used, trap_people)]
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
    people = make_people(cfg.rng("people"), n_total, same_family, family_of)
    att = _attempts(cfg, rng, created, outcome, subsequent, origin, auto_charge, switched, gateway,
                    person, total, currency, approved, approve_at, pairs, one_time, people, scenario)

    # ---- order status and last change ----------------------------------------------------------------
    order_of = att["order"]
    succeeded = att["status"] == "succeeded"
    has_success = np.bincount(order_of[succeeded], minlength=n) > 0
    last_status = np.full(n, "", dtype=object)
    last_status[order_of] = att["status"]  # rows are sorted by attempt_no: the last write wins
    last_at = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_at, order_of, att["updated_s"])
    status = ORDER_STATUSES[np.where(has_success, 0, np.where(last_status == "error", 2, 1))]
    status[outcome == OFFLINE] = "offline"
    status[approved] = "approved_m"
    updated = np.maximum.reduce([created, last_at, switch_at, np.where(approved, approve_at + 5, 0)])

    # ---- customers -----------------------------------------------------------------------------------
    n_persons = len(people)
    customer_no = person + 1  # a person's own customer record is CUS-{person + 1}
    customer_no[new_cust] = n_persons + 1 + np.arange(len(new_cust))
    regular_rows = np.ones(n, dtype=bool)
    regular_rows[new_cust] = False
    first_seen = np.full(n_persons, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_seen, person[regular_rows], created[regular_rows])
    who = np.flatnonzero(first_seen < np.iinfo(np.int64).max)
    crng = cfg.rng("customers")
    existing = crng.random(len(who)) < 0.55
    c_created = first_seen[who] - np.where(
        existing, crng.integers(DAY, 700 * DAY, len(who)), crng.integers(30, 900, len(who))
    )
    noisy = [
        noisy_identity(crng, str(people.first[p]), str(people.last[p]), str(people.email[p]), people.phone[p])
        for p in person[new_cust]
    ]
    noisy_cols = list(zip(*noisy, strict=True)) if noisy else [(), (), (), ()]

    def column(values: np.ndarray, extra: tuple) -> np.ndarray:
        out = np.empty(len(who) + len(extra), dtype=object)
        out[: len(who)] = values[who]
        out[len(who) :] = extra
        return out

    customers = Table(
        customer_no=np.concatenate([who + 1, customer_no[new_cust]]),
        first_name=column(people.first, noisy_cols[0]),
        last_name=column(people.last, noisy_cols[1]),
        email=column(people.email, noisy_cols[2]),
        phone=column(people.phone, noisy_cols[3]),
        created_s=np.concatenate([c_created, created[new_cust] - crng.integers(20, 300, len(new_cust))]),
    )
    customers["updated_s"] = customers["created_s"]

    # ---- subscriptions (R3, R6) ----------------------------------------------------------------------
    rec_rows = np.flatnonzero(~one_time)
    sub_no = np.full(n, -1, dtype=np.int64)
    sub_no[rec_rows] = np.arange(1, len(rec_rows) + 1)
    r_sub = subsequent[rec_rows]
    s_status = SUBSCRIPTION_STATUSES[np.zeros(len(rec_rows), dtype=np.int64)]
    ok = has_success[rec_rows]
    s_status[~r_sub & ~ok & (origin[rec_rows] != MANUAL)] = "not_started"
    s_status[np.isin(rec_rows, switched)] = "active"
    last_plan = r_sub & ok & plan[rec_rows] & (installment_no[rec_rows] == cat.installments[product[rec_rows]])
    s_status[last_plan] = "completed"
    hard_fail = r_sub & ~ok & (crng.random(len(rec_rows)) < 0.5)
    hard_fail &= outcome[rec_rows] == HARD
    s_status[hard_fail] = "cancelled"
    interval = cat.interval_days[product[rec_rows]]
    s_created = np.where(
        r_sub,
        created[rec_rows] - (installment_no[rec_rows] - 1) * interval * DAY - crng.integers(0, HOUR, len(rec_rows)),
        created[rec_rows],
    )
    subscriptions = Table(
        customer_no=customer_no[rec_rows],
        product=product[rec_rows],
        kind=kind[rec_rows],
        origin=np.where(origin[rec_rows] == MANUAL, 1, 0),  # SUBSCRIPTION_ORIGINS
        status=s_status,
        created_s=s_created,
        updated_s=np.where(hard_fail, np.minimum(updated[rec_rows] + HOUR, as_of - 1), updated[rec_rows]),
    )

    orders = Table(
        customer_no=customer_no,
        product=product,
        sub_no=sub_no,
        installment_no=installment_no,
        origin=origin,
        auto_charge=auto_charge,
        auto_charge_set_by=set_by,
        status=status,
        total_minor=total,
        currency=currency,
        created_s=created,
        updated_s=updated,
        # truth and internals
        person=person,
        purchase=purchase,
        scenario=scenario,
        has_success=has_success,
        gateway=gateway,
    )
    return Commerce(cat.table(cfg.t0 - 30 * DAY), customers, subscriptions, orders, att)


def _attempts(cfg, rng, created, outcome, subsequent, origin, auto_charge, switched, gateway, person, total,
              currency, approved, approve_at, pairs, one_time, people: People, scenario) -> Table:
    n = len(created)
    as_of = cfg.as_of
    # first attempt: every order that went to the gateway
    first = np.flatnonzero(outcome != OFFLINE)
    at1 = created + rng.integers(2, 20, n)
    oc = outcome[first]
    status1 = ATTEMPT_STATUSES[np.select([oc == SUCCESS, oc == ERROR], [0, 2], 1)]
    decline = np.full(len(first), None, dtype=object)
    soft, hard = oc == SOFT, oc == HARD
    decline[soft] = SOFT_DECLINES.astype(object)[rng.choice(len(SOFT_DECLINES), soft.sum(), p=SOFT_SHARE)]
    decline[hard] = HARD_DECLINES.astype(object)[rng.integers(0, len(HARD_DECLINES), hard.sum())]
    error = np.full(len(first), None, dtype=object)
    err = oc == ERROR
    error[err] = ERROR_CODES.astype(object)[rng.choice(len(ERROR_CODES), err.sum(), p=ERROR_SHARE)]
    parts = [dict(order=first, attempt_no=1, attempted_s=at1[first], status=status1, decline_code=decline,
                  error_code=error)]

    # automatic re-attempts: soft declines where auto-charge is Yes (R2, R4, R5), never R1 orders
    initial = ~subsequent
    retry = (outcome == SOFT) & auto_charge & (subsequent | (initial & np.isin(origin, [API, ACTION_SET])))
    retry[switched] = False
    at2 = at1 + rng.integers(DAY, 3 * DAY, n)
    retry &= at2 < as_of
    rows = np.flatnonzero(retry)
    ok2 = rng.random(len(rows)) < 0.55
    scenario[rows] = AUTO_RETRY
    decline2 = SOFT_DECLINES.astype(object)[rng.choice(len(SOFT_DECLINES), len(rows), p=SOFT_SHARE)]
    decline2[ok2] = None
    parts.append(dict(order=rows, attempt_no=2, attempted_s=at2[rows],
                      status=ATTEMPT_STATUSES[np.where(ok2, 0, 1)], decline_code=decline2, error_code=None))
    pairs.take(rows)

    # the gateway charged one order twice (two succeeded attempts on one order)
    double = choose(rng, initial & (outcome == SUCCESS) & one_time & ~pairs.taken, scaled(n, 0.0005, 2))
    pairs.take(double)
    scenario[double] = DOUBLE_CHARGE
    parts.append(dict(order=double, attempt_no=2, attempted_s=at1[double] + rng.integers(30, 300, len(double)),
                      status=ATTEMPT_STATUSES[0], decline_code=None, error_code=None))

    # offline orders keyed into the virtual terminal by hand (R12 "Approved M")
    manual = np.flatnonzero(approved)
    parts.append(dict(order=manual, attempt_no=1, attempted_s=approve_at[manual], status=ATTEMPT_STATUSES[0],
                      decline_code=None, error_code=None))

    att = Table()
    for name, kind in (("order", np.int64), ("attempt_no", np.int64), ("attempted_s", np.int64),
                       ("status", object), ("decline_code", object), ("error_code", object)):
        att[name] = np.concatenate([np.broadcast_to(np.asarray(p[name], dtype=kind), len(p["order"]))
                                    for p in parts])
    att = att.take(np.lexsort((att["attempt_no"], att["order"])))
    order = att["order"]
    seen = (att["status"] != "error") | (att["error_code"] == "processing_error")
    gw = gateway[order]
    charge = np.full(att.rows, None, dtype=object)
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
    att["updated_s"] = att["attempted_s"] + np.where(att["status"] == "succeeded", 2, 1)
    return att
