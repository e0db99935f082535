"""What the order rules need to know from the merchant, as a plain frozen object.

`airflow_adapter.rule_settings_from_airflow` fills it from Variables; tests build it directly. The
default for Auto Charge is No: without the merchant saying Yes, nothing is charged again (R2).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

# Decline codes after which a card must not be charged again: the issuer said the card is gone, the
# account is closed or the holder withdrew consent. Retrying these is what card networks fine for.
HARD_DECLINE_CODES: frozenset[str] = frozenset(
    {
        "stolen_card",
        "lost_card",
        "pickup_card",
        "pick_up_card",
        "fraudulent",
        "suspected_fraud",
        "invalid_account",
        "account_closed",
        "do_not_honor_permanently",
        "do_not_try_again",
        "restricted_card",
        "revocation_of_authorization",
        "revocation_of_all_authorizations",
        "stop_payment_order",
        "security_violation",
        "transaction_not_allowed",
        "invalid_card_number",
        "incorrect_number",
        "card_not_supported",
        "currency_not_supported",
    }
)


@dataclass(frozen=True)
class RuleSettings:
    """Merchant choices the rules depend on; stored with every run in `decision_runs`."""

    auto_charge: bool = False
    retry_cap_per_card_30d: int = 4
    retry_interval_days: int = 3
    max_retries_per_order: int = 3
    hard_decline_codes: frozenset[str] = field(default=HARD_DECLINE_CODES)

    def __post_init__(self) -> None:
        if self.retry_cap_per_card_30d < 0 or self.retry_interval_days < 1 or self.max_retries_per_order < 0:
            raise ValueError(f"retry settings out of range: {self!r}")

    def as_json(self) -> str:
        data = asdict(self)
        data["hard_decline_codes"] = sorted(self.hard_decline_codes)
        return json.dumps(data, sort_keys=True)


def parse_bool(value: object) -> bool:
    """Variables arrive as text; accept the spellings a merchant types in the UI."""
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "on"}:
        return True
    if text in {"0", "false", "no", "n", "off", ""}:
        return False
    raise ValueError(f"not a yes/no value: {value!r}")
