"""The follow-up configuration (`include/config/actions.yaml`), checked on load.

Purchase action sets (R9, R10), the payment-failure workflow (R11), journeys (R13) and delivery
settings. A bad entry fails loading with its path in the file (`action_sets.products.P-1.failed_purchase:
unknown action 'x'`), never at send time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from payrecon.settings import CONFIG_DIR, INCLUDE_DIR

DEFAULT_CONFIG_PATH = CONFIG_DIR / "actions.yaml"
TEMPLATES_DIR = INCLUDE_DIR / "templates"

PurchaseEvent = Literal["contact_creation", "successful_purchase", "failed_purchase", "error_purchase"]
PURCHASE_EVENTS: tuple[str, ...] = ("contact_creation", "successful_purchase", "failed_purchase", "error_purchase")
#: Event kinds whose pending messages are cancelled once the customer has paid.
FAILURE_EVENTS: frozenset[str] = frozenset({"failed_purchase", "error_purchase", "offline_order"})
Origin = Literal["shopping_cart", "order_form", "legacy_order_form", "manual", "campaign", "api", "action_set"]
ORIGINS: tuple[str, ...] = ("shopping_cart", "order_form", "legacy_order_form", "manual", "campaign", "api", "action_set")
Channel = Literal["email", "sms", "team", "crm"]
ExitOn = Literal["course_started", "paid"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
Name = Annotated[str, Field(pattern=_NAME.pattern)]


class ConfigError(ValueError):
    """The configuration file is not valid; the message names every bad entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MerchantContact(_Strict):
    email: str
    phone: str
    website: str


class Merchant(_Strict):
    name: str
    from_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    contact: MerchantContact
    update_payment_url: str
    default_origins: list[Origin] = Field(default_factory=lambda: ["shopping_cart", "order_form"])
    legacy_and_manual_orders_trigger_product_actions: bool = False
    allow_offline_orders: bool = True

    @property
    def message_id_domain(self) -> str:
        return self.from_email.rsplit("@", 1)[1]


class Team(_Strict):
    email: str | None = None


class Delivery(_Strict):
    batch_size: int = Field(50, ge=1, le=1000)
    max_attempts: int = Field(6, ge=1, le=50)
    backoff_seconds: int = Field(60, ge=0)
    backoff_max_seconds: int = Field(3600, ge=0)
    lease_seconds: int = Field(300, ge=1)
    stale_after_days: int = Field(14, ge=1)
    late_event_lookback_days: int = Field(3, ge=0)


class ContactCreation(_Strict):
    new_if_created_within_minutes: int = Field(60, ge=0)


class Action(_Strict):
    channel: Channel
    template: str | None = None
    to: str | None = None
    kind: Literal["task", "notification"] | None = None
    operation: Literal["upsert_contact", "record_payment_failure"] | None = None
    contact_type: Literal["prospect", "customer"] | None = None
    tags_add: list[str] = Field(default_factory=list)
    tags_remove: list[str] = Field(default_factory=list)
    delay_minutes: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _shape(self) -> Action:
        if self.channel == "crm":
            if self.operation is None:
                raise ValueError("a crm action needs an `operation`")
            if self.template is not None:
                raise ValueError("a crm action has no template (its payload is the contact update)")
        else:
            if not self.template:
                raise ValueError(f"a {self.channel} action needs a `template`")
            if self.operation or self.contact_type or self.tags_add or self.tags_remove:
                raise ValueError(f"operation, contact_type and tags belong to crm actions, not {self.channel}")
        if self.channel == "team" and not self.to:
            raise ValueError("a team action needs `to: <team name>`")
        if self.channel in {"email", "sms"} and self.to not in (None, "customer") and not str(self.to).startswith(
            "team:"
        ):
            raise ValueError(f"`to` of a {self.channel} action is `customer` or `team:<name>`, got {self.to!r}")
        if self.channel == "sms" and self.to not in (None, "customer"):
            raise ValueError("sms actions go to the customer")
        return self

    @property
    def team(self) -> str | None:
        if self.channel == "team":
            return self.to
        if self.to and self.to.startswith("team:"):
            return self.to.split(":", 1)[1]
        return None


class ProductActions(_Strict):
    contact_creation: list[Name] = Field(default_factory=list)
    successful_purchase: list[Name] = Field(default_factory=list)
    failed_purchase: list[Name] = Field(default_factory=list)
    error_purchase: list[Name] = Field(default_factory=list)
    replace_defaults: list[PurchaseEvent] = Field(default_factory=list)

    def for_event(self, event: str) -> list[str]:
        return list(getattr(self, event))


class DefaultActions(_Strict):
    contact_creation: list[Name] = Field(default_factory=list)
    successful_purchase: list[Name] = Field(default_factory=list)
    failed_purchase: list[Name] = Field(default_factory=list)
    error_purchase: list[Name] = Field(default_factory=list)

    def for_event(self, event: str) -> list[str]:
        return list(getattr(self, event))


class ActionSets(_Strict):
    defaults: DefaultActions = Field(default_factory=DefaultActions)
    offline_order: list[Name] = Field(default_factory=list)
    products: dict[str, ProductActions] = Field(default_factory=dict)


class ProductAttributes(_Strict):
    course: bool = False
    course_url: str | None = None
    help_links: list[str] = Field(default_factory=list)


class Trigger(_Strict):
    event: Literal["successful_purchase", "failed_purchase", "error_purchase"]
    products: Literal["courses"] | list[str]
    subscription_only: bool = False


class Step(_Strict):
    name: Name
    send: list[Name] | None = None
    await_delivery_of: Name | None = None
    wait_days: int | None = Field(None, ge=0, le=365)
    exit_on: ExitOn | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [k for k in ("send", "await_delivery_of", "wait_days") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"step {self.name!r} needs exactly one of send, await_delivery_of, wait_days (got {kinds})")
        if self.exit_on and self.wait_days is None:
            raise ValueError(f"step {self.name!r}: exit_on belongs to a wait_days step")
        return self

    @property
    def kind(self) -> str:
        if self.send is not None:
            return "send"
        if self.await_delivery_of is not None:
            return "await_delivery"
        return "wait"


class Journey(_Strict):
    trigger: Trigger
    steps: list[Step] = Field(min_length=1)
    exit_on: ExitOn | None = None
    cancel_when_paid: bool = False

    def next_step(self, index: int) -> str:
        return self.steps[index + 1].name if index + 1 < len(self.steps) else "end"


class FollowupConfig(_Strict):
    merchant: Merchant
    teams: dict[Name, Team] = Field(default_factory=dict)
    delivery: Delivery = Field(default_factory=Delivery)
    contact_creation: ContactCreation = Field(default_factory=ContactCreation)
    actions: dict[Name, Action]
    action_sets: ActionSets = Field(default_factory=ActionSets)
    products: dict[str, ProductAttributes] = Field(default_factory=dict)
    journeys: dict[Name, Journey] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> FollowupConfig:
        from payrecon.followups.config_checks import reference_problems

        problems = reference_problems(self, Path((info.context or {}).get("templates_dir", TEMPLATES_DIR)))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # -- derived views --------------------------------------------------------------------------------

    def course_products(self) -> list[str]:
        return sorted(p for p, attrs in self.products.items() if attrs.course)

    def trigger_products(self, journey: Journey) -> list[str]:
        if journey.trigger.products == "courses":
            return self.course_products()
        return list(journey.trigger.products)


def _format(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) if not isinstance(part, int) else f"[{part}]" for part in err["loc"])
        loc = loc.replace(".[", "[")
        msg = str(err["msg"]).removeprefix("Value error, ")
        for part in msg.split("; ") if not loc else [msg]:
            lines.append(f"{loc}: {part}" if loc else part)
    return lines


def parse_config(data: Any, *, source: str = "actions.yaml", templates_dir: Path | None = None) -> FollowupConfig:
    """Validate an already-read mapping; raises ConfigError naming every bad entry."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return FollowupConfig.model_validate(data, context={"templates_dir": templates_dir or TEMPLATES_DIR})
    except ValidationError as exc:
        details = "\n".join(f"  - {line}" for line in _format(exc))
        raise ConfigError(f"{source}: invalid follow-up configuration:\n{details}") from None


def load_config(
    path: Path | None = None, *, allow_offline_orders: bool | None = None, templates_dir: Path | None = None
) -> FollowupConfig:
    """Read and check `actions.yaml`; `allow_offline_orders` (the Airflow Variable) overrides the file."""
    path = Path(path or DEFAULT_CONFIG_PATH)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    config = parse_config(data, source=str(path), templates_dir=templates_dir)
    if allow_offline_orders is not None and allow_offline_orders != config.merchant.allow_offline_orders:
        merchant = config.merchant.model_copy(update={"allow_offline_orders": allow_offline_orders})
        config = config.model_copy(update={"merchant": merchant})
    return config
