"""Plain settings objects: what every capability needs to know, with no Airflow in sight.

`airflow_adapter` builds these from Connections and Variables; tests and the demo build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = PROJECT_ROOT / "include"
SQL_DIR = INCLUDE_DIR / "sql"
CONFIG_DIR = INCLUDE_DIR / "config"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval [start, end): one Airflow data interval."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"window bounds must be timezone-aware, got {self.start!r} .. {self.end!r}")
        if self.end <= self.start:
            raise ValueError(f"window end {self.end.isoformat()} is not after start {self.start.isoformat()}")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))

    @classmethod
    def day(cls, iso_date: str) -> Window:
        start = datetime.fromisoformat(iso_date).replace(tzinfo=UTC)
        return cls(start, start + timedelta(days=1))

    @classmethod
    def parse(cls, start: str, end: str) -> Window:
        def aware(value: str) -> datetime:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

        return cls(aware(start), aware(end))

    def days(self) -> list[Window]:
        """Split into whole UTC days, for a manual run over a range."""
        out, cursor = [], self.start
        while cursor < self.end:
            nxt = min(cursor + timedelta(days=1), self.end)
            out.append(Window(cursor, nxt))
            cursor = nxt
        return out

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m-%d")

    def as_dict(self) -> dict[str, str]:
        return {"window_start": self.start.isoformat(), "window_end": self.end.isoformat()}


@dataclass(frozen=True)
class ReconSettings:
    """How reconciliation decides; merchant-declared."""

    settlement_grace_days: int = 3


@dataclass(frozen=True)
class Settings:
    """Everything a task needs, resolved once from Airflow (or a test)."""

    warehouse_url: str
    commerce_url: str | None = None
    inbox_dir: Path = DEFAULT_DATA_DIR / "inbox"
    output_dir: Path = DEFAULT_DATA_DIR / "output"
    recon: ReconSettings = field(default_factory=ReconSettings)
    pull_overlap: timedelta = timedelta(minutes=5)
