"""The report as an email: HTML with the charts as inline PNG parts (`cid:`), a plain-text
alternative, the workbook and the CSVs (one zip) attached; sent over SMTP.

The SMTP settings are the follow-ups capability's `SmtpSettings` (read from `smtp_default` by the
adapter); the password is only ever handed to `smtplib`, never logged or written.
"""

from __future__ import annotations

import hashlib
import io
import logging
import smtplib
import ssl
import zipfile
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate
from pathlib import Path

from payrecon.followups.channels.email import SmtpSettings

log = logging.getLogger(__name__)

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DEFAULT_SENDER = "finance-reports@payrecon.invalid"
ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)


def content_id(name: str, label: str) -> str:
    """`states.2026-11-05@payrecon`: the id a chart part carries; the HTML says `cid:` + this."""
    return f"{name}.{label}@payrecon"


def csv_zip(paths: dict[str, Path]) -> bytes:
    """The CSVs in one zip, with fixed timestamps so the same report gives the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key in sorted(paths):
            info = zipfile.ZipInfo(paths[key].name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, paths[key].read_bytes())
    return buf.getvalue()


def build_message(
    subject: str,
    html: str,
    text: str,
    charts: dict[str, Path],
    label: str,
    workbook: Path,
    csvs: dict[str, Path],
    recipients: list[str],
    sender: str | None = None,
    sender_name: str | None = "Payrecon finance report",
) -> EmailMessage:
    mail = EmailMessage()
    sender = sender or DEFAULT_SENDER
    mail["From"] = formataddr((sender_name, sender)) if sender_name else sender
    mail["To"] = ", ".join(recipients) if recipients else "undisclosed-recipients:;"
    mail["Subject"] = subject
    mail["Date"] = formatdate(usegmt=True)
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()[:16]
    mail["Message-ID"] = f"<finance-report.{label}.{digest}@payrecon>"
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    html_part = mail.get_payload()[-1]
    for name in sorted(charts):
        html_part.add_related(
            charts[name].read_bytes(), maintype="image", subtype="png", cid=f"<{content_id(name, label)}>",
            filename=f"{name}.png", disposition="inline",
        )
    mail.add_attachment(workbook.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=workbook.name)
    if csvs:
        mail.add_attachment(csv_zip(csvs), maintype="application", subtype="zip",
                            filename=f"finance_report_{label}_csv.zip")
    return mail


def write_eml(mail: EmailMessage, path: Path) -> Path:
    path.write_bytes(mail.as_bytes(policy=SMTP))
    return path


def send_report(mail: EmailMessage, recipients: list[str], smtp: SmtpSettings) -> dict[str, tuple[int, bytes]]:
    """Deliver to every recipient in one SMTP session; returns the refused ones (empty when all took it).

    Raises on a connection, authentication or server error, so the Airflow task retries.
    """
    sender = smtp.from_email or _address(mail["From"])
    context = ssl.create_default_context()
    if smtp.use_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.starttls and not smtp.use_ssl:
            client.starttls(context=context)
        if smtp.login:
            client.login(smtp.login, smtp.password or "")
        refused = client.send_message(mail, from_addr=sender, to_addrs=recipients)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    if refused:
        log.warning("report email refused for %d recipient(s): %s", len(refused), sorted(refused))
    log.info("report email %s sent to %d recipient(s) via %s:%s", mail["Message-ID"],
             len(recipients) - len(refused), smtp.host, smtp.port)
    return refused


def _address(header: str | None) -> str:
    from email.utils import parseaddr

    return parseaddr(header or "")[1] or DEFAULT_SENDER


def parse_recipients(value: str | None) -> list[str]:
    """`a@x, b@y;c@z` -> a list without blanks or repeats (order kept)."""
    if not value:
        return []
    seen: dict[str, None] = {}
    for part in value.replace(";", ",").split(","):
        address = part.strip()
        if address:
            seen.setdefault(address, None)
    return list(seen)
