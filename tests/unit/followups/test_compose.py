"""Messages: stable ids, the merchant's contact details, exact money, backoff, SMTP headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from payrecon.followups.channels.base import Message
from payrecon.followups.channels.email import SmtpChannel, SmtpSettings
from payrecon.followups.compose import compose, message_id
from payrecon.followups.config import load_config
from payrecon.followups.outbox import backoff

CONFIG = load_config()


def _row(**over) -> dict:  # noqa: ANN003
    row = {
        "outbox_id": "0123456789abcdef0123456789abcdef", "idempotency_key": "failed_purchase:order:O-1:apology_email",
        "event_kind": "failed_purchase", "action_id": "apology_email", "channel": "email",
        "template": "email/failed_purchase.j2", "recipient": "ann@example.com", "team": None, "attempts": 1,
        "order_id": "O-1", "purchase_id": "PU-1", "customer_id": "C-1", "first_name": "Ann", "last_name": "Lee",
        "email": "ann@example.com", "phone": "+15550001", "product_id": "P-1006", "product_name": "Seminar pass",
        "product_kind": "one_time", "total_minor": 12000, "currency": "JPY",
        "order_created_at": datetime(2026, 11, 2, 10, tzinfo=UTC), "installment_no": 1, "subscription_id": None,
        "origin": "shopping_cart", "order_status": "failed", "decline_code": "insufficient_funds", "error_code": None,
    }
    row.update(over)
    return row


def test_r9_failure_email_has_contact_details_and_how_to_update_the_card() -> None:
    message = compose(_row(), CONFIG)
    assert message.title == "We could not process your payment for Seminar pass"
    assert "¥12,000" in message.text  # JPY has no minor digits: exact, not 120.00
    assert "https://northwind.example/account/billing?order=O-1" in message.text
    assert "help@northwind.example" in message.text and "+1 555 0100" in message.text
    assert message.message_id == "<0123456789abcdef0123456789abcdef@northwind.example>"


def test_money_is_exact_for_three_digit_currencies() -> None:
    message = compose(_row(total_minor=45500, currency="KWD"), CONFIG)
    assert "45.500" in message.text


def test_message_id_is_stable_per_row() -> None:
    assert message_id("abc", CONFIG) == message_id("abc", CONFIG) == "<abc@northwind.example>"


def test_r9_crm_update_moves_the_contact_type() -> None:
    message = compose(_row(action_id="crm_make_customer", channel="crm", template=None, recipient="C-1",
                           event_kind="successful_purchase"), CONFIG)
    assert message.payload["contact_type"] == "customer"
    assert message.payload["tags_add"] == ["customer"]
    assert "prospect" in message.payload["tags_remove"]
    assert message.payload["contact"]["email"] == "ann@example.com"


def test_team_task_names_team_and_kind() -> None:
    message = compose(_row(action_id="support_failed_task", channel="team", template="team/failed_purchase.j2",
                           recipient="support", team="support"), CONFIG)
    assert message.payload["team"] == "support" and message.payload["kind"] == "task"
    assert "insufficient_funds" in message.text


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, 60, 600).total_seconds() for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]
    assert backoff(0, 60, 600) == timedelta(seconds=60)


def test_email_headers_carry_message_id_and_idempotency_key() -> None:
    channel = SmtpChannel(SmtpSettings(host="127.0.0.1", port=25), "billing@northwind.example", "Northwind")
    mail = channel.build(Message("id1", "k:1", "<id1@northwind.example>", "email", "a@example.com", "Hi", "Body"))
    assert mail["Message-ID"] == "<id1@northwind.example>"
    assert mail["X-Payrecon-Idempotency-Key"] == "k:1"
    assert mail["From"] == "Northwind <billing@northwind.example>"
