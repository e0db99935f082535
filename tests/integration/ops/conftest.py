"""Operations fixtures: a small generated merchant, a real SMTP server and an HTTP server for follow-ups
and alerts. Helpers live in `opskit.py`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from opskit import DAYS, ORDERS_PER_DAY, START, SmtpServer


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from payrecon.sample_data import generate

    out = tmp_path_factory.mktemp("ops-scenario")
    generate(out, date.fromisoformat(START), DAYS, ORDERS_PER_DAY, seed=23)
    return out


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver(httpserver):  # noqa: ANN001, ANN201 - pytest-httpserver's fixture
    """The HTTP side: SMS, CRM, team tasks and alerts all answer 200 and are counted."""
    for path in ("/sms", "/contacts", "/tasks", "/alerts"):
        httpserver.expect_request(path, method="POST").respond_with_json({"ok": True})
    return httpserver


@pytest.fixture
def restore_environ() -> Iterator[None]:
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
