"""The ingestion configuration: which format each gateway folder holds, limits, generic CSV mappings.

`include/config/gateways.yaml` and `include/config/generic_csv_mappings.yaml`, validated on load: a
mistake names the file, the entry and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from payrecon.ingestion.fields import DEFAULT_MAX_ABS_AMOUNT
from payrecon.settings import CONFIG_DIR

GATEWAYS_FILE = CONFIG_DIR / "gateways.yaml"
MAPPINGS_FILE = CONFIG_DIR / "generic_csv_mappings.yaml"

FORMATS = ("generic", "stripe", "adyen", "paypal_stl", "braintree")

GENERIC_FIELDS = {
    "transaction_id": True,
    "type": True,
    "charge_id": False,
    "order_id": False,
    "occurred_at": True,
    "currency": True,
    "gross": True,
    "fee": True,
    "net": True,
    "presentment_amount": False,
    "presentment_currency": False,
    "payout_id": False,
    "description": False,
}
"""Generic CSV fields (CONTRACT.md §2) and whether a mapping must name a column for each."""


class ConfigError(ValueError):
    """The configuration file is wrong; the message says where and how."""


class GenericMapping(BaseModel):
    """A merchant-declared column mapping for the generic format."""

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, str] = Field(description="our field → the merchant's column name")
    types: dict[str, str] = Field(default_factory=dict, description="the merchant's type value → our line type")
    timezone: str | None = None
    decimal_comma: bool = False
    delimiter: str | None = None
    date_formats: list[str] = Field(default_factory=list)

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(GENERIC_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; known: {sorted(GENERIC_FIELDS)}")
        missing = sorted(k for k, req in GENERIC_FIELDS.items() if req and k not in value)
        if missing:
            raise ValueError(f"required field(s) {missing} have no column")
        empty = sorted(k for k, v in value.items() if not str(v).strip())
        if empty:
            raise ValueError(f"field(s) {empty} map to an empty column name")
        return value

    @field_validator("types")
    @classmethod
    def _types(cls, value: dict[str, str]) -> dict[str, str]:
        from payrecon.ingestion.lines import LINE_TYPES

        wrong = {k: v for k, v in value.items() if v not in LINE_TYPES}
        if wrong:
            raise ValueError(f"type(s) map to unknown line types {wrong}; line types: {list(LINE_TYPES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f"delimiter must be one character, got {value!r}")
        return value


class _MappingsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mappings: dict[str, GenericMapping] = Field(default_factory=dict)


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_abs_amount: int = Field(DEFAULT_MAX_ABS_AMOUNT, gt=0, description="absurd-amount bound, major units")
    lookback_days: int = Field(1100, gt=0, description="oldest occurred_at accepted, days before the report")


class _GatewaysFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gateways: dict[str, str]
    limits: Limits = Field(default_factory=Limits)

    @field_validator("gateways")
    @classmethod
    def _formats(cls, value: dict[str, str]) -> dict[str, str]:
        for gateway, fmt in value.items():
            base = fmt.split(":", 1)[0]
            if base not in FORMATS:
                raise ValueError(f"gateway {gateway!r}: unknown format {fmt!r}; formats: {list(FORMATS)}")
            if ":" in fmt and base != "generic":
                raise ValueError(f"gateway {gateway!r}: only the generic format takes a mapping, got {fmt!r}")
        return value

    @model_validator(mode="after")
    def _names(self) -> _GatewaysFile:
        for gateway in self.gateways:
            if not gateway or "/" in gateway or gateway.startswith("."):
                raise ValueError(f"gateway folder name {gateway!r} is not a plain folder name")
        return self


@dataclass(frozen=True)
class IngestionConfig:
    gateways: dict[str, str]
    limits: Limits
    mappings: dict[str, GenericMapping] = field(default_factory=dict)

    def mapping(self, name: str) -> GenericMapping:
        if name not in self.mappings:
            raise ConfigError(f"{MAPPINGS_FILE.name}: no mapping named {name!r} (have: {sorted(self.mappings)})")
        return self.mappings[name]


def _load_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file {path} is missing") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name} is not valid YAML: {exc}") from exc


def _explain(path: Path, exc: ValidationError) -> ConfigError:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}")
    return ConfigError(f"{path.name} is invalid: " + "; ".join(parts))


def load_mappings(path: Path = MAPPINGS_FILE) -> dict[str, GenericMapping]:
    raw = _load_yaml(path) if path.exists() else {}
    try:
        return _MappingsFile.model_validate(raw).mappings
    except ValidationError as exc:
        raise _explain(path, exc) from None


def load_config(gateways_path: Path = GATEWAYS_FILE, mappings_path: Path = MAPPINGS_FILE) -> IngestionConfig:
    try:
        parsed = _GatewaysFile.model_validate(_load_yaml(gateways_path))
    except ValidationError as exc:
        raise _explain(gateways_path, exc) from None
    mappings = load_mappings(mappings_path)
    for gateway, fmt in parsed.gateways.items():
        if fmt.startswith("generic:") and fmt.split(":", 1)[1] not in mappings:
            raise ConfigError(
                f"{gateways_path.name}: gateway {gateway!r} uses mapping {fmt.split(':', 1)[1]!r}, "
                f"which {mappings_path.name} does not define (have: {sorted(mappings)})"
            )
    return IngestionConfig(gateways=dict(parsed.gateways), limits=parsed.limits, mappings=mappings)


@cache
def default_config() -> IngestionConfig:
    return load_config()
