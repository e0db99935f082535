"""The merchant's fee schedules (`include/config/fee_schedules.yaml`) and the fee check.

Expected fee of a charge line = round_half_up(|gross| * percent / 100) + fixed_minor; the variance is the
gateway's fee minus that. Every charge line of a window gets a `fee_variances` row (SQL step
`finance/fee_variances`); a variance beyond the schedule's tolerance is also an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from payrecon.finance.config import WILDCARD, Fields, FinanceConfigError, read_yaml, specificity
from payrecon.settings import CONFIG_DIR
from payrecon.warehouse.bulk import insert_frame

DEFAULT_PATH = CONFIG_DIR / "fee_schedules.yaml"
KEYS = {"gateway", "card_brand", "currency", "percent", "fixed_minor", "variance_tolerance_minor"}


@dataclass(frozen=True)
class FeeSchedule:
    gateway: str
    card_brand: str
    currency: str
    percent: Decimal
    fixed_minor: int
    variance_tolerance_minor: int

    @property
    def fee_rate(self) -> Decimal:
        return self.percent / 100

    def expected_fee(self, gross_minor: int) -> int:
        variable = (abs(Decimal(gross_minor)) * self.fee_rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return int(variable) + self.fixed_minor


def load_fee_schedules(path: Path = DEFAULT_PATH) -> tuple[FeeSchedule, ...]:
    data = read_yaml(path)
    unknown = sorted(set(data) - {"defaults", "schedules"})
    if unknown:
        raise FinanceConfigError(f"{path}: unknown top-level key(s) {', '.join(map(repr, unknown))}")
    d = Fields(path, "defaults", data.get("defaults") or {}, {"variance_tolerance_minor"})
    tolerance = d.integer("variance_tolerance_minor", 0)
    raw = data.get("schedules")
    if not isinstance(raw, list) or not raw:
        raise FinanceConfigError(f"{path}: schedules: expected a non-empty list of schedules, got {raw!r}")
    out, seen = [], set()
    for i, entry in enumerate(raw):
        f = Fields(path, f"schedules[{i}]", entry, KEYS)
        for key in ("gateway", "percent", "fixed_minor"):
            if not f.has(key):
                raise FinanceConfigError(f'{path}: schedules[{i}]: "{key}" is required')
        schedule = FeeSchedule(
            gateway=f.name("gateway"),
            card_brand=f.name("card_brand", WILDCARD),
            currency=f.currency("currency", WILDCARD),
            percent=f.decimal("percent", high=Decimal(100)),
            fixed_minor=f.integer("fixed_minor"),
            variance_tolerance_minor=f.integer("variance_tolerance_minor", tolerance),
        )
        key = (schedule.gateway, schedule.card_brand, schedule.currency)
        if key in seen:
            raise FinanceConfigError(f"{path}: schedules[{i}]: a second schedule for {key}")
        seen.add(key)
        out.append(schedule)
    return tuple(out)


def schedule_for(schedules: tuple[FeeSchedule, ...], gateway: str, card_brand: str | None,
                 currency: str) -> FeeSchedule | None:
    fitting = [
        s for s in schedules
        if s.gateway in (gateway, WILDCARD) and s.card_brand in ((card_brand or "").lower(), WILDCARD)
        and s.currency in (currency, WILDCARD)
    ]
    return max(fitting, key=lambda s: specificity(s.gateway, s.card_brand, s.currency), default=None)


def write_snapshot(conn: Connection, schedules: tuple[FeeSchedule, ...]) -> None:
    conn.exec_driver_sql("delete from finance_fee_schedules")
    frame = pd.DataFrame(
        {
            "gateway": [s.gateway for s in schedules],
            "card_brand": [s.card_brand for s in schedules],
            "currency": [s.currency for s in schedules],
            "fee_rate": [str(s.fee_rate) for s in schedules],
            "fixed_minor": [s.fixed_minor for s in schedules],
            "variance_tolerance_minor": [s.variance_tolerance_minor for s in schedules],
            "specificity": [specificity(s.gateway, s.card_brand, s.currency) for s in schedules],
        }
    )
    insert_frame(conn, "finance_fee_schedules", frame)
