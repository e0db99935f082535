"""Delivery channels: SMTP email, and HTTP webhooks for SMS, CRM and team notifications."""

from __future__ import annotations

from collections.abc import Mapping

from payrecon.followups.channels.base import (
    Channel,
    Message,
    PermanentSendError,
    SendError,
    TransientSendError,
    Unconfigured,
)
from payrecon.followups.channels.email import SmtpChannel, SmtpSettings
from payrecon.followups.channels.webhook import HttpEndpoint, WebhookChannel

__all__ = [
    "Channel", "HttpEndpoint", "Message", "PermanentSendError", "SendError", "SmtpSettings", "TransientSendError",
    "build_channels",
]

DEFAULT_PATHS = {"sms": "/sms", "crm": "/contacts", "team": "/tasks"}


def build_channels(
    smtp: SmtpSettings | None,
    endpoints: Mapping[str, HttpEndpoint | None],
    default_from: str,
    from_name: str | None = None,
) -> dict[str, Channel]:
    """Channels by name from plain settings; a missing connection gives an `Unconfigured` channel."""
    channels: dict[str, Channel] = {
        "email": SmtpChannel(smtp, default_from, from_name) if smtp else Unconfigured("email", "no SMTP settings")
    }
    for name, path in DEFAULT_PATHS.items():
        endpoint = endpoints.get(name)
        channels[name] = WebhookChannel(endpoint, path) if endpoint else Unconfigured(name, "no HTTP connection")
    return channels
