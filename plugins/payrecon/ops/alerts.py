"""Alerts for the team that runs the pipeline: a task or DAG run failed, a deadline was missed.

Every alert is first logged at ERROR as one greppable line (`PAYRECON ALERT ...`), then sent through
the follow-ups capability's delivery channels, whichever are configured:

- a webhook: the team's HTTP connection (`payrecon_alerts`, else `payrecon_team`), JSON POSTed to
  `/alerts` unless the connection's `extra.path` says otherwise, with an `Idempotency-Key`;
- an email to the Variable `payrecon_alert_email` through the SMTP connection `smtp_default`.

Sending is best effort: an alert must never fail the callback that raised it (Airflow would only log
that failure somewhere nobody looks), so every problem is logged and reported in the return value.
The adapter turns an Airflow context into an `Alert` and the connections into `AlertRoutes`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

ALERT_PATH = "/alerts"
DEFAULT_FROM = "payrecon-alerts@localhost"


@dataclass(frozen=True)
class Alert:
    """What went wrong, where, in plain values."""

    kind: str  # task_failed | dag_failed | deadline_missed
    dag_id: str
    run_id: str | None = None
    task_id: str | None = None
    try_number: int | None = None
    error: str | None = None
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable per event, so a re-sent alert is de-duplicated by a receiver that honours the key."""
        parts = [self.kind, self.dag_id, self.run_id or "-", self.task_id or "-", str(self.try_number or 0)]
        return "payrecon-alert:" + ":".join(parts)

    @property
    def title(self) -> str:
        what = {
            "task_failed": f"task {self.task_id} failed",
            "dag_failed": "DAG run failed",
            "deadline_missed": "deadline missed",
        }.get(self.kind, self.kind)
        return f"[payrecon] {self.dag_id}: {what}"

    @property
    def text(self) -> str:
        lines = [self.title, "", f"dag:   {self.dag_id}", f"run:   {self.run_id or '-'}"]
        if self.task_id:
            lines.append(f"task:  {self.task_id} (try {self.try_number or '?'})")
        if self.error:
            lines.append(f"error: {self.error}")
        if self.detail:
            lines.append(f"what:  {self.detail}")
        for key, value in sorted(self.extra.items()):
            lines.append(f"{key}: {value}")
        lines += ["", "Runbook: docs/RUNBOOK.md (re-run a window, replay a file, release quarantined lines)."]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "task_id": self.task_id,
            "try_number": self.try_number,
            "error": self.error,
            "detail": self.detail,
            **({"extra": self.extra} if self.extra else {}),
        }


@dataclass(frozen=True)
class AlertRoutes:
    """Where alerts go; None means not configured (then the log line is the alert)."""

    webhook: Any = None  # payrecon.followups.channels.webhook.HttpEndpoint
    smtp: Any = None  # payrecon.followups.channels.email.SmtpSettings
    email_to: str | None = None
    email_from: str = DEFAULT_FROM


def send_alert(alert: Alert, routes: AlertRoutes | None = None) -> dict[str, str]:
    """Log the alert loudly, then deliver it to every configured route; returns route -> outcome."""
    routes = routes or AlertRoutes()
    log.error("PAYRECON ALERT %s: %s", alert.key, alert.as_dict())
    outcome: dict[str, str] = {}
    outcome["webhook"] = _deliver_webhook(alert, routes) if routes.webhook else "not configured"
    outcome["email"] = _deliver_email(alert, routes) if routes.smtp and routes.email_to else "not configured"
    if all(v == "not configured" for v in outcome.values()):
        log.error(
            "PAYRECON ALERT %s reached nobody but this log: define the HTTP connection payrecon_alerts "
            "(or payrecon_team) and/or smtp_default + Variable payrecon_alert_email",
            alert.key,
        )
    else:
        log.warning("alert %s delivery: %s", alert.key, outcome)
    return outcome


def _message(alert: Alert, channel: str, recipient: str) -> Any:
    from payrecon.followups.channels.base import Message

    domain = recipient.rsplit("@", 1)[-1] if "@" in recipient else "payrecon.local"
    safe = "".join(c if c.isalnum() or c in "-." else "." for c in alert.key)
    return Message(
        outbox_id=alert.key,
        idempotency_key=alert.key,
        message_id=f"<{safe}@{domain}>",
        channel=channel,
        recipient=recipient,
        title=alert.title,
        text=alert.text,
        payload={"alert": alert.as_dict()},
    )


def _deliver_webhook(alert: Alert, routes: AlertRoutes) -> str:
    try:
        from payrecon.followups.channels.webhook import WebhookChannel

        channel = WebhookChannel(routes.webhook, ALERT_PATH)
        try:
            channel.send(_message(alert, "team", "data-team"))
        finally:
            channel.close()
        return "sent"
    except Exception as exc:  # never let an alert fail its callback
        log.error("alert %s: webhook delivery failed: %s", alert.key, exc)
        return f"failed: {exc}"


def _deliver_email(alert: Alert, routes: AlertRoutes) -> str:
    try:
        from payrecon.followups.channels.email import SmtpChannel

        channel = SmtpChannel(routes.smtp, routes.email_from, "payrecon")
        try:
            channel.send(_message(alert, "email", str(routes.email_to)))
        finally:
            channel.close()
        return "sent"
    except Exception as exc:  # never let an alert fail its callback
        log.error("alert %s: email delivery failed: %s", alert.key, exc)
        return f"failed: {exc}"
