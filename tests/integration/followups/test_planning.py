"""Planning (R9, R10, R12, R15) on DuckDB and PostgreSQL: which events queue which actions, once."""

from __future__ import annotations

import hashlib

import pandas as pd
import sqlalchemy as sa
from followup_shop import D0, D1, outbox_frame, standard_shop

from payrecon.followups.planner import plan
from payrecon.settings import Window

WINDOW = Window(D0, D1)


def contact_key(first: str, last: str, email: str) -> str:
    return hashlib.md5(f"{first.lower()}|{last.lower()}|{email.lower()}".encode()).hexdigest()


ANN = contact_key("Ann", "Lee", "ann.lee@example.com")
GUS = contact_key("Gus", "Nye", "gus.nye@example.com")

EXPECTED = {
    f"contact_creation:contact:{ANN}:crm_create_contact": "pending",
    "successful_purchase:order:O-ann:welcome_email": "pending",
    "successful_purchase:order:O-ann:crm_make_customer": "pending",
    "failed_purchase:order:O-bob:apology_email": "pending",
    "failed_purchase:order:O-bob:support_failed_task": "pending",
    "failed_purchase:order:O-cy1:apology_email": "cancelled",
    "failed_purchase:order:O-cy1:support_failed_task": "cancelled",
    "successful_purchase:order:O-cy2:welcome_email": "pending",
    "successful_purchase:order:O-cy2:crm_make_customer": "pending",
    "error_purchase:order:O-eli:support_error_notice": "pending",
    "offline_order:order:O-fay:offline_followup_task": "pending",
    f"contact_creation:contact:{GUS}:crm_create_contact": "pending",
    "successful_purchase:order:O-gus:crm_make_customer": "pending",
}


def _statuses(engine: sa.Engine) -> dict[str, str]:
    frame = outbox_frame(engine)
    return dict(zip(frame["idempotency_key"], frame["status"], strict=True))


def test_r9_r10_each_event_queues_its_action_set(engine, config) -> None:
    standard_shop().load(engine)
    (result,) = plan(engine, config, [WINDOW], now=D1)
    assert _statuses(engine) == EXPECTED
    assert result.journeys_started == 2
    frame = outbox_frame(engine).set_index("idempotency_key")
    apology = frame.loc["failed_purchase:order:O-bob:apology_email"]
    assert apology["recipient"] == "bob.stone@example.com"
    assert pd.Timestamp(apology["next_attempt_at"]) == pd.Timestamp(D0) + pd.Timedelta(hours=11.01, minutes=30)
    task = frame.loc["offline_order:order:O-fay:offline_followup_task"]
    assert (task["channel"], task["recipient"], task["team"]) == ("team", "finance", "finance")
    assert frame["outbox_id"].str.len().eq(32).all()


def test_r15_replanning_and_backfill_queue_nothing_twice(engine, config) -> None:
    standard_shop().load(engine)
    plan(engine, config, [WINDOW], now=D1)
    first = outbox_frame(engine)
    plan(engine, config, [WINDOW], now=D1)
    plan(engine, config, Window(D0 - pd.Timedelta(days=1), D1 + pd.Timedelta(days=1)).days(), now=D1)
    again = outbox_frame(engine)
    pd.testing.assert_frame_equal(first, again)
    with engine.connect() as conn:
        journeys = conn.execute(sa.text("select count(*) from journey_instances")).scalar()
    assert journeys == 2


def test_r10_legacy_forms_and_manual_orders_only_through_product_sets_when_enabled(duck_engine, config) -> None:
    standard_shop().load(duck_engine)
    merchant = config.merchant.model_copy(update={"legacy_and_manual_orders_trigger_product_actions": True})
    plan(duck_engine, config.model_copy(update={"merchant": merchant}), [WINDOW], now=D1)
    statuses = _statuses(duck_engine)
    assert statuses["failed_purchase:order:O-hal:finance_failed_task"] == "pending"
    # only the product set: the default actions never run for a legacy order form
    assert not any(k.startswith("failed_purchase:order:O-hal:") and not k.endswith("finance_failed_task")
                   for k in statuses)
    assert not any("O-ivy" in k for k in statuses)  # campaign orders trigger no purchase action


def test_r9_contact_type_moves_from_prospect_to_customer(duck_engine, config) -> None:
    standard_shop().load(duck_engine)
    plan(duck_engine, config, [WINDOW], now=D1)
    with duck_engine.connect() as conn:
        rows = dict(conn.execute(sa.text("select first_customer_id, contact_type from followup_contacts")).all())
    assert rows == {"C-ann": "customer", "C-gus": "customer", "C-cy": "customer"}


def test_r12_offline_orders_off_means_no_offline_task(duck_engine, config) -> None:
    standard_shop().load(duck_engine)
    merchant = config.merchant.model_copy(update={"allow_offline_orders": False})
    plan(duck_engine, config.model_copy(update={"merchant": merchant}), [WINDOW], now=D1)
    assert not any(k.startswith("offline_order:") for k in _statuses(duck_engine))
    with duck_engine.connect() as conn:
        allowed = conn.execute(sa.text("select offline_allowed from offline_orders where order_id = 'O-fay'")).scalar()
    assert allowed is False


def test_stale_events_are_not_messaged_in_a_backfill(duck_engine, config) -> None:
    standard_shop().load(duck_engine)
    plan(duck_engine, config, [WINDOW], now=D1 + pd.Timedelta(days=60))
    frame = outbox_frame(duck_engine).set_index("idempotency_key")
    assert frame.loc["failed_purchase:order:O-bob:apology_email", "status"] == "skipped"
    assert frame.loc["failed_purchase:order:O-bob:support_failed_task", "status"] == "pending"  # the team still hears
    with duck_engine.connect() as conn:
        ends = conn.execute(sa.text("select distinct end_reason from journey_instances")).scalars().all()
    assert ends == ["stale_at_start"]
