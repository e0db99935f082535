"""R1-R7, one test each, on a generated merchant that covers every order origin (see conftest)."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import sqlalchemy as sa

from payrecon.rules.decide import decide
from payrecon.rules.settings import HARD_DECLINE_CODES, RuleSettings
from payrecon.settings import Window
from payrecon.warehouse.bulk import insert_frame

R1_ORIGINS = {"shopping_cart", "order_form", "legacy_order_form", "manual", "campaign"}
PEOPLE = ("user:jane", "user:omar")


def _failed_initials(decided) -> pd.DataFrame:
    """Initial orders whose first attempt failed, straight from the generated source tables."""
    s = decided.scenario
    first = s.payment_attempts[s.payment_attempts["attempt_no"] == 1]
    failed = first.loc[first["status"] != "succeeded", "order_id"]
    orders = s.orders[(s.orders["installment_no"] == 1) & s.orders["order_id"].isin(failed)]
    return orders.merge(s.subscriptions[["subscription_id", "origin"]].rename(columns={"origin": "sub_origin"}),
                        on="subscription_id", how="left")


def _retry_ids(decided) -> set[str]:
    return set(decided.frame("select order_id from retry_list")["order_id"])


def test_r1_failed_initial_orders_are_tagged_auto_charge_no_and_never_retried(decided) -> None:
    failed = _failed_initials(decided)
    r1 = failed[failed["origin"].isin(R1_ORIGINS) & ~failed["auto_charge_set_by"].isin(PEOPLE)]
    assert set(r1["origin"]) == R1_ORIGINS
    latest = decided.latest()
    rows = latest[(latest["aspect"] == "auto_charge") & latest["order_id"].isin(r1["order_id"])]
    assert len(rows) == len(r1)
    assert (rows["rule"] == "R1").all()
    assert (rows["tag"] == "failed_initial").all()
    assert (~rows["auto_charge"].astype(bool)).all()
    assert (~rows["retry_eligible"].astype(bool)).all()
    assert not (set(r1["order_id"]) & _retry_ids(decided))
    inputs = json.loads(rows["inputs"].iloc[0])
    assert inputs["attempt_kind"] == "initial" and inputs["first_attempt_failed"] is True


def test_r2_failed_subsequent_payments_follow_auto_charge_hard_declines_and_card_cap(
    decided, decided_auto_charge_off
) -> None:
    latest = decided.latest()
    r2 = latest[latest["rule"] == "R2"]
    assert not r2.empty and (r2["attempt_kind"] == "subsequent").all()
    retried = r2[r2["result"] == "retry"]
    assert not retried.empty
    assert set(retried["order_id"]) <= _retry_ids(decided)
    hard = r2[r2["inputs"].map(lambda j: json.loads(j)["decline_code"] in HARD_DECLINE_CODES)]
    assert not hard.empty and set(hard["result"]) == {"not_retried_hard_decline"}
    assert not (set(hard["order_id"]) & _retry_ids(decided))
    # Auto Charge No: the same failures are decided, none is queued
    off = decided_auto_charge_off.latest()
    off_r2 = off[off["rule"] == "R2"]
    assert set(off_r2["order_id"]) == set(r2["order_id"])
    assert "retry" not in set(off_r2["result"])
    assert decided_auto_charge_off.frame("select count(*) as n from retry_list where rule = 'R2'")["n"][0] == 0


def test_r2_card_cap_limits_retries_per_card_in_30_days(engine: sa.Engine) -> None:
    """Six failed installments on one card with a cap of 4 and one decline each: the budget is gone."""
    d = Window(pd.Timestamp("2026-11-01", tz="UTC").to_pydatetime(), pd.Timestamp("2026-11-02", tz="UTC").to_pydatetime())
    t = d.start + timedelta(hours=3)
    orders = pd.DataFrame([
        {"order_id": f"o{i}", "customer_id": "c1", "product_id": "p", "subscription_id": None, "installment_no": 2,
         "origin": "shopping_cart", "auto_charge": True, "auto_charge_set_by": "system", "status": "failed",
         "total_minor": 1500, "currency": "USD", "created_at": t, "updated_at": t} for i in range(6)
    ] + [
        {"order_id": "other", "customer_id": "c2", "product_id": "p", "subscription_id": None, "installment_no": 3,
         "origin": "api", "auto_charge": True, "auto_charge_set_by": "system", "status": "failed",
         "total_minor": 1500, "currency": "USD", "created_at": t, "updated_at": t}
    ])
    attempts = pd.DataFrame([
        {"attempt_id": f"a{i}", "order_id": oid, "attempt_no": 1, "attempted_at": t + timedelta(minutes=i),
         "status": "declined", "decline_code": "insufficient_funds", "error_code": None, "gateway": "gw",
         "gateway_charge_id": None, "amount_minor": 1500, "currency": "USD",
         "card_fingerprint": "fp_shared" if oid != "other" else "fp_other", "card_brand": "visa",
         "card_last4": "4242", "updated_at": t} for i, oid in enumerate(orders["order_id"])
    ])
    with engine.begin() as conn:
        insert_frame(conn, "orders", orders)
        insert_frame(conn, "payment_attempts", attempts)
    decide(engine, [d], RuleSettings(auto_charge=True, retry_cap_per_card_30d=8), "cap")
    with engine.connect() as conn:
        queued = {r[0] for r in conn.execute(sa.text("select order_id from retry_list"))}
        capped = {r[0] for r in conn.execute(sa.text(
            "select order_id from order_decisions where result = 'not_retried_card_cap'"))}
    # budget 8 - 6 declines = 2 slots on the shared card, oldest failures first; the other card is free
    assert queued == {"o0", "o1", "other"}
    assert capped == {"o2", "o3", "o4", "o5"}


def test_r3_no_subscription_and_no_installments_after_a_failed_first_payment(decided) -> None:
    failed = _failed_initials(decided)
    subs = failed[failed["subscription_id"].notna() & (failed["sub_origin"] != "manual")
                  & ~failed["auto_charge_set_by"].isin(PEOPLE)]
    assert not subs.empty
    latest = decided.latest()
    rows = latest[(latest["aspect"] == "subscription") & latest["order_id"].isin(subs["order_id"])]
    assert len(rows) == len(subs)
    assert set(rows["rule"]) == {"R3"}
    assert set(rows["result"]) == {"subscription_not_started"}
    assert (~rows["installments_expected"].astype(bool)).all()
    # the order record remains: every one of them is still in the decisions and in orders
    assert set(rows["order_id"]) <= set(decided.scenario.orders["order_id"])


def test_r4_api_orders_keep_the_flag_they_were_given(decided) -> None:
    failed = _failed_initials(decided)
    api = failed[failed["origin"] == "api"]
    assert set(api["auto_charge"]) == {True, False}
    latest = decided.latest()
    rows = latest[(latest["aspect"] == "auto_charge") & latest["order_id"].isin(api["order_id"])]
    merged = rows.merge(api[["order_id", "auto_charge"]], on="order_id", suffixes=("", "_given"))
    assert len(merged) == len(api)
    assert (merged["rule"] == "R4").all()
    assert (merged["auto_charge"].astype(bool) == merged["auto_charge_given"].astype(bool)).all()
    assert not (set(api["order_id"]) & _retry_ids(decided))


def test_r5_action_set_orders_keep_their_choice_and_yes_may_retry(decided) -> None:
    failed = _failed_initials(decided)
    aset = failed[failed["origin"] == "action_set"]
    latest = decided.latest()
    rows = latest[(latest["aspect"] == "auto_charge") & latest["order_id"].isin(aset["order_id"])]
    assert len(rows) == len(aset) and (rows["rule"] == "R5").all()
    merged = rows.merge(aset[["order_id", "auto_charge"]], on="order_id", suffixes=("", "_given"))
    assert (merged["auto_charge"].astype(bool) == merged["auto_charge_given"].astype(bool)).all()
    said_no = merged[~merged["auto_charge_given"].astype(bool)]
    assert set(said_no["result"]) == {"not_retried_action_set_said_no"}
    said_yes = merged[merged["auto_charge_given"].astype(bool)]
    assert "retry" in set(said_yes["result"])
    queued = decided.frame("select order_id from retry_list where rule = 'R5'")["order_id"]
    assert not queued.empty and set(queued) <= set(said_yes["order_id"])


def test_r6_manually_added_subscriptions_stay(decided) -> None:
    failed = _failed_initials(decided)
    manual = failed[(failed["sub_origin"] == "manual") & ~failed["auto_charge_set_by"].isin(PEOPLE)]
    assert not manual.empty
    latest = decided.latest()
    rows = latest[(latest["aspect"] == "subscription") & latest["order_id"].isin(manual["order_id"])]
    assert len(rows) == len(manual)
    assert set(rows["rule"]) == {"R6"} and rows["installments_expected"].astype(bool).all()


def test_r7_a_persons_switch_back_wins_and_survives_reruns(decided) -> None:
    failed = _failed_initials(decided)
    switched = failed[failed["auto_charge_set_by"].isin(PEOPLE)]
    assert not switched.empty
    # the switch lands in a later window than the order: the earlier window first decided R1
    later = switched[switched["updated_at"].dt.floor("D") > switched["created_at"].dt.floor("D")]
    assert not later.empty
    latest = decided.latest()
    rows = latest[(latest["aspect"] == "auto_charge") & latest["order_id"].isin(switched["order_id"])]
    assert len(rows) == len(switched)
    assert (rows["rule"] == "R7").all() and rows["auto_charge"].astype(bool).all()
    assert not (set(switched["order_id"]) & _retry_ids(decided))
    plans = latest[(latest["aspect"] == "subscription") & latest["order_id"].isin(switched["order_id"])]
    assert set(plans["rule"]) == {"R7"} and plans["installments_expected"].astype(bool).all()
    # re-running every window, oldest first or newest first, never turns it back to No
    s = decided.scenario
    windows = [Window(s.start + timedelta(days=i), s.start + timedelta(days=i + 1)) for i in range(s.days)]
    decide(decided.engine, windows[:1], decided.settings, "rerun-1")
    decide(decided.engine, list(reversed(windows)), decided.settings, "rerun-2")
    every = decided.frame("select * from order_decisions where aspect = 'auto_charge'")
    mine = every[every["order_id"].isin(switched["order_id"])]
    assert (mine["rule"] == "R7").all() and mine["auto_charge"].astype(bool).all()


def test_every_attempt_is_classified_initial_or_subsequent_with_its_outcome(decided) -> None:
    classes = decided.frame("select * from attempt_classes")
    attempts = decided.scenario.payment_attempts
    in_range = attempts[attempts["attempted_at"] < decided.scenario.start + timedelta(days=decided.scenario.days)]
    assert set(classes["attempt_id"]) == set(in_range["attempt_id"])
    assert set(classes["outcome"]) == {"success", "card_failure", "error"}
    hard = classes[classes["decline_code"].isin(HARD_DECLINE_CODES)]
    assert not hard.empty and set(hard["decline_class"]) == {"hard"}
    soft = classes[(classes["outcome"] == "card_failure") & ~classes["decline_code"].isin(HARD_DECLINE_CODES)]
    assert set(soft["decline_class"]) == {"soft"}
    assert set(classes["attempt_kind"]) == {"initial", "subsequent"}


def test_decision_runs_log_each_run_apart_from_the_deterministic_decisions(decided) -> None:
    runs = decided.frame("select * from decision_runs where run_id = 'test-run'")
    assert len(runs) == decided.scenario.days
    assert "recorded_at" not in decided.frame("select * from order_decisions limit 1").columns
