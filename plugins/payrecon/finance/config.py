"""Loading the merchant's finance YAML files with errors that name the file, the entry and the field."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from payrecon.money import known_currencies

WILDCARD = "*"
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


class FinanceConfigError(ValueError):
    """A finance configuration file is missing, malformed or holds a bad value."""


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FinanceConfigError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FinanceConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise FinanceConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


class Fields:
    """Reads one mapping of a config file, refusing unknown keys and naming the place of every error."""

    def __init__(self, path: Path, where: str, raw: Any, allowed: set[str]) -> None:
        if not isinstance(raw, dict):
            raise FinanceConfigError(f"{path}: {where}: expected a mapping, got {raw!r}")
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise FinanceConfigError(
                f"{path}: {where}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(allowed))}"
            )
        self.path, self.where, self.raw = path, where, raw

    def _fail(self, key: str, message: str) -> FinanceConfigError:
        return FinanceConfigError(f"{self.path}: {self.where}.{key}: {message}, got {self.raw.get(key)!r}")

    def has(self, key: str) -> bool:
        return key in self.raw

    def integer(self, key: str, default: int | None = None, low: int = 0, high: int | None = None) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "must be a whole number")
        if value < low or (high is not None and value > high):
            raise self._fail(key, f"must be between {low} and {high}" if high is not None else f"must be >= {low}")
        return value

    def decimal(self, key: str, default: str | None = None, low: Decimal = Decimal(0),
                high: Decimal | None = None) -> Decimal:
        value = self.raw.get(key, default)
        if isinstance(value, float):
            raise self._fail(key, "must be a quoted decimal string (floats are not exact)")
        if isinstance(value, bool) or value is None:
            raise self._fail(key, "must be a decimal string")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self._fail(key, "must be a decimal string") from None
        if not number.is_finite() or number < low or (high is not None and number > high):
            raise self._fail(key, f"must be a decimal between {low} and {high}")
        return number

    def name(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str) or not (value == WILDCARD or _NAME.match(value)):
            raise self._fail(key, 'must be a name (letters, digits, "_", "-", ".") or "*"')
        return value if value == WILDCARD else value.lower()

    def currency(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if value == WILDCARD:
            return WILDCARD
        if not isinstance(value, str) or value.upper() not in known_currencies():
            raise self._fail(key, 'must be an ISO 4217 currency code or "*"')
        return value.upper()


def specificity(*parts: str) -> int:
    """Rank of a rule: each non-wildcard part counts, the earlier parts more (gateway before currency)."""
    n = len(parts)
    return sum(1 << (n - 1 - i) for i, p in enumerate(parts) if p != WILDCARD)
