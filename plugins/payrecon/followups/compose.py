"""Turn one claimed outbox row (with its customer, order and product) into a channel Message."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from babel.numbers import format_currency

from payrecon.followups.channels.base import Message
from payrecon.followups.config import FollowupConfig
from payrecon.followups.templates import render
from payrecon.money import from_minor


def message_id(outbox_id: str, config: FollowupConfig) -> str:
    """Stable per outbox row: every retry of a row carries the same Message-ID."""
    return f"<{outbox_id}@{config.merchant.message_id_domain}>"


def _money(minor: Any, currency: Any) -> str:
    if minor is None or currency is None:
        return ""
    return format_currency(from_minor(int(minor), str(currency)), str(currency), locale="en_US")


def _date(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else str(value or "")


def template_context(row: dict[str, Any], config: FollowupConfig) -> dict[str, Any]:
    product_attrs = config.products.get(str(row.get("product_id")))
    order_id = row.get("order_id") or ""
    url = config.merchant.update_payment_url.replace("{order_id}", str(order_id))
    url = url.replace("{customer_id}", str(row.get("customer_id") or ""))
    return {
        "merchant": config.merchant,
        "event_kind": row["event_kind"],
        "action_id": row["action_id"],
        "team": row.get("team"),
        "update_payment_url": url,
        "customer": {
            "customer_id": row.get("customer_id"),
            "first_name": row.get("first_name") or "",
            "last_name": row.get("last_name") or "",
            "email": row.get("email") or "",
            "phone": row.get("phone"),
        },
        "order": {
            "order_id": order_id,
            "total": _money(row.get("total_minor"), row.get("currency")),
            "total_minor": row.get("total_minor"),
            "currency": row.get("currency"),
            "created_at": _date(row.get("order_created_at")),
            "installment_no": int(row.get("installment_no") or 1),
            "subscription_id": row.get("subscription_id"),
            "origin": row.get("origin"),
            "status": row.get("order_status"),
            "decline_code": row.get("decline_code"),
            "error_code": row.get("error_code"),
        },
        "product": {
            "product_id": row.get("product_id"),
            "name": row.get("product_name") or str(row.get("product_id") or ""),
            "kind": row.get("product_kind"),
            "course_url": product_attrs.course_url if product_attrs else None,
            "help_links": list(product_attrs.help_links) if product_attrs else [],
        },
    }


def compose(row: dict[str, Any], config: FollowupConfig, templates_dir: Path | None = None) -> Message:
    """Render the row's template (or build the CRM payload). Raises on a template error."""
    action = config.actions.get(row["action_id"])
    base = {
        "outbox_id": row["outbox_id"],
        "idempotency_key": row["idempotency_key"],
        "message_id": message_id(row["outbox_id"], config),
        "channel": row["channel"],
        "recipient": row["recipient"],
    }
    refs = {"event_kind": row["event_kind"], "order_id": row.get("order_id"), "product_id": row.get("product_id")}
    if row["channel"] == "crm":
        if action is None:
            raise KeyError(f"action {row['action_id']!r} is no longer configured")
        payload = {
            "operation": action.operation,
            "contact": {
                "customer_id": row.get("customer_id"),
                "first_name": row.get("first_name"),
                "last_name": row.get("last_name"),
                "email": row.get("email"),
                "phone": row.get("phone"),
            },
            "contact_type": action.contact_type,
            "tags_add": list(action.tags_add),
            "tags_remove": list(action.tags_remove),
            **refs,
        }
        return Message(**base, title=f"{action.operation} {row.get('customer_id')}", payload=payload)
    rendered = render(str(row["template"]), template_context(row, config), templates_dir)
    payload: dict[str, Any] = {}
    if row["channel"] == "team":
        payload = {"team": row.get("team"), "kind": action.kind if action else "notification", **refs,
                   "customer_id": row.get("customer_id")}
    return Message(**base, title=rendered.title, text=rendered.text, payload=payload)
