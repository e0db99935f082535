"""What a channel sends, and how it says it failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    """One rendered outbox row, ready to go out."""

    outbox_id: str
    idempotency_key: str
    message_id: str  # stable per outbox row: `<outbox_id@merchant-domain>`
    channel: str
    recipient: str
    title: str = ""
    text: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


class SendError(Exception):
    """A send that did not happen (or may not have)."""


class TransientSendError(SendError):
    """Worth retrying later: server down, timeout, 4xx SMTP reply, HTTP 408/429/5xx.

    `channel_down` says the whole channel is unreachable, so the rest of the batch need not try it.
    """

    def __init__(self, message: str, channel_down: bool = False) -> None:
        super().__init__(message)
        self.channel_down = channel_down


class PermanentSendError(SendError):
    """Retrying cannot help: mailbox refused (5xx), HTTP 4xx, a template that does not render."""


class Channel(Protocol):
    def send(self, message: Message) -> str | None:
        """Deliver; return the provider's reference (or None). Raise a SendError on failure."""

    def close(self) -> None: ...


class Unconfigured:
    """A channel whose Airflow connection is missing: every send is a transient failure, logged."""

    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason

    def send(self, message: Message) -> str | None:
        raise TransientSendError(f"channel {self.name} is not configured: {self.reason}", channel_down=True)

    def close(self) -> None:
        return None
