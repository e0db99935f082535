"""Email over SMTP (settings read from the Airflow connection `smtp_default` by the adapter).

Each message carries a stable Message-ID (one per outbox row), so a retry after an unknown outcome
sends the very same message and a mail system that de-duplicates by Message-ID keeps one copy.
One SMTP session is reused for a batch and reopened after a failure.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from payrecon.followups.channels.base import Message, PermanentSendError, TransientSendError


@dataclass(frozen=True)
class SmtpSettings:
    """Mirrors the SMTP provider's connection: `disable_ssl`/`disable_tls`/`timeout`/`from_email` extras."""

    host: str
    port: int
    login: str | None = None
    password: str | None = None
    use_ssl: bool = False
    starttls: bool = False
    timeout: float = 30.0
    from_email: str | None = None
    from_name: str | None = None


class SmtpChannel:
    def __init__(self, settings: SmtpSettings, default_from: str, from_name: str | None = None) -> None:
        self.settings = settings
        self.sender = settings.from_email or default_from
        self.from_name = settings.from_name or from_name
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.use_ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.starttls:
                    client.starttls(context=ssl.create_default_context())
            if s.login:
                client.login(s.login, s.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientSendError(f"SMTP {s.host}:{s.port} unavailable: {exc}", channel_down=True) from exc
        return client

    def build(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = formataddr((self.from_name, self.sender)) if self.from_name else self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.title
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = message.message_id
        mail["X-Payrecon-Idempotency-Key"] = message.idempotency_key
        mail.set_content(message.text)
        return mail

    def send(self, message: Message) -> str | None:
        mail = self.build(message)
        if self._client is None:
            self._client = self._connect()
        try:
            refused = self._client.send_message(mail, from_addr=self.sender, to_addrs=[message.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentSendError(f"recipient refused: {exc.recipients}") from exc
            raise TransientSendError(f"recipient deferred: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                raise PermanentSendError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
            raise TransientSendError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TransientSendError(f"SMTP send failed: {exc}") from exc
        if refused:
            raise PermanentSendError(f"recipient refused: {refused}")
        return message.message_id

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
