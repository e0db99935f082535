"""R14/R15 on hand-made rows: every state, on DuckDB and PostgreSQL, and a re-run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from payrecon.reconciliation.reconcile import reconcile
from payrecon.settings import ReconSettings, Window
from payrecon.warehouse.bulk import insert_frame

D1 = datetime(2026, 11, 1, tzinfo=UTC)
D2 = D1 + timedelta(days=1)
D5 = D1 + timedelta(days=4)


def _order(order_id: str, at: datetime, status: str = "paid", total: int = 1000, currency: str = "USD") -> dict:
    return {
        "order_id": order_id, "customer_id": "c1", "product_id": "p1", "subscription_id": None,
        "installment_no": 1, "origin": "shopping_cart", "auto_charge": False, "auto_charge_set_by": "system",
        "status": status, "total_minor": total, "currency": currency, "created_at": at, "updated_at": at,
    }


def _attempt(order_id: str, at: datetime, charge: str | None, status: str = "succeeded",
             amount: int = 1000, currency: str = "USD") -> dict:
    return {
        "attempt_id": f"a-{order_id}-{charge}", "order_id": order_id, "attempt_no": 1, "attempted_at": at,
        "status": status, "decline_code": None if status == "succeeded" else "insufficient_funds",
        "error_code": None, "gateway": "gw", "gateway_charge_id": charge, "amount_minor": amount,
        "currency": currency, "card_fingerprint": "fp", "card_brand": "visa", "card_last4": "4242",
        "updated_at": at,
    }


def _line(n: int, window: datetime, line_type: str, charge: str | None, gross: int = 1000,
          currency: str = "USD", presentment: tuple[int, str] | None = None) -> dict:
    return {
        "line_id": f"f{window.day}:{n}", "file_id": f"f{window.day}", "line_no": n, "gateway": "gw",
        "window_start": window, "source_ref": f"txn_{window.day}_{n}", "line_type": line_type,
        "charge_id": charge, "order_ref": None, "occurred_at": window + timedelta(hours=1),
        "available_on": None, "currency": currency, "gross_minor": gross, "fee_minor": 59,
        "net_minor": gross - 59, "presentment_minor": presentment[0] if presentment else None,
        "presentment_currency": presentment[1] if presentment else None, "exchange_rate": None,
        "payout_id": None, "description": None,
    }


def _load(engine: sa.Engine) -> None:
    t = D1 + timedelta(hours=10)
    orders = [
        _order("o_match", t), _order("o_amount", t), _order("o_currency", t), _order("o_late", t),
        _order("o_never", t), _order("o_failed", t, status="failed"), _order("o_offline", t, status="offline"),
        _order("o_fx", t, total=900, currency="EUR"), _order("o_twice", t),
    ]
    attempts = [
        _attempt("o_match", t, "ch_match"), _attempt("o_amount", t, "ch_amount"),
        _attempt("o_currency", t, "ch_currency"), _attempt("o_late", t, "ch_late"),
        _attempt("o_never", t, "ch_never"), _attempt("o_failed", t, None, status="declined"),
        _attempt("o_fx", t, "ch_fx", amount=900, currency="EUR"),
        _attempt("o_twice", t, "ch_twice_1"), _attempt("o_twice", t + timedelta(minutes=5), "ch_twice_2"),
    ]
    lines = [
        _line(1, D1, "charge", "ch_match"),
        _line(2, D1, "charge", "ch_amount", gross=1001),
        _line(3, D1, "charge", "ch_currency", currency="GBP"),
        _line(4, D1, "charge", "ch_ghost"),
        _line(5, D1, "charge", "ch_fx", gross=1050, presentment=(900, "EUR")),
        _line(6, D1, "charge", "ch_twice_1"),
        _line(7, D1, "charge", "ch_twice_2"),
        _line(8, D1, "refund", "ch_match", gross=-1000),
        _line(9, D1, "chargeback", "ch_amount", gross=-1001),
        _line(10, D1, "fee", None, gross=-25),
        _line(1, D2, "charge", "ch_late"),
        _line(2, D2, "charge", "ch_match"),
        _line(3, D2, "payout", None, gross=-5000),
    ]
    with engine.begin() as conn:
        insert_frame(conn, "orders", pd.DataFrame(orders))
        insert_frame(conn, "payment_attempts", pd.DataFrame(attempts))
        insert_frame(conn, "settlement_lines", pd.DataFrame(lines))


def _states(engine: sa.Engine, item_type: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select item_id, state from reconciliation_results where item_type = :t"), {"t": item_type}
        )
        return dict(rows.all())


def _snapshot(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("select * from reconciliation_results order by item_type, item_id")
        ).all() + conn.execute(sa.text("select * from reconciliation_windows order by window_start")).all()


def test_r14_every_state_on_both_engines(engine: sa.Engine) -> None:
    _load(engine)
    days = [Window(D1 + timedelta(days=i), D1 + timedelta(days=i + 1)) for i in range(5)]
    reconcile(engine, days, ReconSettings(settlement_grace_days=3))

    assert _states(engine, "settlement_line") == {
        "f1:1": "matched", "f1:2": "amount_mismatch", "f1:3": "currency_mismatch",
        "f1:4": "settled_without_order", "f1:5": "matched", "f1:6": "matched", "f1:7": "duplicate",
        "f1:8": "refund", "f1:9": "chargeback", "f1:10": "fee",
        "f2:1": "matched", "f2:2": "duplicate", "f2:3": "payout",
    }
    assert _states(engine, "order") == {
        "o_match": "matched", "o_amount": "amount_mismatch", "o_currency": "currency_mismatch",
        "o_late": "matched", "o_never": "order_without_settlement", "o_failed": "failed_attempt",
        "o_offline": "offline", "o_fx": "matched", "o_twice": "matched",
    }


def test_r14_unsettled_order_is_pending_inside_grace(engine: sa.Engine) -> None:
    _load(engine)
    reconcile(engine, [Window(D1, D2)], ReconSettings(settlement_grace_days=3))
    states = _states(engine, "order")
    assert states["o_late"] == "pending"
    assert states["o_never"] == "pending"


def test_r15_rerun_and_out_of_order_backfill_change_nothing(engine: sa.Engine) -> None:
    _load(engine)
    days = [Window(D1 + timedelta(days=i), D1 + timedelta(days=i + 1)) for i in range(5)]
    recon = ReconSettings(settlement_grace_days=3)
    reconcile(engine, days, recon)
    first = _snapshot(engine)
    reconcile(engine, days, recon)
    assert _snapshot(engine) == first
    reconcile(engine, [days[0]], recon)
    reconcile(engine, list(reversed(days)), recon)
    assert _snapshot(engine) == first


def test_r14_second_charge_is_the_duplicate_whichever_line_arrives_first(engine: sa.Engine) -> None:
    # charged twice; the second charge settles on T+0, the first on T+1 (the generator's double charge)
    t = D1 + timedelta(hours=10)
    with engine.begin() as conn:
        insert_frame(conn, "orders", pd.DataFrame([_order("o_twice", t)]))
        insert_frame(conn, "payment_attempts", pd.DataFrame([
            _attempt("o_twice", t, "ch_first"), _attempt("o_twice", t + timedelta(minutes=5), "ch_second"),
        ]))
        insert_frame(conn, "settlement_lines", pd.DataFrame([
            _line(1, D1, "charge", "ch_second"), _line(1, D2, "charge", "ch_first"),
        ]))
    recon = ReconSettings(settlement_grace_days=3)
    reconcile(engine, [Window(D1, D2)], recon)
    assert _states(engine, "settlement_line") == {"f1:1": "duplicate"}
    assert _states(engine, "order") == {"o_twice": "pending"}  # its own (first) charge has not settled yet
    reconcile(engine, [Window(D2, D2 + timedelta(days=1))], recon)
    assert _states(engine, "settlement_line") == {"f1:1": "duplicate", "f2:1": "matched"}
    assert _states(engine, "order") == {"o_twice": "matched"}
    first = _snapshot(engine)
    reconcile(engine, [Window(D1, D2)], recon)  # R15: re-running the first window changes nothing
    assert _snapshot(engine) == first
