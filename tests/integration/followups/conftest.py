"""Follow-up fixtures: the project's action config with quick retries, a real SMTP server, a real HTTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from followup_shop import SmtpServer

from payrecon.followups.config import FollowupConfig, load_config


@pytest.fixture
def config() -> FollowupConfig:
    """The project's actions.yaml with quick retries for tests."""
    cfg = load_config()
    delivery = cfg.delivery.model_copy(update={"backoff_seconds": 10, "backoff_max_seconds": 60, "max_attempts": 4})
    return cfg.model_copy(update={"delivery": delivery})


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def endpoints(httpserver):  # noqa: ANN001, ANN201 - pytest-httpserver's fixture
    from payrecon.followups.channels.webhook import HttpEndpoint

    for path in ("/sms", "/contacts", "/tasks"):
        httpserver.expect_request(path, method="POST").respond_with_json({"ok": True})
    base = httpserver.url_for("/").rstrip("/")
    return {name: HttpEndpoint(base_url=base, timeout=5) for name in ("sms", "crm", "team")}


