"""R10's trigger rules expanded into the rows the planning SQL joins against."""

from __future__ import annotations

from payrecon.followups.config import load_config
from payrecon.followups.plan_tables import action_rows, journey_action_rows, journey_trigger_rows


def _config(legacy: bool = False):  # noqa: ANN202
    config = load_config()
    merchant = config.merchant.model_copy(update={"legacy_and_manual_orders_trigger_product_actions": legacy})
    return config.model_copy(update={"merchant": merchant})


def test_r10_defaults_run_for_cart_and_order_forms_only() -> None:
    rows = action_rows(_config())
    defaults = rows[(rows["scope"] == "default") & (rows["event_kind"] != "offline_order")]
    assert set(defaults["origin"]) == {"shopping_cart", "order_form"}


def test_r10_legacy_forms_and_manual_orders_need_the_setting_and_a_product_set() -> None:
    off = action_rows(_config(legacy=False))
    on = action_rows(_config(legacy=True))
    assert not off["origin"].isin(["legacy_order_form", "manual"]).any() or set(
        off[off["origin"].isin(["legacy_order_form", "manual"])]["event_kind"]) == {"offline_order"}
    extra = on[on["origin"].isin(["legacy_order_form", "manual"]) & (on["event_kind"] != "offline_order")]
    assert len(extra) and set(extra["scope"]) == {"product"}


def test_r10_a_product_set_can_replace_the_defaults() -> None:
    rows = action_rows(_config())
    silencers = rows[rows["action_id"].isna()]
    assert set(zip(silencers["product_id"], silencers["event_kind"], strict=True)) == {
        ("P-2001", "failed_purchase"), ("P-2003", "failed_purchase")}
    course = rows[(rows["product_id"] == "P-1001") & (rows["event_kind"] == "successful_purchase")]
    assert set(course["replaces_defaults"]) == {True} and set(course["action_id"]) == {"crm_make_customer"}


def test_failure_follow_ups_are_cancellable_and_success_ones_are_not() -> None:
    rows = action_rows(_config()).dropna(subset=["action_id"])
    by_kind = rows.groupby("event_kind")["cancellable"].agg(set).to_dict()
    assert by_kind["failed_purchase"] == {True} and by_kind["error_purchase"] == {True}
    assert by_kind["offline_order"] == {True}
    assert by_kind["successful_purchase"] == {False} and by_kind["contact_creation"] == {False}


def test_journey_rows() -> None:
    config = _config()
    triggers = journey_trigger_rows(config)
    assert set(zip(triggers["journey_id"], triggers["product_id"], strict=True)) == {
        ("post_checkout", "P-1001"), ("payment_failure", "P-2001"), ("payment_failure", "P-2003")}
    actions = journey_action_rows(config)
    notify = actions[(actions["journey_id"] == "payment_failure") & (actions["step"] == "notify")]
    assert set(notify["channel"]) == {"email", "sms", "crm", "team"} and set(notify["cancellable"]) == {True}
    team = notify[notify["channel"] == "team"].iloc[0]
    assert (team["recipient_literal"], team["customer_facing"]) == ("finance", False)
