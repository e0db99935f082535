"""SMS, CRM updates and team tasks as JSON POSTs to HTTP connections, with an Idempotency-Key header.

A receiver that honours Idempotency-Key (as payment and messaging APIs do) turns a retry after an
unknown outcome into a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from payrecon.followups.channels.base import Message, PermanentSendError, TransientSendError

RETRYABLE_STATUS = {408, 409, 425, 429}


@dataclass(frozen=True)
class HttpEndpoint:
    """An HTTP connection: base URL, optional path (else the channel's default), headers, basic auth."""

    base_url: str
    path: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    login: str | None = None
    password: str | None = None
    timeout: float = 10.0


class WebhookChannel:
    def __init__(self, endpoint: HttpEndpoint, default_path: str) -> None:
        self.endpoint = endpoint
        path = endpoint.path or default_path
        self.url = endpoint.base_url.rstrip("/") + "/" + path.lstrip("/")
        self.session = requests.Session()
        if endpoint.login:
            self.session.auth = (endpoint.login, endpoint.password or "")

    def body(self, message: Message) -> dict[str, Any]:
        return {
            "id": message.outbox_id,
            "idempotency_key": message.idempotency_key,
            "to": message.recipient,
            "title": message.title,
            "text": message.text,
            **message.payload,
        }

    def send(self, message: Message) -> str | None:
        headers = {**self.endpoint.headers, "Idempotency-Key": message.outbox_id}
        try:
            response = self.session.post(
                self.url, json=self.body(message), headers=headers, timeout=self.endpoint.timeout
            )
        except requests.ConnectionError as exc:
            raise TransientSendError(f"POST {self.url} failed: {exc}", channel_down=True) from exc
        except requests.RequestException as exc:
            raise TransientSendError(f"POST {self.url} failed: {exc}") from exc
        if response.status_code >= 500 or response.status_code in RETRYABLE_STATUS:
            raise TransientSendError(f"POST {self.url}: HTTP {response.status_code} {response.text[:200]!r}")
        if response.status_code >= 400:
            raise PermanentSendError(f"POST {self.url}: HTTP {response.status_code} {response.text[:200]!r}")
        return response.headers.get("X-Request-Id") or str(response.status_code)

    def close(self) -> None:
        self.session.close()
