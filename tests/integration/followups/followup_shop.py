"""Follow-up test helpers: a tiny hand-made shop, a real SMTP server (aiosmtpd), outbox readers.

The shop is written straight into the warehouse tables the follow-ups read (the commerce copies and
the R8 tables `purchases` / `attempt_links`), so each test states exactly the events it is about.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pandas as pd
import sqlalchemy as sa

from payrecon.warehouse.bulk import insert_frame

D0 = datetime(2026, 11, 2, tzinfo=UTC)  # the window under test: [D0, D0 + 1 day)
D1 = D0 + timedelta(days=1)


def at(hours: float, day: datetime = D0) -> datetime:
    return day + timedelta(hours=hours)


@dataclass
class Shop:
    """Rows to load, with defaults that make a valid row from a few words."""

    customers: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    attempts: list[dict] = field(default_factory=list)
    purchases: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    course_started: list[dict] = field(default_factory=list)
    settlement_lines: list[dict] = field(default_factory=list)

    def customer(self, customer_id: str, first: str, last: str, created_at: datetime, email: str | None = None,
                 phone: str | None = "+15550001") -> str:
        self.customers.append({
            "customer_id": customer_id, "first_name": first, "last_name": last,
            "email": email if email is not None else f"{first.lower()}.{last.lower()}@example.com",
            "phone": phone, "created_at": created_at, "updated_at": created_at,
        })
        return customer_id

    def product(self, product_id: str, name: str, kind: str = "one_time", price: int = 2900,
                currency: str = "USD") -> str:
        self.products.append({
            "product_id": product_id, "name": name, "kind": kind, "price_minor": price, "currency": currency,
            "installments": None, "interval_days": 30 if kind != "one_time" else None, "updated_at": D0 - timedelta(days=60),
        })
        return product_id

    def order(self, order_id: str, customer_id: str, product_id: str, created_at: datetime, status: str,
              origin: str = "shopping_cart", installment_no: int = 1, subscription_id: str | None = None,
              total: int = 2900, currency: str = "USD", updated_at: datetime | None = None) -> str:
        self.orders.append({
            "order_id": order_id, "customer_id": customer_id, "product_id": product_id,
            "subscription_id": subscription_id, "installment_no": installment_no, "origin": origin,
            "auto_charge": False, "auto_charge_set_by": "system", "status": status, "total_minor": total,
            "currency": currency, "created_at": created_at, "updated_at": updated_at or created_at,
        })
        return order_id

    def attempt(self, order_id: str, attempted_at: datetime, status: str, charge_id: str | None = None,
                decline_code: str | None = None, error_code: str | None = None, amount: int = 2900) -> None:
        n = sum(1 for a in self.attempts if a["order_id"] == order_id) + 1
        self.attempts.append({
            "attempt_id": f"att-{order_id}-{n}", "order_id": order_id, "attempt_no": n,
            "attempted_at": attempted_at, "status": status,
            "decline_code": decline_code or ("insufficient_funds" if status == "declined" else None),
            "error_code": error_code or ("gateway_timeout" if status == "error" else None),
            "gateway": "stripe", "gateway_charge_id": charge_id or (f"ch_{order_id}_{n}" if status == "succeeded" else None),
            "amount_minor": amount, "currency": "USD", "card_fingerprint": "fp", "card_brand": "visa",
            "card_last4": "4242", "updated_at": attempted_at,
        })

    def purchase(self, purchase_id: str, person_id: str, product_id: str, orders: list[tuple[str, str, str]],
                 converted: tuple[str, datetime] | None = None) -> None:
        """`orders`: (order_id, customer_id, role)."""
        first_at = min(o["created_at"] for o in self.orders if o["order_id"] in {x[0] for x in orders})
        self.purchases.append({
            "purchase_id": purchase_id, "person_id": person_id, "product_id": product_id,
            "first_attempt_at": first_at, "converted_order_id": converted[0] if converted else None,
            "converted_at": converted[1] if converted else None,
            "failed_attempts": sum(1 for _, _, role in orders if role == "failed_attempt"),
            "orders": len(orders), "duplicate_sales": sum(1 for _, _, r in orders if r == "duplicate_sale"),
            "status": "converted" if converted else "open", "as_of": D1,
        })
        for order_id, customer_id, role in orders:
            self.links.append({
                "order_id": order_id, "purchase_id": purchase_id, "person_id": person_id,
                "customer_id": customer_id, "role": role,
                "linked_order_id": converted[0] if converted and role != "sale" else None,
                "score": 1.0, "reason": "test", "created_at": D1,
            })

    def started(self, event_id: str, customer_id: str, product_id: str, started_at: datetime) -> None:
        self.course_started.append({
            "event_id": event_id, "customer_id": customer_id, "product_id": product_id, "order_id": None,
            "started_at": started_at, "received_at": started_at,
        })

    def load(self, engine: sa.Engine) -> None:
        tables = {
            "customers": self.customers, "products": self.products, "orders": self.orders,
            "payment_attempts": self.attempts, "purchases": self.purchases, "attempt_links": self.links,
            "course_started": self.course_started, "settlement_lines": self.settlement_lines,
        }
        with engine.begin() as conn:
            for table, rows in tables.items():
                if rows:
                    insert_frame(conn, table, pd.DataFrame(rows))
        self.customers, self.products, self.orders, self.attempts = [], [], [], []
        self.purchases, self.links, self.course_started, self.settlement_lines = [], [], [], []


def standard_shop() -> Shop:
    """One window of events, each a different follow-up path (see the comments)."""
    shop = Shop()
    shop.product("P-1001", "Online course: Bookkeeping Basics", price=19900)
    shop.product("P-1002", "E-book: Cash Flow for Freelancers")
    shop.product("P-2001", "Membership (monthly)", kind="subscription")
    shop.product("P-3001", "Mastermind (6 payments)", kind="payment_plan")
    # new contact, successful purchase: contact creation + welcome + CRM prospect->customer
    shop.customer("C-ann", "Ann", "Lee", at(9.9))
    shop.order("O-ann", "C-ann", "P-1002", at(10), "paid")
    shop.attempt("O-ann", at(10.01), "succeeded")
    # known customer, card declined, no retry: apology (delayed 30 min) + support task
    shop.customer("C-bob", "Bob", "Stone", D0 - timedelta(days=300))
    shop.order("O-bob", "C-bob", "P-1002", at(11), "failed")
    shop.attempt("O-bob", at(11.01), "declined")
    shop.purchase("PU-bob", "PER-bob", "P-1002", [("O-bob", "C-bob", "failed_attempt")])
    # declined, then paid 10 minutes later with a new order: everything for the failure is cancelled
    shop.customer("C-cy", "Cy", "Park", D0 - timedelta(days=100))
    shop.order("O-cy1", "C-cy", "P-1002", at(12), "failed")
    shop.attempt("O-cy1", at(12.01), "declined")
    shop.order("O-cy2", "C-cy", "P-1002", at(12.2), "paid")
    shop.attempt("O-cy2", at(12.21), "succeeded")
    shop.purchase("PU-cy", "PER-cy", "P-1002", [("O-cy1", "C-cy", "failed_attempt"), ("O-cy2", "C-cy", "sale")],
                  converted=("O-cy2", at(12.21)))
    # a subscription's 3rd installment declined: defaults + the R11 payment-failure workflow
    shop.customer("C-dee", "Dee", "Ray", D0 - timedelta(days=90))
    shop.order("O-dee", "C-dee", "P-2001", at(13), "failed", installment_no=3, subscription_id="S-dee")
    shop.attempt("O-dee", at(13.01), "declined")
    # a gateway error (not a card failure): the team investigates
    shop.customer("C-eli", "Eli", "Moss", D0 - timedelta(days=50))
    shop.order("O-eli", "C-eli", "P-1002", at(14), "error")
    shop.attempt("O-eli", at(14.01), "error")
    # an offline order after a decline (R12): finance follow-up task, not revenue
    shop.customer("C-fay", "Fay", "Hart", D0 - timedelta(days=20))
    shop.order("O-fay", "C-fay", "P-1002", at(15), "offline")
    # a course checkout (R13): post-checkout journey; the product set replaces the default welcome
    shop.customer("C-gus", "Gus", "Nye", at(15.9))
    shop.order("O-gus", "C-gus", "P-1001", at(16), "paid", total=19900)
    shop.attempt("O-gus", at(16.01), "succeeded", amount=19900)
    # a legacy order form failure on a product with its own set: nothing unless the merchant enabled it
    shop.customer("C-hal", "Hal", "Wu", D0 - timedelta(days=10))
    shop.order("O-hal", "C-hal", "P-3001", at(17), "failed", origin="legacy_order_form",
               subscription_id="S-hal")
    shop.attempt("O-hal", at(17.01), "declined")
    # a campaign "Create order" failure: purchase actions do not run for it
    shop.customer("C-ivy", "Ivy", "Cole", D0 - timedelta(days=5))
    shop.order("O-ivy", "C-ivy", "P-1002", at(18), "failed", origin="campaign")
    shop.attempt("O-ivy", at(18.01), "declined")
    return shop


# --- a real SMTP server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """What arrived at the SMTP server, in order; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Any] = []
        self.reject: set[str] = set()  # recipients answered with 550

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        if address in self.reject:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        with self.lock:
            self.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def ids(self) -> Counter:
        with self.lock:
            return Counter(m["Message-ID"] for m in self.messages)

    def to(self, address: str) -> list[Any]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self):  # noqa: ANN201
        from payrecon.followups.channels.email import SmtpSettings

        return SmtpSettings(host="127.0.0.1", port=self.port, timeout=5)


def outbox_frame(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text("select * from followup_outbox order by idempotency_key"), conn)


def bulk_shop(n: int) -> Shop:
    """`n` new buyers, each one successful purchase in the window under test."""
    shop = Shop()
    shop.product("P-1002", "E-book: Cash Flow for Freelancers")
    for i in range(n):
        customer = shop.customer(f"C-{i:04d}", f"Buyer{i:04d}", "Bulk", D0 - timedelta(days=30))
        shop.order(f"O-{i:04d}", customer, "P-1002", at(1 + i * 20 / n), "paid")
        shop.attempt(f"O-{i:04d}", at(1 + i * 20 / n + 0.01), "succeeded")
    return shop


def welcome_only(config: Any, **delivery: Any) -> Any:
    """The config with one action left (the welcome email on a successful purchase)."""
    sets = config.action_sets.model_copy(update={
        "defaults": config.action_sets.defaults.model_copy(
            update={"contact_creation": [], "successful_purchase": ["welcome_email"]}
        ),
    })
    return config.model_copy(update={
        "action_sets": sets, "journeys": {}, "delivery": config.delivery.model_copy(update=delivery),
    })
