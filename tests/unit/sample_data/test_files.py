"""Settlement files: layout, exact columns per format, exact money, and one truth row per line."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd

from payrecon.money import exponent
from payrecon.settings import PROJECT_ROOT

STRIPE_COLUMNS = [
    "balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee", "net",
    "reporting_category", "source_id", "description", "customer_facing_amount", "customer_facing_currency",
    "automatic_payout_id", "charge_id", "payment_intent_id", "order_id",
]
GENERIC_COLUMNS = [
    "transaction_id", "type", "charge_id", "order_id", "occurred_at", "currency", "gross", "fee", "net",
    "presentment_amount", "presentment_currency", "payout_id",
]


def _exact(amount: str, currency: str) -> bool:
    digits = exponent(currency.upper())
    pattern = r"-?\d+" if digits == 0 else rf"-?\d+\.\d{{{digits}}}"
    return re.fullmatch(pattern, amount) is not None


def test_layout_is_inbox_gateway_report_date(scenario) -> None:
    out, summary = scenario
    first = date.fromisoformat(summary.start)
    allowed = {(first + timedelta(days=i)).isoformat() for i in range(summary.days)}
    paths = sorted((out / "inbox").rglob("*.csv"))
    assert paths and [p.relative_to(out).as_posix() for p in paths] == sorted(summary.files)
    for path in paths:
        gateway, day, name = path.relative_to(out / "inbox").parts
        assert gateway in summary.gateways and day in allowed and name == "settlement.csv"
    assert {p.parent.parent.name for p in paths} == {"stripe", "acmepay"}


def test_stripe_files_have_the_stripe_columns(scenario, files) -> None:
    contract = (PROJECT_ROOT / "docs" / "CONTRACT.md").read_text()
    assert ", ".join(STRIPE_COLUMNS[:7]) in contract.replace("\n", " ")
    for (gateway, _), frame in files.items():
        expected = STRIPE_COLUMNS if gateway == "stripe" else GENERIC_COLUMNS
        assert list(frame.columns) == expected, gateway
    stripe = pd.concat([f for (g, _), f in files.items() if g == "stripe"])
    assert (stripe["currency"] == stripe["currency"].str.lower()).all()
    assert set(stripe["reporting_category"]) >= {"charge", "refund", "dispute", "fee", "payout", "other_adjustment"}
    assert stripe["created_utc"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    fx = stripe[stripe["customer_facing_amount"] != ""]
    assert len(fx) >= 3 and (fx["customer_facing_currency"] != fx["currency"]).all()
    generic = pd.concat([f for (g, _), f in files.items() if g == "acmepay"])
    assert generic["occurred_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert set(generic["type"]) >= {"charge", "fee", "payout", "adjustment"}
    presented = generic[generic["presentment_amount"] != ""]
    assert len(presented) >= 1 and (presented["presentment_currency"] != presented["currency"]).all()


def test_money_is_exact_with_the_currency_digits(files) -> None:
    for (gateway, day), frame in files.items():
        pres_amount = "customer_facing_amount" if gateway == "stripe" else "presentment_amount"
        pres_cur = "customer_facing_currency" if gateway == "stripe" else "presentment_currency"
        for row in frame.itertuples(index=False):
            row = row._asdict()
            cur = row["currency"]
            for col in ("gross", "fee", "net"):
                assert _exact(row[col], cur), (gateway, day, col, row[col], cur)
            assert Decimal(row["net"]) == Decimal(row["gross"]) - Decimal(row["fee"])
            if row[pres_amount]:
                assert _exact(row[pres_amount], row[pres_cur]), (gateway, day, row)
    currencies = {c.upper() for f in files.values() for c in f["currency"]}
    assert currencies >= {"USD", "EUR", "GBP", "JPY", "KWD"}


def test_payouts_pay_out_the_net_of_their_file(files) -> None:
    for frame in files.values():
        kind = frame["reporting_category"] if "reporting_category" in frame else frame["type"]
        net = frame["net"].map(Decimal)
        for currency, idx in frame.groupby("currency").groups.items():
            is_payout = kind.loc[idx] == "payout"
            assert is_payout.sum() == 1, currency
            assert net.loc[idx][is_payout].sum() == -net.loc[idx][~is_payout].sum()


def test_one_truth_row_per_line_in_file_order(scenario, files, truth) -> None:
    lines = truth["lines"]
    for (gateway, day), frame in files.items():
        ref = "balance_transaction_id" if gateway == "stripe" else "transaction_id"
        mine = lines[(lines["gateway"] == gateway) & (lines["report_date"] == day)]
        assert list(mine["source_ref"]) == list(frame[ref])
        assert list(mine["line_no"].astype(int)) == list(range(1, len(frame) + 1))
    assert sum(len(f) for f in files.values()) == len(lines)
    assert not lines.duplicated(["gateway", "source_ref"]).any()


def test_no_card_numbers_anywhere(scenario) -> None:
    out, _ = scenario
    for path in [*out.rglob("*.csv")]:
        assert not re.search(r"(?<![\w.])\d{12,19}(?![\w.])", Path(path).read_text()), path
