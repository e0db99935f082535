"""Helpers of the operations tests: the scenario's windows, free ports, a real SMTP server, connections."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from email import message_from_bytes
from pathlib import Path

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


def killable(phase: str, url: str, inbox: Path, window: Window, workdir: Path, timeout: float = 180.0) -> None:
    """Start `killable_task.py` in its own process group, wait for its pause point, SIGKILL the group."""
    import signal
    import subprocess
    import sys
    import time

    ready = workdir / f"ready-{phase}-{window.label}"
    ready.unlink(missing_ok=True)
    log = (workdir / f"killable-{phase}-{window.label}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("killable_task.py")), phase, url, str(inbox),
         window.start.isoformat(), window.end.isoformat(), str(ready)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if proc.poll() is not None:
                raise AssertionError(f"{phase} ended before its pause point (rc {proc.returncode}); see {log.name}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{phase} did not reach its pause point in {timeout:.0f} s; see {log.name}")
            time.sleep(0.1)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
        log.close()


@contextmanager
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database (for a second warehouse beside the `pg_url` fixture's)."""
    import uuid

    import sqlalchemy as sa

    admin_url = os.environ.get("PAYRECON_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    name = f"payrecon_ops_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()
