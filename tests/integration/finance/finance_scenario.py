"""A hand-made merchant holding one of each finance case, loaded straight into the warehouse tables.

All amounts in USD cents unless said. Gateway `gw`, tolerance 1 cent, date window 2 days, fees 2.9 % + 30.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from payrecon.finance.run import FinanceConfig, load_config, run_finance
from payrecon.reconciliation.reconcile import reconcile
from payrecon.settings import ReconSettings, Settings, Window
from payrecon.warehouse.bulk import insert_frame

D1 = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = [Window(D1 + timedelta(days=i), D1 + timedelta(days=i + 1)) for i in range(5)]

TOLERANCES = """
defaults: {absolute_minor: 0, relative: "0", date_window_days: 2}
rules:
  - {gateway: gw, currency: USD, absolute_minor: 1, relative: "0", date_window_days: 2}
bank_descriptors:
  gw: ["GW PAY", "GW SETTLEMENT"]
"""
FEES = """
defaults: {variance_tolerance_minor: 0}
schedules:
  - {gateway: gw, card_brand: "*", currency: "*", percent: "2.9", fixed_minor: 30}
"""


def config(tmp_path: Path) -> FinanceConfig:
    (tmp_path / "tolerances.yaml").write_text(TOLERANCES)
    (tmp_path / "fees.yaml").write_text(FEES)
    return load_config(tmp_path / "tolerances.yaml", tmp_path / "fees.yaml", grace_days=3)


def fee(gross: int) -> int:
    return int((Decimal(abs(gross)) * Decimal("0.029")).quantize(Decimal(1), rounding="ROUND_HALF_UP")) + 30


def _order(order_id: str, at: datetime, total: int, currency: str = "USD") -> dict:
    return {
        "order_id": order_id, "customer_id": "c1", "product_id": "p1", "subscription_id": None,
        "installment_no": 1, "origin": "shopping_cart", "auto_charge": False, "auto_charge_set_by": "system",
        "status": "paid", "total_minor": total, "currency": currency, "created_at": at, "updated_at": at,
    }


def _attempt(order_id: str, at: datetime, charge: str, amount: int, currency: str = "USD") -> dict:
    return {
        "attempt_id": f"a-{order_id}-{charge}", "order_id": order_id, "attempt_no": 1, "attempted_at": at,
        "status": "succeeded", "decline_code": None, "error_code": None, "gateway": "gw",
        "gateway_charge_id": charge, "amount_minor": amount, "currency": currency, "card_fingerprint": "fp",
        "card_brand": "visa", "card_last4": "4242", "updated_at": at,
    }


class Lines:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, day: int, line_type: str, charge: str | None, gross: int, fee_minor: int = 0,
            payout: str | None = None, presentment: tuple[int, str] | None = None, rate: str | None = None,
            currency: str = "USD", at: datetime | None = None) -> str:
        window = DAYS[day - 1].start
        n = sum(1 for r in self.rows if r["window_start"] == window) + 1
        line_id = f"f{day}:{n}"
        self.rows.append({
            "line_id": line_id, "file_id": f"f{day}", "line_no": n, "gateway": "gw", "window_start": window,
            "source_ref": f"txn_{day}_{n}", "line_type": line_type, "charge_id": charge, "order_ref": None,
            "occurred_at": at or window + timedelta(hours=1 + n / 10), "available_on": None, "currency": currency,
            "gross_minor": gross, "fee_minor": fee_minor, "net_minor": gross - fee_minor,
            "presentment_minor": presentment[0] if presentment else None,
            "presentment_currency": presentment[1] if presentment else None,
            "exchange_rate": Decimal(rate) if rate else None, "payout_id": payout, "description": None,
        })
        return line_id

    def charge(self, day: int, charge: str, gross: int, payout: str, fee_minor: int | None = None, **kw) -> str:
        return self.add(day, "charge", charge, gross, fee(gross) if fee_minor is None else fee_minor, payout, **kw)

    def payout(self, day: int, payout: str) -> tuple[str, int]:
        net = sum(r["net_minor"] for r in self.rows if r["payout_id"] == payout)
        at = DAYS[day - 1].start + timedelta(hours=23, minutes=30)
        return self.add(day, "payout", None, -net, 0, payout, at=at), net


def build(engine: sa.Engine) -> dict:
    """Load the scenario; returns the ids the tests look at."""
    t = D1 + timedelta(hours=9)
    t2 = DAYS[1].start + timedelta(hours=9)
    orders = [
        _order("o_tie", t, 1000), _order("o_cent", t, 1000), _order("o_far", t, 1000),
        _order("o_fx", t, 900, "EUR"), _order("o_split", t, 1000), _order("o_inv1", t, 600),
        _order("o_inv2", t, 400), _order("o_fee", t, 1000), _order("o_dbl", t, 1000), _order("o_b", t2, 1000),
    ]
    attempts = [
        _attempt("o_tie", t, "ch_tie", 1000), _attempt("o_cent", t, "ch_cent", 1000),
        _attempt("o_far", t, "ch_far", 1000), _attempt("o_fx", t, "ch_fx", 900, "EUR"),
        _attempt("o_split", t, "ch_s1", 600), _attempt("o_split", t + timedelta(hours=1), "ch_s2", 400),
        _attempt("o_inv1", t, "ch_inv", 600), _attempt("o_inv2", t, "ch_inv", 400),
        _attempt("o_fee", t, "ch_fee", 1000), _attempt("o_dbl", t, "ch_d1", 1000),
        _attempt("o_dbl", t + timedelta(minutes=2), "ch_d2", 1000), _attempt("o_b", t2, "ch_b", 1000),
    ]
    ln = Lines()
    ids = {
        "tie": ln.charge(1, "ch_tie", 1000, "po_a"),
        "cent": ln.charge(1, "ch_cent", 1001, "po_a"),
        "far": ln.charge(1, "ch_far", 1100, "po_a"),
        "fx": ln.charge(1, "ch_fx", 972, "po_a", presentment=(900, "EUR"), rate="1.08"),
        "split1": ln.charge(1, "ch_s1", 600, "po_a"),
        "split2": ln.charge(1, "ch_s2", 400, "po_a"),
        "inv": ln.charge(1, "ch_inv", 1000, "po_a"),
        "fee": ln.charge(1, "ch_fee", 1000, "po_a", fee_minor=80),
        "dbl1": ln.charge(1, "ch_d1", 1000, "po_a"),
        "dbl2": ln.charge(1, "ch_d2", 1000, "po_a"),
        "refund": ln.add(1, "refund", "ch_tie", -300, 0, "po_a"),
    }
    ids["payout_a"], po_a_amount = ln.payout(1, "po_a")
    ids["b"] = ln.charge(2, "ch_b", 1000, "po_b")
    ids["payout_b"], _ = ln.payout(2, "po_b")
    ids["adjust_c"] = ln.add(2, "adjustment", None, 400, 0, "po_c")
    ids["payout_c"] = ln.add(2, "payout", None, -500, 0, "po_c", at=DAYS[1].start + timedelta(hours=23))
    bank = [
        _bank("b1", 2, po_a_amount, "GW PAYMENTS LTD", "GW PAYOUT po_a"),
        _bank("b2", 3, 777, "GW PAYMENTS LTD", "GW SETTLEMENT"),
        _bank("b3", 3, -250000, "OFFICE LANDLORD", "RENT"),
    ]
    rates = pd.DataFrame([{"rate_date": date(2026, 10, 31), "base_currency": "EUR", "quote_currency": "USD",
                           "rate": "1.07", "source": "test"}])
    with engine.begin() as conn:
        insert_frame(conn, "orders", pd.DataFrame(orders))
        insert_frame(conn, "payment_attempts", pd.DataFrame(attempts))
        frame = pd.DataFrame(ln.rows)
        frame["exchange_rate"] = frame["exchange_rate"].astype(object)
        insert_frame(conn, "settlement_lines", frame)
        insert_frame(conn, "bank_statement_lines", pd.DataFrame(bank))
        insert_frame(conn, "fx_reference_rates", rates)
    ids["po_a_amount"] = po_a_amount
    return ids


def _bank(ref: str, day: int, amount: int, party: str, remittance: str) -> dict:
    window = DAYS[day - 1].start
    return {
        "bank_line_id": f"bank:{ref}", "file_id": "bankfile", "line_no": int(ref[1:]), "window_start": window,
        "account_id": "US00TEST", "currency": "USD", "amount_minor": amount, "booking_date": window.date(),
        "value_date": window.date(), "bank_ref": ref, "end_to_end_id": None, "counterparty": party,
        "remittance_info": remittance,
    }


def run(engine: sa.Engine, cfg: FinanceConfig, tmp_path: Path, windows: list[Window] | None = None) -> None:
    """Reconcile then run finance, window by window (bank lines are already in the tables)."""
    settings = Settings(warehouse_url=str(engine.url), inbox_dir=tmp_path / "inbox", output_dir=tmp_path / "out")
    for window in windows or DAYS:
        reconcile(engine, [window], ReconSettings(settlement_grace_days=3))
        run_finance(engine, settings, [window], cfg)


def states(engine: sa.Engine, item_type: str) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select item_id, state, match_kind, exception_id from finance_matches where item_type = :t"),
            {"t": item_type},
        )
        return {r[0]: tuple(r[1:]) for r in rows}


SNAPSHOT_TABLES = ("finance_matches", "exceptions", "write_offs", "payouts", "fee_variances", "fx_differences",
                   "finance_windows", "exception_resolutions", "reconciliation_results")


def snapshot(engine: sa.Engine) -> dict[str, list[tuple]]:
    out = {}
    with engine.connect() as conn:
        for table in SNAPSHOT_TABLES:
            rows = conn.execute(sa.text(f"select * from {table}")).all()  # noqa: S608 - fixed names
            out[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return out
