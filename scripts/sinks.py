"""Local stand-ins for the outside world, so the demo delivers for real without sending anything out.

A real SMTP server (aiosmtpd) that files each message as an .eml, and an HTTP server that records each
webhook (SMS, CRM, team) as a JSON line. Both listen on 127.0.0.1 only, on free ports.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _MailboxHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd API
        self.count += 1
        (self.folder / f"{self.count:05d}.eml").write_bytes(envelope.content)
        return "250 Message accepted for delivery"


@dataclass
class Sinks:
    smtp_port: int
    http_port: int
    mailbox: Path
    webhooks: Path
    _smtp: object
    _http: ThreadingHTTPServer

    def stop(self) -> None:
        self._smtp.stop()
        self._http.shutdown()


def start_sinks(folder: Path) -> Sinks:
    from aiosmtpd.controller import Controller

    mailbox = folder / "mailbox"
    mailbox.mkdir(parents=True, exist_ok=True)
    webhooks = folder / "webhooks.jsonl"
    lock = threading.Lock()

    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock, webhooks.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"path": self.path, "body": body.decode("utf-8", "replace")}) + "\n")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args) -> None:  # noqa: ANN002 - silence per-request logs
            return

    smtp_port, http_port = free_port(), free_port()
    controller = Controller(_MailboxHandler(mailbox), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    http = ThreadingHTTPServer(("127.0.0.1", http_port), Recorder)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    return Sinks(smtp_port, http_port, mailbox, webhooks, controller, http)


def connection_env(sinks: Sinks) -> dict[str, str]:
    """AIRFLOW_CONN_* values pointing the follow-up channels at the sinks."""
    smtp = {
        "conn_type": "smtp", "host": "127.0.0.1", "port": sinks.smtp_port,
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "billing@northwind.example"},
    }
    env = {"AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp)}
    for name in ("sms", "crm", "team"):
        env[f"AIRFLOW_CONN_PAYRECON_{name.upper()}"] = json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": sinks.http_port, "schema": "http",
             "extra": {"path": f"/{name}"}}
        )
    return env
