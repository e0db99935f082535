"""The ground truth: every contract state present, and consistent with the data it describes."""

from __future__ import annotations

import json

import pandas as pd

from payrecon.sample_data.truth import LINE_STATES, ORDER_STATES

CONTRACT_LINE_STATES = {"matched", "amount_mismatch", "currency_mismatch", "settled_without_order", "duplicate",
                        "refund", "chargeback", "fee", "payout", "adjustment"}
CONTRACT_ORDER_STATES = {"matched", "amount_mismatch", "currency_mismatch", "pending", "order_without_settlement",
                         "failed_attempt", "offline"}


def test_every_contract_state_is_present(scenario, truth) -> None:
    _, summary = scenario
    assert set(LINE_STATES) == CONTRACT_LINE_STATES and set(ORDER_STATES) == CONTRACT_ORDER_STATES
    assert set(truth["orders"]["expected_state"]) == CONTRACT_ORDER_STATES
    assert set(truth["lines"]["expected_state"]) == CONTRACT_LINE_STATES
    assert all(summary.order_states[s] > 0 for s in ORDER_STATES)
    assert all(summary.line_states[s] > 0 for s in LINE_STATES)


def test_scenario_json(scenario) -> None:
    out, summary = scenario
    meta = json.loads((out / "truth" / "scenario.json").read_text())
    assert (meta["seed"], meta["days"], meta["start"], meta["grace_days"]) == (7, 5, "2026-11-01", 3)
    assert meta["as_of"] == "2026-11-06T00:00:00+00:00"
    assert meta["counts"]["order_states"] == summary.order_states
    assert meta["counts"]["tables"]["orders"] == 1000


def test_one_truth_row_per_order(commerce, truth) -> None:
    orders = commerce["orders"]
    assert sorted(truth["orders"]["order_id"]) == sorted(orders["order_id"])
    assert truth["orders"]["person_id"].str.fullmatch(r"PER-\d{7}").all()
    assert truth["orders"]["purchase_id"].str.fullmatch(r"PUR-\d{8}").all()


def test_order_states_follow_the_data(commerce, truth) -> None:
    attempts = commerce["payment_attempts"]
    t = truth["orders"].merge(commerce["orders"][["order_id", "status"]], on="order_id")
    charged = set(attempts.loc[attempts["status"] == "succeeded", "order_id"])
    assert ((t["status"] == "offline") == (t["expected_state"] == "offline")).all()
    assert (t["order_id"].isin(charged) == ~t["expected_state"].isin(["offline", "failed_attempt"])).all()
    # a sale is the first successful order of a purchase: never a failed attempt, one per purchase at most
    sales = t[t["is_sale"] == "true"]
    assert sales["order_id"].isin(charged).all() and not sales["purchase_id"].duplicated().any()
    assert set(t.loc[t["status"] == "approved_m", "is_sale"]) == {"true"}


def test_lines_per_charge(commerce, truth) -> None:
    attempts = commerce["payment_attempts"]
    ok = attempts[attempts["status"] == "succeeded"].sort_values(["order_id", "attempt_no"])
    first_charge = ok.drop_duplicates("order_id").set_index("gateway_charge_id")["order_id"]
    lines = truth["lines"]
    charge_lines = lines[lines["line_type"] == "charge"]
    known = charge_lines["charge_id"].isin(set(ok["gateway_charge_id"]))
    assert (charge_lines.loc[~known, "expected_state"] == "settled_without_order").all()
    assert (charge_lines.loc[known, "expected_state"] != "settled_without_order").all()
    # per charge: exactly one first line; any later line of the same charge is a duplicate
    ordered = charge_lines[known].sort_values(["report_date", "gateway", "line_no"], key=_natural)
    first = ~ordered["charge_id"].duplicated()
    assert (ordered.loc[~first, "expected_state"] == "duplicate").all()
    per_charge = ordered.groupby("charge_id").size()
    assert per_charge.max() <= 2 and (per_charge == 2).sum() >= 2
    # the second successful charge of one order settles as a duplicate
    second = ordered["charge_id"].isin(set(ok["gateway_charge_id"]) - set(first_charge.index))
    assert second.any() and (ordered.loc[second, "expected_state"] == "duplicate").all()
    # an order's state is its first charge's first line, or pending / without settlement when none came
    state_of_line = ordered[first & ~second].set_index("charge_id")["expected_state"]
    orders = truth["orders"].set_index("order_id")["expected_state"]
    for charge_id, order_id in first_charge.items():
        expected = state_of_line.get(charge_id)
        if expected is None:
            assert orders[order_id] in ("pending", "order_without_settlement"), order_id
        else:
            assert orders[order_id] == expected, order_id
    # refunds and chargebacks point at charges that were settled
    for kind in ("refund", "chargeback"):
        refs = lines.loc[lines["line_type"] == kind, "charge_id"]
        assert len(refs) and refs.isin(set(state_of_line.index)).all(), kind


def _natural(col: pd.Series) -> pd.Series:
    return col.astype(int) if col.name == "line_no" else col
