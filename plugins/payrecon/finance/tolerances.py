"""The merchant's tolerances (`include/config/tolerances.yaml`): when a difference matches and is written off.

A difference d matches when |d| <= max(absolute_minor, floor(relative * |expected|)); the SQL steps apply
the same rule set-based through the `finance_tolerances` snapshot, `within()` is its plain statement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from payrecon.finance.config import WILDCARD, Fields, FinanceConfigError, read_yaml, specificity
from payrecon.settings import CONFIG_DIR
from payrecon.warehouse.bulk import insert_frame

DEFAULT_PATH = CONFIG_DIR / "tolerances.yaml"
RULE_KEYS = {"gateway", "currency", "absolute_minor", "relative", "date_window_days"}


@dataclass(frozen=True)
class ToleranceRule:
    gateway: str
    currency: str
    absolute_minor: int
    relative: Decimal
    date_window_days: int

    def allowed_minor(self, expected_minor: int) -> int:
        return max(self.absolute_minor, math.floor(self.relative * abs(expected_minor)))

    def within(self, expected_minor: int, difference_minor: int) -> bool:
        return abs(difference_minor) <= self.allowed_minor(expected_minor)


@dataclass(frozen=True)
class Tolerances:
    rules: tuple[ToleranceRule, ...]
    bank_descriptors: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def rule_for(self, gateway: str, currency: str) -> ToleranceRule:
        fitting = [r for r in self.rules if r.gateway in (gateway, WILDCARD) and r.currency in (currency, WILDCARD)]
        return max(fitting, key=lambda r: specificity(r.gateway, r.currency))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "gateway": [r.gateway for r in self.rules],
                "currency": [r.currency for r in self.rules],
                "absolute_minor": [r.absolute_minor for r in self.rules],
                "relative": [str(r.relative) for r in self.rules],
                "date_window_days": [r.date_window_days for r in self.rules],
                "specificity": [specificity(r.gateway, r.currency) for r in self.rules],
            }
        )

    def descriptor_frame(self) -> pd.DataFrame:
        pairs = [(g, p.upper()) for g, pats in sorted(self.bank_descriptors.items()) for p in pats]
        return pd.DataFrame(pairs, columns=["gateway", "pattern"])


def load_tolerances(path: Path = DEFAULT_PATH) -> Tolerances:
    """Read and check the file; raises FinanceConfigError naming the entry and field at fault."""
    data = read_yaml(path)
    unknown = sorted(set(data) - {"defaults", "rules", "bank_descriptors"})
    if unknown:
        raise FinanceConfigError(f"{path}: unknown top-level key(s) {', '.join(map(repr, unknown))}")
    d = Fields(path, "defaults", data.get("defaults") or {}, RULE_KEYS - {"gateway", "currency"})
    default = ToleranceRule(
        WILDCARD,
        WILDCARD,
        d.integer("absolute_minor", 0),
        d.decimal("relative", "0", high=Decimal(1)),
        d.integer("date_window_days", 3, high=60),
    )
    rules = [default]
    seen = {(WILDCARD, WILDCARD)}
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        raise FinanceConfigError(f"{path}: rules: expected a list of rules, got {raw_rules!r}")
    for i, raw in enumerate(raw_rules):
        f = Fields(path, f"rules[{i}]", raw, RULE_KEYS)
        for key in ("gateway", "currency"):
            if not f.has(key):
                raise FinanceConfigError(f'{path}: rules[{i}]: "{key}" is required (use "*" for any)')
        rule = ToleranceRule(
            f.name("gateway"),
            f.currency("currency"),
            f.integer("absolute_minor", default.absolute_minor),
            f.decimal("relative", str(default.relative), high=Decimal(1)),
            f.integer("date_window_days", default.date_window_days, high=60),
        )
        key = (rule.gateway, rule.currency)
        if key in seen:
            raise FinanceConfigError(f"{path}: rules[{i}]: a second rule for gateway {key[0]!r}, currency {key[1]!r}")
        seen.add(key)
        rules.append(rule)
    descriptors: dict[str, tuple[str, ...]] = {}
    raw_desc = data.get("bank_descriptors") or {}
    if not isinstance(raw_desc, dict):
        raise FinanceConfigError(f"{path}: bank_descriptors: expected gateway: [patterns], got {raw_desc!r}")
    for gateway, patterns in raw_desc.items():
        if isinstance(patterns, str):
            patterns = [patterns]
        if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p.strip() for p in patterns):
            raise FinanceConfigError(f"{path}: bank_descriptors.{gateway}: expected a list of non-empty texts")
        descriptors[str(gateway).lower()] = tuple(p.strip() for p in patterns)
    return Tolerances(tuple(rules), descriptors)


def write_snapshot(conn: Connection, tolerances: Tolerances) -> None:
    """Replace the `finance_tolerances` and `finance_bank_descriptors` snapshots the SQL steps join."""
    conn.exec_driver_sql("delete from finance_tolerances")
    conn.exec_driver_sql("delete from finance_bank_descriptors")
    insert_frame(conn, "finance_tolerances", tolerances.frame())
    insert_frame(conn, "finance_bank_descriptors", tolerances.descriptor_frame())
