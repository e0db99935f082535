"""Build one finance report: query the warehouse once, then write the archive.

    {output_dir}/reports/{YYYY-MM-DD | YYYY-MM}/
        finance_report_{label}.html     the report (charts as files beside it)
        charts/*.png                    static charts
        finance_report_{label}.xlsx     one sheet per section
        csv/{section}.csv               one CSV per section
        finance_report_{label}.eml      the email exactly as sent (HTML with cid: images, attachments)
        manifest.json                   what was written, row counts, build time

The folder is written beside the old one and swapped in at the end, so a re-run replaces a report
whole and a reader never sees half of one. The report reads the warehouse in one transaction that is
rolled back: it writes nothing there.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from payrecon.reports import charts as charts_mod
from payrecon.reports import csv_out, html, xlsx
from payrecon.reports import email as email_mod
from payrecon.reports.formatting import DEFAULT_LOCALE
from payrecon.reports.period import ReportPeriod
from payrecon.reports.sections import ReportData, collect
from payrecon.settings import Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportArtifacts:
    label: str
    kind: str
    folder: Path
    html: Path
    workbook: Path
    eml: Path
    manifest: Path
    csvs: dict[str, Path] = field(default_factory=dict)
    charts: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    recipients: list[str] = field(default_factory=list)
    build_seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        return json.loads(json.dumps(out, default=str))


def reports_dir(output_dir: Path) -> Path:
    return Path(output_dir) / "reports"


def read_data(engine: Engine, period: ReportPeriod, generated_at: datetime) -> ReportData:
    """All sections from one consistent snapshot (repeatable read on PostgreSQL); nothing is written."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        trans = conn.begin()
        try:
            return collect(conn, period, generated_at)
        finally:
            trans.rollback()


def build_report(
    engine: Engine,
    window_or_month: Window | ReportPeriod | str,
    output_dir: Path,
    *,
    recipients: list[str] | None = None,
    sender: str | None = None,
    locale: str = DEFAULT_LOCALE,
    generated_at: datetime | None = None,
) -> ReportArtifacts:
    """Write the report of a window (`Window` or `YYYY-MM-DD`) or a month (`YYYY-MM`) to the archive."""
    began = time.perf_counter()
    period = ReportPeriod.parse(window_or_month)
    generated_at = generated_at or datetime.now(UTC)
    data = read_data(engine, period, generated_at)

    root = reports_dir(output_dir)
    final = root / period.label
    stage = root / f".{period.label}.tmp-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    try:
        names = _write_all(data, stage, final, recipients or [], sender, locale)
        _swap(stage, final)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    seconds = round(time.perf_counter() - began, 3)
    artifacts = ReportArtifacts(
        label=period.label,
        kind=period.kind,
        folder=final,
        html=final / names["html"],
        workbook=final / names["workbook"],
        eml=final / names["eml"],
        manifest=final / "manifest.json",
        csvs={k: final / "csv" / p for k, p in names["csvs"].items()},
        charts={k: final / "charts" / p for k, p in names["charts"].items()},
        rows={s.key: s.rows for s in data.sections},
        recipients=list(recipients or []),
        build_seconds=seconds,
    )
    manifest = {**artifacts.as_dict(), "generated_at": generated_at.isoformat(),
                "as_of": data.as_of.isoformat() if data.as_of else None,
                "windows_reconciled": data.windows_reconciled, "missing_tables": data.missing}
    artifacts.manifest.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    log.info("finance report %s written to %s in %.2f s (%s)", period.label, final, seconds,
             ", ".join(f"{k}={v}" for k, v in artifacts.rows.items()))
    return artifacts


def _write_all(data: ReportData, stage: Path, final: Path, recipients: list[str], sender: str | None,
               locale: str) -> dict:
    label = data.period.label
    chart_paths = charts_mod.render_charts(data, stage / "charts")
    csv_paths = csv_out.write_csvs(data, stage / "csv")
    workbook = xlsx.write_workbook(data, stage / f"finance_report_{label}.xlsx")
    archive_text = str(final)
    file_page = html.render(data, {k: f"charts/{p.name}" for k, p in chart_paths.items()}, locale,
                            workbook.name, archive_text)
    page = html.write_html(stage / f"finance_report_{label}.html", file_page.html)
    mail_page = html.render(data, {k: f"cid:{email_mod.content_id(k, label)}" for k in chart_paths}, locale,
                            workbook.name, archive_text)
    mail = email_mod.build_message(
        subject=f"Finance report - {data.period.title}", html=mail_page.html, text=mail_page.text,
        charts=chart_paths, label=label, workbook=workbook, csvs=csv_paths, recipients=recipients, sender=sender,
    )
    eml = email_mod.write_eml(mail, stage / f"finance_report_{label}.eml")
    return {
        "html": page.name,
        "workbook": workbook.name,
        "eml": eml.name,
        "csvs": {k: p.name for k, p in csv_paths.items()},
        "charts": {k: p.name for k, p in chart_paths.items()},
    }


def _swap(stage: Path, final: Path) -> None:
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        final.rename(old)
    stage.rename(final)
    shutil.rmtree(old, ignore_errors=True)
