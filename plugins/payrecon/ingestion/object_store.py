"""The inbox as a path: a local folder by default, or a bucket URL (`s3://…`, `gs://…`, `memory://…`).

universal-pathlib's `UPath` is what Airflow's ObjectStoragePath is built on; listing and reading go
through it, so both kinds of inbox read the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from upath import UPath

from payrecon.settings import Window

SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


def inbox_path(inbox: str | Path | UPath) -> UPath:
    return inbox if isinstance(inbox, UPath) else UPath(str(inbox))


def report_dates(window: Window) -> list[date]:
    """Report dates whose midnight (UTC) lies inside the window [start, end)."""
    day = window.start.date()
    if datetime.combine(day, time(), tzinfo=UTC) < window.start:
        day += timedelta(days=1)
    out = []
    while datetime.combine(day, time(), tzinfo=UTC) < window.end:
        out.append(day)
        day += timedelta(days=1)
    return out


def report_files(inbox: str | Path | UPath, gateway: str, day: date) -> Iterator[UPath]:
    """Files of one gateway and report date, in name order; hidden and partial uploads are skipped."""
    folder = inbox_path(inbox) / gateway / day.isoformat()
    try:
        if not folder.is_dir():
            return
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except FileNotFoundError:
        return
    for path in entries:
        if path.name.startswith(".") or path.name.lower().endswith(SKIP_SUFFIXES):
            continue
        if path.is_file():
            yield path


def unconfigured_folders(inbox: str | Path | UPath, gateways: Iterable[str], days: list[date]) -> list[str]:
    """Gateway folders of the inbox that hold one of `days` but are not configured (so nobody lands them)."""
    root = inbox_path(inbox)
    known = set(gateways)
    try:
        folders = [p for p in root.iterdir() if p.is_dir() and p.name not in known and not p.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [f"{p.name}/{d.isoformat()}" for p in sorted(folders, key=lambda p: p.name) for d in days
            if (p / d.isoformat()).is_dir()]


def write_bytes_atomic(path: UPath, data: bytes) -> None:
    """Write through a temporary name then rename, so the landing never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    try:
        tmp.rename(path)
    except (NotImplementedError, OSError):
        path.write_bytes(data)
        tmp.unlink(missing_ok=True)
