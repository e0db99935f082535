"""R12: an offline order is not revenue, gets a follow-up task, ages, and counts once approved by hand."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import sqlalchemy as sa
from followup_shop import D0, D1, Shop, at, outbox_frame

from payrecon.followups.planner import plan
from payrecon.settings import Window


def _offline(engine: sa.Engine) -> dict:
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text("select * from offline_orders where order_id = 'O-fay'"), conn)
    return frame.iloc[0].to_dict()


def test_r12_offline_order_ages_then_is_tied_to_its_manual_settlement(engine, config) -> None:
    shop = Shop()
    shop.product("P-1002", "E-book: Cash Flow for Freelancers")
    shop.customer("C-fay", "Fay", "Hart", D0 - timedelta(days=20))
    shop.order("O-fay", "C-fay", "P-1002", at(15), "offline")
    shop.load(engine)
    plan(engine, config, [Window(D0, D1)], now=D1)
    row = _offline(engine)
    assert (row["state"], bool(row["is_revenue"]), row["age_days"]) == ("awaiting_manual_processing", False, 1)
    assert row["followup_status"] == "pending"  # the finance task is queued
    plan(engine, config, [Window(D1, D1 + timedelta(days=1)), Window(D1 + timedelta(days=1), D1 + timedelta(days=2))],
         now=D1)
    assert _offline(engine)["age_days"] == 3  # it ages while nobody processes it

    # day 4: finance keys the card into the virtual terminal; the pull brings status "Approved M" and the
    # manual charge; the gateway's settlement file carries the charge
    day4 = D1 + timedelta(days=2)
    with engine.begin() as conn:
        conn.execute(sa.text("update orders set status = 'approved_m', updated_at = :t where order_id = 'O-fay'"),
                     {"t": day4 + timedelta(hours=9)})
    shop.attempt("O-fay", day4 + timedelta(hours=9), "succeeded", charge_id="ch_manual_fay")
    shop.settlement_lines.append({
        "line_id": "f9:1", "file_id": "f9", "line_no": 1, "gateway": "stripe", "window_start": day4,
        "source_ref": "txn_9", "line_type": "charge", "charge_id": "ch_manual_fay", "order_ref": None,
        "occurred_at": day4 + timedelta(hours=9), "available_on": None, "currency": "USD", "gross_minor": 2900,
        "fee_minor": 114, "net_minor": 2786, "presentment_minor": None, "presentment_currency": None,
        "exchange_rate": None, "payout_id": None, "description": None,
    })
    shop.load(engine)
    plan(engine, config, [Window(day4, day4 + timedelta(days=1))], now=day4 + timedelta(days=1))
    row = _offline(engine)
    assert (row["status"], row["state"], bool(row["is_revenue"])) == ("approved_m", "approved_settled", True)
    assert (row["charge_id"], row["settlement_line_id"], row["settled_minor"]) == ("ch_manual_fay", "f9:1", 2900)
    assert pd.Timestamp(row["counted_from"]) == pd.Timestamp(day4 + timedelta(hours=9))
    assert row["age_days"] == 3  # days it took to process
    task = outbox_frame(engine).set_index("idempotency_key").loc["offline_order:order:O-fay:offline_followup_task"]
    assert (task["status"], task["last_error"]) == ("cancelled", "customer paid")  # it was never dispatched
    # re-running an earlier window does not turn the clock back (R15)
    plan(engine, config, [Window(D0, D1)], now=D1)
    assert _offline(engine)["state"] == "approved_settled"
