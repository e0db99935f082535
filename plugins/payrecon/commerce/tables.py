"""The commerce tables the pipeline reads: columns required, key, and money columns to convert."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommerceTable:
    name: str
    key: str
    columns: tuple[str, ...]
    money: dict[str, str]  # source decimal column -> warehouse *_minor column
    timestamps: tuple[str, ...]


TABLES: tuple[CommerceTable, ...] = (
    CommerceTable(
        "customers",
        "customer_id",
        ("customer_id", "first_name", "last_name", "email", "phone", "created_at", "updated_at"),
        {},
        ("created_at", "updated_at"),
    ),
    CommerceTable(
        "products",
        "product_id",
        ("product_id", "name", "kind", "price", "currency", "installments", "interval_days", "updated_at"),
        {"price": "price_minor"},
        ("updated_at",),
    ),
    CommerceTable(
        "subscriptions",
        "subscription_id",
        ("subscription_id", "customer_id", "product_id", "kind", "origin", "status", "created_at", "updated_at"),
        {},
        ("created_at", "updated_at"),
    ),
    CommerceTable(
        "orders",
        "order_id",
        (
            "order_id", "customer_id", "product_id", "subscription_id", "installment_no", "origin",
            "auto_charge", "auto_charge_set_by", "status", "total", "currency", "created_at", "updated_at",
        ),
        {"total": "total_minor"},
        ("created_at", "updated_at"),
    ),
    CommerceTable(
        "payment_attempts",
        "attempt_id",
        (
            "attempt_id", "order_id", "attempt_no", "attempted_at", "status", "decline_code", "error_code",
            "gateway", "gateway_charge_id", "amount", "currency", "card_fingerprint", "card_brand",
            "card_last4", "updated_at",
        ),
        {"amount": "amount_minor"},
        ("attempted_at", "updated_at"),
    ),
)
