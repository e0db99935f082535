"""The default scenario carries every contract state, and its truth is consistent with its files."""

from __future__ import annotations

import pandas as pd

from payrecon.sample_data.truth import LINE_STATES, ORDER_STATES


def test_every_contract_state_is_present(scenario):
    out, summary = scenario
    orders = pd.read_csv(out / "truth" / "orders.csv")
    lines = pd.read_csv(out / "truth" / "settlement_lines.csv")
    assert set(orders["expected_state"]) == set(ORDER_STATES)
    assert set(lines["expected_state"]) == set(LINE_STATES)
    assert all(summary.order_states[s] > 0 for s in ORDER_STATES)
    assert all(summary.line_states[s] > 0 for s in LINE_STATES)
