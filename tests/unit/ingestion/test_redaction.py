"""Card numbers never reach the warehouse: masked in free text and in quarantined raw lines."""

from __future__ import annotations

from datetime import date

import pandas as pd

from payrecon.ingestion.formats import parser_for
from payrecon.ingestion.lines import FileContext
from payrecon.ingestion.quarantine import frame as quarantine_frame
from payrecon.ingestion.redaction import redact_series, redact_text

VISA_TEST = "4111 1111 1111 1111"


def test_luhn_valid_card_numbers_are_masked_to_last_four() -> None:
    assert redact_text(f"paid with {VISA_TEST} today") == "paid with [card number removed, ends 1111] today"
    assert redact_text("4111-1111-1111-1111") == "[card number removed, ends 1111]"


def test_other_long_numbers_are_left_alone() -> None:
    assert redact_text("order 1234567890123 ref") == "order 1234567890123 ref"  # fails Luhn
    assert redact_text("24492156306000000000001") == "24492156306000000000001"  # 23 digits: an ARN
    series = pd.Series(["a", None, "b 12"], dtype="str")
    assert redact_series(series) is series


def test_parsed_description_and_quarantined_raw_line_never_hold_a_card_number() -> None:
    data = (
        "transaction_id,type,charge_id,order_id,occurred_at,currency,gross,fee,net,description\n"
        f"t1,charge,ch_1,1,2026-11-01T10:00:00Z,USD,1.00,0.00,1.00,card {VISA_TEST}\n"
        f"t2,charge,ch_2,2,2026-11-01T10:00:00Z,USD,1.0x,0.00,1.00,card {VISA_TEST}\n"
    ).encode()
    parsed = parser_for("generic")(data, FileContext("f.csv", "gw", date(2026, 11, 1)))
    assert parsed.lines["description"].iloc[0] == "card [card number removed, ends 1111]"
    q = quarantine_frame(parsed.bad, file_id="f", file_name="f.csv", gateway="gw",
                         window_start=pd.Timestamp("2026-11-01", tz="UTC"), quarantined_at=pd.Timestamp.now(tz="UTC"))
    assert "4111 1111" not in q["raw_line"].iloc[0] and "ends 1111" in q["raw_line"].iloc[0]
