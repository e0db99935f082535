"""Release quarantined settlement lines after a fix, and replay a landed file.

**Release** (`release_quarantine`): a line was quarantined because the pipeline could not read it (a
format quirk, a merchant mapping that lacked a date format, an amount above the configured bound that
finance confirmed is real). After the fix (code or `include/config/*.yaml`), the file is read again
with the current code and configuration, from the inbox or wherever `landed_files.source_uri` points,
and must be byte-identical to the landed one (same SHA-256). Quarantined lines that now pass are loaded
with their usual ids (`file_id:line_no`) and their quarantine rows get `released_at`; lines that still
fail stay quarantined. A whole-file rejection (line 0) releases the whole file the same way. The file's
manifest counts are updated and the invariant read = loaded + quarantined (unreleased) is checked. All of
a release is ONE transaction; `dry_run` rolls it back after counting.

**Replay** (`replay_file`): a landed file is forgotten (its lines, quarantine rows and manifest row) and
landed again by the current code, from its source or from a corrected file, in one transaction. Use it
when lines were *loaded* wrongly, or to replace a file the gateway re-issued.

After either, the file's window must be reconciled again (trigger `reconcile` with that window): the
returned report names the windows. CLI: `python -m payrecon.ops release-quarantine|replay-file --help`.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from payrecon.ops.transaction import one_transaction
from payrecon.settings import Settings

log = logging.getLogger(__name__)


class ReleaseError(RuntimeError):
    """The release cannot be done as asked (unknown file, source changed, invariant broken)."""


@dataclass
class FileRelease:
    file_id: str
    gateway: str
    file_name: str
    report_date: str
    released: int = 0
    still_quarantined: int = 0
    lines_loaded: int = 0
    whole_file: bool = False
    still_failing: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id, "gateway": self.gateway, "file_name": self.file_name,
            "report_date": self.report_date, "released": self.released,
            "still_quarantined": self.still_quarantined, "lines_loaded": self.lines_loaded,
            "whole_file": self.whole_file, "still_failing": self.still_failing[:20],
        }


@dataclass
class ReleaseReport:
    dry_run: bool
    files: list[FileRelease] = field(default_factory=list)

    @property
    def released(self) -> int:
        return sum(f.released for f in self.files)

    @property
    def windows(self) -> list[str]:
        """Report dates whose window must be reconciled again."""
        return sorted({f.report_date for f in self.files if f.released})

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "released": self.released, "reconcile_windows": self.windows,
                "files": [f.as_dict() for f in self.files]}


def _rows(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def _selected_files(conn: Connection, file_id: str | None, gateway: str | None, report_date: date | None) -> list[str]:
    clauses, params = ["q.released_at is null"], {}
    if file_id:
        clauses.append("q.file_id = :file_id")
        params["file_id"] = file_id
    if gateway:
        clauses.append("q.gateway = :gateway")
        params["gateway"] = gateway
    if report_date:
        clauses.append("f.report_date = :report_date")
        params["report_date"] = report_date
    rows = _rows(
        conn,
        "select distinct q.file_id from quarantine q join landed_files f on f.file_id = q.file_id where "
        + " and ".join(clauses) + " order by q.file_id",
        **params,
    )
    return [r["file_id"] for r in rows]


def _source_bytes(manifest: dict[str, Any], settings: Settings, override: Path | None = None) -> bytes:
    """The file's bytes: an explicit path, else its recorded source, else the inbox location."""
    from payrecon.ingestion.object_store import inbox_path

    report_date = manifest["report_date"]
    day = report_date.isoformat() if hasattr(report_date, "isoformat") else str(report_date)[:10]
    candidates: list[Any] = []
    if override is not None:
        candidates.append(Path(override))
    if manifest.get("source_uri"):
        candidates.append(inbox_path(manifest["source_uri"]))
    candidates.append(inbox_path(settings.inbox_dir) / manifest["gateway"] / day / manifest["file_name"])
    for path in candidates:
        try:
            return path.read_bytes()
        except (FileNotFoundError, OSError):
            continue
    raise ReleaseError(f"file {manifest['file_id'][:12]} ({manifest['gateway']}/{day}/{manifest['file_name']}) "
                       f"is neither at its source nor in the inbox")


def _land_in_scratch(data: bytes, manifest: dict[str, Any], config: Any, workdir: Path) -> dict[str, Any]:
    """Land the bytes into an empty embedded warehouse with the current code; return what it made."""
    from payrecon.ingestion.landing import land_bytes
    from payrecon.warehouse.engine import warehouse
    from payrecon.warehouse.migrate import upgrade

    report_date = manifest["report_date"]
    report_date = report_date if isinstance(report_date, date) else date.fromisoformat(str(report_date)[:10])
    fmt = config.gateways.get(manifest["gateway"], manifest["format"])
    with warehouse(f"duckdb:///{workdir / 'scratch.duckdb'}") as scratch:
        upgrade(scratch)
        land_bytes(scratch, data, file_name=manifest["file_name"], gateway=manifest["gateway"], fmt=fmt,
                   report_date=report_date, source_uri=manifest.get("source_uri"), config=config)
        with scratch.connect() as conn:
            fid = manifest["file_id"]
            return {
                "lines": _rows(conn, "select * from settlement_lines where file_id = :f order by line_no", f=fid),
                "quarantine": _rows(conn, "select * from quarantine where file_id = :f order by line_no", f=fid),
                "manifest": _rows(conn, "select * from landed_files where file_id = :f", f=fid)[0],
            }


def _insert(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    conn.execute(
        text(f"insert into {table} ({', '.join(cols)}) values ({', '.join(':' + c for c in cols)})"),  # noqa: S608
        rows,
    )


def _release_file(conn: Connection, file_id: str, settings: Settings, config: Any, line_nos: set[int] | None,
                  now: datetime, workdir: Path) -> FileRelease:
    manifests = _rows(conn, "select * from landed_files where file_id = :f", f=file_id)
    if not manifests:
        raise ReleaseError(f"no landed file {file_id}")
    manifest = manifests[0]
    day = manifest["report_date"]
    out = FileRelease(file_id, manifest["gateway"], manifest["file_name"],
                      day.isoformat() if hasattr(day, "isoformat") else str(day)[:10])
    held = _rows(conn, "select line_no from quarantine where file_id = :f and released_at is null", f=file_id)
    held_nos = {int(r["line_no"]) for r in held}
    if line_nos is not None:
        held_nos &= set(line_nos) | {0}
    if not held_nos:
        return out
    data = _source_bytes(manifest, settings)
    if hashlib.sha256(data).hexdigest() != file_id:
        raise ReleaseError(
            f"{out.gateway}/{out.report_date}/{out.file_name}: the file at its source is not the one landed "
            f"(sha256 differs); to land a corrected file use replay_file"
        )
    scratch = _land_in_scratch(data, manifest, config, workdir)
    now_ok = {int(r["line_no"]): r for r in scratch["lines"]}
    loaded_nos = {int(r["line_no"]) for r in _rows(conn, "select line_no from settlement_lines where file_id = :f", f=file_id)}
    out.whole_file = 0 in held_nos
    if out.whole_file:
        release_nos = set(now_ok) if scratch["manifest"]["status"] != "rejected" else set()
    else:
        release_nos = held_nos & set(now_ok)
    new_lines = [now_ok[n] for n in sorted(release_nos - loaded_nos)]
    out.still_failing = [
        {"line_no": r["line_no"], "reason": r["reason"]} for r in scratch["quarantine"]
        if int(r["line_no"]) in held_nos or out.whole_file
    ]
    if not release_nos:  # the current code refuses them all still: nothing to change
        out.still_quarantined = len(held_nos)
        return out
    _insert(conn, "settlement_lines", new_lines)
    released_q = sorted(release_nos & held_nos) + ([0] if out.whole_file and release_nos else [])
    if released_q:
        conn.execute(
            text("update quarantine set released_at = :now where file_id = :f and released_at is null "
                 "and line_no in (" + ", ".join(str(int(n)) for n in released_q) + ")"),
            {"now": now, "f": file_id},
        )
    if out.whole_file and release_nos:  # lines the fixed code still refuses get their own rows
        existing = {int(r["line_no"]) for r in _rows(conn, "select line_no from quarantine where file_id = :f", f=file_id)}
        _insert(conn, "quarantine", [r for r in scratch["quarantine"] if int(r["line_no"]) not in existing])
    loaded = len(loaded_nos) + len(new_lines)
    quarantined = int(conn.execute(
        text("select count(*) from quarantine where file_id = :f and released_at is null"), {"f": file_id}
    ).scalar() or 0)
    lines_read = int(scratch["manifest"]["lines_read"]) if out.whole_file and release_nos else int(manifest["lines_read"])
    if lines_read != loaded + quarantined:
        raise ReleaseError(f"{out.gateway}/{out.file_name}: lines read {lines_read} != loaded {loaded} "
                           f"+ quarantined {quarantined}; nothing released")
    status = "landed" if (out.whole_file and release_nos) else manifest["status"]
    note = f"released {len(new_lines)} quarantined lines at {now.isoformat()}"
    conn.execute(
        text("update landed_files set lines_read = :r, lines_loaded = :l, lines_quarantined = :q, status = :s, "
             "detail = :d where file_id = :f"),
        {"r": lines_read, "l": loaded, "q": quarantined, "s": status, "f": file_id,
         "d": f"{manifest['detail']}; {note}" if manifest.get("detail") else note},
    )
    out.released, out.still_quarantined, out.lines_loaded = len(new_lines), quarantined, loaded
    log.info("release %s/%s/%s: %d lines released, %d still quarantined", out.gateway, out.report_date,
             out.file_name, out.released, out.still_quarantined)
    return out


def release_quarantine(
    engine: Engine,
    settings: Settings,
    *,
    file_id: str | None = None,
    gateway: str | None = None,
    report_date: date | None = None,
    line_nos: set[int] | None = None,
    config: Any = None,
    dry_run: bool = False,
) -> ReleaseReport:
    """Release what the current code and configuration now accept, for the selected files (all files
    with quarantined lines when nothing is selected); one transaction, rolled back when `dry_run`."""
    from payrecon.ingestion.config import default_config

    config = config or default_config()
    report = ReleaseReport(dry_run=dry_run)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="payrecon-release-") as tmp, \
            one_transaction(engine, commit=not dry_run, label="release quarantine") as tx, tx.connect() as conn:
        for fid in _selected_files(conn, file_id, gateway, report_date):
            workdir = Path(tmp) / fid[:16]
            workdir.mkdir()
            report.files.append(_release_file(conn, fid, settings, config, line_nos, now, workdir))
    log.warning("%sreleased %d quarantined lines in %d files; reconcile again: %s",
                "DRY RUN: would have " if dry_run else "", report.released, len(report.files), report.windows)
    return report


def replay_file(
    engine: Engine, settings: Settings, file_id: str, *, path: Path | None = None, config: Any = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Forget a landed file and land it again (from `path`, else its source) in one transaction."""
    from payrecon.ingestion.config import default_config
    from payrecon.ingestion.landing import land_bytes

    config = config or default_config()
    with one_transaction(engine, commit=not dry_run, label="replay file") as tx, tx.connect() as conn:
        manifests = _rows(conn, "select * from landed_files where file_id = :f", f=file_id)
        if not manifests:
            raise ReleaseError(f"no landed file {file_id}")
        manifest = manifests[0]
        data = _source_bytes(manifest, settings, path)
        removed = {
            table: conn.execute(text(f"delete from {table} where file_id = :f"), {"f": file_id}).rowcount  # noqa: S608
            for table in ("settlement_lines", "quarantine", "landed_files")
        }
        report_date = manifest["report_date"]
        report_date = report_date if isinstance(report_date, date) else date.fromisoformat(str(report_date)[:10])
        rep = land_bytes(
            tx, data, file_name=Path(path).name if path else manifest["file_name"], gateway=manifest["gateway"],
            fmt=config.gateways.get(manifest["gateway"], manifest["format"]), report_date=report_date,
            source_uri=str(path) if path else manifest.get("source_uri"), config=config,
        )
    result = {"dry_run": dry_run, "removed": removed, "landed": rep.__dict__, "reconcile_windows": [rep.report_date]}
    log.warning("%sreplayed %s: removed %s, landed %s", "DRY RUN: " if dry_run else "", file_id[:12], removed,
                {k: rep.__dict__[k] for k in ("file_id", "status", "lines_read", "lines_loaded", "lines_quarantined")})
    return result
