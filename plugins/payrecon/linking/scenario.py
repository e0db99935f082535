"""A small, deterministic merchant whose ground truth follows R8's own definition of a purchase.

The project generator (`payrecon.sample_data`) labels two orders of one person for one product within
days as separate purchases when it drew them independently; R8 calls them one purchase. To measure
linking against R8 itself this builder makes purchases that never collide by accident, and puts in the
noise that makes linking hard: other customer ids for the same person, email case / plus-address /
Gmail-dot variants, name typos, households sharing a card (and often a phone and surname), strangers
with the same full name, double submits, and a retry that succeeded after the customer bought again.
It also covers every order origin, installments with soft and hard declines, manual subscriptions and
auto-charge switched back by a person, so the rule tests run on it too. Test data, not a hot path.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

FIRST = ["James", "Mary", "John", "Linda", "Robert", "Maria", "David", "Susan", "Omar", "Aisha", "Mei",
         "Hiroshi", "Lukas", "Sofia", "Ivan", "Grace", "Peter", "Emma", "Noah", "Chloe", "Kevin", "Laura"]
LAST = ["Smith", "Garcia", "Nguyen", "Kowalski", "Tanaka", "Haddad", "Jensen", "Rossi", "Brown", "Patel",
        "Okafor", "Larsen", "Dubois", "Schmidt", "Silva", "Kim"]
DOMAINS = ["example.com", "gmail.com", "mail.example", "example.org"]
ORIGINS = ["shopping_cart", "order_form", "legacy_order_form", "manual", "campaign", "api", "action_set"]
PRODUCTS = [
    ("P-BOOK", "one_time", 2500, None, None),
    ("P-COURSE", "one_time", 19900, None, None),
    ("P-KIT", "one_time", 4999, None, None),
    ("P-MEMBER", "subscription", 1500, None, 30),
    ("P-COACH", "subscription", 9900, None, 30),
    ("P-PLAN3", "payment_plan", 33300, 3, 30),
    ("P-PLAN6", "payment_plan", 16650, 6, 30),
]
SOFT = ["insufficient_funds", "do_not_honor", "try_again_later", "card_velocity_exceeded"]
HARD = ["stolen_card", "lost_card", "pickup_card", "fraudulent", "invalid_account", "do_not_honor_permanently"]
ERRORS = ["gateway_timeout", "api_error"]
START = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Scenario:
    customers: pd.DataFrame
    products: pd.DataFrame
    subscriptions: pd.DataFrame
    orders: pd.DataFrame
    payment_attempts: pd.DataFrame
    truth: pd.DataFrame  # order_id, person_id, purchase_id, role (initial orders only)
    start: datetime
    days: int

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "customers": self.customers,
            "products": self.products,
            "subscriptions": self.subscriptions,
            "orders": self.orders,
            "payment_attempts": self.payment_attempts,
        }


def _typo(rng: random.Random, word: str) -> str:
    pos = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:pos] + word[pos + 1] + word[pos] + word[pos + 2:]
    if kind == 1:
        return word[:pos] + word[pos + 1:]
    return word[:pos] + word[pos] + word[pos:]


def _email_variant(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    kind = rng.randrange(4)
    if kind == 0:
        return f"{local}+{rng.choice(['shop', 'orders', '2'])}@{domain}"
    if kind == 1:
        return email.upper()
    if kind == 2 and domain == "gmail.com":
        return f"{local[:2]}.{local[2:]}@{domain}"
    return f"{local.capitalize()}@{domain.upper()}"


class _Builder:
    def __init__(self, seed: int, days: int) -> None:
        self.rng = random.Random(seed)
        self.days = days
        self.customers: list[dict] = []
        self.subscriptions: list[dict] = []
        self.orders: list[dict] = []
        self.attempts: list[dict] = []
        self.truth: list[dict] = []
        self.persons: list[dict] = []

    # ---- people ---------------------------------------------------------------------------------------
    def person(self, first: str, last: str, card: str | None = None, phone: str | None = None) -> dict:
        n = len(self.persons) + 1
        rng = self.rng
        local = f"{first}.{last}{n}".lower() if rng.random() < 0.5 else f"{first[0]}{last}{n}".lower()
        p = {
            "person_id": f"PER-{n:05d}",
            "first": first,
            "last": last,
            "email": f"{local}@{rng.choice(DOMAINS)}",
            "phone": phone if phone is not None else (f"+1-{rng.randint(201, 989)}-555-{n:04d}" if rng.random() < 0.85 else None),
            "card": card or f"fp_{n:05d}",
            "records": [],
        }
        self.persons.append(p)
        return p

    def record(self, p: dict, at: datetime, noisy: bool) -> str:
        """The customer record this attempt was made under: the person's own, or a new noisy one."""
        rng = self.rng
        if p["records"] and not noisy:
            return p["records"][0]
        first, last, email, phone = p["first"], p["last"], p["email"], p["phone"]
        if p["records"]:
            email = _email_variant(rng, email)
            roll = rng.random()
            if roll < 0.35:
                first = _typo(rng, first) if len(first) > 3 else first
            elif roll < 0.6:
                last = _typo(rng, last) if len(last) > 3 else last
            elif roll < 0.7:
                first, last = first.lower(), last.upper()
            if phone and rng.random() < 0.4:
                phone = phone.replace("-", " ")
            elif rng.random() < 0.3:
                phone = None
        cid = f"CUS-{len(self.customers) + 1:06d}"
        created = at - timedelta(minutes=rng.randint(1, 600))
        self.customers.append({
            "customer_id": cid, "first_name": first, "last_name": last, "email": email, "phone": phone,
            "created_at": created, "updated_at": created,
        })
        p["records"].append(cid)
        return cid

    # ---- orders ---------------------------------------------------------------------------------------
    def order(self, p: dict, product: tuple, at: datetime, origin: str, outcome: str, noisy: bool,
              purchase_id: str | None, role: str | None, auto_charge: bool | None = None,
              set_by: str | None = None, installment_no: int = 1, subscription_id: str | None = None,
              card: str | None = None) -> str:
        rng = self.rng
        oid = f"ORD-{len(self.orders) + 1:07d}"
        cid = self.record(p, at, noisy) if installment_no == 1 else p["records"][0]
        pid, kind, price, _inst, _interval = product
        if kind != "one_time" and subscription_id is None:
            subscription_id = f"SUB-{len(self.subscriptions) + 1:06d}"
            self.subscriptions.append({
                "subscription_id": subscription_id, "customer_id": cid, "product_id": pid, "kind": kind,
                "origin": "manual" if origin == "manual" and rng.random() < 0.6 else "checkout",
                "status": "active" if outcome == "success" else "not_started",
                "created_at": at, "updated_at": at,
            })
        if auto_charge is None:
            if installment_no > 1:
                auto_charge, set_by = True, "system"
            elif origin == "api":
                auto_charge, set_by = rng.random() < 0.5, "api"
            elif origin == "action_set":
                auto_charge, set_by = rng.random() < 0.6, "action_set"
            else:
                auto_charge, set_by = outcome == "success", "system"
        status = {"success": "paid", "error": "error"}.get(outcome, "failed")
        self.orders.append({
            "order_id": oid, "customer_id": cid, "product_id": pid, "subscription_id": subscription_id,
            "installment_no": installment_no, "origin": origin, "auto_charge": auto_charge,
            "auto_charge_set_by": set_by, "status": status, "total_minor": price, "currency": "USD",
            "created_at": at, "updated_at": at + timedelta(seconds=30),
        })
        self.attempt(oid, 1, at + timedelta(seconds=rng.randint(2, 20)), outcome, card or p["card"], price)
        if installment_no == 1:
            self.truth.append({"order_id": oid, "person_id": p["person_id"], "purchase_id": purchase_id, "role": role})
        return oid

    def attempt(self, oid: str, n: int, at: datetime, outcome: str, card: str, amount: int) -> None:
        rng = self.rng
        status = {"success": "succeeded", "error": "error"}.get(outcome, "declined")
        decline = rng.choice(HARD) if outcome == "hard" else rng.choice(SOFT) if outcome == "soft" else None
        self.attempts.append({
            "attempt_id": f"{oid}-A{n}", "order_id": oid, "attempt_no": n, "attempted_at": at, "status": status,
            "decline_code": decline, "error_code": rng.choice(ERRORS) if outcome == "error" else None,
            "gateway": "stripe", "gateway_charge_id": f"ch_{oid}_{n}" if status == "succeeded" else None,
            "amount_minor": amount, "currency": "USD", "card_fingerprint": card, "card_brand": "visa",
            "card_last4": "4242", "updated_at": at + timedelta(seconds=1),
        })
        if status == "succeeded":
            for o in self.orders:
                if o["order_id"] == oid:
                    o["status"], o["updated_at"] = "paid", max(o["updated_at"], at + timedelta(seconds=1))

    def purchase(self, p: dict, product: tuple, begin: datetime) -> None:
        """Failed attempts, each a new order, then maybe a sale; sometimes a double submit."""
        rng = self.rng
        fails = rng.choices([0, 1, 2, 3], weights=[45, 30, 15, 10])[0]
        converts = rng.random() < (0.95 if fails == 0 else 0.75)
        at = begin
        pur = None
        origin = rng.choice(ORIGINS)
        for k in range(fails):
            outcome = rng.choices(["soft", "hard", "error"], weights=[75, 15, 10])[0]
            oid = self.order(p, product, at, origin, outcome, noisy=k > 0 and rng.random() < 0.35, purchase_id=pur,
                             role="failed_attempt")
            pur = pur or f"T-{oid}"
            self.truth[-1]["purchase_id"] = pur
            at += timedelta(minutes=rng.randint(5, 60 * 20))
            origin = rng.choice(ORIGINS) if rng.random() < 0.3 else origin
        if converts:
            sale = self.order(p, product, at, origin, "success", noisy=fails > 0 and rng.random() < 0.4,
                              purchase_id=pur, role="sale")
            pur = pur or f"T-{sale}"
            self.truth[-1]["purchase_id"] = pur
            if rng.random() < 0.04:
                self.order(p, product, at + timedelta(minutes=rng.randint(1, 10)), origin, "success", noisy=False,
                           purchase_id=pur, role="duplicate_sale")
            if product[1] != "one_time":
                self.installments(p, product, sale, at)

    def installments(self, p: dict, product: tuple, first_order: str, at: datetime) -> None:
        """A later installment of a running plan: not a purchase attempt, but R2 decides its retry."""
        rng = self.rng
        if rng.random() < 0.5:
            return
        sub = next(o["subscription_id"] for o in self.orders if o["order_id"] == first_order)
        outcome = rng.choices(["success", "soft", "hard", "error"], weights=[50, 30, 10, 10])[0]
        self.order(p, product, at + timedelta(days=rng.randint(1, 3)), rng.choice(ORIGINS), outcome, noisy=False,
                   purchase_id=None, role=None, installment_no=2, subscription_id=sub)


def build(seed: int = 11, persons: int = 400, days: int = 7) -> Scenario:
    """`persons` people over `days` days; about 1.6 orders per person."""
    b = _Builder(seed, days)
    rng = b.rng
    horizon = (days - 3) * 24 * 60
    for _ in range(persons):
        p = b.person(rng.choice(FIRST), rng.choice(LAST))
        if rng.random() < 0.15:  # a household member: same card, usually same surname and phone
            first = rng.choice([f for f in FIRST if f != p["first"]])
            last = p["last"] if rng.random() < 0.8 else rng.choice(LAST)
            mate = b.person(first, last, card=p["card"], phone=p["phone"] if rng.random() < 0.5 else None)
        else:
            mate = None
        if rng.random() < 0.1:  # a stranger with the very same name, nothing else shared
            b.person(p["first"], p["last"])
        wanted = rng.sample(PRODUCTS, k=rng.choice([1, 1, 2]))
        for product in wanted:
            b.purchase(p, product, START + timedelta(minutes=rng.randint(0, horizon)))
        if mate is not None:  # the housemate buys one of the same products, around the same time
            b.purchase(mate, wanted[0], START + timedelta(minutes=rng.randint(0, horizon)))
    for stranger in [q for q in b.persons if not q["records"]]:
        b.purchase(stranger, rng.choice(PRODUCTS), START + timedelta(minutes=rng.randint(0, horizon)))
    _retry_after_rebuy(b, horizon)
    _switch_back(b)
    return _finish(b, days)


def _retry_after_rebuy(b: _Builder, horizon: int) -> None:
    """An action-set order with auto-charge Yes fails, the customer buys again, then the old order's
    automatic retry also succeeds: charged twice for one purchase."""
    rng = b.rng
    for _ in range(6):
        p = b.person(rng.choice(FIRST), rng.choice(LAST))
        product = PRODUCTS[rng.randrange(3)]
        at = START + timedelta(minutes=rng.randint(0, max(0, horizon - 1500)))
        failed = b.order(p, product, at, "action_set", "soft", noisy=False, purchase_id=None,
                         role="duplicate_sale", auto_charge=True, set_by="action_set")
        pur = f"T-{failed}"
        b.truth[-1]["purchase_id"] = pur
        b.order(p, product, at + timedelta(hours=2), "shopping_cart", "success", noisy=False, purchase_id=pur,
                role="sale")
        b.attempt(failed, 2, at + timedelta(days=1), "success", p["card"], product[2])


def _switch_back(b: _Builder) -> None:
    """R7: a person switches some failed payment-plan orders back to auto-charge Yes a few hours later."""
    rng = b.rng
    for o in b.orders:
        if (o["installment_no"] == 1 and o["status"] != "paid" and o["product_id"].startswith("P-PLAN")
                and o["origin"] in ORIGINS[:5] and rng.random() < 0.4):
            o["auto_charge"], o["auto_charge_set_by"] = True, rng.choice(["user:jane", "user:omar"])
            o["updated_at"] = o["created_at"] + timedelta(hours=rng.randint(1, 20))


def _finish(b: _Builder, days: int) -> Scenario:
    products = pd.DataFrame(
        [
            {"product_id": pid, "name": pid.title(), "kind": kind, "price_minor": price, "currency": "USD",
             "installments": inst, "interval_days": interval, "updated_at": START - timedelta(days=30)}
            for pid, kind, price, inst, interval in PRODUCTS
        ]
    )
    orders = pd.DataFrame(b.orders)
    orders["installments"] = None
    return Scenario(
        customers=pd.DataFrame(b.customers),
        products=products,
        subscriptions=pd.DataFrame(b.subscriptions),
        orders=orders.drop(columns=["installments"]),
        payment_attempts=pd.DataFrame(b.attempts),
        truth=pd.DataFrame(b.truth),
        start=START,
        days=days,
    )


def load(engine, scenario: Scenario) -> None:  # noqa: ANN001 - a SQLAlchemy Engine
    """Write the scenario's commerce tables into a migrated warehouse, as the commerce pull would."""
    from payrecon.warehouse.bulk import insert_frame

    with engine.begin() as conn:
        for name, frame in scenario.tables().items():
            insert_frame(conn, name, frame)


def day_windows(scenario: Scenario) -> list:
    """The scenario's days as windows, oldest first."""
    from payrecon.settings import Window

    return [Window(scenario.start + timedelta(days=i), scenario.start + timedelta(days=i + 1)) for i in range(scenario.days)]
