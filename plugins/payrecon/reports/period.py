"""What a report covers: one daily window, or a calendar month of windows (month close)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from payrecon.settings import Window

LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class ReportPeriod:
    """A half-open UTC interval [start, end) of whole days, labelled `YYYY-MM-DD` or `YYYY-MM`."""

    kind: str  # "window" | "month"
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m") if self.kind == "month" else self.start.strftime("%Y-%m-%d")

    @property
    def title(self) -> str:
        if self.kind == "month":
            return f"Month close {self.start.strftime('%B %Y')}"
        return f"Daily report {self.start.strftime('%a %d %b %Y')}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def lookback_start(self) -> datetime:
        """Open items (exceptions, unrecovered revenue) are listed from here: 30 days before the period."""
        return self.start - LOOKBACK

    @property
    def trend_start(self) -> datetime:
        return self.start - LOOKBACK

    def binds(self) -> dict[str, datetime]:
        return {
            "period_start": self.start,
            "period_end": self.end,
            "lookback_start": self.lookback_start,
            "trend_start": self.trend_start,
        }

    def windows(self) -> list[Window]:
        return Window(self.start, self.end).days()

    @classmethod
    def for_window(cls, window: Window) -> ReportPeriod:
        return cls("window", window.start, window.end)

    @classmethod
    def for_month(cls, year: int, month: int) -> ReportPeriod:
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        return cls("month", start, end)

    @classmethod
    def parse(cls, value: str | Window | ReportPeriod) -> ReportPeriod:
        """`2026-11-05` (a window), `2026-11` (a month), a Window or a ReportPeriod."""
        if isinstance(value, ReportPeriod):
            return value
        if isinstance(value, Window):
            return cls.for_window(value)
        text = str(value).strip()
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = (int(p) for p in text.split("-"))
            return cls.for_month(year, month)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return cls.for_window(Window.day(text))
        raise ValueError(f"a report period is YYYY-MM-DD (a window) or YYYY-MM (a month), got {value!r}")
