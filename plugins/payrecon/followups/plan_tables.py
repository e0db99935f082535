"""The configuration as rows: what the set-based planning SQL joins against.

The rows are config-sized (actions x origins x products), never data-sized.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection

from payrecon.followups.config import FAILURE_EVENTS, ORIGINS, PURCHASE_EVENTS, Action, FollowupConfig
from payrecon.warehouse import sql
from payrecon.warehouse.bulk import insert_frame

ACTION_COLUMNS = [
    "event_kind", "scope", "product_id", "origin", "replaces_defaults", "action_id", "channel", "template",
    "recipient_literal", "team", "customer_facing", "cancellable", "delay_minutes",
]
TRIGGER_COLUMNS = ["journey_id", "event_kind", "product_id", "subscription_only", "first_step", "first_wait_days"]
JOURNEY_ACTION_COLUMNS = [
    "journey_id", "step", "action_id", "channel", "template", "recipient_literal", "team", "customer_facing",
    "cancellable", "delay_minutes",
]


def _action_fields(config: FollowupConfig, action_id: str, action: Action, cancellable: bool) -> dict:
    team = action.team
    if action.channel == "team":
        recipient = team
    elif team:
        recipient = config.teams[team].email
    else:
        recipient = None
    return {
        "action_id": action_id,
        "channel": action.channel,
        "template": action.template,
        "recipient_literal": recipient,
        "team": team,
        "customer_facing": action.channel in {"email", "sms"} and team is None,
        "cancellable": cancellable,
        "delay_minutes": action.delay_minutes,
    }


def action_rows(config: FollowupConfig) -> pd.DataFrame:
    """One row per (event kind, scope, product, origin, action): R10's trigger rules, expanded."""
    merchant = config.merchant
    default_origins = list(merchant.default_origins)
    product_origins = list(default_origins)
    if merchant.legacy_and_manual_orders_trigger_product_actions:
        product_origins += [o for o in ("legacy_order_form", "manual") if o not in product_origins]
    rows: list[dict] = []

    def add(event: str, scope: str, product_id: str | None, origins: list[str], ids: list[str], replaces: bool):
        for origin in origins:
            if not ids and replaces:  # a product set that silences the defaults with no action of its own
                rows.append({"event_kind": event, "scope": scope, "product_id": product_id, "origin": origin,
                             "replaces_defaults": True, **dict.fromkeys(ACTION_COLUMNS[5:])})
            for action_id in ids:
                fields = _action_fields(config, action_id, config.actions[action_id], event in FAILURE_EVENTS)
                rows.append({"event_kind": event, "scope": scope, "product_id": product_id, "origin": origin,
                             "replaces_defaults": replaces, **fields})

    sets = config.action_sets
    for event in PURCHASE_EVENTS:
        add(event, "default", None, default_origins, sets.defaults.for_event(event), False)
        for product_id, product in sets.products.items():
            add(event, "product", product_id, product_origins, product.for_event(event),
                event in product.replace_defaults)
    # offline orders come from the cart and order forms (source 003): any origin they carry
    add("offline_order", "default", None, list(ORIGINS), list(sets.offline_order), False)
    frame = pd.DataFrame(rows, columns=ACTION_COLUMNS)
    return frame.astype({"delay_minutes": "Int64"})


def journey_trigger_rows(config: FollowupConfig) -> pd.DataFrame:
    rows = []
    for journey_id, journey in config.journeys.items():
        first = journey.steps[0]
        for product_id in config.trigger_products(journey):
            rows.append({
                "journey_id": journey_id,
                "event_kind": journey.trigger.event,
                "product_id": product_id,
                "subscription_only": journey.trigger.subscription_only,
                "first_step": first.name,
                "first_wait_days": first.wait_days or 0,
            })
    return pd.DataFrame(rows, columns=TRIGGER_COLUMNS)


def journey_action_rows(config: FollowupConfig) -> pd.DataFrame:
    rows = []
    for journey_id, journey in config.journeys.items():
        for step in journey.steps:
            for action_id in step.send or []:
                fields = _action_fields(config, action_id, config.actions[action_id], journey.cancel_when_paid)
                rows.append({"journey_id": journey_id, "step": step.name, **fields})
    return pd.DataFrame(rows, columns=JOURNEY_ACTION_COLUMNS)


def load(conn: Connection, config: FollowupConfig) -> None:
    """(Re)create the config temp tables in this transaction's session."""
    sql.run(conn, "intermediate/int_followup_config")
    insert_frame(conn, "_followup_actions", action_rows(config))
    insert_frame(conn, "_followup_journey_triggers", journey_trigger_rows(config))
    insert_frame(conn, "_followup_journey_actions", journey_action_rows(config))
