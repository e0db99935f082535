"""Task bodies of the finance report DAGs (`finance_report`, `finance_report_monthly`).

Building and sending are separate tasks: a failed send retries without rebuilding, and sends the
archived `.eml` exactly as it was built. Each returns small JSON-able dicts (paths, row counts).
"""

from __future__ import annotations

import logging
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from payrecon import airflow_adapter as adapter
from payrecon.settings import Settings
from payrecon.warehouse.engine import warehouse

log = logging.getLogger(__name__)


def build_window_reports(
    context: dict[str, Any], settings: Settings | None = None, recipients: list[str] | None = None,
    sender: str | None = None, locale: str | None = None,
) -> list[dict]:
    """One report per window of the run (a coalesced asset run may carry several days)."""
    from payrecon.reports.build import build_report

    settings = settings or adapter.settings_from_airflow()
    windows = adapter.windows_from_context(context)
    recipients = adapter.report_recipients() if recipients is None else recipients
    sender = sender or adapter.report_sender()
    locale = locale or adapter.report_locale()
    built = []
    with warehouse(settings.warehouse_url) as engine:
        for window in windows:
            artifacts = build_report(engine, window, settings.output_dir, recipients=recipients, sender=sender,
                                     locale=locale)
            log.info("finance report %s: %s (%.2f s)", artifacts.label, artifacts.html, artifacts.build_seconds)
            built.append(artifacts.as_dict())
    return adapter.to_xcom(built)


def build_month_report(
    context: dict[str, Any], settings: Settings | None = None, recipients: list[str] | None = None,
    sender: str | None = None, locale: str | None = None,
) -> list[dict]:
    """The month-close report over the month's windows."""
    from payrecon.reports.build import build_report

    settings = settings or adapter.settings_from_airflow()
    month = adapter.month_from_context(context)
    recipients = adapter.report_recipients() if recipients is None else recipients
    sender = sender or adapter.report_sender()
    locale = locale or adapter.report_locale()
    with warehouse(settings.warehouse_url) as engine:
        artifacts = build_report(engine, month, settings.output_dir, recipients=recipients, sender=sender,
                                 locale=locale)
    log.info("month-close report %s: %s (%.2f s)", artifacts.label, artifacts.html, artifacts.build_seconds)
    return adapter.to_xcom([artifacts.as_dict()])


def email_reports(built: list[dict], smtp: Any = None) -> dict:
    """Send each built report's archived email to its recipients; none configured: archive only."""
    from payrecon.reports.email import send_report

    sent, archived = [], []
    for report in built:
        recipients = list(report.get("recipients") or [])
        if not recipients:
            log.info(
                "finance report %s: no recipients (Variable %s is empty); archived only at %s",
                report["label"], adapter.VAR_REPORT_RECIPIENTS, report["folder"],
            )
            archived.append(report["label"])
            continue
        smtp = smtp or adapter.smtp_settings()
        if smtp is None:  # recipients are configured but there is no way to reach them: fail loudly
            raise RuntimeError(
                f"finance report {report['label']}: {len(recipients)} recipient(s) configured but the SMTP "
                f"connection {adapter.SMTP_CONN_ID} is not defined; the report is archived at {report['folder']}"
            )
        mail = message_from_bytes(Path(report["eml"]).read_bytes(), policy=default_policy)
        refused = send_report(mail, recipients, smtp)
        sent.append({"label": report["label"], "recipients": len(recipients) - len(refused),
                     "refused": sorted(refused)})
    return adapter.to_xcom({"sent": sent, "archived_only": archived})
