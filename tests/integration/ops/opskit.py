"""Helpers of the operations tests: the scenario's windows, free ports, a real SMTP server, connections."""

from __future__ import annotations

import json
import os
import socket
import threading
from datetime import date, timedelta
from email import message_from_bytes

from payrecon.settings import Window

START = "2026-11-02"
DAYS = 2
ORDERS_PER_DAY = 60


def windows(start: str = START, days: int = DAYS) -> list[Window]:
    first = date.fromisoformat(start)
    return [Window.day((first + timedelta(days=i)).isoformat()) for i in range(days)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd hook
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    @property
    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.mailbox.messages]


def connect_channels(smtp: SmtpServer, receiver, alert_email: str = "data-team@example.com") -> None:  # noqa: ANN001
    """The follow-up and alert connections as AIRFLOW_CONN_* variables, pointing at the test servers."""
    os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port,
         "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 5}}
    )
    base = receiver.url_for("/").rstrip("/")
    for conn_id in ("PAYRECON_SMS", "PAYRECON_CRM", "PAYRECON_TEAM"):
        os.environ[f"AIRFLOW_CONN_{conn_id}"] = json.dumps({"conn_type": "http", "host": base})
    os.environ["AIRFLOW_VAR_PAYRECON_ALERT_EMAIL"] = alert_email
