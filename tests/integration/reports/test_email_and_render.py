"""The report as finance receives it: an email taken by a real SMTP server (aiosmtpd) with its inline
charts and attachments, and the HTML rendered by headless Chromium (Debian's `chromium` package)."""

from __future__ import annotations

import io
import re
import shutil
import socket
import subprocess
import threading
import zipfile
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import openpyxl
import pytest

from payrecon.followups.channels.email import SmtpSettings
from payrecon.report_tasks import email_reports
from payrecon.reports.build import build_report
from payrecon.warehouse.engine import warehouse

RECIPIENTS = ["finance@example.com", "cfo@example.com"]
SECRET = "s3cret-smtp-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.envelopes: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd hook
        with self.lock:
            self.envelopes.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox, port = Mailbox(), _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, data_size_limit=50_000_000)
    controller.start()
    try:
        yield mailbox, SmtpSettings(host="127.0.0.1", port=port, password=SECRET, timeout=10)
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def day_with_recipients(merchant, tmp_path_factory: pytest.TempPathFactory):
    with warehouse(merchant.url) as engine:
        return build_report(engine, "2026-11-02", tmp_path_factory.mktemp("mail") / "output",
                            recipients=RECIPIENTS, sender="reports@northwind.example")


def test_the_email_arrives_with_inline_charts_and_attachments(smtp_server, day_with_recipients) -> None:
    mailbox, smtp = smtp_server
    result = email_reports([day_with_recipients.as_dict()], smtp=smtp)
    assert result["sent"] == [{"label": "2026-11-02", "recipients": 2, "refused": []}]
    assert len(mailbox.envelopes) == 1
    rcpts, raw = mailbox.envelopes[0]
    assert sorted(rcpts) == sorted(RECIPIENTS)
    assert SECRET.encode() not in raw
    mail = message_from_bytes(raw, policy=email_policy.default)
    assert mail["Subject"].startswith("Finance report - Daily report")
    assert mail["To"] == ", ".join(RECIPIENTS)

    html_part = mail.get_body(preferencelist=("html",))
    text_part = mail.get_body(preferencelist=("plain",))
    html = html_part.get_content()
    assert "Totals by currency" in text_part.get_content()
    assert "<script" not in html.lower()
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    assert {"states.2026-11-02@payrecon", "trend.2026-11-02@payrecon"} <= cids
    images = {part["Content-ID"].strip("<>"): part for part in mail.walk() if part.get_content_type() == "image/png"}
    assert cids <= set(images), "every chart the HTML shows is carried in the message"
    for part in images.values():
        assert part.get_content()[:8] == b"\x89PNG\r\n\x1a\n"

    attachments = {part.get_filename(): part for part in mail.iter_attachments()}
    workbook = attachments["finance_report_2026-11-02.xlsx"].get_content()
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    assert "Totals by currency" in book.sheetnames
    with zipfile.ZipFile(io.BytesIO(attachments["finance_report_2026-11-02_csv.zip"].get_content())) as archive:
        assert "totals.csv" in archive.namelist() and "exceptions.csv" in archive.namelist()


def test_no_recipients_means_archive_only(smtp_server, merchant, tmp_path: Path) -> None:
    mailbox, smtp = smtp_server
    with warehouse(merchant.url) as engine:
        built = build_report(engine, "2026-11-01", tmp_path / "output", recipients=[])
    result = email_reports([built.as_dict()], smtp=smtp)
    assert result == {"sent": [], "archived_only": ["2026-11-01"]}
    assert mailbox.envelopes == []
    assert built.eml.is_file() and built.html.is_file()


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is needed: `apt-get install chromium` (listed in apt-packages.txt)")


def screenshot(html: Path, png: Path, profile: Path) -> Path:
    cmd = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1200,2000", html.resolve().as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=90)
    return png


def test_the_html_renders_in_headless_chromium(day_with_recipients, tmp_path: Path) -> None:
    from PIL import Image

    png = screenshot(day_with_recipients.html, tmp_path / "report.png", tmp_path / "profile")
    with Image.open(png) as image:
        assert image.size == (1200, 2000)
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1_000_000)
        non_white = sum(n for n, c in colours if c != (255, 255, 255) and sum(c) < 720)
    assert len(colours) > 500, f"only {len(colours)} distinct colours: a blank page?"
    assert non_white / (1200 * 2000) > 0.05, "the page is mostly blank"


def test_recipients_without_an_smtp_connection_fail_loudly(day_with_recipients, monkeypatch) -> None:
    from payrecon import airflow_adapter

    monkeypatch.setattr(airflow_adapter, "smtp_settings", lambda *a, **k: None)
    with pytest.raises(RuntimeError, match="smtp_default is not defined"):
        email_reports([day_with_recipients.as_dict()])
