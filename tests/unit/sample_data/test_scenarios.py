"""The merchant behaves as the contract and rules R1-R12 describe, and carries the hard linking cases."""

from __future__ import annotations

import pandas as pd

R1_ORIGINS = {"shopping_cart", "order_form", "legacy_order_form", "manual", "campaign"}
SOFT = {"insufficient_funds", "do_not_honor", "try_again_later", "card_velocity_exceeded"}
HARD = {"stolen_card", "lost_card", "pickup_card", "fraudulent", "invalid_account", "do_not_honor_permanently",
        "expired_card"}


def _orders(commerce) -> pd.DataFrame:
    return commerce["orders"].merge(commerce["products"][["product_id", "kind"]], on="product_id")


def test_catalogue_and_order_mix(commerce) -> None:
    orders = _orders(commerce)
    assert set(orders["origin"]) == R1_ORIGINS | {"api", "action_set"}
    assert set(orders["currency"]) == {"USD", "EUR", "GBP", "JPY", "KWD"}
    assert set(orders["kind"]) == {"one_time", "subscription", "payment_plan"}
    assert set(orders["status"]) == {"paid", "failed", "error", "offline", "approved_m", "refunded"}
    assert (orders["installment_no"].astype(int) >= 2).sum() > 100
    assert (orders.loc[orders["kind"] == "one_time", "installment_no"] == "1").all()
    assert orders.loc[orders["kind"] == "one_time", "subscription_id"].isna().all()
    assert orders.loc[orders["kind"] != "one_time", "subscription_id"].notna().all()
    assert (orders["currency"] == "USD").mean() > 0.5


def test_auto_charge_rules(commerce) -> None:
    orders = _orders(commerce)
    initial = orders["installment_no"] == "1"
    failed = orders["status"].isin(["failed", "error"])
    r1 = orders[initial & failed & orders["origin"].isin(R1_ORIGINS)]
    by_hand = r1["auto_charge_set_by"].str.startswith("user:", na=False)
    assert (r1.loc[~by_hand, "auto_charge"] == "0").all() and (r1.loc[~by_hand, "auto_charge_set_by"] == "system").all()
    # R7: a few failed initial payment-plan orders switched back to Yes by a person, later than created
    switched = r1[by_hand]
    assert len(switched) >= 2 and (switched["auto_charge"] == "1").all() and (switched["kind"] == "payment_plan").all()
    assert (switched["updated_at"] > switched["created_at"]).all()
    # R4 / R5: API and action-set orders keep their own flag, both values occur
    for origin in ("api", "action_set"):
        own = orders[initial & (orders["origin"] == origin)]
        assert (own["auto_charge_set_by"] == origin).all() and set(own["auto_charge"]) == {"0", "1"}
        assert set(own.loc[own["status"].isin(["failed", "error"]), "auto_charge"]) <= {"0", "1"}


def test_attempt_outcomes(commerce) -> None:
    att = commerce["payment_attempts"]
    declined = att[att["status"] == "declined"]
    errors = att[att["status"] == "error"]
    assert set(declined["decline_code"]) <= SOFT | HARD and declined["error_code"].isna().all()
    assert set(declined["decline_code"]) & SOFT and set(declined["decline_code"]) & HARD
    assert set(errors["error_code"]) == {"gateway_timeout", "api_error", "processing_error"}
    assert errors["decline_code"].isna().all()
    assert att.loc[att["status"] == "succeeded", "gateway_charge_id"].notna().all()
    assert att["card_last4"].str.fullmatch(r"\d{4}").all() and set(att["gateway"]) == {"stripe", "acmepay"}
    # R2: only subsequent / API / action-set orders are re-attempted automatically, never R1 initial orders
    retried = att[att["attempt_no"] == "2"].merge(commerce["orders"], on="order_id", suffixes=("", "_o"))
    auto = retried[retried["origin"].isin(R1_ORIGINS) & (retried["installment_no"] == "1")]
    assert len(auto) == auto["order_id"].nunique()  # only the double charges (two successes, no retry)
    assert (auto["status"] == "succeeded").all()


def test_subscriptions_follow_r3_r6(commerce) -> None:
    orders = _orders(commerce)
    subs = commerce["subscriptions"].merge(
        orders[["subscription_id", "installment_no", "status", "origin", "auto_charge_set_by"]],
        on="subscription_id", suffixes=("", "_order"),
    )
    first_failed = subs[(subs["installment_no"] == "1") & subs["status_order"].isin(["failed", "error", "offline"])]
    manual = first_failed["origin"] == "manual"
    by_hand = first_failed["auto_charge_set_by"].str.startswith("user:", na=False)
    assert (first_failed.loc[~manual & ~by_hand, "status"] == "not_started").all()
    assert manual.any() and (first_failed.loc[manual, "status"] == "active").all()
    assert set(subs["status"]) == {"active", "not_started", "cancelled", "completed"}
    assert set(subs["origin"]) == {"checkout", "manual"}


def test_offline_orders_r12(commerce, truth) -> None:
    orders = commerce["orders"]
    att = commerce["payment_attempts"]
    offline = orders[orders["status"] == "offline"]
    assert len(offline) and not offline["order_id"].isin(att["order_id"]).any()
    approved = orders[orders["status"] == "approved_m"]
    assert len(approved) and (approved["updated_at"] > approved["created_at"]).all()
    manual = att[att["order_id"].isin(approved["order_id"])]
    assert len(manual) == len(approved) and (manual["status"] == "succeeded").all()
    assert manual["gateway_charge_id"].notna().all()
    settled = truth["lines"]["charge_id"].isin(set(manual["gateway_charge_id"]))
    assert settled.any()


def test_retries_under_a_new_customer_record(commerce, truth) -> None:
    t = truth["orders"].merge(commerce["orders"][["order_id", "customer_id", "status"]], on="order_id")
    t = t.merge(commerce["customers"], on="customer_id")
    noisy = t[t["scenario"] == "retry_success_new_customer"]
    assert len(noisy) >= 2
    att = commerce["payment_attempts"].set_index("order_id")["card_fingerprint"]
    for row in noisy.itertuples():
        earlier = t[(t["purchase_id"] == row.purchase_id) & (t["order_id"] != row.order_id)]
        assert len(earlier) == 1
        first = earlier.iloc[0]
        assert first.status in ("failed", "error") and first.person_id == row.person_id
        assert first.customer_id != row.customer_id
        assert att[first.order_id] == att[row.order_id]  # same card
        local, domain = row.email.lower().split("@")
        assert f"{local.split('+')[0]}@{domain}" == first.email.lower()


def test_households_are_different_people_on_one_card(commerce, truth) -> None:
    att = commerce["payment_attempts"].drop_duplicates("order_id")[["order_id", "card_fingerprint"]]
    t = truth["orders"].merge(att, on="order_id")
    people_per_card = t.groupby("card_fingerprint")["person_id"].nunique()
    assert (people_per_card >= 2).sum() >= 3
    lookalikes = t[t["scenario"] == "household_lookalike"]
    assert lookalikes["person_id"].nunique() >= 4


def test_duplicate_purchase_and_double_charge(commerce, truth) -> None:
    t = truth["orders"]
    dup = t[t["scenario"] == "duplicate_purchase"]
    pairs = dup.groupby("purchase_id")
    assert pairs.ngroups >= 2 and (pairs.size() == 2).all()
    assert (pairs["is_sale"].apply(sorted).map(tuple) == ("false", "true")).all()
    att = commerce["payment_attempts"]
    twice = att[att["status"] == "succeeded"].groupby("order_id").size()
    assert (twice == 2).sum() >= 2


def test_one_person_one_product_one_purchase(commerce, truth) -> None:
    t = truth["orders"].merge(commerce["orders"][["order_id", "product_id"]], on="order_id")
    assert (t.groupby(["person_id", "product_id"])["purchase_id"].nunique() == 1).all()
