"""The merchant's tolerance and fee files: the rule applied, and errors that name file, entry and field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from payrecon.finance.config import FinanceConfigError
from payrecon.finance.exceptions import age_bucket
from payrecon.finance.fees import load_fee_schedules, schedule_for
from payrecon.finance.tolerances import load_tolerances


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def test_shipped_files_load() -> None:
    tol = load_tolerances()
    assert tol.rule_for("stripe", "USD").absolute_minor == 1
    assert tol.rule_for("somepay", "KWD").absolute_minor == 5  # "*" + currency
    assert "STRIPE" in tol.bank_descriptors["stripe"]
    assert schedule_for(load_fee_schedules(), "stripe", "visa", "USD") is not None


def test_most_specific_tolerance_wins_and_within_is_max_of_absolute_and_relative(tmp_path: Path) -> None:
    tol = load_tolerances(_write(tmp_path, "t.yaml", """
defaults: {absolute_minor: 0, relative: "0", date_window_days: 3}
rules:
  - {gateway: gw, currency: "*", absolute_minor: 2}
  - {gateway: gw, currency: EUR, absolute_minor: 1, relative: "0.001"}
"""))
    eur = tol.rule_for("gw", "EUR")
    assert (eur.absolute_minor, eur.relative) == (1, Decimal("0.001"))
    assert eur.within(expected_minor=250000, difference_minor=-250)  # 0.1 % of 2,500.00
    assert not eur.within(expected_minor=250000, difference_minor=251)
    assert eur.within(expected_minor=100, difference_minor=1)  # one cent: the common rounding case
    assert tol.rule_for("gw", "USD").absolute_minor == 2
    assert tol.rule_for("other", "USD").absolute_minor == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("rules:\n  - {gateway: gw, currency: USD, relative: 0.001}\n", r"rules\[0\]\.relative: must be a quoted decimal"),
        ("rules:\n  - {gateway: gw, currency: USX}\n", r"rules\[0\]\.currency: must be an ISO 4217"),
        ("rules:\n  - {gateway: gw, currency: USD, absolute_minor: -1}\n", r"rules\[0\]\.absolute_minor: must be >= 0"),
        ("rules:\n  - {gateway: gw, currency: USD, tolerance: 1}\n", r"rules\[0\]: unknown key\(s\) 'tolerance'"),
        ("rules:\n  - {gateway: gw}\n", r'rules\[0\]: "currency" is required'),
        ("rules:\n  - {gateway: gw, currency: USD}\n  - {gateway: gw, currency: usd}\n", r"a second rule"),
        ("defaults: {relative: \"2\"}\n", r"defaults\.relative: must be a decimal between 0 and 1"),
    ],
)
def test_bad_tolerance_file_names_the_field(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, "tolerances.yaml", body)
    with pytest.raises(FinanceConfigError, match=message) as err:
        load_tolerances(path)
    assert str(path) in str(err.value)


def test_fee_schedule_expected_fee_and_specificity(tmp_path: Path) -> None:
    schedules = load_fee_schedules(_write(tmp_path, "f.yaml", """
schedules:
  - {gateway: gw, percent: "2.9", fixed_minor: 30}
  - {gateway: gw, card_brand: amex, percent: "3.5", fixed_minor: 30, variance_tolerance_minor: 2}
"""))
    visa = schedule_for(schedules, "gw", "visa", "USD")
    amex = schedule_for(schedules, "gw", "AMEX", "USD")
    assert visa.expected_fee(19900) == 577 + 30  # 577.1 rounds down
    assert visa.expected_fee(-1050) == 30 + 30  # 30.45 rounds down; refunds by magnitude
    assert visa.expected_fee(1500) == 44 + 30  # 43.5 rounds half up
    assert (amex.percent, amex.variance_tolerance_minor) == (Decimal("3.5"), 2)
    assert schedule_for(schedules, "other", "visa", "USD") is None


def test_bad_fee_file_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(FinanceConfigError, match=r'schedules\[0\]: "fixed_minor" is required'):
        load_fee_schedules(_write(tmp_path, "f.yaml", "schedules:\n  - {gateway: gw, percent: \"2.9\"}\n"))
    with pytest.raises(FinanceConfigError, match=r"schedules\[0\]\.percent: must be a decimal between 0 and 100"):
        load_fee_schedules(_write(tmp_path, "f.yaml", "schedules:\n  - {gateway: gw, percent: \"150\", fixed_minor: 1}\n"))


@pytest.mark.parametrize(
    ("hours", "bucket"),
    [(0, "<1d"), (23, "<1d"), (24, "1-3d"), (71, "1-3d"), (72, "3-7d"), (24 * 7, "7-30d"), (24 * 30, ">30d")],
)
def test_age_buckets_are_measured_to_the_as_of(hours: int, bucket: str) -> None:
    as_of = datetime(2026, 12, 1, tzinfo=UTC)
    assert age_bucket(as_of - timedelta(hours=hours), as_of) == bucket
