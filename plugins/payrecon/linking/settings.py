"""How linking decides (R8); plain and frozen so tests and the adapter build it the same way."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkSettings:
    """Thresholds for identity matching and the purchase window.

    A shared card or phone is evidence a household also has, so it only links two records whose first
    *and* last names agree; an email (normalised) is personal, so it needs only one name to agree.
    """

    window_days: int = 30
    duplicate_minutes: int = 30
    horizon_days: int = 90
    max_block_size: int = 50
    email_name_min: float = 0.80
    shared_device_name_min: float = 0.85

    def __post_init__(self) -> None:
        if self.window_days < 1 or self.horizon_days < self.window_days or self.max_block_size < 2:
            raise ValueError(f"link settings out of range: {self!r}")
