"""R12: a pending, cancellable follow-up is cancelled once the customer has paid, for each reason the
outbox knows (a successful charge, an order approved by hand, the purchase converted, a later order
linked to a converted purchase), and never otherwise: not before the payment, not a row that is not
cancellable, not one being sent, not one already decided."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from payrecon.warehouse import sql

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=2)
LATER = NOW + timedelta(hours=2)

# outbox row -> (order, purchase, status, cancellable, cancelled by the step)
ROWS = {
    "charged": ("O-charged", None, "pending", True, True),
    "approved": ("O-approved", None, "pending", True, True),
    "converted": ("O-failed", "PU-converted", "pending", True, True),
    "linked": ("O-linked", None, "pending", True, True),
    "charged_later": ("O-charged-later", None, "pending", True, False),  # the charge is after :now
    "converted_later": ("O-failed2", "PU-converted-later", "pending", True, False),
    "not_cancellable": ("O-charged", None, "pending", False, False),  # a success email
    "sending": ("O-charged", None, "sending", True, False),  # being sent right now: left to finish
    "sent": ("O-charged", None, "sent", True, False),
    "unpaid": ("O-unpaid", "PU-open", "pending", True, False),
    "no_order": (None, "PU-converted", "pending", True, False),  # a team task without an order
}


def _key(name: str) -> str:
    return f"failed_purchase:{name}:apology_email"


def _load(conn: sa.Connection) -> None:
    def insert(table: str, rows: list[dict]) -> None:
        cols = list(rows[0])
        conn.execute(sa.text(f"insert into {table} ({', '.join(cols)}) values ({', '.join(':' + c for c in cols)})"),
                     rows)

    orders = ["O-charged", "O-approved", "O-failed", "O-linked", "O-charged-later", "O-failed2", "O-unpaid"]
    insert("orders", [{
        "order_id": o, "customer_id": "C-1", "product_id": "P-1", "installment_no": 1, "origin": "order_form",
        "auto_charge": False, "status": "approved_m" if o == "O-approved" else "failed", "total_minor": 1000,
        "currency": "USD", "created_at": EARLIER, "updated_at": EARLIER} for o in orders])
    attempt = {"attempt_no": 1, "gateway": "stripe", "amount_minor": 1000, "currency": "USD", "updated_at": EARLIER}
    insert("payment_attempts", [
        {**attempt, "attempt_id": "A-1", "order_id": "O-charged", "attempted_at": EARLIER, "status": "succeeded"},
        {**attempt, "attempt_id": "A-2", "order_id": "O-charged-later", "attempted_at": LATER, "status": "succeeded"},
        {**attempt, "attempt_id": "A-3", "order_id": "O-unpaid", "attempted_at": EARLIER, "status": "declined"},
    ])
    purchase = {"person_id": "PER-1", "product_id": "P-1", "first_attempt_at": EARLIER, "failed_attempts": 1,
                "orders": 2, "duplicate_sales": 0, "as_of": NOW}
    insert("purchases", [
        {**purchase, "purchase_id": "PU-converted", "status": "converted", "converted_at": EARLIER},
        {**purchase, "purchase_id": "PU-converted-later", "status": "converted", "converted_at": LATER},
        {**purchase, "purchase_id": "PU-open", "status": "open", "converted_at": None},
    ])
    insert("attempt_links", [{
        "order_id": "O-linked", "purchase_id": "PU-converted", "person_id": "PER-1", "customer_id": "C-1",
        "role": "failed_attempt", "score": 1, "reason": "test", "created_at": EARLIER}])
    insert("followup_outbox", [{
        "outbox_id": hashlib.md5(_key(name).encode()).hexdigest(), "idempotency_key": _key(name), "event_kind": "failed_purchase",
        "event_at": EARLIER, "subject_ref": name, "order_id": order, "purchase_id": purchase_id,
        "action_id": "apology_email", "channel": "email", "cancellable": cancellable, "status": status,
        "attempts": 0, "next_attempt_at": EARLIER, "planned_at": EARLIER,
    } for name, (order, purchase_id, status, cancellable, _) in ROWS.items()])


def test_r12_paid_follow_ups_are_cancelled_for_every_reason_and_only_then(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        _load(conn)
        cancelled = sql.run(conn, "marts/outbox_cancel_paid", now=NOW)
        rows = conn.execute(sa.text("select idempotency_key, status from followup_outbox")).all()
    statuses = {key.split(":")[1]: status for key, status in rows}
    with engine.begin() as conn:
        again = sql.run(conn, "marts/outbox_cancel_paid", now=NOW)
    expected = {name for name, row in ROWS.items() if row[4]}
    assert {name for name, status in statuses.items() if status == "cancelled"} == expected
    assert all(statuses[name] == ROWS[name][2] for name in ROWS if name not in expected)
    assert cancelled == len(expected)
    assert again == 0  # R15: a second run finds nothing left to cancel
