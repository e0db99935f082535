"""Land a window's settlement files: each file once (by SHA-256), validated, nothing lost.

For every gateway of `include/config/gateways.yaml` and every report date inside the window, each file
in `{inbox}/{gateway}/{YYYY-MM-DD}/` is read, parsed by its format, validated (the Great Expectations
settlement suite on the whole batch) and written — good lines to `settlement_lines`, the rest to
`quarantine`, the manifest row to `landed_files` — in ONE transaction per file: a killed task leaves no
partial file, and a replay finds the checksum and does nothing.

Per file, lines read = lines loaded + lines quarantined, checked before anything is written
(`LandingInvariantError` otherwise). A file that cannot be read at all is quarantined whole (line 0),
recorded with status `rejected` and logged at ERROR; the other files still land.
"""

from __future__ import annotations

import hashlib
import logging
import time as _time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, text

from payrecon.ingestion import quarantine as Q
from payrecon.ingestion.config import IngestionConfig, default_config
from payrecon.ingestion.csv_reading import BadRecord, clip
from payrecon.ingestion.errors import LandingInvariantError, UnreadableFile
from payrecon.ingestion.formats import parser_for
from payrecon.ingestion.lines import LINE_COLUMNS, FileContext, ParsedFile
from payrecon.ingestion.object_store import inbox_path, report_dates, report_files, unconfigured_folders
from payrecon.settings import Settings, Window
from payrecon.warehouse import sql
from payrecon.warehouse.bulk import insert_frame, release_unused_memory

log = logging.getLogger(__name__)

STATUS_LANDED = "landed"
STATUS_EMPTY = "empty"
STATUS_REJECTED = "rejected"
STATUS_SKIPPED = "skipped"  # already landed: a replay, nothing written


@dataclass
class FileReport:
    gateway: str
    file_name: str
    report_date: str
    format: str
    file_id: str
    status: str
    lines_read: int = 0
    lines_loaded: int = 0
    lines_quarantined: int = 0
    detail: str | None = None
    seconds: float = 0.0


@dataclass
class LandingReport:
    """Counts per file for one window; `as_dict()` is JSON-able (logs, XCom)."""

    window_start: str
    window_end: str
    files: list[FileReport] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rejected(self) -> list[FileReport]:
        return [f for f in self.files if f.status == STATUS_REJECTED]

    @property
    def lines_read(self) -> int:
        return sum(f.lines_read for f in self.files if f.status != STATUS_SKIPPED)

    @property
    def lines_loaded(self) -> int:
        return sum(f.lines_loaded for f in self.files if f.status != STATUS_SKIPPED)

    @property
    def lines_quarantined(self) -> int:
        return sum(f.lines_quarantined for f in self.files if f.status != STATUS_SKIPPED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "window_start": self.window_start,
            "window_end": self.window_end,
            "files_seen": len(self.files),
            "files_landed": self._count(STATUS_LANDED) + self._count(STATUS_EMPTY),
            "files_skipped": self._count(STATUS_SKIPPED),
            "files_rejected": self._count(STATUS_REJECTED),
            "lines_read": self.lines_read,
            "lines_loaded": self.lines_loaded,
            "lines_quarantined": self.lines_quarantined,
            "rejected": [{"file": f"{f.gateway}/{f.report_date}/{f.file_name}", "reason": f.detail} for f in self.rejected],
            "files": [asdict(f) for f in self.files],
        }


def land_window(
    engine: Engine, settings: Settings, window: Window, config: IngestionConfig | None = None
) -> LandingReport:
    """Land every configured gateway's files for the report dates inside `window`."""
    config = config or default_config()
    report = LandingReport(window.start.isoformat(), window.end.isoformat())
    inbox = inbox_path(settings.inbox_dir)
    for day in report_dates(window):
        for gateway, fmt in config.gateways.items():
            for path in report_files(inbox, gateway, day):
                report.files.append(land_file(engine, path, gateway=gateway, fmt=fmt, report_date=day, config=config))
    with engine.begin() as conn:
        sql.analyze_after_load(conn, "settlement_lines", report.lines_loaded)
    for folder in unconfigured_folders(inbox, config.gateways, report_dates(window)):
        log.warning("inbox folder %s has files for this window but no entry in gateways.yaml: not landed", folder)
    summary = report.as_dict()
    summary.pop("files")
    log.info("landed window %s: %s", window.label, summary)
    for f in report.rejected:
        log.error("REJECTED settlement file %s/%s/%s: %s", f.gateway, f.report_date, f.file_name, f.detail)
    return report


def land_file(
    engine: Engine,
    path: Any,
    *,
    gateway: str,
    fmt: str,
    report_date: date,
    config: IngestionConfig | None = None,
) -> FileReport:
    """Land one file (a path or UPath) once; returns what happened to it."""
    data = path.read_bytes()
    return land_bytes(
        engine,
        data,
        file_name=path.name,
        source_uri=str(path),
        gateway=gateway,
        fmt=fmt,
        report_date=report_date,
        config=config,
    )


def land_bytes(
    engine: Engine,
    data: bytes,
    *,
    file_name: str,
    gateway: str,
    fmt: str,
    report_date: date,
    source_uri: str | None = None,
    config: IngestionConfig | None = None,
) -> FileReport:
    config = config or default_config()
    started = _time.perf_counter()
    file_id = hashlib.sha256(data).hexdigest()
    rep = FileReport(gateway, file_name, report_date.isoformat(), fmt, file_id, STATUS_SKIPPED)
    # One transaction per file: the checksum check, then (parsed and validated meanwhile) lines, quarantine
    # and manifest. Never committed here by hand: a caller may run it inside its own outer transaction.
    with engine.begin() as conn:
        if _already_landed(conn, file_id):
            log.info("skip %s/%s: already landed (sha256 %s)", gateway, file_name, file_id[:12])
            return rep
        _land_new(conn, rep, data, file_name=file_name, gateway=gateway, fmt=fmt, report_date=report_date,
                  source_uri=source_uri, config=config)
    rep.seconds = round(_time.perf_counter() - started, 3)
    level = logging.ERROR if rep.status == STATUS_REJECTED else logging.INFO
    log.log(
        level,
        "%s %s/%s/%s: read %d, loaded %d, quarantined %d%s",
        rep.status,
        gateway,
        rep.report_date,
        file_name,
        rep.lines_read,
        rep.lines_loaded,
        rep.lines_quarantined,
        f" ({rep.detail})" if rep.detail else "",
    )
    return rep


def _land_new(
    conn: Connection,
    rep: FileReport,
    data: bytes,
    *,
    file_name: str,
    gateway: str,
    fmt: str,
    report_date: date,
    source_uri: str | None,
    config: IngestionConfig,
) -> None:
    """Parse and validate, then write lines, quarantine and manifest on `conn` (the caller's transaction)."""
    file_id = rep.file_id
    window_start = datetime.combine(report_date, time(), tzinfo=UTC)
    ctx = FileContext(file_name, gateway, report_date, config.limits.max_abs_amount)
    try:
        parsed = parser_for(fmt)(data, ctx)
        release_unused_memory()  # the raw CSV strings: freed, but cached by Arrow's allocator
        rep.status = STATUS_LANDED if parsed.lines_read else STATUS_EMPTY
        if not parsed.lines_read:
            rep.detail = "header only: no settlement lines"
        rep.lines_read = parsed.lines_read
        lines, bad = _validated(parsed, file_id, gateway, window_start, report_date, config)
        del parsed  # its frame: only `lines` (Arrow) goes on
        release_unused_memory()
    except UnreadableFile as exc:
        rep.status, rep.detail = STATUS_REJECTED, exc.message
        lines, bad = None, [BadRecord(0, f"unreadable file ({exc.problem}): {exc.message}", _head(data))]
        rep.lines_read = _count_lines(data)
    except LandingInvariantError:
        raise  # a line would be lost: never turned into a rejection
    except Exception as exc:  # a parser bug must not take the other files down; it is reported loudly
        log.exception("parser %s crashed on %s/%s", fmt, gateway, file_name)
        rep.status = STATUS_REJECTED
        rep.detail = f"parser error ({type(exc).__name__}): {exc}"
        lines, bad = None, [BadRecord(0, f"unreadable file (parser_error): {rep.detail}", _head(data))]
        rep.lines_read = _count_lines(data)
    bad = Q.merge(bad)
    if rep.status == STATUS_REJECTED:
        rep.lines_loaded, rep.lines_quarantined = 0, rep.lines_read
    else:
        rep.lines_loaded, rep.lines_quarantined = len(lines), len(bad)
    if rep.lines_read != rep.lines_loaded + rep.lines_quarantined:
        raise LandingInvariantError(
            f"{gateway}/{file_name}: lines read {rep.lines_read} != loaded {rep.lines_loaded} "
            f"+ quarantined {rep.lines_quarantined}"
        )
    now = datetime.now(UTC)
    qframe = Q.frame(
        bad, file_id=file_id, file_name=file_name, gateway=gateway, window_start=window_start, quarantined_at=now
    )
    if lines is not None and len(lines):
        insert_frame(conn, "settlement_lines", lines)
    del lines
    release_unused_memory()
    if len(qframe):
        insert_frame(conn, "quarantine", qframe)
    conn.execute(
        text(
            "insert into landed_files (file_id, gateway, format, file_name, report_date, byte_size,"
            " lines_read, lines_loaded, lines_quarantined, status, landed_at, detail, source_uri)"
            " values (:file_id, :gateway, :format, :file_name, :report_date, :byte_size, :lines_read,"
            " :lines_loaded, :lines_quarantined, :status, :landed_at, :detail, :source_uri)"
        ),
        {
            "file_id": file_id,
            "gateway": gateway,
            "format": fmt,
            "file_name": file_name,
            "report_date": report_date,
            "byte_size": len(data),
            "lines_read": rep.lines_read,
            "lines_loaded": rep.lines_loaded,
            "lines_quarantined": rep.lines_quarantined,
            "status": rep.status,
            "landed_at": now,
            "detail": rep.detail,
            "source_uri": source_uri,
        },
    )


def _already_landed(conn: Connection, file_id: str) -> bool:
    row = conn.execute(text("select 1 from landed_files where file_id = :file_id"), {"file_id": file_id}).first()
    return row is not None


def _validated(
    parsed: ParsedFile,
    file_id: str,
    gateway: str,
    window_start: datetime,
    report_date: date,
    config: IngestionConfig,
) -> tuple[pa.Table, list[BadRecord]]:
    """Ids added, the settlement suite run on the batch; rows failing a row expectation move to `bad`.

    The good lines come back as an Arrow table (LINE_COLUMNS): the bulk load's native input on both
    engines, built from the frame's own buffers, copied only to leave refused rows out.
    """
    lines = parsed.lines
    bad = list(parsed.bad)
    if lines.empty:
        return _arrow_lines(_with_ids(lines, file_id, gateway, window_start)), bad
    lines = _with_ids(lines, file_id, gateway, window_start)
    from payrecon.validation.settlement_lines import validate_lines

    outcome = validate_lines(
        lines,
        report_date,
        max_abs_amount=config.limits.max_abs_amount,
        lookback_days=config.limits.lookback_days,
    )
    if outcome.table_failures:
        raise UnreadableFile("validation", "; ".join(outcome.table_failures))
    positions = np.asarray([], dtype=np.int64)
    if outcome.rows:
        positions = outcome.bad_positions
        for p in positions:
            fld, reason = outcome.reason(int(p))
            bad.append(BadRecord(int(lines.at[int(p), "line_no"]), f"field {fld!r}: {reason}" if fld else reason,
                                 _raw_of(parsed, lines, int(p)), fld))
    table = _arrow_lines(lines)
    del lines
    return without_rows(table, positions), bad


SLICE_AROUND_MAX = 1_000


def without_rows(table: pa.Table, positions: np.ndarray) -> pa.Table:
    """`table` without the rows at `positions`.

    A few refused rows (the usual case) are cut out by slicing around them, which copies nothing: a
    filter would copy the whole file's lines (~150 MB for a 600k-line Stripe report, measured) at the
    landing task's memory peak. Many refused rows are filtered: thousands of slices would make thousands
    of chunks for the load."""
    if not len(positions):
        return table
    cuts = np.unique(np.asarray(positions, dtype=np.int64))
    if len(cuts) > SLICE_AROUND_MAX:
        keep = np.ones(table.num_rows, dtype=bool)
        keep[cuts] = False
        return table.filter(pa.array(keep))
    starts = np.concatenate(([0], cuts + 1))
    ends = np.concatenate((cuts, [table.num_rows]))
    parts = [table.slice(int(a), int(b - a)) for a, b in zip(starts, ends, strict=True) if b > a]
    return pa.concat_tables(parts) if parts else table.slice(0, 0)


def _arrow_lines(lines: pd.DataFrame) -> pa.Table:
    """`settlement_lines` columns as Arrow (string, int64 and UTC timestamp columns zero-copy)."""
    return pa.Table.from_pandas(lines, preserve_index=False)


def _with_ids(lines: pd.DataFrame, file_id: str, gateway: str, window_start: datetime) -> pd.DataFrame:
    out = lines.copy(deep=False)  # copy-on-write: the parsed columns are shared, not duplicated
    numbers = pc.cast(pa.array(out["line_no"].to_numpy(dtype=np.int64)), pa.string())
    line_id = pc.binary_join_element_wise(pa.scalar(file_id), numbers, ":")
    out.insert(0, "line_id", pd.Series(line_id.to_pandas(), dtype="str", index=out.index))
    out.insert(1, "file_id", file_id)
    out.insert(2, "gateway", gateway)
    wall = np.full(len(out), np.datetime64(window_start.astimezone(UTC).replace(tzinfo=None), "us"))
    out.insert(3, "window_start", pd.Series(wall, index=out.index).dt.tz_localize("UTC"))
    return out[LINE_COLUMNS]


def _raw_of(parsed: ParsedFile, lines: pd.DataFrame, pos: int) -> str:
    """The raw text of a row validation refused (or its parsed values when the format keeps no raw text)."""
    if parsed.raw_lookup is not None:
        raw = parsed.raw_lookup(int(lines.at[pos, "line_no"]))
        if raw is not None:
            return raw
    row = lines.iloc[pos]
    return clip(", ".join(f"{k}={row[k]}" for k in lines.columns if k not in ("line_id", "file_id", "window_start")))


def _head(data: bytes) -> str:
    return clip(data[:4000].decode("utf-8", "replace"))


def _count_lines(data: bytes) -> int:
    """Best-effort count of data lines in an unreadable file (non-blank lines after the first)."""
    lines = [ln for ln in data.replace(b"\r\n", b"\n").split(b"\n") if ln.strip()]
    return max(len(lines) - 1, 0) if lines else 0
